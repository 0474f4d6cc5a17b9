package lua_test

import (
	"context"
	"encoding/json"
	"math"
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
