package hotscript

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// Tests of the reload state machine over fakeEngine (fake_test.go); the same
// behaviour over the real engines is tested in wasm_test.go and lua_test.go.

func newFakeHost(t *testing.T, cfg Config) (*Host, *fakeEngine) {
	t.Helper()
	e := newFakeEngine()
	h := newHost(cfg, map[Kind]engine{KindWASM: e, KindLua: e}, []engine{e})
	t.Cleanup(func() { _ = h.Close(context.Background()) })
	return h, e
}

func mustLoad(t *testing.T, h *Host, name, code string, opts *ScriptOptions) *Script {
	t.Helper()
	s, err := h.LoadBytes(context.Background(), name, []byte(code), opts)
	if err != nil {
		t.Fatalf("LoadBytes(%s): %v", name, err)
	}
	return s
}

func callInt(t *testing.T, h *Host, s *Script, fn string) int {
	t.Helper()
	out, err := h.Call(context.Background(), s, fn)
	if err != nil {
		t.Fatalf("Call(%s): %v", fn, err)
	}
	var n int
	if _, err := fmt.Sscan(string(out), &n); err != nil {
		t.Fatalf("Call(%s) = %s: %v", fn, out, err)
	}
	return n
}

// waitFor polls cond (a staged reload becoming ready happens on another goroutine).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

func TestReloadOutcomes(t *testing.T) {
	const base = "update(f32)|fire()|get_state() (i32, i32)"
	tests := []struct {
		name     string
		opts     *ScriptOptions
		next     string
		want     error // nil: committed
		diffText string
	}{
		{"commit", nil, "v2;exports=" + base + "|jump()", nil, "added: jump()"},
		{"bad bytes", nil, "garbage", errFake, ""},
		{"stage fails", nil, "v2;fail=stage", errFake, ""},
		{"commit fails", nil, "v2;fail=commit;exports=" + base, errFake, "no interface changes"},
		{"contract broken", &ScriptOptions{Contract: &Contract{Exports: []string{"update(f32)", "fire()"}}},
			"v2;exports=update(f64)|get_state() (i32, i32)", ErrContract,
			"removed: fire(); update: was update(f32), now update(f64)"},
		{"contract kept", &ScriptOptions{Contract: &Contract{Exports: []string{"update(f32)", "fire"}}},
			"v2;exports=" + base + "|jump()", nil, "added: jump()"},
		{"export migration without set_state", &ScriptOptions{Migration: MigrateExports},
			"v2;exports=" + base, ErrMigration, "no interface changes"},
		{"self-check passes", nil, "v2;exports=" + base + "|on_reload() i32", nil, "added: on_reload() i32"},
		{"self-check fails", nil, "v2;fail=selfcheck;exports=" + base + "|on_reload() i32", ErrSelfCheck, "added: on_reload() i32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newFakeHost(t, Config{})
			s := mustLoad(t, h, "s.wasm", "v1;exports="+base, tt.opts)
			for range 3 {
				callInt(t, h, s, "inc")
			}
			err := h.Reload(context.Background(), s, []byte(tt.next))
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Reload = %v, want %v", err, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), "s.wasm") {
				t.Errorf("error %q does not name the script", err)
			}
			if errors.Is(err, ErrContract) {
				for _, part := range strings.Split(tt.diffText, "; ") {
					if !strings.Contains(err.Error(), part) {
						t.Errorf("error %q lacks %q", err, part)
					}
				}
			}
			version := 1
			if tt.want == nil {
				version = 2
			}
			if got := s.Version(); got != version {
				t.Errorf("Version = %d, want %d", got, version)
			}
			if got := callInt(t, h, s, "version"); got != version {
				t.Errorf("version() = %d, want %d", got, version)
			}
			wantState := 3
			if tt.want == nil {
				wantState = 0 // MigrateReset
			}
			if got := callInt(t, h, s, "get"); got != wantState {
				t.Errorf("state after = %d, want %d", got, wantState)
			}
			ev := lastEvent(t, h)
			wantKind := Committed
			if tt.want != nil {
				wantKind = Rejected
			}
			if ev.Kind != wantKind || ev.From != 1 || ev.Script != "s.wasm" {
				t.Errorf("event = %+v, want %v from 1", ev, wantKind)
			}
			if tt.diffText != "" && ev.Diff.String() != tt.diffText {
				t.Errorf("event diff = %q, want %q", ev.Diff, tt.diffText)
			}
			st := h.Stats(s)
			if tt.want == nil && (st.Reloads != 1 || st.FailedReloads != 0) || tt.want != nil && (st.Reloads != 0 || st.FailedReloads != 1) {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

// lastEvent drains the events buffered so far and returns the last one.
func lastEvent(t *testing.T, h *Host) Event {
	t.Helper()
	var last Event
	for {
		select {
		case ev := <-h.Events():
			last = ev
		default:
			if last.Kind == 0 {
				t.Fatal("no event")
			}
			return last
		}
	}
}

func TestMigrateExportsCarriesState(t *testing.T) {
	h, _ := newFakeHost(t, Config{Migration: MigrateExports})
	s := mustLoad(t, h, "s.wasm", "v1;exports=get_state() (i32, i32)|set_state(i32, i32)", nil)
	for range 5 {
		callInt(t, h, s, "inc")
	}
	if err := h.Reload(context.Background(), s, []byte("v2;exports=get_state() (i32, i32)|set_state(i32, i32)")); err != nil {
		t.Fatal(err)
	}
	if got := callInt(t, h, s, "get"); got != 5 {
		t.Errorf("state after MigrateExports = %d, want 5", got)
	}
	if ev := lastEvent(t, h); strings.Join(ev.Carried, ",") != "n" {
		t.Errorf("Carried = %v, want [n]", ev.Carried)
	}
}

func TestMigrationFuncErrorsRollBack(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name string
		fn   MigrationFunc
		want error
	}{
		{"error", func(context.Context, *Migration) error { return boom }, boom},
		{"panic", func(context.Context, *Migration) error { panic("bad migration") }, ErrMigration},
		{"trap in new", func(ctx context.Context, m *Migration) error {
			_, err := m.CallNew(ctx, "fail")
			return err
		}, errFake},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newFakeHost(t, Config{Migration: tt.fn})
			s := mustLoad(t, h, "s.wasm", "v1", nil)
			callInt(t, h, s, "inc")
			err := h.Reload(context.Background(), s, []byte("v2"))
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrMigration) {
				t.Fatalf("Reload = %v, want %v and ErrMigration", err, tt.want)
			}
			if v, n := callInt(t, h, s, "version"), callInt(t, h, s, "get"); v != 1 || n != 1 {
				t.Errorf("after rollback: version %d state %d, want 1 1", v, n)
			}
		})
	}
}

func TestNewestReloadWins(t *testing.T) {
	h, e := newFakeHost(t, Config{})
	s := mustLoad(t, h, "s.wasm", "v1", nil)
	ctx := context.Background()
	a := h.ReloadAsync(ctx, s, []byte("v2;gate=a")) // the worker blocks staging a
	waitFor(t, "a to start staging", func() bool { return e.stages.Load() == 1 })
	b := h.ReloadAsync(ctx, s, []byte("v3")) // queued behind a
	c := h.ReloadAsync(ctx, s, []byte("v4")) // replaces b in the queue
	<-b.Done()
	if !errors.Is(b.Err(), ErrSuperseded) || b.Event().Kind != Superseded {
		t.Errorf("b: %v %v, want superseded", b.Err(), b.Event().Kind)
	}
	e.open("a")
	<-a.Done()
	<-c.Done()
	if !errors.Is(a.Err(), ErrSuperseded) {
		t.Errorf("a: %v, want superseded (c was requested while a was staging)", a.Err())
	}
	if c.Err() != nil || c.Event().Kind != Committed || c.Event().From != 1 || c.Event().To != 2 {
		t.Errorf("c: %v %+v, want committed v1 -> v2", c.Err(), c.Event())
	}
	if got := callInt(t, h, s, "version"); got != 4 {
		t.Errorf("live code is v%d, want the newest (v4)", got)
	}
	if st := h.Stats(s); st.Superseded != 2 || st.Reloads != 1 {
		t.Errorf("stats = %+v, want 2 superseded, 1 reload", st)
	}
}

func TestSwapAtApply(t *testing.T) {
	h, _ := newFakeHost(t, Config{Swap: SwapAtApply})
	s := mustLoad(t, h, "s.wasm", "v1", nil)
	ctx := context.Background()
	if n := h.Apply(ctx); n != 0 {
		t.Fatalf("Apply with nothing staged = %d", n)
	}
	done := make(chan error, 1)
	go func() { done <- h.Reload(ctx, s, []byte("v2")) }()
	waitFor(t, "v2 staged", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.ready != nil
	})
	select {
	case err := <-done:
		t.Fatalf("Reload returned %v before Apply", err)
	default:
	}
	if got := callInt(t, h, s, "version"); got != 1 {
		t.Errorf("before Apply calls reach v%d, want v1", got)
	}
	if n := h.Apply(ctx); n != 1 {
		t.Errorf("Apply = %d, want 1", n)
	}
	if err := <-done; err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if got := callInt(t, h, s, "version"); got != 2 {
		t.Errorf("after Apply calls reach v%d, want v2", got)
	}

	// A newer staged reload replaces an older one waiting for Apply.
	p1 := h.ReloadAsync(ctx, s, []byte("v3"))
	waitFor(t, "v3 staged", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.ready != nil })
	p2 := h.ReloadAsync(ctx, s, []byte("v4"))
	<-p1.Done()
	if !errors.Is(p1.Err(), ErrSuperseded) {
		t.Errorf("older staged reload: %v, want superseded", p1.Err())
	}
	waitFor(t, "v4 staged", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.ready != nil })
	if n := h.Apply(ctx); n != 1 || p2.Err() != nil || callInt(t, h, s, "version") != 4 {
		t.Errorf("Apply = %d, err %v, version %d; want 1, nil, 4", n, p2.Err(), callInt(t, h, s, "version"))
	}
}

func TestCancelledReloadIsRejected(t *testing.T) {
	for _, mode := range []SwapMode{SwapImmediate, SwapAtApply} {
		t.Run(fmt.Sprint("mode ", mode), func(t *testing.T) {
			h, e := newFakeHost(t, Config{Swap: mode})
			s := mustLoad(t, h, "s.wasm", "v1", nil)
			ctx, cancel := context.WithCancel(context.Background())
			var p *Pending
			if mode == SwapImmediate {
				p = h.ReloadAsync(ctx, s, []byte("v2;gate=g"))
				waitFor(t, "staging", func() bool { return e.stages.Load() == 1 })
			} else {
				p = h.ReloadAsync(ctx, s, []byte("v2"))
				waitFor(t, "staged", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.ready != nil })
			}
			cancel()
			<-p.Done()
			if !errors.Is(p.Err(), context.Canceled) {
				t.Errorf("Err = %v, want context.Canceled", p.Err())
			}
			if h.Apply(context.Background()) != 0 || callInt(t, h, s, "version") != 1 {
				t.Error("a cancelled reload was committed")
			}
		})
	}
}

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
			staging := h.ReloadAsync(ctx, s, []byte("v2;gate=never"))
			waitFor(t, "staging", func() bool { return e.stages.Load() == 1 })
			queued := h.ReloadAsync(ctx, s, []byte("v3"))
			var other *Pending
			if mode == SwapAtApply {
				other = h.ReloadAsync(ctx, s2, []byte("v2"))
				waitFor(t, "staged", func() bool { s2.mu.Lock(); defer s2.mu.Unlock(); return s2.ready != nil })
			}
			if err := h.Close(ctx); err != nil {
				t.Fatal(err)
			}
			for _, p := range []*Pending{staging, queued, other} {
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.LoadBytes(context.Background(), tt.file, []byte(tt.code), tt.opts)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.file) {
				t.Errorf("LoadBytes = %v, want %v naming %s", err, tt.want, tt.file)
			}
		})
	}
	if _, ok := h.Script("d.wasm"); ok {
		t.Error("a failed load left its name reserved")
	}
	if err := h.Reload(context.Background(), mustScript(t, h, "a.wasm"), nil); !errors.Is(err, ErrNoSource) {
		t.Errorf("Reload(nil) of a script loaded from bytes = %v, want ErrNoSource", err)
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
		})
	}
}
