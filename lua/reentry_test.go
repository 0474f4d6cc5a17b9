package lua_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/testtool"
	"github.com/hotscript/hotscript/lua"
)

// reentrySrc calls host.poke from run, and reports a value that only
// reentrySrcV2 changes.
const (
	reentrySrc   = "local M = {}\nfunction M.run() return host.poke() end\nfunction M.version() return 1 end\nreturn M"
	reentrySrcV2 = "local M = {}\nfunction M.run() return host.poke() end\nfunction M.version() return 2 end\nreturn M"
)

// reentryRuntime loads reentrySrc as "a.lua" and "b.lua"; host.poke runs onPoke
// for the script that called it.
func reentryRuntime(t *testing.T, onPoke func(ctx context.Context, script string) error) (rt *lua.Runtime, a, b lua.ScriptID) {
	t.Helper()
	rt = newRuntime(t, lua.Config{})
	err := rt.Define("host", "poke", func(ctx context.Context, c *lua.Call) ([]any, error) {
		return nil, onPoke(ctx, c.Script)
	})
	if err != nil {
		t.Fatal(err)
	}
	return rt, load(t, rt, "a.lua", reentrySrc), load(t, rt, "b.lua", reentrySrc)
}

// reentryWays are the ways a host function (or a check) can call back into
// script *a of *rt, each of which would wait for the call running it.
func reentryWays(rt **lua.Runtime, a *lua.ScriptID) map[string]func(ctx context.Context) error {
	return map[string]func(ctx context.Context) error{
		"CallJSON": func(ctx context.Context) error {
			_, err := (*rt).CallJSON(ctx, *a, "version")
			return err
		},
		"Field": func(ctx context.Context) error {
			_, err := (*rt).Field(ctx, *a, "x")
			return err
		},
		"Fields": func(ctx context.Context) error {
			_, err := (*rt).Fields(ctx, *a)
			return err
		},
		"Functions": func(ctx context.Context) error {
			_, err := (*rt).Functions(ctx, *a)
			return err
		},
		"Func.Call": func(ctx context.Context) error {
			f, err := (*rt).Func(*a, "version")
			if err != nil {
				return err
			}
			_, err = f.Call(ctx)
			return err
		},
		"Acquire": func(ctx context.Context) error {
			l, err := (*rt).Acquire(ctx, *a)
			if err == nil {
				l.Release()
			}
			return err
		},
		"ReloadScript": func(ctx context.Context) error {
			return (*rt).ReloadScript(ctx, *a, []byte(reentrySrcV2))
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
// a deadlock; the script can catch it like any host error, and goes on working.
func TestHostCallsBackIntoItsScript(t *testing.T) {
	var rt *lua.Runtime
	var a lua.ScriptID
	tests := reentryWays(&rt, &a)
	for name, reenter := range tests {
		t.Run(name, func(t *testing.T) {
			var inner error
			rt, a, _ = reentryRuntime(t, func(ctx context.Context, _ string) error {
				inner = reenter(ctx)
				return inner
			})
			err := testtool.Returns(t, "the call back into the script", func() error {
				_, err := rt.CallJSON(context.Background(), a, "run")
				return err
			})
			if !errors.Is(inner, lua.ErrReentrant) {
				t.Fatalf("call back: got %v, want ErrReentrant", inner)
			}
			if !errors.Is(err, lua.ErrRuntime) || !strings.Contains(err.Error(), "called from inside its own call") {
				t.Fatalf("outer call: got %v, want a Lua error carrying the refusal", err)
			}
			if got := call(t, rt, a, "version"); got != "1" {
				t.Fatalf("version after the refused call back = %s, want 1 (unchanged)", got)
			}
		})
	}
}

// A CommitCheck's check holds the script like a host function of a reload's
// hooks: a call, Field, reload, Unload or Close of the script made with its
// context is refused, and the reload rolls back.
func TestCheckCallsBack(t *testing.T) {
	var rt *lua.Runtime
	var a lua.ScriptID
	for name, reenter := range reentryWays(&rt, &a) {
		t.Run(name, func(t *testing.T) {
			rt, a, _ = reentryRuntime(t, func(context.Context, string) error { return nil })
			st, err := rt.Stage(context.Background(), a, []byte(reentrySrcV2))
			if err != nil {
				t.Fatal(err)
			}
			var inner error
			err = testtool.Returns(t, "a commit whose check calls back", func() error {
				_, err := st.CommitCheck(context.Background(), func(ctx context.Context, _ *lua.Version) error {
					inner = reenter(ctx)
					return inner
				})
				return err
			})
			if !errors.Is(inner, lua.ErrReentrant) || !errors.Is(err, lua.ErrReentrant) {
				t.Fatalf("call back from the check: %v, commit: %v; want ErrReentrant for both", inner, err)
			}
			if got := call(t, rt, a, "version"); got != "1" {
				t.Fatalf("version %s after the failed commit, want 1", got)
			}
		})
	}
}

// Everything that does not wait for the call running the host function still
// works from it, and a call back through another script's host function is
// caught too.
func TestHostCallsOtherScripts(t *testing.T) {
	var rt *lua.Runtime
	var a, b lua.ScriptID
	var errB error
	rt, a, b = reentryRuntime(t, func(ctx context.Context, script string) error {
		switch script {
		case "a.lua": // a calls b, and b calls back into a
			if _, err := rt.CallJSON(ctx, b, "version"); err != nil {
				return err
			}
			if err := rt.ReloadScript(ctx, b, []byte(reentrySrcV2)); err != nil {
				return err
			}
			_, err := rt.CallJSON(ctx, b, "run")
			return err
		case "b.lua":
			_, errB = rt.CallJSON(ctx, a, "version")
			return errB
		}
		return nil
	})
	_, err := rt.CallJSON(context.Background(), a, "run")
	if !errors.Is(errB, lua.ErrReentrant) || err == nil || !strings.Contains(err.Error(), "called from inside its own call") {
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
	l, err := rt.Acquire(context.Background(), a)
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

// A host function run by a reload's hook, while the commit holds the script,
// is refused too: the hook fails, the reload rolls back, nothing hangs.
func TestHostCallsBackFromReloadHook(t *testing.T) {
	var rt *lua.Runtime
	var a lua.ScriptID
	var inner error
	rt, a, _ = reentryRuntime(t, func(ctx context.Context, _ string) error {
		_, inner = rt.CallJSON(ctx, a, "version")
		return inner
	})
	next := strings.Replace(reentrySrcV2, "return M", "function M.on_save() return {} end\nfunction M.on_restore() host.poke() end\nreturn M", 1)
	err := testtool.Returns(t, "a reload whose on_restore calls back", func() error {
		return rt.ReloadScript(context.Background(), a, []byte(next))
	})
	if !errors.Is(inner, lua.ErrReentrant) || err == nil {
		t.Fatalf("call back from on_restore: %v, reload: %v; want ErrReentrant and a failed reload", inner, err)
	}
	if got := call(t, rt, a, "version"); got != "1" {
		t.Fatalf("version %s after the failed reload, want 1", got)
	}
}

// TestScriptsCallEachOther: a and b each call the other from a host function,
// on two goroutines, both inside their host functions at once: each waits for
// the other's script, which waits for it. Instead of hanging for good, the
// call that closes the cycle fails with ErrReentrant, and the other goes on.
func TestScriptsCallEachOther(t *testing.T) {
	var rt *lua.Runtime
	var a, b lua.ScriptID
	var inside sync.WaitGroup
	var refused atomic.Int32
	inside.Add(2)
	rt, a, b = reentryRuntime(t, func(ctx context.Context, script string) error {
		other := a
		if script == "a.lua" {
			other = b
		}
		inside.Done()
		inside.Wait() // both scripts are busy in a host function
		_, err := rt.CallJSON(ctx, other, "version")
		if errors.Is(err, lua.ErrReentrant) {
			refused.Add(1)
		}
		return err
	})
	done := make(chan struct{}, 2)
	for _, id := range []lua.ScriptID{a, b} {
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

// A host function that the leased version runs cannot call it through the
// lease: the version would run inside its own call, and the inner call would
// end the outer one's limits and context. The call fails with ErrReentrant and
// the lease stays usable.
func TestHostCallsBackThroughLease(t *testing.T) {
	ctx := context.Background()
	var l *lua.Lease
	var version *lua.Func
	ways := map[string]func(ctx context.Context) error{
		"Lease.CallJSON": func(ctx context.Context) error {
			_, err := l.CallJSON(ctx, "version")
			return err
		},
		"Lease.Call": func(ctx context.Context) error {
			_, err := l.Call(ctx, version)
			return err
		},
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
			_, err := l.CallJSON(ctx, "run")
			if !errors.Is(inner, lua.ErrReentrant) || !strings.Contains(inner.Error(), "version") {
				t.Fatalf("call back through the lease: got %v, want ErrReentrant naming the function", inner)
			}
			if !errors.Is(err, lua.ErrRuntime) || !strings.Contains(err.Error(), "called through the lease") || calls != 1 {
				t.Fatalf("outer call: got %v after %d host calls, want one host call and a Lua error carrying the refusal", err, calls)
			}
			out, err := l.CallJSON(ctx, "version")
			if err != nil || string(out) != "1" {
				t.Fatalf("version through the lease afterwards = %s, %v; want 1", out, err)
			}
		})
	}
}

// A staged version committed from a host function of its own script is
// refused with ErrReentrant and stays staged: committed once the call has
// returned, it goes live.
func TestCommitFromOwnHostFunctionKeepsStaged(t *testing.T) {
	ctx := context.Background()
	var st *lua.Staged
	var inner error
	rt, a, _ := reentryRuntime(t, func(ctx context.Context, _ string) error {
		if st != nil {
			_, inner = st.Commit(ctx)
		}
		return nil
	})
	var err error
	if st, err = rt.Stage(ctx, a, []byte(reentrySrcV2)); err != nil {
		t.Fatal(err)
	}
	testtool.Returns(t, "the call committing its own script", func() error {
		_, err := rt.CallJSON(ctx, a, "run")
		return err
	})
	if !errors.Is(inner, lua.ErrReentrant) {
		t.Fatalf("Commit from the script's own host function: %v, want ErrReentrant", inner)
	}
	if got := call(t, rt, a, "version"); got != "1" {
		t.Fatalf("version %s after the refused commit, want 1", got)
	}
	st2 := st
	st = nil
	if _, err := st2.Commit(ctx); err != nil {
		t.Fatalf("Commit after the call returned: %v", err)
	}
	if got := call(t, rt, a, "version"); got != "2" {
		t.Fatalf("version %s after the commit, want 2", got)
	}
}
