package hotscript

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hotscript/hotscript/internal/reentry"
	"github.com/hotscript/hotscript/lua"
	"github.com/hotscript/hotscript/wasm"
)

// Reload replaces script s with a new version built from code, or re-read from its
// file when code is nil, and returns once the reload is committed (nil) or rejected.
// The new version is compiled and instantiated (WASM) or compiled and run (Lua) on a
// background goroutine; callers of s keep calling the live version meanwhile, and are
// blocked only while the swap and migration run. On any failure (bad bytes, missing
// import, broken contract, failed migration or self-check, Lua errors) the live
// version keeps running with exactly its state, and the error names the script.
//
// If a newer reload or revert of s is requested before this one commits, this one
// is superseded (ErrSuperseded), whether it would have committed or it fails
// after that: the newest request wins, even if it then fails. (Close and Unload
// reject every request, with ErrClosed and ErrUnloaded.)
//
// With SwapAtApply, Reload returns only after the Host.Apply that commits it: do not
// call Reload from the goroutine that calls Apply; use ReloadAsync there.
// Cancelling ctx before the commit rejects the reload. Safe for concurrent use.
//
// Called from a host function of s itself with the context it received, Reload
// fails with the engine's ErrReentrant (wasm.ErrReentrant, lua.ErrReentrant): its
// commit would wait for the call that is running the host function, which waits
// for Reload. So does a Reload from a MigrationFunc, with the context it was given,
// of its own script (whose commit is the one running it) or, with SwapAtApply, of
// any script (whose commit waits for an Apply, and this one is running), and
// one from what a new version of any script runs as it is staged (its Lua
// chunk's top level, its WASM start function): a reload of that script waits
// for the staging, and two new versions reloading each other's script would
// wait for each other. ReloadAsync from there is fine, as long as nothing waits
// for it before the call or the commit returns.
func (h *Host) Reload(ctx context.Context, s *Script, code []byte) error {
	if err := h.waitsForItself(ctx, s, "reload"); err != nil {
		return err
	}
	p := h.request(ctx, s, code, false)
	<-p.Done()
	return p.Err()
}

// reloadOf is the context of a reload asked from a migration or a staging:
// that commit's or staging's keys do not go with it, so that its own staging
// and commit see theirs.
type reloadOf struct{ context.Context }

func (c reloadOf) Value(k any) any {
	switch k.(type) {
	case committingKey, stagingKey, watchLoadKey:
		return nil
	}
	return c.Context.Value(k)
}

// committingKey is the context key under which commit passes the script it is
// committing to migrations and self-checks; stagingKey, the key under which stage
// passes the script it is staging to what the new version runs as it loads;
// watchLoadKey marks the context of a file's first load under Watch.
type (
	committingKey struct{}
	stagingKey    struct{}
	watchLoadKey  struct{}
)

// Staging reports whether ctx is that of code that runs on a goroutine of the
// Host's while the program's own goroutines go on, as a new version is staged:
// a reload's new Lua chunk's top level or new WASM module's start function
// (_initialize included), or those of a file's first load under Watch, and the
// host functions they call. A host function that touches what the program's
// loop owns, such as an ecs.World used without a lock, can refuse when
// Staging(ctx) is true: its error fails that load, which rejects the reload
// (the live version keeps running) or the new file, instead of racing with the
// loop. Staging is false in what Load and LoadBytes run (on their caller's
// goroutine) and in commits (migrations, on_save and on_restore, self-checks),
// which run in Apply under SwapAtApply and on the Host's goroutine, with the
// script's callers held, under SwapImmediate.
func Staging(ctx context.Context) bool {
	_, ok := ctx.Value(stagingKey{}).(*Script)
	return ok || ctx.Value(watchLoadKey{}) != nil
}

// reloading returns the script of this Host whose commit (key committingKey{}) or
// staging (stagingKey{}) ctx comes from, or nil.
func (h *Host) reloading(ctx context.Context, key any) *Script {
	if c, _ := ctx.Value(key).(*Script); c != nil && c.h == h {
		return c
	}
	return nil
}

// waitsForItself returns why a reload or revert (op) of s, asked with ctx and
// waited for, could never finish, or might not: ctx comes from the staging of
// a new version of a script (s's reloads wait for a staging of s, and another
// script's for a staging that may wait for this one), or from a migration of
// this Host, and s is the script being committed or the commit runs in an
// Apply, which the reload's commit would wait for. Else nil.
func (h *Host) waitsForItself(ctx context.Context, s *Script, op string) error {
	if s == nil {
		return nil
	}
	if err := h.waitsFromStaging(ctx, s, op); err != nil {
		return err
	}
	c := h.reloading(ctx, committingKey{})
	if c == nil || s == nil || (c != s && h.cfg.Swap != SwapAtApply) {
		return nil
	}
	return opErr(op, s.name, reentrant("a migration of "+c.name))
}

// waitsFromStaging refuses op on s, which waits for s's reloads, from what a
// new version runs as it is staged: s's reloads wait for a staging of s, and
// another script's may wait for a staging that waits for this one (each new
// version reloading, or unloading, the other's script).
func (h *Host) waitsFromStaging(ctx context.Context, s *Script, op string) error {
	if st := h.reloading(ctx, stagingKey{}); st != nil {
		return opErr(op, s.name, reentrant("a reload being staged of "+st.name))
	}
	return nil
}

// ReloadAsync starts a reload like Reload and returns at once. The reload goes on
// after ReloadAsync returns, until ctx is cancelled or it is resolved. Safe for
// concurrent use, and from a host function of s: the commit then waits for the
// call running that host function to end. From a MigrationFunc, or from what a
// new version runs as it is staged, with the context it was given (which ends
// with that commit or staging), the reload goes on after it, until it is
// resolved or the Host closes.
func (h *Host) ReloadAsync(ctx context.Context, s *Script, code []byte) *Pending {
	if h.reloading(ctx, committingKey{}) != nil || Staging(ctx) {
		ctx = reloadOf{context.WithoutCancel(ctx)}
	}
	// Nobody is known to wait here, so a host function's mark must not refuse
	// the commit as a call back into its script (see package reentry).
	return h.request(reentry.Detach(ctx), s, code, false)
}

// Revert goes back one version: the version before the live one (kept in the
// script's history) is staged and committed like a reload, with the same migration
// policy, and the live version is dropped from the history. A WASM version still in
// the wasm runtime's compiled-code cache is back in well under a millisecond. It
// returns an error matching ErrNoHistory when there is no earlier version, and obeys
// the swap mode and the newest-wins rule like Reload, and is refused where Reload
// is. Safe for concurrent use.
func (h *Host) Revert(ctx context.Context, s *Script) error {
	if err := h.waitsForItself(ctx, s, "revert"); err != nil {
		return err
	}
	p := h.request(ctx, s, nil, true)
	<-p.Done()
	return p.Err()
}

func (h *Host) request(ctx context.Context, s *Script, code []byte, revert bool) *Pending {
	p := newPending()
	req := &request{caller: ctx, revert: revert, p: p}
	if err := h.notOurs(s, req.op(), ""); err != nil {
		ev := Event{Kind: Rejected}
		if s != nil {
			ev.Script = s.name
		}
		p.resolve(ev, err)
		return p
	}
	// A copy: the reload stages on another goroutine, and the history keeps
	// the bytes, while the caller may reuse its buffer as soon as this returns.
	req.code = bytes.Clone(code)
	s.mu.Lock()
	s.open++ // until finish
	s.mu.Unlock()
	req.ctx, req.cancel = context.WithCancelCause(ctx)
	req.stop = []func() bool{
		context.AfterFunc(h.base, func() { req.cancel(ErrClosed) }),
		context.AfterFunc(ctx, func() { s.abandon(req, context.Cause(ctx)) }),
	}
	if !h.enter() {
		if s.gone.Load() { // no event: the name may belong to another script by now
			s.release(req)
			p.resolve(Event{Script: s.name, Kind: Rejected}, opErr(req.op(), s.name, ErrUnloaded))
			return p
		}
		s.finish(req, Event{Kind: Rejected}, ErrClosed)
		return p
	}
	s.mu.Lock()
	if s.gone.Load() {
		s.mu.Unlock()
		h.wg.Done()
		s.release(req) // and no event: the name may belong to another script by now
		p.resolve(Event{Script: s.name, Kind: Rejected}, opErr(req.op(), s.name, ErrUnloaded))
		return p
	}
	s.seq++
	req.seq, s.latest, s.latestP = s.seq, s.seq, p
	old, oldReady := s.queued, s.ready
	s.queued, s.ready = req, nil
	if old != nil {
		old.by = p
	}
	if oldReady != nil {
		oldReady.req.by = p
	}
	start := s.claimWorker()
	s.resolving.Add(1)
	s.mu.Unlock()
	if old != nil {
		s.finish(old, Event{Kind: Superseded}, ErrSuperseded)
	}
	if oldReady != nil {
		oldReady.st.discard(req.ctx)
		s.finish(oldReady.req, Event{Kind: Superseded, To: oldReady.target}, ErrSuperseded)
	}
	s.resolving.Done()
	s.startWork(start)
	return p
}

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
	if it.req.seq != s.latest {
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
	s.mu.Lock()
	prev, ok := s.hist.previous()
	it.target = s.hist.next // the number a reload would get; commit decides
	s.mu.Unlock()
	if req.revert {
		if !ok {
			s.fail(req, Event{Kind: Rejected}, ErrNoHistory)
			return nil
		}
		code, it.target = prev.code, prev.n
	} else if code, err = s.source(req.ctx, code); err != nil { // nothing to stage: no To
		s.fail(req, Event{Kind: Rejected}, err)
		return nil
	}
	if err := s.h.cause(req); err != nil {
		s.fail(req, Event{Kind: Rejected}, err)
		return nil
	}
	start := time.Now()
	st, err := s.u.stage(context.WithValue(req.ctx, stagingKey{}, s), code)
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
	if it.req.seq != s.latest {
		s.mu.Unlock()
		s.supersede(it)
		return
	}
	s.ready = it
	s.h.readyHint.Store(true) // under mu: whoever sees ready also sees the hint
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
	s.swapMu.Lock()
	return s.commitHeld(ctx, it)
}

// commitReady commits the version staged for Apply, if there is one, and reports
// whether it was committed. It takes the version under swapMu, so that an Unload
// cannot come between taking it and committing it. ctx is Apply's.
func (s *Script) commitReady(ctx context.Context) bool {
	s.swapMu.Lock()
	s.mu.Lock()
	it := s.ready
	s.ready = nil
	s.mu.Unlock()
	if it == nil {
		s.swapMu.Unlock()
		return false
	}
	return s.commitHeld(ctx, it)
}

// commitHeld is commit with swapMu held, which it releases.
func (s *Script) commitHeld(ctx context.Context, it *stagedItem) bool {
	defer s.swapMu.Unlock()
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
	s.mu.Lock()
	from := s.hist.live().n
	to := s.hist.next
	stale := it.req.seq != s.latest
	moved := false
	if it.req.revert {
		prev, ok := s.hist.previous()
		to = it.target
		moved = !ok || prev.n != it.target // an Apply committed another version while this staged
	}
	s.mu.Unlock()
	if stale {
		s.supersede(it)
		return false
	}
	if moved {
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
		swapped:   func() { s.swapped(it, to, next) }}
	if frame != nil && s.h.frameEnded(frame, it.req, frame.Err()) {
		// Apply's context ended before this commit's turn (another script's
		// migration took the frame): nothing of it ran, and the next Apply
		// commits it, as one that waited for the script.
		s.postpone(it)
		return false
	}
	res, err := it.st.commit(ctx, plan)
	ev.SwapTime = res.blocked
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
	ev.Kind, ev.Carried = Committed, res.carried
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
// turn: that says nothing of the version. A newer request supersedes it, as
// ever.
func (s *Script) postpone(it *stagedItem) {
	s.mu.Lock()
	if it.req.seq != s.latest {
		s.mu.Unlock()
		s.supersede(it)
		return
	}
	s.ready = it
	s.h.readyHint.Store(true)
	s.mu.Unlock()
	// As in settle: the caller's context may have ended while it was out of
	// the ready slot, where abandon did not find it.
	if cause := context.Cause(it.req.caller); cause != nil {
		s.abandon(it.req, cause)
	}
}

// swapped records it, committed as version to with interface next, in the
// history and as the live version. The engine's commit runs it at the swap
// (commitPlan.swapped), so that Version and Interface change exactly when
// calls move to the new version.
func (s *Script) swapped(it *stagedItem, to int, next Interface) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if it.req.revert {
		s.hist.pop()
	} else {
		s.hist.push(version{n: s.hist.number(), code: it.code})
	}
	s.live.Store(&liveVersion{n: to, iface: next})
}

// cause says why req must stop: the Host is closing or its caller's context was
// cancelled. Both are read at their source, because they reach req.ctx
// asynchronously (Close through context.AfterFunc, the caller's cancellation
// child by child).
func (h *Host) cause(req *request) error {
	if h.closed.Load() {
		return ErrClosed
	}
	if err := context.Cause(req.caller); err != nil {
		return err
	}
	return context.Cause(req.ctx)
}

// why is the error of req, rejected with err: the cause
// of req's end if the Host closed or req's context ended meanwhile (the engine
// saw only a context cancelled, with Close's ErrClosed or the caller's cause
// lost), else err.
func (h *Host) why(req *request, err error) error {
	if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if cause := h.cause(req); cause != nil && !errors.Is(err, cause) {
		return fmt.Errorf("%w: %w", cause, err)
	}
	return err
}

// fail resolves req, which failed with err while it was staged or committed:
// as Rejected (ev), or as Superseded if a newer reload or revert of s was
// requested meanwhile, which wins even if it then fails, as it would have had
// req succeeded. A failure due to Close or Unload stays a rejection with their
// error, which every request of s gets.
func (s *Script) fail(req *request, ev Event, err error) {
	s.mu.Lock()
	newer := req.seq != s.latest
	s.mu.Unlock()
	if newer && !s.h.closed.Load() && !s.unloaded(err) {
		ev.Kind, ev.Diff, err = Superseded, Diff{}, ErrSuperseded
	}
	s.finish(req, ev, err)
}

func (s *Script) supersede(it *stagedItem) {
	it.st.discard(it.req.ctx)
	s.finish(it.req, Event{Kind: Superseded, From: s.Version(), To: it.target, CompileTime: it.compile}, ErrSuperseded)
}

// abandon resolves req if it is still waiting (queued or staged) after its context
// was cancelled. A request being staged or committed notices the cancellation
// itself.
func (s *Script) abandon(req *request, cause error) {
	if !s.h.enter() {
		return // Close is draining everything
	}
	defer s.h.wg.Done()
	s.mu.Lock()
	var it *stagedItem
	switch {
	case s.queued == req:
		s.queued = nil
	case s.ready != nil && s.ready.req == req:
		it, s.ready = s.ready, nil
	default:
		s.mu.Unlock()
		return
	}
	s.resolving.Add(1)
	s.mu.Unlock()
	defer s.resolving.Done()
	if it != nil {
		it.st.discard(context.Background())
	}
	// cause, not req.ctx's: this runs on its own goroutine as soon as ctx is done,
	// possibly before ctx's cancellation has reached req.ctx, derived from it.
	s.finish(req, Event{Kind: Rejected, To: it.to()}, cause)
}

// op names what r asks for, in errors.
func (r *request) op() string {
	if r.revert {
		return "revert"
	}
	return "reload"
}

// to is the version it would have made live, 0 for none (a request that ended
// before it was staged).
func (it *stagedItem) to() int {
	if it == nil {
		return 0
	}
	return it.target
}

// drain rejects whatever Close found still waiting.
func (s *Script) drain(ctx context.Context) {
	s.mu.Lock()
	req, it := s.queued, s.ready
	s.queued, s.ready = nil, nil
	s.mu.Unlock()
	s.reject(ctx, req, it, ErrClosed)
}

// reject rejects with cause a request taken from the script's queue and a staged
// version taken from its ready slot, either of which may be nil.
func (s *Script) reject(ctx context.Context, req *request, it *stagedItem, cause error) {
	if req != nil {
		s.finish(req, Event{Kind: Rejected}, cause)
	}
	if it != nil {
		it.st.discard(ctx)
		s.finish(it.req, Event{Kind: Rejected, To: it.target}, cause)
	}
}

// finish resolves req: the event is completed, counted, emitted and handed to the
// Pending. It is called exactly once per request, by whoever took it out of the
// script's queue or ready slot.
func (s *Script) finish(req *request, ev Event, err error) {
	if ev.Kind == Rejected {
		err = s.h.why(req, err) // before release, which cancels req.ctx
	}
	s.release(req)
	if ev.Kind == Rejected && s.unloaded(err) {
		err = ErrUnloaded // whatever the engine said of a script Unload took from it
	}
	var by *Pending
	if errors.Is(err, ErrSuperseded) {
		s.mu.Lock()
		if by = req.by; by == nil { // superseded while staged or committed: by the newest
			by = s.latestP
		}
		if by == req.p {
			by = nil
		}
		s.mu.Unlock()
	}
	ev, err = s.record(req.op(), ev, err)
	req.p.resolveBy(ev, err, by)
}

// release ends what req holds before it is resolved: its context registrations,
// its count among the script's open requests, its context.
func (s *Script) release(req *request) {
	for _, stop := range req.stop {
		stop()
	}
	s.mu.Lock()
	s.open--
	s.mu.Unlock()
	req.cancel(nil)
}

// record completes, counts and emits ev, and returns it with err wrapped with the
// operation and the script's name.
func (s *Script) record(op string, ev Event, err error) (Event, error) {
	ev.Script = s.name
	if ev.From == 0 {
		ev.From = s.Version()
	}
	switch ev.Kind {
	case Committed:
		s.stats.reloads.Add(1)
	case Reverted:
		s.stats.reverts.Add(1)
	case Superseded:
		s.stats.superseded.Add(1)
	case Rejected:
		s.stats.failedReloads.Add(1)
	}
	if err != nil {
		if !namesScript(err) {
			err = opErr(op, s.name, err)
		}
		ev.Err = err
	}
	s.h.ev.emit(ev)
	return ev, err
}

// namesScript reports whether err already names the script and the operation: the
// engines' errors and a *ContractError do; a failed migration or self-check does
// not, whatever error of the step it wraps, nor a context's end (the reload's
// own, or Close's), which the engine saw as a context like any other.
func namesScript(err error) bool {
	if _, ok := err.(*stepError); ok {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var (
		ce *ContractError
		we *wasm.Error
		le *lua.Error
	)
	return errors.As(err, &ce) || errors.As(err, &we) || errors.As(err, &le)
}
