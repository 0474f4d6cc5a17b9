package hotscript

// The order of reloads and reverts of one script that meet a commit in
// progress, or one an Apply postponed.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A reload asked with ReloadAsync by a migration of its own script comes after
// the commit running it and does not supersede it (ReloadAsync's doc): when
// that migration then fails, the commit reports the migration's error. It was
// reported Superseded, the error lost (helper-127).
func TestFollowUpDoesNotSupersedeFailure(t *testing.T) {
	for _, mode := range []SwapMode{SwapImmediate, SwapAtApply} {
		t.Run(mode.String(), func(t *testing.T) {
			var h *Host
			var s *Script
			var first atomic.Bool
			later := make(chan *Pending, 1)
			boom := errors.New("boom")
			h, _ = newFakeHost(t, Config{Swap: mode, Migration: func(ctx context.Context, m *Migration) error {
				if first.CompareAndSwap(false, true) {
					later <- h.ReloadAsync(ctx, s, []byte("v3"))
					return boom
				}
				return nil
			}})
			s = mustLoad(t, h, "s.wasm", "v1", nil)
			ctx := context.Background()
			settle := func(p *Pending) error {
				deadline := time.Now().Add(3 * time.Second)
				for time.Now().Before(deadline) {
					h.Apply(ctx)
					select {
					case <-p.Done():
						return p.Err()
					case <-time.After(time.Millisecond):
					}
				}
				return fmt.Errorf("never resolved")
			}
			err := settle(h.ReloadAsync(ctx, s, []byte("v2")))
			if !errors.Is(err, boom) {
				t.Errorf("v2, whose migration failed: %v; want the migration's error (boom), not superseded", err)
			}
			l := <-later
			if err := settle(l); err != nil {
				t.Logf("v3 event %+v by=%v self=%v", l.Event(), l.by, l.by == l)
				t.Errorf("v3: %v", err)
			}
		})
	}
}

// The same with a Revert requested while the commit's migration runs: the
// revert does not supersede the commit (it goes back from it), and when the
// migration then fails, the commit reports the migration's error.
func TestRevertDuringFailingMigration(t *testing.T) {
	for _, mode := range []SwapMode{SwapImmediate, SwapAtApply} {
		t.Run(mode.String(), func(t *testing.T) {
			boom := errors.New("boom")
			entered, release := make(chan struct{}), make(chan struct{})
			h, _ := newFakeHost(t, Config{Swap: mode, Migration: func(ctx context.Context, m *Migration) error {
				if m.To == 3 {
					close(entered)
					<-release
					return boom
				}
				return nil
			}})
			s := mustLoad(t, h, "s.wasm", "v1", nil)
			ctx := context.Background()
			settle := func(p *Pending) error {
				deadline := time.Now().Add(3 * time.Second)
				for time.Now().Before(deadline) {
					h.Apply(ctx)
					select {
					case <-p.Done():
						return p.Err()
					case <-time.After(time.Millisecond):
					}
				}
				return fmt.Errorf("never resolved")
			}
			if err := settle(h.ReloadAsync(ctx, s, []byte("v2"))); err != nil {
				t.Fatal(err)
			}
			v3 := h.ReloadAsync(ctx, s, []byte("v3"))
			if mode == SwapAtApply {
				waitFor(t, "v3 staged", readyStaged(s))
				go h.Apply(ctx)
			}
			<-entered
			revert, requested := make(chan error, 1), requestedSince(s)
			go func() { revert <- h.Revert(ctx, s) }()
			waitFor(t, "revert requested", requested)
			close(release)
			if err := settle(v3); !errors.Is(err, boom) {
				t.Errorf("v3, whose migration failed: %v; want the migration's error", err)
			}
			for done := false; !done; {
				h.Apply(ctx)
				select {
				case err := <-revert:
					t.Logf("revert: %v, version %d", err, s.Version())
					done = true
				case <-time.After(time.Millisecond):
				}
			}
		})
	}
}

// TestRevertDuringPostponedCommit with a pause (a game frame) between the Apply
// whose frame ended and the next Apply. The revert's worker, waiting on swapMu
// while the commit waited, read the history right after postpone put v3 back
// in the ready slot, staged a revert to v1, and settle overwrote the ready
// slot: v3 was never resolved, and the revert went back from v2 (helper-127).
// settle now stages it again after v3.
func TestPostponedNotOverwritten(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Config{Swap: SwapAtApply})
	src := func(v string) []byte { return []byte("local M = {}\nfunction M.v() return " + v + " end\nreturn M") }
	s := mustLoad(t, h, "s.lua", string(src("1")), nil)
	p := h.ReloadAsync(ctx, s, src("2"))
	waitFor(t, "v2 staged", readyStaged(s))
	h.Apply(ctx)
	if err := waitPending(p); err != nil || s.Version() != 2 {
		t.Fatal(err, s.Version())
	}
	rt, id, _ := s.Lua()
	lease, err := rt.Acquire(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	v3 := h.ReloadAsync(ctx, s, src("3"))
	waitFor(t, "v3 staged", readyStaged(s))
	frame, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	applied := make(chan int)
	go func() { applied <- h.Apply(frame) }() // waits for the lease
	waitFor(t, "commit waiting", func() bool {
		if s.swapMu.TryLock() {
			s.swapMu.Unlock()
			return false
		}
		return true
	})
	revert, requested := make(chan error, 1), requestedSince(s)
	go func() { revert <- h.Revert(ctx, s) }()
	waitFor(t, "revert requested", requested)
	if n := <-applied; n != 0 {
		t.Fatalf("Apply committed %d while the lease was held", n)
	}
	time.Sleep(50 * time.Millisecond) // the next frame
	lease.Release()
	deadline := time.Now().Add(3 * time.Second)
	for done := false; !done; {
		h.Apply(ctx)
		select {
		case err := <-revert:
			if err != nil {
				t.Fatalf("revert: %v", err)
			}
			done = true
		default:
			if time.Now().After(deadline) {
				t.Fatal("revert never resolved")
			}
			time.Sleep(time.Millisecond)
		}
	}
	if got := callInt(t, h, s, "v"); got != 2 || s.Version() != 2 {
		t.Errorf("after the revert: version %d, v() = %d; want v2 (the revert goes back from v3)", s.Version(), got)
	}
	select {
	case <-v3.Done():
		if err := v3.Err(); err != nil {
			t.Errorf("v3: %v, want committed", err)
		}
	case <-time.After(2 * time.Second):
		t.Errorf("v3's Pending never resolved (Done never closed)")
		h.Close(ctx)
		select {
		case <-v3.Done():
		case <-time.After(2 * time.Second):
			t.Errorf("... not even by Close")
		}
	}
}

// Cancelling ctx before the commit rejects a Revert, as a Reload: a Revert
// requested while an Apply's commit of another version waits for a lease
// waited on swapMu without looking at its context, until the lease ended,
// however long that took (helper-127).
func TestRevertCtxWhileCommitWaits(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Config{Swap: SwapAtApply})
	src := func(v string) []byte { return []byte("local M = {}\nfunction M.v() return " + v + " end\nreturn M") }
	s := mustLoad(t, h, "s.lua", string(src("1")), nil)
	p := h.ReloadAsync(ctx, s, src("2"))
	waitFor(t, "v2 staged", readyStaged(s))
	h.Apply(ctx)
	if err := waitPending(p); err != nil {
		t.Fatal(err)
	}
	rt, id, _ := s.Lua()
	lease, err := rt.Acquire(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release()
	h.ReloadAsync(ctx, s, src("3"))
	waitFor(t, "v3 staged", readyStaged(s))
	go h.Apply(ctx) // the game's loader thread: waits for the lease
	waitFor(t, "commit waiting", func() bool {
		if s.swapMu.TryLock() {
			s.swapMu.Unlock()
			return false
		}
		return true
	})
	rctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.Revert(rctx, s) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("revert: %v, want its context's error", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatalf("Revert with a 100 ms context still blocked after 2 s (until the lease ends)")
	}
}

// TestHammerRequestOrder: random Reload, ReloadAsync and Revert calls, with
// leases held and short Apply frames (SwapAtApply) or not (SwapImmediate):
// every request resolves, and none stays open. Under SwapAtApply, postponed
// commits were lost in the ready slot, and calls hung (helper-127).
func TestHammerRequestOrder(t *testing.T) {
	for _, mode := range []SwapMode{SwapImmediate, SwapAtApply} {
		t.Run(mode.String(), func(t *testing.T) {
			ctx := context.Background()
			h := newTestHost(t, Config{Swap: mode, EventBuffer: 60000})
			src := func(v int) []byte {
				return []byte(fmt.Sprintf("local M = {}\nfunction M.v() return %d end\nreturn M", v))
			}
			s := mustLoad(t, h, "s.lua", string(src(1)), nil)
			rt, id, _ := s.Lua()
			stop := make(chan struct{})
			var bg sync.WaitGroup
			bg.Add(2)
			go func() { // leases
				defer bg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					l, err := rt.Acquire(ctx, id)
					if err == nil {
						time.Sleep(time.Duration(rand.IntN(30)) * time.Millisecond)
						l.Release()
					}
					time.Sleep(time.Duration(rand.IntN(5)) * time.Millisecond)
				}
			}()
			go func() { // frames
				defer bg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					f, c := context.WithTimeout(ctx, time.Duration(1+rand.IntN(10))*time.Millisecond)
					h.Apply(f)
					c()
					time.Sleep(2 * time.Millisecond)
				}
			}()
			var ps []*Pending
			var mu sync.Mutex
			var wg sync.WaitGroup
			for i := range 150 {
				switch rand.IntN(3) {
				case 0:
					pp := h.ReloadAsync(ctx, s, src(100+i))
					mu.Lock()
					ps = append(ps, pp)
					mu.Unlock()
				case 1:
					wg.Add(1)
					go func() {
						defer wg.Done()
						p := newPending()
						err := h.Revert(ctx, s)
						p.resolve(Event{}, err)
						mu.Lock()
						ps = append(ps, p)
						mu.Unlock()
					}()
				case 2:
					wg.Add(1)
					go func() {
						defer wg.Done()
						p := newPending()
						err := h.Reload(ctx, s, src(100+i))
						p.resolve(Event{}, err)
						mu.Lock()
						ps = append(ps, p)
						mu.Unlock()
					}()
				}
				time.Sleep(time.Duration(rand.IntN(8)) * time.Millisecond)
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				s.mu.Lock()
				t.Logf("state: ready=%v queued=%v staging=%v running=%v open=%d latest=%d overtake=%d version=%d", s.ready != nil, s.queued != nil, s.staging != nil, s.running, s.open, s.latest, s.overtake, s.Version())
				s.mu.Unlock()
				buf := make([]byte, 1<<20)
				n := runtime.Stack(buf, true)
				for _, g := range strings.Split(string(buf[:n]), "\n\n") {
					if strings.Contains(g, "hotscript.") && !strings.Contains(g, "testing.tRunner") {
						t.Log(g)
					}
				}
				t.Fatalf("Reload/Revert calls still blocked after 20 s")
			}
			mu.Lock()
			for i, p := range ps {
				select {
				case <-p.Done():
				case <-time.After(5 * time.Second):
					t.Errorf("pending %d never resolved", i)
				}
			}
			mu.Unlock()
			close(stop)
			bg.Wait()
			s.mu.Lock()
			open := s.open
			s.mu.Unlock()
			if open != 0 {
				t.Errorf("s.open = %d after everything resolved", open)
			}
		})
	}
}

// TestRevertWhilePostponed: under SwapAtApply, a revert requested while a
// reload's commit is postponed (its lease held over several frames, the usual
// case with short frames: the version back in the ready slot between two
// Apply calls) goes back from that reload once it commits, as under
// SwapImmediate and as one requested while an Apply runs the commit; it
// superseded the reload and went back one version further (helper-129).
func TestRevertWhilePostponed(t *testing.T) {
	for _, mode := range []SwapMode{SwapImmediate, SwapAtApply} {
		t.Run(mode.String(), func(t *testing.T) {
			ctx := context.Background()
			h := newTestHost(t, Config{Swap: mode})
			src := func(v string) []byte { return []byte("local M = {}\nfunction M.v() return " + v + " end\nreturn M") }
			s := mustLoad(t, h, "s.lua", string(src("1")), nil)
			apply := func() {
				if mode == SwapAtApply {
					f, c := context.WithTimeout(ctx, 5*time.Millisecond)
					h.Apply(f)
					c()
				}
			}
			p := h.ReloadAsync(ctx, s, src("2"))
			for s.Version() != 2 {
				apply()
				time.Sleep(time.Millisecond)
			}
			if err := waitPending(p); err != nil {
				t.Fatal(err)
			}
			rt, id, _ := s.Lua()
			lease, err := rt.Acquire(ctx, id) // e.g. the render thread's lease, over a few frames
			if err != nil {
				t.Fatal(err)
			}
			v3 := h.ReloadAsync(ctx, s, src("3"))
			if mode == SwapAtApply {
				waitFor(t, "v3 staged", readyStaged(s))
				apply() // frame ends while the commit waits for the lease: postponed
				waitFor(t, "v3 postponed", func() bool {
					s.mu.Lock()
					defer s.mu.Unlock()
					return s.ready != nil && s.ready.postponed
				})
			} else {
				time.Sleep(20 * time.Millisecond) // the worker's commit waits for the lease
			}
			revert := make(chan error, 1)
			go func() { revert <- h.Revert(ctx, s) }() // the user asks to go back one version
			time.Sleep(20 * time.Millisecond)
			lease.Release()
			deadline := time.Now().Add(5 * time.Second)
			for done := false; !done; {
				apply()
				select {
				case err := <-revert:
					if err != nil {
						t.Errorf("revert: %v", err)
					}
					done = true
				default:
					if time.Now().After(deadline) {
						t.Fatal("revert never resolved")
					}
					time.Sleep(time.Millisecond)
				}
			}
			<-v3.Done()
			t.Logf("v3: %v; final version %d", v3.Err(), s.Version())
			if v3.Err() != nil || s.Version() != 2 {
				t.Errorf("v3 = %v, final version %d; want v3 committed and the revert going back from it to v2 (as under SwapImmediate, and as when the revert lands during Apply's wait)", v3.Err(), s.Version())
			}
		})
	}
}

// TestMigrationErrorWrappingSuperseded: a migration that fails with an error
// wrapping ErrSuperseded (a reload of another script it made, which a newer
// save of that script superseded) makes its own reload fail with that error,
// counted in FailedReloads: it was reported superseded, though nothing
// superseded it, its error lost (helper-129).
func TestMigrationErrorWrappingSuperseded(t *testing.T) {
	var h *Host
	var dep *Script
	var e *fakeEngine
	h, e = newFakeHost(t, Config{Migration: func(ctx context.Context, m *Migration) error {
		if m.Script != "s.wasm" {
			return nil
		}
		// reload the dependent script first; a newer save of it comes meanwhile
		done := make(chan error, 1)
		go func() { done <- h.Reload(context.Background(), dep, []byte("v2;gate=dep")) }()
		waitFor(t, "dep staging", func() bool { return e.stages.Load() >= 2 })
		newer := h.ReloadAsync(context.Background(), dep, []byte("v3"))
		e.open("dep")
		<-newer.Done()
		if err := <-done; err != nil {
			return fmt.Errorf("reloading dep.wasm first: %w", err)
		}
		return nil
	}})
	s := mustLoad(t, h, "s.wasm", "v1", nil)
	dep = mustLoad(t, h, "dep.wasm", "v1", nil)
	err := h.Reload(context.Background(), s, []byte("v2"))
	st := h.Stats(s)
	t.Logf("Reload(s.wasm) = %v; stats %+v", err, st)
	if !errors.Is(err, ErrMigration) || st.FailedReloads != 1 || st.Superseded != 0 {
		t.Errorf("Reload(s.wasm) = %v (FailedReloads %d, Superseded %d); want the migration's failure (ErrMigration, its text), counted as a failed reload: no newer request of s.wasm was ever made", err, st.FailedReloads, st.Superseded)
	}
}

// TestUndoPanicWhenSuperseded: a reload superseded at its swap reports, with
// ErrSuperseded, an Undo function's panic, as Migration.Undo promises: its
// error and event said only "superseded" (helper-129).
func TestUndoPanicWhenSuperseded(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	h, _ := newFakeHost(t, Config{Migration: func(ctx context.Context, m *Migration) error {
		if !first.CompareAndSwap(false, true) {
			return nil
		}
		m.Undo(func() { panic("could not put the World back") })
		close(entered)
		<-release
		return nil
	}})
	s := mustLoad(t, h, "s.wasm", "v1", nil)
	ctx := context.Background()
	v2 := h.ReloadAsync(ctx, s, []byte("v2"))
	<-entered
	v3 := h.ReloadAsync(ctx, s, []byte("v3")) // supersedes v2 at its swap
	close(release)
	<-v2.Done()
	<-v3.Done()
	t.Logf("v2: %v (event err %v); v3: %v", v2.Err(), v2.Event().Err, v3.Err())
	if !errors.Is(v2.Err(), ErrSuperseded) {
		t.Errorf("v2: %v, want ErrSuperseded", v2.Err())
	}
	if !strings.Contains(v2.Err().Error(), "panicked") && !strings.Contains(v2.Event().Err.Error(), "panicked") {
		t.Errorf("v2's Undo function panicked; its error %q and event say nothing of it", v2.Err())
	}
}
