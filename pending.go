package hotscript

import (
	"context"
	"sync"
	"time"
)

// Pending is a reload or revert in progress, returned by ReloadAsync. Its methods are
// safe for concurrent use.
type Pending struct {
	done chan struct{}
	once sync.Once
	ev   Event
	err  error
	// by is, for a superseded request, the newest request of its script when
	// it was resolved: the one that decided for it (see decider).
	by *Pending
	// cut: it was cut off before it could say anything of its bytes: by its
	// context, Close, Unload, or a newer request (see Script.finish).
	cut bool
}

func newPending() *Pending { return &Pending{done: make(chan struct{})} }

// Done returns a channel closed once the reload is committed, rejected or
// superseded.
func (p *Pending) Done() <-chan struct{} { return p.done }

// Err returns nil until Done is closed; then nil if the reload was committed, or why
// it was not (ErrSuperseded, ErrClosed, a *ContractError, an engine error...).
func (p *Pending) Err() error {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// Event returns the reload's event once Done is closed (the zero Event before),
// a copy of its own for each caller: the Events channel's receiver owns the one
// it got.
func (p *Pending) Event() Event {
	select {
	case <-p.done:
		return p.ev.clone()
	default:
		return Event{}
	}
}

// resolve resolves a request the Host refused before it began, with err, an
// error of the Host's own (ErrClosed, ErrUnloaded, ErrInvalid).
func (p *Pending) resolve(ev Event, err error) { p.resolveBy(ev, err, nil, cutOff(err)) }

// resolveBy resolves p; by is the request that superseded it, if any, and cut
// says whether it was cut off (see Pending.cut).
func (p *Pending) resolveBy(ev Event, err error, by *Pending, cut bool) {
	if ev.Kind == Rejected && ev.Err == nil {
		ev.Err = err // a request refused before it began, which no event reports
	}
	p.once.Do(func() {
		p.ev, p.err, p.by, p.cut = ev, err, by, cut // the Events channel got a copy (see record)
		close(p.done)
	})
}

// decider returns the request that decides for p: p itself, or, once p is
// superseded, the one that superseded it, followed as far as it is superseded in
// turn. The last one may not be resolved yet.
func (p *Pending) decider() *Pending {
	for {
		select {
		case <-p.done:
		default:
			return p
		}
		if p.by == nil {
			return p
		}
		p = p.by
	}
}

// request is one reload or revert asked of a script.
type request struct {
	caller context.Context // the context the reload was asked for with
	ctx    context.Context // cancelled by the caller's context or by Close
	cancel context.CancelCauseFunc
	stop   []func() bool // context.AfterFunc registrations
	code   []byte        // nil: re-read the file
	revert bool
	// save: Watch's reload of a saved file, which stages nothing if its code
	// is the live version's when its turn comes (see Script.stage).
	save bool
	seq  uint64
	// committing: its commit has begun (under the script's mu), and it has
	// not gone back to the queue since; see Script.lost.
	committing bool
	p          *Pending
	// by is the request that superseded this one, set as it did (under the
	// script's mu); nil until then (see Pending.decider).
	by *Pending
}

// stagedItem is a request whose new version is staged and checked.
type stagedItem struct {
	req     *request
	st      staged
	code    []byte
	target  int // the version number the request would make live: a reload's next number, a revert's earlier version
	compile time.Duration
}
