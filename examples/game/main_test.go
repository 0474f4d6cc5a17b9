package main

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotscript/hotscript"
	"github.com/hotscript/hotscript/ecs"
	"github.com/hotscript/hotscript/internal/testtool"
	"github.com/hotscript/hotscript/lua"
	"github.com/hotscript/hotscript/watch"
)

const dt = 1.0 / fps

// The Lua script is edited while the game runs: the new movement shows from the
// frame that committed it, steps counts on, and broken saves are rejected while
// the last good version keeps moving the entities, its steps intact.
func TestLuaReload(t *testing.T) {
	g, dir := startGame(t)
	file := filepath.Join(dir, "mover.lua")
	frames(t, g, 30)
	checkSteps(t, g)

	v2 := strings.Replace(read(t, file), "x + M.speed * dt, y", "x, y + M.speed * dt", 1)
	write(t, file, v2) // moves along y instead of x
	ev := next(t, g, "mover.lua")
	if ev.Kind != hotscript.Committed || ev.To != 2 || !slices.Contains(ev.Carried, "steps") {
		t.Fatalf("after an edit: %v, want committed v1 -> v2 carrying steps", ev)
	}
	// Apply committed v2 at the top of this frame: v1 ran the frames before it.
	moved := float64(g.frame-1) * 2 * dt
	at := positions(g, "mover.lua")
	for e, p := range at {
		if !near(p.X, moved) {
			t.Errorf("%v at frame %d: x = %v, want %v from %d frames of v1", e, g.frame, p.X, moved, g.frame-1)
		}
	}
	checkMoves(t, g, "mover.lua", at, 0, 2)
	checkSteps(t, g)

	for _, tc := range []struct {
		name, src string
		want      error
		text      string
	}{
		{"syntax error", strings.Replace(v2, "\nend\n", "\n", 1), lua.ErrCompile, ""},
		{"update renamed", strings.Replace(v2, "M.update", "M.tick", 1), hotscript.ErrContract, ""},
		{"game function at the top level", "game.set_pos(1, 0, 0)\n" + v2, lua.ErrRuntime, "top level"},
		{"self-check fails after on_restore moved", strings.Replace(v2, "return M", fmt.Sprintf(
			"function M.on_save() return {} end\nfunction M.on_restore() game.set_pos(%d, 1000, 1000) end\nfunction M.on_reload() return false end\nreturn M",
			uint64(slices.Collect(maps.Keys(at))[0])), 1), hotscript.ErrSelfCheck, "on_reload"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			write(t, file, tc.src)
			ev := next(t, g, "mover.lua")
			if ev.Kind != hotscript.Rejected || ev.From != 2 || !errors.Is(ev.Err, tc.want) {
				t.Fatalf("after a broken save: %v, want v2 -> v3 rejected with %v", ev, tc.want)
			}
			if !strings.Contains(ev.Err.Error(), tc.text) {
				t.Errorf("rejected with %v, want it to say %q", ev.Err, tc.text)
			}
			for e, p := range positions(g, "mover.lua") {
				if p.X == 1000 {
					t.Errorf("%v at %v: the rejected reload's on_restore moved it", e, p)
				}
			}
			checkMoves(t, g, "mover.lua", positions(g, "mover.lua"), 0, 2)
			checkSteps(t, g)
			if v := g.mover.Version(); v != 2 {
				t.Errorf("mover.lua runs v%d, want v2", v)
			}
		})
	}
}

// The WASM script's source is edited while the game runs: the watcher builds it and
// the new module moves the entity on from where the old one left it; a save that
// does not build is rejected.
func TestWASMReload(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	g, dir := startGame(t)
	file := filepath.Join(dir, "drifter.wat")
	frames(t, g, 30)

	v2 := strings.Replace(read(t, file), "f64.const 1.5", "f64.const -1.5", 1)
	write(t, file, v2) // moves down instead of up
	ev := next(t, g, "drifter.wasm")
	if ev.Kind != hotscript.Committed || ev.To != 2 {
		t.Fatalf("after an edit: %v, want committed v1 -> v2", ev)
	}
	// v1 moved it up for the frames before this one, v2 down in this one.
	want := Position{5, float64(g.frame-2) * 1.5 * dt}
	at := positions(g, "drifter.wasm")
	for e, p := range at {
		if !near(p.X, want.X) || !near(p.Y, want.Y) {
			t.Errorf("%v at frame %d: %v, want %v", e, g.frame, p, want)
		}
	}
	checkMoves(t, g, "drifter.wasm", at, 0, -1.5)

	write(t, file, strings.Replace(v2, "(module", "(module (oops)", 1))
	ev = next(t, g, "drifter.wasm")
	var build *watch.BuildError
	if ev.Kind != hotscript.Rejected || ev.From != 2 || !errors.As(ev.Err, &build) {
		t.Fatalf("after a save that does not build: %v, want v2 -> v3 rejected with a *watch.BuildError", ev)
	}
	checkMoves(t, g, "drifter.wasm", positions(g, "drifter.wasm"), 0, -1.5)
}

// A script's file renamed while the game runs: its entities follow it to the
// script of the new name (they stopped for good, their update failing on the
// unloaded script), which keeps the contract the old one was loaded with.
func TestRenameFollowed(t *testing.T) {
	g, dir := startGame(t)
	frames(t, g, 10)
	walker := filepath.Join(dir, "walker.lua")
	if err := os.Rename(filepath.Join(dir, "mover.lua"), walker); err != nil {
		t.Fatal(err)
	}
	var ev hotscript.Event
	for deadline := time.Now().Add(10 * time.Second); ev.Kind != hotscript.Unloaded; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("mover.lua not unloaded within 10 s of its rename")
		}
		for _, e := range g.step(t.Context()) { // a Removed event first, perhaps in the same frame
			if filepath.Base(e.Script) == "mover.lua" && e.Kind != hotscript.Removed {
				ev = e
			}
		}
	}
	if ev.MovedTo != walker {
		t.Fatalf("after the rename: %v, want mover.lua unloaded, moved to walker.lua", ev)
	}
	if n := len(positions(g, "mover.lua")); n != 0 {
		t.Errorf("%d entities still driven by the unloaded mover.lua", n)
	}
	at := positions(g, "walker.lua")
	if len(at) != 2 {
		t.Fatalf("walker.lua drives %d entities, want mover.lua's 2", len(at))
	}
	checkMoves(t, g, "walker.lua", at, 2, 0)
	if g.mover.Name() != walker {
		t.Errorf("the game's mover is %s, want %s", g.mover.Name(), walker)
	}
	write(t, walker, strings.Replace(read(t, walker), "M.update", "M.tick", 1))
	if ev := next(t, g, "walker.lua"); ev.Kind != hotscript.Rejected || !errors.Is(ev.Err, hotscript.ErrContract) {
		t.Errorf("a save of walker.lua without update: %v, want rejected by mover.lua's contract", ev)
	}
}

// A rename chain (mover.lua -> walker.lua -> runner.lua) that completes before
// the game reads its events (a slow frame, a loading screen): the entities
// follow it to runner.lua (they stayed on the unloaded mover.lua: the first
// Unloaded named walker.lua, gone already).
func TestRenameChainFollowed(t *testing.T) {
	g, dir := startGame(t)
	frames(t, g, 5)
	mover := filepath.Join(dir, "mover.lua")
	walker := filepath.Join(dir, "walker.lua")
	runner := filepath.Join(dir, "runner.lua")
	loaded := func(name string) { // the old names go at the next frame's Apply
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if _, ok := g.h.Script(name); ok {
				return
			}
		}
		t.Fatalf("%s not loaded", name)
	}
	if err := os.Rename(mover, walker); err != nil {
		t.Fatal(err)
	}
	loaded(walker)
	if err := os.Rename(walker, runner); err != nil {
		t.Fatal(err)
	}
	loaded(runner)
	for range 20 {
		g.step(t.Context())
	}
	for _, name := range []string{mover, walker} {
		if _, ok := g.h.Script(name); ok {
			t.Errorf("%s is loaded after 20 frames", name)
		}
	}
	if n := len(positions(g, "mover.lua")); n != 0 {
		t.Errorf("%d entities still driven by the unloaded mover.lua", n)
	}
	if n := len(positions(g, "runner.lua")); n != 2 {
		t.Errorf("runner.lua drives %d entities, want mover.lua's 2", n)
	}
	if g.mover.Name() != runner {
		t.Errorf("the game's mover is %s, want %s", g.mover.Name(), runner)
	}
}

// run plays the given number of frames and prints the loads and the end.
func TestRun(t *testing.T) {
	var out strings.Builder
	if err := run(t.Context(), copyScripts(t), 3, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"mover.lua: loaded v1", "drifter.wasm: loaded v1", "stopped after 3 frames"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// startGame starts a game on a copy of the scripts, closed at the end of the test.
func startGame(t *testing.T) (*game, string) {
	dir := copyScripts(t)
	g, err := newGame(t.Context(), dir, t.Output())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.close)
	return g, dir
}

func copyScripts(t *testing.T) string {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("scripts")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// next steps g, a frame a millisecond, until a frame reports an event of the
// script whose file is base, and returns it.
func next(t *testing.T, g *game, base string) hotscript.Event {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		for _, ev := range g.step(t.Context()) {
			if filepath.Base(ev.Script) == base {
				return ev
			}
		}
	}
	t.Fatalf("no event of %s within 10 s", base)
	return hotscript.Event{}
}

func frames(t *testing.T, g *game, n int) {
	for range n {
		if evs := g.step(t.Context()); len(evs) > 0 {
			t.Fatalf("unexpected events: %v", evs)
		}
	}
}

// checkMoves plays 10 frames and checks that each entity of script moved from at
// by (vx, vy) units a second.
func checkMoves(t *testing.T, g *game, script string, at map[ecs.Entity]Position, vx, vy float64) {
	t.Helper()
	frames(t, g, 10)
	for e, p := range positions(g, script) {
		want := Position{at[e].X + vx*10*dt, at[e].Y + vy*10*dt}
		if !near(p.X, want.X) || !near(p.Y, want.Y) {
			t.Errorf("%v moved from %v to %v in 10 frames, want to %v", e, at[e], p, want)
		}
	}
}

// checkSteps checks that the mover's steps counts every update of its two
// entities since the game began, whatever the reloads.
func checkSteps(t *testing.T, g *game) {
	t.Helper()
	rt, id, _ := g.mover.Lua()
	steps, err := rt.Field(t.Context(), id, "steps")
	if want := strconv.Itoa(2 * g.frame); err != nil || string(steps) != want {
		t.Errorf("after %d frames: steps = %s, %v; want %s", g.frame, steps, err, want)
	}
}

// positions returns where the entities moved by the script whose file is base are.
func positions(g *game, base string) map[ecs.Entity]Position {
	m := map[ecs.Entity]Position{}
	for e, p := range ecs.Query2[Driver, Position](g.world) {
		if filepath.Base(p.A.Script.Name()) == base {
			m[e] = *p.B
		}
	}
	return m
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func read(t *testing.T, file string) string {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func write(t *testing.T, file, src string) {
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}
