package lua_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

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
// module's are (a local or global class's are not: locals and globals are
// not carried).
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
			count := "2" // carried with the class
			if style == "local" || style == "global" {
				count = "0" // locals and globals start over
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
// new version's of it after a reload, where the script set it as it ran; where
// it still holds what the chunk gave it, it takes what the new chunk gives.
// A module field that holds a function takes the new chunk's, as the module's
// functions always come from the new source.
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
	if got := call(t, rt, id, "probe"); got != `["attack v2","flee v2","idle v2","menu v2","menu v2"]` {
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

// TestReloadClassMatchedByAnyPath: a class that two module functions use is
// matched through either: renaming one of them keeps the match.
func TestReloadClassMatchedByAnyPath(t *testing.T) {
	const v1 = `local M = { enemies = {} }
local Enemy = {}
Enemy.__index = Enemy
function Enemy:describe() return "VERSION" end
function M.spawn() table.insert(M.enemies, setmetatable({}, Enemy)) end
function M.reset() M.enemies = { setmetatable({}, Enemy) } end
function M.show() return M.enemies[1]:describe() end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "e.lua", strings.Replace(v1, "VERSION", "v1", 1))
	call(t, rt, id, "spawn")
	// v2: the same class, edited; spawn renamed to add (reset still uses Enemy).
	v2 := strings.Replace(strings.Replace(v1, "VERSION", "v2", 1), "M.spawn", "M.add", 1)
	reload(t, rt, id, v2)
	if got := call(t, rt, id, "show"); got != `"v2"` {
		t.Errorf("after renaming M.spawn: show = %s, want \"v2\" (Enemy is still a local the module's functions use)", got)
	}
}

// TestReloadFunctionAliasDoesNotDecide: a field that only names a function
// (M.start = idle) is not where the function is: a new version that names
// another one there does not turn the carried states into it.
func TestReloadFunctionAliasDoesNotDecide(t *testing.T) {
	const v1 = `local M = {}
local function idle() return "idle" end
local function walk() return "walk" end
M.start = idle
M.agents = {}
function M.spawn() table.insert(M.agents, { state = M.start }) end
function M.go(i) M.agents[i].state = walk end
function M.states() local out = {} for i, a in ipairs(M.agents) do out[i] = a.state() end return out end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "fsm.lua", v1)
	call(t, rt, id, "spawn")
	call(t, rt, id, "spawn")
	call(t, rt, id, "go", 2)
	if got := call(t, rt, id, "states"); got != `["idle","walk"]` {
		t.Fatalf("before: %s", got)
	}
	reload(t, rt, id, strings.Replace(v1, "M.start = idle", "M.start = walk", 1))
	if got := call(t, rt, id, "states"); got != `["idle","walk"]` {
		t.Errorf("after changing only the initial state: states = %s, want [\"idle\",\"walk\"]", got)
	}
}

// TestReloadLocalCodeTableStartsOver: a local table that holds a function
// is matched but not carried (locals start over): an edited constant in it
// takes effect.
func TestReloadLocalCodeTableStartsOver(t *testing.T) {
	const v1 = `local M = {}
local tuning = { gravity = 10, ease = function(x) return x end }
function M.g() return tuning.gravity end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "t.lua", v1)
	reload(t, rt, id, strings.Replace(v1, "gravity = 10", "gravity = 20", 1))
	if got := call(t, rt, id, "g"); got != `20` {
		t.Errorf("after editing a local table's constant: g = %s, want 20 (the new chunk's local)", got)
	}
}

// TestFailedReloadsKeepClasses: whatever fails a reload (a limit or an error
// in on_restore, a syntax error, a chunk that never returns, a check that
// refuses), the old classes and objects are as they were.
func TestFailedReloadsKeepClasses(t *testing.T) {
	const v1 = `local M = { objs = {} }
local Enemy = { n = 0 } Enemy.__index = Enemy
function Enemy:kind() return "v1" end
function M.spawn() Enemy.n = Enemy.n + 1 table.insert(M.objs, setmetatable({}, Enemy)) end
function M.kinds() local out = {} for i, o in ipairs(M.objs) do out[i] = o:kind() end return out, Enemy.n, getmetatable(M.objs[1]) == Enemy end
function M.on_save() Enemy.n = 99 setmetatable(M.objs[1], nil) Enemy.kind = nil return { cls = Enemy } end
return M`
	rt := newRuntime(t, lua.Config{Limits: lua.Limits{MaxInstructions: 100000, MaxExecutionTime: time.Second}})
	id := load(t, rt, "f.lua", v1)
	call(t, rt, id, "spawn")
	want := call(t, rt, id, "kinds")
	for name, v2 := range map[string]string{
		"loop":   strings.Replace(v1, "return M", "function M.on_restore(s) while true do end end\nreturn M", 1),
		"error":  strings.Replace(v1, "return M", "function M.on_restore(s) s.cls.n = 5 error('no') end\nreturn M", 1),
		"syntax": v1 + " end",
		"chunk":  strings.Replace(v1, "return M", "while true do end", 1),
	} {
		if err := rt.ReloadScript(context.Background(), id, []byte(v2)); err == nil {
			t.Fatalf("%s: reload succeeded", name)
		}
		if got := call(t, rt, id, "kinds"); got != want {
			t.Errorf("%s: after the failed reload kinds = %s, want %s", name, got, want)
		}
	}
	ctx := context.Background()
	st, err := rt.Stage(ctx, id, []byte(strings.Replace(v1, `"v1"`, `"v2"`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.CommitCheck(ctx, func(ctx context.Context, n *lua.Version) error {
		n.CallJSON(ctx, "spawn")
		return fmt.Errorf("refused")
	})
	st.Discard(ctx)
	if err == nil {
		t.Fatal("check refused, commit succeeded")
	}
	if got := call(t, rt, id, "kinds"); got != want {
		t.Errorf("check: after the refused reload kinds = %s, want %s", got, want)
	}
}

// TestSitesDoNotKeepDroppedCode: what a reload records of a version's code
// does not keep alive what the script drops (a level that held a function
// when the chunk returned).
func TestSitesDoNotKeepDroppedCode(t *testing.T) {
	const src = `local M = {}
M.level = { tiles = {} DRAW }
for i = 1, 1000000 do M.level.tiles[i] = i + 0.5 end
function M.drop() M.level = nil end
return M`
	measure := func(draw string) float64 {
		rt := newRuntime(t, lua.Config{})
		base := heapMiB()
		id := load(t, rt, "lvl.lua", strings.Replace(src, "DRAW", draw, 1))
		call(t, rt, id, "drop")
		after := heapMiB()
		runtime.KeepAlive(rt)
		return after - base
	}
	data := measure("")
	code := measure(", draw = function() end")
	if code > data+10 {
		t.Errorf("a dropped table that held a function is kept alive: %.1f MiB held, %.1f MiB without the function", code, data)
	}
}

func heapMiB() float64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// TestReloadMergedTableKeepsRuntimeFunctions: in a table of functions the
// module holds, what the script changed as it ran is state, kept: a handler
// it removed stays removed, one it replaced stays replaced (by the new
// version's of the replacement, or by reference for a closure). The rest is
// the new source's: edited handlers, and one the edit added.
func TestReloadMergedTableKeepsRuntimeFunctions(t *testing.T) {
	src := func(v, extra string) string {
		return fmt.Sprintf(`local M = {}
function M.alt_hit() return "alt hit %[1]s" end
M.handlers = {
  on_hit = function() return "hit %[1]s" end,
  on_die = function() return "die %[1]s" end,
  on_tick = function() return "tick %[1]s" end,
  %[2]s
}
function M.change(word)
  M.handlers.on_die = nil
  M.handlers.on_hit = M.alt_hit
  M.handlers.on_jump = function() return "jump " .. word end
end
function M.probe()
  local h = M.handlers
  return h.on_hit(), h.on_die == nil, h.on_tick(), h.on_jump(), h.on_spawn and h.on_spawn()
end
return M`, v, extra)
	}
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "h.lua", src("v1", ""))
	call(t, rt, id, "change", "old closure")
	reload(t, rt, id, src("v2", `on_spawn = function() return "spawn v2" end,`))
	if got := call(t, rt, id, "probe"); got != `["alt hit v2",true,"tick v2","jump old closure","spawn v2"]` {
		t.Errorf("probe = %s", got)
	}
}

// classesHeld is a local class that four module functions use before hold
// gives the module it (so that its first places are upvalues).
func classesHeld(hold string) string {
	return `local M = {}
local Enemy = { count = 0 }
Enemy.__index = Enemy
function M.spawn() Enemy.count = Enemy.count + 1 return 1 end
function M.a() return Enemy end
function M.b() return Enemy end
function M.c() return Enemy end
function M.d() return Enemy end
` + hold + `
function M.probe() for _, c in pairs(M.classes) do return c.count end end
return M`
}

// TestReloadSameSourceKeepsState reloads a script's own source after its
// calls changed its state, which must all be carried:
//   - a table of functions is merged, but its list entries are the old
//     table's, all of them and only them (a handler removed stays removed,
//     none comes back twice), also in an object with its method on itself;
//   - a class whose metatable the script set after the chunk ran (classes
//     wired in an init function) keeps it: inherited methods still work;
//   - an object the module holds that is also a global is the module's
//     state, carried, not taken as the new chunk's global;
//   - a class the module holds keeps its counter when it is too big to merge
//     (copied as data), when module functions use it as a local first (its
//     place from the module is kept among its paths), or when a list of the
//     module holds it (copied as data, a class only as a metatable).
func TestReloadSameSourceKeepsState(t *testing.T) {
	tests := []struct {
		name, src string
		calls     []string
		probe     string // a function returning the state
		want      string
		after     []string // calls after the reload, before the probe
		before    string   // what the probe returns before the reload, if not want ("": not checked when after is set)
	}{
		{"handler list", `local M = {}
function M.a() return "a" end
function M.b() return "b" end
function M.c() return "c" end
M.handlers = { M.a, M.b, M.c }
function M.drop_first() table.remove(M.handlers, 1) end
function M.run() local out = {} for i, h in ipairs(M.handlers) do out[i] = h() end return out end
return M`, []string{"drop_first"}, "run", `["b","c"]`, nil, ""},
		{"queue object", `local M = {}
M.queue = { "x", "y", "z" }
function M.queue.pop(q) return table.remove(q, 1) end
function M.take() return M.queue:pop() end
function M.left() local n = 0 for _ in ipairs(M.queue) do n = n + 1 end return n end
return M`, []string{"take", "take"}, "left", `1`, nil, ""},
		{"metatable set as it ran", `local M = { objs = {} }
M.Base = {} M.Base.__index = M.Base
function M.Base:hello() return "hello" end
M.Derived = {} M.Derived.__index = M.Derived
function M.Derived:kind() return "derived" end
function M.init() setmetatable(M.Derived, M.Base) end
function M.spawn() table.insert(M.objs, setmetatable({}, M.Derived)) end
function M.greet() return M.objs[1]:hello() end
return M`, []string{"init", "spawn"}, "greet", `"hello"`, nil, ""},
		{"class too big to merge", `local M = {}
M.Enemy = { count = 0 }
M.Enemy.__index = M.Enemy
for i = 1, 1100 do M.Enemy["m" .. i] = function() return i end end
function M.spawn() M.Enemy.count = M.Enemy.count + 1 end
function M.probe() return M.Enemy.count end
return M`, []string{"spawn", "spawn"}, "probe", `2`, nil, ""},
		{"class a local first, then the module", classesHeld("M.classes = { Enemy = Enemy }"), []string{"spawn", "spawn"}, "probe", `2`, nil, ""},
		{"class a list of the module holds", classesHeld("M.classes = { Enemy }"), []string{"spawn", "spawn"}, "probe", `2`, nil, ""},
		{"class too big to merge, one table with its objects' metatable", `local M = { objs = {} }
M.Item = {}
M.Item.__index = M.Item
for i = 1, 1100 do M.Item["k" .. i] = i end
function M.Item.new() return setmetatable({}, M.Item) end
function M.spawn() M.objs[#M.objs + 1] = M.Item.new() end
function M.probe() return getmetatable(M.objs[1]) == M.Item, getmetatable(M.objs[#M.objs]) == M.Item end
return M`, []string{"spawn"}, "probe", `[true,true]`, []string{"spawn"}, ""},
		{"prototype subclass the module and a local hold", `local M = { objs = {} }
local Enemy = {}
M.Enemy = Enemy
function Enemy:new(o) o = o or {} setmetatable(o, self) self.__index = self return o end
function Enemy:speed_of() return self.speed end
local Fast = Enemy:new({ speed = 9 })
M.Fast = Fast
function M.spawn() M.objs[#M.objs + 1] = Fast:new() end
function M.boost() Fast.speed = Fast.speed + 1 end
function M.probe()
  local o = M.objs[#M.objs]
  return getmetatable(o) == M.Fast, o:speed_of(), M.Fast.speed
end
return M`, []string{"spawn"}, "probe", `[true,10,10]`, []string{"spawn", "boost"}, `[true,9,9]`},
		{"prototype subclass only a local holds", `local M = { objs = {} }
local Enemy = {}
function Enemy:new(o) o = o or {} setmetatable(o, self) self.__index = self return o end
function Enemy:speed_of() return self.speed end
local Fast = Enemy:new({ speed = 9 })
function M.spawn() M.objs[#M.objs + 1] = Fast:new() end
function M.boost() Fast.speed = 20 end
function M.probe() local o = M.objs[1] return getmetatable(o) == Fast, o:speed_of() end
return M`, []string{"spawn"}, "probe", `[true,20]`, []string{"boost"}, ""},
		{"module state also global", `player = { hp = 100, hit = function(self) self.hp = self.hp - 10 end }
local M = { party = { members = { player } } }
function M.hit() M.party.members[1]:hit() end
function M.hp() return M.party.members[1].hp end
return M`, []string{"hit", "hit"}, "hp", `80`, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, lua.Config{})
			id := load(t, rt, "s.lua", tt.src)
			for _, fn := range tt.calls {
				call(t, rt, id, fn)
			}
			before := cmp.Or(tt.before, tt.want)
			if got := call(t, rt, id, tt.probe); got != before && (tt.after == nil || tt.before != "") {
				t.Fatalf("before the reload: %s() = %s, want %s", tt.probe, got, before)
			}
			reload(t, rt, id, tt.src)
			for _, fn := range tt.after {
				call(t, rt, id, fn)
			}
			if got := call(t, rt, id, tt.probe); got != tt.want {
				t.Errorf("after reloading the same source: %s() = %s, want %s", tt.probe, got, tt.want)
			}
		})
	}
}

// TestReloadCarriesClassWiring: a class wired as the script ran, as
// Programming in Lua's idiom does in its first new() (self.__index = self),
// and one whose base class an init function set, keep that wiring in the new
// version, wherever the class is held: a reload that only edits a method
// leaves every object working.
func TestReloadCarriesClassWiring(t *testing.T) {
	const pil = `local Base = {}
function Base:greet() return "hello VERSION" end
local Enemy = { hp = 10 }
function Enemy:new(o)
  o = o or {}
  setmetatable(o, self)
  self.__index = self
  return o
end
function Enemy:describe() return "VERSION " .. self.kind end
local M = { list = {} }
function M.init() Base.__index = Base setmetatable(Enemy, Base) end
function M.spawn() M.init() M.list[1] = Enemy:new{ kind = "orc" } end
function M.describe() return M.list[1]:describe() .. ", " .. M.list[1]:greet() end
return M`
	for name, src := range map[string]string{
		"local":  pil,
		"global": strings.NewReplacer("local Enemy =", "Enemy =", "local Base =", "Base =").Replace(pil),
		"module": strings.Replace(pil, "local M = { list = {} }", "local M = { list = {}, Enemy = Enemy, Base = Base }", 1),
	} {
		t.Run(name, func(t *testing.T) {
			rt := newRuntime(t, lua.Config{})
			id := load(t, rt, "pil.lua", strings.ReplaceAll(src, "VERSION", "v1"))
			call(t, rt, id, "spawn")
			reload(t, rt, id, strings.ReplaceAll(src, "VERSION", "v2"))
			if got := call(t, rt, id, "describe"); got != `"v2 orc, hello v2"` {
				t.Errorf("after the reload: describe = %s", got)
			}
		})
	}
}

// TestReloadChangedBaseClass: a subclass whose base class the edit changes:
// old and new objects run the new version's class, which inherits from the
// new base (the metatable's __index, as the chunk left it, is the source's).
func TestReloadChangedBaseClass(t *testing.T) {
	const v1 = `local M = { objs = {} }
M.Walker = {} M.Walker.__index = M.Walker
function M.Walker:move() return "walks" end
M.Flyer = {} M.Flyer.__index = M.Flyer
function M.Flyer:move() return "flies" end
M.Bird = setmetatable({}, { __index = M.Walker })
M.Bird.__index = M.Bird
function M.Bird:name() return "bird" end
function M.spawn() table.insert(M.objs, setmetatable({}, M.Bird)) end
function M.probe() return M.objs[1]:move(), M.objs[2]:move() end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "b.lua", v1)
	call(t, rt, id, "spawn")
	reload(t, rt, id, strings.Replace(v1, "{ __index = M.Walker }", "{ __index = M.Flyer }", 1))
	call(t, rt, id, "spawn") // an object made by the new version
	if got := call(t, rt, id, "probe"); got != `["flies","flies"]` {
		t.Errorf("after making Bird inherit from Flyer: probe = %s, want [\"flies\",\"flies\"]", got)
	}
}

// TestReloadRemovedDataStaysRemoved: a data field of a table of code the
// module holds, which the script removed as it ran, stays removed.
func TestReloadRemovedDataStaysRemoved(t *testing.T) {
	const src = `local M = {}
M.player = { hp = 100, shield = { hp = 50 } }
function M.player.hit(self, n) if self.shield then self.shield.hp = self.shield.hp - n if self.shield.hp <= 0 then self.shield = nil end else self.hp = self.hp - n end end
function M.hit(n) M.player:hit(n) end
function M.probe() return M.player.hp, M.player.shield ~= nil end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "p.lua", src)
	call(t, rt, id, "hit", 60)
	call(t, rt, id, "hit", 10)
	want := call(t, rt, id, "probe")
	reload(t, rt, id, src)
	if got := call(t, rt, id, "probe"); got != want {
		t.Errorf("after reloading the same source: probe = %s, want %s (the broken shield is back)", got, want)
	}
}

// TestReloadEditedFunctionList: a list of functions the script left as the
// chunk made it is the new chunk's, edits included (it was the old one, its
// steps running their old code); one the script changed as it ran is the old
// one, whole, its functions their counterparts or, literals having none, the
// old code (not the second step twice).
func TestReloadEditedFunctionList(t *testing.T) {
	const v1 = `local M = {}
M.pipeline = {
  function() return "a1" end,
  function() return "b1" end,
}
function M.run() local out = {} for i, f in ipairs(M.pipeline) do out[i] = f() end return out end
return M`
	const v2 = `local M = {}
M.pipeline = {
  function() return "b2" end,
}
function M.run() local out = {} for i, f in ipairs(M.pipeline) do out[i] = f() end return out end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "p.lua", v1)
	reload(t, rt, id, v2)
	if got := call(t, rt, id, "run"); got != `["b2"]` {
		t.Errorf("after removing the first step from the source: run = %s, want the new list", got)
	}
	const add = "\nfunction M.add() table.insert(M.pipeline, function() return \"c\" end) end\nreturn M"
	id = load(t, rt, "q.lua", strings.Replace(v1, "\nreturn M", add, 1))
	call(t, rt, id, "add")
	reload(t, rt, id, strings.Replace(v2, "\nreturn M", add, 1))
	if got := call(t, rt, id, "run"); got != `["a1","b1","c"]` {
		t.Errorf("after a step added as the script ran, and the first removed from the source: run = %s, want the old list", got)
	}
}

// TestReloadHandlersRegisteredByTheChunk: event handlers that function
// literals register as the chunk runs are the new chunk's after a reload, a
// handler the edit adds included (helper-222: the old list stayed, and the
// added handler never registered); registered as the script ran (init), they
// are the old ones, writing to the new module.
func TestReloadHandlersRegisteredByTheChunk(t *testing.T) {
	const v1 = `local M = { score = 0, handlers = {} }
local function on(ev, f) M.handlers[ev] = M.handlers[ev] or {} table.insert(M.handlers[ev], f) end
REGISTER
function M.emit(ev, x) for _, f in ipairs(M.handlers[ev] or {}) do f(x) end end
function M.probe() return M.score, #M.handlers.kill end
return M`
	const one = `on("kill", function(pts) M.score = M.score + pts end)`
	const two = one + "\n" + `on("kill", function(pts) M.score = M.score + 1000 end)`
	for _, tt := range []struct {
		name, v1, v2, want string
	}{
		{"by the chunk", strings.Replace(v1, "REGISTER", one, 1), strings.Replace(v1, "REGISTER", two, 1), `[1020,2]`},
		{"by init", strings.Replace(v1, "REGISTER", "function M.init() "+one+" end", 1),
			strings.Replace(v1, "REGISTER", "function M.init() "+two+" end", 1), `[20,1]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, lua.Config{})
			id := load(t, rt, "h.lua", tt.v1)
			if tt.name == "by init" {
				call(t, rt, id, "init")
			}
			call(t, rt, id, "emit", "kill", 10)
			reload(t, rt, id, tt.v2)
			call(t, rt, id, "emit", "kill", 10)
			if got := call(t, rt, id, "probe"); got != tt.want {
				t.Errorf("probe = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestReloadProtectedMetatableReattached: a protected metatable
// (__metatable) is not carried, so that an on_restore that reattaches it, as
// scripts did when no metatable was carried, still works.
func TestReloadProtectedMetatableReattached(t *testing.T) {
	const src = `local M = { enemies = {} }
local Enemy = { __metatable = "locked" }
Enemy.__index = Enemy
function Enemy:kind() return "VERSION" end
function M.spawn() table.insert(M.enemies, setmetatable({}, Enemy)) end
function M.on_save() return {} end
function M.on_restore(saved)
  for _, e in ipairs(M.enemies) do setmetatable(e, Enemy) end
end
function M.probe() return M.enemies[1]:kind() end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "e.lua", strings.Replace(src, "VERSION", "v1", 1))
	call(t, rt, id, "spawn")
	reload(t, rt, id, strings.Replace(src, "VERSION", "v2", 1))
	if got := call(t, rt, id, "probe"); got != `"v2"` {
		t.Errorf("probe = %s", got)
	}
}

// TestReloadClassObjects: a class library's class object (a table with data
// of its own that holds its instances' metatable, as middleclass's does) is
// the new version's after a reload: objects' class field, the module's field
// and the chunk's local are one table, and methods run the new code.
func TestReloadClassObjects(t *testing.T) {
	const src = `local function class(name)
  local methods = {}
  methods.__index = methods
  local cls = { name = name, methods = methods }
  return setmetatable(cls, { __call = function(c, ...)
    local o = setmetatable({ class = c }, c.methods)
    if o.init then o:init(...) end
    return o
  end })
end
local Enemy = class("Enemy")
function Enemy.methods:init(hp) self.hp = hp end
function Enemy.methods:describe() return "VERSION " .. self.hp end
local M = { Enemy = Enemy, objs = {} }
function M.spawn(hp) table.insert(M.objs, Enemy(hp)) end
function M.probe()
  local o = M.objs[1]
  return o:describe(), o.class == Enemy, M.Enemy == Enemy, o.class.name
end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "c.lua", strings.Replace(src, "VERSION", "v1", 1))
	call(t, rt, id, "spawn", 5)
	reload(t, rt, id, strings.Replace(src, "VERSION", "v2", 1))
	if got := call(t, rt, id, "probe"); got != `["v2 5",true,true,"Enemy"]` {
		t.Errorf("after the reload: probe = %s", got)
	}
}

// TestReloadClassFollowsTheSource: in a class the module holds, what the
// script did not change as it ran follows the new source (an edited constant,
// a removed method), and what it changed is kept (a counter).
func TestReloadClassFollowsTheSource(t *testing.T) {
	const v1 = `local M = { objs = {} }
M.Enemy = { speed = 5, spawned = 0, GONE }
M.Enemy.__index = M.Enemy
function M.Enemy.new() M.Enemy.spawned = M.Enemy.spawned + 1 return setmetatable({}, M.Enemy) end
function M.spawn() table.insert(M.objs, M.Enemy.new()) end
function M.probe() local e = M.objs[1] return e.speed, M.Enemy.spawned, e.gone == nil end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "c.lua", strings.Replace(v1, "GONE", "gone = function() end", 1))
	call(t, rt, id, "spawn")
	reload(t, rt, id, strings.NewReplacer("speed = 5", "speed = 7", "GONE", "").Replace(v1))
	if got := call(t, rt, id, "probe"); got != `[7,1,true]` {
		t.Errorf("after the reload: probe = %s, want the edited speed 7, the count 1 kept, the removed method gone", got)
	}
}

// TestReloadRemovalsStayRemoved: a handler, or a class's metatable, that the
// script removed as it ran stays removed after a reload, whether or not what
// it removed has been collected since, and after a second reload too (the new
// version's sites record what its chunk made, which the carry then removed).
func TestReloadRemovalsStayRemoved(t *testing.T) {
	for name, src := range map[string]string{
		"handler": `local M = {}
M.handlers = {
  on_hit = function() return "hit" end,
  on_die = function() return "die" end,
}
function M.change() M.handlers.on_die = nil end
function M.probe() return M.handlers.on_die == nil end
return M`,
		"metatable": `local M = { objs = {} }
M.Thing = setmetatable({}, { __index = { hello = function() return "base" end } })
M.Thing.__index = M.Thing
function M.Thing:name() return "thing" end
function M.change() setmetatable(M.Thing, nil) end
function M.probe() return getmetatable(M.Thing) == nil end
return M`,
	} {
		for _, gc := range []bool{false, true} {
			rt := newRuntime(t, lua.Config{})
			id := load(t, rt, "r.lua", src)
			call(t, rt, id, "change")
			for round := 1; round <= 2; round++ {
				if gc {
					runtime.GC()
					runtime.GC()
				}
				reload(t, rt, id, src)
				if got := call(t, rt, id, "probe"); got != "true" {
					t.Errorf("%s, collected %v: after reload %d the removed one is back", name, gc, round)
				}
			}
		}
	}
}

// TestReloadClassAliasesDoNotDecide: a field that only names a class
// (M.default = Enemy), or a list of classes (a list's places are data), does
// not decide the match: changing what it names (M.default = Boss, the wave
// reordered) leaves the carried objects their classes.
func TestReloadClassAliasesDoNotDecide(t *testing.T) {
	for _, tt := range []struct{ name, alias, edited, spawn string }{
		{"field", "M.default = Enemy", "M.default = Boss", "M.default"},
		{"list", "M.wave = { Enemy, Enemy, Boss }", "M.wave = { Boss, Boss, Enemy }", "Enemy"},
	} {
		v1 := `local M = { objs = {} }
local Enemy = {} Enemy.__index = Enemy
function Enemy:kind() return "enemy" end
local Boss = {} Boss.__index = Boss
function Boss:kind() return "boss" end
` + tt.alias + `
function M.spawn() table.insert(M.objs, setmetatable({}, ` + tt.spawn + `)) end
function M.spawn_boss() table.insert(M.objs, setmetatable({}, Boss)) end
function M.kinds() local out = {} for i, o in ipairs(M.objs) do out[i] = o:kind() end return out end
return M`
		rt := newRuntime(t, lua.Config{})
		id := load(t, rt, "cls.lua", v1)
		call(t, rt, id, "spawn")
		call(t, rt, id, "spawn_boss")
		reload(t, rt, id, strings.Replace(v1, tt.alias, tt.edited, 1))
		if got := call(t, rt, id, "kinds"); got != `["enemy","boss"]` {
			t.Errorf("%s: after %s: kinds = %s, want [\"enemy\",\"boss\"]", tt.name, tt.edited, got)
		}
	}
}

// TestReloadLastFunctionRemoved: a table of functions the module holds whose
// last function the edit removes is merged still: the function is gone, and
// an unchanged constant follows the source, as with one function left.
func TestReloadLastFunctionRemoved(t *testing.T) {
	for _, left := range []string{"", "keep = function() end"} {
		rt := newRuntime(t, lua.Config{})
		id := load(t, rt, "r.lua", `local M = {}
M.cfg = { speed = 5, boost = function() return "old boost" end, `+left+` }
return M`)
		reload(t, rt, id, `local M = {}
M.cfg = { speed = 7, `+left+` }
function M.probe() return M.cfg.speed, M.cfg.boost ~= nil end
return M`)
		if got := call(t, rt, id, "probe"); got != `[7,false]` {
			t.Errorf("%q left: probe = %s, want [7,false]", left, got)
		}
	}
}
