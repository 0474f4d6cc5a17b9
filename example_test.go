package hotscript_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/hotscript/hotscript"
	"github.com/hotscript/hotscript/ecs"
	"github.com/hotscript/hotscript/internal/guest"
	"github.com/hotscript/hotscript/internal/hostguest"
	"github.com/hotscript/hotscript/lua"
)

func ExampleHost_Load() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "enemy.lua")
	os.WriteFile(path, []byte(`return { health = 100, hit = function(self) end }`), 0o600)

	h, _ := hotscript.New(ctx, hotscript.Config{})
	defer h.Close(ctx)
	s, err := h.Load(ctx, path, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Kind(), "version", s.Version())
	// Output: lua version 1
}

func ExampleHost_Watch() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "enemy.lua")
	os.WriteFile(path, []byte(`return { health = 100, speed = function() return 1 end }`), 0o600)

	h, _ := hotscript.New(ctx, hotscript.Config{})
	defer h.Close(ctx)
	s, _ := h.Load(ctx, path, nil)
	if err := h.Watch(ctx, dir); err != nil {
		fmt.Println(err)
		return
	}
	<-h.Events() // enemy.lua: loaded v1

	// The user saves a broken edit, then the fix; each save is one reload.
	os.WriteFile(path, []byte(`return { health = 0, speed = function() return 2 end`), 0o600)
	ev := <-h.Events()
	fmt.Println(ev.Kind, ev.Err != nil)
	out, _ := h.Call(ctx, s, "speed")
	fmt.Println("speed", string(out), "(the old version still runs)")

	os.WriteFile(path, []byte(`return { health = 0, speed = function() return 2 end }`), 0o600)
	ev = <-h.Events()
	fmt.Println(ev.Kind, ev.Carried)
	out, _ = h.Call(ctx, s, "speed")
	fmt.Println("speed", string(out))
	// Output:
	// rejected true
	// speed 1 (the old version still runs)
	// committed [health]
	// speed 2
}

func ExampleHost_Unload() {
	ctx := context.Background()
	h, _ := hotscript.New(ctx, hotscript.Config{})
	defer h.Close(ctx)
	plugin, _ := h.LoadBytes(ctx, "plugin.lua", []byte(`return { hello = function() return "hi" end }`), nil)

	fmt.Println(h.Unload(ctx, plugin))
	_, err := h.Call(ctx, plugin, "hello")
	fmt.Println(errors.Is(err, hotscript.ErrUnloaded))
	_, ok := h.Script("plugin.lua")
	fmt.Println(ok)
	// Output:
	// <nil>
	// true
	// false
}

func ExampleHost_Call() {
	ctx := context.Background()
	h, _ := hotscript.New(ctx, hotscript.Config{})
	defer h.Close(ctx)

	// add_v1 (internal/guest/add_v1.wat) exports add(i32, i32) i32.
	add, _ := h.LoadBytes(ctx, "add.wasm", guest.Bytes("add_v1"), nil)
	out, _ := h.Call(ctx, add, "add", 2, 3)
	fmt.Println(string(out))

	enemy, _ := h.LoadBytes(ctx, "enemy.lua", []byte(`
		local M = { health = 100 }
		function M.update(dt) M.health = M.health - dt * 10; return M.health end
		return M`), nil)
	out, _ = h.Call(ctx, enemy, "update", 0.5)
	fmt.Println(string(out))
	// Output:
	// 5
	// 95
}

func ExampleHost_Reload() {
	ctx := context.Background()
	h, _ := hotscript.New(ctx, hotscript.Config{})
	defer h.Close(ctx)
	// counter_vN (internal/guest/counter_vN.wat) exports increment(),
	// get_counter() i32, set_counter(i32) and version() i32, which returns N.
	s, _ := h.LoadBytes(ctx, "counter.wasm", guest.Bytes("counter_v1"), nil)

	// The new version compiles on a background goroutine; callers of s keep
	// calling version 1 until the swap.
	if err := h.Reload(ctx, s, guest.Bytes("counter_v2")); err != nil {
		fmt.Println(err)
	}
	out, _ := h.Call(ctx, s, "version")
	fmt.Println("live:", string(out))

	// A broken version is rejected and version 2 keeps running.
	err := h.Reload(ctx, s, []byte("not a module"))
	fmt.Println("rejected:", err != nil)
	out, _ = h.Call(ctx, s, "version")
	fmt.Println("live:", string(out))
	// Output:
	// live: 2
	// rejected: true
	// live: 2
}

func ExampleHost_ReloadAsync() {
	ctx := context.Background()
	h, _ := hotscript.New(ctx, hotscript.Config{Swap: hotscript.SwapAtApply})
	defer h.Close(ctx)
	// counter_vN (internal/guest/counter_vN.wat) exports increment(),
	// get_counter() i32, set_counter(i32) and version() i32, which returns N.
	s, _ := h.LoadBytes(ctx, "counter.wasm", guest.Bytes("counter_v1"), nil)

	p := h.ReloadAsync(ctx, s, guest.Bytes("counter_v2"))
	// The game loop: call Apply between frames until the reload is resolved.
	for done := false; !done; {
		h.Apply(ctx)
		select {
		case <-p.Done():
			done = true
		default:
		}
	}
	fmt.Println(p.Err(), p.Event())
	// Output: <nil> counter.wasm: committed v1 -> v2
}

func ExampleHost_Events() {
	ctx := context.Background()
	h, _ := hotscript.New(ctx, hotscript.Config{})
	s, _ := h.LoadBytes(ctx, "enemy.lua", []byte(`return { health = 80, pos = {1, 2} }`), nil)
	h.Reload(ctx, s, []byte(`local M = { health = 100, pos = {0, 0} }
function M.hit() M.health = M.health - 1 end
return M`))
	h.Reload(ctx, s, []byte("return {"))
	h.Close(ctx) // closes the Events channel

	for ev := range h.Events() {
		fmt.Println(ev)
		if ev.Kind == hotscript.Committed {
			fmt.Println("  diff:", ev.Diff)
		}
	}
	// Output:
	// enemy.lua: loaded v1
	// enemy.lua: committed v1 -> v2 (carried health, pos)
	//   diff: added: hit
	// enemy.lua: rejected v3, v2 keeps running: lua: reload enemy.lua: enemy.lua:1: syntax error at end of file
}

func ExampleHost_Revert() {
	ctx := context.Background()
	h, _ := hotscript.New(ctx, hotscript.Config{})
	defer h.Close(ctx)
	// counter_vN (internal/guest/counter_vN.wat) exports increment(),
	// get_counter() i32, set_counter(i32) and version() i32, which returns N.
	s, _ := h.LoadBytes(ctx, "counter.wasm", guest.Bytes("counter_v1"), nil)
	h.Reload(ctx, s, guest.Bytes("counter_v2"))
	h.Reload(ctx, s, guest.Bytes("counter_v3"))

	for range 3 {
		err := h.Revert(ctx, s)
		out, _ := h.Call(ctx, s, "version")
		fmt.Println("live:", string(out), "error:", errors.Is(err, hotscript.ErrNoHistory))
	}
	// Output:
	// live: 2 error: false
	// live: 1 error: false
	// live: 1 error: true
}

func ExampleMigrateExports() {
	ctx := context.Background()
	h, _ := hotscript.New(ctx, hotscript.Config{Migration: hotscript.MigrateExports})
	defer h.Close(ctx)
	// enemy_v1 (internal/hostguest/enemy_v1.wat) exports update(f32), fire(),
	// shots() i32 and get_state/set_state, its state as a JSON document;
	// enemy_v2 is the next version, enemy_set_trap one whose set_state traps.
	s, _ := h.LoadBytes(ctx, "enemy.wasm", hostguest.Bytes("enemy_v1"), nil)
	h.Call(ctx, s, "fire")
	h.Call(ctx, s, "fire")

	// get_state on version 1, set_state on version 2, inside the swap.
	h.Reload(ctx, s, hostguest.Bytes("enemy_v2"))
	shots, _ := h.Call(ctx, s, "shots")
	fmt.Println("shots after reload:", string(shots))

	// A version whose set_state traps is rolled back: version 2 keeps its state.
	err := h.Reload(ctx, s, hostguest.Bytes("enemy_set_trap"))
	shots, _ = h.Call(ctx, s, "shots")
	fmt.Println(errors.Is(err, hotscript.ErrMigration), "shots:", string(shots))
	// Output:
	// shots after reload: 2
	// true shots: 2
}

func ExampleMigrateExportsOrReset() {
	ctx := context.Background()
	h, _ := hotscript.New(ctx, hotscript.Config{Migration: hotscript.MigrateExportsOrReset})
	defer h.Close(ctx)
	// enemy_v1 and enemy_v2 (internal/hostguest) export fire(), shots() i32 and
	// get_state/set_state; enemy_get_trap is a version whose get_state traps.
	s, _ := h.LoadBytes(ctx, "enemy.wasm", hostguest.Bytes("enemy_v1"), nil)
	h.Call(ctx, s, "fire")
	h.Reload(ctx, s, hostguest.Bytes("enemy_get_trap"))
	shots, _ := h.Call(ctx, s, "shots")
	fmt.Println("carried:", string(shots))

	// Its state cannot be read, so MigrateExports would reject every later
	// reload: the fix goes live, started afresh.
	err := h.Reload(ctx, s, hostguest.Bytes("enemy_v2"))
	shots, _ = h.Call(ctx, s, "shots")
	fmt.Println("fix:", err, "shots:", string(shots))
	// Output:
	// carried: 1
	// fix: <nil> shots: 0
}

func ExampleMigrationFunc() {
	type ScriptState struct{ Counter int }
	ctx := context.Background()
	world := ecs.NewWorld()
	entity := world.Spawn()

	// The spec's pattern: state goes through an ECS component.
	viaWorld := func(ctx context.Context, m *hotscript.Migration) error {
		out, err := m.CallOld(ctx, "get_counter")
		if err != nil {
			return err
		}
		var n int
		fmt.Sscan(string(out), &n)
		ecs.Insert(m.World, entity, ScriptState{Counter: n})
		st, _ := ecs.Get[ScriptState](m.World, entity)
		_, err = m.CallNew(ctx, "set_counter", st.Counter)
		m.Carry("counter")
		return err
	}
	h, _ := hotscript.New(ctx, hotscript.Config{World: world, Migration: viaWorld})
	defer h.Close(ctx)
	// counter_vN (internal/guest/counter_vN.wat) exports increment(),
	// get_counter() i32, set_counter(i32) and version() i32, which returns N.
	s, _ := h.LoadBytes(ctx, "counter.wasm", guest.Bytes("counter_v1"), nil)
	for range 3 {
		h.Call(ctx, s, "increment")
	}
	h.Reload(ctx, s, guest.Bytes("counter_v2"))
	out, _ := h.Call(ctx, s, "get_counter")
	fmt.Println("counter:", string(out))
	// Output: counter: 3
}

func ExampleContract() {
	ctx := context.Background()
	h, _ := hotscript.New(ctx, hotscript.Config{})
	defer h.Close(ctx)
	// enemy_v1 (internal/hostguest/enemy_v1.wat) exports update(f32) and fire();
	// enemy_f64 exports update(f64) and no fire.
	s, _ := h.LoadBytes(ctx, "enemy.wasm", hostguest.Bytes("enemy_v1"),
		&hotscript.ScriptOptions{Contract: &hotscript.Contract{Exports: []string{"update(f32)", "fire()"}}})

	err := h.Reload(ctx, s, hostguest.Bytes("enemy_f64"))
	fmt.Println(err)
	fmt.Println("live version:", s.Version())
	// Output:
	// hotscript: enemy.wasm breaks its contract: update: was update(f32), now update(f64); removed: fire()
	// live version: 1
}

// A frame loop learns from Interface whether a version has update, instead of
// calling it to find out; it asks again only when the version changes.
func ExampleScript_Interface() {
	ctx := context.Background()
	h, _ := hotscript.New(ctx, hotscript.Config{})
	defer h.Close(ctx)
	s, _ := h.LoadBytes(ctx, "hud.lua", []byte(`return { draw = function() end }`), nil)

	_, ok := s.Interface().Export("update")
	fmt.Printf("v%d has update: %v\n", s.Version(), ok)

	h.Reload(ctx, s, []byte(`return { draw = function() end, update = function(dt) end }`))
	_, ok = s.Interface().Export("update")
	fmt.Printf("v%d has update: %v\n", s.Version(), ok)
	// Output:
	// v1 has update: false
	// v2 has update: true
}

// A game's hot loop calls a WASM script through the engine's fast path: a Func
// handle per function and a Lease per frame, with no JSON and no lock per call.
// Both follow the script's reloads through the Host.
func ExampleScript_WASM() {
	ctx := context.Background()
	h, _ := hotscript.New(ctx, hotscript.Config{})
	defer h.Close(ctx)
	// enemy_v1 exports fire() and shots() i32, among others.
	s, _ := h.LoadBytes(ctx, "enemy.wasm", hostguest.Bytes("enemy_v1"), nil)

	rt, id, _ := s.WASM()
	fire, _ := rt.Func(id, "fire")
	shots, _ := rt.Func(id, "shots")
	stack := make([]uint64, 1)
	for range 3 { // frames
		l, _ := rt.Acquire(ctx, id)
		for range 2 { // entities
			_ = l.Call(ctx, fire, stack)
		}
		l.Release()
	}
	_ = shots.Call(ctx, stack)
	fmt.Println("shots:", int32(stack[0]))

	_ = h.Reload(ctx, s, hostguest.Bytes("enemy_v2")) // MigrateReset: v2 starts over
	_ = fire.Call(ctx, stack)
	_ = shots.Call(ctx, stack)
	fmt.Println("shots after the reload:", int32(stack[0]))
	// Output:
	// shots: 6
	// shots after the reload: 1
}

// The same for a Lua script: lua.Func takes and returns numbers.
func ExampleScript_Lua() {
	ctx := context.Background()
	h, _ := hotscript.New(ctx, hotscript.Config{})
	defer h.Close(ctx)
	s, _ := h.LoadBytes(ctx, "enemy.lua", []byte(`local M = { hp = 100 }
function M.hit(n) M.hp = M.hp - n return M.hp end
return M`), nil)

	rt, id, _ := s.Lua()
	hit, _ := rt.Func(id, "hit")
	hp, _ := hit.Call(ctx, 10)
	fmt.Println("hp:", hp)

	_ = h.Reload(ctx, s, []byte(`local M = { hp = 100 }
function M.hit(n) M.hp = M.hp - 2 * n return M.hp end
return M`))
	hp, _ = hit.Call(ctx, 10) // the new hit, on the carried hp
	fmt.Println("hp after the reload:", hp)
	// Output:
	// hp: 90
	// hp after the reload: 70
}

// A host function that moves entities refuses to run for a version being
// staged (a Lua chunk's top level, a WASM start function), which runs on a
// goroutine of the Host's while the game loop may be using the world.
func ExampleStaging() {
	ctx := context.Background()
	world := ecs.NewWorld()
	hero := world.Spawn()
	_ = ecs.Insert(world, hero, 0.0)

	lrt, _ := lua.NewRuntime(ctx, lua.Limits{})
	defer lrt.Close(ctx)
	lrt.Define("game", "push", func(ctx context.Context, c *lua.Call) ([]any, error) {
		if hotscript.Staging(ctx) {
			return nil, errors.New("push: not from a script's top level")
		}
		*ecs.Ref[float64](world, hero) += c.Args[0].(float64)
		return nil, nil
	})
	h, _ := hotscript.New(ctx, hotscript.Config{Lua: lrt})
	defer h.Close(ctx)
	s, _ := h.LoadBytes(ctx, "hero.lua", []byte(`return { step = function() game.push(1) end }`), nil)
	h.Call(ctx, s, "step")

	err := h.Reload(ctx, s, []byte(`game.push(100) return { step = function() game.push(2) end }`))
	fmt.Println("reload rejected:", err != nil, "- version", s.Version(), "runs on")
	h.Call(ctx, s, "step")
	fmt.Println("x:", *ecs.Ref[float64](world, hero))
	// Output:
	// reload rejected: true - version 1 runs on
	// x: 2
}

// A host function defined once serves WASM and Lua scripts alike: here
// game.spawn(kind, x), which WASM imports with the signature (i32, i32, f64) ->
// i64, the string as (ptr, len).
func ExampleHostFunc() {
	ctx := context.Background()
	var spawned atomic.Int64
	spawn := hotscript.HostFunc{
		Module: "game", Name: "spawn",
		Params:  []hotscript.Type{hotscript.String, hotscript.F64},
		Results: []hotscript.Type{hotscript.I64},
		Func: func(ctx context.Context, c hotscript.HostCall) error {
			id := spawned.Add(1)
			fmt.Printf("%s spawns %s %d at x=%v\n", c.Script(), c.Str(0), id, c.Float(1))
			c.SetInt(0, id)
			return nil
		},
	}
	h, _ := hotscript.New(ctx, hotscript.Config{Funcs: []hotscript.HostFunc{spawn}})
	defer h.Close(ctx)
	w, _ := h.LoadBytes(ctx, "waves.wasm", hostguest.Bytes("spawner"), nil)
	l, _ := h.LoadBytes(ctx, "waves.lua", []byte(`
local M = {}
function M.wave(x) return game.spawn("orc", x) end
function M.bad() return game.spawn(7, 0) end
return M`), nil)
	out, _ := h.Call(ctx, w, "wave", 1.5)
	fmt.Println("wasm got", string(out))
	out, _ = h.Call(ctx, l, "wave", 2.5)
	fmt.Println("lua got", string(out))
	_, err := h.Call(ctx, l, "bad")
	fmt.Println(err)
	// Output:
	// waves.wasm spawns goblin 1 at x=1.5
	// wasm got 1
	// waves.lua spawns orc 2 at x=2.5
	// lua got 2
	// lua: call waves.lua bad: waves.lua:4: game.spawn: argument #1: string expected, got number
}

// A host function that changes the World during a reload's commit (here from
// Lua's on_restore) registers how to put the change back: the new version's
// self-check fails, the reload is rejected, and the entity it spawned is gone
// again. Called by the program, OnRollback registers nothing.
func ExampleOnRollback() {
	ctx := context.Background()
	world := ecs.NewWorld()
	spawn := hotscript.HostFunc{
		Module: "game", Name: "spawn", Results: []hotscript.Type{hotscript.I64},
		Func: func(ctx context.Context, c hotscript.HostCall) error {
			e := world.Spawn()
			undoable := hotscript.OnRollback(ctx, func() { world.Unspawn(e) })
			fmt.Println("spawned; undone if the reload fails:", undoable)
			c.SetInt(0, int64(world.Len()))
			return nil
		},
	}
	h, _ := hotscript.New(ctx, hotscript.Config{World: world, Funcs: []hotscript.HostFunc{spawn}})
	defer h.Close(ctx)
	s, _ := h.LoadBytes(ctx, "boss.lua", []byte(`
local M = {}
function M.summon() return game.spawn() end
function M.on_save() return {} end
return M`), nil)
	h.Call(ctx, s, "summon")
	err := h.Reload(ctx, s, []byte(`
local M = {}
function M.summon() return game.spawn() end
function M.on_save() return {} end
function M.on_restore() game.spawn() end   -- a guard for the boss
function M.on_reload() return M.guard ~= nil end -- but it forgot to keep it
return M`))
	fmt.Println(err)
	fmt.Println("entities:", world.Len())
	// Output:
	// spawned; undone if the reload fails: false
	// spawned; undone if the reload fails: true
	// hotscript: reload boss.lua: self-check failed: on_reload on v2 returned false
	// entities: 1
}

// A migration that converts the World's data for the new version registers
// how to put it back: the new version's self-check fails, the reload is
// rejected, and the old version goes on with the data it had.
func ExampleMigration_Undo() {
	type Health struct{ Points int }
	ctx := context.Background()
	world := ecs.NewWorld()
	boss := world.Spawn()
	ecs.Insert(world, boss, Health{100})
	toTenths := func(ctx context.Context, m *hotscript.Migration) error {
		// Undone by entity, not through a pointer: a component removed later
		// in the commit may move this one (see ecs.Ref).
		m.Undo(m.World.Snapshot(boss))
		was, _ := ecs.Get[Health](m.World, boss)
		ecs.Insert(m.World, boss, Health{was.Points * 10}) // v2 counts tenths of a point
		return nil
	}
	h, _ := hotscript.New(ctx, hotscript.Config{World: world, Migration: toTenths})
	defer h.Close(ctx)
	s, _ := h.LoadBytes(ctx, "boss.wasm", hostguest.Bytes("enemy_v1"), nil)
	// enemy_check_fail's self-check, on_reload, returns 7: a failure.
	err := h.Reload(ctx, s, hostguest.Bytes("enemy_check_fail"))
	hp, _ := ecs.Get[Health](world, boss)
	fmt.Println(err)
	fmt.Println("version", s.Version(), "health", hp.Points)
	// Output:
	// hotscript: reload boss.wasm: self-check failed: on_reload on v2 returned 7
	// version 1 health 100
}
