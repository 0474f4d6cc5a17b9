package lua_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hotscript/hotscript/lua"
)

// pcall and xpcall catch errors and return them as gopher-lua's do, values and
// positions alike, though they no longer build the traceback it threw away.
func TestPcallResults(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"error string", `return pcall(error, "x")`, `[false,"x"]`}, // level 1 is pcall, a Go function: no position
		{"error with position", `return pcall(function() error("boom") end)`, `[false,"p.lua:3: boom"]`},
		{"error level 2", `local function f() error("up", 2) end
return pcall(function() f() end)`, `[false,"p.lua:4: up"]`},
		{"error level 2 through pcall", `return pcall(function() error("up", 2) end)`, `[false,"up"]`},
		{"error level 3", `local function f() error("up", 3) end
local function g() f() end
local function h() g() end
return pcall(h)`, `[false,"p.lua:5: up"]`},
		{"error level past the stack", `return pcall(function() error("up", 50) end)`, `[false,"up"]`},
		{"error table", `local ok, e = pcall(error, {code = 7}) return ok, e.code`, `[false,7]`},
		{"runtime error", `return pcall(function() return nil + 1 end)`, `[false,"p.lua:3: cannot perform add operation between nil and number"]`},
		{"results", `return pcall(function(a, b) return a + b, a * b end, 3, 4)`, `[true,7,12]`},
		{"no results", `return pcall(function() end)`, `true`},
		{"not callable", `return pcall(42)`, `[false,"attempt to call a number value"]`},
		{"__call", `return pcall(setmetatable({}, {__call = function(self, x) return x end}), 5)`, `[true,5]`},
		{"nested", `return pcall(function() local ok, e = pcall(error, "in") error(e .. " out", 0) end)`, `[false,"in out"]`},
		{"host error", `return pcall(string.rep)`, `[false,"p.lua:3: bad argument #1 to (anonymous) (string expected, got nil)"]`},
		{"xpcall handler", `return xpcall(function() error("e", 0) end, function(m) return "handled " .. m end)`, `[false,"handled e"]`},
		{"xpcall results", `return xpcall(function() return 1, 2 end, print)`, `[true,1,2]`},
		{"xpcall failing handler", `return xpcall(function() error("e", 0) end, function(m) error("h", 0) end)`, `[false,"h"]`},
		{"xpcall handler not a function", `return pcall(xpcall, function() end, 42)`, `[false,"p.lua:3: bad argument #2 to (anonymous) (function expected, got number)"]`},
		{"upvalue after error", `local f pcall(function() local x = 42 f = function() return x end error("e") end)
local a, b, c = 1, 2, 3 return f()`, `42`},
		{"upvalue after xpcall error", `local f xpcall(function() local x = 42 f = function() return x end error("e") end, print)
local a, b, c = 1, 2, 3 return f()`, `42`},
		{"stale upvalue in a field", `local f xpcall(function() local x = {} f = function() return x end error("e") end, print)
local t = {} t[f()] = 1 return type(f())`, `"table"`},
		// A pcall or load inside an xpcall catches an error: the closure keeps
		// its variable (helper-240: it read another function's local, 14).
		{"upvalue after a pcall error in xpcall", `local g xpcall(function() pcall(function() local x = "kept" g = function() return x end error("e") end)
local a, b, c, d, e = 11, 12, 13, 14, 15 end, print) return g()`, `"kept"`},
		{"upvalue after a load reader's error in xpcall", `local g xpcall(function() load(function() local x = "kept" g = function() return x end error("e") end)
local a, b, c, d, e = 11, 12, 13, 14, 15 end, print) return g()`, `"kept"`},
	}
	rt := newRuntime(t, lua.Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := load(t, rt, "p.lua", "local M = {}\nfunction M.f()\n"+tt.body+"\nend\nreturn M")
			if got := call(t, rt, id, "f"); got != tt.want {
				t.Errorf("%s = %s, want %s", tt.body, got, tt.want)
			}
		})
	}
}

// An error caught at a depth of 1,000 calls costs what one at the top does: the
// traceback gopher-lua built for each one, walking the call stack once per frame,
// allocated about 100 KB and took 7 ms there, in the one instruction of the
// pcall. Allocation, not time, is what the test measures.
func TestCaughtErrorsBuildNoTraceback(t *testing.T) {
	rt := newRuntime(t, lua.Config{Libraries: lua.LibDebug})
	id := load(t, rt, "deep.lua", `local M = {}
local function deep(n, catch)
  if n > 0 then return deep(n - 1, catch) + 1 end
  for i = 1, 100 do catch() end
  return 0
end
function M.pcall() return deep(1000, function() pcall(error, "x") end) end
function M.xpcall() return deep(1000, function() xpcall(error, error) end) end
function M.traceback()
  local _, tb = xpcall(function() deep(3, function() error("x") end) end, debug.traceback)
  return tb
end
return M`)
	for _, fn := range []string{"pcall", "xpcall"} {
		var out string
		grew := allocated(func() { out = call(t, rt, id, fn) })
		if out != "1000" || grew > 2<<20 {
			t.Errorf("%s: 100 errors caught at depth 1,000 returned %s and allocated %d KiB; want 1000 and under 2 MiB", fn, out, grew>>10)
		}
	}
	// xpcall's handler still runs above the frames of the error.
	if tb := call(t, rt, id, "traceback"); strings.Count(tb, "deep.lua:3:") < 3 {
		t.Errorf("debug.traceback as xpcall's handler: %s; want the frames of deep", tb)
	}
}

// An error that leaves the call still has its traceback, built once, after the
// script's own pcalls caught others.
func TestUncaughtErrorKeepsTraceback(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "tb.lua", `local M = {}
local function inner() pcall(error, "caught") error("uncaught") end
function M.f() pcall(inner) inner() end
return M`)
	_, err := rt.CallJSON(context.Background(), id, "f")
	var e *lua.Error
	if !errors.As(err, &e) || !strings.Contains(e.Traceback, "tb.lua:2: in function") || !strings.Contains(e.Traceback, "tb.lua:3: in function 'f'") {
		t.Errorf("error %v has traceback %q; want one naming tb.lua:2 and f at tb.lua:3", err, e.Traceback)
	}
}

// A loop of tail calls that ends in an error costs what a few tail calls do to
// trace: gopher-lua's traceback has a line for each tail call a frame counts,
// which the budget holds to maxTailCalls (helper-246: under a 200 ms limit the
// loop's error took 600 ms and 180 MB; a reload's 10 s, 36 s and 4.5 GB).
// Allocation, not time, is what the test measures: the failing loop against
// the same loop returning, and a loop stopped by MaxInstructions. Every frame
// is held, not only the top ones: a loop whose every step calls four deep, in
// 32 instructions, had every check land in the deepest call, the loop's frame
// fifth from the top, and its tail calls went unheld (helper-254).
func TestTailCallLoopTraceback(t *testing.T) {
	rt := newRuntime(t, lua.Config{Limits: lua.Limits{MaxInstructions: 20_000_000}})
	id := load(t, rt, "tail.lua", `local M = {}
local function loop(n, stop) if n == 0 then return stop() end return loop(n - 1, stop) end
function M.ok() return loop(1000000, function() return 1 end) end
function M.fail() return loop(1000000, function() error("done") end) end
function M.forever() local function spin() return spin() end return spin() end
local function d4() local x  x = 1 x = 1 x = 1 x = 1 x = 1 x = 1 x = 1 x = 1 x = 1 x = 1 x = 1 x = 1 x = 1 x = 1 end
local function d3() d4() end
local function d2() d3() end
local function d1() d2() end
local function deepFail(n) if n == 0 then error("done") end d1() return deepFail(n - 1) end
function M.deepFail() local y  y = 1 y = 1 y = 1 y = 1 y = 1 y = 1 y = 1 y = 1 return deepFail(200000) end
local function deepOk(n) if n == 0 then return 1 end d1() return deepOk(n - 1) end
function M.deepOk() local y  y = 1 y = 1 y = 1 y = 1 y = 1 y = 1 y = 1 y = 1 return deepOk(200000) end
return M`)
	for _, c := range []struct{ ok, fail, want string }{{"ok", "fail", "tail.lua:4: done"}, {"deepOk", "deepFail", "tail.lua:10: done"}} {
		ok := allocated(func() { call(t, rt, id, c.ok) })
		var err error
		failed := allocated(func() { _, err = rt.CallJSON(context.Background(), id, c.fail) })
		if e := asError(t, err); e.Message != c.want || failed > ok+1<<20 {
			t.Errorf("%s: error %v allocated %d KiB, returning %d KiB; want %s and under 1 MiB more", c.fail, err, failed>>10, ok>>10, c.want)
		}
	}
	var err error
	stopped := allocated(func() { _, err = rt.CallJSON(context.Background(), id, "forever") })
	if !errors.Is(err, lua.ErrInstructionLimit) || stopped > 4<<20 {
		t.Errorf("a tail loop stopped by its limit: %v after allocating %d KiB; want ErrInstructionLimit within 4 MiB", err, stopped>>10)
	}
}

// The text a script controls is cut in the error of a call: a function named
// with a megabyte (an identifier, or a string key), recursing hundreds deep,
// appears cut in each line of the traceback (gopher-lua built every frame's
// line, a megabyte each, before keeping 14), and a message quoting a key of
// megabytes is cut to 4 KiB, still naming the script and the line.
func TestErrorTextCut(t *testing.T) {
	rt := newRuntime(t, lua.Config{Limits: lua.Limits{MaxExecutionTime: 10 * time.Second}})
	long, key := strings.Repeat("n", 1<<20), strings.Repeat("k", 1<<20)
	id := load(t, rt, "big.lua", `local M = {}
local big = string.rep("k", 4 * 1024 * 1024)
function M.`+long+`(n) if n == 0 then error("deep") end return 1 + M.`+long+`(n - 1) end
M.keyed = {}
M.keyed["`+key+`"] = function(n) if n == 0 then error("deep") end return 1 + M.keyed["`+key+`"](n - 1) end
function M.named(n) return M.`+long+`(n) end
function M.key(n) return M.keyed["`+key+`"](n) end
function M.index() local t = nil return t[big] end
return M`)
	for _, tt := range []struct {
		fn   string
		args []any
		want string
	}{
		{"named", []any{300}, "big.lua:3: deep"},
		{"key", []any{300}, "big.lua:5: deep"},
		{"index", nil, "big.lua:8: attempt to index a non-table object(nil) with key 'kkk"},
	} {
		_, err := rt.CallJSON(context.Background(), id, tt.fn, tt.args...)
		var e *lua.Error
		if !errors.As(err, &e) || !strings.Contains(e.Message, tt.want) {
			t.Fatalf("%s: %.300v, want an error saying %q", tt.fn, err, tt.want)
		}
		if n := len(err.Error()) + len(e.Traceback); n > 16<<10 {
			t.Errorf("%s: an error of %d bytes with its traceback, want at most 16 KiB", tt.fn, n)
		}
		if tt.args != nil && !strings.Contains(e.Traceback, "nnnnnnnn…") && !strings.Contains(e.Traceback, "kkkkkkkk…") {
			t.Errorf("%s: traceback %.500q, want the long name cut", tt.fn, e.Traceback)
		}
	}
}

// A syntax error quoting a token of a megabyte is cut as other messages are;
// a call on a line that also calls a global with a name the call records cut
// is still named (the global is looked up by its whole name).
func TestErrorTextCutKeepsMeaning(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	big := strings.Repeat("k", 1<<20)
	for _, src := range []string{
		"return { x = \"" + big + "\n }",
		"local M = {} M." + big + " = = 1 return M",
	} {
		_, err := rt.LoadScript(context.Background(), "s.lua", []byte(src))
		var e *lua.Error
		if !errors.As(err, &e) || !errors.Is(err, lua.ErrCompile) || !strings.HasPrefix(e.Message, "s.lua:") {
			t.Fatalf("%.200v, want a syntax error naming s.lua and the line", err)
		}
		if len(e.Message) > 4<<10 {
			t.Errorf("syntax error message of %d bytes (%.120q...), want at most 4 KiB", len(e.Message), e.Message)
		}
	}
	long := "f" + strings.Repeat("n", 300)
	id := load(t, rt, "g.lua", "local M = {}\nfunction "+long+"() return 1 end\nfunction M.go() "+long+"() spwan() end\nreturn M")
	_, err := rt.CallJSON(context.Background(), id, "go")
	if err == nil || !strings.Contains(err.Error(), "g.lua:3: attempt to call a non-function object (global 'spwan')") {
		t.Errorf("%v, want the call of spwan named", err)
	}
}

// A caught error closes the upvalues of the frames it left, as Lua 5.1 does,
// and no others: a local a closure shares with a function still running stays
// shared (gopher-lua closed them all), and a closure made in a frame the error
// left keeps its variable, not the stack slot the frame had (helper-240). The
// answers are lua5.1's.
func TestCaughtErrorClosesUpvalues(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "u.lua", `local M = {}
function M.local_count(catch)
  local n = 0
  local function bump() n = n + 1 end
  bump(); catch(); bump()
  return n
end
function M.table_count(catch)
  local s = {n = 0}
  local function bump() s.n = s.n + 1 end
  bump(); catch(); bump()
  return s.n
end
M.catchers = {
  none = function() end,
  pcall = function() pcall(error, "x") end,
  xpcall = function() xpcall(function() error("x") end, function(e) return e end) end,
  nested = function() xpcall(function() pcall(error, "in"); error("x") end, function(e) return e end) end,
  load = function() load(function() error("x") end) end,
}
local kept
local function fill(a, b, c, d) return a + b + c + d end
M.catchers_of = {
  pcall = function(f) pcall(f) end,
  xpcall = function(f) xpcall(f, function(e) return e end) end,
  load = function(f) load(function() f() end) end,
}
function M.left(c)
  M.catchers_of[c](function() local v = 41; kept = function() v = v + 1; return v end; error("gone") end)
  fill(1, 2, 3, 4) -- reuses the stack slots
  return kept() + 100 * kept()
end
function M.run(f, c) return M[f](M.catchers[c]) end
return M`)
	for _, tt := range []struct{ f, catch, want string }{
		{"local_count", "none", "2"},
		{"local_count", "pcall", "2"},
		{"local_count", "xpcall", "2"},
		{"local_count", "nested", "2"},
		{"local_count", "load", "2"},
		{"table_count", "pcall", "2"},
		{"table_count", "xpcall", "2"},
	} {
		if got := call(t, rt, id, "run", tt.f, tt.catch); got != tt.want {
			t.Errorf("%s with %s: %s, want %s", tt.f, tt.catch, got, tt.want)
		}
	}
	for _, c := range []string{"pcall", "xpcall", "load"} {
		if got := call(t, rt, id, "left", c); got != "4342" {
			t.Errorf("a closure made in a frame %s's error left: %s, want 4342 (42, then 43)", c, got)
		}
	}
}

// xpcall's handler runs before the error leaves the frames, as in Lua 5.1, so
// it writes the locals of the functions running, not copies of them
// (helper-249), also after an error pcall caught inside the xpcall.
func TestXpcallHandlerWritesLocals(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "x.lua", `local M = {}
function M.run()
  local errors, last = 0, nil
  local function onError(m) errors = errors + 1; last = m; return m end
  xpcall(function() error("boom", 0) end, onError)
  xpcall(function() pcall(error, "inner"); error("outer", 0) end, onError)
  local n = 0
  xpcall(function() n = n + 1; error("x", 0) end, function(m) n = n + 100; return m end)
  return errors, last, n
end
return M`)
	if got := call(t, rt, id, "run"); got != `[2,"outer",101]` {
		t.Errorf("run() = %s, want [2,\"outer\",101], as lua5.1", got)
	}
}

// xpcall's handler runs on a stack overflow too, where the call stack has no
// room for it (once the error has left the frames), and the caller's local
// stays shared with its closure; a registry overflow is caught as pcall
// catches it. The answers are lua5.1's, but for the message of the second
// (lua5.1: "too many results to unpack"). helper-251.
func TestXpcallOverflows(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "so.lua", `local M = {}
function M.stack()
  local n = 0
  local function bump() n = n + 1 end
  local function rec() return 1 + rec() end
  local ok, m = xpcall(rec, function(m) return "h:" .. m end)
  bump()
  return ok, m, n
end
function M.registry()
  local t = {} for i = 1, 300000 do t[i] = i end
  local ok, m = xpcall(function() return unpack(t) end, function(m) return "h:" .. m end)
  return ok, m
end
return M`)
	if got, want := call(t, rt, id, "stack"), `[false,"h:so.lua:5: stack overflow",1]`; got != want {
		t.Errorf("stack() = %s, want %s", got, want)
	}
	if got, want := call(t, rt, id, "registry"), `[false,"h:so.lua:12: registry overflow"]`; got != want {
		t.Errorf("registry() = %s, want %s", got, want)
	}
}

// Near the end of the call stack (1,024 frames), xpcall's handler runs where
// the error is raised while it has room, so debug.traceback lists the frames
// of the error, and a handler that needs more room than is left runs once the
// error has left them (helper-253). Lua 5.1 gives the same results.
func TestXpcallHandlerNearStackEnd(t *testing.T) {
	rt := newRuntime(t, lua.Config{Libraries: lua.LibDebug})
	id := load(t, rt, "hr.lua", `local M = {}
local function rh(n) if n == 0 then return "z" end return rh(n - 1) .. "" end
local function rec(n) if n == 0 then error("deep", 0) end return 1 + rec(n - 1) end
function M.traced(n) return select(2, xpcall(function() return rec(n) end, debug.traceback)) end
function M.deep(n) return select(2, xpcall(function() return rec(n) end, function(m) return "H:" .. rh(12) .. ":" .. m end)) end
return M`)
	for _, n := range []int{1000, 1011, 1015, 1017} {
		if got := call(t, rt, id, "traced", n); !strings.Contains(got, "in function 'rec'") {
			t.Errorf("error at depth %d: traceback %s names no frame of rec", n, got)
		}
	}
	for _, n := range []int{1000, 1005, 1008, 1010, 1012, 1016} {
		if got := call(t, rt, id, "deep", n); got != `"H:z:deep"` {
			t.Errorf("error at depth %d: xpcall returned %s, want \"H:z:deep\"", n, got)
		}
	}
}

// A call that fills the value stack fails with the registry overflow, and one
// that fills the call stack with its stack overflow and a traceback of its
// frames; an error raised right below the end of the call stack is the
// script's (helper-252: an error function on every call broke all three, the
// first as a Go panic out of the call).
func TestOverflowsEndTheCall(t *testing.T) {
	rt := newRuntime(t, lua.Config{Limits: lua.Limits{MaxInstructions: 10_000_000, MaxMemoryBytes: 64 << 20}})
	id := load(t, rt, "e.lua", `local M = {}
function M.big() return select('#', unpack({}, 1, 300000)) end
function M.overflow() local function f(n) return 1 + f(n + 1) end return f(1) end
function M.f(n) if n == 0 then error("mine") end return 1 + M.f(n - 1) end
return M`)
	_, err := rt.CallJSON(context.Background(), id, "big")
	if err == nil || !strings.Contains(err.Error(), "registry overflow") {
		t.Errorf("big: %v, want the registry overflow", err)
	}
	_, err = rt.CallJSON(context.Background(), id, "overflow")
	if e := asError(t, err); !strings.Contains(e.Message, "stack overflow") || !strings.Contains(e.Traceback, "in function 'f'") {
		t.Errorf("overflow: message %q, traceback %q; want the stack overflow and the frames of f", e.Message, e.Traceback)
	}
	_, err = rt.CallJSON(context.Background(), id, "f", 1022)
	if e := asError(t, err); e.Message != "e.lua:4: mine" || e.Traceback == "" {
		t.Errorf("f(1022): message %q, traceback %q; want e.lua:4: mine with a traceback", e.Message, e.Traceback)
	}
}
