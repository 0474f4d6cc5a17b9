package lua_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hotscript/hotscript/lua"
)

func TestDefine(t *testing.T) {
	noop := func(context.Context, *lua.Call) ([]any, error) { return nil, nil }
	tests := []struct {
		name, module, fn string
		f                lua.HostFunc
		kind             error
	}{
		{"ok", "host", "log", noop, nil},
		{"second module", "game", "spawn", noop, nil},
		{"bad module", "ho st", "log", noop, lua.ErrInvalid},
		{"empty module", "", "log", noop, lua.ErrInvalid},
		{"standard library", "string", "log", noop, lua.ErrInvalid},
		{"base function", "print", "x", noop, lua.ErrInvalid},
		{"bad name", "host", "1log", noop, lua.ErrInvalid},
		{"reserved word as name", "host", "end", noop, lua.ErrInvalid},
		{"reserved word as module", "and", "x", noop, lua.ErrInvalid},
		{"goto, which gopher-lua reserves", "host", "goto", noop, lua.ErrInvalid},
		{"name holding a reserved word", "host", "ending", noop, nil},
		{"nil func", "host", "nothing", nil, lua.ErrInvalid},
		{"defined twice", "host", "log", noop, lua.ErrInvalid},
	}
	rt := newRuntime(t, lua.Config{})
	for _, tt := range tests {
		if err := rt.Define(tt.module, tt.fn, tt.f); !errors.Is(err, tt.kind) || (tt.kind == nil) != (err == nil) {
			t.Errorf("%s: Define(%q, %q) = %v, want %v", tt.name, tt.module, tt.fn, err, tt.kind)
		}
	}
	load(t, rt, "a.lua", `return {}`)
	err := rt.Define("host", "late", noop)
	if want := "lua: define host.late: invalid argument: host functions are fixed once a script is loaded"; !errors.Is(err, lua.ErrInvalid) || err.Error() != want {
		t.Errorf("Define after Load: %v, want ErrInvalid: %q", err, want)
	}
}

func TestHostFunctions(t *testing.T) {
	type key struct{}
	var got []*lua.Call
	var ctxValue any
	rt := newRuntime(t, lua.Config{})
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(rt.Define("host", "echo", func(ctx context.Context, c *lua.Call) ([]any, error) {
		got = append(got, &lua.Call{Script: c.Script, Function: c.Function, Args: slices.Clone(c.Args)}) // c is reused
		ctxValue = ctx.Value(key{})
		return c.Args, nil
	}))
	must(rt.Define("host", "fail", func(context.Context, *lua.Call) ([]any, error) {
		return nil, errors.New("disk full")
	}))
	must(rt.Define("host", "panics", func(context.Context, *lua.Call) ([]any, error) {
		panic("oops")
	}))
	must(rt.Define("host", "struct", func(context.Context, *lua.Call) ([]any, error) {
		return []any{struct{ X, Y int }{1, 2}, []int{3}, nil, "s"}, nil
	}))
	must(rt.Define("host", "bad", func(context.Context, *lua.Call) ([]any, error) {
		return []any{make(chan int)}, nil
	}))
	id := load(t, rt, "h.lua", `
local M = {}
function M.echo() return host.echo(1, "two", true, nil, {3, 4}, {k = {v = 5}}, {}) end
function M.caught() local ok, err = pcall(host.fail, 1) return ok, err end
function M.uncaught() host.fail() end
function M.panics() return pcall(host.panics) end
function M.struct() return host.struct() end
function M.badarg() return host.echo({f = print}) end
function M.badresult() return host.bad() end
return M`)
	ctx := context.WithValue(context.Background(), key{}, "from the caller")
	out, err := rt.CallJSON(ctx, id, "echo")
	if err != nil {
		t.Fatal(err)
	}
	if want := `[1,"two",true,null,[3,4],{"k":{"v":5}},{}]`; string(out) != want {
		t.Errorf("echo returned %s, want %s", out, want)
	}
	if len(got) != 1 || got[0].Script != "h.lua" || got[0].Function != "host.echo" || fmt.Sprint(got[0].Args) != "[1 two true <nil> [3 4] map[k:map[v:5]] map[]]" {
		t.Errorf("host saw %+v", got[0])
	}
	if ctxValue != "from the caller" {
		t.Errorf("host function got context value %v", ctxValue)
	}
	tests := []struct {
		fn, want string
		kind     error
	}{
		{"caught", `[false,"h.lua:4: host.fail: disk full"]`, nil},
		{"uncaught", "h.lua:5: host.fail: disk full", lua.ErrRuntime},
		{"panics", `[false,"h.lua:6: host.panics: panic: oops"]`, nil},
		{"struct", `[{"X":1,"Y":2},[3],null,"s"]`, nil},
		{"badarg", "host.echo: argument #1: field f: cannot convert function", lua.ErrRuntime},
		{"badresult", "host.bad: result 1:", lua.ErrRuntime},
	}
	for _, tt := range tests {
		out, err := rt.CallJSON(context.Background(), id, tt.fn)
		switch {
		case tt.kind == nil && (err != nil || string(out) != tt.want):
			t.Errorf("%s = %s, %v; want %s", tt.fn, out, err, tt.want)
		case tt.kind != nil && (!errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: err %v, want %v containing %q", tt.fn, err, tt.kind, tt.want)
		}
	}
}

// A host function's results follow CallJSON's rules for arguments: a map's keys
// reach Lua in sorted order, the order pairs walks them in, and an integer a Lua
// number would round is a Lua error naming the result, not a rounded number.
func TestHostResultsOrderedAndExact(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	results := map[string][]any{
		"map":    {map[string]any{"h": 1, "g": 2, "f": 3, "e": 4, "d": 5, "c": 6, "b": 7, "a": 8}},
		"struct": {struct{ Z, Y, X, W, V, U int }{}},
		"big":    {1, map[string]any{"ids": []any{int64(1<<53 + 1)}}},
		"huge":   {uint64(math.MaxUint64)},
		"raw":    {json.RawMessage(`[9007199254740993]`)},
	}
	for name, res := range results {
		if err := rt.Define("host", name, func(context.Context, *lua.Call) ([]any, error) { return res, nil }); err != nil {
			t.Fatal(err)
		}
	}
	id := load(t, rt, "r.lua", `local M = {}
function M.keys(name)
  local ks = {}
  for k in pairs(host[name]()) do ks[#ks+1] = k end
  return table.concat(ks, ",")
end
function M.get(name) return host[name]() end
return M`)
	for fn, want := range map[string]string{"map": "a,b,c,d,e,f,g,h", "struct": "U,V,W,X,Y,Z"} {
		for range 20 {
			if got := call(t, rt, id, "keys", fn); got != `"`+want+`"` {
				t.Fatalf("pairs over host.%s's result walked %s, want %s", fn, got, want)
			}
		}
	}
	for fn, want := range map[string]string{
		"big":  "host.big: result 2: field ids[1]: integer 9007199254740993 is beyond 2^53",
		"huge": "host.huge: result 1: integer 18446744073709551615 is beyond 2^53",
		"raw":  "host.raw: result 1: field [1]: integer 9007199254740993 is beyond 2^53",
	} {
		out, err := rt.CallJSON(context.Background(), id, "get", fn)
		if !errors.Is(err, lua.ErrRuntime) || !strings.Contains(err.Error(), want) {
			t.Errorf("host.%s = %s, %v; want a Lua error containing %q", fn, out, err, want)
		}
	}
}

// TestHostValueSurvivesReload drives a Go value (a position kept in a Go map) from a
// script through host functions, across a reload that changes the code.
func TestHostValueSurvivesReload(t *testing.T) {
	type position struct{ X, Y float64 }
	var mu sync.Mutex
	world := map[float64]*position{}
	rt := newRuntime(t, lua.Config{})
	rt.Define("world", "spawn", func(_ context.Context, c *lua.Call) ([]any, error) {
		mu.Lock()
		defer mu.Unlock()
		id := float64(len(world) + 1)
		world[id] = &position{}
		return []any{id}, nil
	})
	rt.Define("world", "move", func(_ context.Context, c *lua.Call) ([]any, error) {
		mu.Lock()
		defer mu.Unlock()
		id, ok1 := c.Args[0].(float64)
		dx, ok2 := c.Args[1].(float64)
		p := world[id]
		if !ok1 || !ok2 || p == nil {
			return nil, fmt.Errorf("bad arguments %v", c.Args)
		}
		p.X += dx
		return []any{p.X}, nil
	})
	id := load(t, rt, "mover.lua", `
local M = { entity = world.spawn() }
function M.on_update() return world.move(M.entity, 1) end
return M`)
	for range 3 {
		call(t, rt, id, "on_update")
	}
	reload(t, rt, id, `
local M = { entity = world.spawn() } -- a new entity, but the carried id wins
function M.on_update() return world.move(M.entity, 10) end
return M`)
	if got := call(t, rt, id, "on_update"); got != "13" {
		t.Fatalf("after reload on_update moved the entity to %s, want 13 (3 old steps, 1 new)", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if world[1].X != 13 || world[2].X != 0 {
		t.Errorf("world %v %v: the carried entity id must drive entity 1", *world[1], *world[2])
	}
}

// A host function's arguments arrive intact, numbers included (they are boxed
// in reused slots), more than the Call keeps room for, and a value the host
// function keeps stays as it was through later calls.
func TestHostArguments(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	var kept [][]any
	err := rt.Define("host", "keep", func(_ context.Context, c *lua.Call) ([]any, error) {
		kept = append(kept, slices.Clone(c.Args))
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	id := load(t, rt, "args.lua", `return { run = function(k)
  host.keep(k, -0.0, 1e300, 255, 256, 3.5, "s", true, nil, {1, 2}, k * 2)
end }`)
	for k := range 300 {
		call(t, rt, id, "run", k)
	}
	for k, args := range kept {
		want := []any{float64(k), math.Copysign(0, -1), 1e300, 255.0, 256.0, 3.5, "s", true, nil, []any{1.0, 2.0}, float64(2 * k)}
		if fmt.Sprint(args) != fmt.Sprint(want) || !math.Signbit(args[1].(float64)) {
			t.Fatalf("call %d got %v, want %v", k, args, want)
		}
	}
}

// TestDefineArgs: a function defined with DefineArgs gets only its first nargs
// arguments; those past them are dropped unconverted, so that a function, a
// cycle or a table of functions there does not fail the call.
func TestDefineArgs(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	var got []any
	err := rt.DefineArgs("host", "first", 1, func(_ context.Context, c *lua.Call) ([]any, error) {
		got = slices.Clone(c.Args)
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var rest []any
	err = rt.DefineArgs("host", "rest", 1, func(_ context.Context, c *lua.Call) ([]any, error) {
		args, err := c.Rest()
		rest = slices.Clone(args)
		return nil, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.DefineArgs("host", "bad", -1, func(context.Context, *lua.Call) ([]any, error) { return nil, nil }); !errors.Is(err, lua.ErrInvalid) {
		t.Errorf("DefineArgs with -1 arguments: %v, want ErrInvalid", err)
	}
	id := load(t, rt, "args.lua", `local M = {}
local cycle = {} cycle.self = cycle
function M.run() host.first(7, function() end, cycle, M) end
function M.none() host.first() end
function M.rest() host.rest(1, "a", {2}) end
function M.restBad() host.rest(1, "a", function() end) end
return M`)
	call(t, rt, id, "run")
	if fmt.Sprint(got) != "[7]" {
		t.Errorf("Args %v, want [7]", got)
	}
	call(t, rt, id, "none")
	if len(got) != 0 {
		t.Errorf("Args %v, want none", got)
	}
	// Rest converts the others on request.
	call(t, rt, id, "rest")
	if fmt.Sprint(rest) != "[1 a [2]]" {
		t.Errorf("Rest = %v, want [1 a [2]]", rest)
	}
	if _, err := rt.CallJSON(context.Background(), id, "restBad"); err == nil || !strings.Contains(err.Error(), "host.rest: argument #3: cannot convert function") {
		t.Errorf("Rest of a function: %v, want an error naming argument #3", err)
	}
}

// Call.Number and Call.Int read numeric arguments, and their errors, returned
// by the host function, reach the script naming the function and the argument.
func TestCallNumberArguments(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, lua.Config{})
	err := rt.Define("host", "move", func(ctx context.Context, c *lua.Call) ([]any, error) {
		e, err := c.Int(0)
		if err != nil {
			return nil, err
		}
		dx, err := c.Number(1)
		if err != nil {
			return nil, err
		}
		return []any{float64(e) + dx}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	id := load(t, rt, "m.lua", `return { move = function(...) return host.move(...) end }`)
	tests := []struct {
		args []any
		want string // the result, or a part of the error
	}{
		{[]any{7, 0.5}, "7.5"},
		{[]any{float64(-(1 << 53)), 1}, "-9007199254740991"},
		{[]any{7, "far"}, "host.move: argument #2: number expected, got string"},
		{[]any{7}, "host.move: argument #2: number expected, got no value"},
		{[]any{true, 1}, "argument #1: number expected, got boolean"},
		{[]any{map[string]any{"x": 1}, 1}, "argument #1: number expected, got table"},
		{[]any{7.25, 1}, "argument #1: integer expected, got 7.25"},
		{[]any{float64(1<<53 + 2), 1}, "argument #1: 9007199254740994 is out of range: an integer within ±2^53 expected"},
		{[]any{math.Inf(-1), 1}, "argument #1: -Inf is out of range: an integer within ±2^53 expected"},
		{[]any{1e300, 1}, "argument #1: 1e+300 is out of range: an integer within ±2^53 expected"},
	}
	for _, tt := range tests {
		out, err := rt.CallJSON(ctx, id, "move", tt.args...)
		switch {
		case err == nil && string(out) != tt.want:
			t.Errorf("move(%v) = %s, want %s", tt.args, out, tt.want)
		case err != nil && (!strings.Contains(err.Error(), tt.want) || !errors.Is(err, lua.ErrRuntime)):
			t.Errorf("move(%v): %v, want a runtime error with %q", tt.args, err, tt.want)
		}
	}
}

// TestCallStrArguments: Call.Str takes a string and refuses anything else,
// numbers included, naming the argument.
func TestCallStrArguments(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, lua.Config{})
	err := rt.Define("host", "greet", func(ctx context.Context, c *lua.Call) ([]any, error) {
		who, err := c.Str(1)
		if err != nil {
			return nil, err
		}
		return []any{"hello " + who}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	id := load(t, rt, "m.lua", `return { greet = function(...) return host.greet(...) end }`)
	tests := []struct {
		args []any
		want string // the result, or a part of the error
	}{
		{[]any{0, "ann"}, `"hello ann"`},
		{[]any{0, ""}, `"hello "`},
		{[]any{0, 7}, "host.greet: argument #2: string expected, got number"},
		{[]any{0}, "host.greet: argument #2: string expected, got no value"},
		{[]any{0, nil}, "argument #2: string expected, got nil"},
		{[]any{0, []any{"a"}}, "argument #2: string expected, got table"},
	}
	for _, tt := range tests {
		out, err := rt.CallJSON(ctx, id, "greet", tt.args...)
		switch {
		case err == nil && string(out) != tt.want:
			t.Errorf("greet(%v) = %s, want %s", tt.args, out, tt.want)
		case err != nil && (!strings.Contains(err.Error(), tt.want) || !errors.Is(err, lua.ErrRuntime)):
			t.Errorf("greet(%v): %v, want a runtime error with %q", tt.args, err, tt.want)
		}
	}
}
