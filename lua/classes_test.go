package lua_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hotscript/hotscript/lua"
)

// classSrc is an enemy class in the style given (how the class is declared:
// "module", "local", "global", "self" for the module as the class), with objects
// in M.enemies, a class field counting them, and describe saying version.
func classSrc(style, version string, extra string) string {
	decl := map[string]string{
		"module": "M.Enemy = { count = 0 }\nlocal Enemy = M.Enemy",
		"local":  "local Enemy = { count = 0 }",
		"global": "Enemy = { count = 0 }",
		"self":   "local Enemy = M\nM.count = 0",
	}[style]
	return fmt.Sprintf(`local M = { enemies = {} }
%s
Enemy.__index = Enemy
function Enemy.new(hp) Enemy.count = Enemy.count + 1 return setmetatable({ hp = hp }, Enemy) end
function Enemy:hit(n) self.hp = self.hp - n end
function Enemy:describe() return "%s " .. self.hp end
function M.spawn(hp) table.insert(M.enemies, Enemy.new(hp)) end
function M.show()
  local out = {}
  for i, e in ipairs(M.enemies) do out[i] = e:describe() end
  return out, Enemy.count, getmetatable(M.enemies[1]) == Enemy and getmetatable(M.enemies[2]) == Enemy
end
%s
return M`, decl, version, extra)
}

// TestReloadCarriesClasses: objects keep their class across a reload, and the
// class is the new version's, whether the module holds it, a local the
// module's functions use does, the globals do, or the module is the class:
// edited methods run, added ones are there, class fields are carried as the
// module's are (a global class's are not: globals are not carried).
func TestReloadCarriesClasses(t *testing.T) {
	for _, style := range []string{"module", "local", "global", "self"} {
		t.Run(style, func(t *testing.T) {
			rt := newRuntime(t, lua.Config{})
			id := load(t, rt, "enemy.lua", classSrc(style, "v1", ""))
			call(t, rt, id, "spawn", 10)
			call(t, rt, id, "spawn", 20)
			if got := call(t, rt, id, "show"); got != `[["v1 10","v1 20"],2,true]` {
				t.Fatalf("before the reload: show = %s", got)
			}
			failing := classSrc(style, "v2", "function M.on_save() end\nfunction M.on_restore() error('refused') end")
			if err := rt.ReloadScript(context.Background(), id, []byte(failing)); !errors.Is(err, lua.ErrRuntime) {
				t.Fatalf("reload with a failing on_restore: %v", err)
			}
			if got := call(t, rt, id, "show"); got != `[["v1 10","v1 20"],2,true]` {
				t.Fatalf("after a failed reload: show = %s, want the old class and objects as they were", got)
			}
			reload(t, rt, id, classSrc(style, "v2", `function Enemy:heal(n) self.hp = self.hp + n end
function M.heal_all(n) for _, e in ipairs(M.enemies) do e:heal(n) end end`))
			call(t, rt, id, "heal_all", 5)
			count := "2"
			if style == "global" {
				count = "0"
			}
			if got, want := call(t, rt, id, "show"), `[["v2 15","v2 25"],`+count+`,true]`; got != want {
				t.Errorf("after the reload: show = %s, want %s", got, want)
			}
			call(t, rt, id, "spawn", 30) // the new class makes objects as the carried ones are
			reload(t, rt, id, classSrc(style, "v3", ""))
			if got := call(t, rt, id, "show"); !strings.HasPrefix(got, `[["v3 15","v3 25","v3 30"],`) || !strings.HasSuffix(got, ",true]") {
				t.Errorf("after a second reload: show = %s", got)
			}
		})
	}
}

// TestReloadClassChanges: a class's method removed by the new version is gone
// from the carried objects, a subclass's objects see their base class's new
// methods, an object whose class the new version no longer has keeps the old
// one (its methods run the old code), and a metatable made for one object is
// carried with it.
func TestReloadClassChanges(t *testing.T) {
	const v1 = `local M = { objs = {} }
local Base = {}
Base.__index = Base
function Base:name() return "base v1" end
function Base:gone() return "still here" end
local Derived = setmetatable({}, { __index = Base })
Derived.__index = Derived
local Old = { __index = { name = function() return "old class v1" end } }
function M.make()
  M.objs.d = setmetatable({}, Derived)
  M.objs.o = setmetatable({}, Old)
  M.objs.own = setmetatable({}, { __index = function(t, k) return k .. "!" end })
end
function M.probe()
  return M.objs.d:name(), M.objs.o:name(), M.objs.own.hey, M.objs.d.gone == nil
end
return M`
	v2 := strings.NewReplacer(`"base v1"`, `"base v2"`, `function Base:gone() return "still here" end`, "",
		`local Old = { __index = { name = function() return "old class v1" end } }`, "",
		`  M.objs.o = setmetatable({}, Old)`, "").Replace(v1)
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "c.lua", v1)
	call(t, rt, id, "make")
	if got := call(t, rt, id, "probe"); got != `["base v1","old class v1","hey!",false]` {
		t.Fatalf("before the reload: probe = %s", got)
	}
	reload(t, rt, id, v2)
	if got := call(t, rt, id, "probe"); got != `["base v2","old class v1","hey!",true]` {
		t.Errorf("after the reload: probe = %s, want the new base's method, the old class kept, the object's own metatable, the removed method gone", got)
	}
}

// TestReloadCarriesStateFunctions: a data field that holds one of the
// version's functions (a state machine's state, a queue of actions) holds the
// new version's of it after a reload; so does a module field the script set
// to another of its functions. A module field that still holds what the
// chunk gave it takes the new chunk's, as functions always do.
func TestReloadCarriesStateFunctions(t *testing.T) {
	src := func(v string) string {
		return fmt.Sprintf(`local M = { fsm = { current = nil }, queue = {} }
function M.idle() return "idle %[1]s" end
function M.attack() return "attack %[1]s" end
M.fsm.current = M.idle
local function flee() return "flee %[1]s" end
function M.menu() return "menu %[1]s" end
function M.play() return "play %[1]s" end
M.scene = M.menu
function M.go() M.fsm.current = M.attack; M.queue = { flee, M.idle }; M.scene = M.play end
function M.probe() return M.fsm.current(), M.queue[1](), M.queue[2](), M.scene(), M.menu() end
return M`, v)
	}
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "fsm.lua", src("v1"))
	call(t, rt, id, "go")
	reload(t, rt, id, src("v2"))
	if got := call(t, rt, id, "probe"); got != `["attack v2","flee v2","idle v2","play v2","menu v2"]` {
		t.Errorf("probe = %s, want each function state carried as the new version's", got)
	}

	id = load(t, rt, "untouched.lua", src("v1"))
	reload(t, rt, id, strings.NewReplacer("M.fsm.current = M.idle", "M.fsm.current = M.attack",
		"M.queue[1](), M.queue[2](), ", "").Replace(src("v2")))
	if got := call(t, rt, id, "probe"); got != `["attack v2","menu v2","menu v2"]` {
		t.Errorf("probe = %s, want fsm.current as the new chunk set it, M.scene the new menu", got)
	}
}

// TestReloadMapsGlobals: a table or function of the old version's globals
// (the globals table behind an environment's __index, a library function kept
// in a field) is the new version's after a reload, not a copy of the old.
func TestReloadMapsGlobals(t *testing.T) {
	const src = `local M = {}
M.env = setmetatable({}, { __index = _G })
M.lib = { s = string }
function M.probe() return M.env.tostring == tostring, M.lib.s == string, M.env.x end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "g.lua", src)
	reload(t, rt, id, "x = 'new global'\n"+src)
	if got := call(t, rt, id, "probe"); got != `[true,true,"new global"]` {
		t.Errorf("probe = %s, want the new version's globals and library", got)
	}
}

// TestReloadDeepMetatables: a chain of metatables deeper than any path the
// reload follows to find classes is carried whole, without recursion.
func TestReloadDeepMetatables(t *testing.T) {
	const src = `local M = {}
local function chain(n)
  local first = {}
  local t = first
  for i = 1, n do local mt = { depth = i } setmetatable(t, mt) t = mt end
  return first
end
function M.build(n) M.chain = chain(n) end
function M.depth()
  local n, t = 0, M.chain
  while getmetatable(t) do t = getmetatable(t) n = n + 1 end
  return n, t.depth
end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "deep.lua", src)
	call(t, rt, id, "build", 20_000)
	reload(t, rt, id, src)
	if got := call(t, rt, id, "depth"); got != "[20000,20000]" {
		t.Errorf("depth = %s after the reload, want [20000,20000]", got)
	}
}

// TestReloadDoesNotMergeIntoGlobals: a table of code that the new version
// replaced with its globals is not merged into them: the old table's data
// does not become globals.
func TestReloadDoesNotMergeIntoGlobals(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "g.lua", `return { env = { leaked = 1, f = function() end } }`)
	reload(t, rt, id, `local M = { env = _G }
function M.probe() return rawget(_G, "leaked") == nil end
return M`)
	if got := call(t, rt, id, "probe"); got != "true" {
		t.Errorf("probe = %s: the old table's data was merged into the globals", got)
	}
}
