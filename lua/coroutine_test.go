package lua_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hotscript/hotscript/lua"
)

// A yield out of a function Go called is refused as Lua 5.1 refuses it, with an
// error the coroutine fails with, naming the line; gopher-lua ended the function
// as if it had returned and broke the builtin or instruction that called it (a
// Go nil pointer dereference, "register underflow", a coroutine left "running",
// an xpcall whose handler yielded never returned, past every limit).
func TestYieldAcrossGoRefused(t *testing.T) {
	refused := []struct{ name, body string }{
		{"pcall", `local ok, e = pcall(function() coroutine.yield(1) end) error(e, 0)`},
		{"pcall of yield", `local ok, e = pcall(coroutine.yield, 1) error(e, 0)`},
		{"xpcall", `local ok, e = xpcall(function() coroutine.yield(1) end, function(m) return m end) error(e, 0)`},
		{"xpcall handler", `local ok, e = xpcall(function() error("e") end, function(m) coroutine.yield(1) return m end) error(e, 0)`},
		{"tostring", `tostring(setmetatable({}, {__tostring = function() coroutine.yield(1) return "x" end}))`},
		{"sort", `table.sort({3, 2, 1}, function(a, b) coroutine.yield(1) return a < b end)`},
		{"gsub", `string.gsub("ab", ".", function(c) coroutine.yield(1) return c end)`},
		{"load reader", `local f, e = load(function() coroutine.yield(1) return nil end) error(e, 0)`}, // load returns the reader's error, as in 5.1
		{"__index", `local _ = setmetatable({}, {__index = function() coroutine.yield(1) return 1 end}).x`},
		{"__newindex", `setmetatable({}, {__newindex = function() coroutine.yield(1) end}).x = 1`},
		{"__concat", `local _ = setmetatable({}, {__concat = function() coroutine.yield(1) return "" end}) .. "x"`},
		{"__add", `local _ = setmetatable({}, {__add = function() coroutine.yield(1) return 0 end}) + 1`},
		{"__eq", `local mt = {__eq = function() coroutine.yield(1) return true end} local _ = setmetatable({}, mt) == setmetatable({}, mt)`},
		{"__lt", `local mt = {__lt = function() coroutine.yield(1) return true end} local _ = setmetatable({}, mt) < setmetatable({}, mt)`},
		{"for iterator", `for _ in function() coroutine.yield(1) end do end`},
		{"deeper", `local function g() coroutine.yield(1) end local function f() g() end local ok, e = pcall(f) error(e, 0)`},
	}
	for _, limited := range []bool{false, true} {
		var lim lua.Limits
		if limited {
			lim = lua.Limits{MaxInstructions: 1e6, MaxExecutionTime: time.Second, MaxMemoryBytes: 64 << 20}
		}
		rt := newRuntime(t, lua.Config{Libraries: lua.LibCoroutine, Limits: lim})
		for _, tt := range refused {
			t.Run(fmt.Sprintf("%s/limited=%v", tt.name, limited), func(t *testing.T) {
				src := fmt.Sprintf(`local M = {}
function M.run()
  local co = coroutine.create(function()
    %s
    return "returned"
  end)
  local ok, err = coroutine.resume(co)
  local again = {coroutine.resume(co)}
  local gen = coroutine.wrap(function() coroutine.yield(7) end)
  return {ok = ok, err = err, status = coroutine.status(co), again = again[2], next = gen()}
end
return M`, tt.body)
				id := load(t, rt, "y.lua", src)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				out, err := rt.CallJSON(ctx, id, "run")
				if err != nil {
					t.Fatalf("run: %v", err)
				}
				want := `{"again":"cannot resume dead coroutine","err":"y.lua:4: attempt to yield across metamethod/C-call boundary","next":7,"ok":false,"status":"dead"}`
				if string(out) != want {
					t.Errorf("run = %s\nwant  %s", out, want)
				}
			})
		}
	}
}

// Yields that cross only Lua calls go through: the frame walk stops at the
// coroutine's first function, however it was called.
func TestYieldThroughLuaCalls(t *testing.T) {
	rt := newRuntime(t, lua.Config{Libraries: lua.LibCoroutine, Limits: lua.Limits{MaxInstructions: 1e6}})
	id := load(t, rt, "y.lua", `local M = {}
local obj = setmetatable({}, {__call = function(self, x) return coroutine.yield(x) end})
local function deep(n) if n == 0 then return coroutine.yield("deep") end return (deep(n - 1)) end
local function tail(x) return coroutine.yield(x) end
function M.run()
  local got = {}
  local co = coroutine.wrap(function()
    deep(50)
    tail("tail")
    obj("call")
    for i = 1, 2 do coroutine.yield(i) end
    local ok = pcall(error, "x") -- a pcall that ends before the yield
    coroutine.yield(ok)
    return "end"
  end)
  for _ = 1, 7 do got[#got + 1] = co() end
  for v in coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i * 10) end end) do got[#got + 1] = v end
  local first = coroutine.create(coroutine.yield)
  local _, v = coroutine.resume(first, "first")
  got[#got + 1] = v
  return got
end
return M`)
	if got, want := call(t, rt, id, "run"), `["deep","tail","call",1,2,false,"end",10,20,30,"first"]`; got != want {
		t.Errorf("run = %s, want %s", got, want)
	}
}

// Coroutines gopher-lua mishandles and Lua 5.1 runs: one whose first frame a
// yield replaces (return coroutine.yield(x) in its function, or the function
// being yield itself) failed its next resume with a Go nil pointer dereference
// and stayed "running"; one whose function is a Go function never ended
// (resume returned nothing); resuming a coroutine that is resuming the one
// running ran it again from the middle of its resume.
func TestCoroutineEdges(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"return yield in its function", `
  local co = coroutine.create(function(a) return coroutine.yield(a) end)
  local _, a = coroutine.resume(co, 1)
  local ok, b = coroutine.resume(co, 2)
  return {a, ok, b, coroutine.status(co)}`, `[1,true,2,"dead"]`},
		{"tail call of a yielding function", `
  local function step(x) return coroutine.yield(x) end
  local co = coroutine.create(function(a) step(a) return step(a + 1) end)
  coroutine.resume(co, 1)
  local _, a = coroutine.resume(co)
  local ok, b = coroutine.resume(co, 3)
  return {a, ok, b, coroutine.status(co)}`, `[2,true,3,"dead"]`},
		{"yield as the function", `
  local co = coroutine.create(coroutine.yield)
  local _, a = coroutine.resume(co, 1)
  local ok, b, c = coroutine.resume(co, 2, 3)
  return {a, ok, b, c, coroutine.status(co)}`, `[1,true,2,3,"dead"]`},
		{"wrap", `
  local gen = coroutine.wrap(function() coroutine.yield(1) return coroutine.yield(2) end)
  return {gen(), gen(), gen(3)}`, `[1,2,3]`},
		{"Go function", `
  local mx = coroutine.create(math.max)
  local ok, v = coroutine.resume(mx, 3, 4)
  local co = coroutine.create(coroutine.wrap(function(a) coroutine.yield(a * 10) end))
  local ok2, w = coroutine.resume(co, 1)
  return {ok, v, coroutine.status(mx), ok2, w, coroutine.status(co), coroutine.running() == nil}`,
			`[true,4,"dead",true,10,"dead",true]`},
		{"resume of a normal coroutine", `
  local A, B
  B = coroutine.create(function() return coroutine.resume(A) end)
  A = coroutine.create(function() return coroutine.resume(B) end)
  local r = {coroutine.resume(A)}
  r[#r + 1] = coroutine.status(A)
  r[#r + 1] = coroutine.status(B)
  local co = coroutine.create(function() coroutine.yield(1) return 2 end)
  local _, x = coroutine.resume(co)
  local _, y = coroutine.resume(co)
  r[#r + 1] = x + y
  return r`, `[true,true,false,"cannot resume non-suspended coroutine","dead","dead",3]`},
		{"error positions", `
  local ok, e = coroutine.resume(coroutine.create(function() error("boom") end))
  return e`, `"y.lua:3: boom"`},
	}
	for _, limited := range []bool{false, true} {
		var lim lua.Limits
		if limited {
			lim = lua.Limits{MaxInstructions: 1e6, MaxExecutionTime: time.Second}
		}
		rt := newRuntime(t, lua.Config{Libraries: lua.LibCoroutine, Limits: lim})
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/limited=%v", tt.name, limited), func(t *testing.T) {
				id := load(t, rt, "y.lua", "local M = {}\nfunction M.run()"+tt.body+"\nend\nreturn M")
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				out, err := rt.CallJSON(ctx, id, "run")
				if err != nil || string(out) != tt.want {
					t.Errorf("run = %s, %v; want %s", out, err, tt.want)
				}
			})
		}
	}
}

// A coroutine.wrap function a reload carried in a field belongs to the old
// version's LState: calling it fails with an error saying so, naming the line,
// each time (gopher-lua ran the old coroutine once, then failed with "can not
// resume a running thread" and no line); the new version's coroutines work.
func TestWrapCarriedAcrossReload(t *testing.T) {
	src := `local M = {}
function M.start() M.st = {g = coroutine.wrap(function() local i = 0 while true do i = i + 1 coroutine.yield(i) end end)} end
function M.next() return M.st.g() end
function M.fresh() return coroutine.wrap(function() coroutine.yield("fresh") end)() end
return M`
	rt := newRuntime(t, lua.Config{Libraries: lua.LibCoroutine})
	id := load(t, rt, "w.lua", src)
	call(t, rt, id, "start")
	if got := call(t, rt, id, "next"); got != "1" {
		t.Fatalf("next = %s", got)
	}
	reload(t, rt, id, src)
	for range 2 {
		_, err := rt.CallJSON(context.Background(), id, "next")
		if err == nil || !strings.Contains(err.Error(), "w.lua:3: cannot resume a coroutine of another version of the script") {
			t.Errorf("the carried wrap function after the reload: %v", err)
		}
	}
	if got := call(t, rt, id, "fresh"); got != `"fresh"` {
		t.Errorf("fresh = %s", got)
	}
	call(t, rt, id, "start")
	if got := call(t, rt, id, "next"); got != "1" {
		t.Errorf("next after a new start = %s", got)
	}
}

// More of Lua 5.1's coroutine rules gopher-lua broke or this package's
// trampoline must keep: a resume refused because its coroutine is resuming
// the running one, also through a closure a reload kept from an older version
// (whose library is that version's); "normal" for every coroutine down the
// chain of resumes; a wrap function's results past 9,999 (read at a negative
// index, they were gopher-lua's pseudo-indexes: the registry was handed to
// the script); a dead wrap function's error naming the line; the trampoline
// named [coroutine], not [string "..."] (a script's own loadstring chunk), in
// messages, and no level of error.
func TestCoroutineRules(t *testing.T) {
	v1 := `local M = {}
function M.start() M.st = {resume = function(co) return coroutine.resume(co) end} end
return M`
	v2 := `local M = {}
local dead = coroutine.wrap(function() end)
function M.start() M.st = {resume = function(co) return coroutine.resume(co) end} end
function M.carried()
  local A, B
  B = coroutine.create(function() local ok, e = M.st.resume(A) coroutine.yield(tostring(ok) .. " " .. e) end)
  A = coroutine.create(function() local _, r = coroutine.resume(B) return r end)
  return {coroutine.resume(A)}
end
function M.status()
  local A, B, C
  C = coroutine.create(function() return coroutine.status(A), coroutine.status(B), coroutine.resume(A) end)
  B = coroutine.create(function() return coroutine.resume(C) end)
  A = coroutine.create(function() return coroutine.resume(B) end)
  local r = {coroutine.resume(A)}
  return {r[4], r[5], r[6], r[7]}
end
function M.many()
  local t = {} for i = 1, 10000 do t[i] = i end
  local n = select("#", coroutine.wrap(function() return unpack(t) end)())
  local ok, first = pcall(coroutine.wrap(function() coroutine.yield(unpack(t)) end))
  return {n, ok, first}
end
function M.dead()
  dead()
  dead()
end
function M.named()
  local _, e = coroutine.resume(coroutine.create(math.floor))
  local _, e2 = coroutine.resume(coroutine.create(error), "x") -- level 1 is no Lua function: no position, as in 5.1
  return {e, e2}
end
return M`
	rt := newRuntime(t, lua.Config{Libraries: lua.LibCoroutine, Limits: lua.Limits{MaxInstructions: 1e6}})
	id := load(t, rt, "c.lua", v1)
	call(t, rt, id, "start")
	reload(t, rt, id, v2)
	for _, tt := range []struct{ fn, want string }{
		{"carried", `[true,"false cannot resume non-suspended coroutine"]`},
		{"status", `["normal","normal",false,"cannot resume non-suspended coroutine"]`},
		{"many", `[10000,true,1]`},
		{"named", `["[coroutine]:3: bad argument #1 to coroutine_function (number expected, got nil)","x"]`},
	} {
		if got := call(t, rt, id, tt.fn); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.fn, got, tt.want)
		}
	}
	_, err := rt.CallJSON(context.Background(), id, "dead")
	if e := asError(t, err); e.Line != 26 || !strings.Contains(err.Error(), "c.lua:26: cannot resume dead coroutine") {
		t.Errorf("a dead wrap function called: %v (line %d), want c.lua:26", err, e.Line)
	}
}
