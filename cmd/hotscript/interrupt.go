package main

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// interruptContext returns a context that the first SIGINT (Ctrl-C) or SIGTERM
// cancels, so that a command stops cleanly: run and demo with their summary, a
// build that call or inspect started with its tool's process group killed and its
// temporary directory removed. Any later one ends the process at once with
// exitInterrupted (no sooner than forcedExitGrace after the first, unless the
// command has stopped), after the cleanups registered with onForcedExit (os.Exit
// skips deferred calls): the command may be stuck where the context is not
// looked at (a
// WASM call without a time limit, a read from a named pipe), and the second
// Ctrl-C must always work. The same signal again within sameSignalWindow of
// the first is that one sent twice, not a second Ctrl-C (GNU timeout sends
// its signal to the process and then to its process group). If the command has not stopped stillStoppingAfter
// the first, still is called, to say that a second one ends it.
//
// A SIGPIPE (stdout is a pipe whose reader is gone: hotscript demo | head) cancels
// the context too, as often as it comes: writes to the pipe then fail with EPIPE
// instead of killing the process, so the command stops and cleans up (runContext
// takes such an EPIPE for the stop too, as it may come before the signal). stop cancels
// the context and stops watching the signals; main keeps them from ending the
// process by their default action until it has removed its temporary directory.
func interruptContext(ctx context.Context, still func()) (_ context.Context, stop func()) {
	ctx, cancel := context.WithCancel(withExitHooks(ctx))
	hooks := ctx.Value(exitHooksKey{}).(*exitHooks)
	sigs := make(chan os.Signal, 2) // two signals in quick succession are both seen
	signal.Notify(sigs, append([]os.Signal{os.Interrupt, syscall.SIGTERM}, hangupSignals...)...)
	pipe := make(chan os.Signal, 1)
	if len(pipeSignals) > 0 {
		signal.Notify(pipe, pipeSignals...)
	}
	done := make(chan struct{})
	var (
		mu      sync.Mutex
		exiting bool // a forced exit is under way: stop leaves the signals to it
		stopped bool
	)
	go func() {
		var first time.Time
		var firstSig os.Signal
		var nag <-chan time.Time
		for {
			select {
			case <-nag:
				mu.Lock()
				if !stopped && !exiting {
					still()
				}
				mu.Unlock()
			case sig := <-sigs:
				if !first.IsZero() && sig == firstSig && time.Since(first) < sameSignalWindow {
					continue // one signal sent twice: timeout(1) signals the process, then its group
				}
				if !first.IsZero() {
					mu.Lock()
					if stopped {
						mu.Unlock()
						return
					}
					exiting = true
					mu.Unlock()
					// What the first one set off in goroutines of its own
					// (exec's kill of a build's process group) is done first,
					// unless the command is done already.
					select {
					case <-time.After(time.Until(first.Add(forcedExitGrace))):
					case <-done:
					}
					hooks.run()
					os.Exit(exitInterrupted)
				}
				first, firstSig = time.Now(), sig
				nag = time.After(stillStoppingAfter)
				cancel()
			case <-pipe:
				cancel()
			case <-done:
				return
			}
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			mu.Lock()
			defer mu.Unlock()
			if exiting {
				// The forced exit ends the process; signals given back
				// their default action meanwhile would end it by a signal.
				close(done)
				select {}
			}
			stopped = true
			signal.Stop(sigs)
			signal.Stop(pipe)
			close(done)
		})
		cancel()
	}
}

// stillStoppingAfter is how long after the first interrupt a command that has
// not stopped says that a second one ends it.
const stillStoppingAfter = time.Second

// forcedExitGrace is how long after the first interrupt a forced exit comes at
// the soonest: two sent together (a double Ctrl-C) would otherwise end the process
// before the build tool the first one has exec kill is killed, about once in 200.
const forcedExitGrace = 100 * time.Millisecond

// sameSignalWindow is how soon after the first interrupt the same signal is
// taken for that one sent again rather than a second Ctrl-C: timeout(1) sends
// its signal to the process and then to its process group, microseconds
// apart; no one presses Ctrl-C twice within it.
const sameSignalWindow = 30 * time.Millisecond

// exitHooks are the cleanups a forced exit runs.
type exitHooks struct {
	mu    sync.Mutex
	hooks []func()
}

type exitHooksKey struct{}

// withExitHooks returns ctx with a list of exit hooks, unless it has one: main
// registers its cleanups before the command's context is made.
func withExitHooks(ctx context.Context) context.Context {
	if _, ok := ctx.Value(exitHooksKey{}).(*exitHooks); ok {
		return ctx
	}
	return context.WithValue(ctx, exitHooksKey{}, &exitHooks{})
}

// onForcedExit registers f to run before a second interrupt ends the process, if
// ctx comes from interruptContext. f runs on another goroutine while the command
// may still be running, so it must be safe for that (os.RemoveAll of a temporary
// directory is). The command still cleans up as usual when it returns.
func onForcedExit(ctx context.Context, f func()) {
	if h, ok := ctx.Value(exitHooksKey{}).(*exitHooks); ok {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.hooks = append(h.hooks, f)
	}
}

func (h *exitHooks) run() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, f := range h.hooks {
		f()
	}
}
