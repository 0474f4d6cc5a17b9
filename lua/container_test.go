package lua_test

import (
	"strings"
	"testing"

	"github.com/hotscript/hotscript/lua"
)

// Tables that hold tables of code by name: a table of states, merged at a
// reload (TestReloadFSMStateAdded), and registries, which stay data: what a
// module and a local both hold stays one table (helper-216).

// registry is a script whose module and local both hold a registry that spawn
// fills, its entries HOLD; v2 of it gives the registry an entry at load. names
// lists the module's entries and the local's.
func registry(v1 bool, hold string) string {
	atLoad := `M.spawn("player")`
	if v1 {
		atLoad = ""
	}
	return `local M = {}
local reg = {}
M.reg = reg
function M.spawn(name) reg[name] = { ` + hold + ` } end
` + atLoad + `
local function keys(t) local o = {} for k in pairs(t) do o[#o + 1] = k end table.sort(o) return table.concat(o, ",") end
function M.names() return keys(M.reg) .. " | " .. keys(reg) end
return M`
}

// TestReloadRegistryKeepsItsLocal: the edit gives the registry its first
// entry at load, a table of code (a method, with data or not): the old
// registry, data, goes into the new chunk's, which its local holds
// (helper-216: the new one was code, kept apart, and the local lost the
// entries the script added).
func TestReloadRegistryKeepsItsLocal(t *testing.T) {
	for name, hold := range map[string]string{
		"entities": "hp = 10, hit = function(self) self.hp = self.hp - 1 end",
		"handlers": "run = function() return 1 end",
	} {
		t.Run(name, func(t *testing.T) {
			rt := newRuntime(t, lua.Config{})
			id := load(t, rt, "s.lua", registry(true, hold))
			call(t, rt, id, "spawn", "goblin")
			reload(t, rt, id, registry(false, hold))
			if got := call(t, rt, id, "names"); got != `"goblin | goblin"` {
				t.Errorf("names() = %s, want \"goblin | goblin\" (the old registry in the local's table)", got)
			}
		})
	}
}

// TestReloadBigTableOfCodeKeepsItsLocal: a table of more than 1,024 kinds,
// tables of code made at load, is too big to merge: copied as data, into
// the table its local holds, with the kind the script added (helper-216: it
// split from the local, and the kind was missing).
func TestReloadBigTableOfCodeKeepsItsLocal(t *testing.T) {
	src := `local M = {}
local kinds = {}
M.kinds = kinds
for i = 1, 1100 do kinds["k" .. i] = { walk = function() return "VER" end } end
function M.add(name) kinds[name] = { walk = function() return name end } end
function M.walk(name) return kinds[name].walk() end
function M.same() return kinds == M.kinds end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "s.lua", strings.ReplaceAll(src, "VER", "v1"))
	call(t, rt, id, "add", "lava")
	reload(t, rt, id, strings.ReplaceAll(src, "VER", "v2"))
	if got := call(t, rt, id, "same") + call(t, rt, id, "walk", "lava"); got != `true"lava"` {
		t.Errorf("kinds == M.kinds, walk(lava) = %s after the reload, want true and \"lava\"", got)
	}
}

// TestReloadContainerMovedKeepsEntries: a table of states that the script
// added a state to, which the edit moves from M.states to M.fsm.states (the
// same local), is merged into the new one wherever it is: the state the
// script added is there (helper-217: the old table went, as data, to the
// field the new code no longer reads).
func TestReloadContainerMovedKeepsEntries(t *testing.T) {
	src := `local M = {}
local states = { idle = { update = function() return "idle VER" end } }
HOLD
function M.learn(name) states[name] = { update = function() return name .. " learned" end } end
function M.names() local o = {} for k in pairs(states) do o[#o + 1] = k end table.sort(o) return table.concat(o, ",") end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "fsm.lua", strings.NewReplacer("VER", "v1", "HOLD", "M.states = states").Replace(src))
	call(t, rt, id, "learn", "swim")
	reload(t, rt, id, strings.NewReplacer("VER", "v2", "HOLD", "M.fsm = { states = states }").Replace(src))
	if got := call(t, rt, id, "names"); got != `"idle,swim"` {
		t.Errorf("names() = %s after the reload, want \"idle,swim\" (the state the script added)", got)
	}
}

// TestReloadStateRemovedByEdit: a state (or handler) the edit removes from a
// table of states is gone after the reload, as a removed method is; before,
// the old table of code, which no new code stands for, was carried whole and
// ran its old code (helper-218).
func TestReloadStateRemovedByEdit(t *testing.T) {
	v1 := `local M = {}
M.states = {
  idle = { update = function() return "idle v1" end },
  walk = { update = function() return "walk v1" end },
}
function M.walk() return M.states.walk and M.states.walk.update() end
function M.idle() return M.states.idle.update() end
return M`
	v2 := strings.NewReplacer(`  walk = { update = function() return "walk v1" end },
`, "", "v1", "v2").Replace(v1)
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "fsm.lua", v1)
	reload(t, rt, id, v2)
	if got := call(t, rt, id, "walk") + " " + call(t, rt, id, "idle"); got != `null "idle v2"` {
		t.Errorf("walk(), idle() = %s after the edit removed walk, want null \"idle v2\"", got)
	}
}

// TestReloadObjectsKeptWhenMadeLazily: an object (a table with a metatable)
// or an entity with data, in a table of code at a key the edit no longer sets
// at load (it makes it lazily, or in an init function), keeps its state: it
// is state, not a state the edit removed (helper-219: since 7a54ea6 it was
// dropped).
func TestReloadObjectsKeptWhenMadeLazily(t *testing.T) {
	v1 := `local M = {}
local Player = {} Player.__index = Player
function Player.new() return setmetatable({ score = 0 }, Player) end
function Player:add(n) self.score = self.score + n end
local Game = {}
Game.player = Player.new()
Game.boss = { hp = 100, on_hit = function(self) self.hp = self.hp - 10 end }
function Game.get() return Game.player end
M.Game = Game
function M.play() Game.get():add(10) Game.boss:on_hit() end
function M.probe() return { Game.get().score, Game.boss and Game.boss.hp } end
return M`
	v2 := strings.NewReplacer("Game.player = Player.new()\n", "",
		"Game.boss = { hp = 100, on_hit = function(self) self.hp = self.hp - 10 end }\n", "",
		"function Game.get() return Game.player end", "function Game.get() Game.player = Game.player or Player.new() return Game.player end").Replace(v1)
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "s.lua", v1)
	call(t, rt, id, "play")
	call(t, rt, id, "play")
	reload(t, rt, id, v2)
	if got := call(t, rt, id, "probe"); got != "[20,80]" {
		t.Errorf("probe() = %s after the reload, want [20,80] (the player's score, the boss's hp)", got)
	}
}
