package lua_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/hotscript/hotscript/lua"
)

// probeScript evaluates an expression given as source, inside the script's sandbox,
// and reports whether it raised an error.
const probeScript = `
local M = {}
function M.eval(src)
  local f, err = loadstring("return " .. src, "=eval")
  if not f then return "compile error: " .. err end
  local ok, v = pcall(f)
  if not ok then return "error: " .. tostring(v) end
  return v
end
return M`

func TestSandboxHolesClosed(t *testing.T) {
	tests := []struct {
		name, expr, want string
	}{
		{"getfenv", `getfenv`, `null`},
		{"getfenv(0)", `getfenv(0)`, `"error: eval:1: attempt to call a non-function object"`},
		{"setfenv", `setfenv`, `null`},
		{"os", `os`, `null`},
		{"os.exit", `os.exit(1)`, `"error: eval:1: attempt to index a non-table object(nil) with key 'exit'"`},
		{"io", `io`, `null`},
		{"io.open", `io.open("/etc/passwd")`, `"error: eval:1: attempt to index a non-table object(nil) with key 'open'"`},
		{"debug", `debug`, `null`},
		{"package", `package`, `null`},
		{"require", `require`, `null`},
		{"module", `module`, `null`},
		{"channel", `channel`, `null`},
		{"coroutine", `coroutine`, `null`},
		{"collectgarbage", `collectgarbage`, `null`},
		{"dofile", `dofile`, `null`},
		{"loadfile", `loadfile`, `null`},
		{"_printregs", `_printregs`, `null`},
		{"string.dump", `string.dump`, `null`},
		{"bytecode load", `select(2, loadstring("\27Lua\81\0"))`, `"attempt to load a binary chunk"`},
		{"bytecode load via reader", `select(2, load((function() local n = 0 return function() n = n + 1 return n == 1 and "\27Lua" or nil end end)()))`, `"attempt to load a binary chunk"`},
	}
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "probe.lua", probeScript)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := call(t, rt, id, "eval", tt.expr); got != tt.want {
				t.Errorf("%s = %s, want %s", tt.expr, got, tt.want)
			}
		})
	}
}

func TestSandboxLoadUsesScriptGlobals(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "l.lua", `
local M = {}
secret = 5
function M.run()
  local f = assert(load("leak = secret * 2; return secret"))
  local pieces, i = {"return ", "1 +", " 1"}, 0
  local g = assert(load(function() i = i + 1 return pieces[i] end))
  return f(), leak, g()
end
return M`)
	if got := call(t, rt, id, "run"); got != "[5,10,2]" {
		t.Errorf("run = %s, want loaded chunks to share the script's globals", got)
	}
}

func TestLibrariesOptIn(t *testing.T) {
	tests := []struct {
		name string
		libs lua.Libraries
		expr string
		want string
	}{
		{"os without exit", lua.LibOS, `type(os.time()) .. tostring(os.exit)`, `"numbernil"`},
		{"io", lua.LibIO, `type(io.write)`, `"function"`},
		{"debug", lua.LibDebug, `type(debug.traceback)`, `"function"`},
		{"package", lua.LibPackage, `type(require) .. type(package.path)`, `"functionstring"`},
		{"channel", lua.LibChannel, `type(channel.make)`, `"function"`},
		{"coroutine", lua.LibCoroutine, `(function()
			local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
			return gen() + gen() + gen() end)()`, `6`},
		{"coroutine resume status", lua.LibCoroutine, `(function()
			local co = coroutine.create(function(a) local b = coroutine.yield(a + 1) return b * 2 end)
			local _, x = coroutine.resume(co, 1)
			local _, y = coroutine.resume(co, 10)
			return x .. "," .. y .. "," .. coroutine.status(co) end)()`, `"2,20,dead"`},
		{"wrapped coroutine error", lua.LibCoroutine, `coroutine.wrap(function() error("inner", 0) end)()`, `"error: eval:1: inner"`}, // the wrap function's caller, as 5.1's wrap puts it
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, lua.Config{Libraries: tt.libs})
			id := load(t, rt, "probe.lua", probeScript)
			if got := call(t, rt, id, "eval", tt.expr); got != tt.want {
				t.Errorf("%s = %s, want %s", tt.expr, got, tt.want)
			}
		})
	}
}

func TestPrint(t *testing.T) {
	var out bytes.Buffer
	rt := newRuntime(t, lua.Config{Stdout: &out})
	id := load(t, rt, "p.lua", `return { f = function() print("a", 1, nil, true, setmetatable({}, {__tostring = function() return "T" end})) end }`)
	call(t, rt, id, "f")
	if got := out.String(); got != "a\t1\tnil\ttrue\tT\n" {
		t.Errorf("print wrote %q", got)
	}

	var log bytes.Buffer
	rt2, err := lua.NewRuntimeWithConfig(context.Background(), lua.Config{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer rt2.Close(context.Background())
	id2 := load(t, rt2, "logged.lua", `return { f = function() print("hello", 2) end }`)
	call(t, rt2, id2, "f")
	if got := log.String(); !strings.Contains(got, `msg="hello\t2"`) || !strings.Contains(got, "script=logged.lua") {
		t.Errorf("print logged %q", got)
	}
}

func TestRandomIsPerScript(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	src := `return {
	  seed = function(n) math.randomseed(n) end,
	  draw = function() local t = {} for i = 1, 5 do t[i] = math.random(1, 1000) end return t end,
	  range = function() for i = 1, 200 do local r = math.random(3, 5) if r < 3 or r > 5 then return r end end
	    for i = 1, 200 do local r = math.random(-2^62, 2^62) if r < -2^62 or r > 2^62 then return r end end
	    for i = 1, 200 do local r = math.random(-2^63, 2^63 - 1024) if r < -2^63 or r > 2^63 then return r end end
	    local f = math.random() return f >= 0 and f < 1 end,
	}`
	a := load(t, rt, "a.lua", src)
	b := load(t, rt, "b.lua", src)
	call(t, rt, a, "seed", 7)
	call(t, rt, b, "seed", 7)
	first := call(t, rt, a, "draw") // would advance b's numbers with a shared generator
	if got := call(t, rt, b, "draw"); got != first {
		t.Errorf("same seed, different numbers: a %s, b %s", first, got)
	}
	if got := call(t, rt, a, "range"); got != "true" {
		t.Errorf("random out of range: %s", got)
	}
	if _, err := rt.CallJSON(context.Background(), a, "seed", nil); err == nil {
		t.Error("randomseed(nil) did not fail")
	}
}
