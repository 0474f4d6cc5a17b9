package hotscript

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

func mustLoad[C string | []byte](t testing.TB, h *Host, name string, code C, opts *ScriptOptions) *Script {
	t.Helper()
	s, err := h.LoadBytes(context.Background(), name, []byte(code), opts)
	if err != nil {
		t.Fatalf("LoadBytes(%s): %v", name, err)
	}
	return s
}

// checkReloadErr checks a reload's error: it matches every error of want (nil:
// the reload must have committed) and its text contains each of message.
func checkReloadErr(t *testing.T, err error, want []error, message []string) {
	t.Helper()
	if want == nil && err != nil {
		t.Fatalf("Reload: %v", err)
	}
	for _, w := range want {
		if !errors.Is(err, w) {
			t.Errorf("Reload error %v does not match %v", err, w)
		}
	}
	for _, m := range message {
		if err != nil && !strings.Contains(err.Error(), m) {
			t.Errorf("error %q lacks %q", err, m)
		}
	}
	// The engine runs the migration and the self-check inside its commit step;
	// the error says what failed, not how the engine calls the step ("migrate
	// failed"), and names the Host once.
	if (errors.Is(err, ErrSelfCheck) || errors.Is(err, ErrMigration)) &&
		(!strings.HasPrefix(err.Error(), "hotscript: reload ") || strings.Count(err.Error(), "hotscript:") != 1 ||
			strings.Contains(err.Error(), "migrate failed")) {
		t.Errorf("a failed migration or self-check reads %q, want it said first, once", err)
	}
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
		{"panic with an error", func(context.Context, *Migration) error { panic(boom) }, boom}, // helper-213
		{"error that says so", func(context.Context, *Migration) error { return fmt.Errorf("%w: no room", ErrMigration) }, ErrMigration},
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
			if msg := err.Error(); !strings.HasPrefix(msg, "hotscript: reload s.wasm: ") || strings.Contains(msg, "migrate failed") {
				t.Errorf("Reload = %q, want it to say the Host's operation first and not the engine's step", msg)
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
	b := h.ReloadAsync(ctx, s, []byte("v3;gate=b")) // stops a's staging, and stages
	<-a.Done()
	if !errors.Is(a.Err(), ErrSuperseded) || a.Event().Kind != Superseded {
		t.Errorf("a: %v %v, want superseded (b was requested while a was staging)", a.Err(), a.Event().Kind)
	}
	waitFor(t, "b to start staging", func() bool { return e.stages.Load() == 2 })
	c := h.ReloadAsync(ctx, s, []byte("v4")) // stops b's
	<-b.Done()
	if !errors.Is(b.Err(), ErrSuperseded) || b.Event().Kind != Superseded {
		t.Errorf("b: %v %v, want superseded", b.Err(), b.Event().Kind)
	}
	<-c.Done()
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

// TestFailureAfterNewerRequest: a reload that fails to stage after a newer
// one was requested is superseded, not rejected, in its error, its event and
// the script's Stats: it could not have won.
func TestFailureAfterNewerRequest(t *testing.T) {
	for _, tt := range []struct{ name, code string }{
		{"engine fails to stage", "v2;gate=a;fail=stage"},
		{"contract broken", "v2;gate=a"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, e := newFakeHost(t, Config{})
			s := mustLoad(t, h, "s.wasm", "v1;exports=fire()", &ScriptOptions{Contract: &Contract{Exports: []string{"fire()"}}})
			ctx := context.Background()
			a := h.ReloadAsync(ctx, s, []byte(tt.code))
			waitFor(t, "a to start staging", func() bool { return e.stages.Load() == 1 })
			b := h.ReloadAsync(ctx, s, []byte("v3;exports=fire()"))
			e.open("a")
			if err := waitPending(a); !errors.Is(err, ErrSuperseded) || a.Event().Kind != Superseded || a.Event().Err != err {
				t.Errorf("a: %v, event %v; want superseded", err, a.Event())
			}
			if err := waitPending(b); err != nil {
				t.Fatalf("b: %v", err)
			}
			if st := h.Stats(s); st.Superseded != 1 || st.FailedReloads != 0 || st.Reloads != 1 {
				t.Errorf("stats = %+v, want 1 superseded, 0 failed, 1 reload", st)
			}
		})
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
	waitFor(t, "v2 staged", readyStaged(s))
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
	waitFor(t, "v3 staged", readyStaged(s))
	p2 := h.ReloadAsync(ctx, s, []byte("v4"))
	<-p1.Done()
	if !errors.Is(p1.Err(), ErrSuperseded) {
		t.Errorf("older staged reload: %v, want superseded", p1.Err())
	}
	waitFor(t, "v4 staged", readyStaged(s))
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
				waitFor(t, "staged", readyStaged(s))
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

// blockingMigration returns a MigrationFunc that, for the commit into version
// to, signals entered and waits for release or for its context to end.
func blockingMigration(to int) (mig MigrationFunc, entered chan struct{}, release chan struct{}) {
	entered, release = make(chan struct{}, 1), make(chan struct{})
	return func(ctx context.Context, m *Migration) error {
		if m.To != to {
			return nil
		}
		entered <- struct{}{}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}, entered, release
}

// readyStaged reports, when called, whether a version of s waits in its ready
// slot for Apply.
func readyStaged(s *Script) func() bool {
	return func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.ready != nil }
}

// With SwapAtApply, a revert requested while an Apply commits another version
// of the script goes back from the version that commit makes live, instead of
// being reported superseded by a request that does not exist, or finding no
// history (TestRevertDuringFirstCommit).
func TestRevertStagedDuringApply(t *testing.T) {
	mig, entered, release := blockingMigration(3)
	h, _ := newFakeHost(t, Config{Swap: SwapAtApply, Migration: mig})
	s := mustLoad(t, h, "s.wasm", "v1", nil)
	ctx := context.Background()
	for _, code := range []string{"v2", "v3"} {
		h.ReloadAsync(ctx, s, []byte(code))
		waitFor(t, code+" staged", readyStaged(s))
		if code == "v2" {
			h.Apply(ctx)
		}
	}
	applied := make(chan int)
	go func() { applied <- h.Apply(ctx) }() // commits v3, held in its migration
	<-entered
	revert, requested := make(chan error, 1), requestedSince(s)
	go func() { revert <- h.Revert(ctx, s) }()
	waitFor(t, "the revert requested", requested)
	close(release)
	if n := <-applied; n != 1 || s.Version() != 3 {
		t.Fatalf("Apply committed %d, version %d; want 1, v3", n, s.Version())
	}
	for done := false; !done; { // the game loop: Apply until the revert resolves
		h.Apply(ctx)
		select {
		case err := <-revert:
			if err != nil {
				t.Fatalf("Revert: %v, want it to go back from v3", err)
			}
			done = true
		default:
			time.Sleep(time.Millisecond)
		}
	}
	if got := callInt(t, h, s, "version"); s.Version() != 2 || got != 2 {
		t.Fatalf("after the revert: version %d, calls reach v%d; want v2", s.Version(), got)
	}
}

// requestedSince returns what reports whether a request of s has been made
// since requestedSince was called.
func requestedSince(s *Script) func() bool {
	s.mu.Lock()
	before := s.latest
	s.mu.Unlock()
	return func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.latest > before }
}

// A revert requested while the first reload of a script commits goes back from
// the version that reload makes live, in both modes: under SwapAtApply it found
// no history and failed (ErrNoHistory), and the reload went live.
func TestRevertDuringFirstCommit(t *testing.T) {
	for _, mode := range []SwapMode{SwapImmediate, SwapAtApply} {
		t.Run(mode.String(), func(t *testing.T) {
			mig, entered, release := blockingMigration(2)
			h, _ := newFakeHost(t, Config{Swap: mode, Migration: mig})
			s := mustLoad(t, h, "s.wasm", "v1", nil)
			ctx := context.Background()
			reload := h.ReloadAsync(ctx, s, []byte("v2"))
			if mode == SwapAtApply {
				waitFor(t, "v2 staged", readyStaged(s))
				go h.Apply(ctx) // commits v2, held in its migration
			}
			<-entered
			revert, requested := make(chan error, 1), requestedSince(s)
			go func() { revert <- h.Revert(ctx, s) }()
			waitFor(t, "the revert requested", requested)
			close(release)
			for done := false; !done; { // the game loop: Apply until the revert resolves
				h.Apply(ctx)
				select {
				case err := <-revert:
					if err != nil {
						t.Fatalf("Revert: %v, want it to go back from v2", err)
					}
					done = true
				default:
					time.Sleep(time.Millisecond)
				}
			}
			if err := reload.Err(); err != nil {
				t.Errorf("the reload the revert came during: %v, want it committed", err)
			}
			if got := callInt(t, h, s, "version"); s.Version() != 1 || got != 1 {
				t.Fatalf("after the revert: version %d, calls reach v%d; want v1", s.Version(), got)
			}
		})
	}
}

// Close cancels a migration that an Apply is running, as it does one that a
// reload's own goroutine runs, and waits for that Apply; the reload is
// rejected with ErrClosed.
func TestCloseCancelsApply(t *testing.T) {
	mig, entered, _ := blockingMigration(2)
	h, _ := newFakeHost(t, Config{Swap: SwapAtApply, Migration: mig})
	s := mustLoad(t, h, "s.wasm", "v1", nil)
	ctx := context.Background()
	p := h.ReloadAsync(ctx, s, []byte("v2"))
	waitFor(t, "v2 staged", readyStaged(s))
	applied := make(chan int)
	go func() { applied <- h.Apply(ctx) }()
	<-entered
	closed := make(chan error)
	go func() { closed <- h.Close(ctx) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for the migration instead of cancelling it")
	}
	select {
	case <-p.Done(): // the Apply resolved it before Close returned
	default:
		t.Fatal("Close returned while the Apply was still committing")
	}
	if !errors.Is(p.Err(), ErrClosed) {
		t.Errorf("reload: %v, want ErrClosed", p.Err())
	}
	if n := <-applied; n != 0 {
		t.Errorf("Apply committed %d after Close, want 0", n)
	}
}

// A ReloadAsync from a migration, with the migration's context, goes on after
// the commit that ran the migration (whose context then ends), in both modes.
func TestReloadAsyncFromMigration(t *testing.T) {
	for _, mode := range []SwapMode{SwapImmediate, SwapAtApply} {
		t.Run(fmt.Sprint("mode ", mode), func(t *testing.T) {
			var h *Host
			var s *Script
			later := make(chan *Pending, 1)
			h, _ = newFakeHost(t, Config{Swap: mode, Migration: func(ctx context.Context, m *Migration) error {
				if m.To == 2 {
					later <- h.ReloadAsync(ctx, s, []byte("v3"))
				}
				return nil
			}})
			s = mustLoad(t, h, "s.wasm", "v1", nil)
			ctx := context.Background()
			// settle runs frames (Apply) until p is resolved.
			settle := func(p *Pending) {
				for {
					h.Apply(ctx)
					select {
					case <-p.Done():
						if p.Err() != nil {
							t.Fatalf("reload: %v", p.Err())
						}
						return
					case <-time.After(time.Millisecond):
					}
				}
			}
			settle(h.ReloadAsync(ctx, s, []byte("v2")))
			settle(<-later)
			if got := callInt(t, h, s, "version"); s.Version() != 3 || got != 3 {
				t.Fatalf("version %d, calls reach v%d; want v3", s.Version(), got)
			}
		})
	}
}

// The Host copies the bytes it is given: a caller may reuse its buffer once
// LoadBytes or ReloadAsync returns, while the reload still stages and while the
// history keeps the versions.
func TestCallerMayReuseBuffers(t *testing.T) {
	h, e := newFakeHost(t, Config{})
	ctx := context.Background()
	buf := []byte("v1")
	s := mustLoad(t, h, "s.wasm", buf, nil)
	copy(buf, "v9")
	next := []byte("v2;gate=g")
	p := h.ReloadAsync(ctx, s, next)
	copy(next, "v8;gate=g") // while the reload waits to stage
	e.open("g")
	<-p.Done()
	if p.Err() != nil || callInt(t, h, s, "version") != 2 {
		t.Fatalf("reload: %v, version %d; want v2, the bytes given", p.Err(), callInt(t, h, s, "version"))
	}
	if err := h.Revert(ctx, s); err != nil || callInt(t, h, s, "version") != 1 {
		t.Fatalf("revert: %v, version %d; want v1, the bytes first loaded", err, callInt(t, h, s, "version"))
	}
}

// TestReserveAfterPublishedLoad: a load that has published its script holds
// its name through the script only: once the program unloads that script (on
// its Loaded event), a load of the name goes ahead while the first load is
// still ending, and that one's end leaves the new reservation alone (the
// Load failed with ErrExists on a loaded machine: TestWatchUnloadedFileKeepsOptions).
func TestReserveAfterPublishedLoad(t *testing.T) {
	h, _ := newFakeHost(t, Config{})
	first, err := h.reserve("a.wasm", "/x/a.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.reserve("a.wasm", "/x/a.wasm"); !errors.Is(err, ErrExists) {
		t.Fatalf("a second load while the first runs: %v, want ErrExists", err)
	}
	h.mu.Lock()
	first.published = true // and the program has unloaded its script since
	h.mu.Unlock()
	second, err := h.reserve("a.wasm", "/x/a.wasm")
	if err != nil {
		t.Fatalf("a load after the first one's script was published and unloaded: %v", err)
	}
	h.loaded("a.wasm", first)
	if h.loading("a.wasm") != second.done {
		t.Error("the first load's end dropped the second one's reservation")
	}
	h.loaded("a.wasm", second)
	if h.loading("a.wasm") != nil {
		t.Error("a reservation is left after both loads ended")
	}
}
