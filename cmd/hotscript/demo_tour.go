package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/hotscript/hotscript"
	"github.com/hotscript/hotscript/ecs"
)

// The steps of the tour, in order. Each narrates what it does, does it through the
// host exactly as a program would, and shows the numbers that prove the outcome.

func (d *demo) loadAndCall(ctx context.Context) error {
	d.title("Load and call")
	d.say("The same enemy, written twice: enemy.wasm (WebAssembly) and enemy.lua (Lua), in")
	d.say("%s", d.dir)
	d.say("The host holds them to a contract: enemy.wasm must export update(f32), enemy.lua")
	d.say("an update function. At %d frames a second, the scene calls update(dt) on both.", demoTPS)
	d.say("Version 1 walks 1 px a frame.")
	d.sc.out.seeName(d.path("counter.wasm"))
	if err := d.writeFile("enemy.wasm", demoFile("enemy_v1.wasm")); err != nil {
		return err
	}
	if err := d.writeFile("enemy.lua", demoFile("enemy_v1.lua")); err != nil {
		return err
	}
	if err := d.h.Watch(ctx, d.dir); err != nil {
		return err
	}
	var err error
	d.wasm, err = d.h.Load(ctx, d.path("enemy.wasm"), &hotscript.ScriptOptions{
		Migration: hotscript.MigrateExports,
		Contract:  &hotscript.Contract{Exports: []string{"update(f32)"}},
	})
	if err != nil {
		return err
	}
	d.lua, err = d.h.Load(ctx, d.path("enemy.lua"), &hotscript.ScriptOptions{
		Contract: &hotscript.Contract{Exports: []string{"update"}},
	})
	if err != nil {
		return err
	}
	d.sc.attach(d.wasm)
	d.sc.attach(d.lua)
	if err := d.frames(ctx, demoFrames); err != nil {
		return err
	}
	st, err := d.states(ctx)
	if err != nil {
		return err
	}
	d.say("After %d frames, as each script's get_state reports it:", demoFrames)
	d.showStates(st, "")
	return nil
}

// counterStory is the classic counter example: a module's global resets on
// reload, and an ECS component carries the value across.
func (d *demo) counterStory(ctx context.Context) error {
	d.interlude("Why WASM state needs help (the classic counter example)")
	d.say("A reload gives a WASM module fresh globals and memory. counter.wasm keeps a")
	d.say("counter in a global; the host reloads it with MigrateReset, which moves nothing:")
	c, err := d.h.LoadBytes(ctx, "counter.wasm", demoFile("counter_v1.wasm"),
		&hotscript.ScriptOptions{Migration: hotscript.MigrateReset})
	if err != nil {
		return err
	}
	for range 3 {
		if _, err := d.h.Call(ctx, c, "increment"); err != nil {
			return err
		}
	}
	counter := func() (int, error) {
		var n int
		out, err := d.h.Call(ctx, c, "get_counter")
		if err == nil {
			_, err = fmt.Sscan(string(out), &n)
		}
		return n, err
	}
	n3, err := counter()
	if err != nil {
		return err
	}
	e := d.world.Spawn()
	if err := ecs.Insert(d.world, e, ScriptState{Counter: n3}); err != nil {
		return err
	}
	err = d.background(ctx, []*hotscript.Script{c}, func(s *hotscript.Script) error {
		return d.h.Reload(ctx, s, demoFile("counter_v2.wasm"))
	})
	if err != nil {
		return err
	}
	n0, err := counter()
	if err != nil {
		return err
	}
	kept, _ := ecs.Get[ScriptState](d.world, e)
	if _, err := d.h.Call(ctx, c, "set_counter", kept.Counter); err != nil {
		return err
	}
	back, err := counter()
	if err != nil {
		return err
	}
	d.table([][]string{
		{"increment() three times", fmt.Sprintf("counter %d", n3), "copied into an ECS component, ScriptState"},
		{"reload to v2 (MigrateReset)", fmt.Sprintf("counter %d", n0), "a fresh instance"},
		{"set_counter(ScriptState.Counter)", fmt.Sprintf("counter %d", back), "restored from the ECS component"},
	})
	d.say("enemy.wasm needs no such code: it exports get_state and set_state, and the host")
	d.say("moves that JSON document to each new version (MigrateExports). Lua needs neither:")
	d.say("the lua package carries every field of the script's table.")
	return nil
}

func (d *demo) goodChange(ctx context.Context) error {
	d.title("A good change")
	d.say("Version 2 runs 5 px a frame, and its files say hp = 150. Both files are saved")
	d.say("the way editors save (a temporary file renamed over the old one). When saved,")
	d.say("version 1 had reached:")
	before, err := d.states(ctx)
	if err != nil {
		return err
	}
	d.showStates(before, "v1")
	d.say("The scene keeps calling version 1 while version 2 compiles, then swaps it in")
	d.say("between two frames:")
	if err := d.saveBoth(ctx, "enemy_v2.wasm", "enemy_v2.lua", hotscript.Committed); err != nil {
		return err
	}
	at, err := d.states(ctx)
	if err != nil {
		return err
	}
	d.say("Version 2's next %d frames:", demoFrames)
	if err := d.progress(ctx, at, func(*hotscript.Script, enemyState, enemyState) string {
		return "(kept, not the file's 150)"
	}); err != nil {
		return err
	}
	d.say("New code: x grows 5 a frame. Kept state: frames and x go on from version 1's")
	d.say("instead of starting again from 0, and hp is still 100. Lua carried its fields")
	d.say("by itself; WASM carried them through get_state and set_state.")
	return nil
}

func (d *demo) brokenSave(ctx context.Context) error {
	d.title("A broken save")
	full, half := demoFile("enemy_v3.wasm"), cutModule()
	d.say("Two bad saves: enemy.wasm cut off halfway (%d of %d bytes), and enemy.lua", len(half), len(full))
	d.say("with a \"then\" missing. Neither gets past staging:")
	if err := d.saveBothBytes(ctx, half, demoFile("enemy_v3_broken.lua"), hotscript.Rejected); err != nil {
		return err
	}
	at, err := d.states(ctx)
	if err != nil {
		return err
	}
	d.say("Version 2 keeps running, its state untouched. The next %d frames:", demoFrames)
	return d.progress(ctx, at, func(*hotscript.Script, enemyState, enemyState) string { return "(still v2)" })
}

func (d *demo) fix(ctx context.Context) error {
	d.title("A fix")
	d.say("The complete version 3: 10 px a frame, and a new export, fire():")
	if err := d.saveBoth(ctx, "enemy_v3.wasm", "enemy_v3.lua", hotscript.Committed); err != nil {
		return err
	}
	at, err := d.states(ctx)
	if err != nil {
		return err
	}
	d.say("The next %d frames:", demoFrames)
	return d.progress(ctx, at, func(s *hotscript.Script, _, b enemyState) string {
		out, err := d.h.Call(ctx, s, "fire")
		if err != nil {
			head, _ := describe(s.Name(), err)
			return "fire() failed: " + head
		}
		return "fire() = " + string(out)
	})
}

func (d *demo) contractBreak(ctx context.Context) error {
	d.title("A contract break")
	d.say("Version 4 changes update: in WASM it takes an f64 instead of an f32, in Lua it")
	d.say("is renamed tick. Both compile, but break the contract, so neither is swapped in:")
	if err := d.saveBoth(ctx, "enemy_v4.wasm", "enemy_v4.lua", hotscript.Rejected); err != nil {
		return err
	}
	at, err := d.states(ctx)
	if err != nil {
		return err
	}
	d.say("Each rejection lists how the interface differs from the contract; version 3")
	d.say("keeps running. The next %d frames:", demoFrames)
	return d.progress(ctx, at, func(*hotscript.Script, enemyState, enemyState) string { return "(still v3)" })
}

func (d *demo) revert(ctx context.Context) error {
	d.title("A revert")
	d.say("Back one version, to version 2, through the same transaction as a reload (the")
	d.say("host keeps each script's recent versions; compiled WASM comes from its cache):")
	err := d.background(ctx, []*hotscript.Script{d.wasm, d.lua}, func(s *hotscript.Script) error {
		return d.h.Revert(ctx, s)
	})
	if err != nil {
		return err
	}
	at, err := d.states(ctx)
	if err != nil {
		return err
	}
	d.say("Version 2's code again, going on from version 3's state. The next %d frames:", demoFrames)
	return d.progress(ctx, at, func(*hotscript.Script, enemyState, enemyState) string { return "(state kept)" })
}

// background runs blocking reloads or reverts (op, once per script) on goroutines
// of their own, as a game's tooling would, and runs frames until each is decided:
// with SwapAtApply they return only once a frame has applied them.
func (d *demo) background(ctx context.Context, scripts []*hotscript.Script, op func(*hotscript.Script) error) error {
	errs := make([]error, len(scripts))
	var wg sync.WaitGroup
	for i, s := range scripts {
		wg.Go(func() { errs[i] = op(s) })
	}
	for _, s := range scripts {
		if _, err := d.await(ctx, s.Name()); err != nil {
			return err // the ops return when Close rejects what they wait for
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (d *demo) path(name string) string { return filepath.Join(d.dir, name) }
