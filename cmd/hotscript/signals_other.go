//go:build !unix

package main

import "os"

// pipeSignals say that stdout is a pipe whose reader is gone, which systems
// other than Unix do not signal (see interruptContext).
var pipeSignals []os.Signal
