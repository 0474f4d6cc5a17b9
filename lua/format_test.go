package lua_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/testtool"
	"github.com/hotscript/hotscript/lua"
)

// formatCases are string.format calls whose results are those of Lua 5.1.5 on
// Linux amd64 (lua5.1 -e 'print(...)'), written out: where gopher-lua's format,
// which is Go's fmt, differs from C's sprintf, the package follows Lua.
var formatCases = []struct{ name, expr, want string }{
	{"g default precision", `string.format("%g|%g|%G|%g|%g", 1/3, 123456789, 1e-5, 100000, 1e6)`, "0.333333|1.23457e+08|1E-05|100000|1e+06"},
	{"g precision", `string.format("%.3g|%.0g|%#g|%#.3g|%10.2g|%-10.2G|", 2/3, 1.5, 1.5, 1, 1234, 1e-10)`, "0.667|2|1.50000|1.00|   1.2e+03|1E-10     |"},
	{"e and f", `string.format("%e|%.2E|%#.0e|%#.0f|%.0f|%+.1f|% f|%08.2f|%-8.2f|", 1e300, 12345, 2, 1, 2.5, 3, 1, -3.14159, 2.5)`, "1.000000e+300|1.23E+04|2.e+00|1.|2|+3.0| 1.000000|-0003.14|2.50    |"},
	{"inf", `string.format("%f|%f|%e|%E|%g|%G|%5.1f|%-6f|%+f|% f|%05f", 1/0, -1/0, 1/0, -1/0, 1/0, 1/0, 1/0, -1/0, 1/0, 1/0, 1/0)`, "inf|-inf|inf|-INF|inf|INF|  inf|-inf  |+inf| inf|  inf"},
	{"unsigned of nan and inf", `string.format("%x|%X|%o|%u|%x|%u|%x|%u|%x", 0/0, 0/0, 0/0, 0/0, 1/0, 1/0, -1/0, -1/0, 2^64)`,
		"8000000000000000|8000000000000000|1000000000000000000000|9223372036854775808|0|0|8000000000000000|9223372036854775808|0"},
	{"zero of precision 0", `string.format("[%+.0d][% .0i][%#.0o][%#5.o][%.0x][%5.0u][%-3.0d|][%.0d]", 0, 0, 0, 0, 0, 0, 0, 7)`,
		"[+][ ][0][    0][][     ][   |][7]"},
	{"nan shows its sign", `string.format("%f|%f|%G", -(0/0), (0/0), -(0/0))`, nanSigns()},
	{"unsigned of negatives", `string.format("%x|%X|%o|%u|%x|%x|%x", -1, -255, -1, -1, 2^63, 2^64, -2^63)`, "ffffffffffffffff|FFFFFFFFFFFFFF01|1777777777777777777777|18446744073709551615|8000000000000000|0|8000000000000000"},
	{"integer conversions", `string.format("%d|%5.3d|%-5d|%05d|%+d|% d|%.0d|%5.0d|%i|%d|%d", 3.9, 7, -3, -3, 0, 5, 0, 0, -2.7, 2^63, -2^63)`, "3|  007|-3   |-0003|+0| 5||     |-2|-9223372036854775808|-9223372036854775808"},
	{"hex flags", `string.format("%#x|%#X|%#5x|%#o|%#o|%+x|% x|%#08x|%-#8x|", 255, 255, 0, 8, 0, 255, 255, 255, 255)`, "0xff|0XFF|    0|010|0|ff|ff|0x0000ff|0xff    |"},
	{"strings count bytes", `string.format("[%5s][%-5s][%.3s][%05s][%.0s]", "\195\169", "\195\169", "\195\169xyz", "ab", "abc")`, "[   \u00e9][\u00e9   ][\u00e9x][   ab][]"},
	{"precision cuts bytes", `string.format("%5.1s", "\226\130\172"):byte(1, -1)`, "32|32|32|32|226"},
	{"char width", `string.format("[%5c][%-3c]", 65, 66)`, "[    A][B  ]"},
	{"long string", `#string.format("%5s", string.rep("x", 200))`, "200"},
	{"flags up to five", `string.format("%--5d|%-+ #0d|%99d", 1, 1, 1):gsub(" +", " ")`, "1 |+1| 1|2"},
	{"number as string", `string.format("%s|%q|%5s", 12, 1.5, 7)`, "12|\"1.5\"|    7"},
	{"prefix within the width", `string.format("%#08X|%#8x|%#08o|%#.3x", 255, 255, 8, 1)`, "0X0000FF|    0xff|00000010|0x001"},
}

// nanSigns is what the "nan shows its sign" case formats: 0/0 is a NaN of the
// hardware's sign, negative on amd64, positive on arm64.
func nanSigns() string {
	zero := 0.0
	if math.Signbit(zero / zero) {
		return "nan|-nan|NAN"
	}
	return "-nan|nan|-NAN"
}

func TestFormatFollowsLua51(t *testing.T) {
	eval := evaluator(t)
	for _, tt := range formatCases {
		t.Run(tt.name, func(t *testing.T) {
			if got := eval(tt.expr); got != tt.want {
				t.Errorf("%s = %q, want %q", tt.expr, got, tt.want)
			}
		})
	}
}

// Lua 5.1's format refuses a width or a precision of more than two digits, and
// more than five flag characters. fmt took widths up to 9,999,999, where the
// bound of the result stopped counting at 1e6: 50 conversions of %9999999d
// allocated 4.5 GiB under a 64 MiB MaxMemoryBytes, and a width past fmt's own
// limit wrote fmt's "%!(NOVERB)" into the result.
func TestFormatErrors(t *testing.T) {
	tests := []struct{ name, expr, want string }{
		{"width of three digits", `string.format("%100d", 1)`, "invalid format (width or precision too long)"},
		{"precision of three digits", `string.format("%.100f", 1)`, "invalid format (width or precision too long)"},
		{"width fmt accepts", `string.format(string.rep("%9999999d", 50), unpack((function() local t = {} for i = 1, 50 do t[i] = 1 end return t end)()))`, "invalid format (width or precision too long)"},
		{"width past fmt's", `string.format("%99999999999999999999d", 1)`, "invalid format (width or precision too long)"},
		{"six flags", `string.format("%-+ #0-d", 1)`, "invalid format (repeated flags)"},
		{"table with __tostring", `string.format("%s", setmetatable({}, {__tostring = function() return "t" end}))`, "bad argument #2 to format (string expected, got table)"},
		{"nil for %s", `string.format("%s", nil)`, "bad argument #2 to format (string expected, got nil)"},
		{"boolean for %s", `string.format("%s %s", "a", true)`, "bad argument #3 to format (string expected, got boolean)"},
	}
	rt := newRuntime(t, lua.Config{Limits: lua.Limits{MaxMemoryBytes: 64 << 20}})
	id := load(t, rt, "f.lua", `return { eval = function(src) return assert(loadstring("return " .. src))() end }`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			grew := allocated(func() { _, err = rt.CallJSON(context.Background(), id, "eval", tt.expr) })
			if !errors.Is(err, lua.ErrRuntime) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: err = %v, want %q", tt.expr, err, tt.want)
			}
			if grew > 16<<20 {
				t.Errorf("%s allocated %d MiB before it failed", tt.expr, grew>>20)
			}
		})
	}
}

// A format whose result fits the call's limits succeeds: the bound checked
// before the result is built is within a few bytes of it. It was four bytes a
// byte for %q and 464 bytes for each number, so that %q of a 5 MiB string
// failed under a 16 MiB MaxMemoryBytes, which '"' .. s .. '"' did not, and a
// format of 200 small numbers under 64 KiB or 1,000 instructions.
// TestFormatOfManyLargeStringsStops: sizing a %q reads its string, so a format
// of thousands of 16 MiB strings stops at the memory limit as its bound passes
// it, not after reading every string (50 s under a 100 ms limit). The time
// limit, which the memory limit must come before, leaves room for a loaded
// machine to build the string under the race detector.
func TestFormatOfManyLargeStringsStops(t *testing.T) {
	rt := newRuntime(t, lua.Config{Limits: lua.Limits{MaxExecutionTime: 3 * time.Second, MaxMemoryBytes: 64 << 20}})
	id := load(t, rt, "q.lua", `local M = {}
function M.f(n)
  local s, t = string.rep("a", 16 * 2^20), {}
  for i = 1, n do t[i] = s end
  return string.format(string.rep("%q", n), unpack(t))
end
return M`)
	err := testtool.Returns(t, "string.format of 5,000 strings of 16 MiB", func() error {
		_, err := rt.CallJSON(context.Background(), id, "f", 5000)
		return err
	})
	if !errors.Is(err, lua.ErrMemoryLimit) {
		t.Errorf("string.format of 5,000 strings of 16 MiB: %v, want ErrMemoryLimit", err)
	}
}

func TestFormatFitsLimits(t *testing.T) {
	tests := []struct {
		name   string
		limits lua.Limits
		expr   string
		want   string
	}{
		{"q of 5 MiB by memory", lua.Limits{MaxMemoryBytes: 16 << 20},
			`#string.format("%q", string.rep("a", 5 * 2^20))`, "5242882"},
		{"q with escapes by memory", lua.Limits{MaxMemoryBytes: 8 << 20},
			`#string.format("%q", string.rep("a\n", 2^20) .. "\0")`, "3145734"},
		{"numbers by memory", lua.Limits{MaxMemoryBytes: 64 << 10},
			`#string.format(string.rep("%d,", 200), string.byte(string.rep("a", 200), 1, 200))`, "600"},
		{"numbers by instructions", lua.Limits{MaxInstructions: 1000},
			`#string.format(string.rep("%x", 200), string.byte(string.rep("a", 200), 1, 200))`, "400"},
		{"floats by instructions", lua.Limits{MaxInstructions: 1000},
			`#string.format(string.rep("%g", 200), string.byte(string.rep("a", 200), 1, 200))`, "400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, lua.Config{Limits: tt.limits})
			id := load(t, rt, "f.lua", "local M = {}\nfunction M.f() return "+tt.expr+" end\nreturn M")
			if got := call(t, rt, id, "f"); got != tt.want {
				t.Errorf("%s = %s, want %s", tt.expr, got, tt.want)
			}
		})
	}
}
