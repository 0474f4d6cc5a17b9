package hotscript

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotscript/hotscript/ecs"
	"github.com/hotscript/hotscript/internal/guest"
	"github.com/hotscript/hotscript/internal/hostguest"
	"github.com/hotscript/hotscript/internal/testtool"
	"github.com/hotscript/hotscript/lua"
	"github.com/hotscript/hotscript/wasm"
)

func newTestHost(t testing.TB, cfg Config) *Host {
	t.Helper()
	h, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close(context.Background()) })
	return h
}

func call(t testing.TB, h *Host, s *Script, fn string, args ...any) string {
	t.Helper()
	out, err := h.Call(context.Background(), s, fn, args...)
	if err != nil {
		t.Fatalf("Call(%s): %v", fn, err)
	}
	return string(out)
}

var enemyContract = &Contract{Exports: []string{"update(f32)", "fire()"}}

// TestWASMReloadRollsBack drives a reload into every failure path and checks the
// old version keeps running with exactly its state; then the paths that succeed.
func TestWASMReloadRollsBack(t *testing.T) {
	v2 := hostguest.Bytes("enemy_v2")
	tests := []struct {
		name    string
		next    []byte
		limits  *Limits
		want    []error // all must match; nil: committed
		message []string
	}{
		{"bad bytes", []byte("definitely not wasm"), nil, []error{wasm.ErrCompile}, nil},
		{"truncated module", v2[:len(v2)/2], nil, []error{wasm.ErrCompile}, nil},
		{"missing import", guest.Bytes("missing_import"), nil, []error{wasm.ErrInstantiate}, []string{"host.missing"}},
		{"contract broken", hostguest.Bytes("enemy_f64"), nil, []error{ErrContract},
			[]string{"update: was update(f32), now update(f64)", "removed: fire()"}},
		{"set_state traps", hostguest.Bytes("enemy_set_trap"), nil, []error{ErrMigration, wasm.ErrTrap}, []string{"set_state"}},
		{"no set_state", hostguest.Bytes("enemy_no_set"), nil, []error{ErrMigration}, []string{"set_state"}},
		{"set_state returns a failure code", hostguest.Bytes("enemy_set_fails"), nil, []error{ErrMigration},
			[]string{"set_state on v2 returned 1, a failure code"}},
		{"self-check fails", hostguest.Bytes("enemy_check_fail"), nil, []error{ErrSelfCheck}, []string{"hotscript: reload enemy.wasm: self-check failed: on_reload on v2 returned 7"}},
		{"limit hit in migration", hostguest.Bytes("enemy_set_loop"), &Limits{MaxExecutionTime: 20 * time.Millisecond},
			[]error{ErrMigration, wasm.ErrLimit}, []string{"set_state"}},
		{"commits", v2, nil, nil, nil},
		{"self-check passes", hostguest.Bytes("enemy_check_ok"), nil, nil, nil},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHost(t, Config{Migration: MigrateExports})
			s := mustLoad(t, h, "enemy.wasm", hostguest.Bytes("enemy_v1"),
				&ScriptOptions{Contract: enemyContract, Limits: tt.limits})
			for range 3 {
				call(t, h, s, "update", 0.016)
			}
			call(t, h, s, "fire")
			before := call(t, h, s, "get_state")

			checkReloadErr(t, h.Reload(ctx, s, tt.next), tt.want, append(tt.message, "enemy.wasm"))
			after := call(t, h, s, "get_state")
			if after != before {
				t.Errorf("state %s after the reload, want %s", after, before)
			}
			version := call(t, h, s, "version")
			ev := lastEvent(t, h)
			if tt.want != nil {
				if version != "1" || s.Version() != 1 || ev.Kind != Rejected || ev.Err == nil {
					t.Errorf("after a rejected reload: version() %s, Version %d, event %v", version, s.Version(), ev)
				}
				return
			}
			if version == "1" || s.Version() != 2 || ev.Kind != Committed {
				t.Errorf("after a committed reload: version() %s, Version %d, event %v", version, s.Version(), ev)
			}
			if !slices.Equal(ev.Carried, []string{"hp", "shots"}) {
				t.Errorf("Carried = %v, want [hp shots]", ev.Carried)
			}
		})
	}
}

func TestWASMMigrationPolicies(t *testing.T) {
	ctx := context.Background()
	type counterState struct{ Counter int }
	tests := []struct {
		name    string
		policy  MigrationFunc
		want    string // get_counter after the reload
		carried []string
	}{
		{"reset", MigrateReset, "0", nil},
		{"nil means reset", nil, "0", nil},
		{"go func through the world", func(ctx context.Context, m *Migration) error {
			out, err := m.CallOld(ctx, "get_counter")
			if err != nil {
				return err
			}
			var n int
			fmt.Sscan(string(out), &n)
			e := m.World.Spawn()
			if err := ecs.Insert(m.World, e, counterState{Counter: n}); err != nil {
				return err
			}
			st, _ := ecs.Get[counterState](m.World, e)
			if _, err := m.CallNew(ctx, "set_counter", st.Counter); err != nil {
				return err
			}
			m.Carry("counter")
			return nil
		}, "3", []string{"counter"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHost(t, Config{World: ecs.NewWorld(), Migration: tt.policy})
			s := mustLoad(t, h, "counter.wasm", guest.Bytes("counter_v1"), nil)
			for range 3 {
				call(t, h, s, "increment")
			}
			if err := h.Reload(ctx, s, guest.Bytes("counter_v2")); err != nil {
				t.Fatal(err)
			}
			if got := call(t, h, s, "get_counter"); got != tt.want {
				t.Errorf("get_counter = %s, want %s", got, tt.want)
			}
			if ev := lastEvent(t, h); !slices.Equal(ev.Carried, tt.carried) {
				t.Errorf("Carried = %v, want %v", ev.Carried, tt.carried)
			}
		})
	}
}

// TestMigrateExportsGainsState: under MigrateExports, a version without
// get_state has no state to give, so the version that adds the exports starts
// from its own state, and from then on the state is carried.
func TestMigrateExportsGainsState(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Config{Migration: MigrateExports})
	s := mustLoad(t, h, "enemy.wasm", guest.Bytes("counter_v1"), nil)
	if err := h.Reload(ctx, s, hostguest.Bytes("enemy_v1")); err != nil {
		t.Fatalf("reload into a version with get_state/set_state: %v", err)
	}
	if ev := lastEvent(t, h); ev.Kind != Committed || len(ev.Carried) != 0 {
		t.Errorf("event %v, want committed with nothing carried", ev)
	}
	call(t, h, s, "fire")
	if err := h.Reload(ctx, s, hostguest.Bytes("enemy_v2")); err != nil {
		t.Fatal(err)
	}
	if got := call(t, h, s, "shots"); got != "1" {
		t.Errorf("shots = %s after the next reload, want 1 (carried)", got)
	}
}

// MigrateExports moves a state that is one number, from get_state() i32 to
// set_state(i32), as it moves a JSON document (C's int get_state(void) and
// void set_state(int): such a module cannot return (ptr, len) without
// -mmultivalue, and every reload of it was rolled back).
func TestMigrateExportsNumberState(t *testing.T) {
	ctx := context.Background()
	for _, migrate := range []MigrationFunc{MigrateExports, MigrateExportsOrReset} {
		h := newTestHost(t, Config{Migration: migrate})
		s := mustLoad(t, h, "n.wasm", guest.Bytes("number_state"), nil)
		call(t, h, s, "bump", -7)
		if err := h.Reload(ctx, s, guest.Bytes("number_state")); err != nil {
			t.Fatalf("reload: %v", err)
		}
		if got := call(t, h, s, "get_state"); got != "-7" {
			t.Errorf("state after the reload = %s, want -7 (moved)", got)
		}
		if ev := lastEvent(t, h); ev.Kind != Committed || !slices.Equal(ev.Carried, []string{"state"}) {
			t.Errorf("event %v, want committed, carrying state", ev)
		}
	}
}

// MigrateExports moves a number state as it is, bits and all: a NaN (its
// payload too), an infinity, which JSON has no form for (every reload of such
// a state failed, or under MigrateExportsOrReset reset it), and -0.
func TestMigrateExportsNumberStateExact(t *testing.T) {
	ctx := context.Background()
	for _, poison := range [][2]float64{{0, 0}, {1, 0}, {-1, 0}, {-1, math.Inf(1)}} {
		for _, migrate := range []MigrationFunc{MigrateExports, MigrateExportsOrReset} {
			h := newTestHost(t, Config{Migration: migrate})
			s := mustLoad(t, h, "f.wasm", guest.Bytes("float_state"), nil)
			call(t, h, s, "poison", poison[0], poison[1])
			before := call(t, h, s, "bits")
			if err := h.Reload(ctx, s, guest.Bytes("float_state")); err != nil {
				t.Fatalf("%v / %v: reload: %v", poison[0], poison[1], err)
			}
			if got := call(t, h, s, "bits"); got != before {
				t.Errorf("%v / %v: bits %s after the reload, want %s (moved as they were)", poison[0], poison[1], got, before)
			}
			if ev := lastEvent(t, h); ev.Kind != Committed || ev.Reset != nil || !slices.Equal(ev.Carried, []string{"state"}) {
				t.Errorf("%v / %v: event %v, want committed, carrying state", poison[0], poison[1], ev)
			}
		}
	}
}

// TestCarriedStateWithoutKeys: a state document without keys of its own (a
// number, a string, a list) is reported carried as "state"; an object by its
// keys.
func TestCarriedStateWithoutKeys(t *testing.T) {
	ctx := context.Background()
	for doc, want := range map[string][]string{`42`: {"state"}, `"hello"`: {"state"}, `[1,2]`: {"state"}, `{"b":1,"a":2}`: {"a", "b"}} {
		h := newTestHost(t, Config{Migration: MigrateExports})
		s := mustLoad(t, h, "s.wasm", guest.Bytes("json_state"), nil)
		call(t, h, s, "set_state", json.RawMessage(doc))
		if err := h.Reload(ctx, s, guest.Bytes("json_state")); err != nil {
			t.Fatal(err)
		}
		if got := call(t, h, s, "get_state"); got != doc {
			t.Errorf("state %s after the reload, want %s", got, doc)
		}
		if ev := lastEvent(t, h); !slices.Equal(ev.Carried, want) {
			t.Errorf("state %s: Carried %q, want %q", doc, ev.Carried, want)
		}
	}
}

// TestMigrateExportsOrResetSignature: a new set_state that cannot take the old
// state (a number where get_state gives a document; a document, in a module
// without alloc to write it with) is refused before it runs: MigrateExports
// rolls the reload back, MigrateExportsOrReset starts the new version afresh
// (it rolled every save back, under hotscript run).
func TestMigrateExportsOrResetSignature(t *testing.T) {
	ctx := context.Background()
	for _, next := range []struct {
		module string
		kind   error  // of MigrateExports' refusal
		fresh  string // what the fresh version's probe returns
		probe  string
	}{
		{"number_state", wasm.ErrSignature, "0", "get_state"},
		{"no_alloc", wasm.ErrNoFunction, "0", "was_set"},
	} {
		for _, orReset := range []bool{false, true} {
			h := newTestHost(t, Config{Migration: map[bool]MigrationFunc{false: MigrateExports, true: MigrateExportsOrReset}[orReset]})
			s := mustLoad(t, h, "s.wasm", guest.Bytes("json_state"), nil)
			err := h.Reload(ctx, s, guest.Bytes(next.module))
			switch {
			case orReset && err != nil:
				t.Errorf("%s, MigrateExportsOrReset: %v, want the new version live, afresh", next.module, err)
			case orReset && call(t, h, s, next.probe) != next.fresh:
				t.Errorf("%s: %s() = %s after the reload, want %s (afresh)", next.module, next.probe, call(t, h, s, next.probe), next.fresh)
			case orReset:
				if ev := nextEvent(t, h, func(ev Event) bool { return ev.Kind == Committed }); !errors.Is(ev.Reset, next.kind) || !strings.Contains(ev.Reset.Error(), "set_state on v2") || ev.PastFailingOnSave() {
					t.Errorf("%s: the event's reset %v, want set_state on v2 refused with %v (a reset, not past a Lua on_save)", next.module, ev.Reset, next.kind)
				}
			case !orReset && !errors.Is(err, next.kind):
				t.Errorf("%s, MigrateExports: %v, want the reload rolled back with %v", next.module, err, next.kind)
			}
		}
	}
}

// A MigrationFunc runs while its script's callers wait: what it asks of that
// script through the Host with its context (a call, a reload or revert waited
// for, Close) fails at once with ErrReentrant, the reload rolls back and the
// old version keeps its state; Apply from it does nothing. Calling and
// reloading another script works, except a Reload waited for under
// SwapAtApply, which would wait for the Apply running the migration.
func TestMigrationCallsBack(t *testing.T) {
	ctx := context.Background()
	var h *Host
	var s, other *Script
	for name, tt := range map[string]struct {
		swap   SwapMode
		reject bool
		do     func(ctx context.Context) error
		says   string // in the error from the migration
	}{
		"Call": {do: func(ctx context.Context) error {
			_, err := h.Call(ctx, s, "get_counter")
			return err
		}, reject: true},
		"Reload": {do: func(ctx context.Context) error { return h.Reload(ctx, s, guest.Bytes("counter_v1")) }, reject: true,
			says: "called from a migration of counter.wasm"},
		"Revert": {do: func(ctx context.Context) error { return h.Revert(ctx, s) }, reject: true, says: "called from a migration of counter.wasm"},
		"Close":  {do: func(ctx context.Context) error { return h.Close(ctx) }, reject: true, says: "called from a migration of counter.wasm"},
		"Reload at Apply": {swap: SwapAtApply, do: func(ctx context.Context) error { return h.Reload(ctx, other, guest.Bytes("counter_v2")) },
			reject: true, says: "called from a migration of counter.wasm"},
		"Apply": {swap: SwapAtApply, do: func(ctx context.Context) error {
			h.ReloadAsync(ctx, s, guest.Bytes("counter_v1")) // staged while s commits
			for !readyStaged(s)() {
				time.Sleep(time.Millisecond)
			}
			if n := h.Apply(ctx); n != 0 {
				return fmt.Errorf("Apply from a migration committed %d", n)
			}
			return nil
		}},
		"Call other":   {do: func(ctx context.Context) error { _, err := h.Call(ctx, other, "get_counter"); return err }},
		"Reload other": {do: func(ctx context.Context) error { return h.Reload(ctx, other, guest.Bytes("counter_v2")) }},
	} {
		t.Run(name, func(t *testing.T) {
			var inner error
			h = newTestHost(t, Config{Swap: tt.swap, Migration: func(ctx context.Context, m *Migration) error {
				inner = tt.do(ctx)
				return inner
			}})
			s = mustLoad(t, h, "counter.wasm", guest.Bytes("counter_v1"), nil)
			other = mustLoad(t, h, "other.wasm", guest.Bytes("counter_v1"), &ScriptOptions{Migration: MigrateReset})
			call(t, h, s, "increment")
			p := h.ReloadAsync(ctx, s, guest.Bytes("counter_v2"))
			err := testtool.Returns(t, "a reload whose migration calls back", func() error {
				for {
					h.Apply(ctx)
					select {
					case <-p.Done():
						return p.Err()
					case <-time.After(time.Millisecond):
					}
				}
			})
			if !tt.reject {
				if inner != nil || err != nil {
					t.Fatalf("from the migration: %v; reload: %v; want both to work", inner, err)
				}
				return
			}
			if !errors.Is(inner, wasm.ErrReentrant) || !errors.Is(err, ErrMigration) {
				t.Fatalf("from the migration: %v; reload: %v; want ErrReentrant, then ErrMigration", inner, err)
			}
			if !strings.Contains(inner.Error(), tt.says) {
				t.Errorf("from the migration: %v, want it to say %q", inner, tt.says)
			}
			if got := call(t, h, s, "get_counter"); got != "1" || s.Version() != 1 {
				t.Fatalf("after the rollback: v%d, counter %s; want v1 with its counter 1", s.Version(), got)
			}
		})
	}
}

func TestWASMRevert(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Config{Migration: MigrateExports})
	s := mustLoad(t, h, "enemy.wasm", hostguest.Bytes("enemy_v1"), nil)
	call(t, h, s, "fire")
	if err := h.Reload(ctx, s, hostguest.Bytes("enemy_v2")); err != nil {
		t.Fatal(err)
	}
	call(t, h, s, "fire")
	if err := h.Revert(ctx, s); err != nil {
		t.Fatal(err)
	}
	if v, shots := call(t, h, s, "version"), call(t, h, s, "shots"); v != "1" || shots != "2" {
		t.Errorf("after Revert: version %s shots %s, want 1 and 2 (state carried by the policy)", v, shots)
	}
	if ev := lastEvent(t, h); ev.Kind != Reverted || ev.From != 2 || ev.To != 1 {
		t.Errorf("event %v, want reverted v2 -> v1", ev)
	}
	if err := h.Revert(ctx, s); !errors.Is(err, ErrNoHistory) {
		t.Errorf("second Revert = %v, want ErrNoHistory", err)
	}
}

func TestWASMEventContent(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Config{Migration: MigrateExports})
	s := mustLoad(t, h, "enemy.wasm", hostguest.Bytes("enemy_v1"), nil)
	if ev := lastEvent(t, h); ev.Kind != Loaded || ev.To != 1 || len(ev.Diff.Exports.Added) == 0 || ev.CompileTime <= 0 {
		t.Errorf("load event %+v, want v1 with its exports and compile time", ev)
	}
	if _, err := h.LoadBytes(ctx, "junk.wasm", []byte("\x00asm\x01\x00\x00\x00\x7f"), nil); err == nil {
		t.Error("a malformed module loaded")
	}
	if ev := lastEvent(t, h); ev.Kind != Rejected || ev.Script != "junk.wasm" || ev.To != 0 || ev.Err == nil || ev.CompileTime <= 0 {
		t.Errorf("failed load event %+v, want rejected v0 with the error and compile time", ev)
	}
	call(t, h, s, "update", 0.5) // enemy_check_ok's self-check wants migrated state
	if err := h.Reload(ctx, s, hostguest.Bytes("enemy_check_ok")); err != nil {
		t.Fatal(err)
	}
	ev := lastEvent(t, h)
	if ev.Kind != Committed || ev.Script != "enemy.wasm" || ev.From != 1 || ev.To != 2 || ev.Err != nil {
		t.Errorf("event %+v", ev)
	}
	if ev.CompileTime <= 0 || ev.SwapTime <= 0 {
		t.Errorf("CompileTime %v SwapTime %v, want both measured", ev.CompileTime, ev.SwapTime)
	}
	if got := ev.Diff.String(); got != "added: on_reload() i32; set_state: was set_state(i32, i32), now set_state(i32, i32) i32" {
		t.Errorf("Diff = %q", got)
	}
	if f, ok := s.Interface().Export("on_reload"); !ok || f.String() != "on_reload() i32" {
		t.Errorf("Interface().Export(on_reload) = %v, %v; want the committed version's signature", f, ok)
	}
	err := h.Reload(ctx, s, guest.Bytes("counter_v1"))
	ev = lastEvent(t, h)
	// counter_v1 has no set_state, so MigrateExports rejects it; the event still
	// carries the interface diff.
	if !errors.Is(err, ErrMigration) || ev.Kind != Rejected || !strings.Contains(ev.Diff.String(), "removed: fire()") ||
		!strings.Contains(ev.Diff.String(), "added: increment()") {
		t.Errorf("reload to an unrelated module: %v, diff %q", err, ev.Diff)
	}
	if _, ok := s.Interface().Export("increment"); ok {
		t.Error("a rejected version's exports show in Interface")
	}
	st := h.Stats(s)
	if st.Reloads != 1 || st.FailedReloads != 1 || st.Calls != 1 || st.Version != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestWASMStats(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Config{})
	s := mustLoad(t, h, "counter.wasm", guest.Bytes("counter_v1"), nil)
	for range 5 {
		call(t, h, s, "increment")
	}
	if _, err := h.Call(ctx, s, "nope"); !errors.Is(err, wasm.ErrNoFunction) {
		t.Errorf("unknown function: %v", err)
	}
	st := h.Stats(s)
	if st.Calls != 6 || st.Errors != 1 || st.CallTime <= 0 || st.Version != 1 || st.Versions != 1 {
		t.Errorf("stats %+v", st)
	}
	if st := h.Stats(nil); st != (Stats{}) {
		t.Errorf("stats of a nil script %+v, want zero", st)
	}
}

// TestWASMReloadStorm: hundreds of reloads alternating versions while 4 goroutines
// call; no call fails because of a swap, and every answer comes from one whole
// version (tick() answers version*1e6 + a counter that the same call advanced).
func TestWASMReloadStorm(t *testing.T) {
	for _, mode := range []SwapMode{SwapImmediate, SwapAtApply} {
		t.Run(fmt.Sprint("mode ", mode), func(t *testing.T) {
			ctx := context.Background()
			h := newTestHost(t, Config{Swap: mode, EventBuffer: 1})
			s := mustLoad(t, h, "counter.wasm", guest.Bytes("counter_v1"), nil)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						out, err := h.Call(ctx, s, "tick")
						if err != nil {
							t.Errorf("call during reloads: %v", err)
							return
						}
						var n int
						fmt.Sscan(string(out), &n)
						if v, c := n/1_000_000, n%1_000_000; v < 1 || v > 2 || c < 1 {
							t.Errorf("tick() = %d: not from one whole version", n)
							return
						}
					}
				})
			}
			if mode == SwapAtApply {
				wg.Go(func() { // the game loop
					for {
						select {
						case <-stop:
							return
						default:
							h.Apply(ctx)
							time.Sleep(100 * time.Microsecond)
						}
					}
				})
			}
			versions := [][]byte{guest.Bytes("counter_v1"), guest.Bytes("counter_v2")}
			for i := range 200 {
				if err := h.Reload(ctx, s, versions[(i+1)%2]); err != nil {
					t.Fatalf("reload %d: %v", i, err)
				}
			}
			close(stop)
			wg.Wait()
			if st := h.Stats(s); st.Reloads != 200 || st.Errors != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// Unload while goroutines call and reload the script: every call and reload
// ends in success, or, once Unload has begun, ErrUnloaded (a reload may also
// be superseded by the next); nothing hangs and nothing else fails.
func TestUnloadWhileBusy(t *testing.T) {
	for _, mode := range []SwapMode{SwapImmediate, SwapAtApply} {
		t.Run(fmt.Sprint("mode ", mode), func(t *testing.T) {
			ctx := context.Background()
			h := newTestHost(t, Config{Swap: mode})
			s := mustLoad(t, h, "counter.wasm", guest.Bytes("counter_v1"), nil)
			var wg sync.WaitGroup
			stop := make(chan struct{})
			var mu sync.Mutex
			var bad []error
			report := func(err error, ok ...error) {
				for _, o := range append(ok, ErrUnloaded) {
					if err == nil || errors.Is(err, o) {
						return
					}
				}
				mu.Lock()
				bad = append(bad, err)
				mu.Unlock()
			}
			for range 2 {
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						_, err := h.Call(ctx, s, "increment")
						report(err)
						h.Apply(ctx)
					}
				})
			}
			var pending []*Pending
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					pending = append(pending, h.ReloadAsync(ctx, s, guest.Bytes([]string{"counter_v1", "counter_v2"}[i%2])))
					time.Sleep(200 * time.Microsecond)
				}
			})
			time.Sleep(50 * time.Millisecond)
			if err := h.Unload(ctx, s); err != nil {
				t.Fatal(err)
			}
			close(stop)
			wg.Wait()
			for _, p := range pending {
				select {
				case <-p.Done():
					report(p.Err(), ErrSuperseded)
				case <-time.After(10 * time.Second):
					t.Fatal("a reload unresolved 10 s after Unload")
				}
			}
			if len(bad) > 0 {
				t.Fatalf("%d unexpected errors, first: %v", len(bad), bad[0])
			}
		})
	}
}

// TestMigrationSwallowsFailedCall: a MigrationFunc that ignores the error of a
// call that trapped or hit a limit still rolls the reload back, with that
// call's error: the new version would run on state it never got.
func TestMigrationSwallowsFailedCall(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name       string
		live, next string
		limits     *Limits
		migrate    MigrationFunc
		want       []error
		message    string
	}{
		{"CallNew traps", "enemy_v1", "enemy_set_trap", nil, func(ctx context.Context, m *Migration) error {
			doc, _ := m.CallOld(ctx, "get_state")
			m.CallNew(ctx, "set_state", doc)
			return nil
		}, []error{ErrMigration, wasm.ErrTrap}, "set_state"},
		{"CallOld hits a limit", "enemy_set_loop", "enemy_v2", &Limits{MaxExecutionTime: 20 * time.Millisecond},
			func(ctx context.Context, m *Migration) error {
				m.CallOld(ctx, "set_state", json.RawMessage(`{"hp":1,"shots":1}`))
				return nil
			}, []error{ErrMigration, wasm.ErrLimit}, "set_state"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHost(t, Config{})
			s := mustLoad(t, h, "enemy.wasm", hostguest.Bytes(tt.live), &ScriptOptions{Migration: tt.migrate, Limits: tt.limits})
			call(t, h, s, "update", 0.016)
			before := call(t, h, s, "get_state")
			checkReloadErr(t, h.Reload(ctx, s, hostguest.Bytes(tt.next)), tt.want,
				[]string{"hotscript: reload enemy.wasm: state migration failed: ", tt.message})
			if after := call(t, h, s, "get_state"); after != before || s.Version() != 1 {
				t.Errorf("after the rollback: state %s (want %s), Version %d", after, before, s.Version())
			}
			if ev := lastEvent(t, h); ev.Kind != Rejected {
				t.Errorf("event %v, want rejected", ev)
			}
		})
	}
}

// TestSwapTimeExcludesWait: a reload that waits for a lease in progress
// reports as SwapTime only the time it held the script, for both engines,
// whether it commits or its self-check rejects it.
func TestSwapTimeExcludesWait(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Config{})
	ws := mustLoad(t, h, "c.wasm", guest.Bytes("counter_v1"), nil)
	ls := mustLoad(t, h, "c.lua", "return {}", nil)
	const held = 150 * time.Millisecond
	for _, tt := range []struct {
		name     string
		s        *Script
		acquire  func() (release func(), err error)
		next     []byte
		rejected bool
	}{
		{"wasm", ws, acquirer(ws), guest.Bytes("counter_v2"), false},
		{"lua", ls, acquirer(ls), []byte("return { n = 1 }"), false},
		{"lua rejected", ls, acquirer(ls),
			[]byte("return { on_reload = function() return false end }"), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			release, err := tt.acquire()
			if err != nil {
				t.Fatal(err)
			}
			p := h.ReloadAsync(ctx, tt.s, tt.next)
			time.Sleep(held)
			release()
			if err := waitPending(p); (err != nil) != tt.rejected {
				t.Fatalf("reload: %v, want rejected %v", err, tt.rejected)
			}
			if ev := p.Event(); ev.SwapTime <= 0 || ev.SwapTime >= held/2 {
				t.Errorf("SwapTime %v after a lease held %v during the reload, want the swap's alone", ev.SwapTime, held)
			}
		})
	}
}

// TestNewerRequestWhileCommitWaits: a reload whose commit waits for a lease in
// progress is superseded by a request made meanwhile, for both engines, as
// Reload says (the newest wins): it committed once the lease ended, and the
// newer one after it.
func TestNewerRequestWhileCommitWaits(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Config{})
	ws := mustLoad(t, h, "c.wasm", guest.Bytes("counter_v1"), nil)
	ls := mustLoad(t, h, "c.lua", "return {}", nil)
	for _, tt := range []struct {
		s            *Script
		acquire      func() (release func(), err error)
		older, newer []byte
	}{
		{ws, acquirer(ws), guest.Bytes("counter_v2"), guest.Bytes("counter_v3")},
		{ls, acquirer(ls), []byte("return { n = 2 }"), []byte("return { n = 3 }")},
	} {
		t.Run(tt.s.Name(), func(t *testing.T) {
			release, err := tt.acquire()
			if err != nil {
				t.Fatal(err)
			}
			older := h.ReloadAsync(ctx, tt.s, tt.older)
			waitFor(t, "the commit waiting for the lease", committing(tt.s))
			newer := h.ReloadAsync(ctx, tt.s, tt.newer)
			release()
			if err := waitPending(older); !errors.Is(err, ErrSuperseded) {
				t.Errorf("the older reload: %v, want ErrSuperseded", err)
			}
			if err := waitPending(newer); err != nil {
				t.Fatalf("the newer reload: %v", err)
			}
			if ev := newer.Event(); ev.Kind != Committed || tt.s.Version() != ev.To {
				t.Errorf("the newer reload's event %v, live version %d", ev, tt.s.Version())
			}
		})
	}
}

// TestApplyFrameEnds: under SwapAtApply, a reload that Apply's context stops
// while a lease holds its script stays for the next Apply, for both engines;
// the reload's own context ending meanwhile rejects it, as the Host says.
func TestApplyFrameEnds(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Config{Swap: SwapAtApply})
	ws := mustLoad(t, h, "c.wasm", guest.Bytes("counter_v1"), nil)
	ls := mustLoad(t, h, "c.lua", "return { version = function() return 1 end }", nil)
	for _, tt := range []struct {
		s    *Script
		next []byte
	}{
		{ws, guest.Bytes("counter_v2")},
		{ls, []byte("return { version = function() return 2 end }")},
	} {
		t.Run(tt.s.Name(), func(t *testing.T) {
			p := h.ReloadAsync(ctx, tt.s, tt.next)
			waitFor(t, "the reload staged", readyStaged(tt.s))
			release, err := acquirer(tt.s)()
			if err != nil {
				t.Fatal(err)
			}
			frame, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			n := h.Apply(frame)
			cancel()
			if !readyStaged(tt.s)() {
				t.Error("the version is not staged right after Apply: it was given up (and staged again)")
			}
			release()
			if n != 0 {
				t.Errorf("Apply while a lease outlives its context = %d, want 0", n)
			}
			select {
			case <-p.Done():
				t.Fatalf("the reload was resolved by Apply's context: %v", p.Err())
			default:
			}
			waitFor(t, "the reload staged again", readyStaged(tt.s))
			if n := h.Apply(ctx); n != 1 {
				t.Errorf("the next Apply = %d, want 1", n)
			}
			if err := waitPending(p); err != nil {
				t.Fatal(err)
			}
			if v := call(t, h, tt.s, "version"); v != "2" || tt.s.Version() != 2 {
				t.Errorf("after the next Apply: version() %s, Version %d, want 2", v, tt.s.Version())
			}
		})
	}
	t.Run("reload's context", func(t *testing.T) {
		rctx, rcancel := context.WithCancel(ctx)
		p := h.ReloadAsync(rctx, ws, guest.Bytes("counter_v1"))
		waitFor(t, "the reload staged", readyStaged(ws))
		release, err := acquirer(ws)()
		if err != nil {
			t.Fatal(err)
		}
		time.AfterFunc(20*time.Millisecond, rcancel)
		n := h.Apply(ctx) // waits for the lease until the reload's context ends
		release()
		err = waitPending(p)
		if n != 0 || p.Event().Kind != Rejected || !errors.Is(err, context.Canceled) ||
			!strings.HasPrefix(err.Error(), "hotscript: reload c.wasm: ") {
			t.Errorf("Apply = %d; reload %v: %v, want rejected, context canceled, named by the Host", n, p.Event().Kind, err)
		}
	})
}

// TestApplyFrameOverBeforeItsTurn: a reload whose turn comes after Apply's
// context ended (another script's migration took the frame, or the frame was
// over when Apply was called) stays for the next Apply: nothing of it ran.
// A Lua version with hooks was rejected, its hooks failing at once.
func TestApplyFrameOverBeforeItsTurn(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Config{Swap: SwapAtApply})
	ls := mustLoad(t, h, "b.lua", "return { v = 1, on_save = function() return {} end }", nil)
	p := h.ReloadAsync(ctx, ls, []byte("local M = { v = 2 } function M.on_restore() end return M"))
	waitFor(t, "the reload staged", readyStaged(ls))
	over, cancel := context.WithCancel(ctx)
	cancel()
	if n := h.Apply(over); n != 0 || resolved(p) {
		t.Fatalf("Apply with its context over = %d, reload resolved %v (%v): want it kept", n, resolved(p), p.Err())
	}
	if n := h.Apply(ctx); n != 1 {
		t.Errorf("the next Apply = %d, want 1", n)
	}
	if err := waitPending(p); err != nil || ls.Version() != 2 {
		t.Errorf("reload: %v, Version %d; want committed as v2", err, ls.Version())
	}
}

// TestApplyFrameTooShort: under SwapAtApply, a reload whose migration (WASM)
// or hooks (Lua) Apply's context stops is rejected with that context's error,
// the old version and its state kept. It was staged again for the next Apply,
// which stopped it again, forever: the reload never resolved, and its
// migration or hooks ran again every frame.
func TestApplyFrameTooShort(t *testing.T) {
	ctx := context.Background()
	var migrations atomic.Int64
	slow := func(ctx context.Context, m *Migration) error {
		migrations.Add(1)
		select {
		case <-time.After(time.Second):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	h := newTestHost(t, Config{Swap: SwapAtApply, Migration: slow})
	ws := mustLoad(t, h, "c.wasm", guest.Bytes("counter_v1"), nil)
	ls := mustLoad(t, h, "c.lua", "return { v = 1, on_save = function() return {} end }", nil)
	for _, tt := range []struct {
		s    *Script
		next []byte
	}{
		{ws, guest.Bytes("counter_v2")},
		{ls, []byte("local M = {} function M.on_restore() while true do end end return M")},
	} {
		t.Run(tt.s.Name(), func(t *testing.T) {
			p := h.ReloadAsync(ctx, tt.s, tt.next)
			for i := 0; i < 3; i++ {
				waitFor(t, "the reload staged", func() bool { return readyStaged(tt.s)() || resolved(p) })
				frame, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
				h.Apply(frame)
				cancel()
				if resolved(p) {
					break
				}
			}
			if !resolved(p) {
				t.Fatal("three Applies stopped the reload in its migration or hooks, and it is still pending")
			}
			if err := waitPending(p); p.Event().Kind != Rejected || !errors.Is(err, context.DeadlineExceeded) || tt.s.Version() != 1 {
				t.Errorf("reload %v: %v, Version %d; want rejected by the frame's deadline, version 1", p.Event().Kind, err, tt.s.Version())
			}
		})
	}
	if n := migrations.Load(); n != 1 {
		t.Errorf("the WASM migration ran %d times, want 1", n)
	}
}

// TestMigrateExportsOrReset: state moves through get_state/set_state; the fix of
// a version whose get_state traps goes live, started afresh, where
// MigrateExports rejects it (and every save after it); a version whose
// set_state traps is still rejected, the state kept.
func TestMigrateExportsOrReset(t *testing.T) {
	for _, tt := range []struct {
		name    string
		migrate MigrationFunc
		fixLive bool
	}{{"MigrateExportsOrReset", MigrateExportsOrReset, true}, {"MigrateExports", MigrateExports, false}} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			h := newTestHost(t, Config{Migration: tt.migrate})
			s := mustLoad(t, h, "enemy.wasm", hostguest.Bytes("enemy_v1"), nil)
			h.Call(ctx, s, "fire")
			if err := h.Reload(ctx, s, hostguest.Bytes("enemy_get_trap")); err != nil || call(t, h, s, "shots") != "1" {
				t.Fatalf("reload into a version whose get_state traps: %v, shots %s (want 1, carried)", err, call(t, h, s, "shots"))
			}
			if ev := nextEvent(t, h, func(ev Event) bool { return ev.Kind == Committed }); ev.Reset != nil || len(ev.Carried) == 0 {
				t.Errorf("a carried state: %v, want no reset", ev)
			}
			err := h.Reload(ctx, s, hostguest.Bytes("enemy_v2"))
			if !tt.fixLive {
				if !errors.Is(err, ErrMigration) || call(t, h, s, "shots") != "1" {
					t.Fatalf("the fix under MigrateExports: %v, shots %s (want rejected, 1 kept)", err, call(t, h, s, "shots"))
				}
				return
			}
			if err != nil || call(t, h, s, "shots") != "0" {
				t.Fatalf("the fix of a broken get_state: %v, shots %s (want it live, started afresh)", err, call(t, h, s, "shots"))
			}
			// The event says why the state was dropped.
			ev := nextEvent(t, h, func(ev Event) bool { return ev.Kind == Committed })
			if !errors.Is(ev.Reset, wasm.ErrTrap) || !strings.Contains(ev.String(), "(state reset: get_state on v2: ") {
				t.Errorf("the fix's event: %v (reset %v), want the state reset, get_state on v2's trap the reason", ev, ev.Reset)
			}
			h.Call(ctx, s, "fire")
			if err := h.Reload(ctx, s, hostguest.Bytes("enemy_set_trap")); !errors.Is(err, ErrMigration) || call(t, h, s, "shots") != "1" {
				t.Errorf("a version whose set_state traps: %v, shots %s (want rejected, 1 kept)", err, call(t, h, s, "shots"))
			}
		})
	}
}

// A script's engine handle (Script.WASM, Script.Lua) gives the engine's fast
// paths, which follow the Host's reloads and reverts, under SwapAtApply only
// once Apply commits, and fail with the engine's ErrNotFound after Unload.
func TestEngineHandles(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Config{Swap: SwapAtApply, Migration: MigrateExports})
	ws := mustLoad(t, h, "enemy.wasm", hostguest.Bytes("enemy_v1"), nil)
	ls := mustLoad(t, h, "enemy.lua", `return { version = function() return 1 end }`, nil)
	if _, _, ok := ws.Lua(); ok {
		t.Error("a WASM script's Lua() reports ok")
	}
	if _, _, ok := ls.WASM(); ok {
		t.Error("a Lua script's WASM() reports ok")
	}
	wrt, wid, _ := ws.WASM()
	lrt, lid, _ := ls.Lua()
	wf, err := wrt.Func(wid, "version")
	if err != nil {
		t.Fatal(err)
	}
	lf, err := lrt.Func(lid, "version")
	if err != nil {
		t.Fatal(err)
	}
	versions := func() (w uint64, l float64) {
		t.Helper()
		lease, err := wrt.Acquire(ctx, wid) // a frame's lease, as a game takes it
		if err != nil {
			t.Fatal(err)
		}
		defer lease.Release()
		stack := []uint64{0}
		if err := lease.Call(ctx, wf, stack); err != nil {
			t.Fatal(err)
		}
		if l, err = lf.Call(ctx); err != nil {
			t.Fatal(err)
		}
		return stack[0], l
	}
	if w, l := versions(); w != 1 || l != 1 {
		t.Fatalf("versions %d and %v, want 1 and 1", w, l)
	}
	pw := h.ReloadAsync(ctx, ws, hostguest.Bytes("enemy_v2"))
	pl := h.ReloadAsync(ctx, ls, []byte(`return { version = function() return 2 end }`))
	for _, s := range []*Script{ws, ls} {
		waitFor(t, s.name+"'s reload staged", readyStaged(s))
	}
	if w, l := versions(); w != 1 || l != 1 {
		t.Errorf("before Apply: versions %d and %v, want 1 and 1", w, l)
	}
	h.Apply(ctx)
	if err := errors.Join(waitPending(pw), waitPending(pl)); err != nil {
		t.Fatal(err)
	}
	if w, l := versions(); w != 2 || l != 2 {
		t.Errorf("after Apply: versions %d and %v, want 2 and 2", w, l)
	}
	for _, s := range []*Script{ws, ls} {
		if err := h.Unload(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := wf.Call(ctx, []uint64{0}); !errors.Is(err, wasm.ErrNotFound) {
		t.Errorf("WASM Func after Unload: %v, want wasm.ErrNotFound", err)
	}
	if _, err := lf.Call(ctx); !errors.Is(err, lua.ErrNotFound) {
		t.Errorf("Lua Func after Unload: %v, want lua.ErrNotFound", err)
	}
}

func waitPending(p *Pending) error {
	<-p.Done()
	return p.Err()
}

// TestMigrationUndo: what a MigrationFunc changed in the World is put back by
// the functions it registered with Undo, most recent first, when the reload is
// rejected after it (its own error, a failed self-check), and left alone when
// the reload commits.
func TestMigrationUndo(t *testing.T) {
	type HP struct{ N int }
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		next   []byte
		fail   bool // the migration fails after its changes
		panics bool // an Undo function panics
		want   []error
	}{
		{"commit", hostguest.Bytes("enemy_v2"), false, false, nil},
		{"self-check fails", hostguest.Bytes("enemy_check_fail"), false, false, []error{ErrSelfCheck}},
		{"migration fails", hostguest.Bytes("enemy_v2"), true, false, []error{ErrMigration}},
		{"undo panics", hostguest.Bytes("enemy_check_fail"), false, true, []error{ErrSelfCheck}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			world := ecs.NewWorld()
			e := world.Spawn()
			ecs.Insert(world, e, HP{100})
			var order []string
			migrate := func(ctx context.Context, m *Migration) error {
				hp := ecs.Ref[HP](m.World, e)
				was := *hp
				hp.N *= 10 // the new version counts tenths
				m.Undo(func() { order = append(order, "first"); *hp = was })
				m.Undo(func() {
					order = append(order, "second")
					if tt.panics {
						panic("undo broke")
					}
				})
				if tt.fail {
					return errors.New("no room")
				}
				return nil
			}
			h := newTestHost(t, Config{World: world, Migration: migrate})
			s := mustLoad(t, h, "enemy.wasm", hostguest.Bytes("enemy_v1"), nil)
			err := h.Reload(ctx, s, tt.next)
			checkReloadErr(t, err, tt.want, nil)
			hp, _ := ecs.Get[HP](world, e)
			switch {
			case tt.want == nil && (hp.N != 1000 || len(order) != 0):
				t.Errorf("committed: hp %d, undo ran %v; want 1000 and none", hp.N, order)
			case tt.want != nil && (hp.N != 100 || strings.Join(order, ",") != "second,first"):
				t.Errorf("rejected: hp %d, undo ran %v; want 100, second then first", hp.N, order)
			case tt.panics && !strings.Contains(err.Error(), "an Undo function panicked: undo broke"):
				t.Errorf("the reload's error does not report the panic: %v", err)
			}
		})
	}
}

// TestMigrationUndoWhenSuperseded: a reload superseded at its swap by a request
// made while its migration ran runs the migration's Undo functions, in both
// modes, as a failed one does: the old version keeps running, and it ran on
// the state converted for the new one (helper-126).
func TestMigrationUndoWhenSuperseded(t *testing.T) {
	for _, mode := range []SwapMode{SwapImmediate, SwapAtApply} {
		t.Run(mode.String(), func(t *testing.T) {
			ctx := context.Background()
			var converted atomic.Int32
			entered, release := make(chan struct{}), make(chan struct{})
			var first atomic.Bool
			mig := func(ctx context.Context, m *Migration) error {
				converted.Add(1)
				m.Undo(func() { converted.Add(-1) })
				if first.CompareAndSwap(false, true) {
					close(entered)
					<-release
				}
				return nil
			}
			h := newTestHost(t, Config{Swap: mode, Migration: mig})
			s := mustLoad(t, h, "c.wasm", guest.Bytes("counter_v1"), nil)
			older := h.ReloadAsync(ctx, s, guest.Bytes("counter_v2"))
			applied := make(chan int, 1)
			if mode == SwapAtApply {
				waitFor(t, "v2 staged", readyStaged(s))
				go func() { applied <- h.Apply(ctx) }()
			}
			<-entered
			newer := h.ReloadAsync(ctx, s, []byte("not wasm")) // the newest wins, even if it then fails
			waitFor(t, "newer requested", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.overtake > 1 })
			close(release)
			if err := waitPending(older); !errors.Is(err, ErrSuperseded) {
				t.Fatalf("older: %v, want ErrSuperseded", err)
			}
			if err := waitPending(newer); err == nil {
				t.Fatalf("newer committed")
			}
			if s.Version() != 1 {
				t.Fatalf("version %d, want 1", s.Version())
			}
			if n := converted.Load(); n != 0 {
				t.Fatalf("v1 still runs, but the superseded migration's Undo did not run: converted=%d, want 0", n)
			}
		})
	}
}

// acquirer returns what leases s through its engine's Acquire, returning the
// lease's Release.
func acquirer(s *Script) func() (release func(), err error) {
	ctx := context.Background()
	if rt, id, ok := s.WASM(); ok {
		return func() (func(), error) { l, err := rt.Acquire(ctx, id); return l.Release, err }
	}
	rt, id, _ := s.Lua()
	return func() (func(), error) { l, err := rt.Acquire(ctx, id); return l.Release, err }
}

// Close stops a WASM call in progress under a limit on the runtime the Host
// created, which fails with ErrClosed, instead of waiting for the call's
// limit (helper-255: a 20 s MaxExecutionTime held Close 19.8 s).
func TestCloseStopsMeteredWASMCall(t *testing.T) {
	h := newTestHost(t, Config{Limits: Limits{MaxExecutionTime: 30 * time.Second}}) // past Returns' 10 s
	s := mustLoad(t, h, "spin.wasm", guest.Bytes("spin"), nil)
	called := make(chan error, 1)
	go func() { _, err := h.Call(context.Background(), s, "forever"); called <- err }()
	time.Sleep(50 * time.Millisecond) // in the loop, most likely; a call after Close fails alike
	if err := testtool.Returns(t, "Close during a call", func() error { return h.Close(context.Background()) }); err != nil {
		t.Fatal(err)
	}
	if err := <-called; !errors.Is(err, wasm.ErrClosed) {
		t.Errorf("call stopped by Close: %v, want wasm.ErrClosed", err)
	}
}
