package hotscript

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/guest"
	"github.com/hotscript/hotscript/internal/testtool"
	"github.com/hotscript/hotscript/lua"
	"github.com/hotscript/hotscript/wasm"
)

func TestRevert(t *testing.T) {
	h, _ := newFakeHost(t, Config{History: 3, Migration: MigrateExports})
	ex := ";exports=get_state() (i32, i32)|set_state(i32, i32)"
	s := mustLoad(t, h, "s.wasm", "v1"+ex, nil)
	ctx := context.Background()
	for v := 2; v <= 4; v++ {
		callInt(t, h, s, "inc")
		if err := h.Reload(ctx, s, []byte(fmt.Sprintf("v%d%s", v, ex))); err != nil {
			t.Fatal(err)
		}
	}
	// History 3 keeps v2, v3, v4.
	for _, want := range []int{3, 2} {
		from := s.Version()
		if err := h.Revert(ctx, s); err != nil {
			t.Fatalf("Revert to %d: %v", want, err)
		}
		ev := lastEvent(t, h)
		if ev.Kind != Reverted || ev.From != from || ev.To != want || s.Version() != want || callInt(t, h, s, "version") != want {
			t.Errorf("after revert: event %+v, Version %d, want v%d", ev, s.Version(), want)
		}
		if got := callInt(t, h, s, "get"); got != 3 {
			t.Errorf("state after revert = %d, want 3 (carried by MigrateExports)", got)
		}
	}
	err := h.Revert(ctx, s)
	if !errors.Is(err, ErrNoHistory) || !strings.Contains(err.Error(), "s.wasm") {
		t.Errorf("Revert past the history = %v, want ErrNoHistory naming the script", err)
	}
	// A reload after reverts gets a number above every earlier one.
	if err := h.Reload(ctx, s, []byte("v9"+ex)); err != nil || s.Version() != 5 {
		t.Errorf("reload after revert: %v, Version %d, want 5", err, s.Version())
	}
	if st := h.Stats(s); st.Reverts != 2 || st.Versions != 2 || st.FailedReloads != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestCloseResolvesEverything(t *testing.T) {
	for _, mode := range []SwapMode{SwapImmediate, SwapAtApply} {
		t.Run(fmt.Sprint("mode ", mode), func(t *testing.T) {
			h, e := newFakeHost(t, Config{Swap: mode})
			s := mustLoad(t, h, "s.wasm", "v1", nil)
			s2 := mustLoad(t, h, "t.wasm", "v1", nil)
			ctx := context.Background()
			superseded := h.ReloadAsync(ctx, s, []byte("v2;gate=never"))
			waitFor(t, "staging", func() bool { return e.stages.Load() == 1 })
			// A newer request stops the staging of the older one, and stages.
			staging := h.ReloadAsync(ctx, s, []byte("v3;gate=never"))
			waitFor(t, "the newer one staging", func() bool { return e.stages.Load() == 2 })
			var other *Pending
			if mode == SwapAtApply {
				other = h.ReloadAsync(ctx, s2, []byte("v2"))
				waitFor(t, "staged", readyStaged(s2))
			}
			if err := h.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if !errors.Is(superseded.Err(), ErrSuperseded) {
				t.Errorf("superseded while staging: %v, want ErrSuperseded", superseded.Err())
			}
			for _, p := range []*Pending{staging, other} {
				if p == nil {
					continue
				}
				select {
				case <-p.Done():
				default:
					t.Fatal("Close returned with a reload unresolved")
				}
				if p.Err() == nil {
					t.Error("a reload committed during Close")
				}
			}
			if !errors.Is(staging.Err(), ErrClosed) {
				t.Errorf("staging: %v, want ErrClosed", staging.Err())
			}
			if !e.closed.Load() {
				t.Error("owned engine not closed")
			}
			for range h.Events() { // closed by Close: the range ends
			}
			if _, err := h.Call(ctx, s, "version"); !errors.Is(err, ErrClosed) {
				t.Errorf("Call after Close = %v", err)
			}
			if err := h.Reload(ctx, s, []byte("v5")); !errors.Is(err, ErrClosed) {
				t.Errorf("Reload after Close = %v", err)
			}
			if _, err := h.LoadBytes(ctx, "u.wasm", []byte("v1"), nil); !errors.Is(err, ErrClosed) {
				t.Errorf("Load after Close = %v", err)
			}
			if err := h.Close(ctx); err != nil {
				t.Errorf("second Close = %v", err)
			}
		})
	}
}

func TestEventsDropWhenFull(t *testing.T) {
	h, _ := newFakeHost(t, Config{EventBuffer: 2})
	s := mustLoad(t, h, "s.wasm", "v1", nil) // event 1
	for v := 2; v <= 5; v++ {
		if err := h.Reload(context.Background(), s, []byte(fmt.Sprintf("v%d", v))); err != nil {
			t.Fatal(err)
		}
	}
	if got := h.DroppedEvents(); got != 3 {
		t.Errorf("DroppedEvents = %d, want 3 (5 events, buffer 2)", got)
	}
	if ev := <-h.Events(); ev.Kind != Loaded {
		t.Errorf("first event %v, want loaded", ev.Kind)
	}
}

// TestLoadErrorsNameTheScriptOnce: an engine's error, which names the script
// and the load, is not wrapped in the Host's naming them again; one of the
// Host's own is.
func TestLoadErrorsNameTheScriptOnce(t *testing.T) {
	h := newTestHost(t, Config{})
	for _, tt := range []struct{ name, code, want string }{
		{"junk.wasm", "junk", "wasm: load junk.wasm: "},
		{"bad.lua", "return {", "lua: load bad.lua: "},
		{"bad.py", "x", "hotscript: load bad.py: "},
	} {
		_, err := h.LoadBytes(context.Background(), tt.name, []byte(tt.code), nil)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) || strings.Count(err.Error(), "load "+tt.name) != 1 {
			t.Errorf("LoadBytes(%s) = %v, want an error starting %q, naming the load once", tt.name, err, tt.want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	h, _ := newFakeHost(t, Config{})
	mustLoad(t, h, "a.wasm", "v1", nil)
	tests := []struct {
		name, file, code string
		opts             *ScriptOptions
		want             error
	}{
		{"duplicate", "a.wasm", "v1", nil, ErrExists},
		{"unknown kind", "a.py", "v1", nil, ErrInvalid},
		{"bad contract", "b.wasm", "v1", &ScriptOptions{Contract: &Contract{Exports: []string{"f(i33)"}}}, ErrInvalid},
		{"contract on first load", "c.wasm", "v1", &ScriptOptions{Contract: &Contract{Exports: []string{"update"}}}, ErrContract},
		{"engine error", "d.wasm", "junk", nil, errFake},
		{"negative time limit", "e.lua", "v1", &ScriptOptions{Limits: &Limits{MaxExecutionTime: -time.Second}}, ErrInvalid},
	}
	<-h.Events() // a.wasm's Loaded
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.LoadBytes(context.Background(), tt.file, []byte(tt.code), tt.opts)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.file) {
				t.Errorf("LoadBytes = %v, want %v naming %s", err, tt.want, tt.file)
			}
			select {
			case ev := <-h.Events():
				if tt.want == ErrExists || ev.Kind != Rejected || ev.Script != tt.file || ev.From != 0 || ev.To != 0 ||
					!errors.Is(ev.Err, tt.want) || ev.Err.Error() != err.Error() {
					t.Errorf("event %+v; want rejected v0 with the error Load returned (none for ErrExists)", ev)
				}
			default:
				if tt.want != ErrExists {
					t.Error("no event for a failed load")
				}
			}
		})
	}
	missing := filepath.Join(t.TempDir(), "missing.lua")
	if _, err := h.Load(context.Background(), missing, nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v", err)
	}
	if ev := <-h.Events(); ev.Kind != Rejected || ev.Script != missing || !errors.Is(ev.Err, fs.ErrNotExist) {
		t.Errorf("event for a missing file %+v", ev)
	} else if got, want := ev.String(), missing+": rejected: hotscript: load "+missing; !strings.HasPrefix(got, want) {
		t.Errorf("String() = %q, want it to start %q", got, want)
	}
	if _, ok := h.Script("d.wasm"); ok {
		t.Error("a failed load left its name reserved")
	}
	if err := h.Reload(context.Background(), mustScript(t, h, "a.wasm"), nil); !errors.Is(err, ErrNoSource) {
		t.Errorf("Reload(nil) of a script loaded from bytes = %v, want ErrNoSource", err)
	}
	// Nothing was built: no version was refused.
	if ev := <-h.Events(); ev.Kind != Rejected || ev.To != 0 || !strings.HasPrefix(ev.String(), "a.wasm: rejected, v1 keeps running: ") {
		t.Errorf("event %+v (%s), want rejected with no version To, v1 running", ev, ev.String())
	}
}

// TestLoadOneFileOnce: a file a script comes from is not loaded again under
// another spelling of its path (relative and absolute, through a link to its
// directory, the name Watch gave it): ErrExists naming that script, as two
// scripts of one file would run apart, a save reloading only one
// (helper-194). Once that script is unloaded, the file loads.
func TestLoadOneFileOnce(t *testing.T) {
	ctx := context.Background()
	h, _ := newFakeHost(t, Config{})
	root := t.TempDir()
	dir := filepath.Join(root, "scripts")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	writeFile(t, filepath.Join(dir, "enemy.lua"), "v1")
	s, err := h.Load(ctx, "enemy.lua", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, other := range []string{filepath.Join(dir, "enemy.lua"), "./enemy.lua", filepath.Join(link, "enemy.lua")} {
		_, err := h.Load(ctx, other, nil)
		if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "enemy.lua comes from that file") {
			t.Errorf("Load(%s) = %v, want ErrExists naming enemy.lua", other, err)
		}
		if _, err := h.LoadBytes(ctx, other, []byte("v1"), nil); !errors.Is(err, ErrExists) {
			t.Errorf("LoadBytes(%s) = %v, want ErrExists", other, err)
		}
	}
	// Watch loads a new file under its path in dir; the program's Load of it
	// by a relative path is refused, and finds it by the name the error gives.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := h.Watch(wctx, dir); err != nil {
		t.Fatal(err)
	}
	boss := filepath.Join(dir, "boss.lua")
	writeFile(t, boss, "v1")
	nextEvent(t, h, is(Loaded, boss))
	if _, err := h.Load(ctx, "boss.lua", nil); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), boss+" comes from that file") {
		t.Errorf("Load(boss.lua) after Watch loaded it = %v, want ErrExists naming %s", err, boss)
	}
	if err := h.Unload(ctx, s); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Load(ctx, filepath.Join(link, "enemy.lua"), nil); err != nil {
		t.Errorf("Load through the link once enemy.lua is unloaded: %v", err)
	}
}

// TestLoadOneFileInProgress: a load of a file that another load is loading
// under another spelling is refused as well (helper-196: both loads passed,
// two scripts of one file); Watch's load of a new file the program is loading
// waits for it and reloads nothing (same bytes): one script.
func TestLoadOneFileInProgress(t *testing.T) {
	ctx := context.Background()
	h, e := newFakeHost(t, Config{})
	dir := t.TempDir()
	t.Chdir(dir)
	writeFile(t, filepath.Join(dir, "a.lua"), "v1;loadgate=a.lua")
	errc := make(chan error, 1)
	go func() { _, err := h.Load(ctx, "a.lua", nil); errc <- err }()
	waitFor(t, "a.lua's load in the engine", func() bool { return e.loads.Load() == 1 })
	second := make(chan error, 1)
	go func() { _, err := h.Load(ctx, filepath.Join(dir, "a.lua"), nil); second <- err }()
	select {
	case err := <-second:
		if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "a.lua comes from that file") {
			t.Errorf("a second load while the first runs: %v, want ErrExists naming a.lua", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("a second load while the first runs waits: it went on to the engine")
	}
	e.open("a.lua")
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if t.Failed() {
		return
	}

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := h.Watch(wctx, dir); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "b.lua"), "v1;loadgate=b.lua")
	waitFor(t, "Watch's load of b.lua in the engine", func() bool { return e.loads.Load() == 2 })
	go func() { _, err := h.Load(ctx, "b.lua", nil); errc <- err }()
	time.Sleep(50 * time.Millisecond) // the program's Load, refused or waiting
	e.open("b.lua")
	err := <-errc
	settle := filepath.Join(dir, "settle.lua")
	writeFile(t, settle, "v1")
	nextEvent(t, h, is(Loaded, settle))
	var names []string
	for _, s := range h.Scripts() {
		if filepath.Base(s.Name()) == "b.lua" {
			names = append(names, s.Name())
		}
	}
	if len(names) != 1 || !errors.Is(err, ErrExists) {
		t.Errorf("Watch's load of b.lua and the program's: %v, scripts %q; want ErrExists and one script", err, names)
	}
}

// TestWatchFileOfAnotherScript: Watch of a relative directory, the working
// directory changed since, names a new file by a path that is another
// script's file now: the load is refused, once, naming that script
// (helper-196: Watch processed the save again and again, until the goroutine's
// stack overflowed and the program died).
func TestWatchFileOfAnotherScript(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "scripts")
	sub := filepath.Join(dir, "scripts")
	if err := os.MkdirAll(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	h, _ := newFakeHost(t, Config{})
	inner := filepath.Join(sub, "n.lua")
	writeFile(t, inner, "v1")
	if _, err := h.Load(context.Background(), inner, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := h.Watch(ctx, "scripts"); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, is(Loaded, inner))
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "n.lua"), "v2")
	ev := nextEvent(t, h, func(ev Event) bool { return ev.Kind == Loaded || ev.Kind == Rejected })
	if ev.Kind != Rejected || !errors.Is(ev.Err, ErrExists) || !strings.Contains(ev.Err.Error(), inner+" comes from that file") {
		t.Errorf("event %v, want a load rejected with ErrExists naming %s", ev, inner)
	}
}

// TestForeignScript: a nil Script, a zero one, or one of another Host, is
// ErrInvalid for every operation, which the error names with the script (a
// zero Script made Reload and Revert panic).
func TestForeignScript(t *testing.T) {
	ctx := context.Background()
	h, _ := newFakeHost(t, Config{})
	other, _ := newFakeHost(t, Config{})
	theirs := mustLoad(t, other, "theirs.wasm", "v1", nil)
	ops := []struct {
		op, fn string
		do     func(s *Script) error
	}{
		{"call", ".update", func(s *Script) error { _, err := h.Call(ctx, s, "update"); return err }},
		{"reload", "", func(s *Script) error { return h.Reload(ctx, s, []byte("v2")) }},
		{"reload", "", func(s *Script) error {
			p := h.ReloadAsync(ctx, s, []byte("v2"))
			<-p.Done()
			return p.Err()
		}},
		{"revert", "", func(s *Script) error { return h.Revert(ctx, s) }},
		{"unload", "", func(s *Script) error { return h.Unload(ctx, s) }},
	}
	for _, o := range ops {
		want := map[*Script]string{
			nil:         "hotscript: " + o.op + strings.ReplaceAll(o.fn, ".", " ") + ": invalid argument: nil Script",
			theirs:      "hotscript: " + o.op + " theirs.wasm" + o.fn + ": invalid argument: a script of another Host",
			new(Script): "hotscript: " + o.op + strings.ReplaceAll(o.fn, ".", " ") + ": invalid argument: a zero Script, which no Host made",
		}
		for s, w := range want {
			if err := o.do(s); !errors.Is(err, ErrInvalid) || err.Error() != w {
				t.Errorf("%s: %v, want %q", o.op, err, w)
			}
		}
	}
	if st := h.Stats(theirs); st != (Stats{}) {
		t.Errorf("Stats of another Host's script = %+v, want zero", st)
	}
	if got := call(t, other, theirs, "version"); got != "1" {
		t.Errorf("the script changed in its own Host: version() = %s", got)
	}
}

func mustScript(t *testing.T, h *Host, name string) *Script {
	s, ok := h.Script(name)
	if !ok {
		t.Fatalf("no script %s", name)
	}
	return s
}

// TestHammerFake: callers, reloads, reverts and Apply from many goroutines.
// TestErrorsSayPrefixOnce: the Host's operations wrap its sentinel errors
// with the operation and the script's name, and the package's prefix is said
// once: "hotscript: revert s.wasm: no earlier version to revert to".
func TestErrorsSayPrefixOnce(t *testing.T) {
	ctx := context.Background()
	h, e := newFakeHost(t, Config{})
	s := mustLoad(t, h, "s.wasm", "v1", nil)
	u := mustLoad(t, h, "u.wasm", "v1", nil)
	if err := h.Unload(ctx, u); err != nil {
		t.Fatal(err)
	}
	_, errExists := h.LoadBytes(ctx, "s.wasm", []byte("v1"), nil)
	a := h.ReloadAsync(ctx, s, []byte("v2;gate=a"))
	waitFor(t, "a to start staging", func() bool { return e.stages.Load() == 1 })
	b := h.ReloadAsync(ctx, s, []byte("v3"))
	e.open("a")
	if err := waitPending(b); err != nil {
		t.Fatal(err)
	}
	_, errCallUnloaded := h.Call(ctx, u, "version")
	closed, _ := newFakeHost(t, Config{})
	c := mustLoad(t, closed, "c.wasm", "v1", nil)
	if err := closed.Close(ctx); err != nil {
		t.Fatal(err)
	}
	_, errCallClosed := closed.Call(ctx, c, "version")
	_, errNew := New(ctx, Config{Swap: 7})
	errWatchClosed := closed.Watch(ctx, t.TempDir())
	for _, tt := range []struct {
		err  error
		is   error
		want string
	}{
		{h.Revert(ctx, mustLoad(t, h, "r.wasm", "v1", nil)), ErrNoHistory, "hotscript: revert r.wasm: no earlier version to revert to"},
		{waitPending(a), ErrSuperseded, "hotscript: reload s.wasm: superseded by a newer reload or revert"},
		{errExists, ErrExists, "hotscript: load s.wasm: script already loaded"},
		{h.Reload(ctx, u, []byte("v2")), ErrUnloaded, "hotscript: reload u.wasm: script unloaded"},
		{errCallUnloaded, ErrUnloaded, "hotscript: call u.wasm version: script unloaded"},
		{h.Unload(ctx, u), ErrUnloaded, "hotscript: unload u.wasm: script unloaded"},
		{errCallClosed, ErrClosed, "hotscript: call c.wasm version: host closed"},
		{closed.Reload(ctx, c, []byte("v2")), ErrClosed, "hotscript: reload c.wasm: host closed"},
		{closed.Unload(ctx, c), ErrClosed, "hotscript: unload c.wasm: host closed"},
		{errNew, ErrInvalid, "hotscript: new host: invalid argument: Config.Swap 7 is neither SwapImmediate nor SwapAtApply"},
		{errWatchClosed, ErrClosed, ""},
	} {
		if tt.want == "" { // the watch of a temporary directory
			if msg := tt.err.Error(); !errors.Is(tt.err, tt.is) || strings.Count(msg, "hotscript: ") != 1 || !strings.HasSuffix(msg, ": host closed") {
				t.Errorf("error %v, want \"hotscript: watch DIR: host closed\"", tt.err)
			}
			continue
		}
		if !errors.Is(tt.err, tt.is) || tt.err.Error() != tt.want {
			t.Errorf("error %v, want %q, matching %v", tt.err, tt.want, tt.is)
		}
	}
}

func TestHammerFake(t *testing.T) {
	for _, mode := range []SwapMode{SwapImmediate, SwapAtApply} {
		t.Run(fmt.Sprint("mode ", mode), func(t *testing.T) {
			h, _ := newFakeHost(t, Config{Swap: mode, EventBuffer: 1})
			s := mustLoad(t, h, "s.wasm", "v1", nil)
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for ctx.Err() == nil {
						if v := callInt(t, h, s, "version"); v < 1 || v > 3 {
							t.Errorf("version() = %d", v)
							return
						}
					}
				})
			}
			if mode == SwapAtApply {
				wg.Go(func() {
					for ctx.Err() == nil {
						h.Apply(ctx)
						time.Sleep(50 * time.Microsecond)
					}
				})
			}
			var rw sync.WaitGroup
			for g := range 3 {
				rw.Go(func() {
					for i := range 100 {
						var err error
						if g == 2 && i%10 == 0 {
							err = h.Revert(context.Background(), s)
						} else {
							err = h.Reload(context.Background(), s, []byte(fmt.Sprintf("v%d", 2+(i+g)%2)))
						}
						if err != nil && !errors.Is(err, ErrSuperseded) && !errors.Is(err, ErrNoHistory) {
							t.Errorf("reload: %v", err)
						}
					}
				})
			}
			rw.Wait()
			cancel()
			wg.Wait()
			st := h.Stats(s)
			if st.Reloads+st.Reverts+st.Superseded+st.FailedReloads != 300 {
				t.Errorf("stats %+v do not add up to 300 requests", st)
			}
			s.mu.Lock()
			open := s.open
			s.mu.Unlock()
			if open != 0 {
				t.Errorf("%d requests counted open after all were resolved, want 0", open)
			}
		})
	}
}

// TestInterfaceFollowsVersion: Interface describes the live version after a load, a
// commit, a rejection (unchanged), a revert, and under SwapAtApply only once applied.
func TestInterfaceFollowsVersion(t *testing.T) {
	ctx := context.Background()
	exportNames := func(s *Script) string {
		var names []string
		for _, f := range s.Interface().Exports {
			names = append(names, f.Name)
		}
		return strings.Join(names, ",")
	}
	for _, mode := range []SwapMode{SwapImmediate, SwapAtApply} {
		t.Run(fmt.Sprint("mode ", mode), func(t *testing.T) {
			h, _ := newFakeHost(t, Config{Swap: mode})
			s := mustLoad(t, h, "s.wasm", "v1;exports=update(f32)", nil)
			steps := []struct {
				name    string
				do      func() error
				version int
				exports string
			}{
				{"load", func() error { return nil }, 1, "version,update"},
				{"commit", func() error { return h.Reload(ctx, s, []byte("v2;exports=tick")) }, 2, "version,tick"},
				{"rejected", func() error { return h.Reload(ctx, s, []byte("v3;fail=stage")) }, 2, "version,tick"},
				{"revert", func() error { return h.Revert(ctx, s) }, 1, "version,update"},
			}
			for _, st := range steps {
				errc := make(chan error, 1)
				go func() { errc <- st.do() }()
				if mode == SwapAtApply && st.name != "load" && st.name != "rejected" {
					waitFor(t, st.name+" staged", func() bool { return h.readyHint.Load() })
					if got := exportNames(s); s.Version() == st.version || got == st.exports {
						t.Errorf("%s: before Apply: v%d exports %s; want the old version", st.name, s.Version(), got)
					}
					h.Apply(ctx)
				}
				if err := <-errc; err != nil && st.name != "rejected" {
					t.Fatalf("%s: %v", st.name, err)
				}
				if got := exportNames(s); s.Version() != st.version || got != st.exports {
					t.Errorf("%s: v%d exports %s; want v%d exports %s", st.name, s.Version(), got, st.version, st.exports)
				}
			}
			_, hasUpdate := s.Interface().Export("update")
			_, hasTick := s.Interface().Export("tick")
			if !hasUpdate || hasTick {
				t.Errorf("Export: update %v tick %v; want true false", hasUpdate, hasTick)
			}
			in := s.Interface()
			in.Exports[0].Name = "scribbled"
			if exportNames(s) != "version,update" {
				t.Error("modifying Interface's result changed the script's")
			}
		})
	}
}

// TestHammerInterface: Version and Interface read from 4 goroutines while versions
// alternate always make a matching pair (version N exports vN).
func TestHammerInterface(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	h, _ := newFakeHost(t, Config{EventBuffer: 1})
	code := func(n int) []byte { return []byte(fmt.Sprintf("v%d;exports=v%d", n, n)) }
	s := mustLoad(t, h, "s.wasm", string(code(1)), nil)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				v := s.Version()
				in := s.Interface()
				if s.Version() != v {
					continue // a commit came between the two reads
				}
				if _, ok := in.Export(fmt.Sprintf("v%d", v)); !ok {
					t.Errorf("version %d with exports %v", v, in.Exports)
					return
				}
			}
		})
	}
	for i := range 200 {
		if err := h.Reload(ctx, s, code(2+i)); err != nil {
			t.Error(err)
		}
	}
	cancel()
	wg.Wait()
}

// Unload resolves every reload of the script (staging, staged for Apply) with
// ErrUnloaded, removes it from the engine and the Host, frees its
// name, and refuses whatever comes after.
func TestUnload(t *testing.T) {
	for _, mode := range []SwapMode{SwapImmediate, SwapAtApply} {
		t.Run(fmt.Sprint("mode ", mode), func(t *testing.T) {
			h, e := newFakeHost(t, Config{Swap: mode})
			s := mustLoad(t, h, "s.wasm", "v1", nil)
			other := mustLoad(t, h, "t.wasm", "v1", nil)
			ctx := context.Background()
			var pending []*Pending
			if mode == SwapAtApply { // one staged and waiting for Apply
				pending = append(pending, h.ReloadAsync(ctx, s, []byte("v2")))
				waitFor(t, "staged", readyStaged(s))
			} else { // one staging (until cancelled), after one it stopped
				superseded := h.ReloadAsync(ctx, s, []byte("v3;gate=never"))
				waitFor(t, "staging", func() bool { return e.stages.Load() == 1 })
				pending = append(pending, h.ReloadAsync(ctx, s, []byte("v4;gate=never")))
				waitFor(t, "the newer one staging", func() bool { return e.stages.Load() == 2 })
				if <-superseded.Done(); !errors.Is(superseded.Err(), ErrSuperseded) {
					t.Errorf("the reload stopped by the newer one: %v, want ErrSuperseded", superseded.Err())
				}
			}
			if err := h.Unload(ctx, s); err != nil {
				t.Fatal(err)
			}
			for i, p := range pending {
				select {
				case <-p.Done(): // before Unload returned, and before its event
				default:
					t.Fatalf("reload %d unresolved when Unload returned", i)
				}
				if !errors.Is(p.Err(), ErrUnloaded) {
					t.Errorf("reload %d: %v, want ErrUnloaded", i, p.Err())
				}
			}
			if _, ok := h.Script("s.wasm"); ok || !s.u.(*fakeUnit).unloaded.Load() {
				t.Error("the script is still in the Host or its engine")
			}
			s.mu.Lock()
			for _, v := range s.hist.vs {
				if v.code != nil {
					t.Errorf("the unloaded script keeps the code of its v%d", v.n)
				}
			}
			s.mu.Unlock()
			if st := h.Stats(s); st.Version != 1 || st.Versions != 1 {
				t.Errorf("Stats after Unload: v%d, %d versions kept; want v1, 1", st.Version, st.Versions)
			}
			if _, err := h.Call(ctx, s, "version"); !errors.Is(err, ErrUnloaded) {
				t.Errorf("Call after Unload: %v", err)
			}
			if err := h.Reload(ctx, s, []byte("v5")); !errors.Is(err, ErrUnloaded) {
				t.Errorf("Reload after Unload: %v", err)
			}
			if err := h.Revert(ctx, s); !errors.Is(err, ErrUnloaded) {
				t.Errorf("Revert after Unload: %v", err)
			}
			if err := h.Unload(ctx, s); !errors.Is(err, ErrUnloaded) {
				t.Errorf("second Unload: %v", err)
			}
			if got := callInt(t, h, other, "version"); got != 1 {
				t.Errorf("the other script answers %d", got)
			}
			again := mustLoad(t, h, "s.wasm", "v7", nil) // the name is free
			if got := callInt(t, h, again, "version"); got != 7 {
				t.Errorf("the script loaded again answers %d", got)
			}
			if h.Apply(ctx) != 0 {
				t.Error("Apply committed something of the unloaded script")
			}
			// The script's events end with Unloaded; then comes the new one's Loaded.
			var kinds []EventKind
			for drained := false; !drained; {
				select {
				case ev := <-h.Events():
					if ev.Script == "s.wasm" {
						kinds = append(kinds, ev.Kind)
					}
				default:
					drained = true
				}
			}
			if n := len(kinds); n < 3 || kinds[n-2] != Unloaded || kinds[n-1] != Loaded || slices.Contains(kinds[:n-2], Unloaded) {
				t.Errorf("events of s.wasm %v, want the reloads' rejections, then unloaded, then loaded", kinds)
			}
		})
	}
}

// TestUnloadedScriptHoldsNoCode: a program may keep an unloaded *Script (for
// its Stats, as hotscript run keeps those a rename unloaded); it holds no copy
// of its code (helper-181: it held its last reload's bytes, 4 MB a save and
// rename of a 4 MB file under hotscript run).
func TestUnloadedScriptHoldsNoCode(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Config{})
	heap := func() float64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return float64(ms.HeapInuse) / (1 << 20)
	}
	const n, size = 10, 4 << 20
	var kept []*Script
	for i := range n {
		s := mustLoad(t, h, fmt.Sprintf("s%d.lua", i), []byte("return {}"), nil)
		if err := h.Reload(ctx, s, []byte("--"+strings.Repeat("x", size)+"\nreturn {}")); err != nil {
			t.Fatal(err)
		}
		if err := h.Unload(ctx, s); err != nil {
			t.Fatal(err)
		}
		kept = append(kept, s)
	}
	with := heap()
	runtime.KeepAlive(kept)
	kept = nil
	if held := with - heap(); held > n*size/(4<<20) {
		t.Errorf("%d unloaded Scripts, each last reloaded with %d MB, hold %.1f MB", n, size>>20, held)
	}
}

// Unload from a migration of the script itself is refused: the commit running
// the migration holds the script.
func TestUnloadFromMigration(t *testing.T) {
	var h *Host
	var s *Script
	var inner error
	h, _ = newFakeHost(t, Config{Migration: func(ctx context.Context, m *Migration) error {
		inner = h.Unload(ctx, s)
		return inner
	}})
	s = mustLoad(t, h, "s.wasm", "v1", nil)
	err := testtool.Returns(t, "a reload whose migration unloads its script", func() error {
		return h.Reload(context.Background(), s, []byte("v2"))
	})
	if !errors.Is(inner, wasm.ErrReentrant) || !errors.Is(err, ErrMigration) {
		t.Fatalf("Unload from the migration: %v; reload: %v; want ErrReentrant and a rolled-back reload", inner, err)
	}
	if got := callInt(t, h, s, "version"); got != 1 {
		t.Fatalf("version %d after the refused Unload, want 1", got)
	}
}

// An engine's ErrNotFound in the chain of an error that has nothing to do with
// Unload (a migration's lookup, a host function's call to another script) is
// kept as it is, not reported as ErrUnloaded.
func TestNotFoundIsNotUnloaded(t *testing.T) {
	h, _ := newFakeHost(t, Config{Migration: func(ctx context.Context, m *Migration) error {
		return fmt.Errorf("asset lookup: %w", wasm.ErrNotFound)
	}})
	s := mustLoad(t, h, "s.wasm", "v1", nil)
	err := h.Reload(context.Background(), s, []byte("v2"))
	if !errors.Is(err, ErrMigration) || errors.Is(err, ErrUnloaded) {
		t.Fatalf("Reload whose migration fails with a wrapped ErrNotFound: %v, want ErrMigration", err)
	}
}

// blockingHandler is a slog handler that blocks on records with message msg
// until release is closed, after signalling entered.
type blockingHandler struct {
	msg              string
	entered, release chan struct{}
}

func (b *blockingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (b *blockingHandler) WithAttrs([]slog.Attr) slog.Handler       { return b }
func (b *blockingHandler) WithGroup(string) slog.Handler            { return b }
func (b *blockingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == b.msg {
		b.entered <- struct{}{}
		<-b.release
	}
	return nil
}

// Unload logs its event before the name is free: a Load of the name racing it
// fails until then, so its Loaded event cannot come before Unloaded. A program
// that receives the event finds the name free.
func TestUnloadedBeforeNameIsFree(t *testing.T) {
	bh := &blockingHandler{msg: "hotscript: unloaded", entered: make(chan struct{}), release: make(chan struct{})}
	h, _ := newFakeHost(t, Config{Logger: slog.New(bh)})
	ctx := context.Background()
	s := mustLoad(t, h, "x.wasm", "v1", nil)
	done := make(chan error)
	go func() { done <- h.Unload(ctx, s) }()
	<-bh.entered // Unload is emitting Unloaded
	if _, err := h.LoadBytes(ctx, "x.wasm", []byte("v2"), nil); !errors.Is(err, ErrExists) {
		t.Errorf("Load of the name while Unload emits its event: %v, want ErrExists", err)
	}
	// Held, the Host's lock keeps Unload from freeing the name: the event must
	// not arrive meanwhile.
	nextEvent(t, h, func(ev Event) bool { return ev.Kind == Loaded })
	h.mu.RLock()
	close(bh.release)
	select {
	case ev := <-h.Events():
		t.Errorf("%v received while the name is taken", ev)
	case <-time.After(100 * time.Millisecond):
	}
	h.mu.RUnlock()
	nextEvent(t, h, func(ev Event) bool { return ev.Kind == Unloaded })
	mustLoad(t, h, "x.wasm", "v2", nil)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Event.String says what happened in one line, and for a rejection which
// version keeps running.
func TestEventString(t *testing.T) {
	errBad := errors.New("bad")
	tests := []struct {
		ev   Event
		want string
	}{
		{Event{Script: "a.lua", Kind: Loaded, To: 1}, "a.lua: loaded v1"},
		{Event{Script: "a.lua", Kind: Committed, From: 1, To: 2, Carried: []string{"hp", "pos"}}, "a.lua: committed v1 -> v2 (carried hp, pos)"},
		{Event{Script: "a.lua", Kind: Committed, From: 1, To: 2, Carried: []string{"hp"},
			Reset: &lua.Error{Op: "reload", Script: "a.lua", Function: lua.LiveOnSave, Message: "bad", Kind: lua.ErrRuntime}},
			"a.lua: committed v1 -> v2 (carried hp) (not what on_save returns: lua: reload a.lua on_save of the live version: bad)"},
		{Event{Script: "a.wasm", Kind: Committed, From: 1, To: 2, Reset: errBad}, "a.wasm: committed v1 -> v2 (state reset: bad)"},
		{Event{Script: "a.wasm", Kind: Committed, From: 1, To: 2, Carried: []string{"entity"}, Reset: errBad}, // a MigrationFunc's Carry and Reset
			"a.wasm: committed v1 -> v2 (carried entity) (state reset: bad)"},
		{Event{Script: "a.lua", Kind: Rejected, Err: opErr("load", "a.lua", errBad)}, "a.lua: rejected: hotscript: load a.lua: bad"},
		{Event{Kind: Rejected, Err: opErr("reload", "", ErrInvalid)}, "rejected: hotscript: reload: invalid argument"},
		{Event{Script: "a.lua", Kind: Rejected, From: 2, To: 3, Err: errBad}, "a.lua: rejected v3, v2 keeps running: bad"},
		{Event{Script: "a.wat", Kind: Rejected, From: 2, Err: errBad}, "a.wat: rejected, v2 keeps running: bad"},
		{Event{Script: "a.lua", Kind: Rejected, From: 2, To: 3, Err: ErrUnloaded}, "a.lua: rejected v3: " + ErrUnloaded.Error()},
		{Event{Script: "a.lua", Kind: Rejected, From: 2, Err: ErrClosed}, "a.lua: rejected: " + ErrClosed.Error()},
		{Event{Script: "a.lua", Kind: Rejected, From: 2, To: 3, Err: opErr("reload", "a.lua", fmt.Errorf("%w: %w", ErrClosed, context.Canceled))},
			"a.lua: rejected v3: hotscript: reload a.lua: host closed: context canceled"},
		{Event{Script: "a.lua", Kind: Superseded, From: 1, Err: ErrSuperseded}, "a.lua: superseded, v1 keeps running: " + ErrSuperseded.Error()},
		{Event{Script: "a.lua", Kind: Rejected, From: 2, To: 3, Err: opErr("reload", "a.lua", ErrUnloaded)},
			"a.lua: rejected v3: hotscript: reload a.lua: script unloaded"},
		{Event{Script: "a.lua", Kind: Rejected, From: 2, To: 3, Err: opErr("reload", "a.lua", fmt.Errorf("%w: %w", ErrMigration, opErr("call", "b.lua f", ErrUnloaded)))},
			"a.lua: rejected v3, v2 keeps running: hotscript: reload a.lua: state migration failed: hotscript: call b.lua f: script unloaded"},
		{Event{Script: "a.lua", Kind: Reverted, From: 3, To: 2}, "a.lua: reverted v3 -> v2"},
		{Event{Script: "a.lua", Kind: Superseded, From: 1, To: 2, Err: ErrSuperseded}, "a.lua: superseded v2, v1 keeps running: " + ErrSuperseded.Error()},
		{Event{Script: "a.wasm", Kind: Rejected, From: 1, To: 2, Err: errors.New("trap: unreachable\nwasm stack trace:\n\tf()")},
			"a.wasm: rejected v2, v1 keeps running: trap: unreachable"},
		{Event{Script: "a.lua", Kind: Rejected, From: 1, To: 2, Err: errors.New("lua: reload a.lua main chunk: \n\nboom\nstack traceback:")},
			"a.lua: rejected v2, v1 keeps running: lua: reload a.lua main chunk: boom"},
		{Event{Script: "a.wasm", Kind: Committed, From: 1, To: 2, Reset: errors.New("get_state on v1: trap\nwasm stack trace:\n\tget_state()")},
			"a.wasm: committed v1 -> v2 (state reset: get_state on v1: trap)"},
		{Event{Script: "a.lua", Kind: Removed, From: 4}, "a.lua: removed v4"},
		{Event{Script: "scripts", Kind: WatchResumed}, "scripts: watch resumed"},
	}
	for _, tt := range tests {
		if got := tt.ev.String(); got != tt.want {
			t.Errorf("%+v: String() = %q, want %q", tt.ev, got, tt.want)
		}
	}
}

// A request refused before it began (a script unloaded, or not this Host's)
// resolves with an event that names the script and carries the error.
func TestPendingEventOfRefusedRequest(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Config{})
	other := newTestHost(t, Config{})
	s := mustLoad(t, h, "a.lua", "return {}", nil)
	foreign := mustLoad(t, other, "b.lua", "return {}", nil)
	if err := h.Unload(ctx, s); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		s    *Script
		want error
	}{{s, ErrUnloaded}, {foreign, ErrInvalid}} {
		p := h.ReloadAsync(ctx, tt.s, []byte("return {}"))
		<-p.Done()
		ev := p.Event()
		if ev.Kind != Rejected || ev.Script != tt.s.Name() || !errors.Is(ev.Err, tt.want) || !errors.Is(p.Err(), tt.want) {
			t.Errorf("reload of %s: event %+v, error %v; want it rejected, named, with %v", tt.s.Name(), ev, p.Err(), tt.want)
		}
	}
}

// takeEvents returns the events waiting on h's channel.
func takeEvents(h *Host) []Event {
	var out []Event
	for {
		select {
		case ev := <-h.Events():
			out = append(out, ev)
		default:
			return out
		}
	}
}

// TestEventsOfAScriptBetweenLoadedAndUnloaded: a script's events come after
// its Loaded event, even for a reload asked as soon as the script can be found,
// and none comes after its Unloaded event, even for reloads superseded as
// Unload runs.
func TestEventsOfAScriptBetweenLoadedAndUnloaded(t *testing.T) {
	ctx := context.Background()
	v1, v2 := guest.Bytes("counter_v1"), guest.Bytes("counter_v2")
	for _, mode := range []SwapMode{SwapImmediate, SwapAtApply} {
		h := newTestHost(t, Config{Swap: mode, EventBuffer: 1 << 16})
		for i := range 200 {
			found := make(chan struct{})
			go func() { // reload the script as soon as it is found
				defer close(found)
				for {
					if s, ok := h.Script("x.wasm"); ok {
						h.ReloadAsync(ctx, s, v2)
						return
					}
					runtime.Gosched()
				}
			}()
			s := mustLoad(t, h, "x.wasm", v1, nil)
			<-found
			var wg sync.WaitGroup
			for g := range 3 { // reloads superseding each other as Unload runs
				wg.Go(func() {
					for j := range 10 {
						h.ReloadAsync(ctx, s, [][]byte{v1, v2}[(g+j)%2])
					}
				})
			}
			time.Sleep(time.Duration(i%10) * 20 * time.Microsecond)
			if err := h.Unload(ctx, s); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
		}
		state := ""
		for _, ev := range takeEvents(h) {
			switch ev.Kind {
			case Loaded:
				state = "loaded"
			case Unloaded:
				state = "unloaded"
			default:
				if state != "loaded" {
					t.Fatalf("swap mode %d: %v while the script is %q", mode, ev, state)
				}
			}
		}
	}
}

// slowRejections is a log handler that takes 2 ms over each record of a
// rejection, as a slow log sink would: it widens the window between a
// request's resolution and its event.
type slowRejections struct{}

func (slowRejections) Enabled(context.Context, slog.Level) bool { return true }
func (slowRejections) Handle(_ context.Context, r slog.Record) error {
	if r.Level == slog.LevelWarn {
		time.Sleep(2 * time.Millisecond)
	}
	return nil
}
func (h slowRejections) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h slowRejections) WithGroup(string) slog.Handler      { return h }

// TestAbandonedReloadBeforeUnloaded: a staged reload whose context ends as its
// script is unloaded reports its rejection before the script's Unloaded.
func TestAbandonedReloadBeforeUnloaded(t *testing.T) {
	const n = 30
	ctx := context.Background()
	h := newTestHost(t, Config{Swap: SwapAtApply, EventBuffer: 10 * n, Logger: slog.New(slowRejections{})})
	for i := range n {
		s := mustLoad(t, h, fmt.Sprintf("s%d.lua", i), "return { v = function() return 1 end }", nil)
		rctx, cancel := context.WithCancel(ctx)
		p := h.ReloadAsync(rctx, s, []byte("return { v = function() return 2 end }"))
		waitFor(t, "the reload staged", func() bool { return h.readyHint.Load() })
		cancel()
		time.Sleep(200 * time.Microsecond) // the abandon logs its rejection
		if err := h.Unload(ctx, s); err != nil {
			t.Fatal(err)
		}
		<-p.Done()
		h.readyHint.Store(false)
	}
	last := map[string]EventKind{}
	for _, ev := range takeEvents(h) {
		if last[ev.Script] == Unloaded {
			t.Fatalf("%v after the script's Unloaded", ev)
		}
		last[ev.Script] = ev.Kind
	}
}

// TestNoEventAfterUnloadedAsTheHostCloses: a reload of an unloaded script
// asked once Close has begun reports no event: the name's events ended with
// its Unloaded.
func TestNoEventAfterUnloadedAsTheHostCloses(t *testing.T) {
	ctx := context.Background()
	release, entered := make(chan struct{}), make(chan struct{})
	h := newTestHost(t, Config{Funcs: []HostFunc{{Module: "host", Name: "block",
		Func: func(context.Context, HostCall) error { close(entered); <-release; return nil }}}})
	s := mustLoad(t, h, "s.lua", "return {}", nil)
	other := mustLoad(t, h, "t.lua", "return {}", nil)
	h.ReloadAsync(ctx, other, []byte("host.block() return {}")) // Close waits for its staging
	<-entered
	if err := h.Unload(ctx, s); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- h.Close(ctx) }()
	waitFor(t, "Close to begin", func() bool { return h.closed.Load() })
	if err := h.Reload(ctx, s, []byte("return {}")); !errors.Is(err, ErrUnloaded) {
		t.Errorf("Reload of the unloaded script: %v, want ErrUnloaded", err)
	}
	close(release)
	<-closed
	after := false
	for ev := range h.Events() {
		if ev.Script == "s.lua" && after {
			t.Errorf("%v after s.lua's Unloaded", ev)
		}
		after = after || ev.Script == "s.lua" && ev.Kind == Unloaded
	}
}
