package lua_test

import (
	"context"
	"fmt"
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
		{"load reader", `load(function() coroutine.yield(1) return nil end)`},
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
				want := `{"again":"can not resume a dead thread","err":"y.lua:4: attempt to yield across metamethod/C-call boundary","next":7,"ok":false,"status":"dead"}`
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
