package main

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// interruptContext returns a context that the first SIGINT (Ctrl-C) or SIGTERM
// cancels, so that a long-running command stops cleanly, with its summary. Any later
// one ends the process at once with exitInterrupted: the command may be stuck where
// the context is not looked at (a WASM call without a time limit, a read from a
// named pipe), and the second Ctrl-C must always work. stop cancels the context and
// gives the signals back their default action, which ends the process too.
func interruptContext(ctx context.Context) (_ context.Context, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	sigs := make(chan os.Signal, 2) // two signals in quick succession are both seen
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for first := true; ; first = false {
			select {
			case <-sigs:
				if !first {
					os.Exit(exitInterrupted)
				}
				cancel()
			case <-done:
				return
			}
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(sigs)
			close(done)
		})
		cancel()
	}
}
