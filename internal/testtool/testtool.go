// Package testtool lets tests that drive the guest toolchains (wat2wasm from wabt,
// clang and wasm-ld) run wherever those are installed.
//
// On a machine with only Go, `go test ./...` must pass: such a test is skipped and
// says which tool is missing. CI installs the toolchains and sets
// HOTSCRIPT_REQUIRE_TOOLS=1, which turns a missing tool into a failure, so no
// toolchain test is skipped where it counts.
package testtool

import (
	"os"
	"os/exec"
	"testing"
)

// RequireEnv is the environment variable that makes a missing tool fail the test
// instead of skipping it.
const RequireEnv = "HOTSCRIPT_REQUIRE_TOOLS"

// Need skips t (or fails it, when RequireEnv is set) unless every named tool is on
// PATH.
func Need(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv(RequireEnv) != "" {
				t.Fatalf("%s is not on PATH and %s is set: %v", tool, RequireEnv, err)
			}
			t.Skipf("%s is not on PATH (install wabt, clang and lld to run this test; CI does)", tool)
		}
	}
}
