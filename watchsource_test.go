package hotscript

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/guest"
	"github.com/hotscript/hotscript/internal/testtool"
	"github.com/hotscript/hotscript/lua"
	"github.com/hotscript/hotscript/watch"
)

// sourceText is the text of a guest source (ext ".c" or ".wat") whose version()
// returns v and whose tick() counts its calls.
func sourceText(ext string, v int) string {
	if ext == ".c" {
		return fmt.Sprintf("static int n;\n"+
			"__attribute__((export_name(\"version\"))) int version(void) { return %d; }\n"+
			"__attribute__((export_name(\"tick\"))) int tick(void) { return ++n; }\n", v)
	}
	return fmt.Sprintf("(module (global $n (mut i32) (i32.const 0))\n"+
		"  (func (export \"version\") (result i32) i32.const %d)\n"+
		"  (func (export \"tick\") (result i32) global.get $n i32.const 1 i32.add global.set $n global.get $n))\n", v)
}

// sourceTools are the tools a source of ext needs.
func sourceTools(ext string) []string {
	if ext == ".c" {
		return []string{"clang", "wasm-ld"}
	}
	return []string{"wat2wasm"}
}

// buildSource builds src as the program's own build does (without the debug
// information of the watcher's build of a .c): the built module differs from
// the watcher's.
func buildSource(t *testing.T, src string) []byte {
	t.Helper()
	testtool.Need(t, sourceTools(filepath.Ext(src))...) // skips without them (helper-236: five tests failed)
	step := watch.DefaultBuildSteps()[filepath.Ext(src)]
	step.Command = slicesDelete(step.Command, "-gdwarf-4")
	code, _, err := step.Build(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// slicesDelete returns args without arg.
func slicesDelete(args []string, arg string) []string {
	var out []string
	for _, a := range args {
		if a != arg {
			out = append(out, a)
		}
	}
	return out
}

// A .c or .wat the program built and loaded itself under the name of the .wasm
// it builds, with no .wasm written (as `hotscript run` loads a .c), comes from
// its source: renamed under Watch, it runs under its new name only.
func TestWatchRenameSourceOfBytes(t *testing.T) {
	tests := []struct {
		ext string
		to  string // the new script's name, in dir
	}{
		{".c", "y.wasm"},
		{".wat", "y.wat"},
	}
	for _, tt := range tests {
		t.Run(tt.ext, func(t *testing.T) {
			testtool.Need(t, sourceTools(tt.ext)...)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			h := newTestHost(t, Config{})
			dir := t.TempDir()
			x := filepath.Join(dir, "x"+tt.ext)
			writeFile(t, x, sourceText(tt.ext, 7))
			from, to := filepath.Join(dir, "x.wasm"), filepath.Join(dir, tt.to)
			if _, err := h.LoadBytes(ctx, from, buildSource(t, x), nil); err != nil {
				t.Fatal(err)
			}
			if err := h.Watch(ctx, dir); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(x, filepath.Join(dir, "y"+tt.ext)); err != nil {
				t.Fatal(err)
			}
			nextEvent(t, h, func(ev Event) bool { return ev.Kind == Loaded && ev.Script == to })
			nextEvent(t, h, func(ev Event) bool { return ev.Kind == Unloaded && ev.Script == from })
			waitFor(t, "x.wasm's script gone", func() bool { _, ok := h.Script(from); return !ok })
			if got := h.Scripts(); len(got) != 1 || got[0].Name() != to || call(t, h, got[0], "version") != "7" {
				t.Errorf("after renaming x%s to y%s: scripts %v, want only %s answering 7", tt.ext, tt.ext, scriptNames(got), tt.to)
			}
		})
	}
}

// A save of a .wasm's source (or of a .c without a .wasm) made while no Watch
// of its directory ran is caught up when one begins, as the watcher would have
// reported it: built, and reloaded. Whichever loaded the script, the program or
// an earlier Watch, and whether the save came between Load and the first
// Watch or between two Watches. A source left as it was, or only touched, is
// not built into the script.
func TestWatchCatchesUpSourceSaves(t *testing.T) {
	const (
		programLoad = "program loads x.wasm" // built by the program's build, from x.c
		bytesLoad   = "program loads the built source, no x.wasm"
		watchLoad   = "an earlier Watch loads the saved source"
	)
	tests := []struct {
		load    string
		ext     string
		between bool   // the save comes between two Watches, else before the first
		change  string // "save", "touch" or "nothing"
	}{
		{watchLoad, ".c", true, "save"},
		{watchLoad, ".c", true, "touch"},
		{programLoad, ".c", true, "save"},
		{programLoad, ".wat", true, "save"},
		{programLoad, ".c", false, "save"},
		{programLoad, ".wat", false, "save"},
		{programLoad, ".c", false, "touch"},
		{programLoad, ".c", false, "nothing"},
		{bytesLoad, ".c", false, "save"},
		{bytesLoad, ".wat", false, "save"},
		{bytesLoad, ".c", true, "save"},
		{bytesLoad, ".c", false, "touch"},
	}
	for _, tt := range tests {
		when := "before the first Watch"
		if tt.between {
			when = "between Watches"
		}
		t.Run(fmt.Sprintf("%s/%s/%s %s", tt.load, tt.ext, tt.change, when), func(t *testing.T) {
			testtool.Need(t, sourceTools(tt.ext)...)
			ctx := context.Background()
			h := newTestHost(t, Config{})
			dir := t.TempDir()
			src, mod := filepath.Join(dir, "x"+tt.ext), filepath.Join(dir, "x.wasm")
			old := time.Now().Add(-time.Hour) // the save's time differs from the load's
			writeFile(t, src, sourceText(tt.ext, 1))
			if err := os.Chtimes(src, old, old); err != nil {
				t.Fatal(err)
			}
			var s *Script
			var err error
			switch tt.load {
			case programLoad:
				if err = os.WriteFile(mod, buildSource(t, src), 0o600); err == nil {
					s, err = h.Load(ctx, mod, nil)
				}
			case bytesLoad:
				s, err = h.LoadBytes(ctx, mod, buildSource(t, src), nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.between || tt.load == watchLoad {
				first, stop := context.WithCancel(ctx)
				if err := h.Watch(first, dir); err != nil {
					t.Fatal(err)
				}
				if tt.load == watchLoad {
					writeFile(t, src, sourceText(tt.ext, 1))
					nextEvent(t, h, func(ev Event) bool { return ev.Script == mod && ev.Kind == Loaded })
					s, _ = h.Script(mod)
				}
				settle(t, h, dir, "first.lua", nil)
				stop()
				waitUnwatched(t, h)
			}
			call(t, h, s, "tick") // state the script keeps unless it reloads
			later := time.Now().Add(time.Second)
			switch tt.change {
			case "save":
				writeFile(t, src, sourceText(tt.ext, 2))
			case "touch":
				err = os.Chtimes(src, later, later)
			}
			if err != nil {
				t.Fatal(err)
			}
			before := s.Version()
			if err := h.Watch(ctx, dir); err != nil {
				t.Fatal(err)
			}
			if tt.change == "save" {
				ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == mod && (ev.Kind == Committed || ev.Kind == Rejected) })
				if ev.Kind != Committed {
					t.Fatalf("the catch-up of the source's save: %v, want it committed", ev)
				}
				if got := call(t, h, s, "version"); got != "2" {
					t.Errorf("version() = %s after Watch began, want 2 (the save)", got)
				}
				return
			}
			settle(t, h, dir, "second.lua", s)
			if n := call(t, h, s, "tick"); s.Version() != before || n != "2" {
				t.Errorf("the source %q: x.wasm at v%d (was v%d), tick %s, want nothing reloaded (tick 2)",
					tt.change, s.Version(), before, n)
			}
		})
	}
}

// A file Watch reports exactly as it last saw it (its directory moved away and
// back) reloads nothing, whatever a Revert did since: the reverted version runs
// on with its state. The file is the script's own, or the source whose save the
// Revert undid.
func TestWatchRevertThenDirBack(t *testing.T) {
	lua := func(v int) string {
		return fmt.Sprintf("local n = 0\nreturn { version = function() return %d end, tick = function() n = n + 1 return n end }\n", v)
	}
	tests := []struct {
		name  string
		tools []string
		files map[string]string // the files as the script loads
		load  string            // the file the program loads
		save  string            // the file saved, and its new text
		text  string
		again bool // the directory moves under a new Watch, begun after the Revert
	}{
		{"lua", nil, map[string]string{"a.lua": lua(1)}, "a.lua", "a.lua", lua(2), false},
		{"lua, next Watch", nil, map[string]string{"a.lua": lua(1)}, "a.lua", "a.lua", lua(2), true},
		{"wat source", []string{"wat2wasm"}, map[string]string{"x.wat": sourceText(".wat", 1)}, "x.wasm", "x.wat", sourceText(".wat", 2), false},
		{"wat source, next Watch", []string{"wat2wasm"}, map[string]string{"x.wat": sourceText(".wat", 1)}, "x.wasm", "x.wat", sourceText(".wat", 2), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testtool.Need(t, tt.tools...)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			h := newTestHost(t, Config{})
			root := t.TempDir()
			dir := filepath.Join(root, "scripts")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			for name, text := range tt.files {
				writeFile(t, filepath.Join(dir, name), text)
			}
			load := filepath.Join(dir, tt.load)
			if !lexists(load) {
				if err := os.WriteFile(load, buildSource(t, filepath.Join(dir, "x.wat")), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			s, err := h.Load(ctx, load, nil)
			if err != nil {
				t.Fatal(err)
			}
			first, stop := context.WithCancel(ctx)
			defer stop()
			if err := h.Watch(first, dir); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, tt.save), tt.text)
			if ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == load && (ev.Kind == Committed || ev.Kind == Rejected) }); ev.Kind != Committed {
				t.Fatalf("the save: %v, want it committed", ev)
			}
			// A second report of the save, which the watcher makes when the
			// write landed between its Lstat and its read (a loaded machine),
			// comes with the file's final time: handled after the Revert, it
			// would be a save to reload (as a touch is), not the test's point.
			settle(t, h, dir, "saved.lua", s)
			if err := h.Revert(ctx, s); err != nil {
				t.Fatal(err)
			}
			call(t, h, s, "tick")
			reverted := s.Version()
			if tt.again {
				stop()
				if err := h.Watch(ctx, dir); err != nil {
					t.Fatal(err)
				}
				settle(t, h, dir, "first.lua", s)
			}

			away := filepath.Join(root, "scripts.away")
			if err := os.Rename(dir, away); err != nil {
				t.Fatal(err)
			}
			if ev := nextEvent(t, h, func(ev Event) bool { return ev.Kind == WatchError }); !errors.Is(ev.Err, watch.ErrDirRemoved) {
				t.Fatalf("moving the directory away: %v, want a WatchError wrapping ErrDirRemoved", ev)
			}
			// Its files reported deleted: the watcher reports them again once
			// the directory is back.
			nextEvent(t, h, func(ev Event) bool { return ev.Kind == Removed && ev.Script == load })
			if err := os.Rename(away, dir); err != nil {
				t.Fatal(err)
			}
			nextEvent(t, h, func(ev Event) bool { return ev.Kind == WatchResumed })
			// The watcher reports the files again as it rescans the directory,
			// which may take a while: nothing of the script's may come of it.
			if ev, ok := eventWithin(h, 2*time.Second, func(ev Event) bool { return ev.Script == load && ev.Kind != Removed }); ok {
				t.Errorf("after the directory came back: %v, want nothing", ev)
			}
			settle(t, h, dir, "marker.lua", s)
			if v, got, n := s.Version(), call(t, h, s, "version"), call(t, h, s, "tick"); v != reverted || got != "1" || n != "2" {
				t.Errorf("after the directory came back: v%d running version %s, tick %s; want v%d running version 1, tick 2 (reverted, state kept)",
					v, got, n, reverted)
			}
		})
	}
}

// settle writes the new script name into dir, which Watch watches, and waits
// for its load: Watch handles what it finds and what its watcher reports in
// order, so what it had to handle before is handled. It then waits for the
// reloads of s (if not nil) that this started to resolve.
func settle(t *testing.T, h *Host, dir, name string, s *Script) {
	t.Helper()
	marker := filepath.Join(dir, name)
	writeFile(t, marker, "return {}")
	nextEvent(t, h, func(ev Event) bool { return ev.Script == marker && ev.Kind == Loaded })
	if s != nil {
		waitFor(t, s.Name()+" settled", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.open == 0 })
	}
}

// A save of a .wasm's source whose reload the end of its Watch cut off (staged,
// waiting for an Apply that does not come) is caught up by the next Watch,
// although that Watch saw the source's text already.
func TestWatchCatchesUpCutOffSourceSave(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	ctx := context.Background()
	h := newTestHost(t, Config{Swap: SwapAtApply})
	dir, src, mod, s := loadBuiltWat(t, h)
	first, stop := context.WithCancel(ctx)
	if err := h.Watch(first, dir); err != nil {
		t.Fatal(err)
	}
	writeFile(t, src, sourceText(".wat", 2))
	waitFor(t, "the save staged", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.ready != nil })
	stop()
	if ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == mod && ev.Kind != Loaded }); ev.Kind != Rejected {
		t.Fatalf("the staged reload of a stopped Watch: %v, want it rejected", ev)
	}
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); s.Version() == 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the cut-off save of x.wat not committed within 10 s of the next Watch")
		}
		h.Apply(ctx)
	}
	if got := call(t, h, s, "version"); got != "2" {
		t.Errorf("version() = %s after the next Watch, want 2 (the cut-off save)", got)
	}
}

// A save of a .wasm's source that does not build is rejected once: the next
// Watch does not build it again.
func TestWatchDoesNotRepeatARejectedSourceSave(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	ctx := context.Background()
	h := newTestHost(t, Config{})
	dir, src, mod, s := loadBuiltWat(t, h)
	first, stop := context.WithCancel(ctx)
	if err := h.Watch(first, dir); err != nil {
		t.Fatal(err)
	}
	writeFile(t, src, "(module (func (export \"version\") (result i32) i32.const")
	if ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == mod && ev.Kind != Loaded }); ev.Kind != Rejected || !errors.Is(ev.Err, ErrBuild) {
		t.Fatalf("the broken save: %v, want it rejected as a build error", ev)
	}
	stop()
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(dir, "marker.lua")
	writeFile(t, marker, "return {}")
	if ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == mod || ev.Script == marker }); ev.Script != marker {
		t.Errorf("the next Watch: %v, want nothing of x.wasm (its broken source was seen)", ev)
	}
	if got := call(t, h, s, "version"); got != "1" || s.Version() != 1 {
		t.Errorf("x.wasm at v%d answering %s, want v1 answering 1", s.Version(), got)
	}
}

// A .wasm's source saved broken (a build error) and then saved back as it
// was, a comment added, which builds the running module: Restored, and the
// module's state stays; the .wasm rewritten meanwhile as it runs is not.
func TestWatchRestoredSource(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	ctx := context.Background()
	h := newTestHost(t, Config{})
	dir, src, mod, s := loadBuiltWat(t, h)
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	call(t, h, s, "tick")
	writeFile(t, src, "(module (func (export \"version\") (result i32) i32.const")
	if ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == mod && ev.Kind != Loaded }); ev.Kind != Rejected || !errors.Is(ev.Err, ErrBuild) {
		t.Fatalf("the broken save: %v, want it rejected as a build error", ev)
	}
	// x.wasm written with the bytes it runs, x.wat still broken: not restored
	// (helper-196: it said so, hiding the rejection).
	code, err := os.ReadFile(mod)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mod, code, 0o600); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(dir, "marker.lua")
	writeFile(t, marker, "return {}")
	if ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == mod || is(Loaded, marker)(ev) }); ev.Script == mod {
		t.Errorf("x.wasm rewritten as it runs, x.wat broken: %v, want nothing", ev)
	}
	writeFile(t, src, ";; back\n"+sourceText(".wat", 1))
	if ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == mod }); ev.Kind != Restored || ev.From != 1 {
		t.Errorf("the source saved back: %v, want x.wasm restored v1", ev)
	}
	if got := call(t, h, s, "tick"); got != "2" || s.Version() != 1 {
		t.Errorf("x.wasm at v%d, tick() = %s, want v1 answering 2 (its state kept)", s.Version(), got)
	}
}

// When both a loaded .wasm and its source were saved while no Watch ran, the
// one saved last runs once Watch begins, and the next Watch takes neither for
// a save again.
func TestWatchCatchesUpModuleAndSourceSaves(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	tests := []struct {
		last string // the file saved last
		want string // version() then
	}{
		{"x.wasm", "3"},
		{"x.wat", "2"},
	}
	for _, tt := range tests {
		t.Run(tt.last+" last", func(t *testing.T) {
			ctx := context.Background()
			h := newTestHost(t, Config{})
			dir, src, mod, s := loadBuiltWat(t, h)
			other := filepath.Join(t.TempDir(), "x.wat")
			writeFile(t, other, sourceText(".wat", 3))
			if err := os.WriteFile(mod, buildSource(t, other), 0o600); err != nil {
				t.Fatal(err)
			}
			writeFile(t, src, sourceText(".wat", 2))
			earlier, later := time.Now().Add(time.Second), time.Now().Add(2*time.Second)
			for path, at := range map[string]time.Time{mod: earlier, src: earlier, filepath.Join(dir, tt.last): later} {
				if err := os.Chtimes(path, at, at); err != nil {
					t.Fatal(err)
				}
			}
			first, stop := context.WithCancel(ctx)
			if err := h.Watch(first, dir); err != nil {
				t.Fatal(err)
			}
			settle(t, h, dir, "first.lua", s)
			if got := call(t, h, s, "version"); got != tt.want {
				t.Fatalf("version() = %s once Watch began, want %s (%s, saved last)", got, tt.want, tt.last)
			}
			stop()
			waitUnwatched(t, h)
			v := s.Version()
			if err := h.Watch(ctx, dir); err != nil {
				t.Fatal(err)
			}
			settle(t, h, dir, "second.lua", s)
			if s.Version() != v {
				t.Errorf("the next Watch reloaded x.wasm (v%d to v%d): it took a save it had seen for a new one", v, s.Version())
			}
		})
	}
}

// eventWithin returns the first event matching want that comes within d, if
// one does. It is for what must not happen: a wait that ends first passes.
func eventWithin(h *Host, d time.Duration, want func(Event) bool) (Event, bool) {
	timeout := time.After(d)
	for {
		select {
		case ev := <-h.Events():
			if want(ev) {
				return ev, true
			}
		case <-timeout:
			return Event{}, false
		}
	}
}

// TestWatchRejectedSaveThenDirBack: a broken save, rejected, is not rejected
// again when the watcher reports the file as it was (its directory moved away
// and back): a broken source's report came before the check that it was as
// last seen.
func TestWatchRejectedSaveThenDirBack(t *testing.T) {
	for _, kind := range []string{"lua", "wat source"} {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			h := newTestHost(t, Config{})
			root := t.TempDir()
			dir := filepath.Join(root, "scripts")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			var load, save string
			if kind == "lua" {
				load = filepath.Join(dir, "a.lua")
				save = load
				writeFile(t, load, "return { version = function() return 1 end }\n")
			} else {
				testtool.Need(t, "wat2wasm")
				save, load = filepath.Join(dir, "x.wat"), filepath.Join(dir, "x.wasm")
				writeFile(t, save, sourceText(".wat", 1))
				if err := os.WriteFile(load, buildSource(t, save), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := h.Load(ctx, load, nil); err != nil {
				t.Fatal(err)
			}
			if err := h.Watch(ctx, dir); err != nil {
				t.Fatal(err)
			}
			if kind == "lua" {
				writeFile(t, save, "return { version = function() return 2 end \n")
			} else {
				writeFile(t, save, "(module (func (export \"version\") (result i32) i32.const")
			}
			if ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == load && (ev.Kind == Committed || ev.Kind == Rejected) }); ev.Kind != Rejected {
				t.Fatalf("broken save: %v", ev)
			}
			away := filepath.Join(root, "scripts.away")
			if err := os.Rename(dir, away); err != nil {
				t.Fatal(err)
			}
			nextEvent(t, h, func(ev Event) bool { return ev.Kind == WatchError })
			if err := os.Rename(away, dir); err != nil {
				t.Fatal(err)
			}
			nextEvent(t, h, func(ev Event) bool { return ev.Kind == WatchResumed })
			if ev, ok := eventWithin(h, 3*time.Second, func(ev Event) bool { return ev.Script == load && (ev.Kind == Rejected || ev.Kind == Committed) }); ok {
				t.Errorf("after the directory came back: %v (%v), want nothing: the broken save was rejected already", ev.Kind, ev.Err)
			}
		})
	}
}

// waitUnwatched waits until no Watch of h runs: the one the test stopped has
// ended.
func waitUnwatched(t *testing.T, h *Host) {
	t.Helper()
	waitFor(t, "the Watch's end", func() bool {
		h.watchMu.Lock()
		defer h.watchMu.Unlock()
		return len(h.watched) == 0
	})
}

// loadBuiltWat writes x.wat at version 1 in a new directory, builds it into
// x.wasm beside it, and loads x.wasm into h.
func loadBuiltWat(t *testing.T, h *Host) (dir, src, mod string, s *Script) {
	t.Helper()
	return loadBuilt(t, h, ".wat")
}

// loadBuilt is loadBuiltWat for a source of ext (.wat or .c).
func loadBuilt(t *testing.T, h *Host, ext string) (dir, src, mod string, s *Script) {
	t.Helper()
	dir = t.TempDir()
	src, mod = filepath.Join(dir, "x"+ext), filepath.Join(dir, "x.wasm")
	writeFile(t, src, sourceText(ext, 1))
	if err := os.WriteFile(mod, buildSource(t, src), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := h.Load(context.Background(), mod, nil)
	if err != nil {
		t.Fatal(err)
	}
	return dir, src, mod, s
}

// A .wasm and its source deleted together (git rm) are one script's deletion:
// one Removed event.
func TestWatchModuleAndSourceRemovedOnce(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	ctx := context.Background()
	h := newTestHost(t, Config{})
	dir, src, mod, _ := loadBuiltWat(t, h)
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	writeFile(t, src, sourceText(".wat", 2)) // the script comes from its source now
	nextEvent(t, h, func(ev Event) bool { return ev.Script == mod && ev.Kind == Committed })
	for _, path := range []string{mod, src} {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
	nextEvent(t, h, func(ev Event) bool { return ev.Script == mod && ev.Kind == Removed })
	if ev, ok := eventWithin(h, time.Second, func(ev Event) bool { return ev.Script == mod }); ok {
		t.Errorf("after the Removed event: %v, want none", ev)
	}
}

// A source renamed beside a .wasm that stays (saved under Watch or not) does
// not move the .wasm's script: it runs on, as a deleted source of a .wasm that
// stays says nothing; the new name is a script of its own.
func TestWatchRenameSourceOfStayingModule(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	for _, saved := range []bool{false, true} {
		t.Run(fmt.Sprintf("saved %v", saved), func(t *testing.T) {
			ctx := context.Background()
			h := newTestHost(t, Config{})
			dir, src, mod, s := loadBuiltWat(t, h)
			if err := h.Watch(ctx, dir); err != nil {
				t.Fatal(err)
			}
			if saved {
				writeFile(t, src, sourceText(".wat", 2))
				nextEvent(t, h, func(ev Event) bool { return ev.Script == mod && ev.Kind == Committed })
			}
			renamed := filepath.Join(dir, "n.wat")
			if err := os.Rename(src, renamed); err != nil {
				t.Fatal(err)
			}
			nextEvent(t, h, func(ev Event) bool { return ev.Script == renamed && ev.Kind == Loaded })
			if ev, ok := eventWithin(h, time.Second, func(ev Event) bool { return ev.Script == mod && ev.Kind == Unloaded }); ok {
				t.Errorf("%v: the .wasm's script unloaded though x.wasm is there", ev)
			}
			if got, ok := h.Script(mod); !ok || got != s {
				t.Errorf("x.wasm's script is gone")
			}
		})
	}
}

// A .wasm deleted while no Watch ran, and then its source under Watch: the
// .wasm's deletion is reported as Watch begins, and the source's adds nothing
// (one deletion of the script, as when both go under Watch).
func TestWatchSourceRemovedAfterModuleGoneBetweenWatches(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	ctx := context.Background()
	h := newTestHost(t, Config{})
	dir, src, mod, _ := loadBuiltWat(t, h)
	if err := os.Remove(mod); err != nil {
		t.Fatal(err)
	}
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, func(ev Event) bool { return ev.Script == mod && ev.Kind == Removed })
	settle(t, h, dir, "marker.lua", nil)
	if err := os.Remove(src); err != nil {
		t.Fatal(err)
	}
	if ev, ok := eventWithin(h, time.Second, func(ev Event) bool { return ev.Script == mod && ev.Kind == Removed }); ok {
		t.Errorf("%v: a second Removed event for one deletion", ev)
	}
}

// Reload with nil bytes builds the source x.wat of a script x.wasm when it holds
// text neither the load nor a Watch saw (edited while no Watch ran), as a Watch
// begun then would: it re-read the stale x.wasm. A broken one fails the reload.
func TestReloadNilBuildsUnseenSource(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	ctx := context.Background()
	h := newTestHost(t, Config{})
	_, src, _, s := loadBuiltWat(t, h)
	for _, tt := range []struct {
		text string
		want string
		err  error
	}{
		{sourceText(".wat", 2), "2", nil},
		{"(module (func (export \"version\")", "2", ErrBuild},
		{sourceText(".wat", 3), "3", nil},
	} {
		writeFile(t, src, tt.text)
		if err := h.Reload(ctx, s, nil); !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
			t.Errorf("Reload(nil) with x.wat %q: %v, want %v", tt.text, err, tt.err)
		}
		if got := call(t, h, s, "version"); got != tt.want {
			t.Errorf("version() = %s after Reload(nil) with x.wat %q, want %s", got, tt.text, tt.want)
		}
	}
}

// A .wasm's source grown past 64 MiB is rejected as too large, whether it grew
// under Watch or while no Watch ran (the catch-up dropped the read's error),
// once: the next Watch says nothing of it.
func TestWatchSourceTooLarge(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	for _, under := range []bool{true, false} {
		h := newTestHost(t, Config{})
		dir, src, mod, s := loadBuiltWat(t, h)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if under {
			if err := h.Watch(ctx, dir); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Truncate(src, 64<<20+1); err != nil {
			t.Fatal(err)
		}
		if !under {
			if err := h.Watch(ctx, dir); err != nil {
				t.Fatal(err)
			}
		}
		marker := filepath.Join(dir, "marker.lua")
		writeFile(t, marker, "return {}")
		ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == mod && ev.Kind != Loaded || ev.Script == marker })
		if ev.Script != mod || ev.Kind != Rejected || !errors.Is(ev.Err, ErrTooLarge) {
			t.Errorf("under Watch %v: %v; want x.wasm's source rejected as too large", under, ev)
		}
		cancel()
		again, n := watchCaughtUp(t, h, dir, s, "marker2.lua", Rejected)
		again()
		if n != 0 {
			t.Errorf("under Watch %v: the next Watch rejected x.wasm's unchanged source %d times, want none", under, n)
		}
	}
}

// A .wasm and its source both past 64 MiB: the first Watch reports them, the
// next ones neither, while they stay as they were.
func TestWatchTwoUnreadFilesReportedOnce(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	h := newTestHost(t, Config{})
	dir, src, mod, s := loadBuiltWat(t, h)
	for _, f := range []string{src, mod} {
		if err := os.Truncate(f, 64<<20+1); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		cancel, n := watchCaughtUp(t, h, dir, s, fmt.Sprintf("marker%d.lua", i), Rejected)
		cancel()
		if i > 0 && n != 0 {
			t.Errorf("Watch %d reported the unchanged files %d times again", i+1, n)
		}
		if i == 0 && n == 0 {
			t.Error("the first Watch did not report them")
		}
	}
}

// wat2wasmWrapper puts on PATH a wat2wasm that runs the shell commands
// script(real), real being the path of the real one.
func wat2wasmWrapper(t *testing.T, script func(real string) string) {
	t.Helper()
	real, err := exec.LookPath("wat2wasm")
	if err != nil {
		testtool.Need(t, "wat2wasm")
	}
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "wat2wasm"), []byte("#!/bin/sh\n"+script(real)), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// resavingWat2wasm puts on PATH a wat2wasm that, the first time it runs,
// saves version v of the .wat src through a hard link (a save the watched
// directory gets no event of) before it builds.
func resavingWat2wasm(t *testing.T, src string, v int) {
	marks := t.TempDir()
	writeFile(t, filepath.Join(marks, "next"), sourceText(".wat", v))
	if err := os.Link(src, filepath.Join(marks, "link")); err != nil {
		t.Fatal(err)
	}
	wat2wasmWrapper(t, func(real string) string {
		return fmt.Sprintf("if [ ! -e %[1]s/done ]; then : > %[1]s/done; cat %[1]s/next > %[1]s/link; fi\nexec %[2]s \"$@\"\n", marks, real)
	})
}

// heldWat2wasm puts on PATH a wat2wasm that, while the file hold exists,
// creates started and waits (for good) before it builds.
func heldWat2wasm(t *testing.T) (hold, started string) {
	marks := t.TempDir()
	hold, started = filepath.Join(marks, "hold"), filepath.Join(marks, "started")
	wat2wasmWrapper(t, func(real string) string {
		return fmt.Sprintf("if [ -e %[1]s ]; then : > %[2]s; while [ -e %[1]s ]; do sleep 0.01; done; fi\nexec %[3]s \"$@\"\n", hold, started, real)
	})
	writeFile(t, hold, "")
	return hold, started
}

// waitFile waits up to 10 s for path to exist.
func waitFile(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
	}
	t.Fatalf("no %s within 10 s", path)
}

// watchCommits begins a Watch of dir, until the test ends, and checks that
// s's next event after Loaded ones is a commit, after which version() is
// want; what names the case in the error.
func watchCommits(t *testing.T, h *Host, dir string, s *Script, want int, what string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == s.Name() && ev.Kind != Loaded })
	if v := callInt(t, h, s, "version"); ev.Kind != Committed || v != want {
		t.Errorf("%s: %v, version() = %d; want committed, %d", what, ev, v, want)
	}
}

// A Reload(nil) whose ctx ends as it builds the source beside the .wasm says
// nothing of the source's text: the next Watch's catch-up builds and runs it
// (helper-169: the cut-off build was recorded as a refused save, which the
// catch-up then left alone).
func TestReloadNilCutOffIsNoRefusal(t *testing.T) {
	h := newTestHost(t, Config{})
	dir, src, _, s := loadBuiltWat(t, h)
	writeFile(t, src, sourceText(".wat", 2)) // while no Watch runs
	hold, started := heldWat2wasm(t)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { waitFile(t, started); cancel() }()
	if err := h.Reload(ctx, s, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Reload(nil) cut off as it built: %v, want context.Canceled", err)
	}
	os.Remove(hold)
	nextEvent(t, h, func(ev Event) bool { return ev.Script == s.Name() && ev.Kind == Rejected }) // the Reload's
	watchCommits(t, h, dir, s, 2, "the next Watch")
}

// A newer request stops the source build of a Reload(nil) it supersedes, as
// it stops the engine's build of a version: the newer one does not wait for a
// build whose result would be dropped (helper-169: it waited, and the build
// was made again for the dropped request when the source changed under it).
func TestSupersededReloadNilStopsItsBuild(t *testing.T) {
	h := newTestHost(t, Config{})
	_, src, _, s := loadBuiltWat(t, h)
	writeFile(t, src, sourceText(".wat", 2))
	hold, started := heldWat2wasm(t)
	defer os.Remove(hold) // let the tool go, should the test fail
	ctx := context.Background()
	first := h.ReloadAsync(ctx, s, nil)
	waitFile(t, started)
	newer := h.ReloadAsync(ctx, s, guest.Bytes("counter_v3"))
	select {
	case <-first.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the superseded Reload(nil) still builds 10 s after a newer request")
	}
	if !errors.Is(first.Err(), ErrSuperseded) {
		t.Errorf("the superseded Reload(nil): %v, want ErrSuperseded", first.Err())
	}
	if <-newer.Done(); newer.Err() != nil {
		t.Errorf("the newer reload: %v", newer.Err())
	}
	if v := callInt(t, h, s, "version"); v != 3 {
		t.Errorf("version() = %d, want 3", v)
	}
}

// A Reload(nil) stopped as it builds by a newer request of the program's is
// decided by that request, as a Watch's save superseded by one is: the next
// Watch's catch-up does not replay the source over what the program asked
// for after (helper-170: it did, once stopping the build made the stop land
// before the read was recorded).
func TestSupersededReloadNilNotReplayed(t *testing.T) {
	h := newTestHost(t, Config{})
	dir, src, _, s := loadBuiltWat(t, h)
	writeFile(t, src, sourceText(".wat", 2))
	hold, started := heldWat2wasm(t)
	ctx := context.Background()
	first := h.ReloadAsync(ctx, s, nil)
	waitFile(t, started)
	if err := h.Reload(ctx, s, guest.Bytes("counter_v3")); err != nil {
		t.Fatal(err)
	}
	<-first.Done()
	os.Remove(hold)
	for range 2 { // the two requests' events
		nextEvent(t, h, func(ev Event) bool { return ev.Script == s.Name() })
	}
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	if err := h.Watch(wctx, dir); err != nil {
		t.Fatal(err)
	}
	handledBefore(t, h, dir)
	if v := callInt(t, h, s, "version"); v != 3 {
		t.Errorf("version() = %d after the next Watch, want 3: the source the superseded Reload(nil) read was replayed", v)
	}
}

// A Reload(nil) of a script's own file cut off as it stages says nothing of
// the file's bytes: the next Watch's catch-up runs them (helper-170: they
// were recorded as read as soon as read, and the save was lost). The chunk
// is cut off in a host function that returns nil, the chunk stopping at its
// next step, or that fails with the context's error (a Lua error, which was
// taken for the chunk's own: the save refused, and lost).
func TestReloadNilOwnFileCutOffIsNoRead(t *testing.T) {
	for _, ret := range []error{nil, context.Canceled} {
		t.Run(fmt.Sprint(ret), func(t *testing.T) {
			var blocked atomic.Bool
			started := make(chan struct{})
			h := hostWithLuaFunc(t, "block", func(ctx context.Context, c *lua.Call) ([]any, error) {
				if blocked.CompareAndSwap(false, true) {
					close(started)
					<-ctx.Done()
					return nil, ret
				}
				return nil, nil
			})
			dir := t.TempDir()
			path := filepath.Join(dir, "a.lua")
			version := func(v int) string {
				return fmt.Sprintf("host.block()\nreturn { version = function() return %d end }", v)
			}
			writeFile(t, path, "return { version = function() return 1 end }")
			s, err := h.Load(context.Background(), path, nil)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, path, version(2)) // while no Watch runs
			ctx, cancel := context.WithCancel(context.Background())
			go func() { <-started; cancel() }()
			if err := h.Reload(ctx, s, nil); !errors.Is(err, context.Canceled) {
				t.Fatalf("Reload(nil) cut off as it staged: %v, want context.Canceled", err)
			}
			nextEvent(t, h, func(ev Event) bool { return ev.Script == path && ev.Kind == Rejected }) // the Reload's
			watchCommits(t, h, dir, s, 2, "the next Watch")
		})
	}
}

// A Reload(nil) of a .wasm builds its source as Watch does: saved again as it
// builds (v3), it builds and records the save it runs, not v3's build under
// v2's text, so that the source saved back to v2 while no Watch runs is news
// to the next Watch.
func TestReloadNilBuildsTheSaveItRead(t *testing.T) {
	h := newTestHost(t, Config{})
	dir, src, _, s := loadBuiltWat(t, h)
	writeFile(t, src, sourceText(".wat", 2))
	resavingWat2wasm(t, src, 3)
	if err := h.Reload(context.Background(), s, nil); err != nil || callInt(t, h, s, "version") != 3 {
		t.Fatalf("Reload(nil): %v, version() = %d; want 3 (what the file held once built)", err, callInt(t, h, s, "version"))
	}
	nextEvent(t, h, func(ev Event) bool { return ev.Script == s.Name() && ev.Kind == Committed }) // the Reload's
	writeFile(t, src, sourceText(".wat", 2))
	watchCommits(t, h, dir, s, 2, "the source saved back to v2")
}

// A .wasm's source saved while no Watch ran (v2) and saved again as the next
// Watch's catch-up builds it (v3, through a hard link: no event of it in the
// watched directory): the catch-up runs and records one save, v3, not v3's
// build under v2's text. Saved back to v2 while no Watch runs, the source is
// news to the Watch after.
func TestCatchUpBuildsTheSaveItRead(t *testing.T) {
	h := newTestHost(t, Config{})
	dir, src, _, s := loadBuiltWat(t, h)
	resavingWat2wasm(t, src, 3)
	// watchOnce begins a Watch, waits for its catch-up's event of s, and
	// ends the Watch.
	watchOnce := func() Event {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if err := h.Watch(ctx, dir); err != nil {
			t.Fatal(err)
		}
		return nextEvent(t, h, func(ev Event) bool { return ev.Script == s.Name() && ev.Kind != Loaded })
	}
	writeFile(t, src, sourceText(".wat", 2)) // through the name: the link still shares it
	if ev := watchOnce(); ev.Kind != Committed || callInt(t, h, s, "version") != 3 {
		t.Fatalf("the catch-up: %v, version() = %d; want committed, 3 (what the file held once built)", ev, callInt(t, h, s, "version"))
	}
	writeFile(t, src, sourceText(".wat", 2))
	if ev := watchOnce(); ev.Kind != Committed || callInt(t, h, s, "version") != 2 {
		t.Errorf("the source saved back to v2: %v, version() = %d; want committed, 2", ev, callInt(t, h, s, "version"))
	}
}

// A .wasm built beside a .wat that Watch loaded as a script of its own (by
// hand, by an editor's task) is that script's other file, as a .wasm's source
// is the .wasm's: its saves reload the .wat's script, the one saved last of
// the two runs, and it is no second script running the same code
// (helper-174). Deleted while the .wat stays, it concerns nothing that runs.
func TestWatchWasmBuiltBesideWatScript(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	ctx := context.Background()
	h := newTestHost(t, Config{})
	dir := t.TempDir()
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	wat, mod := filepath.Join(dir, "x.wat"), filepath.Join(dir, "x.wasm")
	writeFile(t, wat, sourceText(".wat", 1))
	nextEvent(t, h, func(ev Event) bool { return ev.Script == wat && ev.Kind == Loaded })
	s, _ := h.Script(wat)
	other := filepath.Join(t.TempDir(), "x.wat")
	writeFile(t, other, sourceText(".wat", 2))
	if err := os.WriteFile(mod, buildSource(t, other), 0o644); err != nil {
		t.Fatal(err)
	}
	ev := nextEvent(t, h, func(ev Event) bool { return ev.Kind != Loaded || ev.Script != wat })
	if ev.Script != wat || ev.Kind != Committed || callInt(t, h, s, "version") != 2 || len(h.Scripts()) != 1 {
		t.Fatalf("x.wasm built beside x.wat: %v, version() = %d, %d scripts; want x.wat committed, 2, one script",
			ev, callInt(t, h, s, "version"), len(h.Scripts()))
	}
	writeFile(t, wat, sourceText(".wat", 3))
	nextEvent(t, h, func(ev Event) bool { return ev.Script == wat && ev.Kind == Committed })
	if v := callInt(t, h, s, "version"); v != 3 {
		t.Errorf("x.wat saved after x.wasm: version() = %d, want 3", v)
	}
	if err := os.Remove(mod); err != nil {
		t.Fatal(err)
	}
	if ev, ok := eventWithin(h, 500*time.Millisecond, func(Event) bool { return true }); ok {
		t.Errorf("x.wasm deleted, x.wat there: %v, want no event", ev)
	}
	if err := os.Remove(wat); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, func(ev Event) bool { return ev.Script == wat && ev.Kind == Removed })
	if len(h.Scripts()) != 1 {
		t.Errorf("%d scripts, want x.wat alone", len(h.Scripts()))
	}
}

// A new x.wat and the x.wasm built from it, saved together (a task building
// on save as the file is created), in either order: one script, the other
// file its pair's (an x.wasm saved while the x.wat loaded was a second script
// running the module again).
func TestWatchWatAndWasmCreatedTogether(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	ctx := context.Background()
	for _, wasmFirst := range []bool{false, true} {
		h := newTestHost(t, Config{})
		dir := t.TempDir()
		if err := h.Watch(ctx, dir); err != nil {
			t.Fatal(err)
		}
		wat, mod := filepath.Join(dir, "x.wat"), filepath.Join(dir, "x.wasm")
		other := filepath.Join(t.TempDir(), "x.wat")
		writeFile(t, other, sourceText(".wat", 1))
		code := buildSource(t, other)
		writeMod := func() {
			if err := os.WriteFile(mod, code, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want := wat
		if wasmFirst {
			want = mod
			writeMod()
		}
		writeFile(t, wat, sourceText(".wat", 1))
		if !wasmFirst {
			writeMod()
		}
		nextEvent(t, h, func(ev Event) bool { return ev.Kind == Loaded })
		handledBefore(t, h, dir)
		if _, ok := h.Script(want); !ok || len(h.Scripts()) != 2 { // and the marker
			t.Fatalf("wasm first %v: scripts %v, want %s alone", wasmFirst, h.Scripts(), want)
		}
		writeFile(t, wat, sourceText(".wat", 2))
		nextEvent(t, h, func(ev Event) bool { return ev.Script == want && ev.Kind == Committed })
		s, _ := h.Script(want)
		if v := callInt(t, h, s, "version"); v != 2 {
			t.Errorf("wasm first %v: x.wat saved: version() = %d, want 2", wasmFirst, v)
		}
	}
}

// A build-on-save task writes the .wasm that Watch builds from the source
// just saved, while that save's reload is pending: the .wasm's save is that
// reload's, not a second one superseding it (helper-174: every edit went
// "superseded", then "committed", staged twice).
func TestSaveOfThePendingReloadsBytes(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	ctx := context.Background()
	h := newTestHost(t, Config{Swap: SwapAtApply}) // the reload pends until Apply
	dir, src, mod, s := loadBuiltWat(t, h)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := h.Watch(wctx, dir); err != nil {
		t.Fatal(err)
	}
	var kinds []EventKind         // of mod's events
	marker := func(name string) { // waits until what came before is handled
		path := filepath.Join(dir, name)
		writeFile(t, path, "return {}")
		nextEvent(t, h, func(ev Event) bool {
			if ev.Script == mod && ev.Kind != Loaded { // not Load's
				kinds = append(kinds, ev.Kind)
			}
			return ev.Script == path && ev.Kind == Loaded
		})
	}
	writeFile(t, src, sourceText(".wat", 2))
	marker("m1.lua")
	if err := os.WriteFile(mod, buildSource(t, src), 0o644); err != nil { // the task's build
		t.Fatal(err)
	}
	marker("m2.lua")
	for deadline := time.Now().Add(10 * time.Second); h.Apply(ctx) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no reload staged within 10 s")
		}
	}
	for {
		ev, ok := eventWithin(h, 300*time.Millisecond, func(ev Event) bool { return ev.Script == mod })
		if !ok {
			break
		}
		kinds = append(kinds, ev.Kind)
	}
	if !slices.Equal(kinds, []EventKind{Committed}) || callInt(t, h, s, "version") != 2 {
		t.Errorf("events %v, version() = %d; want one commit of version 2", kinds, callInt(t, h, s, "version"))
	}
	// Both saves are seen: the next Watch's catch-up has nothing to do.
	cancel()
	kinds = nil
	w2, cancel2 := context.WithCancel(ctx)
	defer cancel2()
	if err := h.Watch(w2, dir); err != nil {
		t.Fatal(err)
	}
	marker("m3.lua")
	if len(kinds) != 0 {
		t.Errorf("the next Watch: events %v of %s, want none", kinds, filepath.Base(mod))
	}
}

// A .wasm saved while no Watch ran, after its source's save made the script,
// runs as the next Watch begins, even with the bytes the Host read from it
// before (the program's build, or a copy, brought back the old module): of the
// two, the one saved last runs. The catch-up compared only its bytes with
// those first read, and left the source's code running (helper-206). If the
// source was written again after it, even with the text it had (a checkout
// away and back), the source is the one saved last (helper-208).
func TestWatchCatchesUpModuleSavedBackOverSource(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	for _, tt := range []struct {
		name       string
		sourceLast bool
		after      time.Duration // the source's time past the module's; < 0: the source deleted
		module     bool          // the module written (with its first bytes)
		want       string
	}{
		{"module saved last", false, 0, true, "1"},
		{"source written again last", true, 2 * time.Second, true, "2"},
		{"both in one clock tick, as git writes them", true, 0, true, "2"},
		{"source deleted, module saved", false, -1, true, "1"}, // helper-209
		{"source deleted, module as it was", false, -1, false, "2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			h := newTestHost(t, Config{})
			dir, src, mod, s := loadBuiltWat(t, h)
			first, stop := context.WithCancel(ctx)
			if err := h.Watch(first, dir); err != nil {
				t.Fatal(err)
			}
			code, err := os.ReadFile(mod)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, src, sourceText(".wat", 2))
			nextEvent(t, h, is(Committed, mod))
			stop()
			waitUnwatched(t, h)
			at := time.Now().Add(2 * time.Second)
			times := map[string]time.Time{}
			if tt.module {
				if err := os.WriteFile(mod, code, 0o600); err != nil { // version 1 again
					t.Fatal(err)
				}
				times[mod] = at
			}
			if tt.after < 0 {
				if err := os.Remove(src); err != nil {
					t.Fatal(err)
				}
			}
			if tt.sourceLast {
				writeFile(t, src, sourceText(".wat", 2))
				times[src] = at.Add(tt.after)
			}
			for path, at := range times {
				if err := os.Chtimes(path, at, at); err != nil {
					t.Fatal(err)
				}
			}
			if err := h.Watch(ctx, dir); err != nil {
				t.Fatal(err)
			}
			settle(t, h, dir, "second.lua", s)
			if got := call(t, h, s, "version"); got != tt.want {
				t.Errorf("version() = %s, want %s, the code of the file saved last", got, tt.want)
			}
		})
	}
}

// A directory moved away (its scripts Removed) and back as it was: x.wasm,
// saved after its source, holds the running code again, and is Restored,
// whichever of the two the watcher reports first (it reports them in the
// order they were saved). The source, reported first as Watch last saw it,
// unsaid the .wasm's deletion, and no Restored came (helper-206).
func TestWatchModuleDirBackRestored(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	ctx := context.Background()
	h := newTestHost(t, Config{})
	root := t.TempDir()
	dir := filepath.Join(root, "scripts")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	src, mod := filepath.Join(dir, "x.wat"), filepath.Join(dir, "x.wasm")
	writeFile(t, src, sourceText(".wat", 1))
	if err := os.WriteFile(mod, buildSource(t, src), 0o600); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Minute) // the source older than the module, as built
	if err := os.Chtimes(src, past, past); err != nil {
		t.Fatal(err)
	}
	s, err := h.Load(ctx, mod, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "x.wat")
	writeFile(t, other, sourceText(".wat", 2))
	if err := os.WriteFile(mod, buildSource(t, other), 0o600); err != nil { // x.wasm saved last: version 2
		t.Fatal(err)
	}
	nextEvent(t, h, is(Committed, mod))
	away := filepath.Join(root, "scripts.away")
	if err := os.Rename(dir, away); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, is(Removed, mod))
	if err := os.Rename(away, dir); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, func(ev Event) bool { return ev.Kind == WatchResumed })
	if ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == mod }); ev.Kind != Restored {
		t.Errorf("the directory back as it was: %v, want x.wasm Restored", ev)
	}
	if got := call(t, h, s, "version"); got != "2" {
		t.Errorf("version() = %s, want 2", got)
	}
}
