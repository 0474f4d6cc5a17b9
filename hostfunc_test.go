package hotscript

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/hotscript/hotscript/internal/hostguest"
	"github.com/hotscript/hotscript/lua"
	"github.com/hotscript/hotscript/wasm"
)

// gameFuncs are game.move and game.tag, defined once for both engines; tags
// records which script called tag with which string.
func gameFuncs(tags *sync.Map) []HostFunc {
	return []HostFunc{
		{Module: "game", Name: "move", Params: []Type{I64, F64, F32}, Results: []Type{F64, I32},
			Func: func(_ context.Context, c HostCall) error {
				// Results set before the arguments are read: they do not overlap.
				c.SetInt(1, math.MaxUint32) // arrives as -1 in both engines
				c.SetFloat(0, float64(c.Int(0))+c.Float(1)+c.Float(2))
				return nil
			}},
		{Module: "game", Name: "tag", Params: []Type{String, I32}, Results: []Type{I64},
			Func: func(_ context.Context, c HostCall) error {
				s, n := c.Str(0), c.Int(1)
				if s == "fail" {
					return errors.New("no such tag")
				}
				tags.Store(c.Script(), s)
				c.SetInt(0, int64(len(s))*1000+n)
				return nil
			}},
		{Module: "game", Name: "misuse", Params: []Type{I64}, Results: []Type{F64},
			Func: func(_ context.Context, c HostCall) error {
				c.SetFloat(0, c.Float(0)) // an I64 read as a float
				return nil
			}},
		{Module: "game", Name: "unset", Params: []Type{I64}, Results: []Type{F64, I64},
			Func: func(context.Context, HostCall) error { return nil }},
	}
}

const gameLua = `
local M = {}
function M.move(e, dx, dy) return {game.move(e, dx, dy)} end
function M.tag(s, n) return game.tag(s, n) end
function M.misuse(e) return game.misuse(e) end
function M.unset(e) return {game.unset(e)} end
function M.extra(s) return game.tag(s, 1, function() end, M) end
return M`

// TestHostFuncBothEngines: one definition serves a WASM and a Lua script alike,
// with the same results, and each engine checks arguments its own way.
func TestHostFuncBothEngines(t *testing.T) {
	var tags sync.Map
	funcs := gameFuncs(&tags)
	h := newTestHost(t, Config{Funcs: funcs})
	clear(funcs[0].Params) // the Host keeps its own copy
	funcs[0].Func = nil
	w := mustLoad(t, h, "g.wasm", hostguest.Bytes("hostfunc"), nil)
	l := mustLoad(t, h, "g.lua", gameLua, nil)

	if got, want := call(t, h, w, "move", 7, 0.5, 0.25), "[7.75,-1]"; got != want {
		t.Errorf("wasm move = %s, want %s", got, want)
	}
	if got, want := call(t, h, l, "move", 7, 0.5, 0.25), "[7.75,-1]"; got != want {
		t.Errorf("lua move = %s, want %s", got, want)
	}
	if got, want := call(t, h, w, "tag", 3), "6003"; got != want {
		t.Errorf("wasm tag = %s, want %s", got, want)
	}
	if got, want := call(t, h, l, "tag", "goblin", -2), "5998"; got != want {
		t.Errorf("lua tag = %s, want %s", got, want)
	}
	for script, want := range map[string]string{"g.wasm": "goblin", "g.lua": "goblin"} {
		if got, _ := tags.Load(script); got != want {
			t.Errorf("tag called by %s with %v, want %q", script, got, want)
		}
	}
	// An F32 argument is rounded to float32 in both engines.
	third := float64(float32(1.0 / 3))
	want := fmt.Sprint(1 + 0.5 + third)
	if got := call(t, h, l, "move", 1, 0.5, 1.0/3); got != "["+want+",-1]" {
		t.Errorf("lua move with 1/3 = %s, want [%s,-1]", got, want)
	}
	// Lua arguments past Params are ignored, not converted: a function or a
	// table of functions there does not fail the call.
	if got := call(t, h, l, "extra", "abc"); got != "3001" {
		t.Errorf("lua tag with extra arguments = %s, want 3001", got)
	}
	for _, s := range []*Script{w, l} {
		if got := call(t, h, s, "unset", 5); got != "[0,0]" {
			t.Errorf("%s unset = %s, want [0,0]", s.Name(), got)
		}
	}

	ctx := context.Background()
	for _, tt := range []struct {
		name string
		s    *Script
		fn   string
		args []any
		want string
	}{
		{"wasm string outside memory", w, "tag_outside", nil, "argument #1: wasm: memory access out of bounds: script g.wasm: bytes [65530, 65630)"},
		{"lua string for an integer", l, "move", []any{"x", 1, 1}, "g.lua:3: game.move: argument #1: number expected, got string"},
		{"lua fraction for an integer", l, "move", []any{1.5, 1, 1}, "game.move: argument #1: integer expected, got 1.5"},
		{"lua missing argument", l, "move", []any{1, 1}, "game.move: argument #3: number expected, got nil"},
		{"lua f32 overflow", l, "move", []any{1, 1, 1e39}, "game.move: argument #3: 1e+39 is out of range for f32"},
		{"lua number for a string", l, "tag", []any{5, 1}, "game.tag: argument #1: string expected, got number"},
		{"lua i32 overflow", l, "tag", []any{"a", float64(1 << 32)}, "game.tag: argument #2: 4294967296 is out of range for i32"},
		{"wasm error", w, "tag_fail", nil, "game.tag: no such tag"},
		{"wasm misuse", w, "misuse", []any{1}, "game.misuse: Float(0): argument #1 is i64"},
		{"lua error", l, "tag", []any{"fail", 1}, "game.tag: no such tag"},
		{"lua misuse", l, "misuse", []any{1}, "game.misuse: Float(0): argument #1 is i64"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.Call(ctx, tt.s, tt.fn, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%s(%v): %v, want an error with %q", tt.fn, tt.args, err, tt.want)
			}
		})
	}
	// A failed call leaves both scripts working.
	if got := call(t, h, w, "tag", 1); got != "6001" {
		t.Errorf("wasm tag after errors = %s, want 6001", got)
	}
	if got := call(t, h, l, "tag", "ab", 1); got != "2001" {
		t.Errorf("lua tag after errors = %s, want 2001", got)
	}
}

// TestHostFuncRefused: New refuses a HostFunc the engines could not define as
// TestHostFuncF32Result: an F32 result reaches a Lua script as the shortest
// number that rounds to it, as a WASM script's f32 result is written in JSON
// and as package lua converts a float32: it arrived as 0.10000000149011612.
func TestHostFuncF32Result(t *testing.T) {
	h := newTestHost(t, Config{Funcs: []HostFunc{{Module: "game", Name: "scale", Params: []Type{F64}, Results: []Type{F32, F64},
		Func: func(_ context.Context, c HostCall) error {
			c.SetFloat(0, c.Float(0))
			c.SetFloat(1, c.Float(0))
			return nil
		}}}})
	l := mustLoad(t, h, "s.lua", `return {scale = function(x) local a, b = game.scale(x) return {a, b, a * 10 == 1} end}`, nil)
	if got, want := call(t, h, l, "scale", 0.1), "[0.1,0.1,true]"; got != want {
		t.Errorf("scale(0.1) = %s, want %s", got, want)
	}
	if got, want := call(t, h, l, "scale", 1e-40), "[1e-40,1e-40,false]"; got != want { // a subnormal float32
		t.Errorf("scale(1e-40) = %s, want %s", got, want)
	}
}

// one, and closes the runtimes it made.
func TestHostFuncRefused(t *testing.T) {
	ctx := context.Background()
	ok := func(context.Context, HostCall) error { return nil }
	loaded, err := lua.NewRuntime(ctx, lua.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer loaded.Close(ctx)
	if _, err := loaded.LoadScript(ctx, "a.lua", []byte("return {}")); err != nil {
		t.Fatal(err)
	}
	defined, err := lua.NewRuntime(ctx, lua.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer defined.Close(ctx)
	if err := defined.Define("g", "f", func(context.Context, *lua.Call) ([]any, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		cfg  Config
		is   error
		want string
	}{
		{"nil Func", Config{Funcs: []HostFunc{{Module: "g", Name: "f"}}}, ErrInvalid, "host function g.f: nil Func"},
		{"too many params", Config{Funcs: []HostFunc{{Module: "g", Name: "f", Params: make([]Type, 9), Func: ok}}}, ErrInvalid, "9 parameters and 0 results"},
		{"zero Type", Config{Funcs: []HostFunc{{Module: "g", Name: "f", Params: []Type{I32, 0}, Func: ok}}}, ErrInvalid, "parameter #2: Type(0) is not a Type"},
		{"string result", Config{Funcs: []HostFunc{{Module: "g", Name: "f", Results: []Type{String}, Func: ok}}}, ErrInvalid, "result #1: string is not a numeric Type"},
		{"twice", Config{Funcs: []HostFunc{{Module: "g", Name: "f", Func: ok}, {Module: "g", Name: "f", Func: ok}}}, ErrInvalid, "g.f is defined twice"},
		{"lua global", Config{Funcs: []HostFunc{{Module: "string", Name: "f", Func: ok}}}, lua.ErrInvalid, "module name \"string\""},
		{"wasm reserved module", Config{Funcs: []HostFunc{{Module: "hotscript", Name: "f", Func: ok}}}, wasm.ErrDefine, "hotscript.f"},
		{"runtime already loaded", Config{Lua: loaded, Funcs: []HostFunc{{Module: "g", Name: "f", Func: ok}}}, lua.ErrInvalid, "fixed once a script is loaded"},
		{"defined on the runtime", Config{Lua: defined, Funcs: []HostFunc{{Module: "g", Name: "f", Func: ok}}}, lua.ErrInvalid, "g.f: invalid argument: defined twice"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, err := New(ctx, tt.cfg)
			if err == nil {
				h.Close(ctx)
				t.Fatal("New succeeded")
			}
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want %v with %q", err, tt.is, tt.want)
			}
		})
	}
}

// TestHostFuncRuntimesGiven: Funcs are defined on runtimes given in Config,
// beside the functions the program defined there itself.
func TestHostFuncRuntimesGiven(t *testing.T) {
	ctx := context.Background()
	wrt, err := wasm.NewRuntime(ctx, wasm.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer wrt.Close(ctx)
	var tags sync.Map
	funcs := gameFuncs(&tags)
	// game.move defined on the runtime itself, game.tag through Funcs.
	if err := wrt.Define("game", "move", wasm.HostFunc{
		Params: []wasm.ValueType{wasm.I64, wasm.F64, wasm.F32}, Results: []wasm.ValueType{wasm.F64, wasm.I32},
		Func: func(_ context.Context, _ *wasm.Caller, stack []uint64) error {
			stack[0], stack[1] = math.Float64bits(-1), 0
			return nil
		},
	}); err != nil {
		t.Fatal(err)
	}
	h := newTestHost(t, Config{WASM: wrt, Funcs: funcs[1:]})
	s := mustLoad(t, h, "g.wasm", hostguest.Bytes("hostfunc"), nil)
	if got := call(t, h, s, "move", 1, 1, 1); got != "[-1,0]" {
		t.Errorf("move = %s, want the runtime's own [-1,0]", got)
	}
	if got := call(t, h, s, "tag", 2); got != "6002" {
		t.Errorf("tag = %s, want 6002", got)
	}
	// The Lua runtime the Host made has both of Funcs, move not included.
	l := mustLoad(t, h, "g.lua", gameLua, nil)
	if _, err := h.Call(ctx, l, "move", 1, 1, 1); err == nil || !strings.Contains(err.Error(), "g.lua:3: attempt to call") {
		t.Errorf("lua move without a definition: %v", err)
	}
}

// TestHostFuncLuaRest: HostCall.Lua gives a HostFunc every argument a Lua script
// passed, those past Params converted on the way (the way to take a table),
// and an argument there that cannot be converted fails the call, naming it,
// only if the HostFunc asks for them.
func TestHostFuncLuaRest(t *testing.T) {
	ctx := context.Background()
	var got []any
	h := newTestHost(t, Config{Funcs: []HostFunc{
		{Module: "game", Name: "spawn", Params: []Type{String}, Func: func(ctx context.Context, c HostCall) error {
			got = append([]any(nil), c.Lua().Args...)
			return nil
		}},
		{Module: "game", Name: "name", Params: []Type{String}, Func: func(context.Context, HostCall) error { return nil }},
	}})
	s := mustLoad(t, h, "spawner.lua", `return {
	go = function() game.spawn("orc", {hp = 5}, 2) end,
	bad = function() game.spawn("orc", function() end) end,
	ignored = function() game.name("orc", function() end) end }`, nil)
	call(t, h, s, "go")
	if fmt.Sprint(got) != "[orc map[hp:5] 2]" {
		t.Errorf("HostCall.Lua().Args = %v, want [orc map[hp:5] 2]", got)
	}
	if _, err := h.Call(ctx, s, "bad"); err == nil || !strings.Contains(err.Error(), "game.spawn: panic: argument #2: cannot convert function") {
		t.Errorf("an argument past Params that cannot be converted, asked for: %v, want the call failed naming it", err)
	}
	call(t, h, s, "ignored")
}
