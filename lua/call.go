package lua

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
)

// CallJSON calls the module's function fn, M.fn(args...), and returns its results as
// JSON: one result as that value, several as an array, none as null.
//
// Each Go argument becomes one Lua parameter: nil, bools, numbers and strings
// directly, json.RawMessage decoded (a nil one is null), json.Number read (it
// must be a JSON number, as encoding/json requires), []any and map[string]any
// as tables, anything else (structs, typed maps and slices) through
// encoding/json. A map's keys (a
// struct's fields, a JSON object's) are set in sorted order, the order pairs then
// walks them in, so the same arguments give the same iteration, results and
// instruction count every call. An integer beyond ±2^53 that a Lua number would
// hold rounded (a Go integer, or a JSON number written without a fraction or an
// exponent; 2^60 and a float64's 1e20 are exact) is an error matching ErrJSON
// naming the argument and the path in it ("argument 1: field ids[2]: integer
// 9007199254740993 is beyond 2^53 ..."), never a rounded number. Results follow the same rules back: a table with keys exactly
// 1..n is an array, any other table an object with sorted keys (the empty table is
// {}), integers print without a fraction; functions, userdata, coroutines, cyclic
// tables, non-integer number keys and keys that are not valid UTF-8 (a string
// value's invalid bytes become U+FFFD, as in encoding/json, but two such keys
// could become one) are errors matching ErrJSON that name the path ("on_update
// result: field enemies[2].ai: cannot convert function"), and so is a result whose JSON passes
// 256 MiB: JSON has no references, so a table or string the result reaches many
// times is written as many times. Tables nest up to 10,000 levels deep, in
// arguments and results, as in encoding/json (and in the WASM runtime's
// documents); deeper is an error matching ErrJSON. The conversion is part of the call: its work
// counts against the call's limits, which stop it, or the end of ctx, with the
// error they give a call (see Limits). Conversion never runs metamethods.
//
// A Lua error, a limit, or a missing function (ErrNoFunction) is returned as an
// *Error; the script stays usable for the next call. CallJSON is safe for concurrent
// use; calls into one script run one at a time.
func (rt *Runtime) CallJSON(ctx context.Context, id ScriptID, fn string, args ...any) (json.RawMessage, error) {
	s, err := rt.script("call", fn, id)
	if err != nil {
		return nil, err
	}
	if !s.mu.TryLock() { // s.lock, inlined; unlocked by hand, as in Func.Call
		if err := s.lockSlow(ctx, "call", fn); err != nil {
			return nil, err
		}
	}
	out, err := s.callJSON(ctx, fn, args)
	s.mu.Unlock()
	return out, err
}

// callJSON is CallJSON with s.mu held by the caller: CallJSON or a Lease.
func (s *script) callJSON(ctx context.Context, fn string, args []any) (json.RawMessage, error) {
	v := s.cur
	if v == nil {
		return nil, s.gone("call", fn)
	}
	return v.callJSON(ctx, s.name, fn, args)
}

// callJSON is CallJSON on version v of script: the live one, or a staged one
// being checked (Staged.CommitCheck).
func (v *version) callJSON(ctx context.Context, script, fn string, args []any) (json.RawMessage, error) {
	if len(args) > maxArgs {
		return nil, tooManyArgs(script, fn, len(args))
	}
	f, ok := v.module.RawGetString(fn).(*glua.LFunction)
	if !ok { // absent (perhaps behind __index) or not a function: the general path
		lv, err := v.function(ctx, script, fn)
		if err != nil {
			return nil, err
		}
		f = lv.(*glua.LFunction)
	}
	L := v.L
	top := L.GetTop()
	L.Push(f)
	for i, a := range args {
		switch n := a.(type) { // numbers, the common case, without an allocation each
		case float64:
			L.Push(v.numbers.box(n))
			continue
		case int:
			if i := int64(n); -1<<53 <= i && i <= 1<<53 { // else refused by toLua
				L.Push(v.numbers.box(float64(n)))
				continue
			}
		}
		lv, err := toLua(L, a)
		if err != nil {
			L.SetTop(top)
			return nil, &Error{Op: "call", Script: script, Function: fn, Kind: ErrJSON,
				Message: fmt.Sprintf("%s argument %d: %v", fn, i+1, err)}
		}
		L.Push(lv)
	}
	if err := v.pcall(ctx, len(args), glua.MultRet); err != nil {
		return nil, v.fail(err, "call", script, fn)
	}
	n := L.GetTop() - top
	if n == 1 { // one number or boolean, the result of a hot call
		if out, ok := v.results.scalar(L.Get(-1)); ok {
			L.Pop(1)
			return out, nil
		}
	}
	out, err := v.results.json(ctx, L, top, n)
	L.Pop(n)
	if err != nil {
		return nil, conversionError("call", script, fn, fn+" result", budgetOf(L), err)
	}
	return out, nil
}

// conversionError is the error of op on function fn of script when converting
// what to JSON failed with err: a limit of b, the budget the conversion was
// charged to (or its context's error), or else a value that cannot be
// converted (ErrJSON).
func conversionError(op, script, fn, what string, b *budget, err error) error {
	if b != nil && b.tripped != nil {
		return &Error{Op: op, Script: script, Function: fn, Kind: b.tripped,
			Message: fmt.Sprintf("%s: %v (converting it to JSON)", what, b.Err())}
	}
	return &Error{Op: op, Script: script, Function: fn, Kind: ErrJSON,
		Message: fmt.Sprintf("%s: %v", what, err)}
}

// maxArgs is the most arguments a call passes, as in Lua 5.1 (LUAI_MAXCSTACK):
// more would overflow gopher-lua's value stack outside the call's protection,
// in a Go panic.
const maxArgs = 8000

func tooManyArgs(script, fn string, n int) error {
	return &Error{Op: "call", Script: script, Function: fn, Kind: ErrInvalid,
		Message: fmt.Sprintf("%s: %d arguments, more than %d", fn, n, maxArgs)}
}

// resultBytes holds the bytes of the small results CallJSON returns, the number or
// boolean of a hot call: each result is a slice of a shared 256-byte block, capped at
// its own length so that appending to it copies and no two results overlap. That is
// one allocation per block instead of one per result, the same trade as numberBoxes:
// a result kept alive keeps its block alive. Like the LState it serves, it is used
// only under the script's mutex.
type resultBytes struct {
	block []byte
}

// json converts the n results above top on L's stack to JSON: null for none, the
// value for one, an array for several; at most maxString bytes of it. The call
// under ctx that returned them pays for the conversion: it goes on under the
// call's budget, if it had one installed.
func (rb *resultBytes) json(ctx context.Context, L *glua.LState, top, n int) (json.RawMessage, error) {
	var w walker
	if b := budgetOf(L); b != nil {
		b.resume(ctx)
		defer b.end()
		w.b = b
	}
	var out []byte
	var err error
	switch n {
	case 0:
		out = []byte("null")
	case 1:
		out, err = w.appendJSON(make([]byte, 0, 16), L.Get(top+1))
	default:
		w.outer = 1 // the array: each result nests one level less deep
		out = append(make([]byte, 0, 16*n), '[')
		for i := 1; i <= n && err == nil; i++ {
			if i > 1 {
				out = append(out, ',')
			}
			out, err = w.appendJSON(out, L.Get(top+i))
			if err != nil {
				err = fmt.Errorf("result %d: %w", i, err)
			}
		}
		out = append(out, ']')
	}
	return out, err
}

// scalar returns the JSON of a number or a boolean, the usual result of a hot call,
// formatted straight into the block. It reports false for other values and for the
// numbers JSON cannot hold.
func (rb *resultBytes) scalar(lv glua.LValue) ([]byte, bool) {
	if len(rb.block) < maxScalar {
		rb.block = make([]byte, 256)
	}
	var out []byte // appended to rb.block[:0], whose capacity holds any scalar
	switch lv := lv.(type) {
	case glua.LNumber:
		var ok bool
		if out, ok = appendNumber(rb.block[:0], float64(lv)); !ok {
			return nil, false
		}
	case glua.LBool:
		out = strconv.AppendBool(rb.block[:0], bool(lv))
	default:
		return nil, false
	}
	n := len(out)
	rb.block = rb.block[n:]
	return out[:n:n], true
}

// maxScalar is the length of the longest scalar, a number with 17 significant
// digits from 1e-6 on: -0.0000012345678901234567 (-1.2345678901234567e-308 is
// one byte shorter).
const maxScalar = 25

// function looks up the module's function name, __index included.
func (v *version) function(ctx context.Context, script, name string) (glua.LValue, error) {
	f, err := v.get(ctx, "call", script, name)
	if err != nil {
		return nil, err
	}
	if f = orNil(f); f.Type() != glua.LTFunction {
		return nil, &Error{Op: "call", Script: script, Function: name, Kind: ErrNoFunction,
			Message: fmt.Sprintf("%s: the module's %s is %s, not a function", script, name, f.Type())}
	}
	return f, nil
}

// Field returns the module's field name, M.name, as JSON (null when it is nil),
// converted like CallJSON results, under the script's limits and ctx as a call
// would be. Field is safe for concurrent use.
func (rt *Runtime) Field(ctx context.Context, id ScriptID, name string) (json.RawMessage, error) {
	s, err := rt.script("field", name, id)
	if err != nil {
		return nil, err
	}
	if err := s.lock(ctx, "field", name); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	v, err := s.live("field", name)
	if err != nil {
		return nil, err
	}
	lv, err := v.get(ctx, "field", s.name, name)
	if err != nil {
		return nil, err
	}
	lv = orNil(lv)
	// The conversion runs under a budget of its own, as a call would.
	var w walker
	if v.budget.begin(ctx) {
		w.b = v.budget
	}
	defer v.budget.end()
	out, err := w.appendJSON(nil, lv)
	if err != nil {
		return nil, conversionError("field", s.name, name, name, w.b, err)
	}
	return out, nil
}

// Fields returns the sorted names of the module's data fields: its string keys whose
// values are not functions. These are what a reload carries, with the module's
// data under keys of other types (M[1], M[true]), which Fields leaves out. It waits for a call in
// progress on the script, as a call does; a host function asking about its own
// script, with the context it received, gets ErrReentrant instead. Fields is safe
// for concurrent use.
func (rt *Runtime) Fields(ctx context.Context, id ScriptID) ([]string, error) {
	return rt.names(ctx, id, "fields", false)
}

// Functions returns the sorted names of the module's functions: its own, not
// those a call reaches through __index (a proxy module's, setmetatable({},
// { __index = impl }), or every global's under __index = _G), which a
// Contract's Exports and hotscript run's look for update do not see either;
// calls reach them all the same. It waits like Fields. Functions is safe for
// concurrent use.
func (rt *Runtime) Functions(ctx context.Context, id ScriptID) ([]string, error) {
	return rt.names(ctx, id, "functions", true)
}

func (rt *Runtime) names(ctx context.Context, id ScriptID, op string, functions bool) ([]string, error) {
	s, err := rt.script(op, "", id)
	if err != nil {
		return nil, err
	}
	if err := s.lock(ctx, op, ""); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	v, err := s.live(op, "")
	if err != nil {
		return nil, err
	}
	fields, funcs := moduleNames(v.module)
	if functions {
		return funcs, nil
	}
	return fields, nil
}

// moduleNames lists a module table's string keys, split into data fields and
// functions, each sorted. A key whose value is a Go nil is neither (see orNil).
func moduleNames(t *glua.LTable) (fields, functions []string) {
	fields, functions = []string{}, []string{}
	inOrder(t, func(k, v glua.LValue) {
		name, ok := k.(glua.LString)
		switch {
		case !ok:
		case v.Type() == glua.LTFunction:
			functions = append(functions, string(name))
		default:
			fields = append(fields, string(name))
		}
	})
	slices.Sort(fields)
	slices.Sort(functions)
	return fields, functions
}
