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
			settle := func(p *Pending) error { return applyUntil(t, func() { h.Apply(ctx) }, p) }
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
			settle := func(p *Pending) error { return applyUntil(t, func() { h.Apply(ctx) }, p) }
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

// TestRevertDuringPostponedCommit: under SwapAtApply, a revert requested while
// a reload's commit waits for a lease, whose wait Apply's frame then ends, goes
// back from that reload once a later Apply commits it, as it does when the
// lease ends within the frame. The reload was superseded, and the revert went
// back one version further than asked (helper-126); and with a frame's pause
// before the next Apply, the revert, which had waited on swapMu, staged as the
// reload went back to the ready slot and overwrote it there: the reload never
// resolved (Reload and Close hung; helper-127).
func TestRevertDuringPostponedCommit(t *testing.T) {
	for _, pause := range []time.Duration{0, 50 * time.Millisecond} {
		t.Run(fmt.Sprint("pause ", pause), func(t *testing.T) {
			ctx := context.Background()
			h := newTestHost(t, Config{Swap: SwapAtApply})
			apply := func() { h.Apply(ctx) }
			s, release := leasedAtV2(t, h, apply)
			v3 := h.ReloadAsync(ctx, s, versionSrc(3))
			waitFor(t, "v3 staged", readyStaged(s))
			frame, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			applied := make(chan int)
			go func() { applied <- h.Apply(frame) }() // waits for the lease
			waitFor(t, "the commit waiting", committing(s))
			revert, requested := make(chan error, 1), requestedSince(s)
			go func() { revert <- h.Revert(ctx, s) }()
			waitFor(t, "the revert requested", requested)
			if n := <-applied; n != 0 { // the frame ended while the commit waited for the lease
				t.Fatalf("Apply committed %d while the lease was held", n)
			}
			time.Sleep(pause)
			release()
			if err := applyUntilSent(t, apply, revert); err != nil {
				t.Fatalf("revert: %v", err)
			}
			if err := applyUntil(t, apply, v3); err != nil {
				t.Errorf("the reload the revert came during: %v, want it committed", err)
			}
			if got := callInt(t, h, s, "v"); got != 2 || s.Version() != 2 {
				t.Errorf("after the revert: version %d, v() = %d; want v2 (the revert goes back from v3)", s.Version(), got)
			}
		})
	}
}

// versionSrc is a Lua script whose v() returns v.
func versionSrc(v int) []byte {
	return []byte(fmt.Sprintf("local M = {}\nfunction M.v() return %d end\nreturn M", v))
}

// leasedAtV2 loads s.lua, commits its v2 (apply runs a frame), and leases it:
// release ends the lease, as the end of the test does.
func leasedAtV2(t *testing.T, h *Host, apply func()) (s *Script, release func()) {
	t.Helper()
	s = mustLoad(t, h, "s.lua", versionSrc(1), nil)
	if err := applyUntil(t, apply, h.ReloadAsync(context.Background(), s, versionSrc(2))); err != nil || s.Version() != 2 {
		t.Fatalf("reload to v2: %v (version %d)", err, s.Version())
	}
	rt, id, _ := s.Lua()
	lease, err := rt.Acquire(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(lease.Release) }
	t.Cleanup(release)
	return s, release
}

// committing reports whether a commit of s has begun and is in progress (holds swapMu).
func committing(s *Script) func() bool {
	return func() bool {
		if s.swapMu.TryLock() {
			s.swapMu.Unlock()
			return false
		}
		// Held, by a commit that has taken the ready version (and begun:
		// see beginCommit), not by an Apply about to take it.
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.ready == nil
	}
}

// applyUntil runs frames (apply) until p is resolved, 3 s at most, and
// returns its error.
func applyUntil(t *testing.T, apply func(), p *Pending) error {
	t.Helper()
	return applyUntilSent(t, apply, pendingErr(p))
}

// applyUntilSent runs frames (apply) until errc delivers, 3 s at most.
func applyUntilSent(t *testing.T, apply func(), errc <-chan error) error {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		apply()
		select {
		case err := <-errc:
			return err
		case <-time.After(time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatal("never resolved")
			}
		}
	}
}

// pendingErr delivers p's error once it is resolved.
func pendingErr(p *Pending) <-chan error {
	c := make(chan error, 1)
	go func() { <-p.Done(); c <- p.Err() }()
	return c
}

// Cancelling ctx before the commit rejects a Revert, as a Reload: a Revert
// requested while an Apply's commit of another version waits for a lease
// waited on swapMu without looking at its context, until the lease ended,
// however long that took (helper-127).
func TestRevertCtxWhileCommitWaits(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Config{Swap: SwapAtApply})
	s, _ := leasedAtV2(t, h, func() { h.Apply(ctx) })
	h.ReloadAsync(ctx, s, versionSrc(3))
	waitFor(t, "v3 staged", readyStaged(s))
	go h.Apply(ctx) // the game's loader thread: waits for the lease
	waitFor(t, "the commit waiting", committing(s))
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
			src := versionSrc
			s := mustLoad(t, h, "s.lua", src(1), nil)
			rt, id, _ := s.Lua()
			stop := make(chan struct{})
			var bg sync.WaitGroup
			until := func(f func()) { // f again and again, until stop
				bg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
							f()
						}
					}
				})
			}
			until(func() { // leases
				if l, err := rt.Acquire(ctx, id); err == nil {
					time.Sleep(time.Duration(rand.IntN(30)) * time.Millisecond)
					l.Release()
				}
				time.Sleep(time.Duration(rand.IntN(5)) * time.Millisecond)
			})
			until(func() { // frames
				f, c := context.WithTimeout(ctx, time.Duration(1+rand.IntN(10))*time.Millisecond)
				h.Apply(f)
				c()
				time.Sleep(2 * time.Millisecond)
			})
			var ps []*Pending
			var mu sync.Mutex
			var wg sync.WaitGroup
			for i := range 150 {
				switch n := rand.IntN(3); n {
				case 0:
					pp := h.ReloadAsync(ctx, s, src(100+i))
					mu.Lock()
					ps = append(ps, pp)
					mu.Unlock()
				default: // waited for, on goroutines of their own
					wg.Go(func() {
						var err error
						if n == 1 {
							err = h.Revert(ctx, s)
						} else {
							err = h.Reload(ctx, s, src(100+i))
						}
						p := newPending()
						p.resolve(Event{}, err)
						mu.Lock()
						ps = append(ps, p)
						mu.Unlock()
					})
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
			apply := func() {
				if mode == SwapAtApply {
					f, c := context.WithTimeout(ctx, 5*time.Millisecond)
					h.Apply(f)
					c()
				}
			}
			s, release := leasedAtV2(t, h, apply) // e.g. the render thread's lease, over a few frames
			v3 := h.ReloadAsync(ctx, s, versionSrc(3))
			if mode == SwapAtApply {
				waitFor(t, "v3 staged", readyStaged(s))
				apply() // frame ends while the commit waits for the lease: postponed
				waitFor(t, "v3 postponed", func() bool {
					s.mu.Lock()
					defer s.mu.Unlock()
					return s.ready != nil && s.ready.req.committing
				})
			} else {
				time.Sleep(20 * time.Millisecond) // the worker's commit waits for the lease
			}
			revert := make(chan error, 1)
			go func() { revert <- h.Revert(ctx, s) }() // the user asks to go back one version
			time.Sleep(20 * time.Millisecond)
			release()
			if err := applyUntilSent(t, apply, revert); err != nil {
				t.Errorf("revert: %v", err)
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

// TestUndoPanicWhenSuperseded: a reload superseded by a request made while its
// migration ran reports, with ErrSuperseded, an Undo function's panic, as
// Migration.Undo promises, whether the migration then succeeded (superseded at
// the swap) or failed: its error and event said only "superseded" (helper-129,
// helper-130).
func TestUndoPanicWhenSuperseded(t *testing.T) {
	for _, result := range []error{nil, context.Canceled} {
		t.Run(fmt.Sprint("migration returns ", result), func(t *testing.T) {
			entered, release := make(chan struct{}), make(chan struct{})
			var first atomic.Bool
			h, _ := newFakeHost(t, Config{Migration: func(ctx context.Context, m *Migration) error {
				if !first.CompareAndSwap(false, true) {
					return nil
				}
				m.Undo(func() { panic("could not put the World back") })
				close(entered)
				<-release
				return result
			}})
			s := mustLoad(t, h, "s.wasm", "v1", nil)
			ctx := context.Background()
			v2 := h.ReloadAsync(ctx, s, []byte("v2"))
			<-entered
			v3 := h.ReloadAsync(ctx, s, []byte("v3")) // supersedes v2
			close(release)
			<-v2.Done()
			<-v3.Done()
			if !errors.Is(v2.Err(), ErrSuperseded) {
				t.Errorf("v2: %v, want ErrSuperseded", v2.Err())
			}
			for _, err := range []error{v2.Err(), v2.Event().Err} {
				if !strings.Contains(err.Error(), "an Undo function panicked: could not put the World back") {
					t.Errorf("v2's Undo function panicked; its error %q says nothing of it", err)
				}
			}
		})
	}
}

// Two Undo functions panic in a reload superseded at its swap: both panics
// are reported, as they are when the reload fails otherwise.
func TestTwoUndoPanicsWhenSuperseded(t *testing.T) {
	for _, supersede := range []bool{false, true} {
		t.Run(map[bool]string{false: "failed", true: "superseded"}[supersede], func(t *testing.T) {
			entered, release := make(chan struct{}), make(chan struct{})
			var first atomic.Bool
			h, _ := newFakeHost(t, Config{Migration: func(ctx context.Context, m *Migration) error {
				if !first.CompareAndSwap(false, true) {
					return nil
				}
				m.Undo(func() { panic("first undo") })
				m.Undo(func() { panic("second undo") })
				close(entered)
				<-release
				if !supersede {
					return context.Canceled
				}
				return nil
			}})
			s := mustLoad(t, h, "s.wasm", "v1", nil)
			ctx := context.Background()
			v2 := h.ReloadAsync(ctx, s, []byte("v2"))
			<-entered
			var v3 *Pending
			if supersede {
				v3 = h.ReloadAsync(ctx, s, []byte("v3"))
			}
			close(release)
			<-v2.Done()
			if v3 != nil {
				<-v3.Done()
			}
			msg := v2.Err().Error()
			t.Logf("v2: %v", msg)
			if !strings.Contains(msg, "first undo") || !strings.Contains(msg, "second undo") {
				t.Errorf("v2's error %q: want both Undo panics reported", msg)
			}
		})
	}
}

// postponedWithRevert: v3's commit (asked with vctx) postponed in the ready
// slot, a Revert (asked with rctx) waiting for it.
func postponedWithRevert(t *testing.T, vctx, rctx context.Context) (*Host, *Script, *Pending, chan error, func()) {
	ctx := context.Background()
	h := newTestHost(t, Config{Swap: SwapAtApply})
	s, release := leasedAtV2(t, h, func() { h.Apply(ctx) })
	v3 := h.ReloadAsync(vctx, s, versionSrc(3))
	waitFor(t, "v3 staged", readyStaged(s))
	f, c := context.WithTimeout(ctx, 5*time.Millisecond)
	h.Apply(f)
	c()
	waitFor(t, "v3 postponed", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.ready != nil && s.ready.req.committing
	})
	revert := make(chan error, 1)
	requested := requestedSince(s)
	go func() { revert <- h.Revert(rctx, s) }()
	waitFor(t, "revert requested", requested)
	time.Sleep(20 * time.Millisecond)
	return h, s, v3, revert, release
}

// TestEndWithRevertWaiting: Close, or Unload, while a revert waits for a
// postponed commit, with no Apply to come, returns and resolves both with its
// error.
func TestEndWithRevertWaiting(t *testing.T) {
	for _, end := range []struct {
		name string
		do   func(*Host, *Script) error
		want error
	}{
		{"Close", func(h *Host, _ *Script) error { return h.Close(context.Background()) }, ErrClosed},
		{"Unload", func(h *Host, s *Script) error { return h.Unload(context.Background(), s) }, ErrUnloaded},
	} {
		t.Run(end.name, func(t *testing.T) {
			h, s, v3, revert, release := postponedWithRevert(t, context.Background(), context.Background())
			release()
			done := make(chan error, 1)
			go func() { done <- end.do(h, s) }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("%s: %v", end.name, err)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s hung", end.name)
			}
			select {
			case err := <-revert:
				if !errors.Is(err, end.want) {
					t.Errorf("revert: %v, want %v", err, end.want)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("revert hung")
			}
			<-v3.Done()
			if !errors.Is(v3.Err(), end.want) {
				t.Errorf("v3: %v, want %v", v3.Err(), end.want)
			}
		})
	}
}

// A postponed reload whose caller gives up while a revert waits for it is
// resolved in the ready slot, and the revert goes back from the live version.
func TestCancelV3WhileRevertWaits(t *testing.T) {
	ctx := context.Background()
	vctx, vcancel := context.WithCancel(ctx)
	h, s, v3, revert, release := postponedWithRevert(t, vctx, ctx)
	vcancel()
	<-v3.Done()
	release()
	err := applyUntilSent(t, func() { h.Apply(ctx) }, revert)
	t.Logf("v3 %v; revert %v; version %d; stats %+v", v3.Err(), err, s.Version(), h.Stats(s))
	if err != nil || s.Version() != 1 {
		t.Errorf("revert %v, version %d; want v1", err, s.Version())
	}
}

// A revert waiting for a postponed commit gives up with its context; the
// reload still commits at a later Apply.
func TestRevertCtxWhileWaiting(t *testing.T) {
	rctx, cancel := context.WithCancel(context.Background())
	h, s, v3, revert, release := postponedWithRevert(t, context.Background(), rctx)
	cancel()
	select {
	case err := <-revert:
		t.Logf("revert: %v", err)
	case <-time.After(2 * time.Second):
		t.Fatal("revert hung after its ctx was cancelled")
	}
	release()
	ctx := context.Background()
	if err := applyUntil(t, func() { h.Apply(ctx) }, v3); err != nil || s.Version() != 3 {
		t.Errorf("v3 %v, version %d", err, s.Version())
	}
	t.Logf("stats %+v", h.Stats(s))
}

// A reload that overtakes supersedes both a postponed reload and the revert
// waiting for it, and commits.
func TestOvertakeWhileRevertWaits(t *testing.T) {
	ctx := context.Background()
	h, s, v3, revert, release := postponedWithRevert(t, ctx, ctx)
	v4 := h.ReloadAsync(ctx, s, versionSrc(4))
	release()
	err := applyUntil(t, func() { h.Apply(ctx) }, v4)
	rerr := <-revert
	<-v3.Done()
	t.Logf("v3 %v; revert %v; v4 %v; version %d; stats %+v", v3.Err(), rerr, err, s.Version(), h.Stats(s))
	if err != nil || s.Version() != 3 || callInt(t, h, s, "v") != 4 {
		t.Errorf("want v4 live")
	}
}

// A revert asked when there is no earlier version changes nothing: a reload
// being staged, or one parked for Apply, goes on and commits. Before, the
// revert superseded it at once, then failed with ErrNoHistory at its turn, and
// the save it superseded was lost (helper-206, under Watch; a later Watch did
// not run it either, the program having asked for something since).
func TestRevertWithoutHistoryKeepsPendingReload(t *testing.T) {
	for _, mode := range []SwapMode{SwapImmediate, SwapAtApply} {
		t.Run(mode.String(), func(t *testing.T) {
			h, e := newFakeHost(t, Config{Swap: mode})
			s := mustLoad(t, h, "s.wasm", "v1", nil)
			ctx := context.Background()
			p := h.ReloadAsync(ctx, s, []byte("v2;gate=g"))
			waitFor(t, "v2 staging", func() bool { return e.stages.Load() == 1 })
			if err := h.Revert(ctx, s); !errors.Is(err, ErrNoHistory) {
				t.Errorf("Revert with v1 alone, v2 staging: %v, want ErrNoHistory", err)
			}
			e.open("g")
			if mode == SwapAtApply {
				waitFor(t, "v2 staged", readyStaged(s))
				if err := h.Revert(ctx, s); !errors.Is(err, ErrNoHistory) {
					t.Errorf("Revert with v1 alone, v2 parked for Apply: %v, want ErrNoHistory", err)
				}
			}
			if err := applyUntil(t, func() { h.Apply(ctx) }, p); err != nil {
				t.Fatalf("v2, pending as Revert failed: %v, want committed", err)
			}
			if s.Version() != 2 {
				t.Errorf("version %d, want 2", s.Version())
			}
			if err := applyUntil(t, func() { h.Apply(ctx) }, revertAsync(h, s)); err != nil {
				t.Errorf("Revert once v2 is live: %v", err)
			} else if s.Version() != 1 {
				t.Errorf("version %d after the revert, want 1", s.Version())
			}
		})
	}
}

// revertAsync runs Revert on a goroutine of its own, resolving the Pending it
// returns as the revert ends (with SwapAtApply, Revert returns only after the
// Apply that commits it).
func revertAsync(h *Host, s *Script) *Pending {
	p := newPending()
	go func() {
		err := h.Revert(context.Background(), s)
		p.resolve(Event{Script: s.name, Kind: Reverted}, err)
	}()
	return p
}

// The same with a commit under way that a newer reload overtook: the commit
// gives up at its swap, so it makes no version to go back to, and the revert
// fails at once, leaving the newer reload to commit (helper-208: the revert
// superseded it, then failed).
func TestRevertWithoutHistoryDuringOvertakenCommit(t *testing.T) {
	for _, mode := range []SwapMode{SwapImmediate, SwapAtApply} {
		for _, fail := range []bool{false, true} {
			t.Run(fmt.Sprint(mode, " migration fails ", fail), func(t *testing.T) {
				entered, release := make(chan struct{}), make(chan struct{})
				free := sync.OnceFunc(func() { close(release) })
				var first atomic.Bool
				h, _ := newFakeHost(t, Config{Swap: mode, Migration: func(ctx context.Context, m *Migration) error {
					if first.CompareAndSwap(false, true) { // v2's
						close(entered)
						<-release
						if fail {
							return errors.New("boom")
						}
					}
					return nil
				}})
				t.Cleanup(free) // before the Host's Close, which waits for the migration
				s := mustLoad(t, h, "s.wasm", "v1", nil)
				ctx := context.Background()
				apply := func() { h.Apply(ctx) }
				v2 := h.ReloadAsync(ctx, s, []byte("v2"))
				if mode == SwapAtApply {
					waitFor(t, "v2 staged", readyStaged(s))
					go h.Apply(ctx)
				}
				<-entered
				v3 := h.ReloadAsync(ctx, s, []byte("v3"))
				r := revertAsync(h, s)
				waitFor(t, "the revert refused", func() bool {
					select {
					case <-r.Done():
						return true
					default:
						return false
					}
				})
				if !errors.Is(r.Err(), ErrNoHistory) {
					t.Errorf("Revert, v1 alone and v2's commit overtaken: %v, want ErrNoHistory at once", r.Err())
				}
				free()
				if err := applyUntil(t, apply, v2); !errors.Is(err, ErrSuperseded) {
					t.Errorf("v2, overtaken: %v, want ErrSuperseded", err)
				}
				if err := applyUntil(t, apply, v3); err != nil {
					t.Errorf("v3: %v, want committed", err)
				}
				if got := call(t, h, s, "version"); got != "3" {
					t.Errorf("version() = %s, want 3 (v3's code)", got)
				}
			})
		}
	}
}
