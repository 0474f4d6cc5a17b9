package hotscript

// A script's reload worker: requests are staged one at a time on a goroutine
// of the script's own, then committed at once (SwapAtStage) or at the next
// Apply (SwapAtApply).

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hotscript/hotscript/internal/reentry"
	"github.com/hotscript/hotscript/lua"
	"github.com/hotscript/hotscript/wasm"
)

// claimWorker, under s.mu, reports whether a worker must be started for the
// script's queue, none running, and counts it as running from now.
func (s *Script) claimWorker() bool {
	if s.running {
		return false
	}
	s.running, s.idle = true, make(chan struct{})
	return true
}

// startWork starts a worker for the script's queue if start, handing it the
// h.enter() its caller made; else it releases that enter: the worker running
// already will find the queue.
func (s *Script) startWork(start bool) {
	if start {
		go s.work()
	} else {
		s.h.wg.Done()
	}
}

// requeue stages req again, for a revert whose target moved while it was staged
// (an Apply committed another version of the script meanwhile), unless a newer
// request has taken its place.
func (s *Script) requeue(it *stagedItem) {
	it.st.discard(it.req.ctx)
	if !s.h.enter() {
		s.finish(it.req, Event{Kind: Rejected, To: it.target}, ErrClosed)
		return
	}
	s.mu.Lock()
	it.req.committing = false // back in the queue: any newer request wins again
	if s.lost(it.req) {
		s.mu.Unlock()
		s.h.wg.Done()
		s.finish(it.req, Event{Kind: Superseded, To: it.target, CompileTime: it.compile}, ErrSuperseded)
		return
	}
	s.queued = it.req
	start := s.claimWorker()
	s.mu.Unlock()
	s.startWork(start)
}

// work processes the script's requests one at a time until none is queued.
func (s *Script) work() {
	defer s.h.wg.Done()
	for {
		s.mu.Lock()
		req := s.queued
		s.queued, s.staging = nil, req
		if req == nil {
			s.running = false
			close(s.idle)
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		if it := s.stage(req); it != nil {
			s.settle(it)
		}
		s.mu.Lock()
		s.staging = nil
		s.mu.Unlock()
	}
}

// stage prepares req's version, or resolves req and returns nil.
func (s *Script) stage(req *request) *stagedItem {
	it := &stagedItem{req: req}
	code, err := req.code, error(nil)
	if err := s.waitOlder(req); err != nil {
		s.fail(req, Event{Kind: Rejected}, err)
		return nil
	}
	// From here a newer request stops what req builds: the source a
	// Reload(nil) builds, then the version the engine builds, which would be
	// dropped once built.
	s.mu.Lock()
	if !s.lost(req) {
		s.building = req
	} else { // superseded already
		req.cancel(ErrSuperseded)
	}
	s.mu.Unlock()
	defer s.builtBy(req) // on the way out before the engine's build
	if req.revert {
		// A revert goes back from the version a commit in progress (in an
		// Apply) makes live, which it would not find in the history yet.
		if err := s.swapMu.Lock(req.ctx); err != nil {
			s.fail(req, Event{Kind: Rejected}, context.Cause(req.ctx))
			return nil
		}
	}
	s.mu.Lock()
	prev, ok := s.hist.previous()
	it.target = s.hist.next // the number a reload would get; commit decides
	s.mu.Unlock()
	if req.revert {
		s.swapMu.Unlock()
		if !ok {
			s.fail(req, Event{Kind: Rejected}, ErrNoHistory)
			return nil
		}
		code, it.target = prev.code, prev.n
	} else if code, err = s.source(req.ctx, code, req.p); err != nil { // nothing to stage: no To
		s.fail(req, Event{Kind: Rejected}, err)
		return nil
	}
	if err := s.h.cause(req); err != nil {
		s.fail(req, Event{Kind: Rejected}, err)
		return nil
	}
	if req.save && s.restores(req, code) {
		// A save of the running code, made while another reload was pending
		// (an edit undone as the broken save stages): that reload is
		// superseded, and this one has nothing to stage, which would only
		// start a WASM script's state over (helper-196).
		v := s.Version()
		s.finish(req, Event{Kind: Restored, From: v, To: v}, nil)
		return nil
	}
	start := time.Now()
	var st staged
	err = s.h.inStageTurn(req.ctx, func() (err error) {
		st, err = s.u.stage(context.WithValue(req.ctx, stagingKey{}, s), code)
		return err
	})
	s.builtBy(req) // a newer request supersedes it from now on, without stopping it
	it.compile = time.Since(start)
	if err != nil {
		s.fail(req, Event{Kind: Rejected, To: it.target, CompileTime: it.compile}, err)
		return nil
	}
	it.st, it.code = st, code
	live := s.live.Load().iface
	next := st.iface()
	if v := s.contract.violations(&live, next); len(v) > 0 {
		st.discard(req.ctx)
		d := diffInterfaces(live, next)
		s.fail(req, Event{Kind: Rejected, To: it.target, CompileTime: it.compile, Diff: d},
			&ContractError{Script: s.name, Violations: v, Diff: d.clone()}) // the event's receiver owns d
		return nil
	}
	return it
}

// restores reports whether req, with code, is still the newest request of s
// and code the live version's (a request superseded meanwhile goes on to be
// resolved so, helper-201).
func (s *Script) restores(req *request, code []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.lost(req) && bytes.Equal(s.hist.live().code, code)
}

// builtBy records that req no longer builds anything a newer request would
// stop (see Script.building).
func (s *Script) builtBy(req *request) {
	s.mu.Lock()
	if s.building == req {
		s.building = nil
	}
	s.mu.Unlock()
}

// stageTurnMax is how long a staging keeps its turn (see Config.Stagings)
// before the next one may start beside it (Host.turnMax, which tests set).
const stageTurnMax = 100 * time.Millisecond

// inStageTurn runs stage, the staging of a new version, in a turn of its own
// (Config.Stagings run at once): it waits for one until ctx ends, whose
// cause it then returns; the turn ends as stage returns, or after
// h.turnMax.
func (h *Host) inStageTurn(ctx context.Context, stage func() error) error {
	select {
	case h.stagings <- struct{}{}:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	var once sync.Once
	free := func() { once.Do(func() { <-h.stagings }) }
	t := time.AfterFunc(h.turnMax, free)
	defer func() {
		t.Stop()
		free()
	}()
	return stage()
}

// waitOlder waits, before req stages, until no older request waits in the ready
// slot: one whose commit an Apply postponed (see postpone) while req came, a
// revert or a reload asked by a migration, neither of which supersedes it. It
// goes first, and req after it (a revert goes back from it). It fails as req's
// context ends (Close, or the caller gave up).
func (s *Script) waitOlder(req *request) error {
	for {
		s.mu.Lock()
		older := s.ready
		s.mu.Unlock()
		if older == nil || older.req.seq > req.seq {
			return nil
		}
		select {
		case <-older.req.p.Done():
		case <-req.ctx.Done():
			return context.Cause(req.ctx)
		}
	}
}

// settle commits a staged item now (SwapImmediate) or parks it for Apply.
func (s *Script) settle(it *stagedItem) {
	if s.h.cfg.Swap != SwapAtApply {
		s.commit(it.req.ctx, it)
		return
	}
	s.mu.Lock()
	if s.gone.Load() { // Unload drained the script while this staged
		s.mu.Unlock()
		it.st.discard(it.req.ctx)
		s.finish(it.req, Event{Kind: Rejected, To: it.target}, ErrUnloaded)
		return
	}
	if s.lost(it.req) {
		s.mu.Unlock()
		s.supersede(it)
		return
	}
	if s.ready != nil {
		// An older version an Apply postponed (see postpone), which a revert
		// or a follow-up does not supersede, came back while this one staged
		// (waitOlder found the slot empty): it goes first, and this one stages
		// again after it (a revert goes back from it).
		s.mu.Unlock()
		s.requeue(it)
		return
	}
	s.ready = it
	s.h.parked(s) // under mu: whoever sees ready also sees the hint
	s.mu.Unlock()
	// Cancelled while staging: abandon ran before ready was set. The caller's
	// context is asked, not req.ctx, which its cancellation may not have
	// reached yet (see abandon).
	if cause := context.Cause(it.req.caller); cause != nil {
		s.abandon(it.req, cause)
	}
}

// commit swaps it in and reports whether it was committed. ctx, the request's
// own, bounds migration.
func (s *Script) commit(ctx context.Context, it *stagedItem) bool {
	_ = s.swapMu.Lock(context.Background())
	s.mu.Lock()
	c := s.beginCommit(it)
	s.mu.Unlock()
	return s.commitHeld(ctx, it, c)
}

// commitReady commits the version staged for Apply, if there is one, and reports
// whether it was committed. It takes the version under swapMu, so that an Unload
// cannot come between taking it and committing it. ctx is Apply's.
func (s *Script) commitReady(ctx context.Context) bool {
	_ = s.swapMu.Lock(context.Background())
	s.mu.Lock()
	it := s.ready
	s.ready = nil
	var c commitStart
	if it != nil { // taken and begun at once: a request after it finds it committing
		c = s.beginCommit(it)
	}
	s.mu.Unlock()
	if it == nil {
		s.swapMu.Unlock()
		return false
	}
	return s.commitHeld(ctx, it, c)
}

// commitStart is what a commit found as it began (beginCommit).
type commitStart struct {
	stale    bool // a newer request won over it before it began
	moved    bool // a revert's: an Apply committed another version while it staged
	from, to int
}

// beginCommit begins the commit of it: from now on only a request that
// overtakes (Script.overtake) wins over it. The caller holds s.mu, and swapMu.
func (s *Script) beginCommit(it *stagedItem) commitStart {
	c := commitStart{stale: s.lost(it.req), from: s.hist.live().n, to: s.hist.next}
	it.req.committing = true
	s.inCommit = it.req
	if it.req.revert {
		prev, ok := s.hist.previous()
		c.to = it.target
		c.moved = !ok || prev.n != it.target
	}
	return c
}

// commitHeld is commit, begun as c says, with swapMu held, which it releases.
func (s *Script) commitHeld(ctx context.Context, it *stagedItem, c commitStart) bool {
	defer func() {
		s.mu.Lock()
		s.inCommit = nil
		s.mu.Unlock()
		s.swapMu.Unlock()
	}()
	// Apply's context, if Apply commits: the request's caller and Close must
	// still reach the migration.
	var frame context.Context
	if ctx != it.req.ctx {
		frame = ctx
		merged, cancel := context.WithCancelCause(ctx)
		stop := context.AfterFunc(it.req.ctx, func() { cancel(context.Cause(it.req.ctx)) })
		defer func() {
			stop()
			cancel(nil)
		}()
		// A Reload from a host function waits for this commit: the engine
		// must see that caller, to refuse at once a commit that would wait
		// for the call running it (s's own), rather than hold Apply.
		ctx = reentry.OnBehalfOf(merged, it.req.caller)
	}
	ctx = context.WithValue(ctx, committingKey{}, s)
	from, to := c.from, c.to
	if c.stale {
		s.supersede(it)
		return false
	}
	if c.moved {
		s.requeue(it)
		return false
	}
	next := it.st.iface()
	ev := Event{From: from, To: to, CompileTime: it.compile, Diff: diffInterfaces(s.live.Load().iface, next)}
	if err := s.h.cause(it.req); err != nil {
		it.st.discard(ctx)
		ev.Kind = Rejected
		s.fail(it.req, ev, err)
		return false
	}
	plan := &commitPlan{to: to, migrate: s.migrate, selfCheck: s.h.cfg.SelfCheck,
		migration: &Migration{Script: s.name, From: from, To: to, World: s.h.cfg.World},
		swapIf: func() bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.lost(it.req) {
				return false
			}
			s.swapped(it, to, next)
			return true
		}}
	if frame != nil && s.h.frameEnded(frame, it.req, frame.Err()) {
		// Apply's context ended before this commit's turn (another script's
		// migration took the frame): nothing of it ran, and the next Apply
		// commits it, as one that waited for the script.
		s.postpone(it)
		return false
	}
	res, err := it.st.commit(ctx, plan)
	ev.SwapTime = res.blocked
	if errors.Is(err, errSwapSuperseded) { // a newer request came while it waited or ran
		s.supersedeBy(it, superseded(err))
		return false
	}
	if err != nil {
		if frame != nil && res.kept && (s.h.frameEnded(frame, it.req, err) || applyInside(frame, err)) {
			// Apply's context ended while the commit waited for the script,
			// or Apply runs in a host function of the script, whose call the
			// commit would wait for: the version, still staged, waits for a
			// later Apply. One whose migration or hooks the frame's end
			// stopped is rejected: they would need more than a frame every
			// time.
			s.postpone(it)
			return false
		}
		it.st.discard(ctx)
		ev.Kind = Rejected
		s.fail(it.req, ev, asStep(err))
		return false
	}
	// The callers go on: the state MigrateExports moved is listed now.
	ev.Kind, ev.Carried, ev.Reset = Committed, append(res.carried, plan.migration.stateCarried()...), res.reset
	if it.req.revert {
		ev.Kind = Reverted
	}
	s.finish(it.req, ev, nil)
	return true
}

// applyInside reports whether err, the failure of a commit in an Apply under
// frame, Apply's context, is the engine's refusal to wait for a call of the
// script that may be the one the Apply runs in (a host function called
// Apply): the commit can go through at another Apply. A refusal because the
// reload's own caller waits in a host function of the script is for good,
// and an Apply from the program's loop rejects it.
func applyInside(frame context.Context, err error) bool {
	return (errors.Is(err, wasm.ErrReentrant) || errors.Is(err, lua.ErrReentrant)) && reentry.Inside(frame)
}

// frameEnded reports whether err, the failure of req's commit in an Apply, is
// due to Apply's context (frame) alone: it ended, and req's own context and
// the Host did not.
func (h *Host) frameEnded(frame context.Context, req *request, err error) bool {
	cause := context.Cause(frame)
	if cause == nil || h.cause(req) != nil {
		return false
	}
	return errors.Is(err, cause) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// postpone puts it, still staged, back in the ready slot for a later Apply,
// whose context ended while its commit waited for the script, or before its
// turn: that says nothing of the version. A newer request that overtakes
// (Script.overtake) supersedes it, as ever; a newer revert or follow-up, before
// or after, waits for it (see waitOlder).
func (s *Script) postpone(it *stagedItem) {
	s.mu.Lock()
	if s.lost(it.req) { // a newer revert or follow-up does not: it waits for it (see waitOlder)
		s.mu.Unlock()
		s.supersede(it)
		return
	}
	s.ready = it
	s.h.parked(s)
	s.mu.Unlock()
	// As in settle: the caller's context may have ended while it was out of
	// the ready slot, where abandon did not find it.
	if cause := context.Cause(it.req.caller); cause != nil {
		s.abandon(it.req, cause)
	}
}

// swapped records it, committed as version to with interface next, in the
// history and as the live version; the caller holds s.mu. The engine's commit
// runs it at the swap (commitPlan.swapIf), so that Version and Interface
// change exactly when calls move to the new version.
func (s *Script) swapped(it *stagedItem, to int, next Interface) {
	if it.req.revert {
		s.hist.pop()
	} else {
		s.hist.push(version{n: s.hist.number(), code: it.code})
	}
	s.live.Store(&liveVersion{n: to, iface: next})
}
