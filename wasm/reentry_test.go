package wasm_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/guest"
	"github.com/hotscript/hotscript/internal/testtool"
	"github.com/hotscript/hotscript/wasm"
)

// reentryRuntime loads log_v1 as "a" and "b"; their run calls host.log, which
// runs onLog for the script that called it.
func reentryRuntime(t *testing.T, onLog func(ctx context.Context, script string) error) (rt *wasm.Runtime, a, b wasm.ScriptID) {
	t.Helper()
	rt = newRuntime(t, wasm.Limits{})
	err := rt.Define("host", "log", wasm.HostFunc{
		Params: []wasm.ValueType{wasm.I32, wasm.I32},
		Func: func(ctx context.Context, c *wasm.Caller, _ []uint64) error {
			return onLog(ctx, c.Script())
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	a, b = loadAs(t, rt, "a", "log_v1"), loadAs(t, rt, "b", "log_v1")
	return rt, a, b
}

func loadAs(t *testing.T, rt *wasm.Runtime, name, guestName string) wasm.ScriptID {
	t.Helper()
	id, err := rt.Load(ctx, name, guest.Bytes(guestName), nil)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// reentryWays are the ways a host function (or a migration) can call back into
// script *a of *rt, each of which would wait for the call running it.
func reentryWays(rt **wasm.Runtime, a *wasm.ScriptID) map[string]func(ctx context.Context) error {
	return map[string]func(ctx context.Context) error{
		"CallJSON": func(ctx context.Context) error {
			_, err := (*rt).CallJSON(ctx, *a, "version")
			return err
		},
		"Func.Call": func(ctx context.Context) error {
			f, err := (*rt).Func(*a, "version")
			if err != nil {
				return err
			}
			return f.Call(ctx, make([]uint64, 1))
		},
		"Usage": func(ctx context.Context) error {
			_, err := (*rt).Usage(ctx, *a)
			return err
		},
		"Acquire": func(ctx context.Context) error {
			l, err := (*rt).Acquire(ctx, *a)
			if err == nil {
				l.Release()
			}
			return err
		},
		"ReloadModule": func(ctx context.Context) error {
			return (*rt).ReloadModule(ctx, *a, guest.Bytes("log_v2"))
		},
		"Unload": func(ctx context.Context) error { return (*rt).Unload(ctx, *a) },
		"Close":  func(ctx context.Context) error { return (*rt).Close(ctx) },
		"derived context": func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			_, err := (*rt).CallJSON(ctx, *a, "version")
			return err
		},
	}
}

// A host function that calls back into the script running it, in any of the
// ways that would wait for that very call, gets ErrReentrant at once instead of
// a deadlock, and the script goes on working.
func TestHostCallsBackIntoItsScript(t *testing.T) {
	var rt *wasm.Runtime
	var a wasm.ScriptID
	tests := reentryWays(&rt, &a)
	for name, reenter := range tests {
		t.Run(name, func(t *testing.T) {
			var inner error
			rt, a, _ = reentryRuntime(t, func(ctx context.Context, script string) error {
				inner = reenter(ctx)
				return inner
			})
			err := testtool.Returns(t, "the call back into the script", func() error {
				_, err := rt.CallJSON(ctx, a, "run")
				return err
			})
			if !errors.Is(inner, wasm.ErrReentrant) {
				t.Fatalf("call back: got %v, want ErrReentrant", inner)
			}
			if !errors.Is(err, wasm.ErrTrap) || !errors.Is(err, wasm.ErrReentrant) {
				t.Fatalf("outer call: got %v, want a trap carrying ErrReentrant", err)
			}
			if got := call(t, rt, a, "version"); got != "1" {
				t.Fatalf("version after the refused call back = %s, want 1 (unchanged)", got)
			}
		})
	}
}

// Everything that does not wait for the call running the host function still
// works from it: calling and reloading another script, and a script that calls
// back through another script's host function is caught too.
func TestHostCallsOtherScripts(t *testing.T) {
	var rt *wasm.Runtime
	var a, b wasm.ScriptID
	var errB error
	rt, a, b = reentryRuntime(t, func(ctx context.Context, script string) error {
		switch script {
		case "a": // a calls b, and b calls back into a
			if _, err := rt.CallJSON(ctx, b, "version"); err != nil {
				return err
			}
			if err := rt.ReloadModule(ctx, b, guest.Bytes("log_v2")); err != nil {
				return err
			}
			_, err := rt.CallJSON(ctx, b, "run")
			return err
		case "b":
			_, errB = rt.CallJSON(ctx, a, "version")
			return errB
		}
		return nil
	})
	_, err := rt.CallJSON(ctx, a, "run")
	if !errors.Is(errB, wasm.ErrReentrant) || !errors.Is(err, wasm.ErrReentrant) {
		t.Fatalf("a -> b -> a: b's call got %v, a's call %v; want ErrReentrant", errB, err)
	}
	if got := call(t, rt, b, "version"); got != "2" {
		t.Fatalf("b's version = %s after a's host function reloaded it, want 2", got)
	}
}

// A host function's context does not refuse calls that merely wait: used after
// the host function returned, while another goroutine holds the script, a call
// with it waits for that goroutine as any call does.
func TestHostContextLaterWaits(t *testing.T) {
	var kept context.Context
	rt, a, _ := reentryRuntime(t, func(ctx context.Context, _ string) error {
		kept = ctx
		return nil
	})
	call(t, rt, a, "run")
	l, err := rt.Acquire(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	var got error
	go func() {
		defer wg.Done()
		_, got = rt.CallJSON(kept, a, "version")
	}()
	time.Sleep(20 * time.Millisecond) // let the call find the script busy
	l.Release()
	wg.Wait()
	if got != nil {
		t.Fatalf("a call with a finished host function's context, made while the script was busy: %v, want it to wait and succeed", got)
	}
}

// A host function run by the new version during a commit's migration, while
// the commit holds the script, is refused too, whatever it tries: the migration
// fails, the old version stays, nothing hangs.
func TestHostCallsBackDuringMigration(t *testing.T) {
	var rt *wasm.Runtime
	var a wasm.ScriptID
	for name, reenter := range reentryWays(&rt, &a) {
		// The migration calls back itself, or through a host function of the
		// new version.
		for _, direct := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/direct=%v", name, direct), func(t *testing.T) {
				var inner error
				rt, a, _ = reentryRuntime(t, func(ctx context.Context, _ string) error {
					inner = reenter(ctx)
					return inner
				})
				st, err := rt.Stage(ctx, a, guest.Bytes("log_v2"))
				if err != nil {
					t.Fatal(err)
				}
				err = testtool.Returns(t, "a commit whose migration calls back", func() error {
					return st.Commit(ctx, func(ctx context.Context, old, next *wasm.Instance) error {
						if direct {
							inner = reenter(ctx)
							return inner
						}
						_, err := next.CallJSON(ctx, "run") // calls host.log
						return err
					})
				})
				if !errors.Is(inner, wasm.ErrReentrant) || !errors.Is(err, wasm.ErrMigrate) {
					t.Fatalf("call back during migration: %v, commit: %v; want ErrReentrant and ErrMigrate", inner, err)
				}
				if got := call(t, rt, a, "version"); got != "1" {
					t.Fatalf("version %s after the failed commit, want 1", got)
				}
			})
		}
	}
}

// TestScriptsCallEachOther: a and b each call the other from a host function,
// on two goroutines, both inside their host functions at once: each waits for
// the other's script, which waits for it. Instead of hanging for good, the
// call that closes the cycle fails with ErrReentrant, and the other goes on.
func TestScriptsCallEachOther(t *testing.T) {
	var rt *wasm.Runtime
	var a, b wasm.ScriptID
	var inside sync.WaitGroup
	var refused atomic.Int32
	inside.Add(2)
	rt, a, b = reentryRuntime(t, func(ctx context.Context, script string) error {
		other := a
		if script == "a" {
			other = b
		}
		inside.Done()
		inside.Wait() // both scripts are busy in a host function
		_, err := rt.CallJSON(ctx, other, "version")
		if errors.Is(err, wasm.ErrReentrant) {
			refused.Add(1)
		}
		return err
	})
	done := make(chan struct{}, 2)
	for _, id := range []wasm.ScriptID{a, b} {
		go func() {
			rt.CallJSON(context.Background(), id, "run")
			done <- struct{}{}
		}()
	}
	for range 2 {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("scripts calling each other from two goroutines hung")
		}
	}
	if refused.Load() == 0 {
		t.Error("no call was refused, yet the two waited for each other")
	}
}

// A host function that the leased instance runs cannot call it through the
// lease: the instance would run inside its own call (wazero's functions are
// not reentrant) and restart the outer call's limits. The call fails with
// ErrReentrant and the lease stays usable.
func TestHostCallsBackThroughLease(t *testing.T) {
	var l *wasm.Lease
	var version *wasm.Func
	ways := map[string]func(ctx context.Context) error{
		"Lease.CallJSON": func(ctx context.Context) error {
			_, err := l.CallJSON(ctx, "version")
			return err
		},
		"Lease.Call": func(ctx context.Context) error { return l.Call(ctx, version, make([]uint64, 1)) },
	}
	for name, reenter := range ways {
		t.Run(name, func(t *testing.T) {
			var inner error
			calls := 0
			rt, a, _ := reentryRuntime(t, func(ctx context.Context, _ string) error {
				calls++
				inner = reenter(ctx)
				return inner
			})
			version = newFunc(t, rt, a, "version")
			l = acquire(t, rt, a)
			run := newFunc(t, rt, a, "run")
			err := l.Call(ctx, run, nil)
			if !errors.Is(inner, wasm.ErrReentrant) || !strings.Contains(inner.Error(), "version") {
				t.Fatalf("call back through the lease: got %v, want ErrReentrant naming the function", inner)
			}
			if !errors.Is(err, wasm.ErrReentrant) || calls != 1 {
				t.Fatalf("outer call: got %v after %d host calls, want one host call and an error carrying ErrReentrant", err, calls)
			}
			out, err := l.CallJSON(ctx, "version")
			if err != nil || string(out) != "1" {
				t.Fatalf("version through the lease afterwards = %s, %v; want 1", out, err)
			}
		})
	}
}

// A staged module committed from a host function of its own script is
// refused with ErrReentrant and stays staged: committed once the call has
// returned, it goes live.
func TestCommitFromOwnHostFunctionKeepsStaged(t *testing.T) {
	var rt *wasm.Runtime
	var a wasm.ScriptID
	var st *wasm.Staged
	var inner error
	rt, a, _ = reentryRuntime(t, func(ctx context.Context, script string) error {
		if st != nil {
			inner = st.Commit(ctx, nil)
		}
		return nil
	})
	var err error
	if st, err = rt.Stage(ctx, a, guest.Bytes("log_v2")); err != nil {
		t.Fatal(err)
	}
	testtool.Returns(t, "the call committing its own script", func() error {
		_, err := rt.CallJSON(ctx, a, "run")
		return err
	})
	if !errors.Is(inner, wasm.ErrReentrant) {
		t.Fatalf("Commit from the script's own host function: %v, want ErrReentrant", inner)
	}
	if got := call(t, rt, a, "version"); got != "1" {
		t.Fatalf("version %s after the refused commit, want 1", got)
	}
	st2 := st
	st = nil
	if err := st2.Commit(ctx, nil); err != nil {
		t.Fatalf("Commit after the call returned: %v", err)
	}
	if got := call(t, rt, a, "version"); got != "2" {
		t.Fatalf("version %s after the commit, want 2", got)
	}
}
