package hotscript

// Renames, new files and Reload with nil bytes under Watch (helper-144).

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/testtool"
	"github.com/hotscript/hotscript/lua"
)

// The renamed file's script runs with the options the old script was loaded
// with, not what the program's Limits value holds now: a Script copies them.
func TestWatchRenameKeepsOptionsAsLoaded(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	h := newTestHost(t, Config{})
	a := filepath.Join(dir, "a.lua")
	writeFile(t, a, "return {update = function() while true do end end}")
	lim := Limits{MaxInstructions: 1000}
	sa, err := h.Load(ctx, a, &ScriptOptions{Limits: &lim})
	if err != nil {
		t.Fatal(err)
	}
	lim.MaxInstructions = 0          // the program reuses its variable for another script
	lim.MaxExecutionTime = time.Hour // (say)
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := h.Call(cctx, sa, "update"); !errors.Is(err, lua.ErrInstructionLimit) {
		t.Fatalf("a.lua: %v, want its own instruction limit", err)
	}
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	b := filepath.Join(dir, "b.lua")
	if err := os.Rename(a, b); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, func(ev Event) bool { return ev.Kind == Loaded && ev.Script == b })
	sb := mustScript(t, h, b)
	cctx2, cancel2 := context.WithTimeout(ctx, 3*time.Second)
	defer cancel2()
	if _, err := h.Call(cctx2, sb, "update"); !errors.Is(err, lua.ErrInstructionLimit) {
		t.Errorf("b.lua (a.lua renamed) loop: %v, want a.lua's ErrInstructionLimit (1000)", err)
	}
}

// Reload(nil) of a script that Watch last reloaded from a save of its source
// builds that source, whatever the files' times say (x.wasm's ahead: a clock
// skew, a build copied with cp -p): it re-read the stale x.wasm.
func TestReloadNilAfterWatchBuiltSource(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	ctx := context.Background()
	h := newTestHost(t, Config{})
	dir, src, mod, s := loadBuiltWat(t, h)
	later := time.Now().Add(time.Hour) // x.wasm's time is ahead (skew)
	if err := os.Chtimes(mod, later, later); err != nil {
		t.Fatal(err)
	}
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	writeFile(t, src, sourceText(".wat", 2))
	nextEvent(t, h, func(ev Event) bool { return ev.Script == mod && ev.Kind == Committed })
	if got := call(t, h, s, "version"); got != "2" {
		t.Fatalf("after Watch built x.wat: version %s, want 2", got)
	}
	reloadNilWants(t, h, s, "2", "after Watch made the save of x.wat live (x.wat was saved last)")
}

// The same with a source restored with an old time (cp -p, tar x, rsync -t).
func TestReloadNilAfterRestoredSource(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	ctx := context.Background()
	h := newTestHost(t, Config{})
	dir, src, _, s := loadBuiltWat(t, h)
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	backup := filepath.Join(t.TempDir(), "x.wat")
	writeFile(t, backup, sourceText(".wat", 2))
	old := time.Now().Add(-24 * time.Hour)
	if err := os.Chtimes(backup, old, old); err != nil {
		t.Fatal(err)
	}
	// cp -p backup/x.wat dir/x.wat
	data, _ := os.ReadFile(backup)
	writeFile(t, src+".tmp", string(data))
	if err := os.Chtimes(src+".tmp", old, old); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(src+".tmp", src); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, func(ev Event) bool { return ev.Script == s.Name() && (ev.Kind == Committed || ev.Kind == Rejected) })
	if got := call(t, h, s, "version"); got != "2" {
		t.Fatalf("after Watch built the restored x.wat: version %s, want 2", got)
	}
	reloadNilWants(t, h, s, "2", "after Watch made the restored x.wat live")
}

// Reload(nil) builds an x.wat edited while no Watch ran; a Watch begun after
// it does not reload the script again (its state would start over).
func TestReloadNilSourceThenWatchNoSecondReload(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	ctx := context.Background()
	h := newTestHost(t, Config{})
	dir, src, _, s := loadBuiltWat(t, h)
	time.Sleep(20 * time.Millisecond)
	writeFile(t, src, sourceText(".wat", 2))
	if err := h.Reload(ctx, s, nil); err != nil {
		t.Fatal(err)
	}
	call(t, h, s, "tick")
	call(t, h, s, "tick")
	for len(h.Events()) > 0 {
		<-h.Events()
	}
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(3 * time.Second)
	for {
		select {
		case ev := <-h.Events():
			if ev.Script == s.Name() {
				t.Errorf("Watch after Reload(nil) built x.wat: %v", ev)
			}
		case <-timeout:
			if got := call(t, h, s, "tick"); got != "3" {
				t.Errorf("tick = %s, want 3: state started over", got)
			}
			return
		}
	}
}

// A C script Watch loaded (x.c, no x.wasm: named x.wasm) is re-read from its
// source (it said ErrNoSource).
func TestReloadNilOfWatchLoadedC(t *testing.T) {
	testtool.Need(t, "clang")
	ctx := context.Background()
	dir := t.TempDir()
	h := newTestHost(t, Config{})
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "x.c")
	writeFile(t, src, sourceText(".c", 1))
	mod := filepath.Join(dir, "x.wasm")
	nextEvent(t, h, func(ev Event) bool { return ev.Script == mod && ev.Kind == Loaded })
	s := mustScript(t, h, mod)
	if err := h.Reload(ctx, s, nil); err != nil {
		t.Errorf("Reload(nil) of x.wasm, loaded by Watch from x.c: %v", err)
	}
}

// With x.c and x.wat beside x.wasm, Reload(nil) builds the one Watch last
// built the script from.
func TestReloadNilTwoSources(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	testtool.Need(t, "clang")
	ctx := context.Background()
	h := newTestHost(t, Config{})
	dir, src, _, s := loadBuiltWat(t, h)
	old := time.Now().Add(-time.Hour)
	csrc := filepath.Join(dir, "x.c")
	writeFile(t, csrc, sourceText(".c", 1))
	chtimes(t, csrc, old)
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	writeFile(t, src, sourceText(".wat", 2))
	nextEvent(t, h, func(ev Event) bool { return ev.Script == s.Name() && (ev.Kind == Committed || ev.Kind == Rejected) })
	if got := call(t, h, s, "version"); got != "2" {
		t.Fatalf("after Watch built x.wat: version %s", got)
	}
	reloadNilWants(t, h, s, "2", "with x.wat saved last (x.c older)")
}

func chtimes(t *testing.T, p string, at time.Time) {
	t.Helper()
	if err := os.Chtimes(p, at, at); err != nil {
		t.Fatal(err)
	}
}

// x.wasm gone (make clean, renamed away), its source x.wat saved: Reload(nil)
// builds x.wat, the one file there.
func TestReloadNilWasmGoneSourceThere(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	ctx := context.Background()
	h := newTestHost(t, Config{})
	_, src, mod, s := loadBuiltWat(t, h)
	if err := os.Remove(mod); err != nil {
		t.Fatal(err)
	}
	writeFile(t, src, sourceText(".wat", 2))
	if err := h.Reload(ctx, s, nil); err != nil {
		t.Errorf("Reload(nil) of x.wasm, removed, with x.wat saved since: %v", err)
	}
}

// Reload(nil) builds x.wat (v2), the user undoes the edit (x.wat back to v1's
// text), then a Watch begins, or the program's Reload(nil) comes: v1 runs
// again, not v2, which no file holds.
func TestReloadNilSourceThenUndo(t *testing.T) {
	for _, then := range []string{"Watch", "Reload(nil)"} {
		t.Run(then, func(t *testing.T) {
			testtool.Need(t, "wat2wasm")
			ctx := context.Background()
			h := newTestHost(t, Config{})
			dir, src, _, s := loadBuiltWat(t, h)
			time.Sleep(20 * time.Millisecond)
			writeFile(t, src, sourceText(".wat", 2))
			if err := h.Reload(ctx, s, nil); err != nil {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
			writeFile(t, src, sourceText(".wat", 1))
			if then == "Watch" {
				if err := h.Watch(ctx, dir); err != nil {
					t.Fatal(err)
				}
				time.Sleep(2 * time.Second)
			} else if err := h.Reload(ctx, s, nil); err != nil {
				t.Fatal(err)
			}
			if got := call(t, h, s, "version"); got != "1" {
				t.Errorf("after the undo of x.wat and %s: version %s, want 1 (x.wat and x.wasm both hold v1)", then, got)
			}
		})
	}
}

// A file renamed away and back keeps its options, and each Unloaded names
// the script that runs the file.
func TestWatchRenameBackAndForthKeepsOptions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	asked := 0
	h := newTestHost(t, Config{WatchOptions: func(string) *ScriptOptions { asked++; return nil }})
	contract := &Contract{Exports: []string{"update"}}
	a := filepath.Join(dir, "a.lua")
	b := filepath.Join(dir, "b.lua")
	writeFile(t, a, "return {update = function() return 1 end}")
	if _, err := h.Load(ctx, a, &ScriptOptions{Contract: contract}); err != nil {
		t.Fatal(err)
	}
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	os.Rename(a, b)
	t.Log(nextEvent(t, h, func(ev Event) bool { return ev.Kind == Unloaded }))
	os.Rename(b, a)
	t.Log(nextEvent(t, h, func(ev Event) bool { t.Log(ev); return ev.Kind == Unloaded }))
	writeFile(t, a, "return {other = function() return 1 end}")
	ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == a && (ev.Kind == Committed || ev.Kind == Rejected) })
	if !errors.Is(ev.Err, ErrContract) {
		t.Errorf("a.lua after a->b->a, save without update: %v", ev)
	}
	if asked != 0 {
		t.Errorf("WatchOptions asked %d", asked)
	}
}

// Two scripts whose files are one (a hard link): both moved to one name.
func TestWatchHardLinkBothMoved(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	h := newTestHost(t, Config{})
	a := filepath.Join(dir, "a.lua")
	b := filepath.Join(dir, "b.lua")
	c := filepath.Join(dir, "c.lua")
	writeFile(t, a, "return {update = function() return 1 end}")
	os.Link(a, b)
	if _, err := h.Load(ctx, a, &ScriptOptions{Contract: &Contract{Exports: []string{"update"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Load(ctx, b, nil); err != nil {
		t.Fatal(err)
	}
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	os.Remove(b)
	os.Rename(a, c)
	deadline := time.After(4 * time.Second)
	for {
		select {
		case ev := <-h.Events():
			t.Log(ev)
		case <-deadline:
			t.Log(h.Scripts())
			return
		}
	}
}

// Reload(nil) of a script x.wasm whose source is left empty (an editor's
// truncation before its write) does not build it: an empty .wat fails to
// build, and clang builds an empty .c into a module exporting nothing, which
// committed, every export and the state gone.
func TestReloadNilEmptySource(t *testing.T) {
	for _, ext := range []string{".wat", ".c"} {
		t.Run(ext, func(t *testing.T) {
			testtool.Need(t, sourceTools(ext)...)
			ctx := context.Background()
			h := newTestHost(t, Config{})
			_, src, _, s := loadBuilt(t, h, ext)
			call(t, h, s, "tick")
			writeFile(t, src, "") // truncated, its write to come
			if err := h.Reload(ctx, s, nil); err == nil {
				if _, err := h.Call(ctx, s, "version"); err != nil {
					t.Errorf("Reload(nil) with %s empty committed v%d; then version(): %v", ext, s.Version(), err)
				}
			}
		})
	}
}

// Watch ignores a save that leaves an x.c empty, as it does any empty file:
// clang's module of it exported nothing, and committed.
func TestWatchEmptyC(t *testing.T) {
	testtool.Need(t, "clang")
	ctx := context.Background()
	h := newTestHost(t, Config{})
	dir, src, _, s := loadBuilt(t, h, ".c")
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	for len(h.Events()) > 0 {
		<-h.Events()
	}
	writeFile(t, src, "")
	select {
	case ev := <-h.Events():
		time.Sleep(100 * time.Millisecond)
		_, cerr := h.Call(ctx, s, "version")
		t.Errorf("empty x.c under Watch: %v; then version(): %v", ev, cerr)
	case <-time.After(2 * time.Second):
	}
}

// A file renamed whose script was loaded with LoadBytes keeps its contract.
func TestWatchRenameLoadBytes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	h := newTestHost(t, Config{})
	a := filepath.Join(dir, "a.lua")
	b := filepath.Join(dir, "b.lua")
	code := "return {update = function() return 1 end}"
	writeFile(t, a, code)
	if _, err := h.LoadBytes(ctx, a, []byte(code), &ScriptOptions{Contract: &Contract{Exports: []string{"update"}}}); err != nil {
		t.Fatal(err)
	}
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	os.Rename(a, b)
	deadline := time.After(3 * time.Second)
loop:
	for {
		select {
		case ev := <-h.Events():
			t.Log(ev)
		case <-deadline:
			break loop
		}
	}
	writeFile(t, b, "return {other = function() return 1 end}")
	ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == b && (ev.Kind == Committed || ev.Kind == Rejected) })
	if !errors.Is(ev.Err, ErrContract) {
		t.Errorf("b.lua after rename of a LoadBytes a.lua: %v", ev)
	}
}

// A file renamed while its first load runs gets the options WatchOptions gave
// the old name, which is asked once.
func TestWatchRenameWhileFirstLoad(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var mu sync.Mutex
	var asked []string
	h := newTestHost(t, Config{WatchOptions: func(n string) *ScriptOptions {
		mu.Lock()
		asked = append(asked, filepath.Base(n))
		mu.Unlock()
		return &ScriptOptions{Contract: &Contract{Exports: []string{"update"}}}
	}})
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	a := filepath.Join(dir, "a.lua")
	b := filepath.Join(dir, "b.lua")
	writeFile(t, a, "local n = 0 for i = 1, 3e7 do n = n + i end\nreturn {update = function() return n end}")
	time.Sleep(150 * time.Millisecond)
	os.Rename(a, b)
	deadline := time.After(8 * time.Second)
	for {
		select {
		case ev := <-h.Events():
			t.Log(ev)
		case <-deadline:
			mu.Lock()
			t.Log(asked)
			mu.Unlock()
			for _, s := range h.Scripts() {
				t.Log(s.Name())
			}
			return
		}
	}
}

// reloadNilWants reloads s with nil bytes, which must succeed, and checks
// that its version() then answers want; after says in what case.
func reloadNilWants(t *testing.T, h *Host, s *Script, want, after string) {
	t.Helper()
	if err := h.Reload(context.Background(), s, nil); err != nil {
		t.Fatalf("Reload(nil) %s: %v", after, err)
	}
	if got := call(t, h, s, "version"); got != want {
		t.Errorf("Reload(nil) %s: version %s, want %s", after, got, want)
	}
}
