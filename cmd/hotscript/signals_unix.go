//go:build unix

package main

import (
	"os"
	"syscall"
)

// pipeSignals say that stdout is a pipe whose reader is gone; hangupSignals
// that the terminal went away, a stop like Ctrl-C's (see interruptContext).
var (
	pipeSignals   = []os.Signal{syscall.SIGPIPE}
	hangupSignals = []os.Signal{syscall.SIGHUP}
)

// pipeErrors are the errors of a write to a pipe whose reader is gone.
var pipeErrors = []error{syscall.EPIPE}
