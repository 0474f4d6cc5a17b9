package lua_test

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
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

// An intro state the edit removes, the script having moved off it.
const introV1 = `local M = {}
M.fsm = {}
M.states = {}
M.states.play = { n = 0 }
function M.states.play.update(s) s.n = s.n + 1 return "play v1 " .. s.n end
M.fsm.current = { update = function() M.fsm.current = M.states.play return "intro v1" end }
function M.tick() return M.fsm.current:update() end
return M`

const introV2 = `local M = {}
M.fsm = {}
M.states = {}
M.states.play = { n = 0 }
function M.states.play.update(s) s.n = s.n + 1 return "play v2 " .. s.n end
M.fsm.current = M.states.play
function M.tick() return M.fsm.current:update() end
return M`

// A handler table's default is replaced at run time by a preset; the edit
// makes that preset the default and edits it.
const presetV1 = `local M = {}
M.h = { on_hit = function() return "default v1" end }
M.presets = { custom = function() return "custom v1" end }
function M.use_custom() M.h.on_hit = M.presets.custom end
function M.run() return M.h.on_hit() end
return M`

const presetV2 = `local M = {}
local custom = function() return "custom v2" end
M.h = { on_hit = custom }
M.presets = { custom = custom }
function M.use_custom() M.h.on_hit = M.presets.custom end
function M.run() return M.h.on_hit() end
return M`

// A local class Goblin that only the first enemy's metatable reaches; the
// script upgrades the enemy to an Orc (M.classes.orc). The edit removes
// Goblin, starts with an Orc, and edits Orc.
const orcV1 = `local M = {}
local Goblin = {}
Goblin.__index = Goblin
function Goblin:name() return "goblin v1" end
M.enemy = setmetatable({ hp = 3 }, Goblin)
M.classes = {}
local Orc = {}
Orc.__index = Orc
function Orc:name() return "orc v1" end
M.classes.orc = Orc
function M.upgrade() M.enemy = setmetatable({ hp = 10 }, M.classes.orc) end
function M.who() return M.enemy:name() .. " " .. M.enemy.hp end
return M`

const orcV2 = `local M = {}
local Orc = {}
Orc.__index = Orc
function Orc:name() return "orc v2" end
M.enemy = setmetatable({ hp = 10 }, Orc)
M.classes = {}
M.classes.orc = Orc
function M.upgrade() M.enemy = setmetatable({ hp = 10 }, M.classes.orc) end
function M.who() return M.enemy:name() .. " " .. M.enemy.hp end
return M`

// TestReloadLiveCodeWinsOverDropped: of two pieces of old code claiming one
// piece of new code, the one the old module holds still where it claims it
// from wins over one the script let go of (an intro state it moved off, a
// class whose last object it replaced, a handler it replaced), whether the
// collector took that one or not, and however the code was found first
// (helper-210: the dropped one won, and the live one ran its old code).
func TestReloadLiveCodeWinsOverDropped(t *testing.T) {
	cases := []struct {
		name, v1, v2 string
		before       []string
		fn, want     string
	}{
		{"intro", introV1, introV2, []string{"tick", "tick"}, "tick", `"play v2 2"`},
		{"orc", orcV1, orcV2, []string{"upgrade"}, "who", `"orc v2 10"`},
		{"preset", presetV1, presetV2, []string{"use_custom"}, "run", `"custom v2"`},
	}
	for _, c := range cases {
		for _, collect := range []bool{false, true} {
			t.Run(c.name+map[bool]string{false: "/kept", true: "/collected"}[collect], func(t *testing.T) {
				defer debug.SetGCPercent(debug.SetGCPercent(-1))
				rt := newRuntime(t, lua.Config{})
				id := load(t, rt, "s.lua", c.v1)
				for _, f := range c.before {
					call(t, rt, id, f)
				}
				if collect {
					runtime.GC()
					runtime.GC()
				}
				reload(t, rt, id, c.v2)
				if got := call(t, rt, id, c.fn); got != c.want {
					t.Errorf("%s() = %s after the reload, want %s (the live code's new version)", c.fn, got, c.want)
				}
			})
		}
	}
}

// fsmStates is an FSM of two states, Idle and Walk, each at its key in
// M.fsm.states, starting in start; their update says which and the version.
func fsmStates(version, start string) string {
	return `local M = {}
local Idle = { name = "idle" }
function Idle.update() return "idle ` + version + `" end
local Walk = { name = "walk" }
function Walk.update() return "walk ` + version + `" end
M.fsm = { current = ` + start + `, states = { idle = Idle, walk = Walk } }
function M.tick() return M.fsm.current.update() end
function M.go(name) M.fsm.current = M.fsm.states[name] end
return M`
}

// TestReloadFSMStartMovedOff: an edit makes the chunk start in Walk, the
// script having moved from Idle to Walk. The old Idle was found first at
// M.fsm.current, which holds Walk now: it is matched by the place that holds
// it still, M.fsm.states.idle, and both states run their new code (before,
// the old Idle claimed the new Walk, lost it to the old Walk, and ran its old
// code after the reload). With the script still in Idle, the package doc's
// limit holds: the old Idle takes the new Walk, and the old Walk runs on.
func TestReloadFSMStartMovedOff(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "s.lua", fsmStates("v1", "Idle"))
	call(t, rt, id, "go", "walk")
	reload(t, rt, id, fsmStates("v2", "Walk"))
	got := []string{call(t, rt, id, "tick")}
	call(t, rt, id, "go", "idle")
	got = append(got, call(t, rt, id, "tick"))
	if want := []string{`"walk v2"`, `"idle v2"`}; !slices.Equal(got, want) {
		t.Errorf("walk, then idle, after the reload: %v, want %v", got, want)
	}
}

// TestReloadFSMStatesTableMovedOff: states in a table, each moving the FSM to
// the other; the script moved from idle to walk, and the edit starts in walk.
// The old idle, found first at M.fsm.current, is matched by its key in the
// table (helper-212: it lost the new walk to the old walk and ran its old
// code, the FSM never leaving it).
func TestReloadFSMStatesTableMovedOff(t *testing.T) {
	src := func(version, start string) string {
		return strings.NewReplacer("VER", version, "START", start).Replace(`local M = {}
M.fsm = { states = {} }
M.fsm.states.idle = { n = 0 }
function M.fsm.states.idle.update(s) s.n = s.n + 1 M.fsm.current = M.fsm.states.walk return "idle VER " .. s.n end
M.fsm.states.walk = { n = 0 }
function M.fsm.states.walk.update(s) s.n = s.n + 1 M.fsm.current = M.fsm.states.idle return "walk VER " .. s.n end
M.fsm.current = M.fsm.states.START
function M.tick() return M.fsm.current:update() end
return M`)
	}
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "s.lua", src("v1", "idle"))
	call(t, rt, id, "tick") // "idle v1 1"; now in walk
	reload(t, rt, id, src("v2", "walk"))
	var got []string
	for range 4 {
		got = append(got, call(t, rt, id, "tick"))
	}
	if want := []string{`"walk v2 1"`, `"idle v2 2"`, `"walk v2 2"`, `"idle v2 3"`}; !slices.Equal(got, want) {
		t.Errorf("ticks after the reload: %v, want %v", got, want)
	}
}

// TestStageMatchCheckedAtCommit: Stage reads which places hold the old code
// still, and Commit checks that they do: a script that moved between the two
// is matched as it stands at the commit, as a ReloadScript then would.
func TestStageMatchCheckedAtCommit(t *testing.T) {
	ctx := context.Background()
	probe := func(rt *lua.Runtime, id lua.ScriptID) []string {
		got := []string{call(t, rt, id, "tick")}
		call(t, rt, id, "go", "walk")
		got = append(got, call(t, rt, id, "tick"))
		call(t, rt, id, "go", "idle")
		return append(got, call(t, rt, id, "tick"))
	}
	staged := newRuntime(t, lua.Config{})
	id := load(t, staged, "s.lua", fsmStates("v1", "Idle"))
	call(t, staged, id, "go", "walk")
	st, err := staged.Stage(ctx, id, []byte(fsmStates("v2", "Walk")))
	if err != nil {
		t.Fatal(err)
	}
	call(t, staged, id, "go", "idle") // back where the old chunk started it
	if _, err := st.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	direct := newRuntime(t, lua.Config{})
	did := load(t, direct, "s.lua", fsmStates("v1", "Idle"))
	call(t, direct, did, "go", "walk")
	call(t, direct, did, "go", "idle")
	reload(t, direct, did, fsmStates("v2", "Walk"))
	if got, want := probe(staged, id), probe(direct, did); !slices.Equal(got, want) {
		t.Errorf("staged, moved back, committed: %v; reloaded there: %v", got, want)
	}
}

// TestReloadHomeWhenAliasRepointed: the weapon in hand is found first
// (M.weapon, before M.weapons.sword); the player swaps to the bow. The edit
// renames the sword's key (sword to blade) and makes the bow the default
// weapon. The local Default holds the old Sword still but reaches the new
// Bow, which the old Bow takes: the old Sword takes its home, the new Sword
// its first place reaches, and runs its new code with its state (helper-214:
// since 7029508 it had no counterpart). M.weapons, a table of tables of code,
// is merged: its keys are the edit's.
func TestReloadHomeWhenAliasRepointed(t *testing.T) {
	src := func(version, key, def string) string {
		return strings.NewReplacer("VER", version, "KEY", key, "DEF", def).Replace(`local M = {}
local Sword = {} function Sword.who() return "sword VER" end
local Bow = {} function Bow.who() return "bow VER" end
M.weapon = Sword
M.weapons = { KEY = Sword, bow = Bow }
local Default = DEF
function M.reset() M.weapon = Default end
function M.pick(k) M.weapon = M.weapons[k] end
function M.use() M.weapon.uses = (M.weapon.uses or 0) + 1 return M.weapon.who() .. " " .. M.weapon.uses end
return M`)
	}
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "s.lua", src("v1", "sword", "Sword"))
	call(t, rt, id, "use")         // sword v1 1
	call(t, rt, id, "pick", "bow") // the player swaps
	call(t, rt, id, "use")         // bow v1 1
	reload(t, rt, id, src("v2", "blade", "Bow"))
	got := []string{call(t, rt, id, "use")}
	call(t, rt, id, "pick", "blade")
	got = append(got, call(t, rt, id, "use"))
	if want := []string{`"bow v2 2"`, `"sword v2 2"`}; !slices.Equal(got, want) {
		t.Errorf("after the reload: %v, want %v", got, want)
	}
}

// TestReloadFSMStateAdded: an edit adds a state to an FSM's table of states,
// a table holding tables of code by name and no data: it is code, merged, so
// the state is there after the reload (helper-215: carried as data, it was
// not, and update failed once the FSM entered it), in M.fsm.states or in
// M.states, and the state the script moved to stays current.
func TestReloadFSMStateAdded(t *testing.T) {
	v1 := `local Idle, Walk = {}, {}
function Idle.update() return "idle" end
function Walk.update() return "walk" end
local M = { fsm = { current = "idle" } }
STATES = { idle = Idle, walk = Walk }
function M.go(name) M.fsm.current = name end
function M.update() return STATES[M.fsm.current].update() end
return M`
	v2 := strings.NewReplacer("local Idle, Walk = {}, {}", "local Idle, Walk, Jump = {}, {}, {}\nfunction Jump.update() return \"jump\" end",
		"walk = Walk }", "walk = Walk, jump = Jump }").Replace(v1)
	for _, states := range []string{"M.fsm.states", "M.states"} {
		t.Run(states, func(t *testing.T) {
			at := strings.NewReplacer("STATES", states)
			rt := newRuntime(t, lua.Config{})
			id := load(t, rt, "fsm.lua", at.Replace(v1))
			call(t, rt, id, "go", "walk")
			reload(t, rt, id, at.Replace(v2))
			got := []string{call(t, rt, id, "update")}
			call(t, rt, id, "go", "jump")
			got = append(got, call(t, rt, id, "update"))
			if want := []string{`"walk"`, `"jump"`}; !slices.Equal(got, want) {
				t.Errorf("after the reload: %v, want %v", got, want)
			}
		})
	}
}

// TestReloadObjectStateByLocalName: objects hold their state, a local table
// only Enemy.new's upvalue reaches (Enemy.new makes { state = Idle }). An edit
// that makes Enemy.new start in Chase, or renames Enemy, leaves no path from
// the module to the old Idle in the new version but the chunk's local of its
// name, by which it is matched: an object made before the edits runs the new
// code of its state (helper-215: it ran its old code at every later reload).
func TestReloadObjectStateByLocalName(t *testing.T) {
	src := `local Idle, Chase = {}, {}
function Idle.think(e) return "idle VER" end
function Chase.think(e) return "chase VER" end
local Enemy = {}
Enemy.__index = Enemy
function Enemy.new() return setmetatable({ state = START }, Enemy) end
function Enemy:update() return self.state.think(self) end
local M = { enemies = {} }
function M.spawn() M.enemies[#M.enemies + 1] = Enemy.new() end
function M.run() local o = {} for i, e in ipairs(M.enemies) do o[i] = e:update() end return table.concat(o, ",") end
return M`
	version := func(v, start string) string { return strings.NewReplacer("VER", v, "START", start).Replace(src) }
	t.Run("start state", func(t *testing.T) {
		rt := newRuntime(t, lua.Config{})
		id := load(t, rt, "s.lua", version("v1", "Idle"))
		call(t, rt, id, "spawn")
		reload(t, rt, id, version("v2", "Chase"))
		reload(t, rt, id, version("v3", "Chase"))
		call(t, rt, id, "spawn")
		if got := call(t, rt, id, "run"); got != `"idle v3,chase v3"` {
			t.Errorf("run() = %s, want \"idle v3,chase v3\"", got)
		}
	})
	t.Run("states given a place", func(t *testing.T) { // as the package doc advises where locals cannot be read
		placed := func(v, start string) string {
			return strings.Replace(version(v, start), "local M = { enemies = {} }", "local M = { enemies = {} }\nM.states = { idle = Idle, chase = Chase }", 1)
		}
		rt := newRuntime(t, lua.Config{})
		id := load(t, rt, "s.lua", placed("v1", "Idle"))
		call(t, rt, id, "spawn")
		reload(t, rt, id, placed("v2", "Chase"))
		if got := call(t, rt, id, "run"); got != `"idle v2"` {
			t.Errorf("run() = %s, want \"idle v2\"", got)
		}
	})
	t.Run("class renamed", func(t *testing.T) {
		rt := newRuntime(t, lua.Config{})
		id := load(t, rt, "s.lua", version("v1", "Idle"))
		call(t, rt, id, "spawn")
		reload(t, rt, id, strings.ReplaceAll(version("v2", "Idle"), "Enemy", "Grunt"))
		if got := call(t, rt, id, "run"); got != `"idle v2"` {
			t.Errorf("run() = %s, want \"idle v2\"", got)
		}
	})
}

// TestChunkLocalsUnseen: the module chunk's locals that a reload matches code
// by are the package's own: a chunk the script loads returns what it returns,
// and the module chunk's results past the module are not taken for them.
func TestChunkLocalsUnseen(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "s.lua", `local M = {}
local x = 1
function M.loaded() local f = load("local a = 5 return a") return select("#", f()), f() end
function M.two() local f = load("local a, b = 1, 2 return a, b") return { f() } end
return M`)
	if got := call(t, rt, id, "loaded"); got != "[1,5]" {
		t.Errorf("a loaded chunk returning a local: %s, want [1,5]", got)
	}
	if got := call(t, rt, id, "two"); got != "[1,2]" {
		t.Errorf("a loaded chunk returning two locals: %s, want [1,2]", got)
	}
	two := load(t, rt, "t.lua", `local M = { n = 1 }
local extra = { f = function() return "extra" end }
function M.get() return M.n end
return M, extra`)
	reload(t, rt, two, `local M = { n = 2 }
local extra = { f = function() return "extra" end }
function M.get() return M.n end
return M, extra`)
	if got := call(t, rt, two, "get"); got != "1" {
		t.Errorf("a module chunk returning two values: get() = %s after a reload, want 1 (carried)", got)
	}
}

// TestManyTopLevelLocals: a chunk of 199 top-level locals, gopher-lua's most,
// loads: the table of its locals would take it past 200 registers, and it is
// compiled without (helper-217: the load failed from 198).
func TestManyTopLevelLocals(t *testing.T) {
	var b strings.Builder
	b.WriteString("local M = {}\n")
	for i := 1; i < 199; i++ {
		fmt.Fprintf(&b, "local v%d = %d\n", i, i)
	}
	b.WriteString("function M.f() return v198 end\nreturn M")
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "many.lua", b.String())
	reload(t, rt, id, b.String())
	if got := call(t, rt, id, "f"); got != "198" {
		t.Errorf("f() = %s, want 198", got)
	}
}
