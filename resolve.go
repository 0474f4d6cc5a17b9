package hotscript

// How a reload request ends: committed, rejected, superseded or abandoned,
// each exactly once, with its event recorded and handed to its Pending.

import (
	"context"
	"errors"
	"fmt"

	"github.com/hotscript/hotscript/lua"
	"github.com/hotscript/hotscript/wasm"
)

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
	newer := s.lost(req)
	s.mu.Unlock()
	if newer && !s.h.closed.Load() && !s.unloaded(err) {
		ev.Kind, ev.Diff, err = Superseded, Diff{}, superseded(err)
	}
	s.finish(req, ev, err)
}

// lost reports whether a newer request of s wins over req: any newer one until
// req's commit begins, then only one that overtakes (Script.overtake), which
// its commit gives up for at its swap, and a commit an Apply postponed for at
// its next turn. The caller holds s.mu.
func (s *Script) lost(req *request) bool {
	if req.committing {
		return s.overtake > req.seq
	}
	return req.seq != s.latest
}

func (s *Script) supersede(it *stagedItem) { s.supersedeBy(it, ErrSuperseded) }

// supersedeBy is supersede with why, an error matching ErrSuperseded.
func (s *Script) supersedeBy(it *stagedItem, why error) {
	it.st.discard(it.req.ctx)
	s.finish(it.req, Event{Kind: Superseded, From: s.Version(), To: it.target, CompileTime: it.compile}, why)
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
	// Cut off, or a verdict on the bytes: decided by the kind and by what ended
	// the request, not by the error, which a migration's may wrap (see cutOff).
	cut := ev.Kind == Superseded
	if ev.Kind == Rejected {
		cut = s.h.cause(req) != nil
		err = s.h.why(req, err) // before release, which cancels req.ctx
	}
	s.release(req)
	if ev.Kind == Rejected && s.unloaded(err) {
		err = ErrUnloaded // whatever the engine said of a script Unload took from it
		cut = true
	}
	var by *Pending
	if ev.Kind == Superseded {
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
	req.p.resolveBy(ev, err, by, cut)
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
	s.h.ev.emit(ev.clone()) // the Events channel's receiver owns what it gets; the Pending keeps ev
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
