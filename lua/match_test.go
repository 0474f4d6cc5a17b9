package lua_test

import (
	"testing"

	"github.com/hotscript/hotscript/lua"
)

// Code matching where an edit makes a field name other code than it did
// (helper-198): old code goes to the new code at its own first place, never to
// what a field merely names, even when the new code at that place is claimed
// by other old code too (a fallback to the next candidate did that).

// Boss folded into Enemy (M.Boss = M.Enemy, a back-compat alias) while
// M.default now names a new class Fast, which has its own place M.Fast.
// The old Enemy must stand for the new Enemy (its first place), not for Fast.
func TestMatchAliasFolded(t *testing.T) {
	common := `
function M.spawn(k) local c = M[k] c.count = c.count + 1 local o = setmetatable({ hp = 10 }, c) M.objs[#M.objs+1] = o return o end
function M.probe()
  local o = M.objs[1]
  return { o:name(), getmetatable(o) == M.Enemy, M.Enemy.count, M.Fast and M.Fast.count or -1 , M.Enemy == M.Fast }
end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "s.lua", `local M = { objs = {} }
M.Enemy = { count = 0 }
M.Enemy.__index = M.Enemy
function M.Enemy:name() return "old enemy" end
M.Boss = { count = 0 }
M.Boss.__index = M.Boss
function M.Boss:name() return "old boss" end
M.default = M.Enemy`+common)
	call(t, rt, id, "spawn", "Enemy")
	call(t, rt, id, "spawn", "Enemy")
	reload(t, rt, id, `local M = { objs = {} }
M.Enemy = { count = 0 }
M.Enemy.__index = M.Enemy
function M.Enemy:name() return "new enemy" end
M.Boss = M.Enemy
M.Fast = { count = 0 }
M.Fast.__index = M.Fast
function M.Fast:name() return "new fast" end
M.default = M.Fast`+common)
	if got, want := call(t, rt, id, "probe"), `["new enemy",true,2,0,false]`; got != want {
		t.Errorf("probe() = %s, want %s (an enemy runs Enemy's methods, Enemy keeps its count, Fast its own)", got, want)
	}
}

// Entities hold named module functions as their state (as the package doc
// advises). The edit folds defend into attack (M.defend = M.attack) and makes
// the AI's fallback a new function flee. An attacking entity must still
// attack after the reload (it fled).
func TestMatchFunctionStateAliased(t *testing.T) {
	common := `
function M.spawn() M.ents[#M.ents + 1] = { state = M.attack } end
function M.probe() local e = M.ents[1] return e.state(e) end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "s.lua", `local M = { ents = {} }
function M.attack(e) return "attack v1" end
function M.defend(e) return "defend v1" end
M.ai = { fallback = M.attack }`+common)
	call(t, rt, id, "spawn")
	reload(t, rt, id, `local M = { ents = {} }
function M.attack(e) return "attack v2" end
M.defend = M.attack
function M.flee(e) return "flee v2" end
M.ai = { fallback = M.flee }`+common)
	if got, want := call(t, rt, id, "probe"), `"attack v2"`; got != want {
		t.Errorf("probe() = %s, want %s (the entity's state was M.attack)", got, want)
	}
}

// Programming in Lua's prototypes: Grunt = Enemy:new{}, Fast = Enemy:new{}.
// The edit makes Grunt a plain Enemy (M.Grunt = M.Enemy) and puts a new
// prototype Boss between Enemy and Fast (Fast = Boss:new{}). An Enemy made
// before the reload must stay an Enemy.
func TestMatchPrototypeAliased(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "s.lua", `local M = { objs = {} }
M.Enemy = { hp = 10, made = 0 }
local Enemy = M.Enemy
function Enemy:name() return "enemy v1" end
function Enemy:new(o) o = o or {} setmetatable(o, self) self.__index = self return o end
M.Grunt = Enemy:new{ hp = 5 }
M.Fast = Enemy:new{ speed = 9 }
function M.spawn() M.Enemy.made = M.Enemy.made + 1 M.objs[#M.objs + 1] = M.Enemy:new{} end
function M.probe() local e = M.objs[1] return { e:name(), e.hp, getmetatable(e) == M.Enemy, M.Enemy.made } end
return M`)
	call(t, rt, id, "spawn")
	reload(t, rt, id, `local M = { objs = {} }
M.Enemy = { hp = 10, made = 0 }
local Enemy = M.Enemy
function Enemy:name() return "enemy v2" end
function Enemy:new(o) o = o or {} setmetatable(o, self) self.__index = self return o end
M.Grunt = Enemy
local Boss = Enemy:new{ hp = 50 }
function Boss:name() return "boss v2" end
M.Boss = Boss
M.Fast = Boss:new{ speed = 9 }
function M.spawn() M.Enemy.made = M.Enemy.made + 1 M.objs[#M.objs + 1] = M.Enemy:new{} end
function M.probe() local e = M.objs[1] return { e:name(), e.hp, getmetatable(e) == M.Enemy, M.Enemy.made } end
return M`)
	if got, want := call(t, rt, id, "probe"), `["enemy v2",10,true,1]`; got != want {
		t.Errorf("probe() = %s, want %s", got, want)
	}
}
