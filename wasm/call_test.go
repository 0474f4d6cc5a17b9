package wasm_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/guest"
	"github.com/hotscript/hotscript/wasm"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

type health float64 // a named numeric type, as game code has

// Go numbers convert to every parameter type without loss, or not at all.
func TestCallJSONNumbers(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "numbers", nil)
	tests := []struct {
		name string
		fn   string
		args []any
		want string
	}{
		{"i32 negative", "neg", []any{5}, "-5"},
		{"i32 from float with no fraction", "neg", []any{7.0}, "-7"},
		{"i32 from json.Number", "neg", []any{json.Number("12")}, "-12"},
		{"i32 from json.Number exponent", "neg", []any{json.Number("1e3")}, "-1000"},
		{"i32 minimum", "id32", []any{math.MinInt32}, "-2147483648"},
		{"i32 from uint32 maximum", "id32", []any{uint32(math.MaxUint32)}, "-1"},
		{"i32 from int8", "id32", []any{int8(-3)}, "-3"},
		{"i32 from named type", "id32", []any{health(100)}, "100"},
		{"i64", "add64", []any{int64(1) << 40, 1}, "1099511627777"},
		{"i64 minimum", "id64", []any{int64(math.MinInt64)}, "-9223372036854775808"},
		{"i64 from uint64 maximum", "id64", []any{uint64(math.MaxUint64)}, "-1"},
		{"i64 from big json.Number", "id64", []any{json.Number("18446744073709551615")}, "-1"},
		// json.Number text converts exactly, not through a float64.
		{"i64 from json.Number 2^53+1 with a fraction of 0", "id64", []any{json.Number("9007199254740993.0")}, "9007199254740993"},
		{"i64 from json.Number 2^64-1 with a fraction of 0", "id64", []any{json.Number("18446744073709551615.0")}, "-1"},
		{"i64 minimum from json.Number exponent", "id64", []any{json.Number("-92233720368547758.08E2")}, "-9223372036854775808"},
		{"i32 from json.Number 100e-2", "id32", []any{json.Number("100e-2")}, "1"},
		{"i32 from json.Number -0", "id32", []any{json.Number("-0")}, "0"},
		{"i32 from json.Number zero, huge exponent", "id32", []any{json.Number("0.0e99999999999999999999")}, "0"},
		{"f64 from json.Number -0 keeps the sign", "divf64", []any{json.Number("-0"), 1}, "-0"},
		{"f32 from json.Number rounds once", "idf32", []any{json.Number("1.00000005960464477539062500001")}, "1.0000001"},
		{"f64", "addf64", []any{0.1, 0.2}, "0.30000000000000004"},
		{"f64 from int", "addf64", []any{1, 2}, "3"},
		{"f64 from json.Number", "addf64", []any{json.Number("2.5"), json.Number("-1")}, "1.5"},
		{"f64 large uses exponent", "addf64", []any{1e21, 0}, "1e+21"},
		{"f64 small uses exponent", "divf64", []any{1, 1e7}, "1e-7"},
		{"f32", "addf32", []any{float32(1.5), 0.25}, "1.75"},
		{"f32 rounds a float64", "idf32", []any{0.1}, "0.1"},
		{"f32 maximum as CallJSON returns it", "idf32", []any{3.4028235e+38}, "3.4028235e+38"},
		{"f32 rounds down to its maximum", "idf32", []any{-3.4028235677973362e+38}, "-3.4028235e+38"},
		{"f32 maximum from json.Number", "idf32", []any{json.Number("3.4028235e+38")}, "3.4028235e+38"},
		// Just under the midpoint to 2^128, which its float64 rounds up to.
		{"f32 maximum from json.Number rounded once", "idf32", []any{json.Number("3.4028235677973366e+38")}, "3.4028235e+38"},
		{"f32 from named type", "idf32", []any{health(-2)}, "-2"},
		{"all four types", "mix", []any{1, int64(2), float32(0.5), 0.25}, "3.75"},
		{"no result is null", "nothing", nil, "null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := call(t, rt, id, tt.fn, tt.args...); got != tt.want {
				t.Errorf("%s%v = %s, want %s", tt.fn, tt.args, got, tt.want)
			}
		})
	}
}

// Arguments that do not fit are refused with an error that says why; nothing is
// truncated or guessed.
func TestCallJSONArgumentErrors(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	numbers := load(t, rt, "numbers", nil)
	state := load(t, rt, "json_state", nil)
	add := load(t, rt, "add_v1", nil)
	multi := load(t, rt, "multi", nil)
	tests := []struct {
		name string
		id   wasm.ScriptID
		fn   string
		args []any
		want error
		text string
	}{
		{"too few", numbers, "add64", []any{1}, wasm.ErrSignature, "add64(i64, i64) takes 2 arguments, got 1"},
		{"too many", numbers, "neg", []any{1, 2}, wasm.ErrSignature, "neg(i32) takes 1 argument, got 2"},
		{"none expected", numbers, "nothing", []any{1}, wasm.ErrSignature, "nothing() takes 0 arguments, got 1"},
		{"fraction for i32", numbers, "neg", []any{2.5}, wasm.ErrSignature, "2.5 is not an integer"},
		{"NaN for i32", numbers, "neg", []any{math.NaN()}, wasm.ErrSignature, "NaN is not an integer"},
		{"i32 too big", numbers, "id32", []any{int64(1) << 32}, wasm.ErrSignature, "4294967296 is out of range for i32"},
		{"i32 too small", numbers, "id32", []any{int64(math.MinInt32) - 1}, wasm.ErrSignature, "out of range for i32"},
		{"uint64 too big for i32", numbers, "id32", []any{uint64(math.MaxUint64)}, wasm.ErrSignature, "out of range for i32"},
		{"float too big for i64", numbers, "id64", []any{1e20}, wasm.ErrSignature, "out of range"},
		{"inexact f64", numbers, "addf64", []any{int64(1)<<53 + 1, 0}, wasm.ErrSignature, "no exact f64 form"},
		{"inexact f32", numbers, "idf32", []any{16777217}, wasm.ErrSignature, "no exact f32 form"},
		{"f32 overflow", numbers, "idf32", []any{1e39}, wasm.ErrSignature, "out of range for f32"},
		{"f32 overflow by rounding", numbers, "idf32", []any{3.4028235677973366e+38}, wasm.ErrSignature, "out of range for f32"},
		{"f32 overflow from json.Number", numbers, "idf32", []any{json.Number("3.4028235677973367e+38")}, wasm.ErrSignature, "out of range for f32"},
		{"string for i64", numbers, "add64", []any{"1", 2}, wasm.ErrSignature, "argument 1: string is not a number"},
		{"bool", numbers, "neg", []any{true}, wasm.ErrSignature, "bool is not a number"},
		{"json.Number just under 1 for i32", numbers, "id32", []any{json.Number("0.99999999999999999999")}, wasm.ErrSignature, "0.99999999999999999999 is not an integer"},
		{"json.Number just under 2^31 for i32", numbers, "id32", []any{json.Number("2147483647.9999999999")}, wasm.ErrSignature, "2147483647.9999999999 is not an integer"},
		{"json.Number under -2^63 for i64", numbers, "id64", []any{json.Number("-9223372036854775809")}, wasm.ErrSignature, "-9223372036854775809 is out of range"},
		{"json.Number 2^63-1 and a half for i64", numbers, "id64", []any{json.Number("9223372036854775807.5")}, wasm.ErrSignature, "9223372036854775807.5 is not an integer"},
		{"json.Number 2^64 for i64", numbers, "id64", []any{json.Number("1.8446744073709551616e19")}, wasm.ErrSignature, "is out of range"},
		{"json.Number tiny for i64", numbers, "id64", []any{json.Number("1e-400")}, wasm.ErrSignature, "1e-400 is not an integer"},
		{"json.Number tinier than int64 exponents for i64", numbers, "id64", []any{json.Number("1e-99999999999999999999")}, wasm.ErrSignature, "1e-99999999999999999999 is not an integer"},
		{"json.Number 2^64 with many zeros for i64", numbers, "id64", []any{json.Number("18446744073709551616000e-3")}, wasm.ErrSignature, "is out of range"},
		{"bad json.Number", numbers, "neg", []any{json.Number("0x10")}, wasm.ErrSignature, "not a JSON number"},
		{"JSON to a numeric function", numbers, "neg", []any{wasm.JSON(1)}, wasm.ErrSignature, "a JSON document needs a function taking (i32, i32)"},
		{"one number for (i32, i32)", state, "set_state", []any{1}, wasm.ErrSignature, "set_state(i32, i32) takes 2 numbers or a JSON document, got 1 number"},
		{"invalid raw JSON", state, "set_state", []any{json.RawMessage(`{"a":`)}, wasm.ErrJSON, `not valid JSON (unexpected end of JSON input, at byte 5): "{\"a\":"`},
		{"raw JSON that says where it fails", state, "set_state", []any{json.RawMessage(`{"a":1,}`)}, wasm.ErrJSON, "looking for beginning of object key string, at byte 8"},
		{"raw JSON nested too deep", state, "set_state", []any{json.RawMessage(strings.Repeat("[", 10001) + strings.Repeat("]", 10001))}, wasm.ErrJSON, "exceeded max depth"},
		{"unmarshalable value", state, "set_state", []any{make(chan int)}, wasm.ErrJSON, "chan"},
		{"MarshalJSON that panics", state, "set_state", []any{panicky{}}, wasm.ErrJSON, "panicked: boom"},
		{"JSON without alloc", add, "add", []any{map[string]int{"a": 1}}, wasm.ErrNoFunction, "no such function: alloc(i32) i32, which add(i32, i32) i32 needs to take a JSON document"},
		{"unknown function", numbers, "nope", nil, wasm.ErrNoFunction, "nope"},
		{"export that is not a function", multi, "answer", nil, wasm.ErrNoFunction, "answer is an exported global, not a function"},
		{"externref parameter", multi, "takes_externref", []any{1}, wasm.ErrJSON, "takes_externref(externref): an externref has no JSON form"},
		{"unknown script", wasm.ScriptID(999), "add", nil, wasm.ErrNotFound, "script 999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rt.CallJSON(ctx, tt.id, tt.fn, tt.args...)
			wantErr(t, err, []error{tt.want}, tt.fn, tt.text)
		})
	}
	if _, err := rt.CallJSON(ctx, state, "get_state"); err != nil {
		t.Fatalf("get_state after the refused arguments: %v", err)
	}
}

// panicky is an argument whose MarshalJSON panics.
type panicky struct{}

func (panicky) MarshalJSON() ([]byte, error) { panic("boom") }

// Results convert by type: numbers, arrays, (ptr, len) documents; what JSON cannot
// hold is an error.
func TestCallJSONResults(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "multi", nil)
	tests := []struct {
		fn   string
		want string
		err  error
	}{
		{"multi", "[-1,9007199254740993,1.5]", nil},
		{"pair", "[1,2]", nil},
		{"tiny", "1e-7", nil},
		{"noop", "null", nil},
		{"nan", "", wasm.ErrJSON},
		{"inf32", "", wasm.ErrJSON},
	}
	for _, tt := range tests {
		t.Run(tt.fn, func(t *testing.T) {
			out, err := rt.CallJSON(ctx, id, tt.fn)
			if tt.err != nil {
				wantErr(t, err, []error{tt.err}, "no JSON form")
				return
			}
			if err != nil || string(out) != tt.want {
				t.Errorf("%s() = %s, %v; want %s", tt.fn, out, err, tt.want)
			}
		})
	}
}

// Any one argument that is not a number goes to an (i32, i32) function as a JSON
// document, and a (ptr, len) result comes back as one.
func TestCallJSONDocuments(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "json_state", nil)
	big := make([]int, 30000) // larger than the first heap page: alloc grows memory
	tests := []struct {
		name string
		arg  any
		want string
	}{
		{"map", map[string]any{"counter": 3}, `{"counter":3}`},
		{"struct", ScriptState{Counter: 1, Health: 0.5}, `{"counter":1,"health":0.5,"position":[0,0,0]}`},
		{"slice", []string{"a", "b"}, `["a","b"]`},
		{"string", "hi", `"hi"`},
		{"bool", false, `false`},
		{"nil", nil, `null`},
		{"raw message kept as is", json.RawMessage(` { "a" : [1, 2] } `), ` { "a" : [1, 2] } `},
		{"number forced with JSON", wasm.JSON(5), `5`},
		{"raw message in JSON", wasm.JSON(json.RawMessage(`[true]`)), `[true]`},
		{"large document", big, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			echo := call(t, rt, id, "echo", tt.arg)
			call(t, rt, id, "set_state", tt.arg)
			state := call(t, rt, id, "get_state")
			if tt.want == "" {
				want, _ := json.Marshal(tt.arg)
				tt.want = string(want)
			}
			if echo != tt.want || state != tt.want {
				t.Errorf("echo = %.60s, state = %.60s; want %.60s", echo, state, tt.want)
			}
		})
	}
	// free was called after every call: the heap is back at its start.
	if got := call(t, rt, id, "echo", "x"); got != `"x"` {
		t.Fatalf("echo = %s", got)
	}
}

// A Func handle calls without conversion, follows reloads, and refuses a signature
// change or a function the new module lacks.
func TestFunc(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "add_v1", nil)
	add, err := rt.Func(id, "add")
	if err != nil {
		t.Fatal(err)
	}
	if got := add.Info().String(); got != "add(i32, i32) i32" {
		t.Errorf("Info() = %s", got)
	}
	version, err := rt.Func(id, "version")
	if err != nil {
		t.Fatal(err)
	}
	stack := []uint64{api.EncodeI32(-2), api.EncodeI32(7)}
	if err := add.Call(ctx, stack); err != nil || api.DecodeI32(stack[0]) != 5 {
		t.Fatalf("add(-2, 7) = %d, %v", api.DecodeI32(stack[0]), err)
	}
	wantErr(t, add.Call(ctx, stack[:1]), []error{wasm.ErrSignature}, "stack of 2")

	if err := rt.ReloadModule(ctx, id, guest.Bytes("add_v2")); err != nil {
		t.Fatal(err)
	}
	if err := version.Call(ctx, stack); err != nil || stack[0] != 2 {
		t.Errorf("version() after reload = %d, %v; want 2", stack[0], err)
	}
	wantErr(t, add.Call(ctx, stack), []error{wasm.ErrSignature}, "add(i32, i32) i32", "add(i32, i32, i32) i32")

	if err := rt.ReloadModule(ctx, id, guest.Bytes("counter_v1")); err != nil {
		t.Fatal(err)
	}
	wantErr(t, add.Call(ctx, stack), []error{wasm.ErrNoFunction}, "add")
	if err := rt.ReloadModule(ctx, id, guest.Bytes("add_v1")); err != nil {
		t.Fatal(err)
	}
	stack = []uint64{1, 2}
	if err := add.Call(ctx, stack); err != nil || stack[0] != 3 {
		t.Errorf("add(1, 2) back on v1 = %d, %v", stack[0], err)
	}

	_, err = rt.Func(id, "nope")
	wantErr(t, err, []error{wasm.ErrNoFunction}, "nope")
	if err := rt.Unload(ctx, id); err != nil {
		t.Fatal(err)
	}
	wantErr(t, add.Call(ctx, stack), []error{wasm.ErrNotFound})
	// The id's name is remembered: errors through the id name the script.
	_, err = rt.CallJSON(ctx, id, "add", 1, 2)
	wantErr(t, err, []error{wasm.ErrNotFound}, "wasm: call add_v1 add: script not found: unloaded")
	_, err = rt.Acquire(ctx, id)
	wantErr(t, err, []error{wasm.ErrNotFound}, "wasm: acquire add_v1: script not found: unloaded")
	_, err = rt.Func(id, "add")
	wantErr(t, err, []error{wasm.ErrNotFound}, "add_v1", "unloaded")
	_, err = rt.CallJSON(ctx, id+1000, "add")
	wantErr(t, err, []error{wasm.ErrNotFound}, fmt.Sprintf("script %d", id+1000))
}

// A v128 takes two stack values in a Func call, which a short stack is told
// in values; CallJSON refuses it before calling, as it has no JSON form.
// Metered or not, and through a Lease too.
func TestV128(t *testing.T) {
	for _, lim := range []wasm.Limits{{}, limited} {
		rt := newRuntime(t, lim)
		id := load(t, rt, "simd", nil)
		_, err := rt.CallJSON(ctx, id, "rv")
		wantErr(t, err, []error{wasm.ErrJSON}, "simd", "rv", "a v128 has no JSON form")
		_, err = rt.CallJSON(ctx, id, "sum", 1, 2)
		wantErr(t, err, []error{wasm.ErrJSON}, "simd", "sum", "a v128 has no JSON form")
		rv, err := rt.Func(id, "rv")
		if err != nil {
			t.Fatal(err)
		}
		sum, err := rt.Func(id, "sum")
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, rv.Call(ctx, make([]uint64, 1)), []error{wasm.ErrSignature}, "rv() v128 needs a stack of 2 values, got 1")
		wantErr(t, sum.Call(ctx, make([]uint64, 2)), []error{wasm.ErrSignature}, "needs a stack of 3 values, got 2")
		stack := make([]uint64, 2)
		if err := rv.Call(ctx, stack); err != nil || stack[0] != 1 || stack[1] != 2 {
			t.Errorf("rv() = %v, %v; want [1 2]", stack, err)
		}
		stack = []uint64{10, 20, 3}
		if err := sum.Call(ctx, stack); err != nil || stack[0] != 33 {
			t.Errorf("sum((10, 20), 3) = %d, %v; want 33", stack[0], err)
		}
		l, err := rt.Acquire(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		stack = []uint64{1, 2, 3}
		if err := l.Call(ctx, sum, stack); err != nil || stack[0] != 6 {
			t.Errorf("sum((1, 2), 3) on a lease = %d, %v; want 6", stack[0], err)
		}
		wantErr(t, l.Call(ctx, sum, stack[:2]), []error{wasm.ErrSignature}, "needs a stack of 3 values")
		l.Release()
	}
}

// A reference (funcref, externref) has no JSON form and no uint64 a caller
// could make: CallJSON refuses a function taking or returning one before
// calling it, and Func refuses to make a handle on it.
func TestReferenceTypes(t *testing.T) {
	for _, lim := range []wasm.Limits{{}, limited} {
		rt := newRuntime(t, lim)
		id := loadTest(t, rt, "refs", nil)
		tests := []struct {
			fn   string
			args []any
			sig  string
			ref  string
		}{
			{"ret_funcref", nil, "ret_funcref() funcref", "a funcref"},
			{"ret_externref", nil, "ret_externref() externref", "an externref"},
			{"take_externref", []any{0}, "take_externref(externref) i32", "an externref"},
			{"take_funcref", []any{0}, "take_funcref(funcref) i32", "a funcref"},
		}
		for _, tt := range tests {
			_, err := rt.CallJSON(ctx, id, tt.fn, tt.args...)
			wantErr(t, err, []error{wasm.ErrJSON}, "wasm: call refs "+tt.fn+": invalid JSON: "+tt.sig+": "+tt.ref+" has no JSON form")
			_, err = rt.Func(id, tt.fn)
			wantErr(t, err, []error{wasm.ErrSignature}, "wasm: func refs "+tt.fn+": signature mismatch: "+tt.sig+" takes or returns a reference")
		}
		if n := callInt(t, rt, id, "calls"); n != 0 {
			t.Errorf("limits %+v: %d of the refused functions ran", lim, n)
		}
	}
}

// The typed fast path allocates nothing, nor does CallJSON with numbers (its
// results are carved from shared blocks) or with a repeated document, metered or
// not: nothing beyond what wazero's own call allocates, which is nothing where
// it compiles and one value where it interprets (386, arm).
func TestCallAllocations(t *testing.T) {
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	m, err := r.Instantiate(ctx, guest.Bytes("add_v1"))
	if err != nil {
		t.Fatal(err)
	}
	rawAdd, rawStack := m.ExportedFunction("add"), []uint64{2, 3}
	raw := testing.AllocsPerRun(100, func() { _ = rawAdd.CallWithStack(ctx, rawStack) })
	for _, lim := range []wasm.Limits{{}, {MaxInstructions: 1 << 40, MaxExecutionTime: time.Minute}} {
		rt := newRuntime(t, lim)
		id := load(t, rt, "add_v1", nil)
		add, err := rt.Func(id, "add")
		if err != nil {
			t.Fatal(err)
		}
		stack := []uint64{2, 3}
		if n := testing.AllocsPerRun(100, func() { _ = add.Call(ctx, stack) }); n != raw {
			t.Errorf("%+v: Func.Call allocates %v times per call, want %v (wazero's)", lim, n, raw)
		}
		if n := testing.AllocsPerRun(100, func() { _, _ = rt.CallJSON(ctx, id, "add", 2, 3) }); n != raw {
			t.Errorf("%+v: CallJSON(add, 2, 3) allocates %v times per call, want %v (wazero's)", lim, n, raw)
		}
		state := load(t, rt, "json_state", nil)
		var doc any = json.RawMessage(`{"counter":3}`) // boxed once: a slice in an interface is allocated
		// Three calls into the guest: alloc, echo, free.
		if n := testing.AllocsPerRun(100, func() { _, _ = rt.CallJSON(ctx, state, "echo", doc) }); n != 3*raw {
			t.Errorf("%+v: CallJSON(echo, doc) allocates %v times per call, want %v (wazero's)", lim, n, 3*raw)
		}
	}
}

// Results carved from one block are independent: changing or appending to one
// leaves the others as they were.
func TestCallJSONResultsIndependent(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "add_v1", nil)
	var outs []json.RawMessage
	for i := range 2000 { // many blocks' worth
		out, err := rt.CallJSON(ctx, id, "add", i, 1000)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, out)
	}
	for i := range outs {
		if i%2 == 0 {
			outs[i] = append(outs[i], "99"...) // would spill into the next result
		} else {
			outs[i][0] = 'x'
		}
	}
	for i, out := range outs {
		want := strconv.Itoa(i + 1000)
		if i%2 == 0 {
			want += "99"
		} else {
			want = "x" + want[1:]
		}
		if string(out) != want {
			t.Fatalf("result %d = %s, want %s", i, out, want)
		}
	}
}

// A document is validated whenever its bytes differ from the last valid one,
// even in the same buffer.
func TestCallJSONRevalidates(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "json_state", nil)
	doc := json.RawMessage(`{"counter":3}`)
	steps := []struct {
		name string
		edit func()
		ok   bool
	}{
		{"valid", func() {}, true},
		{"same again", func() {}, true},
		{"broken in place", func() { doc[len(doc)-1] = ']' }, false},
		{"mended", func() { doc[len(doc)-1] = '}' }, true},
		{"shortened", func() { doc = doc[:len(doc)-1] }, false},
	}
	for _, st := range steps {
		st.edit()
		out, err := rt.CallJSON(ctx, id, "echo", doc)
		if st.ok && (err != nil || string(out) != string(doc)) {
			t.Errorf("%s: echo = %s, %v", st.name, out, err)
		}
		if !st.ok && !errors.Is(err, wasm.ErrJSON) {
			t.Errorf("%s: echo of %s = %s, %v; want ErrJSON", st.name, doc, out, err)
		}
	}
	// The guest's bytes are checked the same way.
	call(t, rt, id, "echo", json.RawMessage(`{"counter":3}`))
	_, err := rt.CallJSON(ctx, id, "bad_json")
	wantErr(t, err, []error{wasm.ErrJSON}, "bad_json", "not JSON (invalid character 'n' looking for beginning of object key string, at byte 2)")
}
