package hotscript

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/hotscript/hotscript/lua"
	"github.com/hotscript/hotscript/wasm"
)

// Type is the type of a HostFunc's parameter or result, as both engines see it.
type Type byte

const (
	// I32 is a WebAssembly i32. From Lua it takes an integer in [-2^31, 2^32),
	// the upper half arriving as its two's complement, as CallJSON passes it.
	I32 Type = iota + 1
	// I64 is a WebAssembly i64. From Lua it takes an integer within ±2^53, which
	// is what a Lua number holds exactly; a result past that reaches Lua rounded.
	I64
	// F32 is a WebAssembly f32. A Lua number is rounded to it; a finite one past
	// its range is an error. A result reaches Lua as package lua converts a Go
	// float32: the shortest number that rounds to it (0.1 for float32(0.1), not
	// 0.10000000149011612), which is what a WASM script's f32 result becomes in JSON.
	F32
	// F64 is a WebAssembly f64, and a Lua number as it is.
	F64
	// String, for parameters only, is a WebAssembly (ptr, len i32) pair naming
	// bytes in the script's memory, copied out before Func runs (a range outside
	// the memory traps the call), and a Lua string.
	String
)

// String returns the type's name: "i32", "i64", "f32", "f64" or "string".
func (t Type) String() string {
	switch {
	case t == String:
		return "string"
	case t >= I32 && t <= F64:
		return wasmType(t).String()
	}
	return fmt.Sprintf("Type(%d)", byte(t))
}

// maxHostParams is how many parameters, and results, a HostFunc may have: a
// HostCall carries its parameters by value, so that a call allocates nothing.
const maxHostParams = 8

// HostFunc is a host function defined once for scripts of both kinds: Config.Funcs
// defines it on the Host's WASM runtime, where scripts import it as Module.Name
// with the WebAssembly signature Params and Results give, and on its Lua runtime,
// where scripts call Module.Name(...). Func reads its arguments from the HostCall,
// which has checked them against Params first (a Lua script passing a string for
// an I64 gets "enemy.lua:4: game.hit: argument #1: number expected, got string";
// arguments past Params are ignored, unconverted, as Lua functions ignore them,
// unless Func asks for them through HostCall.Lua), and sets its results there;
// a result it does not set is 0.
//
// An error Func returns, or a panic, fails the script's call as a host function
// of its engine does (a trap in WASM, a Lua error the script can catch with
// pcall), and the engines' rules for host functions hold: see wasm.HostFunc and
// lua.HostFunc for what Func may do with ctx, Staging for when it runs while
// a new version is being staged, and OnRollback for putting back what it
// changes during a reload's commit if the reload then fails. Func may run
// concurrently for different scripts.
//
// A WASM call of a HostFunc allocates nothing unless it has String parameters; a
// Lua call allocates its results. For anything Params cannot say (a table, a
// buffer written into a script's memory), define the function on the engine's
// runtime instead, or reach the engine's call through HostCall.WASM and
// HostCall.Lua.
type HostFunc struct {
	// Module and Name are the function's name in scripts: Module.Name. Module
	// must suit both engines: a Lua identifier that is not a standard global.
	Module, Name string
	// Params and Results are the function's types, at most 8 of each; String
	// is for parameters only.
	Params, Results []Type
	// Func is called with the call's context and arguments.
	Func func(ctx context.Context, c HostCall) error
}

// HostCall is one call of a HostFunc: its arguments, its results and the script
// making it. It is valid only during the call; its methods panic on an index
// that is not a parameter (or result) of the right type, a mistake in the
// HostFunc that fails the script's call with the panic's message. A HostCall
// belongs to the goroutine running the HostFunc: its methods are not safe for
// concurrent use, nor after the HostFunc returns.
type HostCall struct {
	f    *HostFunc
	in   [maxHostParams]uint64 // numeric arguments, as WebAssembly encodes them
	strs []string              // String arguments, by parameter index
	out  []uint64              // results, as WebAssembly encodes them
	wasm *wasm.Caller
	lua  *lua.Call
}

// Script returns the name of the calling script.
func (c HostCall) Script() string {
	if c.wasm != nil {
		return c.wasm.Script()
	}
	return c.lua.Script
}

// Int returns argument i (from 0), an I32 or I64 parameter.
func (c HostCall) Int(i int) int64 {
	if t := c.param(i, "Int"); t == I32 || t == I64 {
		return t.int(c.in[i])
	}
	panic(c.misuse("Int", "argument", i, c.f.Params[i]))
}

// Float returns argument i, an F32 or F64 parameter.
func (c HostCall) Float(i int) float64 {
	if t := c.param(i, "Float"); t == F32 || t == F64 {
		return t.float(c.in[i])
	}
	panic(c.misuse("Float", "argument", i, c.f.Params[i]))
}

// int decodes bits, an I32 or I64 as WebAssembly encodes it.
func (t Type) int(bits uint64) int64 {
	if t == I32 {
		return int64(int32(bits))
	}
	return int64(bits)
}

// float decodes bits, an F32 or F64 as WebAssembly encodes it.
func (t Type) float(bits uint64) float64 {
	if t == F32 {
		return float64(math.Float32frombits(uint32(bits)))
	}
	return math.Float64frombits(bits)
}

// Str returns argument i, a String parameter.
func (c HostCall) Str(i int) string {
	if c.param(i, "Str") != String {
		panic(c.misuse("Str", "argument", i, c.f.Params[i]))
	}
	return c.strs[i]
}

// SetInt sets result i, an I32 or I64 result. An I32 takes v in [-2^31, 2^32),
// the upper half as its two's complement; a v out of range panics.
func (c HostCall) SetInt(i int, v int64) {
	switch c.result(i, "SetInt") {
	case I32:
		if v < math.MinInt32 || v > math.MaxUint32 {
			panic(fmt.Sprintf("hotscript: %s.%s: SetInt(%d, %d): out of range for i32", c.f.Module, c.f.Name, i, v))
		}
		c.out[i] = uint64(uint32(v))
	case I64:
		c.out[i] = uint64(v)
	default:
		panic(c.misuse("SetInt", "result", i, c.f.Results[i]))
	}
}

// SetFloat sets result i, an F32 or F64 result (an F32 rounds v to float32, and
// a finite v past its range to ±Inf, as a conversion in C would).
func (c HostCall) SetFloat(i int, v float64) {
	switch c.result(i, "SetFloat") {
	case F32:
		c.out[i] = uint64(math.Float32bits(float32(v)))
	case F64:
		c.out[i] = math.Float64bits(v)
	default:
		panic(c.misuse("SetFloat", "result", i, c.f.Results[i]))
	}
}

// WASM returns the engine's view of a WASM script's call (its memory, for one),
// or nil when a Lua script is calling.
func (c HostCall) WASM() *wasm.Caller { return c.wasm }

// Lua returns the engine's view of a Lua script's call, or nil when a WASM script
// is calling. Its Args holds every argument the script passed, converted by
// the lua package's rules, those past Params included: they are converted here
// (see lua.Call.Rest; until Lua is called they are not, so that a call may pass
// anything there). An argument that cannot be converted fails the call, as a
// misuse of HostCall does, with the error naming it.
func (c HostCall) Lua() *lua.Call {
	if c.lua != nil {
		if _, err := c.lua.Rest(); err != nil {
			panic(err)
		}
	}
	return c.lua
}

func (c HostCall) param(i int, method string) Type {
	if i < 0 || i >= len(c.f.Params) {
		panic(fmt.Sprintf("hotscript: %s.%s: %s(%d): it has %d parameters", c.f.Module, c.f.Name, method, i, len(c.f.Params)))
	}
	return c.f.Params[i]
}

func (c HostCall) result(i int, method string) Type {
	if i < 0 || i >= len(c.f.Results) {
		panic(fmt.Sprintf("hotscript: %s.%s: %s(%d): it has %d results", c.f.Module, c.f.Name, method, i, len(c.f.Results)))
	}
	return c.f.Results[i]
}

func (c HostCall) misuse(method, what string, i int, t Type) string {
	return fmt.Sprintf("hotscript: %s.%s: %s(%d): %s #%d is %v", c.f.Module, c.f.Name, method, i, what, i+1, t)
}

// check refuses a HostFunc the engines could not define as one function.
func (f *HostFunc) check() error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: host function %s.%s: "+format, append([]any{ErrInvalid, f.Module, f.Name}, args...)...)
	}
	switch {
	case f.Func == nil:
		return fail("nil Func")
	case len(f.Params) > maxHostParams || len(f.Results) > maxHostParams:
		return fail("%d parameters and %d results; at most %d of each", len(f.Params), len(f.Results), maxHostParams)
	}
	for i, t := range f.Params {
		if t < I32 || t > String {
			return fail("parameter #%d: %v is not a Type", i+1, t)
		}
	}
	for i, t := range f.Results {
		if t < I32 || t > F64 {
			return fail("result #%d: %v is not a numeric Type", i+1, t)
		}
	}
	return nil
}

// define defines f on both runtimes, as it is now: the program may change or
// reuse its HostFunc afterwards.
func (f HostFunc) define(w *wasm.Runtime, l *lua.Runtime) error {
	f.Params, f.Results = slices.Clone(f.Params), slices.Clone(f.Results)
	if err := l.DefineArgs(f.Module, f.Name, len(f.Params), f.luaFunc()); err != nil {
		return err
	}
	return w.Define(f.Module, f.Name, f.wasmFunc())
}

// wasmFunc adapts f to the wasm runtime: parameters are copied off the stack
// before Func runs, as the results are written over it.
func (f *HostFunc) wasmFunc() wasm.HostFunc {
	var params, results []wasm.ValueType
	hasString := false
	for _, t := range f.Params {
		if t == String {
			params, hasString = append(params, wasm.I32, wasm.I32), true
		} else {
			params = append(params, wasmType(t))
		}
	}
	for _, t := range f.Results {
		results = append(results, wasmType(t))
	}
	return wasm.HostFunc{Params: params, Results: results,
		Func: func(ctx context.Context, caller *wasm.Caller, stack []uint64) error {
			c := HostCall{f: f, wasm: caller}
			if hasString {
				c.strs = make([]string, len(f.Params))
			}
			j := 0
			for i, t := range f.Params {
				if t != String {
					c.in[i] = stack[j]
					j++
					continue
				}
				s, err := caller.ReadString(uint32(stack[j]), uint32(stack[j+1]))
				if err != nil {
					return fmt.Errorf("argument #%d: %w", i+1, err)
				}
				c.strs[i] = s
				j += 2
			}
			c.out = stack[:len(f.Results)]
			clear(c.out)
			return f.Func(ctx, c)
		}}
}

func wasmType(t Type) wasm.ValueType {
	switch t {
	case I32:
		return wasm.I32
	case I64:
		return wasm.I64
	case F32:
		return wasm.F32
	}
	return wasm.F64
}

// luaFunc adapts f to the lua runtime.
func (f *HostFunc) luaFunc() lua.HostFunc {
	return func(ctx context.Context, call *lua.Call) ([]any, error) {
		c := HostCall{f: f, lua: call}
		for i, t := range f.Params {
			var err error
			if t == String {
				if c.strs == nil {
					c.strs = make([]string, len(f.Params))
				}
				c.strs[i], err = call.Str(i)
			} else {
				c.in[i], err = luaNumber(call, i, t)
			}
			if err != nil {
				return nil, err
			}
		}
		if len(f.Results) > 0 {
			c.out = make([]uint64, len(f.Results))
		}
		if err := f.Func(ctx, c); err != nil {
			return nil, err
		}
		if len(c.out) == 0 {
			return nil, nil
		}
		results := make([]any, len(c.out))
		for i, bits := range c.out {
			switch t := f.Results[i]; t {
			case I32, I64:
				results[i] = float64(t.int(bits))
			case F32: // the number encoding/json writes for it, as package lua converts a float32
				results[i] = float32(t.float(bits))
			default:
				results[i] = t.float(bits)
			}
		}
		return results, nil
	}
}

// luaNumber reads argument i of a Lua call as numeric type t, encoded as
// WebAssembly encodes it.
func luaNumber(call *lua.Call, i int, t Type) (uint64, error) {
	if t == I32 || t == I64 {
		n, err := call.Int(i)
		switch {
		case err != nil:
			return 0, err
		case t == I64:
			return uint64(n), nil
		case n < math.MinInt32 || n > math.MaxUint32:
			return 0, fmt.Errorf("argument #%d: %d is out of range for i32", i+1, n)
		}
		return uint64(uint32(n)), nil
	}
	x, err := call.Number(i)
	if err != nil || t == F64 {
		return math.Float64bits(x), err
	}
	f := float32(x)
	if math.IsInf(float64(f), 0) && !math.IsInf(x, 0) {
		return 0, fmt.Errorf("argument #%d: %v is out of range for f32", i+1, x)
	}
	return uint64(math.Float32bits(f)), nil
}
