package lua_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hotscript/hotscript/lua"
)

// tonumber reads what Lua 5.1's does on Linux (lua5.1 -e 'print(tonumber(...))';
// helper-235 compared some 300 inputs), but for a negative number in a base
// other than 10, where gopher-lua's read no exponent without a '.'
// (tostring(1e20) did not read back: helper-233) and a '.' in any base.
func TestToNumberFollowsLua51(t *testing.T) {
	eval := evaluator(t)
	for _, tt := range []struct{ expr, want string }{
		{`tonumber("1e2"), tonumber("1E2"), tonumber("-5e-3"), tonumber("2e+3")`, "100|100|-0.005|2000"},
		{`tonumber(tostring(1e20)) == 1e20, tonumber(tostring(0.00001)) == 0.00001`, "true|true"},
		{`tonumber(".5"), tonumber("5."), tonumber("+7"), tonumber(" \t10\n "), tonumber("017")`, "0.5|5|7|10|17"},
		{`tonumber("0x1F"), tonumber(" 0X10 "), tonumber("-0x10"), tonumber("0xffffffffffffffffff") == 2^72`, "31|16|-16|true"},
		{`tonumber("0x-1"), tonumber("-0x-1"), tonumber("0x+1"), tonumber("0x_1"), tonumber("0x1p4"), tonumber("0x1.8")`, "nil|nil|nil|nil|16|1.5"},
		{`tonumber("1e400") == math.huge, tonumber("-1e400") == -math.huge, 1/0 == math.huge`, "true|true|true"},
		{`0010, 010, 1e400 == math.huge, -1e400, 0x10, 1e2, .5, 3.0 == 3, 9007199254740993`, "10|10|true|-inf|16|100|0.5|true|9007199254740992"},
		{`tonumber("1e"), tonumber("e5"), tonumber("."), tonumber("1e+"), tonumber(""), tonumber(" ")`, "nil|nil|nil|nil|nil|nil"},
		{`tonumber("1 2"), tonumber("1_000"), tonumber("0b11"), tonumber("inf"), tonumber("nan"), tonumber("0x")`, "nil|nil|nil|inf|nan|nil"},
		{`tonumber("0x1p4"), tonumber("1.5.2"), tonumber("--1")`, "16|nil|nil"},
		{`tonumber(" -Infinity "), tonumber("NaN(x_1)"), tonumber("0x1P-2"), tonumber("0x.8"), tonumber("0x1p"), tonumber("infx")`, "-inf|nan|0.25|0.5|nil|nil"},
		{`tonumber(tostring(1/0)) == 1/0, tonumber(tostring(-1/0)) == -1/0`, "true|true"},
		{`tonumber(5), tonumber(nil), tonumber({}), tonumber(true)`, "5|nil|nil|nil"},
		{`tonumber("ff", 16), tonumber("zz", 36), tonumber(" 7 ", 8), tonumber(10, 16), tonumber("10", "16")`, "255|1295|7|16|16"},
		{`tonumber("0x10", 16), tonumber("0XfF", 16), tonumber("0x", 16), tonumber("ffffffffffffffffff", 16) == 2^64`, "16|255|nil|true"},
		{`tonumber("-101", 2), tonumber("-0x10", 16)`, "-5|-16"}, // 5.1 wraps these around 2^64; hotscript keeps the sign
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

// error(msg, level) names the function at level as Lua 5.1 does (each want is
// lua5.1's output for the same script, helper-235): error(msg, 2), the
// argument check's idiom, names the line of the bad call, where gopher-lua's
// named the line of the error call (helper-233), and the error's Line with it;
// a level that is a Go function (pcall), a tail call's lost frame, or past a
// coroutine's first function has no position; the frames the package adds
// (pcall's untraced, the .. operator's capConcat, a coroutine's trampoline)
// are no levels; a number is a message, and error() raises nil.
func TestErrorLevelsFollowLua51(t *testing.T) {
	src := `local M = {}
local function check(x)
  if type(x) ~= "number" then error("expected a number", 2) end
  return x
end
local function helper(hp)
  return check(hp)
end
function M.spawn(hp)
  check(hp)
end
function M.tail(hp)
  helper(hp)
end
function M.caught()
  local ok, e = pcall(function()
    check("y")
  end)
  return e
end
function M.direct() return select(2, pcall(error, "x")) end
function M.past_pcall() return select(2, pcall(error, "x", 2)) end
function M.wrap()
  local next = coroutine.wrap(function(n) error("generator needs a number", 2) end)
  return select(2, pcall(next, 1))
end
function M.co()
  return select(2, coroutine.resume(coroutine.create(function() error("co", 2) end)))
end
function M.concat()
  local v = setmetatable({}, {__concat = function(a, b) error("cannot concat a vector", 2) end})
  return select(2, pcall(function()
    return #(v .. "x")
  end))
end
function M.number() local ok, e = pcall(function() error(42) end) return {type(e), e} end
function M.level0() local ok, e = pcall(function() error(42, 0) end) return {type(e), e} end
function M.none() return {pcall(function() error() end)} end
return M`
	for _, lim := range []lua.Limits{{}, {MaxInstructions: 1e6, MaxMemoryBytes: 1 << 20}} {
		rt := newRuntime(t, lua.Config{Limits: lim, Libraries: lua.LibCoroutine})
		id := load(t, rt, "lvl.lua", src)
		_, err := rt.CallJSON(context.Background(), id, "spawn", "s")
		if e := asError(t, err); e.Line != 10 || e.Message != "lvl.lua:10: expected a number" || !errors.Is(err, lua.ErrRuntime) {
			t.Errorf("limits %+v: %v at line %d, want lvl.lua:10", lim, err, e.Line)
		}
		_, err = rt.CallJSON(context.Background(), id, "tail", "s")
		if e := asError(t, err); e.Line != 3 || e.Message != "expected a number" { // the line from the traceback
			t.Errorf("limits %+v: through a tail call %v at line %d, want no position, line 3", lim, err, e.Line)
		}
		for _, tt := range []struct{ fn, want string }{
			{"caught", `"lvl.lua:17: expected a number"`},
			{"direct", `"x"`},
			{"past_pcall", `"lvl.lua:22: x"`},
			{"wrap", `"generator needs a number"`},
			{"co", `"co"`},
			{"concat", `"lvl.lua:33: cannot concat a vector"`},
			{"number", `["string","lvl.lua:36: 42"]`},
			{"level0", `["number",42]`},
			{"none", `[false]`}, // false, nil
		} {
			if got := call(t, rt, id, tt.fn); got != tt.want {
				t.Errorf("limits %+v: %s = %s, want %s", lim, tt.fn, got, tt.want)
			}
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

// error's level may be a string that reads as a number ("2"), as Lua 5.1's
// luaL_optint reads it (lua5.1: "lvl.lua:6: expected a number"), in a main
// chunk and under limits too, where error is charged (helper-237: refused).
func TestErrorLevelAsString(t *testing.T) {
	src := `local M = {}
local function check(x)
  if type(x) ~= "number" then error("expected a number", "2") end
end
function M.f()
  check("s")
end
M.atload = select(2, pcall(M.f))
return M`
	for _, lim := range []lua.Limits{{}, {MaxInstructions: 1e6, MaxMemoryBytes: 1 << 20}} {
		rt := newRuntime(t, lua.Config{Limits: lim})
		id := load(t, rt, "lvl.lua", src)
		if got, want := field(t, rt, id, "atload"), `"lvl.lua:6: expected a number"`; got != want {
			t.Errorf("limits %+v: in the main chunk %s, want %s", lim, got, want)
		}
		_, err := rt.CallJSON(context.Background(), id, "f")
		if e := asError(t, err); e.Message != "lvl.lua:6: expected a number" || e.Line != 6 {
			t.Errorf("limits %+v: in a call %q line %d, want lvl.lua:6: expected a number, line 6", lim, e.Message, e.Line)
		}
	}
}

// Inside an xpcall handler, levels past the handler are those of Lua 5.1: the
// Go error function capXpcall gives PCall is no level (helper-237: each one
// was one too many). lua5.1 on the same script: rt = "x.lua:7: h" at level 3
// (the line that failed), err = "x.lua:11: h" at level 4 (error is level 3).
func TestErrorLevelsInXpcallHandler(t *testing.T) {
	src := `local M = {}
local function handler(l)
  return function(m) return select(2, pcall(error, "h", l)) end
end
function M.rt(l) return select(2, xpcall(function()
  local x = nil
  return x.y
end, handler(l))) end
function M.err(l)
  return select(2, xpcall(function()
    error("orig")
  end, handler(l)))
end
return M`
	for _, lim := range []lua.Limits{{}, {MaxInstructions: 1e6, MaxMemoryBytes: 1 << 20}} {
		rt := newRuntime(t, lua.Config{Limits: lim})
		id := load(t, rt, "x.lua", src)
		for _, tt := range []struct {
			fn    string
			level int
			want  string
		}{
			{"rt", 3, `"x.lua:7: h"`}, // pcall is level 1, the handler 2, the function that failed 3
			{"rt", 4, `"h"`},          // xpcall
			{"rt", 5, `"x.lua:5: h"`}, // M.rt
			{"err", 3, `"h"`},         // error, a Go function
			{"err", 4, `"x.lua:11: h"`},
			{"err", 5, `"h"`},
			{"err", 6, `"x.lua:10: h"`},
		} {
			if got := call(t, rt, id, tt.fn, tt.level); got != tt.want {
				t.Errorf("limits %+v: %s level %d = %s, want %s (lua5.1)", lim, tt.fn, tt.level, got, tt.want)
			}
		}
	}
}

// A function coroutine.wrap made puts the position of the line that called it
// in front of a coroutine's string or number error, as Lua 5.1's auxwrap does
// (helper-237: it did not). lua5.1 on the same source: "w.lua:11: w.lua:5:
// boom", "w.lua:15: w.lua:14: 42" and "w.lua:18: it".
func TestWrapPlacesErrors(t *testing.T) {
	src := `local M = {}
local function gen()
  return coroutine.wrap(function()
    coroutine.yield(1)
    error("boom")
  end)
end
function M.f()
  local next = gen()
  next()
  next()
end
function M.g() return select(2, pcall(function()
  local w = coroutine.wrap(function() error(42) end)
  w()
end)) end
function M.h() return select(2, pcall(function()
  for x in coroutine.wrap(function() error("it", 2) end) do end
end)) end
return M`
	for _, lim := range []lua.Limits{{}, {MaxInstructions: 1e6, MaxMemoryBytes: 1 << 20}} {
		rt := newRuntime(t, lua.Config{Limits: lim, Libraries: lua.LibCoroutine})
		id := load(t, rt, "w.lua", src)
		_, err := rt.CallJSON(context.Background(), id, "f")
		if e := asError(t, err); e.Message != "w.lua:11: w.lua:5: boom" {
			t.Errorf("limits %+v: f: %q (line %d), want lua5.1's w.lua:11: w.lua:5: boom", lim, e.Message, e.Line)
		}
		if got, want := call(t, rt, id, "g"), `"w.lua:15: w.lua:14: 42"`; got != want {
			t.Errorf("limits %+v: g = %s, want %s", lim, got, want)
		}
		if got, want := call(t, rt, id, "h"), `"w.lua:18: it"`; got != want {
			t.Errorf("limits %+v: h = %s, want %s", lim, got, want)
		}
	}
}

// Two more of Lua 5.1's levels (helper-237; each want is lua5.1's answer): a
// chunk a script names "[coroutine]" is no coroutine trampoline, which ends
// the levels (it was taken for one by its name; lua5.1 and hotscript write
// the name [string "[coroutine]"]:2:); print
// converts through the global tostring, so levels in a __tostring count it
// (they were one short: level 4 under print is the function, under tostring
// pcall).
func TestErrorLevelsOfNamedChunksAndPrint(t *testing.T) {
	for _, tt := range []struct {
		src  string
		want map[string]string
	}{
		{`local M = {}
function M.own() return select(2, pcall(loadstring("local function g() error('x', 2) end\ng()\nreturn 1", "[coroutine]"))) end
function M.through()
  local f = loadstring("local l = ...\nlocal function g() error('z', l) end\ng()", "[coroutine]")
  return select(2, pcall(function()
    f(3)
  end))
end
return M`, map[string]string{"own": `"[string \"[coroutine]\"]:2: x"`, "through": `"l.lua:6: z"`}},
		{`local M = {}
local obj = setmetatable({}, {__tostring = function() error("ts", 4) end})
function M.p() return select(2, pcall(function()
  print(obj)
end)) end
function M.t() return select(2, pcall(function()
  local s = tostring(obj)
end)) end
return M`, map[string]string{"p": `"l.lua:4: ts"`, "t": `"ts"`}},
	} {
		rt := newRuntime(t, lua.Config{})
		id := load(t, rt, "l.lua", tt.src)
		for fn, want := range tt.want {
			if got := call(t, rt, id, fn); got != want {
				t.Errorf("%s = %s, want %s (lua5.1)", fn, got, want)
			}
		}
	}
}

// load(reader) returns nil and the reader's error, as Lua 5.1's does (it runs
// the reader protected); helper-237: the error went through.
func TestLoadReaderErrorReturned(t *testing.T) {
	src := `local M = {}
function M.load()
  local f, e = load(function() error("reader failed") end)
  return {f == nil, e}
end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "l.lua", src)
	out, err := rt.CallJSON(context.Background(), id, "load")
	if err != nil || string(out) != `[true,"l.lua:3: reader failed"]` {
		t.Errorf("load = %s, %v; want [true,\"l.lua:3: reader failed\"] as lua5.1", out, err)
	}
}

// A number literal that is no number is a syntax error, as in Lua 5.1
// ("malformed number near '0e'"); gopher-lua's compiler made it NaN
// (helper-235, helper-237).
func TestMalformedNumberLiteral(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	for _, tt := range []struct{ line2, near string }{
		{"M.x = 0e", "0e"}, {"M.x = 1E+-1", "1E+"}, {"M.x = 1e;", "1e"}, {"M.x = 3e,4", "3e"},
		// the lexer takes the } or ) after the e, and the parser fails first
		{"M.x = {1e}", "1e"}, {"print(1e)", "1e"}, {"return M, 1e", "1e"}, // the end of the file
	} {
		_, err := rt.LoadScript(context.Background(), "n.lua", []byte("local M = {}\n"+tt.line2+"\nreturn M"))
		if e := asError(t, err); !errors.Is(err, lua.ErrCompile) || e.Line != 2 || e.Message != "n.lua:2: malformed number near '"+tt.near+"'" {
			t.Errorf("%s: %v (line %d), want n.lua:2: malformed number near '%s'", tt.line2, err, e.Line, tt.near)
		}
	}
	// A syntax error before the malformed number is that error (helper-241).
	for _, line2 := range []string{"M.x = = 1e", "local = 3e", "M.y = ) 2e"} {
		_, err := rt.LoadScript(context.Background(), "n.lua", []byte("local M = {}\n"+line2+"\nreturn M"))
		if e := asError(t, err); !errors.Is(err, lua.ErrCompile) || e.Line != 2 || strings.Contains(e.Message, "malformed") {
			t.Errorf("%s: %v (line %d), want the syntax error before the number", line2, err, e.Line)
		}
	}
}

// print takes a number from tostring (or __tostring), as lua5.1's, which
// converts it with lua_tostring: "5", "42\t42" (helper-240: refused).
func TestPrintTakesANumberFromTostring(t *testing.T) {
	src := `local M = {}
function M.meta() print(setmetatable({}, {__tostring = function(self) return 5 end})) return 1 end
function M.global()
  local real = tostring
  tostring = function(v) return 42 end
  local ok, e = pcall(print, "a", "b")
  tostring = real
  return {ok, e}
end
return M`
	var out strings.Builder
	rt := newRuntime(t, lua.Config{Stdout: &out})
	id := load(t, rt, "p.lua", src)
	if _, err := rt.CallJSON(context.Background(), id, "meta"); err != nil {
		t.Errorf("meta: %v; lua5.1 prints 5", err)
	}
	if got := call(t, rt, id, "global"); got != "[true]" {
		t.Errorf("global = %s; lua5.1: true, and prints 42\\t42", got)
	}
	if got := out.String(); got != "5\n42\t42\n" {
		t.Errorf("printed %q, want \"5\\n42\\t42\\n\"", got)
	}
}
