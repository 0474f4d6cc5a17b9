package hotscript

// Watch's Restored events and its loads of a file another load holds, as
// helper-199 found them wanting.

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/testtool"
	"github.com/hotscript/hotscript/watch"
)

// The program's Load of a file (by a link to the watched dir) is running when
// the file is saved; Watch's load is refused (the file is being loaded) and
// waits. The program's load is then cut off by its ctx: nothing runs the
// file, so Watch loads it (it reported Rejected with an ErrExists naming a
// script that did not exist, and the save was lost).
func TestWatchLoadsWhenTheOtherLoadFails(t *testing.T) {
	dir, link := linkedDir(t)
	h, e := newFakeHost(t, Config{})
	a := filepath.Join(dir, "a.wasm")
	writeFile(t, a, "v1;loadgate=a.wasm")
	pctx, pcancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := h.Load(pctx, filepath.Join(link, "a.wasm"), nil)
		done <- err
	}()
	waitFor(t, "the program's load", func() bool { return h.loading(filepath.Join(link, "a.wasm")) != nil })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	writeFile(t, a, "v2;loadgate=a.wasm") // a save while the program's load runs
	// let Watch's load start and be refused
	time.Sleep(800 * time.Millisecond)
	pcancel()
	if err := <-done; err == nil {
		t.Fatal("the program's load did not fail")
	}
	e.open("a.wasm")
	ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == a })
	t.Logf("event: %v (err %v)", ev, ev.Err)
	if ev.Kind != Loaded {
		t.Errorf("got %v, want the saved file loaded by Watch", ev)
	}
	if _, ok := h.Script(a); !ok {
		t.Errorf("no script runs %s", a)
	}
}

// x.wasm (loaded, x.wat beside it) deleted: Removed. x.wat then saved with the
// running code: nothing is restored, x.wasm being still gone and x.wat never
// apart from the running code (it said Restored).
func TestWatchSourceSaveWhileModuleGone(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	h, _ := newFakeHost(t, Config{})
	wd := &watchedDir{h: h, dir: dir, abs: dir}
	src, mod := filepath.Join(dir, "x.wat"), filepath.Join(dir, "x.wasm")
	writeFile(t, src, "(module) ;; v1")
	writeFile(t, mod, "v1")
	s, err := h.Load(ctx, mod, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(mod); err != nil {
		t.Fatal(err)
	}
	wd.handle(ctx, watch.Event{Path: mod, Output: mod, Op: watch.Removed})
	nextEvent(t, h, is(Removed, mod))
	writeFile(t, src, "(module) ;; v1") // the running code, rewritten (a touch)
	wd.handle(ctx, fakeBuilt(t, src, mod))
	m := writeIn(t, dir, "marker.lua", "v1")
	wd.handle(ctx, watch.Event{Path: m, Output: m, Op: watch.Changed, Data: []byte("v1")})
	if ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == mod || is(Loaded, m)(ev) }); ev.Script == mod {
		t.Errorf("x.wat rewritten as it runs, x.wasm still deleted: %v (v%d), want nothing", ev, s.Version())
	}
}

// A file deleted, the program reloading the script meanwhile, and the file
// recreated with the running code is Restored, within one Watch or between
// two (the catch-up cleared the deletion before it handled the save it found,
// which then restored nothing).
func TestWatchRestoredAfterProgramReload(t *testing.T) {
	for _, across := range []bool{false, true} {
		name := "same Watch"
		if across {
			name = "across Watches"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			h, _ := newFakeHost(t, Config{})
			a := filepath.Join(dir, "a.wasm")
			s, stop := deletedUnderWatch(t, h, a, "v1")
			if err := h.Reload(context.Background(), s, []byte("v2")); err != nil {
				t.Fatal(err)
			}
			if across {
				stop()
			}
			writeFile(t, a, "v2") // the running code
			if across {
				watchDir(t, h, dir)
			}
			m := writeIn(t, dir, "marker.lua", "v1")
			ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == a && ev.Kind != Committed || is(Loaded, m)(ev) })
			if ev.Kind != Restored || ev.From != 2 {
				t.Errorf("file recreated with the running code: %v, want %s restored v2", ev, a)
			}
		})
	}
}

// TestWatchRestoredAcrossWatches: a script loaded from a .wat (Load builds
// it) or a .lua: the file deleted under one Watch and recreated as it was
// before the next begins is Restored (a .wat's text was compared with the
// built code, and never matched).
func TestWatchRestoredAcrossWatches(t *testing.T) {
	for _, ext := range []string{".lua", ".wat"} {
		t.Run(ext, func(t *testing.T) {
			if ext == ".wat" {
				testtool.Need(t, "wat2wasm")
			}
			dir := t.TempDir()
			h := newTestHost(t, Config{})
			a := filepath.Join(dir, "a"+ext)
			code := sourceText(".wat", 1)
			if ext == ".lua" {
				code = "local M = {}\nfunction M.version() return 1 end\nreturn M"
			}
			s, stop := deletedUnderWatch(t, h, a, code)
			stop()
			writeFile(t, a, code)
			watchDir(t, h, dir)
			m := writeIn(t, dir, "marker.lua", "return {}")
			if ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == a || is(Loaded, m)(ev) }); ev.Kind != Restored || ev.From != 1 || s.Version() != 1 {
				t.Errorf("the next Watch: %v, want %s restored v1", ev, a)
			}
		})
	}
}

// A script loaded through a link to the watched dir (known by its file), its
// file deleted (Removed) and recreated with the running code: Restored
// (helper-200: the Load's path and the watcher's were compared as strings).
func TestWatchRestoredThroughLink(t *testing.T) {
	dir, link := linkedDir(t)
	h := newTestHost(t, Config{})
	code := "local M = {}\nfunction M.version() return 1 end\nreturn M"
	real := filepath.Join(dir, "a.lua")
	writeFile(t, real, code)
	name := filepath.Join(link, "a.lua")
	if _, err := h.Load(context.Background(), name, nil); err != nil {
		t.Fatal(err)
	}
	watchDir(t, h, dir)
	if err := os.Remove(real); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, is(Removed, name))
	writeFile(t, real, code)
	m := writeIn(t, dir, "marker.lua", "return {}")
	ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == name || is(Loaded, m)(ev) })
	if ev.Kind != Restored {
		t.Errorf("file recreated with the running code: got %v, want %s restored", ev, name)
	}
}

// A .wat script saved to v2 under one Watch, its file deleted (Removed), the
// program Reverts to v1; the file recreated with v2's text before the next
// Watch is not restored: v1 runs (helper-200: the next Watch said Restored).
func TestWatchNotRestoredAfterRevert(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	dir := t.TempDir()
	h := newTestHost(t, Config{})
	a := filepath.Join(dir, "a.wat")
	writeFile(t, a, sourceText(".wat", 1))
	s, err := h.Load(context.Background(), a, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	writeFile(t, a, sourceText(".wat", 2))
	nextEvent(t, h, is(Committed, a))
	if err := os.Remove(a); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, is(Removed, a))
	if err := h.Revert(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, is(Reverted, a))
	stop()
	waitUnwatched(t, h)
	writeFile(t, a, sourceText(".wat", 2)) // not the running code (v1 runs)
	watchDir(t, h, dir)
	m := writeIn(t, dir, "marker.lua", "return {}")
	ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == a || is(Loaded, m)(ev) })
	if ev.Kind == Restored {
		t.Errorf("a.wat holds v2's text, v1 runs (version %d): got %v, want no Restored", s.Version(), ev)
	}
}

// An edit undone while its broken save still stages (a save of the running
// code): the broken reload is superseded, and the undo stages nothing and is
// Restored, the state kept (helper-196: it reloaded the running code, and the
// WASM script's state started over).
func TestWatchRestoredWhileBrokenSaveStages(t *testing.T) {
	dir := t.TempDir()
	h, s := watchedScript(t, dir)
	e := h.engines[KindWASM].(*fakeEngine)
	a := s.Name()
	callInt(t, h, s, "inc")
	callInt(t, h, s, "inc")
	writeFile(t, a, "v2;gate=slow;fail=stage")
	waitFor(t, "the broken save staging", func() bool { return e.stages.Load() > 0 })
	writeFile(t, a, "v1")
	if ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == a && ev.Kind != Superseded && ev.Kind != Loaded }); ev.Kind != Restored || ev.From != 1 {
		t.Errorf("the undo: %v, want %s restored v1", ev, a)
	}
	if n := callInt(t, h, s, "get"); n != 2 || s.Version() != 1 {
		t.Errorf("v%d with its counter at %d, want v1 at 2 (the edit undone, nothing reloaded)", s.Version(), n)
	}
}

// deletedUnderWatch writes code to file, loads it into h, watches its
// directory and deletes it: it returns the script once its Removed event
// came, and a function that ends that Watch and waits for its end.
func deletedUnderWatch(t *testing.T, h *Host, file, code string) (*Script, func()) {
	t.Helper()
	writeFile(t, file, code)
	s, err := h.Load(context.Background(), file, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	if err := h.Watch(ctx, filepath.Dir(file)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, is(Removed, file))
	return s, func() {
		stop()
		waitUnwatched(t, h)
	}
}

// watchDir watches dir with h until the test ends.
func watchDir(t *testing.T, h *Host, dir string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
}

// linkedDir makes a directory and a symbolic link to it, in a temporary
// directory of the test's.
func linkedDir(t *testing.T) (dir, link string) {
	t.Helper()
	root := t.TempDir()
	dir, link = filepath.Join(root, "dir"), filepath.Join(root, "link")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	return dir, link
}
