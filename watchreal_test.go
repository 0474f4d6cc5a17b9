package hotscript

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/guest"
	"github.com/hotscript/hotscript/internal/testtool"
	"github.com/hotscript/hotscript/lua"
	"github.com/hotscript/hotscript/watch"
)

func TestLoadFileAndReloadFromDisk(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	ctx := context.Background()
	h := newTestHost(t, Config{})
	dir := t.TempDir()
	src := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("internal", "guest", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		file   string
		v1, v2 []byte
	}{
		{"counter.wat", src("counter_v1.wat"), src("counter_v2.wat")},
		{"counter.wasm", src("counter_v1.wasm"), src("counter_v2.wasm")},
		{"counter.lua", []byte("return { version = function() return 1 end }"), []byte("return { version = function() return 2 end }")},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			if err := os.WriteFile(path, tt.v1, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := h.Load(ctx, path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tt.v2, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := h.Reload(ctx, s, nil); err != nil { // nil: re-read the file
				t.Fatal(err)
			}
			if got := call(t, h, s, "version"); got != "2" {
				t.Errorf("version() = %s after reloading from disk", got)
			}
		})
	}
	bad := filepath.Join(dir, "bad.wat")
	os.WriteFile(bad, []byte("(module (func (export \"f\") i32.add))"), 0o600)
	_, err := h.Load(ctx, bad, nil)
	var be *watch.BuildError
	if !errors.Is(err, ErrBuild) || !errors.As(err, &be) || be.Path != bad ||
		!strings.Contains(be.Log, bad+":1:") || strings.Contains(err.Error(), "hotscript-wat-") ||
		!strings.HasPrefix(err.Error(), "hotscript: load "+bad+": build failed: ") || strings.Count(err.Error(), "hotscript:") != 1 {
		t.Errorf("Load of an invalid .wat = %v, want ErrBuild with wat2wasm's message naming %s:1", err, bad)
	}
}

func TestWatchRealEngines(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := newTestHost(t, Config{})
	dir := t.TempDir()
	counter := filepath.Join(dir, "counter.wat")
	v1, _ := os.ReadFile(filepath.Join("internal", "guest", "counter_v1.wat"))
	v2, _ := os.ReadFile(filepath.Join("internal", "guest", "counter_v2.wat"))
	if err := os.WriteFile(counter, v1, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := h.Load(ctx, counter, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}

	os.WriteFile(counter, v2, 0o600)
	if ev := nextEvent(t, h, is(Committed, counter)); ev.To != 2 || call(t, h, s, "version") != "2" {
		t.Errorf("saving v2 of a .wat: event %v, version() %s", ev, call(t, h, s, "version"))
	}

	os.WriteFile(counter, []byte("(module (func (export \"version\") (result i32) i64.const 1))"), 0o600)
	ev := nextEvent(t, h, is(Rejected, counter))
	if !errors.Is(ev.Err, ErrBuild) || !strings.Contains(ev.Err.Error(), "type mismatch") || call(t, h, s, "version") != "2" {
		t.Errorf("broken save: %v; version() %s", ev.Err, call(t, h, s, "version"))
	}

	lua := filepath.Join(dir, "sub", "ai.lua")
	os.MkdirAll(filepath.Dir(lua), 0o700)
	os.WriteFile(lua, []byte("return { think = function() return 42 end }"), 0o600)
	nextEvent(t, h, is(Loaded, lua))
	if got := call(t, h, mustScript(t, h, lua), "think"); got != "42" {
		t.Errorf("think() = %s", got)
	}

	os.Remove(counter)
	nextEvent(t, h, is(Removed, counter))
	if call(t, h, s, "version") != "2" {
		t.Error("a removed script stopped answering")
	}
}

// TestWatchCSource: saving x.c reloads the script loaded from x.wasm with the module
// clang built.
func TestWatchCSource(t *testing.T) {
	testtool.Need(t, "clang", "wasm-ld")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := newTestHost(t, Config{})
	dir := t.TempDir()
	src := func(n string) []byte {
		return []byte("__attribute__((export_name(\"version\"))) int version(void) { return " + n + "; }\n")
	}
	cfile, wfile := filepath.Join(dir, "v.c"), filepath.Join(dir, "v.wasm")
	os.WriteFile(cfile, src("1"), 0o600)
	out, err := exec.Command("clang", "--target=wasm32", "-O2", "-nostdlib", "-Wl,--no-entry",
		"-Wl,--export-dynamic", "-o", wfile, cfile).CombinedOutput()
	if err != nil {
		t.Fatalf("clang: %v: %s", err, out)
	}
	s, err := h.Load(ctx, wfile, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(cfile, src("2"), 0o600)
	nextEvent(t, h, func(ev Event) bool { return ev.Kind == Committed && ev.Script == wfile })
	if got := call(t, h, s, "version"); got != "2" {
		t.Errorf("version() = %s after saving v.c", got)
	}

	// Deleting v.c leaves v.wasm, the script's file: no Removed event (the
	// marker's Loaded comes first); deleting v.wasm then is one.
	os.Remove(cfile)
	marker := filepath.Join(dir, "marker.lua")
	os.WriteFile(marker, []byte("return {}"), 0o600)
	if ev := nextEvent(t, h, func(ev Event) bool {
		return ev.Script == wfile || ev.Kind == Loaded && ev.Script == marker
	}); ev.Script != marker {
		t.Errorf("deleting v.c, with v.wasm still there: %v", ev)
	}
	os.Remove(wfile)
	nextEvent(t, h, func(ev Event) bool { return ev.Kind == Removed && ev.Script == wfile })
}

// TestWatchStandaloneCSource: a .c without a .wasm next to it, saved while watched,
// is loaded as the .wasm it builds; later saves reload that script, and a broken
// save is rejected while the last good version runs.
func TestWatchStandaloneCSource(t *testing.T) {
	testtool.Need(t, "clang", "wasm-ld")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := newTestHost(t, Config{})
	dir := t.TempDir()
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	cfile, name := filepath.Join(dir, "x.c"), filepath.Join(dir, "x.wasm")
	save := func(n string) {
		src := "__attribute__((export_name(\"version\"))) int version(void) { return " + n + "; }\n"
		if err := os.WriteFile(cfile, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	is := func(kind EventKind) func(Event) bool {
		return func(ev Event) bool { return ev.Kind == kind && ev.Script == name }
	}
	save("1")
	nextEvent(t, h, is(Loaded))
	s := mustScript(t, h, name)
	save("2")
	if ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == name }); ev.Kind != Committed || ev.From != 1 || ev.To != 2 {
		t.Fatalf("second save: %v, want committed v1 -> v2", ev)
	}
	if got := call(t, h, s, "version"); got != "2" {
		t.Errorf("version() = %s after the second save", got)
	}
	if err := os.WriteFile(cfile, []byte("int version(void) { return 3 }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ev := nextEvent(t, h, is(Rejected))
	if ev.From != 2 || !errors.Is(ev.Err, ErrBuild) || call(t, h, s, "version") != "2" {
		t.Errorf("broken save: %v, want rejected with v2 running", ev)
	}
	// x.c is the script's only file: deleting it is a Removed event.
	os.Remove(cfile)
	if ev := nextEvent(t, h, is(Removed)); ev.From != 2 || call(t, h, s, "version") != "2" {
		t.Errorf("deleting x.c: %v, want removed with v2 running", ev)
	}
}

// The Unload of a renamed file's old name waits for that script's call in
// progress; it runs off the watcher, which goes on loading other saves.
func TestWatchRenameOfBusyScript(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Config{Limits: Limits{MaxExecutionTime: time.Hour}}) // a budget: the call's context stops it
	dir := t.TempDir()
	a := filepath.Join(dir, "a.lua")
	if err := os.WriteFile(a, []byte("local M = {} function M.spin() while true do end end return M"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := h.Load(ctx, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	callCtx, stop := context.WithCancel(ctx)
	defer stop()
	go h.Call(callCtx, s, "spin")
	time.Sleep(50 * time.Millisecond) // let the call start
	b := filepath.Join(dir, "b.lua")
	if err := os.Rename(a, b); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, func(ev Event) bool { return ev.Kind == Loaded && ev.Script == b })
	c := filepath.Join(dir, "c.lua")
	if err := os.WriteFile(c, []byte("return {}"), 0o600); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, func(ev Event) bool { return ev.Kind == Loaded && ev.Script == c })
	stop()
	nextEvent(t, h, func(ev Event) bool { return ev.Kind == Unloaded && ev.Script == a })
}

// A file renamed within the watched directory loads under its new name with the
// options of the script it was: a Contract the program gave it still holds
// (it was dropped: a save without the export committed). A new file gets what
// Config.WatchOptions gives its name.
func TestWatchRenameKeepsOptions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	contract := &Contract{Exports: []string{"update"}}
	asked := make(chan string, 4)
	h := newTestHost(t, Config{WatchOptions: func(name string) *ScriptOptions {
		asked <- name
		if filepath.Base(name) == "free.lua" {
			return nil
		}
		return &ScriptOptions{Contract: contract}
	}})
	const ok, broken = "return {update = function() return 1 end}", "return {other = function() return 2 end}"
	write := func(name, text string) string { t.Helper(); return writeIn(t, dir, name, text) }
	enemy := write("enemy.lua", ok)
	if _, err := h.Load(ctx, enemy, &ScriptOptions{Contract: contract, Limits: &Limits{MaxInstructions: 1000}}); err != nil {
		t.Fatal(err)
	}
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	boss := filepath.Join(dir, "boss.lua")
	if err := os.Rename(enemy, boss); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, func(ev Event) bool { return ev.Kind == Loaded && ev.Script == boss })
	if ev := nextEvent(t, h, func(ev Event) bool { return ev.Kind == Unloaded }); ev.Script != enemy || ev.MovedTo != boss {
		t.Errorf("after the rename: %v, want %s unloaded, moved to %s", ev, enemy, boss)
	}
	select {
	case name := <-asked:
		t.Errorf("WatchOptions asked for %s, a renamed file", name)
	default:
	}
	write("boss.lua", broken)
	if ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == boss }); ev.Kind != Rejected || !errors.Is(ev.Err, ErrContract) {
		t.Errorf("a save of the renamed file without update: %v, want rejected by its contract", ev)
	}
	s := mustScript(t, h, boss)
	if _, err := h.Call(ctx, s, "update"); err != nil {
		t.Errorf("update after the rejected save: %v", err)
	}
	write("boss.lua", "return {update = function() while true do end end}")
	nextEvent(t, h, func(ev Event) bool { return ev.Script == boss && ev.Kind == Committed })
	callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := h.Call(callCtx, s, "update"); !errors.Is(err, lua.ErrInstructionLimit) {
		t.Errorf("a loop in the renamed script: %v, want its Limits' ErrInstructionLimit", err)
	}

	minion := write("minion.lua", broken)
	if ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == minion }); ev.Kind != Rejected || !errors.Is(ev.Err, ErrContract) {
		t.Errorf("a new file without update: %v, want rejected by WatchOptions' contract", ev)
	}
	free := write("free.lua", broken)
	if ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == free }); ev.Kind != Loaded {
		t.Errorf("a new file WatchOptions gives no options: %v, want loaded", ev)
	}
	for _, want := range []string{minion, free} {
		select {
		case got := <-asked:
			if got != want {
				t.Errorf("WatchOptions asked for %s, want %s", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("WatchOptions not asked for %s", want)
		}
	}
}

// A file renamed, then saved while the load of its new name runs: the save
// stops that load, and the load of the newer bytes, which no longer match the
// old name's file, still unloads the script of the old name, so that its code
// does not run on under two names. So does the load of a fix, if that save
// was broken: the broken one leaves the old name running (its only working
// copy) until then. So too for a file renamed over another script's, which
// that script's reload takes.
func TestWatchRenameThenSaveWhileLoading(t *testing.T) {
	for _, tt := range []struct{ broken, over bool }{{false, false}, {true, false}, {true, true}} {
		broken := tt.broken
		ctx := context.Background()
		dir := t.TempDir()
		a, b := filepath.Join(dir, "a.lua"), filepath.Join(dir, "b.lua")
		entered := make(chan struct{})
		var once sync.Once
		var armed atomic.Bool // once Watch runs: b.lua's own first load is not held
		gate := HostFunc{Module: "test", Name: "gate", Func: func(ctx context.Context, c HostCall) error {
			if c.Script() != b || !armed.Load() {
				return nil
			}
			held := false
			once.Do(func() { held = true })
			if held { // the first load of b.lua: until a newer save stops it
				close(entered)
				<-ctx.Done()
				return ctx.Err()
			}
			return nil
		}}
		h := newTestHost(t, Config{Funcs: []HostFunc{gate}})
		src := func(v int) []byte {
			return []byte(fmt.Sprintf("test.gate()\nreturn { version = function() return %d end }", v))
		}
		if err := os.WriteFile(a, src(1), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Load(ctx, a, nil); err != nil {
			t.Fatal(err)
		}
		if tt.over { // renamed over another script's file: a reload of it
			if err := os.WriteFile(b, src(0), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := h.Load(ctx, b, nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := h.Watch(ctx, dir); err != nil {
			t.Fatal(err)
		}
		armed.Store(true)
		if err := os.Rename(a, b); err != nil {
			t.Fatal(err)
		}
		select {
		case <-entered:
		case <-time.After(10 * time.Second):
			t.Fatal("the load of the renamed file did not start")
		}
		want := "2"
		if broken {
			if err := os.WriteFile(b, []byte("test.gate()\nreturn { version = function() return 2 end"), 0o600); err != nil {
				t.Fatal(err)
			}
			nextEvent(t, h, func(ev Event) bool { return ev.Kind == Rejected && ev.Script == b })
			if _, ok := h.Script(a); !ok {
				t.Fatal("a.lua's script was unloaded though its renamed file did not load")
			}
			want = "3"
		}
		if err := os.WriteFile(b, src(map[bool]int{false: 2, true: 3}[broken]), 0o600); err != nil {
			t.Fatal(err)
		}
		nextEvent(t, h, func(ev Event) bool { return ev.Kind == Unloaded && ev.Script == a })
		s, ok := h.Script(b)
		if !ok || call(t, h, s, "version") != want {
			t.Errorf("%+v: b.lua loaded %v, want its last save running", tt, ok)
		}
		if _, ok := h.Script(a); ok {
			t.Errorf("%+v: a.lua's script still runs", tt)
		}
	}
}

// A .wat saved after its .wasm (edited under an earlier Watch, which does not
// write the .wasm) is built and runs as Watch begins: of the two, the one
// saved last runs. A .wat older than its .wasm is left alone.
func TestWatchBuildsSourceSavedAfterItsWasm(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	ctx := context.Background()
	for _, sourceNewer := range []bool{true, false} {
		dir := t.TempDir()
		wat, wasmFile := filepath.Join(dir, "counter.wat"), filepath.Join(dir, "counter.wasm")
		v2, err := os.ReadFile(filepath.Join("internal", "guest", "counter_v2.wat"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(wasmFile, guest.Bytes("counter_v1"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(wat, v2, 0o600); err != nil {
			t.Fatal(err)
		}
		older := time.Now().Add(-time.Hour)
		stale := map[bool]string{true: wasmFile, false: wat}[sourceNewer]
		if err := os.Chtimes(stale, older, older); err != nil {
			t.Fatal(err)
		}
		h := newTestHost(t, Config{})
		s, err := h.Load(ctx, wasmFile, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Watch(ctx, dir); err != nil {
			t.Fatal(err)
		}
		if sourceNewer {
			nextEvent(t, h, func(ev Event) bool { return ev.Kind == Committed })
			if got := call(t, h, s, "version"); got != "2" {
				t.Errorf("counter.wat saved after counter.wasm: version() = %s, want 2", got)
			}
			continue
		}
		// The catch-up is done once a save made now is reported.
		other := filepath.Join(dir, "other.lua")
		if err := os.WriteFile(other, []byte("return {}"), 0o600); err != nil {
			t.Fatal(err)
		}
		nextEvent(t, h, func(ev Event) bool { return ev.Script == other })
		if got := call(t, h, s, "version"); got != "1" || s.Version() != 1 {
			t.Errorf("counter.wat older than counter.wasm: version() = %s at v%d, want 1 at v1", got, s.Version())
		}
	}
}

// After Unload, a watched script's file comes back with its next activity,
// even one that leaves it as it was (renamed away and back, which keeps its
// bytes and time): the Host tells the watcher it no longer has the file. It
// stayed unloaded: the watcher, never told, saw nothing new.
func TestWatchUnloadedFileComesBack(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Config{})
	dir := t.TempDir()
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	a := filepath.Join(dir, "a.lua")
	if err := os.WriteFile(a, []byte("return { v = 1 }"), 0o600); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, func(ev Event) bool { return ev.Script == a && ev.Kind == Loaded })
	s, ok := h.Script(a)
	if !ok {
		t.Fatal("a.lua not loaded")
	}
	if err := h.Unload(ctx, s); err != nil {
		t.Fatal(err)
	}
	away := filepath.Join(dir, "a.txt") // not a script: the watcher sees a.lua go and come back
	if err := os.Rename(a, away); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(away, a); err != nil {
		t.Fatal(err)
	}
	ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == a && ev.Kind != Unloaded })
	if ev.Kind != Loaded {
		t.Errorf("after the rename back: %v, want a.lua loaded again", ev)
	}
}

// plugSrc is a plugin whose spin runs past the 10,000 instructions
// plugLimits allow.
const plugSrc = "local M = {}\nfunction M.spin() for i = 1, 1e6 do end return 1 end\nreturn M"

var plugLimits = &ScriptOptions{Limits: &Limits{MaxInstructions: 10_000}}

// watchPlug writes plugSrc to dir/plug.lua, has h watch dir, and returns the
// plugin's path.
func watchPlug(t *testing.T, ctx context.Context, h *Host, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "plug.lua")
	if err := os.WriteFile(p, []byte(plugSrc), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	return p
}

// The file of a script the program unloaded comes back under Watch with the
// options the program loaded it with (helper-202: a plugin loaded with limits
// came back with none, and a loop in it could no longer be stopped): on a save,
// renamed within the directory (helper-205), and as the .wat source of a
// .wasm (helper-205). A Load of the file by the program, with options of its
// own, replaces them.
func TestWatchUnloadedFileKeepsOptions(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Config{WatchOptions: func(string) *ScriptOptions { return &ScriptOptions{} }})
	dir := t.TempDir()
	wasmFile := filepath.Join(dir, "counter.wasm") // there before Watch: not loaded by it
	code, err := os.ReadFile(filepath.Join("internal", "guest", "counter_v1.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wasmFile, code, 0o600); err != nil {
		t.Fatal(err)
	}
	p, src := watchPlug(t, ctx, h, dir), plugSrc
	strict := plugLimits
	limited := func(what string, s *Script) bool {
		t.Helper()
		out, err := h.Call(ctx, s, "spin")
		switch {
		case errors.Is(err, lua.ErrInstructionLimit):
			return true
		case err != nil || string(out) != "1":
			t.Fatalf("%s: spin = %s, %v", what, out, err)
		}
		return false
	}
	unload := func(name string) {
		t.Helper()
		s, ok := h.Script(name)
		if !ok {
			t.Fatalf("%s not loaded", name)
		}
		if err := h.Unload(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	back := func(name string) *Script {
		t.Helper()
		nextEvent(t, h, is(Loaded, name))
		s, ok := h.Script(name)
		if !ok {
			t.Fatalf("%s did not come back", name)
		}
		return s
	}
	if _, err := h.Load(ctx, p, strict); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, is(Loaded, p))
	for round := range 2 {
		unload(p)
		src += " "
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		if !limited(fmt.Sprintf("saved after Unload, round %d", round), back(p)) {
			t.Errorf("round %d: the script back from Unload has no limits", round)
		}
	}
	unload(p)
	q := filepath.Join(dir, "plug-old.lua")
	if err := os.Rename(p, q); err != nil {
		t.Fatal(err)
	}
	if !limited("renamed after Unload", back(q)) {
		t.Errorf("%s, the unloaded script's file renamed, has no limits", q)
	}
	unload(q)
	if _, err := h.Load(ctx, q, nil); err != nil { // the program's own options
		t.Fatal(err)
	}
	nextEvent(t, h, is(Loaded, q))
	unload(q)
	src += " "
	if err := os.WriteFile(q, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if limited("after a Load without limits", back(q)) {
		t.Errorf("the program loaded %s without limits, unloaded it, and it came back with the earlier ones", q)
	}

	t.Run("wat source", func(t *testing.T) {
		testtool.Need(t, "wat2wasm")
		wat := filepath.Join(dir, "counter.wat")
		text, err := os.ReadFile(filepath.Join("internal", "guest", "counter_v1.wat"))
		if err != nil {
			t.Fatal(err)
		}
		budget := &ScriptOptions{Limits: &Limits{MaxInstructions: 12_345}}
		if _, err := h.Load(ctx, wasmFile, budget); err != nil {
			t.Fatal(err)
		}
		nextEvent(t, h, is(Loaded, wasmFile))
		unload(wasmFile)
		if err := os.WriteFile(wat, text, 0o600); err != nil {
			t.Fatal(err)
		}
		ev := nextEvent(t, h, func(ev Event) bool { return ev.Kind == Loaded && (ev.Script == wat || ev.Script == wasmFile) })
		s, ok := h.Script(ev.Script)
		if !ok {
			t.Fatalf("%s not loaded", ev.Script)
		}
		if s.opts.Limits == nil || s.opts.Limits.MaxInstructions != 12_345 {
			t.Errorf("%s, the source of the unloaded %s, loaded with %+v, want its options", ev.Script, wasmFile, s.opts)
		}
	})
}

// A file saved after Load read it but before Watch began is reloaded when Watch
// begins, as its save would have been: the watcher, not yet running, never saw
// it. A file touched in between (new time, same bytes) is not reloaded, and one
// left alone is not read again.
func TestWatchCatchesUpWithSavesBeforeIt(t *testing.T) {
	guestFile := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("internal", "guest", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	lua1, lua2 := []byte("return { version = function() return 1 end }"), []byte("return { version = function() return 2 end }")
	t.Run("lua and wasm", func(t *testing.T) {
		testCatchUp(t, []catchUpFile{
			{"saved.lua", lua1, lua2, "save"},
			{"saved.wasm", guestFile("counter_v1.wasm"), guestFile("counter_v2.wasm"), "save"},
			{"touched.wasm", guestFile("counter_v1.wasm"), nil, "touch"},
			{"touched.lua", lua1, nil, "touch"},
		})
	})
	t.Run("wat", func(t *testing.T) {
		testtool.Need(t, "wat2wasm")
		testCatchUp(t, []catchUpFile{
			{"saved.wat", guestFile("counter_v1.wat"), guestFile("counter_v2.wat"), "save"},
			{"touched.wat", guestFile("counter_v1.wat"), nil, "touch"},
		})
	})
}

type catchUpFile struct {
	name    string
	v1, v2  []byte
	changes string // "save", "touch" or ""
}

func testCatchUp(t *testing.T, files []catchUpFile) {
	ctx := context.Background()
	h := newTestHost(t, Config{})
	dir := t.TempDir()
	files = append(files, catchUpFile{"left.lua", []byte("return { version = function() return 1 end }"), nil, ""})
	scripts := map[string]*Script{}
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if err := os.WriteFile(path, f.v1, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := h.Load(ctx, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		scripts[f.name] = s
		later := time.Now().Add(time.Second)
		switch f.changes {
		case "save":
			err = os.WriteFile(path, f.v2, 0o600)
		case "touch":
			err = os.Chtimes(path, later, later)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	waiting := map[string]bool{} // reloads commit in any order
	for _, f := range files {
		if f.changes == "save" {
			waiting[scripts[f.name].Name()] = true
		}
	}
	for len(waiting) > 0 {
		ev := nextEvent(t, h, func(ev Event) bool { return waiting[ev.Script] && ev.Kind == Committed })
		delete(waiting, ev.Script)
	}
	for _, f := range files {
		if s := scripts[f.name]; f.changes == "save" {
			if got := call(t, h, s, "version"); got != "2" {
				t.Errorf("%s: version() = %s after Watch began, want 2", f.name, got)
			}
		}
	}
	// Watch handles what it finds in order, then the watcher's events: a save
	// of the file left alone, handled last, shows the touched ones were
	// handled (or skipped) before it.
	last := scripts["left.lua"]
	if err := os.WriteFile(last.Name(), []byte("return { version = function() return 3 end }"), 0o600); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, func(ev Event) bool { return ev.Script == last.Name() && ev.Kind == Committed })
	for _, f := range files {
		if v := scripts[f.name].Version(); f.changes == "touch" && v != 1 {
			t.Errorf("%s at v%d, want 1: its bytes did not change", f.name, v)
		}
	}
}

// handledBefore writes a new script into dir, which Watch watches, and waits for
// its load: Watch handles what it finds and what its watcher reports in order,
// so what it had to handle before is handled.
func handledBefore(t *testing.T, h *Host, dir string) {
	t.Helper()
	marker := filepath.Join(dir, "marker.lua")
	if err := os.WriteFile(marker, []byte("return {}"), 0o600); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, func(ev Event) bool { return ev.Script == marker && ev.Kind == Loaded })
}

// savedUnderWatch loads a.lua of a new directory at version 1, watches the
// directory until stop, and saves version 2 there, which commits.
func savedUnderWatch(t *testing.T) (h *Host, s *Script, dir string, version func(int) []byte, stop func()) {
	ctx := context.Background()
	h = newTestHost(t, Config{})
	dir = t.TempDir()
	path := filepath.Join(dir, "a.lua")
	version = func(v int) []byte { return fmt.Appendf(nil, "return { version = function() return %d end }", v) }
	if err := os.WriteFile(path, version(1), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := h.Load(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, stop := context.WithCancel(ctx)
	if err := h.Watch(first, dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, version(2), 0o600); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, func(ev Event) bool { return ev.Script == path && ev.Kind == Committed })
	return h, s, dir, version, stop
}

// A second Watch of a directory does not replay a save the first one handled:
// here it would undo the Revert that followed it.
func TestSecondWatchDoesNotReplaySaves(t *testing.T) {
	ctx := context.Background()
	h, s, dir, _, stop := savedUnderWatch(t)
	if err := h.Revert(ctx, s); err != nil {
		t.Fatal(err)
	}
	stop()
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	handledBefore(t, h, dir) // whatever the second Watch found
	if got := call(t, h, s, "version"); got != "1" {
		t.Errorf("version() = %s after the second Watch, want 1 (reverted)", got)
	}
}

// Saves made while Watch begins are each staged once, none lost, broken ones
// too: the catch-up or the watcher sees each, and the watcher's report of a
// save the catch-up handled is dropped.
func TestWatchSavesAsItBeginsStagedOnce(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	staged := map[string]int{}
	// Two events a script, unread until the saves.
	h := hostWithLuaFuncConfig(t, Config{EventBuffer: 1024}, "staged", func(ctx context.Context, c *lua.Call) ([]any, error) {
		if Staging(ctx) {
			mu.Lock()
			staged[c.Script]++
			mu.Unlock()
		}
		return nil, nil
	})
	dir := t.TempDir()
	version := func(v int) []byte {
		return fmt.Appendf(nil, "host.staged()\nreturn { version = function() return %d end }", v)
	}
	const n = 100
	var paths []string
	for i := range n {
		path := filepath.Join(dir, fmt.Sprintf("s%02d.lua", i))
		if err := os.WriteFile(path, version(1), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Load(ctx, path, nil); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	broken := func(i int) bool { return i%2 == 1 }
	saved := make(chan error, 1)
	go func() {
		var err error
		for i, path := range paths {
			code := version(2)
			if broken(i) {
				code = []byte("host.staged()\nerror('broken save')")
			}
			err = errors.Join(err, os.WriteFile(path, code, 0o600))
		}
		saved <- err
	}()
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if err := <-saved; err != nil {
		t.Fatal(err)
	}
	waiting := map[string]bool{}
	for _, path := range paths {
		waiting[path] = true
	}
	for len(waiting) > 0 {
		ev := nextEvent(t, h, func(ev Event) bool {
			return waiting[ev.Script] && (ev.Kind == Committed || ev.Kind == Rejected)
		})
		delete(waiting, ev.Script)
	}
	handledBefore(t, h, dir) // anything still queued
	mu.Lock()
	defer mu.Unlock()
	for i, path := range paths {
		if staged[path] != 1 {
			t.Errorf("%s: one save (broken: %v) staged %d times, want 1", filepath.Base(path), broken(i), staged[path])
		}
	}
}

// A save made between two Watches of a directory is caught up by the second.
func TestSaveBetweenWatchesCaughtUp(t *testing.T) {
	ctx := context.Background()
	h, s, dir, version, stop := savedUnderWatch(t)
	path := s.Name()
	stop()
	if err := os.WriteFile(path, version(3), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, func(ev Event) bool { return ev.Script == path && ev.Kind == Committed })
	if got := call(t, h, s, "version"); got != "3" {
		t.Errorf("version() = %s after the second Watch, want 3", got)
	}
}

// A save whose reload the end of its Watch cut off (staged, waiting for Apply)
// is caught up by the next Watch; and a save of the bytes a program's own
// pending reload brings still reloads, so that it is not lost when the
// program's request is then cancelled.
func TestSavesNotLostToCutOffReloads(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Config{Swap: SwapAtApply})
	dir := t.TempDir()
	path := filepath.Join(dir, "a.lua")
	version := func(v int) []byte { return fmt.Appendf(nil, "return { version = function() return %d end }", v) }
	if err := os.WriteFile(path, version(1), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := h.Load(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	applyUntil := func(kind EventKind) Event {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			h.Apply(ctx)
			select {
			case ev := <-h.Events():
				if ev.Script == path && ev.Kind == kind {
					return ev
				}
			default:
			}
		}
		t.Fatalf("no %v event of a.lua within 10 s", kind)
		return Event{}
	}

	first, stop := context.WithCancel(ctx)
	if err := h.Watch(first, dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, version(2), 0o600); err != nil {
		t.Fatal(err)
	}
	staged := func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.ready != nil }
	for !staged() { // staged, waiting for an Apply that does not come
		time.Sleep(time.Millisecond)
	}
	stop()
	if ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == path && ev.Kind != Loaded }); ev.Kind != Rejected {
		t.Fatalf("the staged reload of a stopped Watch: %v, want it rejected", ev)
	}
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	applyUntil(Committed)
	if got := call(t, h, s, "version"); got != "2" {
		t.Fatalf("version() = %s after the next Watch, want 2 (the cut-off save)", got)
	}

	program, cancel := context.WithCancel(ctx)
	p := h.ReloadAsync(program, s, version(3))
	if err := os.WriteFile(path, version(3), 0o600); err != nil {
		t.Fatal(err)
	}
	<-p.Done() // superseded by the save's reload
	cancel()
	applyUntil(Committed)
	if got := call(t, h, s, "version"); got != "3" {
		t.Errorf("version() = %s, want 3 (the save of the program's bytes)", got)
	}
}

// A broken save a Watch rejected is not staged again by the next Watch (the
// Host saw it); and after the catch-up's reload of a save failed, touching the
// file retries it (the watcher's report of a touch is not taken for the
// catch-up's save reported again).
func TestCatchUpNeitherRepeatsNorSwallowsSaves(t *testing.T) {
	ctx := context.Background()
	var staged, failing atomic.Int64
	h := hostWithLuaFunc(t, "env", func(ctx context.Context, _ *lua.Call) ([]any, error) {
		if Staging(ctx) {
			staged.Add(1)
		}
		if failing.Load() != 0 {
			return nil, errors.New("not ready")
		}
		return nil, nil
	})
	dir := t.TempDir()
	path := filepath.Join(dir, "a.lua")
	version := func(v int) []byte {
		return fmt.Appendf(nil, "host.env()\nreturn { version = function() return %d end }", v)
	}
	if err := os.WriteFile(path, version(1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Load(ctx, path, nil); err != nil {
		t.Fatal(err)
	}
	events := func(want EventKind) {
		t.Helper()
		if ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == path && ev.Kind != Loaded }); ev.Kind != want {
			t.Fatalf("event %v, want %v", ev, want)
		}
	}

	first, stop := context.WithCancel(ctx)
	if err := h.Watch(first, dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("host.env()\nerror('broken save')"), 0o600); err != nil {
		t.Fatal(err)
	}
	events(Rejected)
	stop()
	staged.Store(0)
	time.Sleep(100 * time.Millisecond) // the first Watch's goroutine ends
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	handledBefore(t, h, dir) // what the second Watch caught up
	if n := staged.Load(); n != 0 {
		t.Errorf("the broken save was staged %d more times by the next Watch, want 0", n)
	}

	// A transient failure of the catch-up's reload, then a touch to retry.
	h2 := hostWithLuaFunc(t, "env", func(ctx context.Context, _ *lua.Call) ([]any, error) {
		if failing.Load() != 0 && Staging(ctx) {
			return nil, errors.New("not ready")
		}
		return nil, nil
	})
	dir2 := t.TempDir()
	path2 := filepath.Join(dir2, "a.lua")
	if err := os.WriteFile(path2, version(1), 0o600); err != nil {
		t.Fatal(err)
	}
	s2, err := h2.Load(ctx, path2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path2, version(2), 0o600); err != nil {
		t.Fatal(err)
	}
	failing.Store(1)
	if err := h2.Watch(ctx, dir2); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, h2, func(ev Event) bool { return ev.Script == path2 && ev.Kind != Loaded }); ev.Kind != Rejected {
		t.Fatalf("catch-up while the host function fails: %v, want rejected", ev)
	}
	failing.Store(0)
	later := time.Now().Add(time.Second)
	if err := os.Chtimes(path2, later, later); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, h2, func(ev Event) bool { return ev.Script == path2 }); ev.Kind != Committed {
		t.Fatalf("touch after the failed catch-up: %v, want committed", ev)
	}
	if got := call(t, h2, s2, "version"); got != "2" {
		t.Errorf("version() = %s, want 2", got)
	}
}

// A .wat saved while the catch-up builds the save before it is the watcher's
// to report, not taken for the save the catch-up read, even with the same size
// and time (a coarse clock, cp -p): its text differs.
func TestWatSaveDuringCatchUpBuild(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	ctx := context.Background()
	real, err := exec.LookPath("wat2wasm")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	slow := filepath.Join(bin, "slow") // while it exists, the next build waits a second
	wrapper := "#!/bin/sh\nif [ -e " + slow + " ]; then rm -f " + slow + "; touch " + slow + ".started; sleep 1; fi\nexec " + real + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "wat2wasm"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	guestFile := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("internal", "guest", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	h := newTestHost(t, Config{})
	dir := t.TempDir()
	path := filepath.Join(dir, "c.wat")
	if err := os.WriteFile(path, guestFile("counter_v1.wat"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := h.Load(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, guestFile("counter_v2.wat"), 0o600); err != nil { // between Load and Watch
		t.Fatal(err)
	}
	v2, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(slow, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	for !exists(slow + ".started") {
		time.Sleep(time.Millisecond)
	}
	v3 := guestFile("counter_v3.wat")
	if int64(len(v3)) != v2.Size() {
		t.Fatalf("counter_v3.wat has %d bytes, v2 %d: the test wants them alike", len(v3), v2.Size())
	}
	if err := os.WriteFile(path, v3, 0o600); err != nil { // during the catch-up's build
		t.Fatal(err)
	}
	if err := os.Chtimes(path, v2.ModTime(), v2.ModTime()); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if got := call(t, h, s, "version"); got == "3" {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("version() = %s 10 s after the save of v3, want 3", got)
		}
	}
}

// A broken .wat save one Watch rejected is not handled again by the next.
func TestWatchDoesNotRepeatARejectedWatSave(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	ctx := context.Background()
	h := newTestHost(t, Config{})
	dir := t.TempDir()
	path := filepath.Join(dir, "c.wat")
	v1, err := os.ReadFile(filepath.Join("internal", "guest", "counter_v1.wat"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, v1, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Load(ctx, path, nil); err != nil {
		t.Fatal(err)
	}
	first, stop := context.WithCancel(ctx)
	if err := h.Watch(first, dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("(module (func $broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, func(ev Event) bool { return ev.Script == path && ev.Kind == Rejected })
	stop()
	time.Sleep(100 * time.Millisecond) // the first Watch's goroutine ends
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "b.lua") // handled after what the second Watch caught up
	if err := os.WriteFile(other, []byte("return {}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == path || ev.Script == other }); ev.Script == path {
		t.Errorf("the second Watch handled the rejected save again: %v", ev)
	}
}

// A source without a .wasm beside it, renamed, runs under its new name only:
// the new name loads and the old one is unloaded. A C module's debug
// information names its source, so x.c and y.c build to different bytes: Watch
// knows the move by the source's text. x.wasm ran on beside y.wasm.
func TestWatchRenameSource(t *testing.T) {
	tests := []struct {
		ext      string
		tools    []string
		code     string
		from, to string // the scripts' names, in dir
	}{
		{".c", []string{"clang", "wasm-ld"}, "__attribute__((export_name(\"version\"))) int version(void) { return 7; }\n", "x.wasm", "y.wasm"},
		{".wat", []string{"wat2wasm"}, "(module (func (export \"version\") (result i32) i32.const 7))\n", "x.wat", "y.wat"},
	}
	for _, tt := range tests {
		t.Run(tt.ext, func(t *testing.T) {
			testtool.Need(t, tt.tools...)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			h := newTestHost(t, Config{})
			dir := t.TempDir()
			if err := h.Watch(ctx, dir); err != nil {
				t.Fatal(err)
			}
			from, to := filepath.Join(dir, tt.from), filepath.Join(dir, tt.to)
			x, y := filepath.Join(dir, "x"+tt.ext), filepath.Join(dir, "y"+tt.ext)
			if err := os.WriteFile(x, []byte(tt.code), 0o600); err != nil {
				t.Fatal(err)
			}
			nextEvent(t, h, func(ev Event) bool { return ev.Kind == Loaded && ev.Script == from })
			if err := os.Rename(x, y); err != nil {
				t.Fatal(err)
			}
			nextEvent(t, h, func(ev Event) bool { return ev.Kind == Loaded && ev.Script == to })
			nextEvent(t, h, func(ev Event) bool { return ev.Kind == Unloaded && ev.Script == from })
			waitFor(t, tt.from+"'s script gone", func() bool { _, ok := h.Script(from); return !ok })
			if got := h.Scripts(); len(got) != 1 || got[0].Name() != to || call(t, h, got[0], "version") != "7" {
				t.Errorf("after renaming x%s to y%s: scripts %v, want only %s answering 7", tt.ext, tt.ext, scriptNames(got), tt.to)
			}
		})
	}
}

// A file renamed whose build takes longer than renameWindow is still known
// as moved: the window is between the watcher's events as they fired, not as
// the Host handled them, the new name's after its build (helper-168: a .c whose
// clang took over 2 s on a loaded machine ran on under both names).
func TestWatchRenameSlowBuild(t *testing.T) {
	shortRenameWindow(t, 200*time.Millisecond)
	slow := slowWat2wasm(t, 600*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := newTestHost(t, Config{})
	dir := t.TempDir()
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	x, y := filepath.Join(dir, "x.wat"), filepath.Join(dir, "y.wat")
	writeFile(t, x, "(module (func (export \"version\") (result i32) i32.const 7))\n")
	nextEvent(t, h, func(ev Event) bool { return ev.Kind == Loaded && ev.Script == x })
	writeFile(t, slow, "") // builds take 0.6 s more from now on: past the window
	if err := os.Rename(x, y); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, func(ev Event) bool { return ev.Kind == Loaded && ev.Script == y })
	nextEvent(t, h, func(ev Event) bool { return ev.Kind == Unloaded && ev.Script == x })
}

// scriptNames returns the names of scripts.
func scriptNames(scripts []*Script) []string {
	out := make([]string, len(scripts))
	for i, s := range scripts {
		out[i] = s.Name()
	}
	return out
}

// The directory moved away and back after a save of a .wasm's source: the
// watcher reports both files, and neither reloads. The .wasm, which the save
// superseded, ran for a while (version 1 again), and the state started over
// twice. A save after that is the next version.
func TestWatchDirRestoredAfterSourceSave(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := newTestHost(t, Config{})
	root := t.TempDir()
	dir := filepath.Join(root, "scripts")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	guest := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("internal", "guest", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	src, mod := filepath.Join(dir, "x.wat"), filepath.Join(dir, "x.wasm")
	for path, code := range map[string][]byte{src: guest("counter_v1.wat"), mod: guest("counter_v1.wasm")} {
		if err := os.WriteFile(path, code, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, err := h.Load(ctx, mod, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	reloaded := func(ev Event) bool { return ev.Script == mod && (ev.Kind == Committed || ev.Kind == Rejected) }
	save := func(name string, want int) {
		t.Helper()
		if err := os.WriteFile(src, guest(name), 0o600); err != nil {
			t.Fatal(err)
		}
		if ev := nextEvent(t, h, reloaded); ev.Kind != Committed || ev.From != want-1 || ev.To != want {
			t.Fatalf("saving %s: %v, want committed v%d -> v%d", name, ev, want-1, want)
		}
		if got := call(t, h, s, "version"); got != fmt.Sprint(want) {
			t.Fatalf("saving %s: version() = %s", name, got)
		}
	}
	save("counter_v2.wat", 2)
	away := filepath.Join(root, "scripts.away")
	if err := os.Rename(dir, away); err != nil {
		t.Fatal(err)
	}
	back := func(ev Event) bool { return reloaded(ev) || ev.Kind == WatchResumed }
	if ev := nextEvent(t, h, func(ev Event) bool { return back(ev) || ev.Kind == WatchError }); ev.Kind != WatchError || !errors.Is(ev.Err, watch.ErrDirRemoved) {
		t.Fatalf("moving the directory away: %v, want a WatchError wrapping ErrDirRemoved", ev)
	}
	if err := os.Rename(away, dir); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, h, back); ev.Kind != WatchResumed {
		t.Fatalf("moving the directory back: %v, want it resumed and nothing reloaded", ev)
	}
	save("counter_v3.wat", 3)
}

// A script that Watch loaded itself (a file saved while it watched) is caught
// up like one the program loaded: a save made while no Watch ran reloads it
// when the next Watch begins, even one made as soon as the script's Loaded
// event came (Watch knew what it read from the file only after it).
func TestSaveBetweenWatchesOfAWatchLoadedScript(t *testing.T) {
	tests := []struct {
		name, file string
		tools      []string
		text       func(v int) string
	}{
		{"lua", "new.lua", nil, func(v int) string { return fmt.Sprintf("return { version = function() return %d end }", v) }},
		{"wat", "new.wat", []string{"wat2wasm"}, func(v int) string { return sourceText(".wat", v) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testtool.Need(t, tt.tools...)
			ctx := context.Background()
			h := newTestHost(t, Config{})
			dir := t.TempDir()
			path := filepath.Join(dir, tt.file)
			first, stop := context.WithCancel(ctx)
			if err := h.Watch(first, dir); err != nil {
				t.Fatal(err)
			}
			writeFile(t, path, tt.text(1))
			nextEvent(t, h, func(ev Event) bool { return ev.Script == path && ev.Kind == Loaded })
			s, _ := h.Script(path)
			if s.readSum.Load() == 0 { // else a save now is lost, once in 15 runs for a .wat
				t.Error("as its Loaded event comes, the Host does not know what it read from the file")
			}
			stop()
			writeFile(t, path, tt.text(2))
			if err := h.Watch(ctx, dir); err != nil {
				t.Fatal(err)
			}
			nextEvent(t, h, func(ev Event) bool { return ev.Script == path && ev.Kind == Committed })
			if got := call(t, h, s, "version"); got != "2" {
				t.Errorf("version() = %s after the second Watch, want 2", got)
			}
		})
	}
}

// A save whose reload the program's own reload superseded (its bytes, asked
// while the save was staged) is not replayed by the next Watch: the program's
// version, newer than the save, keeps running, whatever later requests do. If
// the program's request is cut off instead, the save is caught up.
func TestSaveSupersededByProgramNotReplayed(t *testing.T) {
	luaText := func(v int) string { return fmt.Sprintf("return { version = function() return %d end }", v) }
	tests := []struct {
		name  string
		tools []string
		// load loads the script as v1 and returns it, the file the test
		// saves, its text as v2, and the bytes of v3.
		load func(t *testing.T, h *Host) (s *Script, save, text string, v3 []byte)
	}{
		{"lua", nil, func(t *testing.T, h *Host) (*Script, string, string, []byte) {
			path := filepath.Join(t.TempDir(), "a.lua")
			writeFile(t, path, luaText(1))
			s, err := h.Load(context.Background(), path, nil)
			if err != nil {
				t.Fatal(err)
			}
			return s, path, luaText(2), []byte(luaText(3))
		}},
		{"wat source", []string{"wat2wasm"}, func(t *testing.T, h *Host) (*Script, string, string, []byte) {
			_, src, _, s := loadBuiltWat(t, h)
			other := filepath.Join(t.TempDir(), "x.wat")
			writeFile(t, other, sourceText(".wat", 3))
			return s, src, sourceText(".wat", 2), buildSource(t, other)
		}},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			cancelProgram bool // the program's request is cut off
			laterCutOff   bool // a later request of the program's, after it committed, is
		}{{false, false}, {true, false}, {false, true}} {
			cancelProgram := c.cancelProgram
			t.Run(fmt.Sprintf("%s, program cancelled %v, a later request cut off %v", tt.name, cancelProgram, c.laterCutOff), func(t *testing.T) {
				testtool.Need(t, tt.tools...)
				ctx := context.Background()
				h := newTestHost(t, Config{Swap: SwapAtApply})
				s, save, text, v3 := tt.load(t, h)
				dir := filepath.Dir(save)
				first, stop := context.WithCancel(ctx)
				if err := h.Watch(first, dir); err != nil {
					t.Fatal(err)
				}
				writeFile(t, save, text)
				waitFor(t, "the save staged", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.ready != nil })
				program, cancel := context.WithCancel(ctx)
				defer cancel()
				p := h.ReloadAsync(program, s, v3)
				if ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == s.Name() && ev.Kind != Loaded }); ev.Kind != Superseded {
					t.Fatalf("the save's reload: %v, want it superseded", ev)
				}
				want := "3"
				if cancelProgram {
					cancel()
					want = "2"
				}
				for !resolved(p) {
					h.Apply(ctx)
					time.Sleep(time.Millisecond)
				}
				if err := p.Err(); (err != nil) != cancelProgram {
					t.Fatalf("the program's reload: %v", err)
				}
				if c.laterCutOff {
					later, cancel := context.WithCancel(ctx)
					p := h.ReloadAsync(later, s, v3)
					waitFor(t, "the later request staged", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.ready != nil })
					cancel()
					<-p.Done()
				}
				stop()
				time.Sleep(100 * time.Millisecond) // the first Watch's goroutine ends
				if err := h.Watch(ctx, dir); err != nil {
					t.Fatal(err)
				}
				for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
					h.Apply(ctx) // whatever the catch-up staged commits
				}
				if got := call(t, h, s, "version"); got != want {
					t.Errorf("version() = %s after the next Watch, want %s", got, want)
				}
			})
		}
	}
}

// A script loaded through one path to a directory and watched through another
// (a link to the directory, or the directory a link names) is the script of its
// file's saves: they reload it, and no second script loads; renamed, it is
// unloaded once its new name has loaded.
func TestWatchDirThroughAnotherPath(t *testing.T) {
	for _, tt := range []struct{ name, load, watch string }{
		{"load through the link, watch it", "link", "link"},
		{"load the directory, watch the link", "real", "link"},
		{"load through the link, watch the directory", "link", "real"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			h := newTestHost(t, Config{})
			base := t.TempDir()
			dirs := map[string]string{"real": filepath.Join(base, "real"), "link": filepath.Join(base, "scripts")}
			if err := os.Mkdir(dirs["real"], 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(dirs["real"], dirs["link"]); err != nil {
				t.Fatal(err)
			}
			version := func(v int) string { return fmt.Sprintf("return { version = function() return %d end }", v) }
			writeFile(t, filepath.Join(dirs["real"], "x.lua"), version(1))
			s, err := h.Load(ctx, filepath.Join(dirs[tt.load], "x.lua"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := h.Watch(ctx, dirs[tt.watch]); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dirs["real"], "x.lua"), version(2))
			nextEvent(t, h, func(ev Event) bool { return ev.Script == s.Name() && ev.Kind == Committed })
			if got := call(t, h, s, "version"); got != "2" {
				t.Errorf("version() = %s after the save, want 2", got)
			}
			if n := len(h.Scripts()); n != 1 {
				t.Errorf("%d scripts after the save, want 1", n)
			}
			// Renamed: the script of the old name goes once the new one loads.
			if err := os.Rename(filepath.Join(dirs["real"], "x.lua"), filepath.Join(dirs["real"], "z.lua")); err != nil {
				t.Fatal(err)
			}
			nextEvent(t, h, func(ev Event) bool { return ev.Script == s.Name() && ev.Kind == Unloaded })
			if names := scriptNames(h.Scripts()); len(names) != 1 || filepath.Base(names[0]) != "z.lua" {
				t.Errorf("scripts after the rename: %q, want z.lua alone", names)
			}
		})
	}
}

// The catch-up's save, found through the path a script was loaded from, is
// known when the watcher reports it through another path to the directory (a
// link to it): it is not reloaded twice.
func TestCaughtUpThroughAnotherPath(t *testing.T) {
	base := t.TempDir()
	real, link := filepath.Join(base, "real"), filepath.Join(base, "scripts")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(real, "x.lua"), "return {}")
	info, err := os.Stat(filepath.Join(real, "x.lua"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, caught, reported string }{
		{"loaded through the link, watched directly", link, real},
		{"loaded directly, watched through the link", real, link},
		{"alike", real, real},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wd := &watchedDir{caught: map[string]caughtFile{}}
			wd.remember(filepath.Join(tt.caught, "x.lua"), caughtFile{size: info.Size(), mod: info.ModTime(), sum: 7})
			if !wd.caughtUp(filepath.Join(tt.reported, "x.lua"), 7) {
				t.Error("the watcher's report of the caught-up save is not known for it")
			}
			if wd.caughtUp(filepath.Join(tt.reported, "x.lua"), 7) {
				t.Error("known twice: the catch-up's record is not forgotten")
			}
		})
	}
}

// A Watch save commits, the program reverts, and a Reload(nil) of the file,
// unchanged, is cut off as it waits for a staging turn: the watcher's report of
// the file as Watch last saw it (a directory moved away and back) reloads
// nothing, whatever the Revert made run since (helper-171: the cut-off
// Reload(nil) reopened Watch's mark, and the save was replayed over the
// Revert). A report before the Reload(nil) read the file (the sleep too short)
// passes as well.
func TestCutOffReloadNilKeepsSeenSave(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	h, e := newFakeHost(t, Config{Stagings: 1})
	h.turnMax = time.Minute
	wd := &watchedDir{h: h, dir: dir, abs: dir}
	path := filepath.Join(dir, "a.wasm")
	writeFile(t, path, "v1")
	s, err := h.Load(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	other := mustLoad(t, h, "other.wasm", "v1", nil)

	writeFile(t, path, "v2")
	info, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	saved := watch.Event{Path: path, Output: path, Op: watch.Changed, Data: []byte("v2"), Info: info}
	wd.handle(ctx, saved)
	if ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == path && ev.Kind != Loaded }); ev.Kind != Committed {
		t.Fatalf("save: %v", ev)
	}
	if err := h.Revert(ctx, s); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, func(ev Event) bool { return ev.Script == path && ev.Kind == Reverted })

	// Hold the only staging turn with another script's gated staging.
	n := e.stages.Load()
	op := h.ReloadAsync(ctx, other, []byte("v2;gate=g"))
	waitFor(t, "other's staging", func() bool { return e.stages.Load() > n })
	rctx, cancel := context.WithCancel(ctx)
	p := h.ReloadAsync(rctx, s, nil)
	time.Sleep(100 * time.Millisecond) // the Reload(nil) read the file and waits for a turn
	cancel()
	<-p.Done()
	if !errors.Is(p.Err(), context.Canceled) {
		t.Fatalf("Reload(nil): %v, want cut off", p.Err())
	}
	e.open("g")
	<-op.Done()
	nextEvent(t, h, func(ev Event) bool { return ev.Script == path && ev.Kind == Rejected })

	// The watcher reports the file as Watch last saw it: same file, time, bytes.
	wd.handle(ctx, saved)
	timeout := time.After(time.Second)
wait:
	for {
		select {
		case ev := <-h.Events():
			if ev.Script == path {
				t.Errorf("report of the file as Watch last saw it after a cut-off Reload(nil): %v; want nothing", ev)
				break wait
			}
		case <-timeout:
			break wait
		}
	}
	if v := callInt(t, h, s, "version"); v != 1 {
		t.Errorf("version %d, want 1: the Revert was undone", v)
	}
}

// a.lua renamed over z.lua while no Watch ran: the next Watch's catch-up
// reports a.lua deleted and z.lua saved with its file, and a.lua's script is
// unloaded as moved, also when the build of another script's save (m.wat)
// comes between the two (helper-171: the catch-up's events were timed as
// they were handled, the window measured across that build, and a.lua's code
// ran on under both names).
func TestCatchUpRenameAcrossSlowBuild(t *testing.T) {
	for _, slowBuild := range []bool{false, true} {
		t.Run(fmt.Sprint("slow build between: ", slowBuild), func(t *testing.T) {
			shortRenameWindow(t, 200*time.Millisecond)
			slow := slowWat2wasm(t, 600*time.Millisecond)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			h := newTestHost(t, Config{})
			dir := t.TempDir()
			a, m, z := filepath.Join(dir, "a.lua"), filepath.Join(dir, "m.wat"), filepath.Join(dir, "z.lua")
			writeFile(t, a, "return { name = function() return 'a' end }")
			writeFile(t, z, "return { name = function() return 'z' end }")
			writeFile(t, m, "(module (func (export \"version\") (result i32) i32.const 1))\n")
			for _, p := range []string{a, m, z} {
				if _, err := h.Load(ctx, p, nil); err != nil {
					t.Fatal(err)
				}
			}
			// While no Watch runs: m.wat edited, a.lua renamed over z.lua.
			writeFile(t, m, "(module (func (export \"version\") (result i32) i32.const 2))\n")
			if err := os.Rename(a, z); err != nil {
				t.Fatal(err)
			}
			if slowBuild {
				writeFile(t, slow, "")
			}
			if err := h.Watch(ctx, dir); err != nil {
				t.Fatal(err)
			}
			nextEvent(t, h, func(ev Event) bool { return ev.Script == z && ev.Kind == Committed })
			time.Sleep(500 * time.Millisecond)
			if _, ok := h.Script(a); ok {
				t.Errorf("a.lua still loaded: its code runs under two names")
			}
		})
	}
}

// x.wasm with x.wat beside: a Watch builds a save of x.wat (v2), which
// commits; the program reverts; a Reload(nil) builds x.wat (still v2) and is
// cut off as it waits for a staging turn. The next Watch's catch-up does not
// replay v2 over the Revert: the save was seen (helper-171: the cut-off
// Reload(nil) reopened it).
func TestCutOffReloadNilSourceNotReplayed(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	release := make(chan struct{})
	h := hostWithLuaFuncConfig(t, Config{Stagings: 1}, "block", func(ctx context.Context, c *lua.Call) ([]any, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil, nil
	})
	h.turnMax = time.Minute
	ctx := context.Background()
	dir, src, mod, s := loadBuiltWat(t, h)
	other := mustLoad(t, h, "other.lua", "return {}", nil)
	w1, stop1 := context.WithCancel(ctx)
	if err := h.Watch(w1, dir); err != nil {
		t.Fatal(err)
	}
	handledBefore(t, h, dir)
	writeFile(t, src, sourceText(".wat", 2))
	if ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == mod && ev.Kind != Loaded }); ev.Kind != Committed {
		t.Fatalf("save of v2: %v", ev)
	}
	stop1()
	if err := h.Revert(ctx, s); err != nil {
		t.Fatal(err)
	}
	// A wat2wasm that says when it has built, from now on.
	built := filepath.Join(t.TempDir(), "built")
	wat2wasmWrapper(t, func(real string) string { return fmt.Sprintf("%s \"$@\"\nrc=$?\n: > %s\nexit $rc\n", real, built) })
	op := h.ReloadAsync(ctx, other, []byte("host.block() return {}")) // holds the only staging turn
	rctx, cancel := context.WithCancel(ctx)
	p := h.ReloadAsync(rctx, s, nil)
	waitFile(t, built) // the Reload(nil) built x.wat and waits for a turn
	cancel()
	if <-p.Done(); !errors.Is(p.Err(), context.Canceled) {
		t.Fatalf("Reload(nil): %v, want cut off", p.Err())
	}
	close(release)
	<-op.Done()
	w2, stop2 := context.WithCancel(ctx)
	defer stop2()
	if err := h.Watch(w2, dir); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(dir, "marker2.lua") // handled after the catch-up
	writeFile(t, marker, "return {}")
	nextEvent(t, h, func(ev Event) bool { return ev.Script == marker && ev.Kind == Loaded })
	if v := callInt(t, h, s, "version"); v != 1 {
		t.Errorf("version %d after the next Watch began, want 1: the save the program reverted was replayed", v)
	}
}

// The options of an unloaded script go with its file renamed, not with a
// file that only has its identity (helper-208: a new file given the deleted
// one's inode, as ext4 does at once, loaded with the unloaded plugin's
// limits): the file must have the time and size it had.
func TestWatchUnloadedOptionsNotByIdentityAlone(t *testing.T) {
	h := newTestHost(t, Config{})
	dir := t.TempDir()
	wd := &watchedDir{h: h, dir: dir, abs: dir}
	file := filepath.Join(dir, "plug.lua")
	writeFile(t, file, "return {}")
	info, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	opts := ScriptOptions{Limits: &Limits{MaxInstructions: 10_000}}
	gone := filepath.Join(dir, "gone.lua") // the kept entry's name, no file there now
	keep := func() { wd.off = map[string]offScript{canonPath(gone): {opts: opts, file: info}} }
	ev := watch.Event{Path: file, Output: file, Op: watch.Changed}
	keep()
	if got, ok := wd.offOptions(file, ev); !ok || got.Limits == nil {
		t.Errorf("the kept file under another name, as it was: options %+v, %v; want the unloaded script's", got, ok)
	}
	keep()
	later := info.ModTime().Add(time.Minute)
	if err := os.Chtimes(file, later, later); err != nil {
		t.Fatal(err)
	}
	if got, ok := wd.offOptions(file, ev); ok {
		t.Errorf("a file with the kept one's identity but another time: options %+v; want none", got)
	}
}

// TestWatchUnloadOnLoadedKeepsOptions: a program loads a plugin with limits
// under Watch and unloads it on its Loaded event; the file's next save brings
// it back with its limits, as Unload's doc says (helper-231: the load, ending
// after its event, dropped what the unload kept, in about 1 round in 30
// under -race).
func TestWatchUnloadOnLoadedKeepsOptions(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := newTestHost(t, Config{EventBuffer: 1 << 16})
	dir := t.TempDir()
	p, src := watchPlug(t, ctx, h, dir), plugSrc
	strict := plugLimits
	for i := range 200 {
		done := make(chan error, 1)
		go func() { _, err := h.Load(ctx, p, strict); done <- err }()
		nextEvent(t, h, is(Loaded, p))
		s, _ := h.Script(p)
		if err := h.Unload(ctx, s); err != nil { // on its Loaded event
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		src += " "
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		nextEvent(t, h, is(Loaded, p))
		back, ok := h.Script(p)
		if !ok {
			t.Fatal("not back")
		}
		out, err := h.Call(ctx, back, "spin")
		if !errors.Is(err, lua.ErrInstructionLimit) {
			t.Fatalf("round %d: the script back from Unload has no limits: spin = %s, %v", i, out, err)
		}
		if err := h.Unload(ctx, back); err != nil {
			t.Fatal(err)
		}
	}
}
