package hotscript

import (
	"bytes"
	"context"

	"github.com/hotscript/hotscript/internal/reentry"
	"github.com/hotscript/hotscript/internal/undo"
)

// Reload replaces script s with a new version built from code, or re-read from its
// file when code is nil, and returns once the reload is committed (nil) or
// rejected. For an x.wasm, the file re-read is its source x.c or x.wat, built,
// where a Watch would take it: the script comes from it (Watch reloaded it from
// a save of it, and does not write the .wasm) and the .wasm holds what the Host
// last read of it, or the source holds text neither Watch nor the load saw
// (edited while no Watch ran). It is built as Watch builds it: read and built
// again if saved during the build (watch.BuildStep.BuildRead), so that the text
// the Host records as running is what was built.
// The new version is compiled and instantiated (WASM) or compiled and run (Lua) on a
// background goroutine; callers of s keep calling the live version meanwhile, and are
// blocked only while the swap and migration run. On any failure (bad bytes, missing
// import, broken contract, failed migration or self-check, Lua errors) the live
// version keeps running with exactly its state, and the error names the script.
//
// If a newer reload or revert of s is requested before this one commits, this one
// is superseded (ErrSuperseded), whether it would have committed or it fails
// after that: the newest request wins, even if it then fails. That includes a
// reload requested while this one's commit waits for a call or lease in progress
// or runs its migration and hooks, which are then rolled back (a revert requested
// then goes back from the version this one commits). A version still
// being built then stops being built, as far as the engine can stop it (a Lua
// compile is given up, a chunk or a WASM start function stopped, the build
// of a Reload(nil)'s source killed; a WASM compile runs to its end), so that
// the newer one does not wait for it. (Close
// rejects every request with ErrClosed, and cancels a commit in progress;
// Unload waits for a commit in progress, which then stands, and rejects every
// other request with ErrUnloaded.)
//
// With SwapAtApply, Reload returns only after the Host.Apply that commits it: do not
// call Reload from the goroutine that calls Apply; use ReloadAsync there.
// Cancelling ctx before the commit rejects the reload. Safe for concurrent use.
//
// Called from a host function of s itself with the context it received, Reload
// fails at once with the engine's ErrReentrant (wasm.ErrReentrant,
// lua.ErrReentrant), requesting nothing: its commit would wait for the call that
// is running the host function, which waits for Reload. So does a Reload from a MigrationFunc, with the context it was given,
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
	p := h.request(ctx, s, code, false, true, nil)
	<-p.Done()
	return p.Err()
}

// reloadOf is the context of a reload asked from a migration or a staging:
// that commit's or staging's keys do not go with it, so that its own staging
// and commit see theirs (request drops the commit's undo log, as for any
// reload).
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

// OnRollback registers f to run if the reload whose commit ctx comes from is
// rolled back, and reports whether ctx comes from one: a host function called
// by what a commit runs (a WASM module's set_state or get_state called by the
// migration, Lua's on_save and on_restore, the self-check) changes what the
// program owns, an ecs.World say, and registers how to put it back. The
// functions run, most recent first, if the reload fails after they were
// registered (a hook's or the self-check's error, a limit, a newer request at
// the swap), before the script's callers go on with the old version, which
// then finds things as they were; with the functions of Migration.Undo, in
// one list. An ecs.World has what such functions need: World.Unspawn undoes
// a Spawn, World.Snapshot puts an entity back as it was, despawned or
// changed (take it before the change). A panic in f is recovered and
// reported with the reload's error.
// f runs with the script's callers held: it must not call, reload or revert
// the script, nor wait for what does, which would wait for it forever.
// Under lua.Config.ReloadPastFailingOnSave, the functions registered while a
// failing on_save ran run as its changes to the old version are undone, before
// on_restore runs.
//
// Outside a commit (a call from the program, a version being staged: see
// Staging, a load or a reload the commit's host functions start, which
// succeeds or fails on its own), or once the commit is over, OnRollback
// registers nothing and returns false: what the host function changes then
// stays. It is safe for
// concurrent use. For a Lua script run by a lua.Runtime of its own, without a
// Host, lua.OnRollback is the same.
func OnRollback(ctx context.Context, f func()) bool { return undo.Add(ctx, f) }

// Committing reports whether ctx comes from a reload's commit that is going
// on, where OnRollback registers: a host function called on every frame can
// ask it first, and make its undo function (an allocation) only when it is
// true. Safe for concurrent use; lua.Committing is the same.
func Committing(ctx context.Context) bool { return undo.Open(ctx) }

// reloading returns the script of this Host whose commit (key committingKey{}) or
// staging (stagingKey{}) ctx comes from, or nil.
func (h *Host) reloading(ctx context.Context, key any) *Script {
	if c, _ := ctx.Value(key).(*Script); c != nil && c.h == h {
		return c
	}
	return nil
}

// waitsForItself returns why a reload or revert (op) of s, asked with ctx and
// waited for, could never finish, or might not: ctx comes from a host function
// s is running (the commit would wait for that call, which waits for it: with
// SwapAtApply, if the program calls Apply on the goroutine making the call,
// the wait would never even end in a refusal), from the staging of a new
// version of a script (s's reloads wait for a staging of s, and another
// script's for a staging that may wait for this one), or from a migration of
// this Host, and s is the script being committed or the commit runs in an
// Apply, which the reload's commit would wait for. Else nil.
func (h *Host) waitsForItself(ctx context.Context, s *Script, op string) error {
	if s == nil || s.u == nil { // not a Script of New's making: request says so
		return nil
	}
	// A migration's context carries the engine's mark of a call into the
	// script, as a host function's does: asked first, so that it is named.
	c := h.reloading(ctx, committingKey{})
	if c == s {
		return opErr(op, s.name, reentrant("a migration of "+c.name))
	}
	if s.u.reentered(ctx) {
		return opErr(op, s.name, reentrant("a host function of "+s.name))
	}
	if err := h.waitsFromStaging(ctx, s, op); err != nil {
		return err
	}
	if c == nil || h.cfg.Swap != SwapAtApply {
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
// resolved or the Host closes (of its own script, from a MigrationFunc, after
// the commit running it, which it does not supersede).
func (h *Host) ReloadAsync(ctx context.Context, s *Script, code []byte) *Pending {
	return h.reloadAsync(ctx, s, code, nil)
}

// reloadAsync is ReloadAsync, which calls mark, if not nil, with the reload's
// Pending before the reload can resolve: Watch records the save it reloads
// there, which what follows the reload's event (a Revert, the next Watch's
// catch-up) must find.
func (h *Host) reloadAsync(ctx context.Context, s *Script, code []byte, mark func(*Pending)) *Pending {
	c := h.reloading(ctx, committingKey{})
	if c != nil || Staging(ctx) {
		ctx = reloadOf{context.WithoutCancel(ctx)}
	}
	// Nobody is known to wait here, so a host function's mark must not refuse
	// the commit as a call back into its script (see package reentry).
	return h.request(reentry.Detach(ctx), s, code, false, c != s, mark)
}

// Revert goes back one version: the version before the live one (kept in the
// script's history) is staged and committed like a reload, with the same migration
// policy, and the live version is dropped from the history. A WASM version still in
// the wasm runtime's compiled-code cache is back in well under a millisecond. It
// returns an error matching ErrNoHistory when there is no earlier version (one
// asked when there is none, and no commit under way that makes one, changes
// nothing: a reload pending goes on), and obeys
// the swap mode and the newest-wins rule like Reload, and is refused where Reload
// is. Like Reload, with SwapAtApply it returns only after the Apply that commits
// it: do not call it from the goroutine that calls Apply (there is no
// RevertAsync; start a goroutine for it). Safe for concurrent use.
func (h *Host) Revert(ctx context.Context, s *Script) error {
	if err := h.waitsForItself(ctx, s, "revert"); err != nil {
		return err
	}
	p := h.request(ctx, s, nil, true, false, nil)
	<-p.Done()
	return p.Err()
}

// mayRevert reports whether a revert of s asked now may find a version to go
// back to: one in the history, or one that a commit it would not supersede
// (in progress and not overtaken, or postponed by an Apply) pushes there
// before its turn, unless that commit fails. The caller holds s.mu.
func (s *Script) mayRevert() bool {
	if _, ok := s.hist.previous(); ok {
		return true
	}
	if r := s.ready; r != nil && r.req.committing && !s.lost(r.req) {
		return true
	}
	return s.inCommit != nil && !s.lost(s.inCommit)
}

// request asks for a reload, or a revert, of s. A request that overtakes wins
// over a commit of s in progress, which gives up at its swap (see
// commitPlan.swap); one that does not, a revert or a reload asked by the
// migration of that commit, comes after it. mark, if not nil, is called with
// the request's Pending before anything can resolve it.
func (h *Host) request(ctx context.Context, s *Script, code []byte, revert, overtakes bool, mark func(*Pending)) *Pending {
	ctx = undo.Without(ctx) // from a commit: the reload commits or fails on its own
	p := newPending()
	if mark != nil {
		mark(p)
	}
	req := &request{caller: ctx, revert: revert, save: mark != nil, p: p}
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
	if revert && !s.mayRevert() {
		// Nothing to go back to, now or after a commit before it: refused
		// at once, superseding nothing (helper-206: a save being staged was
		// superseded, and lost, by a revert that then failed).
		s.mu.Unlock()
		h.wg.Done()
		s.finish(req, Event{Kind: Rejected}, ErrNoHistory)
		return p
	}
	s.seq++
	req.seq, s.latest, s.latestP, s.latestCode = s.seq, s.seq, p, req.code
	if overtakes {
		s.overtake = s.seq
	}
	old, oldReady := s.queued, s.ready
	if oldReady != nil && !s.lost(oldReady.req) {
		oldReady = nil // a commit an Apply postponed: req comes after it (see waitOlder)
	}
	s.queued = req
	if oldReady != nil {
		s.ready = nil
	}
	if old != nil {
		old.by = p
	}
	if oldReady != nil {
		oldReady.req.by = p
	}
	if s.building != nil {
		// A version being built is dropped once built: stop building it (a
		// Lua compile or chunk gives up, a WASM start function stops), so that
		// this one does not wait for it.
		s.building.cancel(ErrSuperseded)
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
