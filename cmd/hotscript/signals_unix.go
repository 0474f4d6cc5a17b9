//go:build unix

package main

import (
	"os"
	"syscall"
)

// pipeSignals say that stdout is a pipe whose reader is gone (see
// interruptContext).
var pipeSignals = []os.Signal{syscall.SIGPIPE}
