package lua_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/hotscript/hotscript/lua"
)

// Config.FixedCallStack changes how an LState's call stack is allocated, not what
// scripts do: the same script gives the same answers, carries its state across a
// reload and hits the same call-depth ceiling in both modes; only the memory
// charged for a coroutine differs.
func TestFixedCallStack(t *testing.T) {
	ctx := context.Background()
	src := func(step int) []byte {
		return fmt.Appendf(nil, `
local M = { n = 0 }
local function depth(k) if k == 0 then return 0 end return 1 + depth(k - 1) end
function M.tick() M.n = M.n + %d; return M.n end
function M.depth(k) return depth(k) end
function M.threads(k)
  for i = 1, k do coroutine.create(function() end) end
  return k
end
return M`, step)
	}
	// 80 coroutines fit in 2 MiB at 16 KiB each (1.25 MiB), not at 96 KiB each (7.5 MiB).
	limits := lua.Limits{MaxMemoryBytes: 2 << 20}
	for _, fixed := range []bool{false, true} {
		t.Run(fmt.Sprint("fixed=", fixed), func(t *testing.T) {
			rt, err := lua.NewRuntimeWithConfig(ctx, lua.Config{Limits: limits, Libraries: lua.LibCoroutine, FixedCallStack: fixed})
			if err != nil {
				t.Fatal(err)
			}
			defer rt.Close(ctx)
			id, err := rt.LoadScript(ctx, "stack.lua", src(1))
			if err != nil {
				t.Fatal(err)
			}
			call := func(fn string, args ...any) (string, error) {
				out, err := rt.CallJSON(ctx, id, fn, args...)
				return string(out), err
			}
			for range 3 {
				call("tick")
			}
			if err := rt.ReloadScript(ctx, id, src(10)); err != nil {
				t.Fatal(err)
			}
			if got, err := call("tick"); got != "13" || err != nil {
				t.Errorf("tick after reload = %s, %v; want 13 (3 carried + 10)", got, err)
			}
			if got, err := call("depth", 900); got != "900" || err != nil {
				t.Errorf("depth(900) = %s, %v; want 900", got, err)
			}
			if _, err := call("depth", 5000); !errors.Is(err, lua.ErrRuntime) {
				t.Errorf("depth(5000) error = %v, want ErrRuntime (call stack overflow)", err)
			}
			_, err = call("threads", 80)
			if fixed != errors.Is(err, lua.ErrMemoryLimit) {
				t.Errorf("80 coroutines under 2 MiB: error %v; want ErrMemoryLimit only with a fixed stack", err)
			}
			if got, err := call("tick"); got != "23" || err != nil {
				t.Errorf("tick after the errors = %s, %v; want 23", got, err)
			}
		})
	}
}
