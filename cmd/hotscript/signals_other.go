//go:build !unix

package main

import (
	"os"
	"syscall"
)

// pipeSignals and hangupSignals are Unix's (see signals_unix.go); other
// systems send neither.
var pipeSignals, hangupSignals []os.Signal

// pipeErrors are the errors of a write to a pipe whose reader is gone: on
// Windows ERROR_NO_DATA (232) and ERROR_BROKEN_PIPE (109).
var pipeErrors = []error{syscall.EPIPE, syscall.Errno(232), syscall.Errno(109)}
