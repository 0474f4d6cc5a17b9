package hotscript

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/testtool"
	"github.com/hotscript/hotscript/lua"
	"github.com/hotscript/hotscript/watch"
)

// nextEvent waits for the next event matching want, skipping others.
func nextEvent(t *testing.T, h *Host, want func(Event) bool) Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-h.Events():
			if !ok {
				t.Fatal("events closed")
			}
			if want(ev) {
				return ev
			}
		case <-timeout:
			t.Fatal("timed out waiting for an event")
		}
	}
}

// is returns a test of an event: one of kind for the script named name.
func is(kind EventKind, name string) func(Event) bool {
	return func(ev Event) bool { return ev.Kind == kind && ev.Script == name }
}

// watchedScript returns a fake Host watching dir (made if missing), and the script
// it loaded from dir/a.wasm, which holds v1, saved an hour before.
func watchedScript(t *testing.T, dir string) (*Host, *Script) {
	t.Helper()
	h, _ := newFakeHost(t, Config{})
	a := filepath.Join(dir, "a.wasm")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(a, []byte("v1"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(a, old, old); err != nil {
		t.Fatal(err)
	}
	s, err := h.Load(context.Background(), a, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	return h, s
}

func TestWatchFake(t *testing.T) {
	dir := t.TempDir()
	h, s := watchedScript(t, dir)
	a := s.Name()

	steps := []struct {
		name  string
		do    func() error
		event func(Event) bool
		check func(t *testing.T, ev Event)
	}{
		// A chmod leaves the bytes as they were: no reload (the watcher reports
		// the file, as it cannot tell a chmod from cp -p, and Watch finds the
		// live bytes). Had it reloaded, the next step would see v1 -> v2 with
		// version() 1.
		{"chmod does not reload", func() error {
			if err := os.Chmod(a, 0o644); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, "marker.lua"), []byte("v1"), 0o600)
		}, is(Loaded, filepath.Join(dir, "marker.lua")), func(t *testing.T, ev Event) {}},
		{"save reloads", func() error { return os.WriteFile(a, []byte("v2"), 0o600) }, is(Committed, a),
			func(t *testing.T, ev Event) {
				if ev.From != 1 || ev.To != 2 || callInt(t, h, s, "version") != 2 {
					t.Errorf("event %+v, version() %d", ev, callInt(t, h, s, "version"))
				}
			}},
		// A save of the bytes already live (v2) reloads nothing; the marker's
		// event comes after a's, which the watcher debounced first.
		{"a save of the live bytes reloads nothing", func() error {
			if err := os.WriteFile(a, []byte("v2"), 0o600); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, "marker2.lua"), []byte("v1"), 0o600)
		}, is(Loaded, filepath.Join(dir, "marker2.lua")), func(t *testing.T, ev Event) {
			waitFor(t, "no reload pending", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.open == 0 })
			if s.Version() != 2 {
				t.Errorf("a save of the live bytes made version %d, want 2 (no reload)", s.Version())
			}
		}},
		{"a script loaded from bytes under a file's path is reloaded by its saves", func() error {
			if _, err := h.LoadBytes(context.Background(), filepath.Join(dir, "m.wasm"), []byte("v1"), nil); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, "m.wasm"), []byte("v2"), 0o600)
		}, is(Committed, filepath.Join(dir, "m.wasm")),
			func(t *testing.T, ev Event) {
				if ev.From != 1 || ev.To != 2 {
					t.Errorf("event %+v, want v1 -> v2", ev)
				}
			}},
		{"broken save is rejected", func() error { return os.WriteFile(a, []byte("garbage"), 0o600) }, is(Rejected, a),
			func(t *testing.T, ev Event) {
				if ev.Err == nil || callInt(t, h, s, "version") != 2 {
					t.Errorf("event %+v; the last good version must keep running", ev)
				}
			}},
		{"new file is loaded", func() error { return os.WriteFile(filepath.Join(dir, "b.lua"), []byte("v7"), 0o600) },
			is(Loaded, filepath.Join(dir, "b.lua")),
			func(t *testing.T, ev Event) {
				b := mustScript(t, h, filepath.Join(dir, "b.lua"))
				if callInt(t, h, b, "version") != 7 {
					t.Error("new script does not answer")
				}
			}},
		{"new file that does not load is rejected once", func() error {
			return os.WriteFile(filepath.Join(dir, "c.lua"), []byte("garbage"), 0o600)
		}, is(Rejected, filepath.Join(dir, "c.lua")),
			func(t *testing.T, ev Event) {
				if ev.From != 0 || ev.To != 0 || !errors.Is(ev.Err, errFake) {
					t.Errorf("event %+v, want a rejected load (v0) with the engine's error", ev)
				}
				if err := os.WriteFile(filepath.Join(dir, "d.lua"), []byte("v3"), 0o600); err != nil {
					t.Fatal(err)
				}
				again := is(Rejected, filepath.Join(dir, "c.lua"))
				if ev := nextEvent(t, h, func(ev Event) bool { return again(ev) || ev.Kind == Loaded }); again(ev) {
					t.Errorf("a second event for one failed load: %+v", ev)
				}
			}},
		{"other files are ignored, removal keeps the script", func() error {
			if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600); err != nil {
				return err
			}
			return os.Remove(a)
		}, is(Removed, a),
			func(t *testing.T, ev Event) {
				if _, ok := h.Script(filepath.Join(dir, "notes.txt")); ok {
					t.Error("a .txt file was loaded")
				}
				if callInt(t, h, s, "version") != 2 || ev.From != 2 {
					t.Errorf("after removal: event %+v, version() %d", ev, callInt(t, h, s, "version"))
				}
			}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.do(); err != nil {
				t.Fatal(err)
			}
			st.check(t, nextEvent(t, h, st.event))
		})
	}
}

// TestWatchRestored: a save of the running version's code after a rejected
// save, or the file recreated (or moved back) as it was after its deletion, is a Restored
// event (nothing reloads); a save of the running code otherwise (a touch) is
// none, nor is one after a save that committed.
func TestWatchRestored(t *testing.T) {
	dir := t.TempDir()
	h, s := watchedScript(t, dir)
	a := s.Name()
	markers := 0
	// quiet saves a marker file and fails if a Restored event of a comes
	// before its Loaded event.
	quiet := func(t *testing.T, what string) {
		t.Helper()
		markers++
		m := filepath.Join(dir, fmt.Sprintf("marker%d.lua", markers))
		if err := os.WriteFile(m, []byte("v1"), 0o600); err != nil {
			t.Fatal(err)
		}
		if ev := nextEvent(t, h, func(ev Event) bool { return ev.Kind == Restored || is(Loaded, m)(ev) }); ev.Kind == Restored {
			t.Errorf("%s: %v, want no Restored event", what, ev)
		}
	}
	save := func(t *testing.T, code string) {
		t.Helper()
		if err := os.WriteFile(a, []byte(code), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	restored := func(t *testing.T, v int) {
		t.Helper()
		ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == a && ev.Kind != Superseded })
		if ev.Kind != Restored || ev.From != v || ev.To != v || ev.Err != nil {
			t.Fatalf("event %v, want %s restored v%d", ev, a, v)
		}
		if got := callInt(t, h, s, "version"); got != v || s.Version() != v {
			t.Errorf("after the restore: version() %d, Version() %d, want %d", got, s.Version(), v)
		}
		if want := fmt.Sprintf("%s: restored v%d", a, v); ev.String() != want {
			t.Errorf("String() = %q, want %q", ev.String(), want)
		}
	}

	save(t, "v1") // a touch
	quiet(t, "a save of the running code")

	save(t, "garbage")
	nextEvent(t, h, is(Rejected, a))
	save(t, "v1")
	restored(t, 1)
	save(t, "v1") // once restored, a touch again
	quiet(t, "a save of the running code after the restore")

	if err := os.Remove(a); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, is(Removed, a))
	save(t, "v1")
	restored(t, 1)
	if err := os.Rename(a, a+".away"); err != nil { // moved away and back
		t.Fatal(err)
	}
	nextEvent(t, h, is(Removed, a))
	if err := os.Rename(a+".away", a); err != nil {
		t.Fatal(err)
	}
	restored(t, 1)

	save(t, "garbage")
	nextEvent(t, h, is(Rejected, a))
	save(t, "v2") // a fix, not the running code: committed
	nextEvent(t, h, is(Committed, a))
	save(t, "v2")
	quiet(t, "a save of the code a save committed")
}

// TestWatchDirRemoved: removing the watched directory is a WatchError and leaves the
// scripts running; once the directory is back, a WatchResumed event says so and
// what is saved there is reloaded or loaded.
func TestWatchDirRemoved(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "scripts")
	h, s := watchedScript(t, dir)
	a, b := s.Name(), filepath.Join(dir, "b.lua")

	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	// The script's Removed may come first: Watch's catch-up, which runs as it
	// begins, may find its file gone already.
	dirErr, removed := false, false
	for !dirErr || !removed {
		ev := nextEvent(t, h, func(ev Event) bool { return ev.Kind == WatchError || ev.Kind == Removed })
		switch {
		case ev.Kind == WatchError && ev.Script == dir && errors.Is(ev.Err, watch.ErrDirRemoved):
			dirErr = true
		case ev.Kind == Removed && ev.Script == a && !removed:
			removed = true
		default:
			t.Errorf("event %v, want a WatchError for %s wrapping ErrDirRemoved, and one Removed of %s", ev, dir, a)
		}
	}

	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for file, code := range map[string]string{a: "v2", b: "v3"} {
		if err := os.WriteFile(file, []byte(code), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The watcher may see the directory back before it says it was gone (within
	// its debounce): a's save may come before WatchResumed.
	resumed, committed, loaded := false, false, false
	for !resumed || !committed || !loaded {
		ev := nextEvent(t, h, func(ev Event) bool { return ev.Kind == WatchResumed || ev.Kind == Committed || ev.Kind == Loaded })
		resumed = resumed || ev.Kind == WatchResumed && ev.Script == dir
		committed = committed || ev.Kind == Committed && ev.Script == a
		loaded = loaded || ev.Kind == Loaded && ev.Script == b
	}
	if callInt(t, h, s, "version") != 2 || callInt(t, h, mustScript(t, h, b), "version") != 3 {
		t.Error("the scripts saved in the directory that came back do not answer with their new versions")
	}
}

// A script file deleted while no Watch ran is reported Removed as the next
// Watch begins, once (not again by a Watch after it), and the script runs on:
// its own file, one loaded from bytes under a file's name, the source of a
// script loaded under the name of a .wasm that is not there. A script whose
// file was never there, or whose source is there, has no deletion to report.
func TestWatchReportsDeletionWhileUnwatched(t *testing.T) {
	for _, tt := range []struct {
		name    string
		removed bool
		load    func(t *testing.T, h *Host, dir string) (*Script, string) // the script, the file to delete ("" none)
	}{
		{"its file", true, func(t *testing.T, h *Host, dir string) (*Script, string) {
			path := filepath.Join(dir, "a.wasm")
			writeFile(t, path, "v1")
			s, err := h.Load(context.Background(), path, nil)
			if err != nil {
				t.Fatal(err)
			}
			return s, path
		}},
		{"bytes under a file's name", true, func(t *testing.T, h *Host, dir string) (*Script, string) {
			path := filepath.Join(dir, "a.lua")
			writeFile(t, path, "v1")
			return mustLoad(t, h, path, "v1", nil), path
		}},
		{"the source of a .wasm that is not there", true, func(t *testing.T, h *Host, dir string) (*Script, string) {
			src := filepath.Join(dir, "a.c")
			writeFile(t, src, "int version(void) { return 1; }")
			return mustLoad(t, h, filepath.Join(dir, "a.wasm"), "v1", nil), src
		}},
		{"the source of a .wasm that is there", false, func(t *testing.T, h *Host, dir string) (*Script, string) {
			src, path := filepath.Join(dir, "a.c"), filepath.Join(dir, "a.wasm")
			writeFile(t, src, "int version(void) { return 1; }")
			writeFile(t, path, "v1")
			old := time.Now().Add(-time.Hour) // the .wasm saved after its source
			if err := os.Chtimes(src, old, old); err != nil {
				t.Fatal(err)
			}
			s, err := h.Load(context.Background(), path, nil)
			if err != nil {
				t.Fatal(err)
			}
			return s, src
		}},
		{"bytes under the name of no file", false, func(t *testing.T, h *Host, dir string) (*Script, string) {
			return mustLoad(t, h, filepath.Join(dir, "a.lua"), "v1", nil), ""
		}},
		{"the target of its link", true, func(t *testing.T, h *Host, dir string) (*Script, string) {
			target, path := filepath.Join(t.TempDir(), "t.wasm"), filepath.Join(dir, "a.wasm")
			writeFile(t, target, "v1")
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
			s, err := h.Load(context.Background(), path, nil)
			if err != nil {
				t.Fatal(err)
			}
			return s, target
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			h, _ := newFakeHost(t, Config{})
			s, file := tt.load(t, h, dir)
			if file != "" {
				if err := os.Remove(file); err != nil {
					t.Fatal(err)
				}
			}
			for i, marker := range []string{"m1.lua", "m2.lua"} {
				cancel, removed := watchCaughtUp(t, h, dir, s, marker, Removed)
				want := 0
				if tt.removed && i == 0 {
					want = 1
				}
				if removed != want {
					t.Errorf("Watch %d: %d Removed events of %s, want %d", i+1, removed, s.Name(), want)
				}
				cancel()
			}
			if callInt(t, h, s, "version") != 1 {
				t.Error("the script does not run on with its version")
			}
		})
	}
}

// shortRenameWindow sets renameWindow to d until the test ends.
func shortRenameWindow(t *testing.T, d time.Duration) {
	old := renameWindow
	renameWindow = d
	t.Cleanup(func() { renameWindow = old })
}

// watchCaughtUp starts a Watch of dir and waits until its catch-up is done:
// its events come before the watcher's, those of a marker saved after the
// Watch began (loaded by the fake engine, rejected by Lua's). It returns the Watch's cancel and the number of events of s
// of the given kind meanwhile.
func watchCaughtUp(t *testing.T, h *Host, dir string, s *Script, marker string, kind EventKind) (context.CancelFunc, int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	marker = filepath.Join(dir, marker)
	writeFile(t, marker, "v9")
	n := 0
	nextEvent(t, h, func(ev Event) bool {
		if ev.Script == s.Name() && ev.Kind == kind {
			n++
		}
		return ev.Script == marker && (ev.Kind == Loaded || ev.Kind == Rejected) // "v9": no Lua but the fake's
	})
	return cancel, n
}

// A file saved under a Watch, whose deletion the next Watch's catch-up
// reported, back as it was saved while no Watch ran: its deletion under the
// Watch after is news again (the catch-up left it said, for good: the mark of
// the save, which Watch keeps, kept the flag).
func TestWatchRemovedAgainAfterFileBack(t *testing.T) {
	dir := t.TempDir()
	h, _ := newFakeHost(t, Config{})
	path := filepath.Join(dir, "a.wasm")
	writeFile(t, path, "v1")
	s, err := h.Load(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	cancel, _ := watchCaughtUp(t, h, dir, s, "m0.lua", Removed)
	writeFile(t, path, "v2")
	nextEvent(t, h, func(ev Event) bool { return ev.Script == path && ev.Kind == Committed })
	cancel()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	cancel, n := watchCaughtUp(t, h, dir, s, "m1.lua", Removed)
	cancel()
	if n != 1 {
		t.Fatalf("%d Removed events as the Watch began, want 1", n)
	}
	writeFile(t, path, "v2")
	cancel, n = watchCaughtUp(t, h, dir, s, "m2.lua", Removed)
	defer cancel()
	if n != 0 {
		t.Fatalf("%d Removed events as the next Watch began, the file back, want 0", n)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, func(ev Event) bool { return ev.Script == path && ev.Kind == Removed })
}

// A file moved away and back as it was (under Watch, or while no Watch ran),
// then renamed, later than renameWindow after the first move: the old name's
// script is unloaded as moved, timed from the rename, not from the first
// deletion.
func TestRenameTimedFromLastDeletion(t *testing.T) {
	shortRenameWindow(t, 300*time.Millisecond)
	for _, unwatched := range []bool{true, false} {
		t.Run(fmt.Sprint("moved away unwatched ", unwatched), func(t *testing.T) {
			dir, out := t.TempDir(), t.TempDir()
			h, _ := newFakeHost(t, Config{})
			path, away := filepath.Join(dir, "a.wasm"), filepath.Join(out, "a.wasm")
			writeFile(t, path, "v1")
			s, err := h.Load(context.Background(), path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if unwatched {
				if err := os.Rename(path, away); err != nil {
					t.Fatal(err)
				}
			}
			cancel, _ := watchCaughtUp(t, h, dir, s, "m1.lua", Removed)
			defer cancel()
			if !unwatched {
				if err := os.Rename(path, away); err != nil {
					t.Fatal(err)
				}
				nextEvent(t, h, func(ev Event) bool { return ev.Script == path && ev.Kind == Removed })
			}
			if err := os.Rename(away, path); err != nil {
				t.Fatal(err)
			}
			marker := filepath.Join(dir, "m2.lua") // the file back, reported
			writeFile(t, marker, "v9")
			nextEvent(t, h, func(ev Event) bool { return ev.Script == marker && ev.Kind == Loaded })
			time.Sleep(2 * renameWindow)
			c := filepath.Join(dir, "c.wasm")
			if err := os.Rename(path, c); err != nil {
				t.Fatal(err)
			}
			if ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == path && ev.Kind == Unloaded }); ev.MovedTo != c {
				t.Errorf("%v, want a.wasm unloaded as moved to c.wasm", ev)
			}
		})
	}
}

// A file of more than 64 MiB is rejected unread, naming the file, as too
// large (ErrTooLarge, no build failure): a new file saved where scripts are
// watched, a script's file grown so under Watch, or while no Watch ran (the
// next Watch says so as it begins); the script runs on. Load refuses one too.
func TestWatchRefusesHugeFile(t *testing.T) {
	grow := func(t *testing.T, path string) {
		t.Helper()
		if err := os.Truncate(path, 64<<20+1); err != nil { // sparse: nothing written
			t.Fatal(err)
		}
	}
	check := func(t *testing.T, ev Event, path string) {
		t.Helper()
		if ev.Kind != Rejected || !errors.Is(ev.Err, ErrTooLarge) || errors.Is(ev.Err, ErrBuild) ||
			strings.Contains(ev.String(), "read "+path+": read") || !strings.Contains(ev.String(), "larger than a script may be (64 MiB)") {
			t.Errorf("%v, want %s rejected as too large (no build failure, its path said once by the read)", ev, path)
		}
	}
	for _, when := range []string{"new file", "under Watch", "while no Watch ran"} {
		t.Run(when, func(t *testing.T) {
			dir := t.TempDir()
			h, _ := newFakeHost(t, Config{})
			path := filepath.Join(dir, "a.wasm")
			var s *Script
			if when != "new file" {
				writeFile(t, path, "v1")
				s = mustLoadFile(t, h, path)
			}
			if when == "while no Watch ran" {
				grow(t, path)
			}
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel)
			if err := h.Watch(ctx, dir); err != nil {
				t.Fatal(err)
			}
			if when != "while no Watch ran" {
				if when == "new file" {
					writeFile(t, path, "")
				}
				grow(t, path)
			}
			check(t, nextEvent(t, h, func(ev Event) bool { return ev.Script == path && ev.Kind != Loaded }), path)
			if s != nil && callInt(t, h, s, "version") != 1 {
				t.Error("the script does not run on")
			}
		})
	}
	big := filepath.Join(t.TempDir(), "big.wasm")
	writeFile(t, big, "")
	grow(t, big)
	h, _ := newFakeHost(t, Config{})
	if _, err := h.Load(context.Background(), big, nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Load of it: %v, want ErrTooLarge", err)
	}
}

// A script's file past 64 MiB is reported once: a Watch begun while it is
// as it was reported (by the catch-up, or by the watcher) says nothing of it
// again; grown further, it is reported again.
func TestWatchHugeFileReportedOnce(t *testing.T) {
	dir := t.TempDir()
	h, _ := newFakeHost(t, Config{})
	path := filepath.Join(dir, "a.wasm")
	writeFile(t, path, "v1")
	s := mustLoadFile(t, h, path)
	grow := func(n int64) {
		t.Helper()
		if err := os.Truncate(path, 64<<20+n); err != nil { // sparse: nothing written
			t.Fatal(err)
		}
	}
	watch := func(i int, want int) {
		t.Helper()
		cancel, n := watchCaughtUp(t, h, dir, s, fmt.Sprintf("m%d.lua", i), Rejected)
		cancel()
		if n != want {
			t.Errorf("Watch %d: %d Rejected events of a.wasm as it began, want %d", i, n, want)
		}
	}
	grow(1)
	watch(1, 1) // grown while no Watch ran
	watch(2, 0)
	grow(2)
	watch(3, 1)
	watch(4, 0)
	ctx, cancel := context.WithCancel(context.Background())
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	grow(3) // under Watch
	nextEvent(t, h, func(ev Event) bool { return ev.Script == path && ev.Kind == Rejected })
	cancel()
	watch(5, 0)
	if callInt(t, h, s, "version") != 1 {
		t.Error("the script does not run on")
	}
}

// mustLoadFile loads path into h.
func mustLoadFile(t *testing.T, h *Host, path string) *Script {
	t.Helper()
	s, err := h.Load(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A script loaded by a relative name, its directory the working directory,
// deleted with that directory: the deletion is reported (the name had no
// absolute form once the working directory was gone, and Watch dropped the
// file's events).
func TestWatchRelativeNameCwdDeleted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "scripts")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "a.wasm"), "v1")
	t.Chdir(dir)
	h, _ := newFakeHost(t, Config{})
	s := mustLoadFile(t, h, "a.wasm")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, func(ev Event) bool { return ev.Script == s.Name() && ev.Kind == Removed })
}

// A script loaded by a relative name is read again where it was loaded from,
// whatever the working directory is now: by Reload with nil bytes, and by a
// Watch's catch-up of a save made while none ran (both read the name relative
// to the working directory of the moment, and failed, or missed the save).
func TestRelativeNameReadWhereLoaded(t *testing.T) {
	for _, how := range []string{"Reload(nil)", "catch-up"} {
		t.Run(how, func(t *testing.T) {
			dir, other := t.TempDir(), t.TempDir()
			path := filepath.Join(dir, "a.wasm")
			writeFile(t, path, "v1")
			t.Chdir(dir)
			h, _ := newFakeHost(t, Config{})
			s := mustLoadFile(t, h, "a.wasm")
			t.Chdir(other) // the program moves on; the script's file is where it was
			writeFile(t, path, "v2")
			if how == "Reload(nil)" {
				if err := h.Reload(context.Background(), s, nil); err != nil {
					t.Fatalf("Reload(nil) after a chdir: %v", err)
				}
			} else {
				cancel, _ := watchCaughtUp(t, h, dir, s, "m.lua", Removed)
				defer cancel()
				waitFor(t, "the save caught up", func() bool { return s.Version() == 2 }) // its reload commits on its own
			}
			if v := callInt(t, h, s, "version"); v != 2 {
				t.Errorf("version %d after %s, want 2", v, how)
			}
		})
	}
}

// TestWatchOverlap: a directory watched already, one inside it or one around it,
// also through a symbolic link, is refused (a save would reload a script once
// per watch), a directory beside it is not, and a directory whose Watch was
// cancelled can be watched again at once.
func TestWatchOverlap(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "scripts")
	for _, d := range []string{filepath.Join(dir, "sub"), filepath.Join(root, "scripts2")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(root, "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	h, _ := newFakeHost(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, dir + string(filepath.Separator), filepath.Join(dir, "sub"), root, link, filepath.Join(link, "sub")} {
		if err := h.Watch(context.Background(), d); !errors.Is(err, ErrInvalid) {
			t.Errorf("Watch(%s) while %s is watched: %v, want ErrInvalid", d, dir, err)
		}
	}
	sibling, stop := context.WithCancel(context.Background())
	defer stop()
	if err := h.Watch(sibling, filepath.Join(root, "scripts2")); err != nil {
		t.Errorf("Watch of a directory beside it: %v", err)
	}
	for i := range 20 { // cancel, then watch again at once
		cancel()
		var next context.Context
		next, cancel = context.WithCancel(context.Background())
		t.Cleanup(cancel)
		if err := h.Watch(next, dir); err != nil {
			t.Fatalf("Watch %d right after cancelling the one before: %v", i, err)
		}
	}
}

// The reload of a file renamed over another script's, superseded by a newer
// request that has resolved by the time the wait for the old name follows it:
// the newer request's outcome still decides (the old name was kept running, and
// TestWatchRenameEdges timed out now and then on a loaded machine). Under
// SwapAtApply, the Apply after it unloads.
func TestUnloadMovedFollowsResolvedRequest(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		newer    string
		wantGone bool
	}{{"v3", true}, {"garbage", false}} {
		t.Run(tt.newer, func(t *testing.T) {
			h, _ := newFakeHost(t, Config{Swap: SwapAtApply})
			a, b := mustLoad(t, h, "a.wasm", "v1", nil), mustLoad(t, h, "b.wasm", "v2", nil)
			saved := func(p *Pending) { // as Watch's saves are (see newestSave)
				b.mu.Lock()
				b.file.reload = p
				b.mu.Unlock()
			}
			renamed := h.reloadAsync(ctx, b, []byte("v1"), saved)
			newer := h.reloadAsync(ctx, b, []byte(tt.newer), saved)
			<-renamed.Done()
			if tt.wantGone {
				waitFor(t, "the newer reload staged", readyStaged(b))
				h.Apply(ctx)
			}
			<-newer.Done()
			if err := newer.Err(); (err == nil) != tt.wantGone {
				t.Fatalf("the newer reload: %v", err)
			}
			wd := &watchedDir{h: h}
			wd.unloadMoved(ctx, b, renamed, []*Script{a})
			h.Apply(ctx) // which unloads, under SwapAtApply
			if tt.wantGone {
				if _, ok := h.Script("a.wasm"); ok {
					t.Error("a.wasm not unloaded by the Apply")
				}
				return
			}
			if err := h.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if a.unloading.Load() {
				t.Error("a.wasm unloaded though the newer reload failed")
			}
		})
	}
}

// An empty file is not a script yet (an editor's new file, a save read between
// its truncation and its write): a save that empties a script's file or its
// source, and a new empty file, are ignored, where they were Rejected events.
func TestWatchIgnoresEmptyFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	h, _ := newFakeHost(t, Config{})
	a := filepath.Join(dir, "a.wasm")
	s := mustLoad(t, h, a, "v1", nil)
	wd := &watchedDir{h: h, dir: dir, abs: dir}
	emptyWat, brokenWat := filepath.Join(dir, "e.wat"), filepath.Join(dir, "b.wat")
	if err := os.WriteFile(emptyWat, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(brokenWat, []byte("(module"), 0o600); err != nil {
		t.Fatal(err)
	}
	buildFailed := &watch.BuildError{Tool: "wat2wasm"}
	for _, ev := range []watch.Event{
		{Path: a, Output: a, Op: watch.Changed, Data: []byte{}},
		{Path: filepath.Join(dir, "n.lua"), Output: filepath.Join(dir, "n.lua"), Op: watch.Changed},
		{Path: emptyWat, Output: filepath.Join(dir, "e.wasm"), Op: watch.Changed, Err: buildFailed},
		{Path: brokenWat, Output: filepath.Join(dir, "b.wasm"), Op: watch.Changed, Err: buildFailed}, // not empty: reported
	} {
		wd.handle(ctx, ev)
	}
	s.mu.Lock()
	pending := s.open
	s.mu.Unlock()
	if pending != 0 || s.Version() != 1 {
		t.Errorf("an empty save of a.wasm started a reload (%d pending, version %d)", pending, s.Version())
	}
	if ev := nextEvent(t, h, func(ev Event) bool { return ev.Kind != Loaded || ev.Script != a }); ev.Kind != Rejected || ev.Script != filepath.Join(dir, "b.wat") {
		t.Errorf("first event after the empty files: %v, want the broken b.wat's Rejected", ev)
	}
	if _, ok := h.Script(filepath.Join(dir, "n.lua")); ok {
		t.Error("an empty n.lua was loaded")
	}
}

// A script file renamed within the watched directory runs under its new name
// only: the new file loads, and the script of the old one, whose file is gone,
// is unloaded; renamed over another script's file, that script reloads and the
// old one is unloaded. A copy (the old file still there), a new file with a
// deleted one's bytes and a script loaded from bytes are left alone.
func TestWatchRename(t *testing.T) {
	dir := t.TempDir()
	h, s := watchedScript(t, dir)
	a := s.Name()
	fromBytes := mustLoad(t, h, "builtin.wasm", "v1", nil)
	write := func(name, text string) string { t.Helper(); return writeIn(t, dir, name, text) }
	gone := func(name string) {
		t.Helper()
		waitFor(t, name+"'s script gone", func() bool { _, ok := h.Script(name); return !ok }) // Unload emits, then frees the name
	}

	c := write("c.wasm", "v1") // a copy of a.wasm's bytes
	nextEvent(t, h, is(Loaded, c))
	b := filepath.Join(dir, "b.wasm")
	if err := os.Rename(c, b); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, is(Loaded, b))
	movedTo := func(ev Event, to string) {
		t.Helper()
		if ev.MovedTo != to {
			t.Errorf("%v: MovedTo %q, want %q", ev, ev.MovedTo, to)
		}
	}
	movedTo(nextEvent(t, h, is(Unloaded, c)), b)
	gone(c)

	d := write("d.wasm", "v3")
	nextEvent(t, h, is(Loaded, d))
	if err := os.Rename(d, b); err != nil { // over b.wasm
		t.Fatal(err)
	}
	nextEvent(t, h, is(Committed, b))
	movedTo(nextEvent(t, h, is(Unloaded, d)), b)
	gone(d)
	if got := callInt(t, h, mustScript(t, h, b), "version"); got != 3 {
		t.Errorf("b.wasm after d.wasm was renamed over it: version %d, want 3", got)
	}

	g := write("g.wasm", "v3") // b.wasm's bytes: renamed over it, no reload, but g goes
	nextEvent(t, h, is(Loaded, g))
	if err := os.Rename(g, b); err != nil {
		t.Fatal(err)
	}
	movedTo(nextEvent(t, h, is(Unloaded, g)), b)
	gone(g)

	e := write("e.wasm", "v4")
	nextEvent(t, h, is(Loaded, e))
	if err := os.Remove(e); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, is(Removed, e))
	f := write("f.wasm", "v4") // the deleted file's bytes, perhaps its number: not it
	nextEvent(t, h, is(Loaded, f))
	marker := write("marker.lua", "v1")
	if ev := nextEvent(t, h, func(ev Event) bool { return ev.Kind == Unloaded || ev.Script == marker }); ev.Script != marker {
		t.Errorf("a new file with a deleted file's bytes: %v", ev)
	}

	for _, name := range []string{a, b, e, f, fromBytes.Name()} {
		if _, ok := h.Script(name); !ok {
			t.Errorf("%s was unloaded; only renamed files' scripts should be", name)
		}
	}
}

// TestWatchMovedForgetsUnloaded: a file renamed over another script's file
// whose reload fails keeps the moved script for the save that fixes it; the
// program unloading both scripts instead leaves nothing kept (helper-181: one
// entry, holding the moved Script, per such rename for the whole Watch).
func TestWatchMovedForgetsUnloaded(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	h := newTestHost(t, Config{WatchOptions: func(name string) *ScriptOptions {
		if filepath.Base(name) == "b.lua" { // every version must export update
			return &ScriptOptions{Contract: &Contract{Exports: []string{"update"}}}
		}
		return nil
	}})
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	a, b := filepath.Join(dir, "a.lua"), filepath.Join(dir, "b.lua")
	for i := range 3 {
		writeFile(t, b, fmt.Sprintf("local M = {} function M.update() return %d end return M", i))
		nextEvent(t, h, func(ev Event) bool { return ev.Script == b && ev.Kind == Loaded })
		writeFile(t, a, fmt.Sprintf("return { n = %d }", i))
		nextEvent(t, h, func(ev Event) bool { return ev.Script == a && ev.Kind == Loaded })
		if err := os.Rename(a, b); err != nil { // b reloads with a's code, which breaks its contract
			t.Fatal(err)
		}
		nextEvent(t, h, func(ev Event) bool { return ev.Script == b && ev.Kind == Rejected })
		sa, _ := h.Script(a)
		sb, _ := h.Script(b)
		if sa == nil || sb == nil {
			t.Fatalf("round %d: a %v, b %v: want both loaded (a runs on as the only copy of its code)", i, sa, sb)
		}
		if err := os.Remove(b); err != nil {
			t.Fatal(err)
		}
		nextEvent(t, h, func(ev Event) bool { return ev.Script == b && ev.Kind == Removed })
		if err := errors.Join(h.Unload(ctx, sa), h.Unload(ctx, sb)); err != nil {
			t.Fatal(err)
		}
	}
	h.watchMu.Lock()
	wd := h.watched[0].wd
	h.watchMu.Unlock()
	wd.mu.Lock()
	defer wd.mu.Unlock()
	if len(wd.moved) != 0 {
		t.Errorf("after 3 rounds, every script unloaded, %d files keep moved scripts: %v", len(wd.moved), wd.moved)
	}
}

// TestWatchMovedForgetsUnloadedDuringReload: the program unloads the moved
// script while the reload of the file it was renamed onto still runs, and
// then fails: the moved script, unloaded, is not kept for the next save of
// that file (helper-187: forgetMoved ran first, then the failed reload kept it).
func TestWatchMovedForgetsUnloadedDuringReload(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	h := newTestHost(t, Config{WatchOptions: func(name string) *ScriptOptions {
		if filepath.Base(name) == "b.lua" {
			return &ScriptOptions{Contract: &Contract{Exports: []string{"update"}}}
		}
		return nil
	}})
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	a, b := filepath.Join(dir, "a.lua"), filepath.Join(dir, "b.lua")
	writeFile(t, b, "local M = {} function M.update() return 1 end return M")
	nextEvent(t, h, func(ev Event) bool { return ev.Script == b && ev.Kind == Loaded })
	// a's chunk runs ~600 ms, and has no update: b's reload with it is rejected.
	writeFile(t, a, "local x = 0 for i = 1, 8000000 do x = x + i end return { n = x }")
	// Seconds under -race on a busy machine: more than nextEvent waits.
	if _, ok := eventWithin(h, time.Minute, func(ev Event) bool { return ev.Script == a && ev.Kind == Loaded }); !ok {
		t.Fatal("a.lua not loaded within a minute")
	}
	sa, _ := h.Script(a)
	if err := os.Rename(a, b); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond) // b's reload runs a's chunk
	if err := h.Unload(ctx, sa); err != nil {
		t.Fatal(err)
	}
	if _, ok := eventWithin(h, time.Minute, func(ev Event) bool { return ev.Script == b && ev.Kind == Rejected }); !ok {
		t.Fatal("b.lua's reload not rejected within a minute")
	}
	time.Sleep(200 * time.Millisecond)
	h.watchMu.Lock()
	wd := h.watched[0].wd
	h.watchMu.Unlock()
	wd.mu.Lock()
	defer wd.mu.Unlock()
	for name, kept := range wd.moved {
		for _, s := range kept {
			if s == sa {
				t.Errorf("unloaded %s is kept for the next save of %s (gone=%v)", filepath.Base(s.name), filepath.Base(name), s.gone.Load())
			}
		}
	}
}

// A file renamed while its last save waits for Apply moves too: the old
// script, whose reload is still to commit, is unloaded, and the new name runs
// the saved version. Under SwapAtApply, the unload waits for Apply too
// (helper-221: the old name's calls failed mid-frame).
func TestWatchRenameWhileReloadWaits(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	h, _ := newFakeHost(t, Config{Swap: SwapAtApply})
	a := filepath.Join(dir, "a.wasm")
	if err := os.WriteFile(a, []byte("v1"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := h.Load(ctx, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := h.Watch(wctx, dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(a, []byte("v2"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a.wasm's v2 staged for Apply", readyStaged(s))
	b := filepath.Join(dir, "b.wasm")
	if err := os.Rename(a, b); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, func(ev Event) bool { return ev.Kind == Loaded && ev.Script == b })
	marker := filepath.Join(dir, "marker.lua")
	if err := os.WriteFile(marker, []byte("v1"), 0o600); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, h, func(ev Event) bool { return ev.Kind == Unloaded || ev.Script == marker }); ev.Script != marker {
		t.Fatalf("before Apply: %v", ev)
	}
	if got := callInt(t, h, s, "version"); got != 1 {
		t.Errorf("a.wasm runs version %d before Apply, want 1", got)
	}
	h.Apply(ctx)
	if _, ok := h.Script(a); ok {
		t.Error("a.wasm's script is there after Apply")
	}
	nextEvent(t, h, func(ev Event) bool { return ev.Kind == Unloaded && ev.Script == a })
	if got := callInt(t, h, mustScript(t, h, b), "version"); got != 2 {
		t.Errorf("b.wasm runs version %d, want the saved 2", got)
	}
}

// Rename edge cases: Close while the old name waits for the reload of the file
// it was renamed over (it hung); a newer save superseding that reload (the old
// name stayed); a script that is a link whose target is renamed (the link did
// not move: it stays); a script loaded from bytes under a file's name after
// Watch started (never matched).
func TestWatchRenameEdges(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T, cfg Config) (*Host, string) {
		dir := t.TempDir()
		h, _ := newFakeHost(t, cfg)
		wctx, cancel := context.WithCancel(ctx)
		t.Cleanup(cancel)
		if err := h.Watch(wctx, dir); err != nil {
			t.Fatal(err)
		}
		return h, dir
	}
	write := func(t *testing.T, path, code string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(code), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	loaded := func(t *testing.T, h *Host, path, code string) *Script {
		t.Helper()
		write(t, path, code)
		s, err := h.Load(ctx, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// renamedOver renames a.wasm over b.wasm, both loaded, under SwapAtApply,
	// and returns once b's reload waits for Apply.
	renamedOver := func(t *testing.T) (h *Host, a, b string, sb *Script) {
		h, dir := setup(t, Config{Swap: SwapAtApply})
		a, b = filepath.Join(dir, "a.wasm"), filepath.Join(dir, "b.wasm")
		loaded(t, h, a, "v1")
		sb = loaded(t, h, b, "v2")
		if err := os.Rename(a, b); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "b's reload staged for Apply", readyStaged(sb))
		return h, a, b, sb
	}
	t.Run("Close while the old name waits", func(t *testing.T) {
		h, _, _, _ := renamedOver(t)
		testtool.Returns(t, "Close", func() error { return h.Close(ctx) })
	})
	t.Run("a newer save supersedes the reload", func(t *testing.T) {
		h, a, b, sb := renamedOver(t)
		write(t, b, "v3")
		waitFor(t, "the newer save staged", func() bool {
			sb.mu.Lock()
			defer sb.mu.Unlock()
			return sb.ready != nil && string(sb.ready.code) == "v3"
		})
		if _, ok := h.Script(a); !ok {
			t.Error("a.wasm's script gone before Apply")
		}
		h.Apply(ctx)
		if _, ok := h.Script(a); ok {
			t.Error("a.wasm's script is there after the Apply that committed the newer save")
		}
	})
	t.Run("a broken save after the rename keeps the old name", func(t *testing.T) {
		h, a, b, sb := renamedOver(t)
		write(t, b, "garbage")
		nextEvent(t, h, func(ev Event) bool { return ev.Kind == Rejected && ev.Script == b })
		h.Apply(ctx)
		marker := filepath.Join(filepath.Dir(a), "marker.lua")
		write(t, marker, "v1")
		if ev := nextEvent(t, h, func(ev Event) bool { return ev.Kind == Unloaded || ev.Script == marker }); ev.Script != marker {
			t.Errorf("a broken save of the file renamed over b.wasm: %v; a.wasm's code runs nowhere else", ev)
		}
		if sb.Version() != 1 {
			t.Errorf("b.wasm at version %d, want 1 (the rename's reload superseded, the save rejected)", sb.Version())
		}
	})
	t.Run("a link whose target is renamed stays", func(t *testing.T) {
		h, dir := setup(t, Config{})
		target, link := filepath.Join(dir, "t.wasm"), filepath.Join(dir, "a.wasm")
		write(t, target, "v1")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Load(ctx, link, nil); err != nil {
			t.Fatal(err)
		}
		u := filepath.Join(dir, "u.wasm")
		if err := os.Rename(target, u); err != nil {
			t.Fatal(err)
		}
		nextEvent(t, h, func(ev Event) bool { return ev.Kind == Loaded && ev.Script == u })
		marker := filepath.Join(dir, "marker.lua")
		write(t, marker, "v1")
		if ev := nextEvent(t, h, func(ev Event) bool { return ev.Kind == Unloaded || ev.Script == marker }); ev.Script != marker {
			t.Errorf("renaming a link's target: %v", ev)
		}
	})
	t.Run("loaded from bytes after Watch started", func(t *testing.T) {
		h, dir := setup(t, Config{})
		x, y := filepath.Join(dir, "x.wasm"), filepath.Join(dir, "y.wasm")
		write(t, x, "v5")
		mustLoad(t, h, x, "v5", nil)
		if err := os.Rename(x, y); err != nil {
			t.Fatal(err)
		}
		nextEvent(t, h, func(ev Event) bool { return ev.Kind == Unloaded && ev.Script == x })
	})
}

// A file that is not a script yet loads on a goroutine of its own: while a slow
// load runs (here a chunk that waits), the saves of other scripts reload them,
// and a save of the loading file stops that load, and loads instead (a file
// that compiles for seconds, or whose chunk never returns, does not hold up
// its fix).
func TestWatchLoadsApart(t *testing.T) {
	ctx := context.Background()
	release, started := make(chan struct{}), make(chan struct{}, 1)
	h := hostWithLuaFunc(t, "wait", func(ctx context.Context, _ *lua.Call) ([]any, error) {
		started <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done(): // the load is stopped
		}
		return nil, nil
	})
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	t.Cleanup(open) // before the Host's Close, which waits for the load
	dir := t.TempDir()
	write := func(name, text string) string { t.Helper(); return writeIn(t, dir, name, text) }
	a := write("a.lua", "return { v = function() return 1 end }")
	sa, err := h.Load(ctx, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := h.Watch(wctx, dir); err != nil {
		t.Fatal(err)
	}
	slow := write("slow.lua", "host.wait() return { v = function() return 1 end }")
	<-started
	write("slow.lua", "return { v = function() return 2 end }")
	write("a.lua", "return { v = function() return 2 end }")
	if ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == slow }); ev.Kind != Loaded {
		t.Fatalf("slow.lua: %v, want it loaded (its first load stopped, without an event)", ev)
	}
	waitFor(t, "a.lua's save to commit", func() bool { return h.Stats(sa).Reloads == 1 })
	if v := call(t, h, sa, "v"); v != "2" {
		t.Errorf("a.lua v = %s after its save, want 2", v)
	}
	s, ok := h.Script(slow)
	if !ok {
		t.Fatal("slow.lua not loaded")
	}
	if v := call(t, h, s, "v"); v != "2" || s.Version() != 1 {
		t.Errorf("slow.lua v%d: v = %s, want v1 running the save (2) that stopped the first load", s.Version(), v)
	}
}

// The events of a script that is loading wait for the load, and are then
// handled in order, the newest of each file: a .wat or .c saved while its .wasm
// loads reloads that script rather than load a second one; a deletion of the
// .wasm after a save of its .c is not lost to it; and a rename over the loading
// file is told by when its events came, not by when they are handled.
func TestWatchEventsWaitForLoad(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	x, wat, c := filepath.Join(dir, "x.wasm"), filepath.Join(dir, "x.wat"), filepath.Join(dir, "x.c")
	changed := func(path, output, data string) watch.Event {
		return watch.Event{Path: path, Output: output, Op: watch.Changed, Data: []byte(data)}
	}
	events := func(h *Host, n int) (out []string) {
		t.Helper()
		for range n {
			ev := nextEvent(t, h, func(Event) bool { return true })
			out = append(out, fmt.Sprintf("%s %s v%d", filepath.Base(ev.Script), ev.Kind, ev.To))
		}
		return out
	}
	t.Run("source saved while its .wasm loads", func(t *testing.T) {
		h, e := newFakeHost(t, Config{})
		wd := &watchedDir{h: h, dir: dir, abs: dir}
		wd.handle(ctx, changed(x, x, "v1;loadgate=x.wasm"))
		wd.handle(ctx, changed(wat, x, "v2"))
		e.open("x.wasm")
		got := events(h, 2)
		if want := []string{"x.wasm loaded v1", "x.wasm committed v2"}; !slices.Equal(got, want) || len(h.Scripts()) != 1 {
			t.Errorf("events %q and %d scripts, want %q and 1", got, len(h.Scripts()), want)
		}
	})
	t.Run("events of two files for one script", func(t *testing.T) {
		h, e := newFakeHost(t, Config{})
		wd := &watchedDir{h: h, dir: dir, abs: dir}
		wd.handle(ctx, changed(x, x, "v1;loadgate=x.wasm"))
		wd.handle(ctx, changed(c, x, "v2"))
		wd.handle(ctx, watch.Event{Path: x, Output: x, Op: watch.Removed})
		e.open("x.wasm")
		got := events(h, 3) // the reload commits on a goroutine of its own, so in any order after the load
		if want := []string{"x.wasm loaded v1", "x.wasm committed v2", "x.wasm removed"}; got[0] != want[0] ||
			!slices.ContainsFunc(got, func(s string) bool { return s == want[1] }) ||
			!slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, want[2]) }) {
			t.Errorf("events %q, want %q", got, want)
		}
	})
	t.Run("renamed over the loading file", func(t *testing.T) {
		shortRenameWindow(t, 100*time.Millisecond)
		h, e := newFakeHost(t, Config{})
		wd := &watchedDir{h: h, dir: dir, abs: dir}
		from, to := filepath.Join(dir, "from.wasm"), filepath.Join(dir, "to.wasm")
		if err := os.WriteFile(from, []byte("v3"), 0o600); err != nil {
			t.Fatal(err)
		}
		sf, err := h.Load(ctx, from, nil)
		if err != nil {
			t.Fatal(err)
		}
		wd.handle(ctx, changed(to, to, "v1;loadgate=to.wasm"))
		if err := os.Rename(from, to); err != nil {
			t.Fatal(err)
		}
		wd.handle(ctx, watch.Event{Path: from, Output: from, Op: watch.Removed})
		wd.handle(ctx, changed(to, to, "v3"))
		time.Sleep(3 * renameWindow) // the load takes longer than the window
		e.open("to.wasm")
		nextEvent(t, h, func(ev Event) bool { return ev.Script == from && ev.Kind == Unloaded })
		if _, ok := h.Script(from); ok || sf.Version() != 1 {
			t.Errorf("from.wasm still loaded after its rename over to.wasm")
		}
	})
}

// A script renamed away while the load of its new name runs, and its file
// saved anew meanwhile, stays: the file at its path is not the one that moved.
func TestWatchRenamedAwayAndBack(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	h, e := newFakeHost(t, Config{})
	wd := &watchedDir{h: h, dir: dir, abs: dir}
	a, b := filepath.Join(dir, "a.wasm"), filepath.Join(dir, "b.wasm")
	const code = "v1;loadgate=b.wasm" // blocks a load under b.wasm only
	if err := os.WriteFile(a, []byte(code), 0o600); err != nil {
		t.Fatal(err)
	}
	sa, err := h.Load(ctx, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(a, b); err != nil {
		t.Fatal(err)
	}
	wd.handle(ctx, watch.Event{Path: a, Output: a, Op: watch.Removed})
	wd.handle(ctx, watch.Event{Path: b, Output: b, Op: watch.Changed, Data: []byte(code)})
	waitFor(t, "b.wasm's load to wait", func() bool { return e.loads.Load() == 2 }) // a.wasm's, then b.wasm's
	if err := os.WriteFile(a, []byte("v7"), 0o600); err != nil {
		t.Fatal(err)
	}
	wd.handle(ctx, watch.Event{Path: a, Output: a, Op: watch.Changed, Data: []byte("v7")})
	nextEvent(t, h, func(ev Event) bool { return ev.Script == a && ev.Kind == Committed })
	e.open("b.wasm")
	nextEvent(t, h, func(ev Event) bool { return ev.Script == b && ev.Kind == Loaded })
	marker := filepath.Join(dir, "marker.wasm")
	wd.handle(ctx, watch.Event{Path: marker, Output: marker, Op: watch.Changed, Data: []byte("v1")})
	if ev := nextEvent(t, h, func(ev Event) bool { return ev.Kind == Unloaded || ev.Script == marker }); ev.Script != marker {
		t.Errorf("%v: a.wasm, saved anew during b.wasm's load, was unloaded", ev)
	}
	if sa.Version() != 2 {
		t.Errorf("a.wasm at v%d, want 2", sa.Version())
	}
}

// A new file renamed while its own first load runs runs under its new name
// only: the new name's save waits for the load, then finds the script of the
// old name moved and unloads it. Both names ran on before.
func TestWatchRenamedDuringFirstLoad(t *testing.T) {
	for _, removedFirst := range []bool{true, false} { // the watcher reports the two in either order
		t.Run(fmt.Sprint("removed first ", removedFirst), func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			h, e := newFakeHost(t, Config{})
			wd := &watchedDir{h: h, dir: dir, abs: dir}
			a, b := filepath.Join(dir, "a.wasm"), filepath.Join(dir, "b.wasm")
			const code = "v1;loadgate=a.wasm" // blocks a load under a.wasm only
			if err := os.WriteFile(a, []byte(code), 0o600); err != nil {
				t.Fatal(err)
			}
			wd.handle(ctx, watch.Event{Path: a, Output: a, Op: watch.Changed, Data: []byte(code)})
			waitFor(t, "a.wasm's load to wait", func() bool { return e.loads.Load() == 1 })
			if err := os.Rename(a, b); err != nil {
				t.Fatal(err)
			}
			removed := watch.Event{Path: a, Output: a, Op: watch.Removed}
			saved := watch.Event{Path: b, Output: b, Op: watch.Changed, Data: []byte(code)}
			if !removedFirst {
				removed, saved = saved, removed
			}
			wd.handle(ctx, removed)
			wd.handle(ctx, saved)
			e.open("a.wasm")
			nextEvent(t, h, func(ev Event) bool { return ev.Script == b && ev.Kind == Loaded })
			nextEvent(t, h, func(ev Event) bool { return ev.Script == a && ev.Kind == Unloaded })
			if _, ok := h.Script(a); ok {
				t.Errorf("a.wasm still loaded after its rename to b.wasm")
			}
			// The new name's later saves are its own again.
			wd.handle(ctx, watch.Event{Path: b, Output: b, Op: watch.Changed, Data: []byte("v2")})
			if ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == b }); ev.Kind != Committed || ev.To != 2 {
				t.Errorf("b.wasm's next save: %v, want committed v2", ev)
			}
		})
	}
}

// A save of a file whose name another load holds (the program's own Load of it,
// or an earlier Watch's) waits for that load, then reloads what it loaded: it
// was lost (ErrExists, which no event reports).
func TestWatchSaveDuringAnotherLoad(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	h, e := newFakeHost(t, Config{})
	wd := &watchedDir{h: h, dir: dir, abs: dir}
	x := filepath.Join(dir, "x.wasm")
	loaded := make(chan error, 1)
	go func() {
		_, err := h.LoadBytes(ctx, x, []byte("v1;loadgate=x.wasm"), nil)
		loaded <- err
	}()
	waitFor(t, "the program's load to wait", func() bool { return e.loads.Load() == 1 })
	wd.handle(ctx, watch.Event{Path: x, Output: x, Op: watch.Changed, Data: []byte("v2")})
	e.open("x.wasm")
	if err := <-loaded; err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, func(ev Event) bool { return ev.Script == x && ev.Kind == Loaded })
	if ev := nextEvent(t, h, func(Event) bool { return true }); ev.Script != x || ev.Kind != Committed || ev.To != 2 {
		t.Errorf("after the program's load: %v, want the save committed as v2", ev)
	}
}

// Of a script's .wasm and its source, the one saved last runs. A file that
// Watch reports as it last saw it (same file, time and bytes: the directory
// moved away and back, which reports every file again), while the script has
// come since from the other, reloads nothing: the stale .wasm that a save of
// its source superseded ran for a while, and the script's state started over
// twice. A file saved since, even with the same bytes, runs.
func TestWatchSupersededFileReloadsNothing(t *testing.T) {
	ctx := context.Background()
	later := time.Now().Add(time.Hour)
	tests := []struct {
		name string
		// saveModule saves the module after its source; act then changes
		// the files (nil: leaves them) before the watcher reports both.
		saveModule bool
		act        func(t *testing.T, h *Host, src, mod string)
		want       int  // the live version's code is v<want>
		reloads    bool // once, from the file saved since
	}{
		{name: "module restored as it was", want: 2},
		{name: "source restored as it was", saveModule: true, want: 3},
		{name: "module restored as it was, after another Watch began", act: func(t *testing.T, h *Host, _, mod string) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if err := h.Watch(ctx, filepath.Dir(mod)); err != nil { // marks the files of its scripts
				t.Fatal(err)
			}
		}, want: 2},
		{name: "module renamed away and back", act: func(t *testing.T, _ *Host, _, mod string) {
			renameBack(t, mod)
		}, want: 2},
		{name: "source renamed away and back", saveModule: true, act: func(t *testing.T, _ *Host, src, _ string) {
			renameBack(t, src)
		}, want: 3},
		{name: "module touched after the source's save", act: func(t *testing.T, _ *Host, _, mod string) {
			if err := os.Chtimes(mod, later, later); err != nil {
				t.Fatal(err)
			}
		}, want: 1, reloads: true},
		{name: "module rewritten after the source's save", act: func(t *testing.T, _ *Host, _, mod string) {
			writeFile(t, mod, "v4")
		}, want: 4, reloads: true},
		{name: "source touched after the module's save", saveModule: true, act: func(t *testing.T, _ *Host, src, _ string) {
			if err := os.Chtimes(src, later, later); err != nil {
				t.Fatal(err)
			}
		}, want: 2, reloads: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			h, _ := newFakeHost(t, Config{})
			wd := &watchedDir{h: h, dir: dir, abs: dir}
			src, mod := filepath.Join(dir, "x.wat"), filepath.Join(dir, "x.wasm")
			built := func(path string) watch.Event { return fakeBuilt(t, path, mod) }
			save := func(path, code string, to int) {
				t.Helper()
				writeFile(t, path, code)
				wd.handle(ctx, built(path))
				if ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == mod && ev.Kind != Loaded }); ev.Kind != Committed || ev.To != to {
					t.Fatalf("saving %s: %v, want committed v%d", filepath.Base(path), ev, to)
				}
			}
			writeFile(t, src, "(module) ;; v1")
			writeFile(t, mod, "v1")
			s, err := h.Load(ctx, mod, nil)
			if err != nil {
				t.Fatal(err)
			}
			save(src, "(module) ;; v2", 2)
			if tt.saveModule {
				save(mod, "v3", 3)
			}
			version := s.Version()
			if tt.act != nil {
				tt.act(t, h, src, mod)
			}
			for _, path := range []string{mod, src} { // as the watcher reports the directory back
				wd.handle(ctx, built(path))
			}
			pending := func() int { s.mu.Lock(); defer s.mu.Unlock(); return s.open }
			if tt.reloads {
				nextEvent(t, h, func(ev Event) bool { return ev.Script == mod && ev.Kind == Committed })
				waitFor(t, "the reload resolved", func() bool { return pending() == 0 })
				version++
			}
			if open := pending(); open != 0 || s.Version() != version || callInt(t, h, s, "version") != tt.want {
				t.Errorf("x.wasm at v%d running v%d (%d reloads pending), want v%d running v%d",
					s.Version(), callInt(t, h, s, "version"), open, version, tt.want)
			}
		})
	}
}

// writeFile writes code to path.
// writeIn writes code to dir/name and returns that path.
func writeIn(t *testing.T, dir, name, code string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	writeFile(t, path, code)
	return path
}

func writeFile(t *testing.T, path, code string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(code), 0o600); err != nil {
		t.Fatal(err)
	}
}

// renameBack renames path away and back: the same file, time and bytes.
func renameBack(t *testing.T, path string) {
	t.Helper()
	if err := os.Rename(path, path+".away"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".away", path); err != nil {
		t.Fatal(err)
	}
}

// A save of a source that Watch handles late, once the source has been saved
// again, is known by what the watcher read (Event.Info, Event.Source), not by
// the file as it is then: the next save's event is not taken for it and
// dropped as seen.
func TestWatchLateSourceSaveNotTakenForTheNext(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	h, _ := newFakeHost(t, Config{})
	wd := &watchedDir{h: h, dir: dir, abs: dir}
	src, mod := filepath.Join(dir, "x.wat"), filepath.Join(dir, "x.wasm")
	saved := func(v int) watch.Event {
		t.Helper()
		writeFile(t, src, fmt.Sprintf("(module) ;; v%d", v))
		return fakeBuilt(t, src, mod)
	}
	writeFile(t, src, "(module) ;; v1")
	writeFile(t, mod, "v1")
	s, err := h.Load(ctx, mod, nil)
	if err != nil {
		t.Fatal(err)
	}
	second := saved(2)
	third := saved(3) // before Watch handles the second
	for _, ev := range []watch.Event{second, third} {
		wd.handle(ctx, ev)
		if got := nextEvent(t, h, func(ev Event) bool { return ev.Script == mod && ev.Kind != Loaded }); got.Kind != Committed {
			t.Fatalf("%s: %v, want committed", ev.Data, got)
		}
	}
	if got := callInt(t, h, s, "version"); got != 3 {
		t.Errorf("x.wasm runs v%d, want v3 (the source's last save)", got)
	}
}

// fakeBuilt is the watcher's event of a save of path, x.wasm or its source x.wat
// (mod is x.wasm), for the fake engine, whose "vN" stands for the module built
// from the text "(module) ;; vN".
func fakeBuilt(t *testing.T, path, mod string) watch.Event {
	t.Helper()
	ev := watch.Event{Path: path, Output: mod, Op: watch.Changed}
	var err error
	if ev.Info, err = os.Lstat(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Data = data; path != mod {
		ev.Data, ev.Source = []byte(strings.TrimPrefix(string(data), "(module) ;; ")), data
	}
	return ev
}

// A save of a file Watch is loading for the first time stops that load and is
// loaded instead, without an event for the load it stopped (the fake's load
// returns the context's cause, as a host function may); a save of the same
// bytes, a save that fails to build and an empty one do not stop it.
func TestWatchSaveStopsFirstLoad(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	x := filepath.Join(dir, "x.wasm")
	changed := func(data string) watch.Event {
		return watch.Event{Path: x, Output: x, Op: watch.Changed, Data: []byte(data)}
	}
	broken := watch.Event{Path: x, Output: x, Op: watch.Changed, Err: &watch.BuildError{Path: x, Tool: "wat2wasm", Err: errors.New("exit status 1")}}
	for _, tt := range []struct {
		name  string
		then  []watch.Event
		want  []string // the script's events, in order
		stops bool
	}{
		{"a save of other bytes", []watch.Event{changed("v2")}, []string{"loaded v1 2"}, true},
		{"a save of the same bytes", []watch.Event{changed("v1;loadgate=x.wasm")}, []string{"loaded v1 1"}, false},
		{"a save that fails to build", []watch.Event{broken}, []string{"loaded v1 1", "rejected v0 1"}, false},
		{"an empty save", []watch.Event{changed("")}, []string{"loaded v1 1"}, false},
		{"a save of other bytes, then one that fails to build", []watch.Event{changed("v2"), broken}, []string{"loaded v1 2", "rejected v0 2"}, true},
		{"a save of other bytes, then an empty one", []watch.Event{changed("v2"), changed("")}, []string{"loaded v1 2"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, e := newFakeHost(t, Config{})
			wd := &watchedDir{h: h, dir: dir, abs: dir}
			wd.handle(ctx, changed("v1;loadgate=x.wasm"))
			waitFor(t, "the load to start", func() bool { return e.loads.Load() == 1 })
			for _, ev := range tt.then {
				wd.handle(ctx, ev)
			}
			if !tt.stops {
				e.open("x.wasm")
			}
			var got []string
			for range tt.want {
				ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == x })
				s, _ := h.Script(x)
				got = append(got, fmt.Sprintf("%s v%d %d", ev.Kind, ev.To, callInt(t, h, s, "version")))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("events %q, want %q", got, tt.want)
			}
			if ev, ok := eventWithin(h, 50*time.Millisecond, func(ev Event) bool { return ev.Script == x }); ok {
				t.Errorf("then %v, want nothing more", ev)
			}
		})
	}
}

// Watch with a context that is done already fails with its error, watching
// nothing, and the directory can be watched after it.
func TestWatchDoneContext(t *testing.T) {
	h, _ := newFakeHost(t, Config{})
	dir := t.TempDir()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.Watch(done, dir); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "watch "+dir) {
		t.Errorf("Watch with a done context: %v, want context.Canceled naming the directory", err)
	}
	if err := h.Watch(context.Background(), dir); err != nil {
		t.Errorf("Watch after it: %v", err)
	}
}

// TestWatchKeepsRejectedSave: a save whose reload a migration rejects is not
// reloaded again by a later Watch, whatever the migration's error wraps: one
// wrapping ErrSuperseded (a reload of another script it made) was taken for a
// save cut off, and replayed, its migration run twice (helper-130).
func TestWatchKeepsRejectedSave(t *testing.T) {
	for _, wrapped := range []bool{false, true} {
		t.Run(fmt.Sprint("wraps ErrSuperseded ", wrapped), func(t *testing.T) {
			dir := t.TempDir()
			var migrations atomic.Int64
			h, _ := newFakeHost(t, Config{Migration: func(ctx context.Context, m *Migration) error {
				migrations.Add(1)
				if wrapped {
					return fmt.Errorf("reloading dep.wasm first: %w", opErr("reload", "dep.wasm", ErrSuperseded))
				}
				return errors.New("reloading dep.wasm first: it failed")
			}})
			a := filepath.Join(dir, "a.wasm")
			if err := os.WriteFile(a, []byte("v1"), 0o600); err != nil {
				t.Fatal(err)
			}
			old := time.Now().Add(-time.Hour)
			os.Chtimes(a, old, old)
			s, err := h.Load(context.Background(), a, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			if err := h.Watch(ctx, dir); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(a, []byte("v2"), 0o600); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the save's reload rejected", func() bool { return h.Stats(s).FailedReloads >= 1 })
			time.Sleep(300 * time.Millisecond)
			n := migrations.Load()
			cancel()
			time.Sleep(100 * time.Millisecond)
			ctx2, cancel2 := context.WithCancel(context.Background())
			defer cancel2()
			if err := h.Watch(ctx2, dir); err != nil {
				t.Fatal(err)
			}
			time.Sleep(500 * time.Millisecond)
			st := h.Stats(s)
			t.Logf("migrations %d then %d; stats %+v", n, migrations.Load(), st)
			if migrations.Load() != n {
				t.Errorf("the later Watch reloaded the rejected save again (%d migrations, %d before)", migrations.Load(), n)
			}
		})
	}
}
