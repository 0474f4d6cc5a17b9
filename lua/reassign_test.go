package lua_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/hotscript/hotscript/lua"
)

// reassignScript has a function f that set(how) replaces in the ways a script can:
// plain assignment, rawset, removal, a metatable's __index, a function that replaces
// itself while it runs, and a value that is not a function.
const reassignScript = `
local M = {}
local function double(x) return 2 * x end
local function triple(x) return 3 * x end
function M.f(x) return x end
function M.set(how)
  if how == "assign" then M.f = double
  elseif how == "rawset" then rawset(M, "f", triple)
  elseif how == "remove" then M.f = nil
  elseif how == "index" then setmetatable(M, { __index = { f = triple } })
  elseif how == "self" then M.f = function(x) M.f = double return -x end
  elseif how == "number" then M.f = 42
  end
end
return M`

// TestCallsFollowReassignment checks that CallJSON and a Func handle (made once,
// before any change) always call the module's current f, whatever replaced it and
// whenever: in an earlier call, or during the previous call itself.
func TestCallsFollowReassignment(t *testing.T) {
	ctx := context.Background()
	callers := []struct {
		name string
		make func(rt *lua.Runtime, id lua.ScriptID) func(x float64) (float64, error)
	}{
		{"CallJSON", func(rt *lua.Runtime, id lua.ScriptID) func(float64) (float64, error) {
			return func(x float64) (float64, error) {
				out, err := rt.CallJSON(ctx, id, "f", x)
				if err != nil {
					return 0, err
				}
				var r float64
				if err := json.Unmarshal(out, &r); err != nil {
					return 0, err
				}
				return r, nil
			}
		}},
		{"Func", func(rt *lua.Runtime, id lua.ScriptID) func(float64) (float64, error) {
			f, err := rt.Func(id, "f")
			if err != nil {
				t.Fatal(err)
			}
			return func(x float64) (float64, error) { return f.Call(ctx, x) }
		}},
	}
	steps := []struct {
		how  string    // argument to M.set, "" for none
		want []float64 // results of consecutive calls f(5)
		kind error     // the error every call returns instead
	}{
		{how: "", want: []float64{5}},
		{how: "assign", want: []float64{10, 10}},
		{how: "rawset", want: []float64{15}},
		{how: "remove", kind: lua.ErrNoFunction},
		{how: "index", want: []float64{15}},
		{how: "self", want: []float64{-5, 10, 10}},
		{how: "number", kind: lua.ErrNoFunction},
		{how: "assign", want: []float64{10}},
	}
	for _, c := range callers {
		t.Run(c.name, func(t *testing.T) {
			rt := newRuntime(t, lua.Config{})
			id := load(t, rt, "reassign.lua", reassignScript)
			f := c.make(rt, id)
			for i, st := range steps {
				if st.how != "" {
					call(t, rt, id, "set", st.how)
				}
				if st.kind != nil {
					if _, err := f(5); !errors.Is(err, st.kind) {
						t.Fatalf("step %d (%s): f(5) error %v, want %v", i, st.how, err, st.kind)
					}
					continue
				}
				for j, want := range st.want {
					if got, err := f(5); err != nil || got != want {
						t.Fatalf("step %d (%s), call %d: f(5) = %v, %v; want %v", i, st.how, j+1, got, err, want)
					}
				}
			}
		})
	}
}

// TestFuncCallDoesNotAllocate pins Func.Call's promise of no allocation per call,
// with and without limits.
func TestFuncCallDoesNotAllocate(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		limits lua.Limits
	}{{"no limits", lua.Limits{}}, {"limits", lua.Limits{MaxInstructions: 1e6, MaxMemoryBytes: 1 << 20, MaxExecutionTime: 1e9}}} {
		t.Run(tc.name, func(t *testing.T) {
			rt := newRuntime(t, lua.Config{Limits: tc.limits})
			id := load(t, rt, "add.lua", `return { add = function(a, b) return a + b end }`)
			add, err := rt.Func(id, "add")
			if err != nil {
				t.Fatal(err)
			}
			if n := testing.AllocsPerRun(1000, func() {
				if _, err := add.Call(ctx, 2, 3); err != nil {
					t.Fatal(err)
				}
			}); n != 0 {
				t.Errorf("Func.Call with constant arguments: %v allocations per call, want 0", n)
			}
		})
	}
}
