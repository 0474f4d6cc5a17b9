package lua_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hotscript/hotscript/lua"
)

// enemyV1 is the spec's script shape, with state that a few frames change.
const enemyV1 = `
local M = { health = 100, position = { x = 10, y = 20 }, target = 42 }
function M.on_update(dt)
  M.health = M.health - dt
  M.position.x = M.position.x + 1
end
function M.speed() return 1 end
function M.global(name) return rawget(_G, name) end
return M
`

// enemyV2 has the same fields with other initial values, and new code.
const enemyV2 = `
local M = { health = 5, position = { x = 0, y = 0 }, target = 0 }
function M.on_update(dt)
  M.health = M.health - 2 * dt
  M.position.x = M.position.x + 2
end
function M.speed() return 2 end
return M
`

func TestReloadKeepsFields(t *testing.T) {
	for _, reloads := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d reloads", reloads), func(t *testing.T) {
			rt := newRuntime(t, lua.Config{})
			id := load(t, rt, "enemy.lua", enemyV1)
			for range 3 {
				call(t, rt, id, "on_update", 1)
			}
			want := map[string]string{}
			for _, f := range []string{"health", "position", "target"} {
				want[f] = field(t, rt, id, f)
			}
			for i := range reloads {
				src := enemyV2
				if i%2 == 1 {
					src = enemyV1
				}
				reload(t, rt, id, src)
			}
			for f, w := range want {
				if got := field(t, rt, id, f); got != w {
					t.Errorf("after %d reloads %s = %s, want %s (the value before the reloads)", reloads, f, got, w)
				}
			}
		})
	}
}

func TestReloadChangesFunctionsImmediately(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "enemy.lua", enemyV1)
	x := func() (x float64) {
		var pos struct{ X float64 }
		if err := json.Unmarshal([]byte(field(t, rt, id, "position")), &pos); err != nil {
			t.Fatal(err)
		}
		return pos.X
	}
	call(t, rt, id, "on_update", 1)
	oldStep := x()
	call(t, rt, id, "on_update", 1)
	oldStep = x() - oldStep
	before := call(t, rt, id, "speed")
	reload(t, rt, id, enemyV2)
	if after := call(t, rt, id, "speed"); after == before {
		t.Fatalf("speed() = %s before and after the reload; want the new code's result", after)
	}
	x0 := x()
	call(t, rt, id, "on_update", 1)
	if newStep := x() - x0; newStep == oldStep {
		t.Fatalf("on_update moves x by %v after the reload, as before it", newStep)
	}
}

func TestReloadCarriesData(t *testing.T) {
	tests := []struct {
		name   string
		setup  string // run in the old version before the reload
		check  string // an expression in the new version that must be true
		fields []string
	}{
		{"entity ids and arrays of them", `M.player = 1234567; M.targets = {17, 42, 99}`,
			`M.player == 1234567 and #M.targets == 3 and M.targets[3] == 99`, []string{"player", "targets"}},
		{"nested component tables", `M.stats.health = 7; table.insert(M.inventory.items, "sword")`,
			`M.stats.health == 7 and M.stats.mana == 10 and M.inventory.items[1] == "sword"`, []string{"inventory", "stats"}},
		{"shared subtables stay shared", `M.a = {n = 1}; M.b = M.a`,
			`M.a == M.b and M.a.n == 1`, []string{"a", "b"}},
		{"cycles stay cycles", `M.node = {}; M.node.self = M.node; M.node.next = {back = M.node}`,
			`M.node.self == M.node and M.node.next.back == M.node`, []string{"node"}},
		{"references to the module follow it", `M.self = M; M.entity = {owner = M}`,
			`M.self == M and M.entity.owner == M and M.self.speed() == 1`, []string{"entity", "self"}},
		{"table keys are copied", `local k = {}; M.byKey = {[k] = "v"}; M.key = k`,
			`M.byKey[M.key] == "v"`, []string{"byKey", "key"}},
		{"new fields keep their initial value", ``, `M.fresh == "new"`, nil},
		{"a field that became a function keeps the function", `M.speed = 5`, `type(M.speed) == "function"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, lua.Config{})
			id := load(t, rt, "game.lua", `
local M = { stats = { health = 100, mana = 10 }, inventory = { items = {} } }
function M.setup() `+tt.setup+` end
return M`)
			call(t, rt, id, "setup")
			st, err := rt.Stage(context.Background(), id, []byte(`
local M = { stats = { health = 1 }, inventory = { items = {"stick"} }, fresh = "new" }
function M.speed() return 1 end
function M.check() return `+tt.check+` end
return M`))
			if err != nil {
				t.Fatal(err)
			}
			rep, err := st.Commit(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := call(t, rt, id, "check"); got != "true" {
				t.Errorf("check %q = %s after reload", tt.check, got)
			}
			for _, f := range tt.fields {
				found := false
				for _, c := range rep.Carried {
					found = found || c == f
				}
				if !found {
					t.Errorf("report carried %v, missing %q", rep.Carried, f)
				}
			}
		})
	}
}

// TestReloadNestedTableReplacedWhole documents that a nested table is carried as a
// whole: a field that the new source adds inside it does not appear.
func TestReloadNestedTableReplacedWhole(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "game.lua", `return { stats = { health = 3 } }`)
	reload(t, rt, id, `return { stats = { health = 100, mana = 10 } }`)
	if got := field(t, rt, id, "stats"); got != `{"health":3}` {
		t.Fatalf("stats = %s, want the old table as it was", got)
	}
}

func TestReloadHooks(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "enemy.lua", `
local M = { health = 100, cache = {}, score = 0 }
function M.hit() M.health = M.health - 10; M.cache.last = "hit"; M.score = M.score + 1 end
function M.on_save() return { health = M.health } end
return M`)
	call(t, rt, id, "hit")
	call(t, rt, id, "hit")
	st, err := rt.Stage(context.Background(), id, []byte(`
local M = { health = 100, cache = {}, score = 0, restored = nil }
function M.on_save() return { health = M.health } end
function M.on_restore(saved)
  M.restored = saved.health
  M.health = saved.health * 2 -- only what the hook chooses
end
return M`))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := st.Commit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Saved || !rep.Restored {
		t.Errorf("report %+v: want both hooks run", rep)
	}
	if got := field(t, rt, id, "restored"); got != "80" {
		t.Errorf("on_restore got saved.health %s, want 80", got)
	}
	if got := field(t, rt, id, "health"); got != "160" {
		t.Errorf("health %s, want the hook's 160 over the carried 80", got)
	}
	// The cache the hook does not restore is still carried by the automatic copy.
	if got := field(t, rt, id, "cache"); got != `{"last":"hit"}` {
		t.Errorf("cache = %s, want it carried by the automatic copy", got)
	}
	if got := field(t, rt, id, "score"); got != "2" {
		t.Errorf("score = %s, want 2 carried", got)
	}
}

func TestReloadHookRules(t *testing.T) {
	tests := []struct {
		name          string
		old, new      string
		saved, restor bool
	}{
		{"old on_save only", `function M.on_save() return 1 end`, ``, true, false},
		{"new pair only", ``, `function M.on_save() end function M.on_restore(s) M.got = s end`, false, true},
		{"new on_restore only", ``, `function M.on_restore(s) M.got = s end`, false, false},
		{"both", `function M.on_save() return 1 end`, `function M.on_restore(s) M.got = s end`, true, true},
		{"neither", ``, ``, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, lua.Config{})
			id := load(t, rt, "h.lua", "local M = {}\n"+tt.old+"\nreturn M")
			st, err := rt.Stage(context.Background(), id, []byte("local M = {}\n"+tt.new+"\nreturn M"))
			if err != nil {
				t.Fatal(err)
			}
			rep, err := st.Commit(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if rep.Saved != tt.saved || rep.Restored != tt.restor {
				t.Errorf("saved=%v restored=%v, want %v %v", rep.Saved, rep.Restored, tt.saved, tt.restor)
			}
		})
	}
}

func TestFailedReloadKeepsOldVersion(t *testing.T) {
	tests := []struct {
		name string
		src  string
		kind error
		line int
		fn   string
	}{
		{"syntax error", "local M = {}\nfunction M.on_update(\nreturn M", lua.ErrCompile, 3, ""},
		{"runtime error in chunk", "local M = {}\nlocal x = nil\nx.boom = 1\nreturn M", lua.ErrRuntime, 3, "main chunk"},
		{"chunk returns a number", "return 42", lua.ErrNotTable, 0, "main chunk"},
		{"chunk returns nothing", "local M = {}", lua.ErrNotTable, 0, "main chunk"},
		{"limit in chunk", "while true do end", lua.ErrInstructionLimit, 1, "main chunk"},
		{"error in on_restore", "local M = {}\nfunction M.on_save() end\nfunction M.on_restore()\n  error('nope')\nend\nreturn M", lua.ErrRuntime, 4, "on_restore"},
		{"leaks globals then fails", "leaked = 1\nhost_state = {}\nerror('late')", lua.ErrRuntime, 3, "main chunk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, lua.Config{Limits: lua.Limits{MaxInstructions: 100_000}})
			id := load(t, rt, "enemy.lua", enemyV1)
			call(t, rt, id, "on_update", 1)
			before := field(t, rt, id, "position") + field(t, rt, id, "health")
			err := rt.ReloadScript(context.Background(), id, []byte(tt.src))
			if !errors.Is(err, tt.kind) {
				t.Fatalf("err = %v, want %v", err, tt.kind)
			}
			e := asError(t, err)
			if e.Script != "enemy.lua" || e.Line != tt.line || e.Function != tt.fn {
				t.Errorf("error names %q line %d function %q, want enemy.lua line %d %q (%v)", e.Script, e.Line, e.Function, tt.line, tt.fn, err)
			}
			if tt.line > 0 && !strings.Contains(err.Error(), fmt.Sprintf("enemy.lua:%d:", tt.line)) {
				t.Errorf("message %q does not name enemy.lua:%d", err, tt.line)
			}
			if after := field(t, rt, id, "position") + field(t, rt, id, "health"); after != before {
				t.Errorf("state changed by a failed reload: %s, was %s", after, before)
			}
			if got := call(t, rt, id, "speed"); got != "1" {
				t.Errorf("old code not running: speed() = %s", got)
			}
			call(t, rt, id, "on_update", 1) // still usable
			for _, g := range []string{"leaked", "host_state"} {
				if got := call(t, rt, id, "global", g); got != "null" {
					t.Errorf("global %s = %s in the live version after the failed reload", g, got)
				}
			}
		})
	}
}

// TestFailedHookRollsBack checks that what on_save changed in the old module,
// in tables behind its metatable and in the script's globals is undone when
// on_restore then fails.
func TestFailedHookRollsBack(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "s.lua", `
local defaults = { armor = 3 }
local M = setmetatable({ items = {1, 2, 3}, pos = { x = 1 } }, { __index = defaults })
config = { speed = 2 }
function M.on_save()
  M.items = nil; M.pos.x = 99; M.pos.y = 5; setmetatable(M.pos, {})
  config.speed = 0; config = nil; saved = true; defaults.armor = 0
  return 1
end
function M.dump() return M.items, M.pos, getmetatable(M.pos) == nil, config, saved == nil, M.armor end
return M`)
	before := call(t, rt, id, "dump")
	err := rt.ReloadScript(context.Background(), id, []byte(`
local M = {}
function M.on_restore(s) error("restore failed") end
return M`))
	if !errors.Is(err, lua.ErrRuntime) || asError(t, err).Function != "on_restore" {
		t.Fatalf("err = %v, want a runtime error in on_restore", err)
	}
	if after := call(t, rt, id, "dump"); after != before {
		t.Fatalf("old state after failed hook %s, want %s", after, before)
	}
}

// TestFailedReloadUndoesCarriedFunctions: the new version's on_restore and a
// host's check reach the old version's tables through a function carried in a
// data field (an old closure); when the reload then fails, what they changed
// is undone too, with or without an on_save.
func TestFailedReloadUndoesCarriedFunctions(t *testing.T) {
	const old = `local M = { hp = 100, inv = { "sword" } }
M.handlers = { owner = function() return M end }
function M.get() return M.hp, M.inv end
return M`
	const changeOld = `local o = M.handlers.owner(); o.hp = -1; table.insert(o.inv, "junk")`
	tests := []struct {
		name, src string
		check     lua.CheckFunc
	}{
		{"on_restore", `local M = {}
function M.on_save() return nil end
function M.on_restore() ` + changeOld + `; error("refuse this version") end
return M`, nil},
		{"check", `local M = {}
function M.spoil() ` + changeOld + ` end
return M`, func(ctx context.Context, next *lua.Version) error {
			if _, err := next.CallJSON(ctx, "spoil"); err != nil {
				return err
			}
			return errors.New("refused")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, lua.Config{})
			id := load(t, rt, "r.lua", old)
			st, err := rt.Stage(context.Background(), id, []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.CommitCheck(context.Background(), tt.check); err == nil {
				t.Fatal("the reload was committed")
			}
			if got := call(t, rt, id, "get"); got != `[100,["sword"]]` {
				t.Errorf("after the failed reload the live version holds %s, want [100,[\"sword\"]]", got)
			}
		})
	}
}

// TestSavedSharesCarried: what on_save returns is copied in the same copy as
// the fields, so a table both reach is one table in the new version, holding
// what was carried before on_save ran; a module on_save returns is the new
// module; a table only on_save's result reaches arrives as on_save left it.
func TestSavedSharesCarried(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "m.lua", `local M = { count = 1, items = {"a"} }
function M.on_save()
  M.count = M.count + 1
  local extra = { "x" }
  table.insert(extra, "y")
  return { items = M.items, m = M, extra = extra }
end
return M`)
	reload(t, rt, id, `local M = { count = 0, items = {} }
function M.on_save() return {} end
function M.on_restore(s)
  M.same = s.items == M.items and s.m == M
  M.extra = #s.extra
  table.insert(s.items, "restored")
end
return M`)
	if got := field(t, rt, id, "same"); got != "true" {
		t.Errorf("in on_restore, saved.items == M.items and saved.m == M: %s", got)
	}
	if got := field(t, rt, id, "items"); got != `["a","restored"]` {
		t.Errorf("M.items = %s after on_restore appended to saved.items", got)
	}
	if got := field(t, rt, id, "count"); got != "1" {
		t.Errorf("count = %s, want 1: carried before on_save ran", got)
	}
	if got := field(t, rt, id, "extra"); got != "2" {
		t.Errorf("#saved.extra = %s, want 2: as on_save left it", got)
	}
}

// TestReloadKnownLimits checks the documented limits of state carrying.
func TestReloadKnownLimits(t *testing.T) {
	rt := newRuntime(t, lua.Config{Libraries: lua.LibCoroutine})
	id := load(t, rt, "lim.lua", `
local hits = 0 -- an upvalue: not carried
local M = { co = nil, handlers = {} }
M.co = coroutine.create(function() coroutine.yield(1) end)
function M.hit() hits = hits + 1; return hits end
function M.listen(word) M.handlers.run = function() return "old " .. word end end
return M`)
	call(t, rt, id, "hit")
	call(t, rt, id, "hit")
	call(t, rt, id, "listen", "handler") // a closure made as the script ran, in a data field
	reload(t, rt, id, `
local hits = 0
local M = { co = "fresh", handlers = {} }
function M.hit() hits = hits + 1; return hits end
function M.listen(word) M.handlers.run = function() return "new " .. word end end
function M.probe() return M.handlers.run(), M.co end
return M`)
	if got := call(t, rt, id, "probe"); got != `["old handler","fresh"]` {
		t.Errorf("probe = %s, want the old closure carried, the coroutine not carried", got)
	}
	if got := call(t, rt, id, "hit"); got != "1" {
		t.Errorf("hit = %s, want 1: closure upvalues are not carried", got)
	}
}

func TestStagedLifecycle(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "s.lua", `return { n = 1, f = function() return 1 end }`)
	st, err := rt.Stage(ctx, id, []byte(`return { n = 2, m = 3, g = function() return 2 end }`))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(st.Fields(), st.Functions()); got != "[m n] [g]" {
		t.Errorf("staged fields and functions %s", got)
	}
	if got := call(t, rt, id, "f"); got != "1" {
		t.Errorf("the live version changed before Commit: f() = %s", got)
	}
	st.Discard(ctx)
	st.Discard(ctx)
	if _, err := st.Commit(ctx); !errors.Is(err, lua.ErrClosed) {
		t.Errorf("Commit after Discard: %v, want ErrClosed", err)
	}
	st, err = rt.Stage(ctx, id, []byte(`return { g = function() return 2 end }`))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := st.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Script != "s.lua" || fmt.Sprint(rep.Carried) != "[n]" || rep.Blocked <= 0 {
		t.Errorf("report %+v", rep)
	}
	st.Discard(ctx) // no-op after Commit
	if got := call(t, rt, id, "g"); got != "2" {
		t.Errorf("g() = %s after Commit", got)
	}
	if _, err := st.Commit(ctx); !errors.Is(err, lua.ErrClosed) {
		t.Errorf("second Commit: %v, want ErrClosed", err)
	}
}

// A commit whose context ends while a lease holds the script keeps the
// version staged: nothing ran, and it commits later. ReloadScript, whose
// commit this is, discards it.
func TestCommitWaitKeepsStaged(t *testing.T) {
	ctx := context.Background()
	rt, err := lua.NewRuntime(ctx, lua.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	id, err := rt.Load(ctx, "s.lua", []byte("return { v = 1 }"), nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := rt.Stage(ctx, id, []byte("return { w = 2 }"))
	if err != nil {
		t.Fatal(err)
	}
	lease, err := rt.Acquire(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	frame, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	_, err = st.Commit(frame)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Commit while a lease holds the script: %v, want its context's error", err)
	}
	if err := rt.ReloadScript(frame, id, []byte("return {}")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReloadScript with its context over: %v", err)
	}
	lease.Release()
	if len(st.Functions()) != 0 || st.Fields() == nil {
		t.Errorf("the staged version was given up: fields %q", st.Fields())
	}
	if _, err := st.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if out, _ := rt.Field(ctx, id, "w"); string(out) != "2" {
		t.Errorf("after the second Commit: w = %s, want 2", out)
	}
}

// A Staged committed after its runtime closed fails with ErrClosed, as Close
// says of later calls (it said ErrNotFound).
func TestCommitAfterClose(t *testing.T) {
	ctx := context.Background()
	rt, err := lua.NewRuntime(ctx, lua.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	id, err := rt.Load(ctx, "s.lua", []byte("return { v = 1 }"), nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := rt.Stage(ctx, id, []byte("return { v = 2 }"))
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Commit(ctx); !errors.Is(err, lua.ErrClosed) {
		t.Errorf("Commit after Close: %v, want ErrClosed", err)
	}
}

// A call through the version being checked that fails as it runs fails the
// commit, even when the CheckFunc drops its error: it may have left the
// version half-changed. ClearErr is for a check that expects the failure. As
// package wasm's migrations.
func TestCheckSwallowsFailedCall(t *testing.T) {
	ctx := context.Background()
	for _, clear := range []bool{false, true} {
		rt, err := lua.NewRuntime(ctx, lua.Limits{MaxInstructions: 10_000})
		if err != nil {
			t.Fatal(err)
		}
		id, err := rt.Load(ctx, "s.lua", []byte("return { v = 1 }"), nil)
		if err != nil {
			t.Fatal(err)
		}
		st, err := rt.Stage(ctx, id, []byte(`local M = { v = 2 }
function M.boom() M.v = 3 error("half-way") end
function M.spin() while true do end end
return M`))
		if err != nil {
			t.Fatal(err)
		}
		_, err = st.CommitCheck(ctx, func(ctx context.Context, next *lua.Version) error {
			next.CallJSON(ctx, "nothing") // did not run: not counted
			next.CallJSON(ctx, "boom")    // its error dropped
			next.CallJSON(ctx, "spin")
			if first := next.Err(); !errors.Is(first, lua.ErrRuntime) {
				t.Errorf("Err = %v, want boom's runtime error", first)
			}
			if clear {
				next.ClearErr()
			}
			return nil
		})
		v, _ := rt.Field(ctx, id, "v")
		switch {
		case !clear && (!errors.Is(err, lua.ErrRuntime) || string(v) != "1"):
			t.Errorf("a check that dropped a failed call: %v, v = %s; want the runtime error, v 1", err, v)
		case clear && (err != nil || string(v) != "3"):
			t.Errorf("a check that cleared it: %v, v = %s; want committed, v 3", err, v)
		}
		rt.Close(ctx)
	}
}

// An on_save that fails is the live version's: every reload runs it first, the
// one fixing it included, and fails naming it as the live version's, with the
// state kept (the package doc says so, and how to avoid it).
func TestFailingOnSaveIsTheLiveVersions(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "p.lua", "local M = {n = 1}\nfunction M.bump() M.n = M.n + 1 return M.n end\nreturn M")
	call(t, rt, id, "bump")
	reload(t, rt, id, "local M = {n = 1}\nfunction M.bump() M.n = M.n + 1 return M.n end\nfunction M.on_save()\n  error('typo')\nend\nreturn M")
	fixed := "local M = {n = 1}\nfunction M.bump() M.n = M.n + 1 return M.n end\nfunction M.on_save() return {n = M.n} end\nreturn M"
	for range 2 {
		err := rt.ReloadScript(context.Background(), id, []byte(fixed))
		e := asError(t, err)
		if e.Function != "on_save of the live version" || e.Line != 4 || !strings.Contains(err.Error(), "p.lua:4: typo") {
			t.Errorf("reload of the fix: %v (function %q, line %d)", err, e.Function, e.Line)
		}
	}
	if got := call(t, rt, id, "bump"); got != "3" {
		t.Errorf("bump after the failed reloads = %s, want 3", got)
	}
}

// With Config.ReloadPastFailingOnSave, a reload goes on past the live version's
// failing on_save (an error, or a limit): the fix goes live with the fields as
// step 3 carried them, before on_save changed any, on_restore gets nil, and
// the report says what failed. A failing on_restore still fails the reload.
func TestReloadPastFailingOnSave(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, lua.Config{ReloadPastFailingOnSave: true, Limits: lua.Limits{MaxInstructions: 1e6}})
	const body = "local M = {n = 1}\nfunction M.bump() M.n = M.n + 1 return M.n end\n"
	for _, broken := range []string{
		"function M.on_save()\n  M.n = 100 error('typo')\nend\n",
		"function M.on_save()\n  M.n = 100 while true do end\nend\n",
	} {
		id := load(t, rt, "p.lua", body+"return M")
		call(t, rt, id, "bump")
		reload(t, rt, id, body+broken+"return M")
		call(t, rt, id, "bump") // n = 3
		restoreFails := body + "function M.on_save() return {} end\nfunction M.on_restore(s) error('restore ' .. tostring(s)) end\nreturn M"
		if err := rt.ReloadScript(ctx, id, []byte(restoreFails)); err == nil || !strings.Contains(err.Error(), "restore nil") {
			t.Errorf("a reload whose on_restore fails: %v, want it to fail", err)
		}
		fixed := body + "function M.on_save() return {n = M.n} end\nfunction M.on_restore(s) M.got = tostring(s) end\nreturn M"
		st, err := rt.Stage(ctx, id, []byte(fixed))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := st.Commit(ctx)
		if err != nil {
			t.Fatalf("the fix, past the failing on_save: %v", err)
		}
		if e := asError(t, rep.SaveFailed); e.Function != "on_save of the live version" || e.Line != 4 || rep.Saved || !rep.Restored {
			t.Errorf("report: SaveFailed %v (line %d), Saved %v, Restored %v; want on_save's failure at line 4, not saved, restored",
				rep.SaveFailed, e.Line, rep.Saved, rep.Restored)
		}
		got, _ := rt.Field(ctx, id, "got")
		if n := call(t, rt, id, "bump"); n != "4" || string(got) != `"nil"` {
			t.Errorf("after the fix: bump = %s, on_restore got %s; want 4 (n carried as before on_save), nil", n, got)
		}
		if err := rt.Unload(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
}

// Past a failing on_save, old code the new version still reaches (a closure
// carried in a data field) sees the state as step 3 carried it, not what
// on_save changed before it failed; and what the reload carries does not
// depend on whether on_save ran (a class reached through a global class's
// metatable, met as the carry wires classes, was carried only after an
// on_save that succeeded).
func TestPastFailingOnSaveStateAsCarried(t *testing.T) {
	ctx := context.Background()
	var logged strings.Builder
	rt := newRuntime(t, lua.Config{ReloadPastFailingOnSave: true, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	src := "local M = {}\nlocal hidden = {v = 1}\nM.handlers = { function() return hidden.v end }\nfunction M.get() return M.handlers[1]() end\n"
	id := load(t, rt, "p.lua", src+"function M.on_save() hidden.v = 999 error('typo') end\nreturn M")
	reload(t, rt, id, src+"return M")
	if text := logged.String(); !strings.Contains(text, "reload went on past the live version's failing on_save") || !strings.Contains(text, "p.lua:5: typo") {
		t.Errorf("ReloadScript past on_save logged %q, want a warning naming the failure", text)
	}
	if got := call(t, rt, id, "get"); got != "1" {
		t.Errorf("after the reload past on_save: get = %s, want 1 (as before on_save)", got)
	}
	if err := rt.Unload(ctx, id); err != nil {
		t.Fatal(err)
	}

	base := `local Obj = {count = 0}
function Obj.inc() Obj.count = Obj.count + 1 return Obj.count end
Enemy = {}
Enemy.__index = Enemy
local M = {}
function M.setup() setmetatable(Enemy, {__index = Obj}) end
function M.go() return Obj.inc() end
`
	got := map[string]string{}
	for name, hook := range map[string]string{"no on_save": "", "on_save returning nil": "function M.on_save() return nil end\n",
		"failing on_save": "function M.on_save() error('x') end\n"} {
		id := load(t, rt, "c.lua", base+hook+"return M")
		call(t, rt, id, "setup")
		call(t, rt, id, "go")
		call(t, rt, id, "go")
		reload(t, rt, id, base+"return M")
		got[name] = call(t, rt, id, "go")
		if err := rt.Unload(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if got["no on_save"] != "1" || got["on_save returning nil"] != "1" || got["failing on_save"] != "1" {
		t.Errorf("Obj.count after the reload: %v, want 1 whatever on_save did: a local class reached only through a global's metatable starts over", got)
	}

	// A class on_save returns carries its data whether or not a global's
	// metatable reaches it too (wiring met it first, and dropped it).
	for name, setup := range map[string]string{"not wired": "", "wired": "setmetatable(Enemy, {__index = Obj})"} {
		src := base + "function M.setup() " + setup + " end\n" +
			"function M.on_save() return {cls = Obj} end\nfunction M.on_restore(s) if s then M.n = s.cls.count end end\nreturn M"
		id := load(t, rt, "s.lua", src)
		call(t, rt, id, "setup")
		call(t, rt, id, "go")
		call(t, rt, id, "go")
		reload(t, rt, id, src)
		if n, _ := rt.Field(ctx, id, "n"); string(n) != "2" {
			t.Errorf("%s: the count on_restore saw of the class on_save returned = %s, want 2", name, n)
		}
		if err := rt.Unload(ctx, id); err != nil {
			t.Fatal(err)
		}
	}

	// What on_restore does through such a closure stays (the undo of on_save
	// comes before it).
	base = "local M = {}\nlocal hidden = {v = 1}\nM.handlers = { function() hidden.v = hidden.v + 1 return hidden.v end }\n" +
		"function M.get() return M.handlers[1]() end\n"
	got = map[string]string{}
	for name, hook := range map[string]string{"working on_save": "function M.on_save() return nil end\n",
		"failing on_save": "function M.on_save() hidden.v = 50 error('typo') end\n"} {
		id := load(t, rt, "r.lua", base+hook+"return M")
		reload(t, rt, id, base+"function M.on_restore(saved) M.handlers[1]() end\nreturn M") // hidden.v: 2
		got[name] = call(t, rt, id, "get")
		if err := rt.Unload(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if got["working on_save"] != "3" || got["failing on_save"] != "3" {
		t.Errorf("get after a reload whose on_restore bumped the count: %v, want 3 either way", got)
	}
}

// The module's list entries are carried as its other fields are: one the
// script removed stays removed, and #M is as it was (helper-160); one the new
// source adds is kept, and data where the old version had a function is the
// new source's (helper-162).
func TestModuleListEntriesCarried(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	src := `local M = { "a", "b", "c", name = "x" }
function M.drop() M[3] = nil M.name = nil end
function M.get() return { M[1], M[2], M[3] or "nil", #M, M.name or "nil" } end
return M`
	id := load(t, rt, "m.lua", src)
	call(t, rt, id, "drop")
	before := call(t, rt, id, "get")
	reload(t, rt, id, src) // the same source
	if after := call(t, rt, id, "get"); before != after || before != `["a","b","nil",2,"nil"]` {
		t.Errorf("the module's list: %s before the reload, %s after; want both [\"a\",\"b\",\"nil\",2,\"nil\"]", before, after)
	}
	reload(t, rt, id, `local M = { "p", "q", "r", "s" }
M[6] = function() return "new" end
function M.get() return { M[1], M[2], M[3] or "nil", M[4] or "nil", M[6]() } end
return M`)
	if got := call(t, rt, id, "get"); got != `["a","b","nil","s","new"]` {
		t.Errorf("after a version with other list data and a function at [6]: %s, want the old entries, the new one at [4], the new function", got)
	}
	reload(t, rt, id, `local M = { "p", "q", "r", "s", "t", "data" }
function M.get() return { M[1], M[2], M[3] or "nil", M[4], M[5], M[6] } end
return M`)
	if got := call(t, rt, id, "get"); got != `["a","b","nil","s","t","data"]` {
		t.Errorf("after a version with data at [5] (new) and [6] (a function before): %s, want [\"a\",\"b\",\"nil\",\"s\",\"t\",\"data\"]", got)
	}
}

// A chunk saved with a UTF-8 byte order mark (an editor's "UTF-8 with BOM")
// loads and reloads, as Lua's own loadfile skips the mark (helper-174: the
// load failed on an "invalid token" naming a raw byte); errors keep their
// lines, and a mark anywhere else is no Lua.
func TestChunkWithByteOrderMark(t *testing.T) {
	const bom = "\xEF\xBB\xBF"
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "bom.lua", bom+"local M = { n = 1 }\nfunction M.get() return M.n end\nreturn M")
	reload(t, rt, id, bom+"local M = { n = 0 }\nfunction M.get() return M.n + 1 end\nreturn M")
	if got := call(t, rt, id, "get"); got != "2" {
		t.Errorf("get() = %s after a reload with a BOM, want 2", got)
	}
	err := rt.ReloadScript(context.Background(), id, []byte(bom+"local M = {}\n\nx = = 1\nreturn M"))
	var le *lua.Error
	if !errors.As(err, &le) || le.Line != 3 || strings.Contains(err.Error(), "\xEF") {
		t.Errorf("a syntax error on line 3 after a BOM: %v, want it on line 3", err)
	}
	if _, err := rt.LoadScript(context.Background(), "mid.lua", []byte("return {}"+bom)); !errors.Is(err, lua.ErrCompile) {
		t.Errorf("a mark after the first byte: %v, want ErrCompile", err)
	}
}
