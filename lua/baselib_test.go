package lua_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hotscript/hotscript/lua"
)

// tonumber reads what Lua 5.1's does (lua5.1 -e 'print(tonumber(...))'), where
// gopher-lua's read no exponent without a '.' (tostring(1e20) did not read
// back: helper-233) and a '.' in any base.
func TestToNumberFollowsLua51(t *testing.T) {
	eval := evaluator(t)
	for _, tt := range []struct{ expr, want string }{
		{`tonumber("1e2"), tonumber("1E2"), tonumber("-5e-3"), tonumber("2e+3")`, "100|100|-0.005|2000"},
		{`tonumber(tostring(1e20)) == 1e20, tonumber(tostring(0.00001)) == 0.00001`, "true|true"},
		{`tonumber(".5"), tonumber("5."), tonumber("+7"), tonumber(" \t10\n "), tonumber("017")`, "0.5|5|7|10|17"},
		{`tonumber("0x1F"), tonumber(" 0X10 "), tonumber("-0x10"), tonumber("0xffffffffffffffffff") == 2^64`, "31|16|-16|true"},
		{`tonumber("1e400") == math.huge, tonumber("-1e400") == -math.huge, 1/0 == math.huge`, "true|true|true"},
		{`010, 1e400 == math.huge, -1e400, 0x10, 1e2, .5, 3.0 == 3, 9007199254740993`, "10|true|-Inf|16|100|0.5|true|9007199254740992"},
		{`tonumber("1e"), tonumber("e5"), tonumber("."), tonumber("1e+"), tonumber(""), tonumber(" ")`, "nil|nil|nil|nil|nil|nil"},
		{`tonumber("1 2"), tonumber("1_000"), tonumber("0b11"), tonumber("inf"), tonumber("nan"), tonumber("0x")`, "nil|nil|nil|nil|nil|nil"},
		{`tonumber("0x1p4"), tonumber("1.5.2"), tonumber("--1")`, "nil|nil|nil"},
		{`tonumber(5), tonumber(nil), tonumber({}), tonumber(true)`, "5|nil|nil|nil"},
		{`tonumber("ff", 16), tonumber("-101", 2), tonumber("zz", 36), tonumber(" 7 ", 8), tonumber(10, 16)`, "255|-5|1295|7|16"},
		{`tonumber("1.5", 16), tonumber("8", 8), tonumber("1e2", 16), tonumber("", 2), tonumber("1e2", 10)`, "nil|nil|482|nil|100"},
	} {
		if got := eval(tt.expr); got != tt.want {
			t.Errorf("%s = %q, want %q", tt.expr, got, tt.want)
		}
	}
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "base.lua", "local M = {}\nfunction M.f() return tonumber('1', 37) end\nreturn M")
	_, err := rt.CallJSON(context.Background(), id, "f")
	if e := asError(t, err); e.Message != "base.lua:2: bad argument #2 to tonumber (base out of range)" {
		t.Errorf("base 37: %q", e.Message)
	}
}

// error(msg, 2), the argument check's idiom, names the line of the bad call, as
// in Lua 5.1; gopher-lua's named the line of the check (helper-233), and the
// error's Line with it.
func TestErrorLevelNamesTheCaller(t *testing.T) {
	for _, lim := range []lua.Limits{{}, {MaxInstructions: 1e6, MaxMemoryBytes: 1 << 20}} {
		rt := newRuntime(t, lua.Config{Limits: lim})
		id := load(t, rt, "lvl.lua", `local M = {}
local function check(x)
  if type(x) ~= "number" then error("expected a number", 2) end
end
function M.spawn(hp)
  check(hp)
end
function M.caught()
  local ok, e = pcall(function() check("y") end)
  return e
end
return M`)
		_, err := rt.CallJSON(context.Background(), id, "spawn", "s")
		if e := asError(t, err); e.Line != 6 || e.Message != "lvl.lua:6: expected a number" || !errors.Is(err, lua.ErrRuntime) {
			t.Errorf("limits %+v: %v at line %d, want lvl.lua:6", lim, err, e.Line)
		}
		if got := call(t, rt, id, "caught"); got != `"lvl.lua:9: expected a number"` {
			t.Errorf("limits %+v: caught %s, want lvl.lua:9", lim, got)
		}
	}
}

// A script's first line starting with # (#!/usr/bin/env lua) is skipped, as
// lua skips it, and the lines keep their numbers; loadstring skips nothing, as
// in Lua 5.1 (helper-232: the script was a syntax error).
func TestScriptSkipsShebangLine(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "tool.lua", "#!/usr/bin/env lua\nlocal M = {}\nfunction M.f() error('boom') end\nfunction M.g() return select(2, loadstring('#x\\nreturn 1')) end\nreturn M")
	_, err := rt.CallJSON(context.Background(), id, "f")
	if e := asError(t, err); e.Line != 3 || e.Message != "tool.lua:3: boom" {
		t.Errorf("f: %v at line %d, want tool.lua:3", err, e.Line)
	}
	if got := call(t, rt, id, "g"); !strings.Contains(got, "syntax error") {
		t.Errorf("loadstring of a # line: %s, want a syntax error", got)
	}
	if _, err := rt.LoadScript(context.Background(), "only.lua", []byte("#!/usr/bin/env lua")); !errors.Is(err, lua.ErrNotTable) {
		t.Errorf("a script of a # line only: %v, want ErrNotTable (an empty chunk)", err)
	}
}
