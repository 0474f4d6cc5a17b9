package lua_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hotscript/hotscript/lua"
)

// TestReloadLocalAliasDoesNotDecide: a local that only aliases a class the
// module holds (local Default = M.Enemy), edited to alias another (M.Boss),
// does not decide the match: the class's first place (M.Enemy) does, so each
// object keeps its class, the new version's, and each class its count.
func TestReloadLocalAliasDoesNotDecide(t *testing.T) {
	const v1 = `local M = { objs = {} }
M.Enemy = { count = 0 } M.Enemy.__index = M.Enemy
function M.Enemy:kind() return "enemy VERSION" end
M.Boss = { count = 0 } M.Boss.__index = M.Boss
function M.Boss:kind() return "boss VERSION" end
local Default = M.Enemy
function M.spawn() Default.count = Default.count + 1 table.insert(M.objs, setmetatable({}, Default)) end
function M.spawn_boss() M.Boss.count = M.Boss.count + 1 table.insert(M.objs, setmetatable({}, M.Boss)) end
function M.probe() local out = {} for i, o in ipairs(M.objs) do out[i] = o:kind() end return out, M.Enemy.count, M.Boss.count end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "a.lua", strings.ReplaceAll(v1, "VERSION", "v1"))
	call(t, rt, id, "spawn")
	call(t, rt, id, "spawn_boss")
	v2 := strings.Replace(strings.ReplaceAll(v1, "VERSION", "v2"), "local Default = M.Enemy", "local Default = M.Boss", 1)
	reload(t, rt, id, v2)
	if got := call(t, rt, id, "probe"); got != `[["enemy v2","boss v2"],1,1]` {
		t.Errorf("after re-aliasing Default to M.Boss: probe = %s, want [[\"enemy v2\",\"boss v2\"],1,1]", got)
	}
}

// TestReloadNaNConstantFollowsTheSource: a class constant the chunk set to
// NaN and the script left alone follows an edit of the source (NaN is the
// value the chunk left, bit for bit).
func TestReloadNaNConstantFollowsTheSource(t *testing.T) {
	const v1 = `local M = { objs = {} }
M.Enemy = { limit = LIMIT }
M.Enemy.__index = M.Enemy
function M.Enemy:get() return self.limit end
function M.probe() return tostring(M.Enemy.limit) end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "n.lua", strings.Replace(v1, "LIMIT", "0/0", 1))
	reload(t, rt, id, strings.Replace(v1, "LIMIT", "5", 1))
	if got := call(t, rt, id, "probe"); got != `"5"` {
		t.Errorf("after editing limit = 0/0 to limit = 5 (the script never touched it): limit = %s, want 5", got)
	}
}

// TestReloadOddModules: a chunk that returns _G as its module, or a module
// that is its own metatable, reloads.
func TestReloadOddModules(t *testing.T) {
	for name, src := range map[string]string{
		"_G": `count = 0
Enemy = { n = 0 } Enemy.__index = Enemy
function Enemy:hi() return "VERSION" end
objs = {}
function spawn() count = count + 1 objs[#objs+1] = setmetatable({}, Enemy) end
function probe() return count, objs[1]:hi() end
return _G`,
		"self-meta": `local M = { count = 0 }
M.__index = M
setmetatable(M, M)
function M.spawn() M.count = M.count + 1 M.obj = setmetatable({}, M) end
function M.hi() return "VERSION" end
function M.probe() return M.count, M.obj.hi() end
return M`,
	} {
		t.Run(name, func(t *testing.T) {
			rt := newRuntime(t, lua.Config{})
			id := load(t, rt, "o.lua", strings.Replace(src, "VERSION", "v1", 1))
			call(t, rt, id, "spawn")
			reload(t, rt, id, strings.Replace(src, "VERSION", "v2", 1))
			if got := call(t, rt, id, "probe"); got != `[1,"v2"]` {
				t.Errorf("probe = %s", got)
			}
		})
	}
}

// TestReloadNestedDataInMergedTableKept: a table of data inside a table of
// code the module holds (an object's shield, a class's registry), which the
// chunk made and the script changed, is carried whole, as the module's data
// is, though it is the table the chunk made.
func TestReloadNestedDataInMergedTableKept(t *testing.T) {
	for name, src := range map[string]string{
		"shield": `local M = {}
M.player = { hp = 100, shield = { hp = 50 } }
function M.player.hit(self, n) self.shield.hp = self.shield.hp - n end
function M.hit(n) M.player:hit(n) end
function M.probe() return M.player.shield.hp end
return M`,
		"inventory": `local M = {}
M.inventory = { items = {}, counts = { gold = 0 } }
function M.inventory:add(x) table.insert(self.items, x) self.counts.gold = self.counts.gold + 1 end
function M.hit(n) M.inventory:add("sword") end
function M.probe() return #M.inventory.items, M.inventory.counts.gold end
return M`,
		"class registry": `local M = {}
M.Enemy = { byName = {} }
M.Enemy.__index = M.Enemy
function M.Enemy.new(name) local e = setmetatable({ name = name }, M.Enemy) M.Enemy.byName[name] = e return e end
function M.hit(n) M.Enemy.new("orc" .. n) end
function M.probe() local n = 0 for _ in pairs(M.Enemy.byName) do n = n + 1 end return n end
return M`,
	} {
		t.Run(name, func(t *testing.T) {
			rt := newRuntime(t, lua.Config{})
			id := load(t, rt, "p.lua", src)
			call(t, rt, id, "hit", 10)
			call(t, rt, id, "hit", 5)
			want := call(t, rt, id, "probe")
			reload(t, rt, id, src) // the same source
			if got := call(t, rt, id, "probe"); got != want {
				t.Errorf("after reloading the same source: probe = %s, want %s", got, want)
			}
		})
	}
}

// TestReloadRemovedMetamethodStaysRemoved: a metamethod the edit removes
// from a local or global class is gone after the reload: only the wiring the
// old code set as it ran is carried, not what the old chunk set.
func TestReloadRemovedMetamethodStaysRemoved(t *testing.T) {
	const v1 = `local M = { objs = {} }
DECL Vec = {}
Vec.__index = Vec
Vec.__tostring = function(v) return "Vec(" .. v.x .. ")" end
Vec.__newindex = function(t, k, v) error("frozen") end
function M.spawn() table.insert(M.objs, setmetatable({ x = 1 }, Vec)) end
function M.probe() local ok = pcall(function() M.objs[1].y = 2 end) return tostring(M.objs[1]):sub(1, 4), ok end
return M`
	for _, decl := range []string{"local", ""} {
		t.Run("decl="+decl, func(t *testing.T) {
			src1 := strings.Replace(v1, "DECL", decl, 1)
			src2 := strings.NewReplacer(`Vec.__tostring = function(v) return "Vec(" .. v.x .. ")" end`, "",
				`Vec.__newindex = function(t, k, v) error("frozen") end`, "").Replace(src1)
			rt := newRuntime(t, lua.Config{})
			id := load(t, rt, "v.lua", src1)
			call(t, rt, id, "spawn")
			if got := call(t, rt, id, "probe"); got != `["Vec(",false]` {
				t.Fatalf("before: %s", got)
			}
			reload(t, rt, id, src2)
			if got := call(t, rt, id, "probe"); got != `["tabl",true]` {
				t.Errorf("after removing __tostring and __newindex from the source: probe = %s, want [\"tabl\",true]", got)
			}
			// a fresh load of src2 for comparison
			id2 := load(t, rt, "v2.lua", src2)
			call(t, rt, id2, "spawn")
			if got := call(t, rt, id2, "probe"); got != `["tabl",true]` {
				t.Errorf("fresh load: %s", got)
			}
		})
	}
}

// TestReloadRemovedModuleFieldStaysRemoved: a data field of the module that
// the chunk set and the script removed as it ran (a target gone) stays
// removed after a reload, not back with the chunk's initial value.
func TestReloadRemovedModuleFieldStaysRemoved(t *testing.T) {
	const src = `local M = { target = { id = 7 }, name = "a" }
function M.drop() M.target = nil M.name = nil end
function M.probe() return M.target == nil, M.name == nil end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "m.lua", src)
	call(t, rt, id, "drop")
	if got := call(t, rt, id, "probe"); got != `[true,true]` {
		t.Fatalf("before: %s", got)
	}
	reload(t, rt, id, src)
	if got := call(t, rt, id, "probe"); got != `[true,true]` {
		t.Errorf("after reloading the same source: probe = %s, want [true,true] (the removed fields stay removed)", got)
	}
}

// TestReloadRegisteredLocalClass: a local (or global) class with a data field
// of its own that the module's data refers to (a registry by name) is one
// table after a reload: objects' metatable is the registry's entry, the new
// class, with the old one's data.
func TestReloadRegisteredLocalClass(t *testing.T) {
	for name, decl := range map[string]string{"local": "local Enemy", "global": "Enemy"} {
		t.Run(name, func(t *testing.T) {
			src := `local M = { objs = {}, kinds = {} }
` + decl + ` = { kind = "enemy" }
Enemy.__index = Enemy
function Enemy.new() return setmetatable({}, Enemy) end
function M.register() M.kinds.enemy = Enemy end
function M.spawn() M.objs[#M.objs + 1] = Enemy.new() end
function M.probe() return getmetatable(M.objs[1]) == M.kinds.enemy, getmetatable(M.objs[#M.objs]) == M.kinds.enemy end
return M`
			rt := newRuntime(t, lua.Config{})
			id := load(t, rt, "c.lua", src)
			call(t, rt, id, "register")
			call(t, rt, id, "spawn")
			if got := call(t, rt, id, "probe"); got != `[true,true]` {
				t.Fatalf("before: %s", got)
			}
			reload(t, rt, id, src)
			call(t, rt, id, "spawn")
			if got := call(t, rt, id, "probe"); got != `[true,true]` {
				t.Errorf("after reloading the same source: probe = %s, want [true,true] (objects are of the registered class)", got)
			}
		})
	}
}

// TestReloadLocalAliasOfData: a table of data that the module and a local of
// the chunk both hold (local state = {...}; M.state = state), which the
// module's functions change through the local, is one table after a reload,
// holding the carried state in the old pairs order: the functions' local is
// M.state, so nothing they do is lost at the next reload. A table two fields
// of the new chunk share is filled once, and a library table is never filled.
func TestReloadLocalAliasOfData(t *testing.T) {
	const src = `local state = { hp = 100, z = 1 }
local M = { state = state, other = {}, lib = string }
function M.hit() state.hp = state.hp - 10 state.a = true end
function M.probe()
  local keys = {}
  for k in pairs(M.state) do keys[#keys + 1] = k end
  return state.hp, M.state.hp, state == M.state, table.concat(keys, ","), string.rep ~= nil
end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "s.lua", src)
	call(t, rt, id, "hit")
	reload(t, rt, id, src)
	if got := call(t, rt, id, "probe"); got != `[90,90,true,"hp,z,a",true]` {
		t.Errorf("after a reload: probe = %s", got)
	}
	call(t, rt, id, "hit")
	reload(t, rt, id, src)
	if got := call(t, rt, id, "probe"); got != `[80,80,true,"hp,z,a",true]` {
		t.Errorf("after a second reload: probe = %s, want the hits made in between kept", got)
	}
	// The new chunk holds one table in two fields the old one held apart,
	// and a library where the old one held data.
	reload(t, rt, id, `local shared = { hp = 0 }
local M = { state = shared, other = shared, lib = string }
function M.probe() return M.state.hp, M.other == M.state, string.rep("x", 2) end
return M`)
	if got := call(t, rt, id, "probe"); got != `[80,false,"xx"]` {
		t.Errorf("a table two fields share: probe = %s, want state carried, other its own copy, string intact", got)
	}
}

// TestReloadLocalAliasOfNestedData: a local holding a table of data below
// the module's fields (a component's, a merged class's data) holds the
// carried state too, reload after reload (helper-173: it held the new
// chunk's fresh table, and what the functions wrote through it between
// reloads was lost at the next one).
func TestReloadLocalAliasOfNestedData(t *testing.T) {
	for name, src := range map[string]string{
		"nested field": `local M = { inventory = { items = {} }, stats = { hp = 100 } }
local items = M.inventory.items
function M.bump() items[#items + 1] = "sword" end
function M.count() return #items, #M.inventory.items end
return M`,
		"data of a merged class": `local M = {}
M.Enemy = { made = { n = 0 } }
local made = M.Enemy.made
function M.Enemy.new() made.n = made.n + 1 end
function M.bump() M.Enemy.new() end
function M.count() return made.n, M.Enemy.made.n end
return M`,
		// The middle table is first reached through a function's upvalue
		// (helper-176: its places were not recorded; helper-177: nor those
		// two below it).
		"below a table a function holds": `local M = {}
local world = { grid = { cells = { row = {} } } }
local grid = world.grid
local row = world.grid.cells.row
function M.size() return grid.w end
function M.bump() row[#row + 1] = "x" end
function M.count() return #row, #M.world.grid.cells.row end
M.world = world
return M`,
		"one table at two places in both versions": `local shared = { n = 0 }
local M = { a = shared, b = { c = shared } }
function M.bump() shared.n = shared.n + 1 end
function M.count() return shared.n, M.b.c.n end
return M`,
	} {
		t.Run(name, func(t *testing.T) {
			rt := newRuntime(t, lua.Config{})
			id := load(t, rt, "s.lua", src)
			for want := 1; want <= 3; want++ {
				call(t, rt, id, "bump")
				reload(t, rt, id, src)
				if got, w := call(t, rt, id, "count"), fmt.Sprintf("[%d,%d]", want, want); got != w {
					t.Fatalf("after %d bumps and reloads: count() = %s, want %s", want, got, w)
				}
			}
		})
	}
}

// TestReloadIntoChunkOnlyWhereLeft: the old data goes into the new chunk's
// table at a place only where the old chunk's table is there still
// (helper-175): a field the script gave another table leaves the new chunk's
// table there its own (a constant, at the top or below), and a list's
// entries, which move, are not places.
func TestReloadIntoChunkOnlyWhereLeft(t *testing.T) {
	for name, c := range map[string]struct{ src, act, probe, want, next string }{
		"a field replaced": {`local DEFAULT = { hp = 100 }
local M = { stats = DEFAULT }
function M.hurt() M.stats = { hp = 37 } end
function M.probe() return DEFAULT.hp, M.stats.hp end
return M`, "hurt", "probe", "[100,37]", ""},
		"a nested field replaced": {`local DEFAULT = { hp = 100 }
local M = { player = { stats = DEFAULT } }
function M.hurt() M.player.stats = { hp = 37 } end
function M.probe() return DEFAULT.hp, M.player.stats.hp end
return M`, "hurt", "probe", "[100,37]", ""},
		// The new chunk's table at two places that held two old tables is
		// neither's (helper-176: it took one's data), at the top or below.
		"a new table at two places": {`local M = { a = { items = {} }, b = { items = {} } }
function M.add() M.b.items[#M.b.items + 1] = "sword" end
return M`, "add", "probe", "[0,0,1,false]", `local NONE = {}
local M = { a = { items = NONE }, b = { items = NONE } }
function M.probe() return #NONE, #M.a.items, #M.b.items, M.a.items == NONE end
return M`},
		"a new table at two fields": {`local M = { a = {}, b = {} }
function M.add() M.a[#M.a + 1] = "sword" end
return M`, "add", "probe", "[0,1,0,false]", `local NONE = {}
local M = { a = NONE, b = NONE }
function M.probe() return #NONE, #M.a, #M.b, M.b == NONE end
return M`},
		// Nor is one at two places of which one held the old chunk's table
		// (helper-177: it took that one's data, the other field sharing it).
		"a new table at two places, one held before": {`local M = { a = {} }
function M.add() M.a[#M.a + 1] = "sword" end
return M`, "add", "probe", "[0,1,0,false]", `local NONE = {}
local M = { a = NONE, b = NONE }
function M.probe() return #NONE, #M.a, #M.b, M.a == M.b end
return M`},
		// Nor one at more places than findSites keeps paths for (helper-178:
		// three functions' upvalues came first; slots.b, unrecorded, was not
		// counted, and NONE took slots.a's old data).
		"a new table at two places, and in three upvalues": {`local M = { slots = { a = {}, b = {} } }
function M.add() M.slots.a[#M.slots.a + 1] = "sword" end
return M`, "add", "probe", "[0,1,0,false]", `local NONE = {}
local M = {}
function M.f1() return NONE end
function M.f2() return NONE end
function M.f3() return NONE end
M.slots = { a = NONE, b = NONE }
function M.probe() return #NONE, #M.slots.a, #M.slots.b, M.slots.a == NONE end
return M`},
		// An old table at two places where the new chunk has two tables goes
		// into neither (a copy of it at both, shared as it was).
		"an old table at two places, two new ones": {`local shared = {}
local M = { a = shared, b = shared }
function M.add() shared[#shared + 1] = "sword" end
return M`, "add", "probe", "[0,0,1,1,true]", `local A, B = {}, {}
local M = { a = A, b = B }
function M.probe() return #A, #B, #M.a, #M.b, M.a == M.b end
return M`},
		// Whatever the order of the module's fields (helper-180: with M.c,
		// whose new table is A too, first, B took the shared table's data).
		"an old table at two places, two new ones, a third first": {`local shared = {}
local M = {}
M.c = {}
M.a = shared
M.b = shared
function M.add() shared[#shared + 1] = "sword" end
return M`, "add", "probe", "[0,0,1,1,true]", `local A, B = {}, {}
local M = {}
M.c = A
M.a = A
M.b = B
function M.probe() return #A, #B, #M.a, #M.b, M.a == M.b end
return M`},
		// A merged class the new chunk also holds at places the old one did
		// not (a new field, a new subclass naming it), or at a place the
		// script changed as it ran (an FSM's current state), is merged
		// all the same: its data table goes into the new chunk's, which a
		// local holds (helper-180: the walk left the class alone, and the
		// local's count started over at every reload).
		"a merged class at a new field": {classMade(""), "bump", "count", "[1,1]", classMade("M.Default = Enemy")},
		"a merged class a new subclass names": {classMade(""), "bump", "count", "[1,1]",
			classMade("M.Boss = setmetatable({ super = Enemy }, { __index = Enemy })\nfunction M.Boss.roar() end")},
		"a merged class at a place the script changed": {`local M = {}
local Idle = { ticks = { n = 0 } }
local ticks = Idle.ticks
function Idle.update() ticks.n = ticks.n + 1 end
local Attack = {}
function Attack.update() end
M.states = { idle = Idle, attack = Attack }
M.fsm = { current = Idle }
function M.act() Idle.update() M.fsm.current = Attack end
function M.count() return ticks.n, M.states.idle.ticks.n end
return M`, "act", "count", "[1,1]", ""},
		// Nor one the new chunk reaches back to (helper-177: M.a's old
		// table and old M.a.b.up both went into it).
		"a back pointer": {`local M = {}
M.a = { name = "a", b = { up = { name = "placeholder" } } }
function M.add() end
return M`, "add", "probe", `["a","placeholder",false]`, `local M = {}
M.a = { b = {} }
M.a.b.up = M.a
function M.probe() return M.a.name, M.a.b.up.name, M.a.b.up == M.a end
return M`},
		// Globals are not carried, the module holding _G or not (helper-176:
		// the walk went into the globals through M.env).
		"the globals through the module": {`config = { speed = 1 }
local M = { env = _G }
function M.add() end
return M`, "add", "probe", "5", `config = { speed = 5 }
local M = { env = _G }
function M.probe() return config.speed end
return M`},
		"a list's entry moved": {`local player = { name = "p1", hits = 0 }
local M = { players = { player } }
function M.join() table.insert(M.players, 1, { name = "p0", hits = 5 }) end
function M.probe() return player.name, M.players[1].name, M.players[2].name end
return M`, "join", "probe", `["p1","p0","p1"]`, ""},
	} {
		t.Run(name, func(t *testing.T) {
			rt := newRuntime(t, lua.Config{})
			id := load(t, rt, "s.lua", c.src)
			call(t, rt, id, c.act)
			next := c.next
			if next == "" { // the same source again
				next = c.src
			}
			reload(t, rt, id, next)
			if got := call(t, rt, id, c.probe); got != c.want {
				t.Errorf("after the reload: %s() = %s, want %s", c.probe, got, c.want)
			}
		})
	}
}

// classMade is a script whose class Enemy counts what it made in a table a
// local holds too, with more lines at the end.
func classMade(more string) string {
	return `local M = {}
local Enemy = { made = { n = 0 } }
local made = Enemy.made
function Enemy.new() made.n = made.n + 1 end
M.Enemy = Enemy
function M.bump() Enemy.new() end
function M.count() return made.n, M.Enemy.made.n end
` + more + `
return M`
}

// TestReloadClassBelowUpvalueFirst: a class the module holds (M.world.grid.Enemy)
// below a table that findSites first reaches through a function's upvalue
// (local grid) is merged, its data carried (helper-178: it was taken as the
// new chunk's, a table of code the module does not hold, and made.n went back
// to 0 at every reload).
func TestReloadClassBelowUpvalueFirst(t *testing.T) {
	for name, src := range map[string]string{
		"first through an upvalue": `local M = {}
local world = { grid = { Enemy = { made = { n = 0 } } } }
local grid = world.grid
local made = world.grid.Enemy.made
function M.size() return grid end
function world.grid.Enemy.new() made.n = made.n + 1 end
function M.bump() M.world.grid.Enemy.new() end
function M.count() return made.n, M.world.grid.Enemy.made.n end
M.world = world
return M`,
		"no upvalue": `local M = {}
local world = { grid = { Enemy = { made = { n = 0 } } } }
local made = world.grid.Enemy.made
function world.grid.Enemy.new() made.n = made.n + 1 end
function M.bump() M.world.grid.Enemy.new() end
function M.count() return made.n, M.world.grid.Enemy.made.n end
M.world = world
return M`,
	} {
		t.Run(name, func(t *testing.T) {
			rt := newRuntime(t, lua.Config{})
			id := load(t, rt, "s.lua", src)
			for n := 1; n <= 3; n++ {
				call(t, rt, id, "bump")
				reload(t, rt, id, src)
				if got, want := call(t, rt, id, "count"), fmt.Sprintf("[%d,%d]", n, n); got != want {
					t.Fatalf("after %d bumps and reloads: count() = %s, want %s", n, got, want)
				}
			}
		})
	}
}

// TestReloadIntoChunkDeep: both versions' chunks build data nested 100,000
// deep at the same place; the carry goes through it without recursing
// (helper-175: a recursive walk overflowed the Go stack, a fatal error).
func TestReloadIntoChunkDeep(t *testing.T) {
	lowMaxStack(t)
	const src = `local M = {}
local t = {} for i = 1, 100000 do t = { next = t } end M.list = t
function M.length() local n, t = 0, M.list while t.next do n = n + 1 t = t.next end return n end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "list.lua", src)
	reload(t, rt, id, src)
	if got := call(t, rt, id, "length"); got != "100000" {
		t.Fatalf("length after the reload = %s, want 100000", got)
	}
}

// TestReloadIntoChunkList: a module list carried into the new chunk's
// longer list has the old length: table.remove pops its last element, not
// a nil slot the emptying left (gopher-lua never shortens an array part but
// in table.remove).
func TestReloadIntoChunkList(t *testing.T) {
	const src = `local scores = { 5, 3, 9 }
local M = { scores = scores }
function M.pop() return table.remove(M.scores) end
function M.sorted() table.sort(M.scores) return M.scores end
function M.sortdesc() table.sort(M.scores, function(a, b) return a > b end) return M.scores end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "s.lua", src)
	call(t, rt, id, "pop")
	call(t, rt, id, "pop") // scores = {5}
	if got := call(t, rt, id, "sorted"); got != `[5]` {
		t.Fatalf("before reload: %s", got)
	}
	reload(t, rt, id, src)
	out, err := rt.CallJSON(context.Background(), id, "sorted")
	if err != nil || string(out) != `[5]` {
		t.Errorf("after reload, sorted = %s, %v; want [5]", out, err)
	}
	out, err = rt.CallJSON(context.Background(), id, "sortdesc")
	if err != nil || string(out) != `[5]` {
		t.Errorf("after reload, sortdesc = %s, %v; want [5]", out, err)
	}
	if got := call(t, rt, id, "pop"); got != `5` {
		t.Errorf("after reload, table.remove(scores) = %s, want 5", got)
	}
}

// TestReloadRemovedFieldBecomesCode: a data field the script removed as it
// ran stays removed, but where the new source puts code there (a table of
// functions, a function), the code is kept.
func TestReloadRemovedFieldBecomesCode(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "s.lua", `local M = { ui = {}, hook = {} }
function M.close() M.ui = nil M.hook = nil end
return M`)
	call(t, rt, id, "close")
	reload(t, rt, id, `local M = { ui = { draw = function() return "drawn" end }, hook = function() return "hooked" end }
function M.close() M.ui = nil M.hook = nil end
function M.probe() return M.hook ~= nil, M.ui ~= nil end
return M`)
	if got := call(t, rt, id, "probe"); got != `[true,true]` {
		t.Errorf("after reload: [hook kept, ui kept] = %s, want [true,true]: the new source's table of code removed as if it were the old data", got)
	}
}

// TestReloadHooksSeeIntoChunk: on_save and on_restore see the table a
// module field was carried into, the local alias included.
func TestReloadHooksSeeIntoChunk(t *testing.T) {
	const src = `local items = { "a" }
local M = { items = items }
function M.add(x) items[#items + 1] = x end
function M.on_save() return { items = M.items } end
function M.on_restore(saved) if saved then M.same = (saved.items == M.items) and (items == M.items) saved.items[#saved.items + 1] = "r" end end
function M.probe() return M.same, items end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "s.lua", src)
	call(t, rt, id, "add", "b")
	reload(t, rt, id, src)
	if got := call(t, rt, id, "probe"); got != `[true,["a","b","r"]]` {
		t.Errorf("probe = %s", got)
	}
}

// TestReloadAdoptedClassRemovedField: a local class with data of its own
// that the module's data holds (adopted) keeps a data field the script
// removed from it removed, as the module and merged classes do.
func TestReloadAdoptedClassRemovedField(t *testing.T) {
	const src = `local Enemy = { count = 0, target = { x = 1 } }
Enemy.__index = Enemy
function Enemy.new() Enemy.count = Enemy.count + 1 return setmetatable({}, Enemy) end
local M = { kinds = { Enemy }, list = {} }
function M.spawn() M.list[#M.list + 1] = Enemy.new() end
function M.forget() Enemy.target = nil end
function M.probe() return Enemy.count, Enemy.target == nil, M.kinds[1] == Enemy, getmetatable(M.list[1]) == Enemy end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "s.lua", src)
	call(t, rt, id, "spawn")
	call(t, rt, id, "forget")
	if got := call(t, rt, id, "probe"); got != `[1,true,true,true]` {
		t.Fatalf("before: %s", got)
	}
	reload(t, rt, id, src)
	if got := call(t, rt, id, "probe"); got != `[1,true,true,true]` {
		t.Errorf("after reload with the same source: probe = %s, want [1,true,true,true]", got)
	}
}

// TestReloadAdoptedClassFollowsTheSource: a local class the module's data
// holds as a value (an object's metatable { __index = Enemy }, o.class =
// Enemy) takes the edited constants the script never changed, as a class the
// module holds does, and keeps those it changed (helper-222: the edited speed
// was ignored).
func TestReloadAdoptedClassFollowsTheSource(t *testing.T) {
	const v1 = `local M = { list = {} }
local Enemy = { speed = 5, kind = "grunt", count = 0, loud = false }
function Enemy.new() Enemy.count = Enemy.count + 1 return MAKE end
function M.spawn() M.list[#M.list + 1] = Enemy.new() end
function M.shout() Enemy.loud = true end
function M.probe() local e = M.list[1] return e.speed, e.kind, Enemy.count, Enemy.loud end
return M`
	for name, make := range map[string]string{
		"metatable of its own":     `setmetatable({}, { __index = Enemy })`,
		"a field naming the class": `setmetatable({ class = Enemy }, { __index = Enemy })`,
	} {
		t.Run(name, func(t *testing.T) {
			src := strings.Replace(v1, "MAKE", make, 1)
			rt := newRuntime(t, lua.Config{})
			id := load(t, rt, "s.lua", src)
			call(t, rt, id, "spawn")
			call(t, rt, id, "shout")
			reload(t, rt, id, strings.NewReplacer("speed = 5", "speed = 7", `"grunt"`, `"brute"`, "loud = false", "loud = nil").Replace(src))
			if got := call(t, rt, id, "probe"); got != `[7,"brute",1,true]` {
				t.Errorf("probe = %s, want the edited speed and kind, the count and loud the script set kept", got)
			}
		})
	}
}

// TestReloadMergedList: a merged table's list, shorter than the new chunk's,
// pops its own last element.
func TestReloadMergedList(t *testing.T) {
	const src = `local M = {}
M.steps = { "a", "b", "c", run = function() end }
function M.pop() return table.remove(M.steps) end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "s.lua", src)
	call(t, rt, id, "pop")
	call(t, rt, id, "pop") // steps = { "a" }
	reload(t, rt, id, src)
	if got := call(t, rt, id, "pop"); got != `"a"` {
		t.Errorf("after reload, table.remove(M.steps) = %s, want \"a\"", got)
	}
}

// TestFailedReloadRestoresList: a failed reload puts back a list on_save
// appended to with its length: table.remove pops its last element, not a nil
// slot.
func TestFailedReloadRestoresList(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "s.lua", `local M = { list = { "a" } }
function M.on_save() M.list[#M.list + 1] = "saving" return {} end
function M.on_restore() end
function M.pop() return table.remove(M.list) end
return M`)
	err := rt.ReloadScript(context.Background(), id, []byte(`local M = {}
function M.on_save() return {} end
function M.on_restore() error("refuse") end
return M`))
	if err == nil {
		t.Fatal("reload succeeded")
	}
	if got := call(t, rt, id, "pop"); got != `"a"` {
		t.Errorf("after a failed reload, table.remove(M.list) = %s, want \"a\"", got)
	}
}

// TestReloadCodeTableGivenDataAsItRan: a local table of code that the chunk
// gave no data (only functions), held by the module's data too (a list of
// handlers), keeps the data the script gave it as it ran, as one the chunk
// gave data does, and runs the new code; one only a local holds starts over,
// as locals do. Before, the fields the script set were lost at every reload,
// unless the chunk happened to give the table a field of data (helper-204,
// random graphs: 53 lost tables in 5,000).
func TestReloadCodeTableGivenDataAsItRan(t *testing.T) {
	const src = `local M = {}
local H = { kind = function() return "VERSION" end }
local Alone = { kind = function() return "VERSION" end }
M.all = { H }
function M.tag() H.hits = 5 H.name = "h" H.seen = { 1, 2 } Alone.hits = 7 end
function M.probe() return H.hits, M.all[1].hits, M.all[1] == H, H.kind(), H.seen and #H.seen, Alone.hits end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "h.lua", strings.ReplaceAll(src, "VERSION", "v1"))
	call(t, rt, id, "tag")
	reload(t, rt, id, strings.ReplaceAll(src, "VERSION", "v2"))
	if got, want := call(t, rt, id, "probe"), `[5,5,true,"v2",2,null]`; got != want {
		t.Errorf("after the reload: probe = %s, want %s (H's hits, through the local and the list, one table, new code, its list; Alone's start over)", got, want)
	}
}
