//go:build !unix

package watch

import "os/exec"

// ownGroup leaves cmd as it is: cancelling it kills the tool alone, and processes
// it started run on (exec's WaitDelay bounds how long the build waits for them).
func ownGroup(*exec.Cmd) {}
