package lua_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hotscript/hotscript/lua"
)

type carriedKey struct{}

// TestCarriedHostFunctionCallContext: a function carried across a reload in a
// data field runs the old version's code, host function calls included, inside
// the new version's calls. Those host functions must get the context of the call
// running them, with the mark of the version running it: a call back into the
// script with that context fails with ErrReentrant instead of waiting for
// itself, and the context has the caller's deadline and values.
func TestCarriedHostFunctionCallContext(t *testing.T) {
	const src = `
local M = {}
M.handlers = { tick = function() return host.ping() end }
function M.pong() return 1 end
function M.update() return M.handlers.tick() end
function M.update_co() return coroutine.wrap(M.handlers.tick)() end
return M`
	cases := []struct {
		name    string
		limits  lua.Limits
		timeout bool // the caller's context has a deadline
		fn      string
	}{
		{"limits", lua.Limits{MaxInstructions: 1e6, MaxExecutionTime: time.Minute, MaxMemoryBytes: 16 << 20}, true, "update"},
		{"no limits, deadline", lua.Limits{}, true, "update"},
		{"no limits, no deadline", lua.Limits{}, false, "update"},
		{"coroutine", lua.Limits{MaxInstructions: 1e6}, true, "update_co"},
		{"coroutine, no limits", lua.Limits{}, false, "update_co"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rt := newRuntime(t, lua.Config{Limits: tc.limits, Libraries: lua.LibCoroutine})
			var id lua.ScriptID
			var (
				inner    error
				deadline time.Time
				value    any
			)
			err := rt.Define("host", "ping", func(ctx context.Context, c *lua.Call) ([]any, error) {
				deadline, _ = ctx.Deadline()
				value = ctx.Value(carriedKey{})
				// Bounded, so that a wait for the script's own call fails the
				// test instead of hanging it.
				ictx, cancel := context.WithTimeout(ctx, 2*time.Second)
				defer cancel()
				_, inner = rt.CallJSON(ictx, id, "pong")
				return nil, inner
			})
			if err != nil {
				t.Fatal(err)
			}
			id = load(t, rt, "mod.lua", src)
			reload(t, rt, id, src)
			for range 2 { // the second call finds the version's mark reused
				ctx := context.WithValue(context.Background(), carriedKey{}, "caller")
				var want time.Time
				if tc.timeout {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, time.Minute)
					defer cancel()
					want, _ = ctx.Deadline()
				}
				inner = nil
				if _, err := rt.CallJSON(ctx, id, tc.fn); err == nil {
					t.Fatal("update succeeded; want the error of the call back into the script")
				}
				if !errors.Is(inner, lua.ErrReentrant) {
					t.Errorf("the host function's call back into its script: %v, want ErrReentrant", inner)
				}
				if !deadline.Equal(want) {
					t.Errorf("host function's context has deadline %v, want the caller's %v", deadline, want)
				}
				if value != "caller" {
					t.Errorf("host function's context has value %v, want the caller's", value)
				}
			}
			if got := call(t, rt, id, "pong"); got != "1" {
				t.Errorf("pong after the calls = %s, want 1", got)
			}
		})
	}
}

// TestCarriedHostFunctionLimits: the time a carried function's host call takes
// counts against the limits of the call running it, which fails with their error.
func TestCarriedHostFunctionLimits(t *testing.T) {
	const src = `
local M = {}
M.handlers = { slow = function() host.sleep() return 1 end }
function M.update() return M.handlers.slow() end
return M`
	rt := newRuntime(t, lua.Config{Limits: lua.Limits{MaxExecutionTime: 20 * time.Millisecond}})
	err := rt.Define("host", "sleep", func(ctx context.Context, c *lua.Call) ([]any, error) {
		time.Sleep(50 * time.Millisecond)
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	id := load(t, rt, "mod.lua", src)
	reload(t, rt, id, src)
	for range 2 {
		_, err := rt.CallJSON(context.Background(), id, "update")
		if !errors.Is(err, lua.ErrTimeout) {
			t.Fatalf("update after reload: %v, want ErrTimeout", err)
		}
	}
}
