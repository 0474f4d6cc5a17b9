package lua_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotscript/hotscript/lua"
)

// reassignSrc is a script with a function f(x) = x + offset that set(how) replaces in
// the ways a script can: plain assignment, rawset, removal, a metatable's __index, a
// function that replaces itself while it runs, and a value that is not a function.
// ("index" removes f first, so that the metatable supplies it.)
func reassignSrc(offset int) string {
	return fmt.Sprintf(`
local M = {}
local function double(x) return 2 * x end
local function triple(x) return 3 * x end
function M.f(x) return x + %d end
function M.set(how)
  if how == "assign" then M.f = double
  elseif how == "rawset" then rawset(M, "f", triple)
  elseif how == "remove" then M.f = nil
  elseif how == "index" then M.f = nil setmetatable(M, { __index = { f = triple } })
  elseif how == "self" then M.f = function(x) M.f = double return -x end
  elseif how == "number" then M.f = 42
  end
end
return M`, offset)
}

// callFloat calls fn(x) with CallJSON and decodes a number.
func callFloat(rt *lua.Runtime, id lua.ScriptID, fn string, x float64) (float64, error) {
	out, err := rt.CallJSON(context.Background(), id, fn, x)
	if err != nil {
		return 0, err
	}
	var r float64
	if err := json.Unmarshal(out, &r); err != nil {
		return 0, err
	}
	return r, nil
}

// TestCallsFollowReassignment checks what each way of calling sees when a script
// replaces its own f. CallJSON always calls the module's current f, whatever replaced
// it and whenever: in an earlier call, or during the previous call itself. A Func
// keeps calling the function it bound until the next reload, then binds the new
// version's f; a Func made after the change binds the new value on its first call.
func TestCallsFollowReassignment(t *testing.T) {
	ctx := context.Background()
	t.Run("CallJSON", func(t *testing.T) {
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
		rt := newRuntime(t, lua.Config{})
		id := load(t, rt, "reassign.lua", reassignSrc(0))
		for i, st := range steps {
			if st.how != "" {
				call(t, rt, id, "set", st.how)
			}
			if st.kind != nil {
				if _, err := callFloat(rt, id, "f", 5); !errors.Is(err, st.kind) {
					t.Fatalf("step %d (%s): f(5) error %v, want %v", i, st.how, err, st.kind)
				}
				continue
			}
			for j, want := range st.want {
				if got, err := callFloat(rt, id, "f", 5); err != nil || got != want {
					t.Fatalf("step %d (%s), call %d: f(5) = %v, %v; want %v", i, st.how, j+1, got, err, want)
				}
			}
		}
	})
	t.Run("Func", func(t *testing.T) {
		// Step i runs on version i of the script, whose f(x) is x + 100*i.
		steps := []struct {
			how   string    // argument to M.set
			fresh []float64 // results of consecutive calls f(5) through a new Func
			kind  error     // the error every such call returns instead
		}{
			{how: "assign", fresh: []float64{10, 10}},
			{how: "rawset", fresh: []float64{15}},
			{how: "remove", kind: lua.ErrNoFunction},
			{how: "index", fresh: []float64{15}},
			{how: "self", fresh: []float64{-5, -5, -5}}, // bound to the replacing function
			{how: "number", kind: lua.ErrNoFunction},
		}
		rt := newRuntime(t, lua.Config{})
		id := load(t, rt, "reassign.lua", reassignSrc(0))
		old, err := rt.Func(id, "f") // made once, before any change
		if err != nil {
			t.Fatal(err)
		}
		expect := func(f *lua.Func, what string, want float64) {
			t.Helper()
			if got, err := f.Call(ctx, 5); err != nil || got != want {
				t.Fatalf("%s: f(5) = %v, %v; want %v", what, got, err, want)
			}
		}
		for i, st := range steps {
			if i > 0 {
				reload(t, rt, id, reassignSrc(100*i))
			}
			base := float64(5 + 100*i) // this version's own f(5)
			expect(old, fmt.Sprintf("step %d (%s): handle after the reload", i, st.how), base)
			call(t, rt, id, "set", st.how)
			for range 2 {
				expect(old, fmt.Sprintf("step %d (%s): bound handle after set", i, st.how), base)
			}
			if err := rt.ReloadScript(ctx, id, []byte("return {")); !errors.Is(err, lua.ErrCompile) {
				t.Fatalf("step %d: broken reload: %v, want ErrCompile", i, err)
			}
			expect(old, fmt.Sprintf("step %d (%s): bound handle after a failed reload", i, st.how), base)
			fresh, err := rt.Func(id, "f")
			if err != nil {
				t.Fatal(err)
			}
			if st.kind != nil {
				if _, err := fresh.Call(ctx, 5); !errors.Is(err, st.kind) {
					t.Fatalf("step %d (%s): new handle: error %v, want %v", i, st.how, err, st.kind)
				}
				continue
			}
			for j, want := range st.fresh {
				expect(fresh, fmt.Sprintf("step %d (%s): new handle, call %d", i, st.how, j+1), want)
			}
		}
		// A staged commit rebinds too. In a version without f, the handle binds
		// nothing and keeps looking on each call: it finds an f defined later.
		commit := func(src string) {
			t.Helper()
			st, err := rt.Stage(ctx, id, []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Commit(ctx); err != nil {
				t.Fatal(err)
			}
		}
		commit(reassignSrc(1000))
		expect(old, "handle after a staged commit", 1005)
		commit(`local M = {}
function M.define() M.f = function(x) return 7 * x end end
return M`)
		for range 2 {
			if _, err := old.Call(ctx, 5); !errors.Is(err, lua.ErrNoFunction) {
				t.Fatalf("after a commit without f: error %v, want ErrNoFunction", err)
			}
		}
		call(t, rt, id, "define")
		expect(old, "unbound handle after the script defines f", 35)
	})
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

// TestFuncRebindsWhileReloading hammers Func handles, one shared by all goroutines and
// one per goroutine, while the script is reloaded (some reloads failing). Each call
// must return a whole version's answer, never an older version than the goroutine's
// previous call saw, and once the reloads are over, the last version's.
func TestFuncRebindsWhileReloading(t *testing.T) {
	const callers, reloads = 4, 30
	ctx := context.Background()
	src := func(v int) string {
		return fmt.Sprintf("local M = { calls = 0 }\nfunction M.v(x) M.calls = M.calls + 1 return %d + x end\nreturn M", v)
	}
	rt := newRuntime(t, lua.Config{Limits: lua.Limits{MaxInstructions: 1_000_000}})
	id := load(t, rt, "v.lua", src(0))
	shared, err := rt.Func(id, "v")
	if err != nil {
		t.Fatal(err)
	}
	var done atomic.Bool
	var wg sync.WaitGroup
	for g := range callers {
		own, err := rt.Func(id, "v")
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := 0.0
			check := func(f *lua.Func, what string) bool {
				got, err := f.Call(ctx, 0.5)
				if err != nil || got-0.5 < last || got != float64(int(got))+0.5 {
					t.Errorf("caller %d, %s handle: v(0.5) = %v, %v after version %v", g, what, got, err, last)
					return false
				}
				last = got - 0.5
				return true
			}
			for !done.Load() {
				if !check(shared, "shared") || !check(own, "own") {
					return
				}
			}
			if check(shared, "shared") && check(own, "own") && last != reloads {
				t.Errorf("caller %d: version %v after the reloads, want %d", g, last, reloads)
			}
		}()
	}
	for v := 1; v <= reloads; v++ {
		if v%5 == 0 {
			if err := rt.ReloadScript(ctx, id, []byte("return 1")); !errors.Is(err, lua.ErrNotTable) {
				t.Errorf("broken reload: %v, want ErrNotTable", err)
			}
		}
		reload(t, rt, id, src(v))
		time.Sleep(time.Millisecond)
	}
	done.Store(true)
	wg.Wait()
}
