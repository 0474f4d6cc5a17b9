package lua_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/hotscript/hotscript/lua"
)

// echo returns its arguments unchanged, and describe how Lua sees them.
const echoScript = `
local M = {}
function M.echo(...) return ... end
function M.types(...)
  local out = {}
  for i = 1, select("#", ...) do out[i] = type((select(i, ...))) end
  return table.concat(out, ",")
end
function M.count(...) return select("#", ...) end
return M`

func TestCallJSONArguments(t *testing.T) {
	type pos struct {
		X, Y int
		Tag  string `json:"tag"`
	}
	tests := []struct {
		name  string
		arg   any
		types string
		json  string
	}{
		{"float", 0.016, "number", "0.016"},
		{"int", 7, "number", "7"},
		{"int64", int64(-3), "number", "-3"},
		{"uint8 via json", uint8(200), "number", "200"},
		{"string", "hi", "string", `"hi"`},
		{"bool", true, "boolean", "true"},
		{"nil", nil, "nil", "null"},
		{"slice", []any{1, "a", false}, "table", `[1,"a",false]`},
		{"map", map[string]any{"a": 1, "b": []any{2}}, "table", `{"a":1,"b":[2]}`},
		{"struct via json", pos{1, 2, "p"}, "table", `{"X":1,"Y":2,"tag":"p"}`},
		{"typed slice via json", []int{4, 5}, "table", `[4,5]`},
		{"raw message", json.RawMessage(`{"hp":[1,2]}`), "table", `{"hp":[1,2]}`},
		{"raw number", json.RawMessage(`12.5`), "number", `12.5`},
	}
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "echo.lua", echoScript)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := call(t, rt, id, "types", tt.arg); got != `"`+tt.types+`"` {
				t.Errorf("Lua sees %s, want %s", got, tt.types)
			}
			if got := call(t, rt, id, "echo", tt.arg); !jsonEqual(t, got, tt.json) {
				t.Errorf("round trip %s, want %s", got, tt.json)
			}
		})
	}
	if got := call(t, rt, id, "count", 1, nil, "x", nil); got != "4" {
		t.Errorf("4 args arrive as %s parameters", got)
	}
	_, err := rt.CallJSON(context.Background(), id, "echo", json.RawMessage(`{bad`))
	if !errors.Is(err, lua.ErrJSON) || !strings.Contains(err.Error(), "argument 1") {
		t.Errorf("bad raw message: %v, want ErrJSON naming argument 1", err)
	}
	_, err = rt.CallJSON(context.Background(), id, "echo", make(chan int))
	if !errors.Is(err, lua.ErrJSON) {
		t.Errorf("channel argument: %v, want ErrJSON", err)
	}
}

// Integers that a Lua number would round, beyond ±2^53, are refused with an
// error naming the argument and the path inside it, whether they come as Go
// integers, inside structs or maps, or as JSON: nothing is rounded silently.
// Integers up to 2^53 and numbers written as floats pass as they are.
func TestCallJSONInexactIntegers(t *testing.T) {
	const big = 1<<53 + 1
	type entity struct {
		ID int64 `json:"id"`
	}
	refused := []struct {
		name string
		arg  any
		want string
	}{
		{"int64", int64(big), "argument 1: integer 9007199254740993 is beyond 2^53"},
		{"negative int64", int64(-big), "argument 1: integer -9007199254740993 is beyond 2^53"},
		{"uint64", uint64(math.MaxUint64), "argument 1: integer 18446744073709551615 is beyond 2^53"},
		{"raw number", json.RawMessage(`9007199254740993`), "argument 1: integer 9007199254740993 is beyond 2^53"},
		{"raw number past int64", json.RawMessage(`-99999999999999999999`), "argument 1: integer -99999999999999999999 is beyond 2^53"},
		{"raw nested", json.RawMessage(`{"ids":[1,9007199254740993]}`), "argument 1: field ids[2]: integer 9007199254740993"},
		{"struct field", []entity{{1}, {big}}, "argument 1: field [2].id: integer 9007199254740993"},
		{"map key", map[string]any{"a b": []any{int64(big)}}, `argument 1: field ["a b"][1]: integer 9007199254740993`},
		{"json.Number", json.Number("9007199254740993"), "argument 1: integer 9007199254740993"},
	}
	if strconv.IntSize == 64 {
		n := int64(big)
		refused = append(refused, struct {
			name string
			arg  any
			want string
		}{"int", int(n), "argument 1: integer 9007199254740993 is beyond 2^53"})
	}
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "echo.lua", echoScript)
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			out, err := rt.CallJSON(context.Background(), id, "echo", tt.arg)
			if !errors.Is(err, lua.ErrJSON) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("echo(%v) = %s, %v; want ErrJSON containing %q", tt.arg, out, err, tt.want)
			}
		})
	}
	passed := []struct {
		name string
		arg  any
		want string
	}{
		{"int64 2^53", int64(1 << 53), "9007199254740992"},
		{"negative int64 2^53", int64(-1 << 53), "-9007199254740992"},
		{"uint64 2^53", uint64(1 << 53), "9007199254740992"},
		{"raw 2^53", json.RawMessage(`9007199254740992`), "9007199254740992"},
		{"raw float", json.RawMessage(`1e300`), "1e+300"},
		{"raw fraction", json.RawMessage(`[0.5,-2.25E2]`), "[0.5,-225]"},
		{"struct", entity{1 << 53}, `{"id":9007199254740992}`},
		// Past 2^53, integers a float64 holds exactly: 2^60, and a float64
		// field, which encoding/json writes with all its digits.
		{"int64 2^60", int64(1 << 60), "1152921504606846976"},
		{"float field 1e20", struct{ Mass float64 }{1e20}, `{"Mass":100000000000000000000}`},
		{"float slice", []float64{1<<53 + 2}, "[9007199254740994]"},
	}
	for _, tt := range passed {
		t.Run(tt.name, func(t *testing.T) {
			if got := call(t, rt, id, "echo", tt.arg); got != tt.want {
				t.Errorf("echo(%v) = %s, want %s", tt.arg, got, tt.want)
			}
		})
	}
	_, err := rt.CallJSON(context.Background(), id, "echo", json.RawMessage(`1 2`))
	if !errors.Is(err, lua.ErrJSON) {
		t.Errorf("raw message of two values: %v, want ErrJSON", err)
	}
}

// A map reaches Lua with its keys set in sorted order, which is the order pairs
// walks them in: the same argument gives the same iteration every call, as a
// Go map's own order would not, and so the same results and instruction count.
func TestCallJSONMapArgumentOrder(t *testing.T) {
	type letters struct{ A, B, C, D, E, F, G, H int }
	m := map[string]any{}
	for _, k := range "hgfedcba" {
		m[string(k)] = int(k)
	}
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "order.lua", `local M = {}
function M.keys(t)
  local ks = {}
  for k, v in pairs(t) do
    ks[#ks+1] = k
    if type(v) == "table" then ks[#ks+1] = "(" .. M.keys(v) .. ")" end
  end
  return table.concat(ks, ",")
end
return M`)
	tests := []struct {
		name string
		arg  any
		want string
	}{
		{"map", m, "a,b,c,d,e,f,g,h"},
		{"nested map", map[string]any{"z": m, "y": []any{m}}, "y,(1,(a,b,c,d,e,f,g,h)),z,(a,b,c,d,e,f,g,h)"},
		{"struct", letters{}, "A,B,C,D,E,F,G,H"},
		{"typed map", map[string]int{"q": 1, "p": 2, "o": 3, "n": 4, "m": 5, "l": 6}, "l,m,n,o,p,q"},
		{"raw message", json.RawMessage(`{"b":1,"a":2,"d":3,"c":4}`), "a,b,c,d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 20 {
				if got := call(t, rt, id, "keys", tt.arg); got != `"`+tt.want+`"` {
					t.Fatalf("pairs walked %s, want %s", got, tt.want)
				}
			}
		})
	}
}

func TestCallJSONResults(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"none", `return`, `null`},
		{"nil", `return nil`, `null`},
		{"integer has no fraction", `return 3`, `3`},
		{"zero", `return 0`, `0`},
		{"two digits", `return 10`, `10`},
		{"fifteen digits", `return 999999999999999`, `999999999999999`},
		{"sixteen digits", `return 1e15`, `1000000000000000`},
		{"negative integer", `return -7`, `-7`},
		{"big integer", `return 2^53`, `9007199254740992`},
		{"huge", `return 1e300`, `1e+300`},
		{"fraction", `return 0.25`, `0.25`},
		{"negative zero", `return -0.0`, `-0`},
		{"small fraction", `return 1e-7`, `1e-7`},
		{"micro", `return 0.000001`, `0.000001`},
		{"tiny", `return 1.5e-300`, `1.5e-300`},
		{"past 1e21", `return 1.5e21`, `1.5e+21`},
		{"string escapes", `return "a\"b\\c\n\t\1"`, `"a\"b\\c\n\t\u0001"`},
		{"invalid utf8", `return "\255"`, `"\ufffd"`},
		{"array", `return {1, 2, 3}`, `[1,2,3]`},
		{"nested", `return {enemies = {{id = 1}, {id = 2}}}`, `{"enemies":[{"id":1},{"id":2}]}`},
		{"sparse is an object", `return {[1] = "a", [3] = "c"}`, `{"1":"a","3":"c"}`},
		{"mixed is an object", `return {1, x = 2}`, `{"1":1,"x":2}`},
		{"zero index is an object", `return {[0] = "z", [1] = "a"}`, `{"0":"z","1":"a"}`},
		{"empty table is an object", `return {}`, `{}`},
		{"keys sorted", `return {b = 1, a = 2, c = 3}`, `{"a":2,"b":1,"c":3}`},
		{"shared subtable twice", `local s = {1}; return {a = s, b = s}`, `{"a":[1],"b":[1]}`},
		{"several values", `return 1, "two", {3}`, `[1,"two",[3]]`},
		{"metatable ignored", `return setmetatable({}, {__index = {x = 1}})`, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, lua.Config{})
			id := load(t, rt, "r.lua", "local M = {}\nfunction M.f() "+tt.body+" end\nreturn M")
			if got := call(t, rt, id, "f"); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestCallJSONResultErrors(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"function deep", `return {enemies = {{}, {ai = function() end}}}`, "f result: field enemies[2].ai: cannot convert function"},
		{"cycle", `local t = {}; t.self = t; return t`, "f result: field self: cyclic table"},
		{"float key", `return {[1.5] = true}`, "table key 1.5 is not an integer"},
		{"key beyond 2^53", `return {[2^60] = true}`, "table key 1152921504606846976 is an integer beyond 2^53"},
		{"boolean key", `return {[true] = 1}`, "table key of type boolean"},
		{"odd string key", `return {["a b"] = {function() end}}`, `field ["a b"][1]: cannot convert function`},
		{"NaN", `return 0/0`, "cannot convert"},
		{"infinity", `return {x = 1/0}`, "field x: cannot convert"},
		{"userdata", `return newproxy()`, "cannot convert userdata"},
		{"second result", `return 1, print`, "result 2: cannot convert function"},
		{"duplicate key", `return {[1] = 1, ["1"] = 2, x = 3}`, `duplicate key "1"`},
		{"invalid UTF-8 keys", `return {["\255"] = 1, ["\254"] = 2}`, `field ["\xfe"]: key is not valid UTF-8`},
		{"invalid UTF-8 key deep", `return {a = {{["ok\192"] = 1}}}`, `field a[1]["ok\xc0"]: key is not valid UTF-8`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, lua.Config{})
			id := load(t, rt, "r.lua", "local M = {}\nfunction M.f() "+tt.body+" end\nreturn M")
			_, err := rt.CallJSON(context.Background(), id, "f")
			if !errors.Is(err, lua.ErrJSON) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrJSON containing %q", err, tt.want)
			}
			if e := asError(t, err); e.Script != "r.lua" || e.Function != "f" {
				t.Errorf("error names %q %q", e.Script, e.Function)
			}
		})
	}
}

// Object keys that are not valid UTF-8 are refused, by CallJSON, Field and
// Inspect alike: written with U+FFFD for their bad bytes, as string values are,
// two keys could become one and the JSON hold a duplicate. Valid keys, and
// invalid bytes in values, convert as before.
func TestJSONInvalidUTF8Keys(t *testing.T) {
	const src = `local M = {
  bad = {["\255"] = 1, ["\254"] = 2},
  good = {["\195\169"] = "\255"},
}
function M.f() return M.bad end
return M`
	ctx := context.Background()
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "k.lua", src)
	if out, err := rt.CallJSON(ctx, id, "f"); !errors.Is(err, lua.ErrJSON) || !strings.Contains(err.Error(), `field ["\xfe"]: key is not valid UTF-8`) {
		t.Errorf("CallJSON = %s, %v; want ErrJSON naming the key", out, err)
	}
	if out, err := rt.Field(ctx, id, "bad"); !errors.Is(err, lua.ErrJSON) || !strings.Contains(err.Error(), `field ["\xfe"]: key is not valid UTF-8`) {
		t.Errorf("Field = %s, %v; want ErrJSON naming the key", out, err)
	}
	if got := field(t, rt, id, "good"); got != `{"é":"\ufffd"}` {
		t.Errorf("Field(good) = %s", got)
	}
	info, err := lua.Inspect(ctx, "k.lua", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := info.Values["bad"]; ok || string(info.Values["good"]) != `{"é":"\ufffd"}` {
		t.Errorf("Inspect values: bad %s (%v), good %s; want bad absent", v, ok, info.Values["good"])
	}
}

// TestJSONSizeBound: JSON has no references, so a value that reaches one table
// or string many times converts to that many copies; CallJSON, Field and a host
// function's arguments stop at 256 MiB with ErrJSON (or a Lua error) instead of
// running the process out of memory. The bound is not MaxMemoryBytes, what one
// call may build: a script's state, built over many calls, may be larger.
func TestJSONSizeBound(t *testing.T) {
	const src = `local M = {}
local s = ("x"):rep(3 * 2^20)
local dag = {s} for i = 1, 7 do dag = {dag, dag} end
local refs = {} for i = 1, 100 do refs[i] = s end
M.dag, M.refs = dag, refs
function M.f(name) return M[name] end
function M.pass(name) return pcall(host.take, M[name]) end
return M`
	rt, took := takingRuntime(t, lua.Config{})
	id := load(t, rt, "big.lua", src)
	tooLarge := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, lua.ErrJSON) || !strings.Contains(err.Error(), "big.lua") ||
			!strings.Contains(err.Error(), "too large: its JSON passes 256 MiB") {
			t.Errorf("%s: %v, want ErrJSON naming the script and the bound", what, err)
		}
	}
	_, err := rt.CallJSON(context.Background(), id, "f", "dag")
	tooLarge("CallJSON of a table reaching 128 times one holding a 3 MiB string", err)
	_, err = rt.Field(context.Background(), id, "refs")
	tooLarge("Field of 100 references to a 3 MiB string", err)
	for _, name := range []string{"dag", "refs"} {
		out := call(t, rt, id, "pass", name)
		if !strings.HasPrefix(out, `[false,"big.lua:7: host.take: argument #1: `) || !strings.Contains(out, "too large") {
			t.Errorf("a host function given %s: %s, want a Lua error saying it is too large", name, out)
		}
	}
	if *took != 0 {
		t.Errorf("host.take ran %d times with arguments too large", *took)
	}

	// 100 KB of state built 1 KB a call, under a 64 KiB MaxMemoryBytes, reads out.
	small := newRuntime(t, lua.Config{Limits: lua.Limits{MaxMemoryBytes: 64 << 10}})
	id = load(t, small, "log.lua", `local M = { log = {} }
function M.add() M.log[#M.log + 1] = ("x"):rep(1000) end
function M.get() return M.log end
return M`)
	for range 100 {
		call(t, small, id, "add")
	}
	if out, err := small.Field(context.Background(), id, "log"); err != nil || len(out) < 100_000 {
		t.Errorf("Field log (100 KB of state): %d bytes, %v", len(out), err)
	}
	if out, err := small.CallJSON(context.Background(), id, "get"); err != nil || len(out) < 100_000 {
		t.Errorf("CallJSON get (100 KB of state): %d bytes, %v", len(out), err)
	}
}

// panicky is an argument whose MarshalJSON panics.
type panicky struct{}

func (panicky) MarshalJSON() ([]byte, error) { panic("boom") }

func TestCallErrors(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "enemy.lua", `
local M = { n = 0, data = 5 }
function M.on_update(dt)
  M.n = M.n + 1
  if dt < 0 then
    local target = nil
    return target.health
  end
  return M.n
end
return M`)
	_, err := rt.CallJSON(ctx, id, "on_update", -1)
	e := asError(t, err)
	if !errors.Is(err, lua.ErrRuntime) || e.Script != "enemy.lua" || e.Function != "on_update" || e.Line != 7 {
		t.Errorf("error %+v", e)
	}
	if !strings.Contains(err.Error(), "enemy.lua:7:") || !strings.Contains(e.Traceback, "enemy.lua:7: in function 'on_update'") {
		t.Errorf("message %q / traceback %q do not name enemy.lua:7", err, e.Traceback)
	}
	if got := call(t, rt, id, "on_update", 1); got != "2" {
		t.Errorf("next call after an error returned %s, want 2 (the script keeps working)", got)
	}
	for _, fn := range []string{"missing", "data"} {
		if _, err := rt.CallJSON(ctx, id, fn); !errors.Is(err, lua.ErrNoFunction) {
			t.Errorf("call %s: %v, want ErrNoFunction", fn, err)
		}
	}
	if _, err := rt.CallJSON(ctx, 999, "on_update"); !errors.Is(err, lua.ErrNotFound) || err.Error() != "lua: call script 999 on_update: script not found" {
		t.Errorf("unknown id: %v, want ErrNotFound", err)
	}
	// Arguments that cannot be passed fail the call, not the script: a
	// MarshalJSON that panics, more arguments than a call can pass.
	if _, err := rt.CallJSON(ctx, id, "on_update", panicky{}); !errors.Is(err, lua.ErrJSON) || !strings.Contains(err.Error(), "panicked: boom") {
		t.Errorf("argument whose MarshalJSON panics: %v, want ErrJSON saying so", err)
	}
	if _, err := rt.CallJSON(ctx, id, "on_update", make([]any, 10_000)...); !errors.Is(err, lua.ErrInvalid) {
		t.Errorf("10,000 arguments: %v, want ErrInvalid", err)
	}
	f, _ := rt.Func(id, "on_update")
	if _, err := f.Call(ctx, make([]float64, 10_000)...); !errors.Is(err, lua.ErrInvalid) {
		t.Errorf("Func.Call with 10,000 arguments: %v, want ErrInvalid", err)
	}
	if got := call(t, rt, id, "on_update", 1); got != "3" {
		t.Errorf("call after the refused ones = %s, want 3", got)
	}
	if err := rt.Unload(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.CallJSON(ctx, id, "on_update", 1); !errors.Is(err, lua.ErrNotFound) || !strings.Contains(err.Error(), "on_update") {
		t.Errorf("after Unload: %v, want ErrNotFound naming the function", err)
	}
	if _, err := f.Call(ctx, 1); !errors.Is(err, lua.ErrNotFound) || err.Error() != "lua: call enemy.lua on_update: script not found" {
		t.Errorf("Func.Call after Unload: %v, want ErrNotFound naming the script and the function", err)
	}
	if err := rt.Unload(ctx, id); !errors.Is(err, lua.ErrNotFound) || err.Error() != "lua: unload enemy.lua: script not found: unloaded" {
		t.Errorf("second Unload: %v, want ErrNotFound, prefixed once", err)
	}
	// The id's name is remembered: errors through the id name the script.
	if _, err := rt.CallJSON(ctx, id, "on_update", 1); err == nil || err.Error() != "lua: call enemy.lua on_update: script not found: unloaded" {
		t.Errorf("CallJSON after Unload: %v, want it naming enemy.lua", err)
	}
	if _, err := rt.Field(ctx, id, "health"); !errors.Is(err, lua.ErrNotFound) || err.Error() != "lua: field enemy.lua health: script not found: unloaded" {
		t.Errorf("Field after Unload: %v, want it naming enemy.lua", err)
	}
	if _, err := rt.Acquire(ctx, id); !errors.Is(err, lua.ErrNotFound) || !strings.Contains(err.Error(), "enemy.lua") {
		t.Errorf("Acquire after Unload: %v, want it naming enemy.lua", err)
	}
	if _, err := rt.CallJSON(ctx, id+1000, "f"); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("script %d", id+1000)) {
		t.Errorf("CallJSON of an id never loaded: %v, want it naming the id", err)
	}
}

// TestCallFailureNamesTheCallee: a call that finds no function names what it
// called, as Lua 5.1 does: a typo in a live edit is the commonest broken one.
// A line with two calls that could have failed names neither; a call of a
// global that holds a function cannot have; nor does a line where a for loop
// calls its iterator (for _, e in t, pairs forgotten), nor code a reload kept
// from an older version, whose lines are another source's.
func TestCallFailureNamesTheCallee(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "e.lua", `local M = { handlers = {} }
local E = {} E.__index = E
local helper
function M.method() local e = setmetatable({}, E) return e:descrbe() end
function M.global() return spwan() end
function M.field() return M.nope() end
function M.upvalue() return helper() end
function M.param(f) return f() end
function M.two() return M.nope(), M.nada() end
function M.iter() local t = { {} } for _, e in t do e:update() end end
function M.add() M.handlers[1] = function() return M.missing() end end
function M.old() return M.handlers[1]() end
return M`)
	for fn, want := range map[string]string{
		"method":  "e.lua:4: attempt to call a non-function object (method 'descrbe')",
		"global":  "e.lua:5: attempt to call a non-function object (global 'spwan')",
		"field":   "e.lua:6: attempt to call a non-function object (field 'nope')",
		"upvalue": "e.lua:7: attempt to call a non-function object (upvalue 'helper')",
		"param":   "e.lua:8: attempt to call a non-function object (local 'f')",
		"two":     "e.lua:9: attempt to call a non-function object",
		"iter":    "e.lua:10: attempt to call a non-function object",
	} {
		_, err := rt.CallJSON(context.Background(), id, fn)
		if e := asError(t, err); e.Message != want || e.Line == 0 {
			t.Errorf("%s: %q (line %d), want %q", fn, e.Message, e.Line, want)
		}
	}
	// The handler keeps its old code (a closure made as the script ran has
	// no counterpart): line 11 of the new source calls something else.
	call(t, rt, id, "add")
	reload(t, rt, id, `local M = { handlers = {} }
function M.old() return M.handlers[1]() end
for i = 1, 8 do M["f" .. i] = function() end end
M.other = {}
function M.x() end
function M.y() end
function M.z() end
function M.w() end
function M.v() end
function M.u() end
function M.t() return M.other:describe() end
return M`)
	_, err := rt.CallJSON(context.Background(), id, "old")
	if e := asError(t, err); e.Message != "e.lua:11: attempt to call a non-function object" {
		t.Errorf("old code failing: %q, want no name", e.Message)
	}
}

func TestFieldAndNames(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "m.lua", `
local Base = { inherited = 7, hello = function() return "hi" end }
local M = setmetatable({ b = { 1, 2 }, a = "x", [5] = true }, { __index = Base })
function M.z() end
function M.y() end
return M`)
	tests := []struct{ name, want string }{
		{"a", `"x"`}, {"b", `[1,2]`}, {"inherited", `7`}, {"absent", `null`},
	}
	for _, tt := range tests {
		if got := field(t, rt, id, tt.name); got != tt.want {
			t.Errorf("Field %s = %s, want %s", tt.name, got, tt.want)
		}
	}
	if _, err := rt.Field(context.Background(), id, "z"); !errors.Is(err, lua.ErrJSON) {
		t.Errorf("Field of a function: %v, want ErrJSON", err)
	}
	if got := call(t, rt, id, "hello"); got != `"hi"` {
		t.Errorf("inherited function through __index: %s", got)
	}
	fields, err := rt.Fields(context.Background(), id)
	if err != nil || fmt.Sprint(fields) != "[a b]" {
		t.Errorf("Fields = %v, %v", fields, err)
	}
	funcs, err := rt.Functions(context.Background(), id)
	if err != nil || fmt.Sprint(funcs) != "[y z]" {
		t.Errorf("Functions = %v, %v", funcs, err)
	}
	if _, err := rt.Fields(context.Background(), 42); !errors.Is(err, lua.ErrNotFound) {
		t.Errorf("Fields of unknown id: %v", err)
	}
}

func TestScriptsAreIndependent(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	src := `
local M = { hp = 10, shared = {} }
counter = 0 -- a global: each script has its own
function M.hit(n) M.hp = M.hp - n; counter = counter + 1; M.shared.last = n; return counter end
function M.break_things() string.rep = nil; _G.print = nil; setmetatable(_G, {__index = function() error("x") end}) end
return M`
	a := load(t, rt, "a.lua", src)
	b := load(t, rt, "b.lua", src)
	call(t, rt, a, "hit", 3)
	call(t, rt, a, "hit", 3)
	call(t, rt, a, "break_things")
	if got := call(t, rt, b, "hit", 1); got != "1" {
		t.Errorf("b's global counter = %s: it saw a's", got)
	}
	if got := field(t, rt, b, "hp"); got != "9" {
		t.Errorf("b.hp = %s", got)
	}
	if got := field(t, rt, a, "hp"); got != "4" {
		t.Errorf("a.hp = %s", got)
	}
	id := load(t, rt, "c.lua", `return { f = function() return string.rep("ab", 2) end }`)
	if got := call(t, rt, id, "f"); got != `"abab"` {
		t.Errorf("a's changes to its string library reached c: %s", got)
	}
}

func TestFunc(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "f.lua", `
local M = {}
function M.add(a, b) return a + b end
function M.none() end
function M.str() return "x" end
function M.boom() error("boom") end
return M`)
	add, err := rt.Func(id, "add")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range [][3]float64{{2, 3, 5}, {0.5, 0.25, 0.75}, {-1e300, 1e300, 0}, {math.MaxInt32, 1, math.MaxInt32 + 1}} {
		if got, err := add.Call(ctx, tc[0], tc[1]); err != nil || got != tc[2] {
			t.Errorf("add(%v, %v) = %v, %v", tc[0], tc[1], got, err)
		}
	}
	reload(t, rt, id, `return { add = function(a, b) return a * b end }`)
	if got, err := add.Call(ctx, 2, 3); err != nil || got != 6 {
		t.Errorf("after reload add(2, 3) = %v, %v; want the new code's 6", got, err)
	}
	reload(t, rt, id, `
local M = {}
function M.none() end
function M.str() return "x" end
function M.boom() error("boom") end
return M`)
	if _, err := add.Call(ctx, 1, 2); !errors.Is(err, lua.ErrNoFunction) {
		t.Errorf("add after it was removed: %v, want ErrNoFunction", err)
	}
	tests := []struct {
		name string
		kind error
	}{{"none", nil}, {"str", lua.ErrJSON}, {"boom", lua.ErrRuntime}}
	for _, tt := range tests {
		f, err := rt.Func(id, tt.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Call(ctx); !errors.Is(err, tt.kind) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.kind)
		}
	}
	if _, err := rt.Func(77, "add"); !errors.Is(err, lua.ErrNotFound) {
		t.Errorf("Func of unknown script: %v", err)
	}
}

// TestFuncBoxedArgumentsStayIntact checks that numbers passed through Func.Call
// keep their values when the script stores them, across many blocks of boxes.
func TestFuncBoxedArgumentsStayIntact(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "keep.lua", `
local M = { kept = {} }
function M.keep(x) M.kept[#M.kept + 1] = x; return #M.kept end
function M.sum() local s = 0 for _, v in ipairs(M.kept) do s = s + v end return s end
return M`)
	keep, _ := rt.Func(id, "keep")
	want := 0.0
	for i := range 1000 {
		x := float64(i) + 0.5
		want += x
		if _, err := keep.Call(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if got := call(t, rt, id, "sum"); got != fmt.Sprint(want) {
		t.Fatalf("sum of kept arguments %s, want %v", got, want)
	}
}

func TestInspect(t *testing.T) {
	tests := []struct {
		name, src string
		fields    string
		kind      error
	}{
		{"module", `local M = { b = 1, a = {} } function M.f() end return M`, "[a b] [f]", nil},
		{"syntax error", `return {`, "", lua.ErrCompile},
		{"not a table", `return 1`, "", lua.ErrNotTable},
		{"runaway chunk", `while true do end`, "", lua.ErrLimit},
		{"host call at load", `host.log("x") return {}`, "", lua.ErrRuntime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := lua.Inspect(context.Background(), "i.lua", []byte(tt.src))
			if !errors.Is(err, tt.kind) || (tt.kind == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.kind)
			}
			if err != nil {
				if e := asError(t, err); e.Op != "inspect" || e.Script != "i.lua" {
					t.Errorf("error %+v", e)
				}
				return
			}
			if got := fmt.Sprint(info.Fields, info.Functions); got != tt.fields || info.Name != "i.lua" {
				t.Errorf("info %+v", info)
			}
		})
	}
}

// Runtime.Inspect runs the chunk with the runtime's host functions and reports
// the fields' values; nothing is loaded.
func TestRuntimeInspect(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, lua.Config{})
	var logged []string
	if err := rt.Define("host", "log", func(_ context.Context, c *lua.Call) ([]any, error) {
		logged = append(logged, fmt.Sprint(c.Script, ": ", c.Args[0]))
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	info, err := rt.Inspect(ctx, "i.lua", []byte(`host.log("loading")
local M = { hp = 100, pos = { 1, 2 }, self = nil, f = function() end, bad = { function() end } }
return M`))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(info.Fields, info.Functions); got != "[bad hp pos] [f]" {
		t.Errorf("fields and functions %s", got)
	}
	if got := fmt.Sprint(string(info.Values["hp"]), " ", string(info.Values["pos"])); got != "100 [1,2]" {
		t.Errorf("values %s", got)
	}
	if _, ok := info.Values["bad"]; ok {
		t.Error("a field with no JSON form has a value")
	}
	if fmt.Sprint(logged) != "[i.lua: loading]" {
		t.Errorf("host.log calls %v, want the chunk's one", logged)
	}
	if _, err := rt.CallJSON(ctx, 1, "f"); !errors.Is(err, lua.ErrNotFound) {
		t.Errorf("after Inspect, script 1: %v, want ErrNotFound (nothing loaded)", err)
	}
	noop := func(context.Context, *lua.Call) ([]any, error) { return nil, nil }
	if err := rt.Define("host", "later", noop); err != nil {
		t.Errorf("Define after Inspect: %v, want it to work (nothing was loaded)", err)
	}

	// Values stay within 64 MiB in all, and the work with them: a module with 20
	// fields of one 24 MiB string, and one whose JSON doubles at each of 40
	// levels, reports what fits before the bound is spent.
	info, err = rt.Inspect(ctx, "big.lua", []byte(`local s = string.rep("x", 24 * 1024 * 1024)
local t = {} for i = 1, 40 do t = { t, t } end
local M = { zdag = t } for i = 1, 20 do M["s" .. i] = s end
return M`))
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, v := range info.Values {
		total += len(v)
	}
	if len(info.Fields) != 21 || total > 64<<20 || total < 24<<20 {
		t.Errorf("%d fields, %d bytes of values; want 21, and values within 64 MiB holding a string", len(info.Fields), total)
	}
	if _, ok := info.Values["zdag"]; ok {
		t.Error("the 2^40-leaf value has a value")
	}
}

// Converting Inspect's values is work under one budget for them all, as a call's
// conversion is (10 million units: see Limits for how a conversion counts): a
// field that walks a large value and then fails, on a function after it, gives
// back its bytes but not its work, so fields that each walk 2 million units
// spend the budget by the fifth, and the fields after it, even small ones, are
// absent. Without the budget, fifty of them walked for half a minute.
func TestInspectConversionBounded(t *testing.T) {
	const src = `local t = {} for i = 1, 19 do t = {t, t} end -- 2^19 leaves, 2 million units
local M = { zsmall = 1 }
for i = 1, 10 do M[string.format("f%02d", i)] = {t, print} end
return M`
	ctx := context.Background()
	rt := newRuntime(t, lua.Config{})
	for name, inspect := range map[string]func() (lua.ScriptInfo, error){
		"Inspect":         func() (lua.ScriptInfo, error) { return lua.Inspect(ctx, "i.lua", []byte(src)) },
		"Runtime.Inspect": func() (lua.ScriptInfo, error) { return rt.Inspect(ctx, "i.lua", []byte(src)) },
	} {
		t.Run(name, func(t *testing.T) {
			info, err := inspect()
			if err != nil {
				t.Fatal(err)
			}
			if len(info.Fields) != 11 || len(info.Values) != 0 {
				t.Errorf("%d fields with values %v; want 11, none with a value (ten have none, the budget is spent before zsmall)", len(info.Fields), info.Values)
			}
		})
	}
	// A field that fails late spends only what it walked: the fields after it
	// still convert.
	info, err := lua.Inspect(ctx, "i.lua", []byte(`local t = {} for i = 1, 12 do t = {t, t} end return { a = {t, print}, b = 1 }`))
	if err != nil || string(info.Values["b"]) != "1" {
		t.Errorf("a small field after one large failing one: %s, %v; want 1", info.Values["b"], err)
	}
}

// TestCallJSONResultsStayIntact keeps many small results, which share blocks of
// memory, and writes into and appends to each: no other result may change.
func TestCallJSONResultsStayIntact(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "echo.lua", echoScript)
	args := []any{7, -12.5, true, false, 123456789, 0.1}
	var kept []json.RawMessage
	for i := range 1000 {
		a := args[i%len(args)]
		out, err := rt.CallJSON(ctx, id, "echo", a)
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, out)
	}
	want := make([]string, len(kept))
	for i, out := range kept {
		j, _ := json.Marshal(args[i%len(args)])
		if want[i] = string(j); string(out) != want[i] {
			t.Fatalf("result %d is %s, want %s", i, out, want[i])
		}
	}
	for i := range kept {
		_ = append(kept[i], `,"clobbered"`...)
		if i%2 == 0 {
			kept[i][0] = 'X'
		}
	}
	for i, out := range kept {
		w := want[i]
		if i%2 == 0 {
			w = "X" + w[1:]
		}
		if string(out) != w {
			t.Fatalf("result %d is %s after writes to the others, want %s", i, out, w)
		}
	}
}

// A table raised as an error value reads as its JSON, where its address said
// nothing; one of more than data, or too large, as Lua prints it, saying so.
func TestErrorValueTable(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "e.lua", `local M = {}
function M.data() error({ code = 5, why = "no ammo", at = { 1, 2 } }) end
function M.object() error(setmetatable({ msg = "x" }, { __tostring = function() return "never" end })) end
function M.code() error({ f = print }) end
function M.cycle() local t = {}; t.t = t; error(t) end
function M.huge() local t = {}; for i = 1, 5000 do t["k" .. i] = i end; error(t) end
function M.str() error("plain", 0) end
return M`)
	for fn, want := range map[string]string{
		"data":   `{"at":[1,2],"code":5,"why":"no ammo"}`,
		"object": `{"msg":"x"}`,
		"code":   "table: 0x",
		"cycle":  "table: 0x",
		"huge":   "table: 0x",
		"str":    "plain",
	} {
		_, err := rt.CallJSON(ctx, id, fn)
		e := asError(t, err)
		if !strings.HasPrefix(e.Message, want) || !errors.Is(err, lua.ErrRuntime) || e.Line == 0 {
			t.Errorf("%s: %v (line %d), want a runtime error at a line, saying %s", fn, err, e.Line, want)
		}
		if strings.HasPrefix(want, "table:") && !strings.Contains(e.Message, "not of data, or too large") {
			t.Errorf("%s: %q does not say why it is not shown", fn, e.Message)
		}
	}
}

// An error value without a position (a table, a number, a message raised at
// level 0) has the line it was raised at all the same, from the traceback
// (helper-173: Line was 0), whether in a call or in the chunk.
func TestErrorLineWithoutPosition(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "e.lua", `local M = {}
function M.tbl() error({ code = 5 }) end
function M.num()
  error(42)
end
local function deep() error("plain", 0) end
function M.lvl0() deep() end
return M`)
	for fn, want := range map[string]int{"tbl": 2, "num": 4, "lvl0": 6} {
		_, err := rt.CallJSON(ctx, id, fn)
		if e := asError(t, err); e.Line != want {
			t.Errorf("%s: %v at line %d, want %d", fn, err, e.Line, want)
		}
	}
	_, err := rt.LoadScript(ctx, "chunk.lua", []byte("local M = {}\n\nerror({})\nreturn M"))
	if e := asError(t, err); e.Line != 3 {
		t.Errorf("the chunk: %v at line %d, want 3", err, e.Line)
	}
}
