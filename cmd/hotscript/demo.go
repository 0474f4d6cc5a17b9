package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/hotscript/hotscript"
	"github.com/hotscript/hotscript/ecs"
)

// demoFiles are the demo's scripts: the enemy in WebAssembly and in Lua, four versions
// each, and the classic counter. The .wasm files are built from the .wat
// next to them by scripts/build-guests.sh, so the demo needs nothing but Go.
//
//go:embed demo/*.wasm demo/*.wat demo/*.lua
var demoFiles embed.FS

// demoFile returns an embedded file; a missing one is a build mistake.
func demoFile(name string) []byte {
	b, err := demoFiles.ReadFile("demo/" + name)
	if err != nil {
		panic("hotscript demo: missing embedded file " + name)
	}
	return b
}

const (
	demoTPS    = 60
	demoFrames = 10               // frames run to show each step's effect
	demoWait   = 10 * time.Second // longest wait for a reload to be decided
)

func demoCommand() command {
	return command{
		name:    "demo",
		args:    "[--dir DIR]",
		summary: "a tour: change, break, fix, contract, revert",
		about: `Writes two scripts, the same enemy in WebAssembly and in Lua, to a temporary
directory, runs them in a 60 fps loop, and edits their files the way an editor saves
them, narrating each step: a good change (code changes, state carried), a broken
save (rejected, the old version keeps running), a fix, a contract break (rejected
with the interface diff) and a revert. Needs only Go: the WebAssembly is embedded.

With --dir, the scripts are written to DIR and kept, and the loop keeps running
after the tour so you can edit them yourself, until Ctrl-C. The demo writes
enemy.wasm, enemy.lua and, with wat2wasm on PATH, enemy.wat; if DIR holds one of
them that is not as an earlier demo left it, the demo refuses to start rather
than replace it.`,
		setup: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			dir := fs.String("dir", "", "keep the scripts in `DIR` and keep running for your own edits")
			return func(ctx context.Context, e *env, args []string) error {
				if len(args) > 0 {
					return usageError("takes no arguments")
				}
				return demoMain(ctx, e, *dir)
			}
		},
	}
}

func demoMain(ctx context.Context, e *env, keepDir string) error {
	dir := keepDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "hotscript-demo-")
		if err != nil {
			return fmt.Errorf("making a directory for the demo's scripts in the temporary directory (set TMPDIR, or give --dir): %v", err)
		}
		remove := func() { _ = os.RemoveAll(tmp) }
		defer remove()
		onForcedExit(ctx, remove)
		dir = tmp
	} else if info, err := os.Stat(dir); err == nil && !info.IsDir() {
		return fmt.Errorf("--dir %s is not a directory", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("--dir %s: %v", dir, errors.Unwrap(err))
	} else if err := checkDemoDir(dir); err != nil {
		return err
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	world := ecs.NewWorld()
	out := newPrinter(e.stdout, e.out, dir)
	out.indent = indent
	out.showClock(false) // the tour narrates in order; the time of day adds nothing
	h, closeHost, err := newHost(ctx, hotscript.Config{Swap: hotscript.SwapAtApply, World: world}, out.print)
	if err != nil {
		return err
	}
	defer closeHost()
	d := &demo{e: e, h: h, world: world, dir: dir, sc: newScene(h, world, out, demoTPS, ctx.Done()), start: time.Now()}
	if err := d.tour(ctx); err != nil {
		if ctx.Err() != nil { // Ctrl-C: whatever the step was doing failed for it
			d.say("Stopped during the tour.")
			return nil
		}
		return err
	}
	if keepDir == "" {
		d.say("Done in %s. To edit the scripts yourself: hotscript demo --dir DIR", duration(time.Since(d.start)))
		return nil
	}
	return d.keepRunning(ctx)
}

// tour runs the six steps, and the counter example between the first two.
func (d *demo) tour(ctx context.Context) error {
	if err := d.loadAndCall(ctx); err != nil {
		return err
	}
	for _, step := range []func(context.Context) error{
		d.counterStory, d.goodChange, d.brokenSave, d.fix, d.contractBreak, d.revert,
	} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// keepRunning puts the live version back into the files and runs until Ctrl-C.
func (d *demo) keepRunning(ctx context.Context) error {
	d.interlude("Your turn")
	d.say("The files get what runs (version 2) back. A save of the bytes that already run")
	d.say("reloads nothing (for WASM it would only start the state over), so the scene goes on.")
	for name, file := range map[string]string{"enemy.wasm": "enemy_v2.wasm", "enemy.lua": "enemy_v2.lua"} {
		if err := d.writeFile(name, demoFile(file)); err != nil {
			return err
		}
	}
	if slices.Contains(demoWrites(), "enemy.wat") {
		if err := d.writeFile("enemy.wat", demoFile("enemy_v2.wat")); err != nil {
			return err
		}
		d.say("enemy.wat is the module's source: saving it builds the module in memory (enemy.wasm")
		d.say("on disk stays as it is) and reloads it if the bytes changed. Edit %s", d.path("enemy.lua"))
		d.say("or %s, save, and watch.", d.path("enemy.wat"))
	} else {
		d.say("Edit %s, save, and watch (with wabt's wat2wasm on PATH, the", d.path("enemy.lua"))
		d.say("module's source, enemy.wat, could be edited too).")
	}
	d.say("Ctrl-C stops.")
	d.sc.out.showClock(true) // edits by hand come at any time
	d.sc.adopt = true
	d.sc.run(ctx, time.Second/demoTPS, 0, time.Time{}, nil)
	d.say("Stopped after %s. The scripts stay in %s.", plural(d.sc.frames, "frame"), d.dir)
	return nil
}
