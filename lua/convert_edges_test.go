package lua_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/hotscript/hotscript/lua"
)

// edgesModule returns its arguments, and numbers made at run time (a constant
// -0 could be folded into 0 by the compiler).
const edgesModule = `local M = {}
function M.id(...) return ... end
function M.neg(x) return -x end
function M.negs(x) return {-x, x}, -x end
function M.exact(x, want) return x == want end
function M.show(x) return string.format("%.17g", x) end
M.z = 0
function M.setneg() M.z = -M.z end
return M`

// Negative zero comes back as encoding/json writes a float64 -0, through
// every path a result takes: one number (the hot path), several results, a
// table, a field, a host function's argument.
func TestNegativeZero(t *testing.T) {
	negZero := math.Copysign(0, -1)
	rt := newRuntime(t, lua.Config{})
	var got any
	if err := rt.Define("host", "see", func(_ context.Context, c *lua.Call) ([]any, error) {
		got = c.Args[0]
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	id := load(t, rt, "edges.lua", edgesModule)
	call(t, rt, id, "setneg")
	marshal := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, c := range []struct {
		name string
		got  func() string
		want string
	}{
		{"argument returned", func() string { return call(t, rt, id, "id", negZero) }, marshal(negZero)},
		{"computed", func() string { return call(t, rt, id, "neg", 0) }, marshal(negZero)},
		{"zero stays zero", func() string { return call(t, rt, id, "neg", negZero) }, marshal(0.0)},
		{"in a table and a second result", func() string { return call(t, rt, id, "negs", 0) },
			marshal([]any{[]float64{negZero, 0}, negZero})},
		{"JSON -0 argument", func() string { return call(t, rt, id, "id", json.RawMessage(`-0`)) }, marshal(negZero)},
		{"field", func() string { return field(t, rt, id, "z") }, marshal(negZero)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.got(); got != c.want {
				t.Errorf("got %s; encoding/json writes %s", got, c.want)
			}
		})
	}
	hid := load(t, rt, "host.lua", "local M = {}\nfunction M.f(x) host.see(-x) end\nreturn M")
	call(t, rt, hid, "f", 0)
	if f, ok := got.(float64); !ok || f != 0 || !math.Signbit(f) {
		t.Errorf("a host function got %#v; want -0", got)
	}
}

// A float32 reaches a script as the number encoding/json writes for it, the
// shortest decimal that reads back as the same float32 (0.1, not
// 0.10000000149011612), whatever holds it: passed alone, in a []any or a
// map[string]any, or in a typed slice or a struct, which go through
// encoding/json. A host function's float32 results follow the same rule.
func TestFloat32Arguments(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	var give float32
	if err := rt.Define("host", "give", func(context.Context, *lua.Call) ([]any, error) {
		return []any{give, []any{give}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	id := load(t, rt, "f32.lua", `local M = {}
local function first(x)
  if type(x) ~= "table" then return x end
  return x[1] or x.x or x.X
end
function M.same(x, want) return first(x) == want end
function M.fromhost(want) local a, b = host.give() return a == want and b[1] == want end
return M`)
	type S struct{ X float32 }
	for _, f := range []float32{0.1, 1.0 / 3, 1e-7, 16777216, 3.4028235e38, -2.5, math.SmallestNonzeroFloat32} {
		data, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		var want float64 // what encoding/json makes of it
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			arg  any
		}{
			{"alone", f},
			{"in []any", []any{f}},
			{"in map[string]any", map[string]any{"x": f}},
			{"in []float32", []float32{f}},
			{"in a struct", S{f}},
		} {
			if got := call(t, rt, id, "same", c.arg, want); got != "true" {
				t.Errorf("float32 %v %s: not %v, what encoding/json makes of it", f, c.name, want)
			}
		}
		give = f
		if got := call(t, rt, id, "fromhost", want); got != "true" {
			t.Errorf("float32 %v from a host function: not %v", f, want)
		}
	}
}

// A json.Number argument must be a JSON number, as encoding/json requires of
// one it writes (it writes the empty json.Number as 0): anything else is an
// error matching ErrJSON that names the argument and the text, not a number
// strconv.ParseFloat happens to read ("1_000", "0x1p60", "Inf").
func TestJSONNumberArguments(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "num.lua", edgesModule)
	for _, c := range []struct{ in, want string }{
		{"12", "12"},
		{"-0", "-0"},
		{"0", "0"},
		{"1.5e3", "1500"},
		{"-2.5E-1", "-0.25"},
		{"1e+2", "100"},
		{"", "0"},
		{"1152921504606846976", "1152921504606846976"}, // 2^60, exact
	} {
		if got := call(t, rt, id, "id", json.Number(c.in)); got != c.want {
			t.Errorf("json.Number(%q) came back as %s; want %s", c.in, got, c.want)
		}
	}
	for _, in := range []string{
		"1_000", "+5", ".5", "1.", "0x1p60", "0x10", "Inf", "-Inf", "NaN", "infinity",
		" 12", "12 ", "abc", "01", "-01", "1e", "1e+", "-", `"1"`, "true", "null", "[1]", "1 2",
	} {
		t.Run(in, func(t *testing.T) {
			_, err := rt.CallJSON(context.Background(), id, "id", 1, json.Number(in))
			if !errors.Is(err, lua.ErrJSON) || !strings.Contains(err.Error(), "argument 2") ||
				!strings.Contains(err.Error(), fmt.Sprintf("%q is not a JSON number", in)) {
				t.Errorf("json.Number(%q): %v; want ErrJSON naming argument 2 and %q as not a JSON number", in, err, in)
			}
			if _, jerr := json.Marshal(json.Number(in)); jerr == nil {
				t.Errorf("encoding/json writes json.Number(%q): the case is wrong", in)
			}
		})
	}
}

// A nil json.RawMessage argument is null, as encoding/json writes it; other
// RawMessages must hold one JSON value.
func TestRawMessageArguments(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "raw.lua", edgesModule)
	for _, c := range []struct {
		name string
		arg  any
		want string
	}{
		{"nil", json.RawMessage(nil), "[1,null,2]"},
		{"nil in []any", []any{json.RawMessage(nil)}, "[1,{},2]"}, // a table of nils is the empty table
		{"null", json.RawMessage("null"), "[1,null,2]"},
		{"value", json.RawMessage(` {"a": [1]} `), `[1,{"a":[1]},2]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := call(t, rt, id, "id", 1, c.arg, 2); got != c.want {
				t.Errorf("got %s; want %s", got, c.want)
			}
		})
	}
	for _, c := range []struct{ name, raw, want string }{
		{"empty, not nil", "", "no value"},
		{"blank", " ", "no value"},
		{"two values", `{"a":1} x`, "more after"},
		{"not JSON", "{", "unexpected EOF"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := rt.CallJSON(context.Background(), id, "id", json.RawMessage(c.raw))
			if !errors.Is(err, lua.ErrJSON) || !strings.Contains(err.Error(), "argument 1") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("json.RawMessage(%q): %v; want ErrJSON naming argument 1 and saying %q", c.raw, err, c.want)
			}
		})
	}
}

// string.format's %s and %q print a number as tostring does: as Lua 5.1's
// %.14g, but an integer with all its digits (gopher-lua wrote the shortest
// form that reads back: 0.30000000000000004, +Inf, NaN).
func TestFormatStringOfNumber(t *testing.T) {
	// nanText is how 5.1 (C's printf) writes 0/0: with the sign the
	// machine's division gives it, -nan on x86, nan on arm64.
	nanText := func() string {
		zero := 0.0
		if math.Signbit(zero / zero) {
			return "-nan"
		}
		return "nan"
	}
	rt := newRuntime(t, lua.Config{})
	for _, c := range []struct {
		name, format, expr, want string
	}{
		{"sum", "%s", "0.1 + 0.2", "0.3"},
		{"third quoted", "%q", "1/3", `"0.33333333333333"`},
		{"infinity", "%s", "1/0", "inf"},
		{"minus infinity", "%s", "-1/0", "-inf"},
		{"not a number", "%s", "0/0", nanText()},
		{"minus zero", "%s", "-(0 * 1)", "-0"},
		{"2^63", "%s", "2^63", "9.2233720368548e+18"},
		{"2^53 + 2", "%s", "2^53 + 2", "9007199254740994"},
		{"integer", "%s", "100", "100"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := "local M = {}\nfunction M.f() local x = " + c.expr +
				" return string.format(\"" + c.format + "\", x), tostring(x) end\nreturn M"
			sid := load(t, rt, c.name+".lua", src)
			var got [2]string
			if err := json.Unmarshal([]byte(call(t, rt, sid, "f")), &got); err != nil {
				t.Fatal(err)
			}
			quoted := got[1]
			if c.format == "%q" {
				quoted = `"` + got[1] + `"`
			}
			if got[0] != c.want || got[0] != quoted {
				t.Errorf("string.format(%q, %s) = %s, tostring %s; want %s, tostring's", c.format, c.expr, got[0], got[1], c.want)
			}
		})
	}
}

// Tables nest 10,000 levels deep, as in encoding/json and the WASM runtime's
// documents, in every direction a value takes: a result, a field, a host
// function's argument, a call's argument (Go or JSON); one level more is an
// error matching ErrJSON, whose path is cut short in the middle (helper-202:
// 201 levels failed, an argument's error wrote all 201 steps of its path, and
// arguments took one level more than results).
func TestNestingDepth(t *testing.T) {
	const limit = 10000
	rt := newRuntime(t, lua.Config{})
	var seen int
	if err := rt.Define("host", "see", func(_ context.Context, c *lua.Call) ([]any, error) {
		seen = 0
		for v := c.Args[0]; v != nil; seen++ {
			v = v.(map[string]any)["next"]
		}
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	id := load(t, rt, "deep.lua", `local M = {}
function M.list(n) local head for i = 1, n do head = {next = head} end return head end
function M.keep(n) M.head = M.list(n) return 1 end
function M.two(n) return 1, M.list(n) end
function M.see(n) host.see(M.list(n)) return 1 end
function M.depth(v) local n = 0 while type(v) == "table" do n = n + 1 v = v[1] end return n end
function M.ring(n) local head = {} local last = head for i = 2, n do last.next = {} last = last.next end last.next = head return head end
return M`)
	chain := func(levels int) string {
		return strings.Repeat(`{"next":`, levels-1) + "{}" + strings.Repeat("}", levels-1)
	}
	nested := func(levels int) any {
		var v any = []any{}
		for range levels - 1 {
			v = []any{v}
		}
		return v
	}
	tooDeep := func(what string, err error) {
		t.Helper()
		// A host function's argument fails in the script, as a Lua error.
		asJSON := errors.Is(err, lua.ErrJSON) || what == "a host function's argument"
		if err == nil || !asJSON || !strings.Contains(err.Error(), "nested deeper than 10000 levels") {
			t.Errorf("%s %d levels deep: %v, want ErrJSON saying it is nested too deep", what, limit+1, err)
		} else if !strings.Contains(err.Error(), " more ") || len(err.Error()) > 600 {
			t.Errorf("%s: the error's path is not cut short (%d bytes): %.300s", what, len(err.Error()), err)
		}
	}
	ctx := context.Background()

	if out := call(t, rt, id, "list", limit); out != chain(limit) {
		t.Errorf("list(%d) came back other than %d levels of {next=...}", limit, limit)
	}
	_, err := rt.CallJSON(ctx, id, "list", limit+1)
	tooDeep("a result", err)
	// Several results are an array, one level more (helper-205: two results
	// 10,000 deep made JSON encoding/json refuses).
	out, err := rt.CallJSON(ctx, id, "two", limit-1)
	if err != nil || !json.Valid(out) {
		t.Errorf("two results %d levels deep: %v, want JSON encoding/json reads", limit-1, err)
	}
	_, err = rt.CallJSON(ctx, id, "two", limit)
	tooDeep("one of two results", err)

	for _, n := range []int{3, 500} { // a cycle found in the path and past it
		if _, err := rt.CallJSON(ctx, id, "ring", n); !errors.Is(err, lua.ErrJSON) || !strings.Contains(err.Error(), "cyclic table") {
			t.Errorf("a ring of %d tables: %v, want a cyclic table", n, err)
		}
	}

	call(t, rt, id, "keep", limit)
	if out := field(t, rt, id, "head"); out != chain(limit) {
		t.Errorf("Field(head) came back other than %d levels", limit)
	}
	call(t, rt, id, "keep", limit+1)
	_, err = rt.Field(ctx, id, "head")
	tooDeep("a field", err)

	if call(t, rt, id, "see", limit); seen != limit {
		t.Errorf("host.see got %d levels, want %d", seen, limit)
	}
	_, err = rt.CallJSON(ctx, id, "see", limit+1)
	tooDeep("a host function's argument", err)

	for _, arg := range []struct {
		name        string
		ok, tooDeep any
	}{
		{"a Go argument", nested(limit), nested(limit + 1)},
		{"a JSON argument", json.RawMessage(strings.Repeat("[", limit) + strings.Repeat("]", limit)),
			json.RawMessage(strings.Repeat("[", limit+1) + strings.Repeat("]", limit+1))},
	} {
		if out := call(t, rt, id, "depth", arg.ok); out != fmt.Sprint(limit) {
			t.Errorf("%s %d levels deep: depth = %s", arg.name, limit, out)
		}
		_, err = rt.CallJSON(ctx, id, "depth", arg.tooDeep)
		if arg.name == "a JSON argument" {
			// encoding/json refuses it first, in its own words
			if !errors.Is(err, lua.ErrJSON) || !strings.Contains(err.Error(), "exceeded max depth") {
				t.Errorf("%s %d levels deep: %v, want encoding/json's ErrJSON", arg.name, limit+1, err)
			}
			continue
		}
		tooDeep(arg.name, err)
	}
}
