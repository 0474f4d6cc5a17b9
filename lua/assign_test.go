package lua_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hotscript/hotscript/lua"
)

// Multiple assignment and the .. operator give what Lua 5.1 gives (want is
// lua5.1's output for the program, named a1.lua): gopher-lua's compiler
// stored a value over a local a later value still read (a, b = b, a gave 2,
// 2; yuin/gopher-lua#440) or took a register another target's key or value
// held (G, t[1] = x, z set G to 1), and a call or ... ending a .. chain gave
// all its values ("name: " .. s:gsub("_", " ") ended in gsub's count);
// helper-256. Targets' tables and keys, then values, are computed left to
// right, and stored the last first, as 5.1 stores them.
func TestAssignmentAndConcatFollowLua51(t *testing.T) {
	const src = `local a, b = 1, 2
a, b = b, a
print(a, b)
local x, y = 1, 0
x, y = -y, x
print(x + 0, y)
local p, q = 0, 1
for i = 1, 5 do p, q = q, p + q end
print(p, q)
local function f(a, b) a, b = b, a return a, b end
print(f(1, 2))
local t, i = {}, 1
t[i], i = i, 5
print(t[1], i)
i = 1
i, t[i] = i + 1, 20
print(i, t[1], t[2])
local u = {}
local function set() local x, z = 11, 33 G, u[1] = x, z end
set()
print(G, u[1])
local c = 0
local function up() local x, z = 11, 33 c, u[2] = x, z end
up()
print(c, u[2])
local d
d, d = 1, 2
print(d)
local log = {}
local function L(s, v) log[#log + 1] = s return v end
local m = setmetatable({}, {__newindex = function(_, k, v) log[#log + 1] = "set " .. k end})
m[L("k1", "a")], m[L("k2", "b")] = L("v1", 1), L("v2", 2), L("v3", 3)
print(table.concat(log, " "))
local function three() return 7, 8, 9 end
local e1, e2, e3
e1, e2, e3 = 0, three()
print(e1, e2, e3)
e1, e2, e3 = three(), 0
print(e1, e2, e3)
e1, e2 = 5
print(e1, e2)
local s = "a_b_c"
print("name: " .. s:gsub("_", " "))
print("x" .. three())
print(pcall(function() return "x" .. (function() end)() end))
local function v(...) return "a" .. ... end
print(v("b", "c"))
print(("p" .. three()) .. "q", 1 .. 2 .. three())`
	const want = "2\t1\n0\t1\n5\t8\n2\t1\n1\t5\n2\t20\tnil\n11\t33\n11\t33\n1\nk1 k2 v1 v2 v3 set b set a\n0\t7\t8\n7\t0\tnil\n5\tnil\nname: a b c\nx7\nfalse\ta1.lua:45: attempt to concatenate a nil value\nab\np7q\t127\n"
	for _, lim := range []lua.Limits{{}, {MaxInstructions: 1e8}} {
		var out strings.Builder
		rt := newRuntime(t, lua.Config{Stdout: &out, Limits: lim})
		if _, err := rt.LoadScript(context.Background(), "a1.lua", []byte(src+"\nreturn {}")); err != nil {
			t.Fatal(err)
		}
		if got := out.String(); got != want {
			t.Errorf("limits %+v: printed\n%s\nwant (lua5.1)\n%s", lim, got, want)
		}
	}
}
