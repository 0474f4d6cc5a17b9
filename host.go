package hotscript

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotscript/hotscript/internal/reentry"
)

// Host runs WASM and Lua scripts and reloads them without stalling their callers.
//
// A Host is safe for concurrent use: calls, reloads, reverts, Apply and Close may come
// from any number of goroutines. Make one with New; the zero Host is not usable.
type Host struct {
	cfg     Config
	engines map[Kind]engine
	owned   []engine // engines the Host created, closed by Close
	ev      *events

	// base is cancelled by Close; every reload's context derives from it so Close
	// aborts stages in flight.
	base   context.Context
	cancel context.CancelCauseFunc

	mu      sync.RWMutex // guards scripts, files and loads; write-held to set closed
	scripts map[string]*Script
	files   map[string]*Script  // scripts by file (see Script.canonFile), for reserve
	loads   map[string]*loadRes // names a load in progress holds (see reserve)
	loadsOf map[string]string   // the file of each load in progress, by name
	closed  atomic.Bool
	wg      sync.WaitGroup // loads, reload workers, watchers and abandon callbacks

	watchMu sync.Mutex
	watched []*watchClaim // directories being watched

	// readyHint is set after a staged reload is parked for Apply, so that an Apply
	// with nothing to do (most frames) costs one atomic swap.
	readyHint atomic.Bool
	// ready holds the scripts a staged reload was parked in since the last
	// Apply took them, so that an Apply's work grows with the reloads waiting,
	// not with the scripts loaded.
	readyMu sync.Mutex
	ready   map[*Script]struct{}
	moves   []*movedWait // renamed files' old scripts, unloaded by Apply (see unloadMoved)

	// stagings holds a token per staging under way (see inStageTurn), which
	// it keeps for turnMax at most.
	stagings chan struct{}
	turnMax  time.Duration

	closeOnce sync.Once
	closeErr  error
}

// New returns a Host configured by cfg (whose zero value is usable). It creates the
// WASM and Lua runtimes cfg does not provide, and defines cfg.Funcs on both. ctx is
// used only to create them. An option out of its range (a Swap that is not a
// SwapMode, a negative History or EventBuffer, a HostFunc whose Func is nil or
// whose types are not Types) is ErrInvalid.
func New(ctx context.Context, cfg Config) (*Host, error) {
	if err := cfg.validate(); err != nil {
		return nil, opErr("new host", "", err)
	}
	w, ownW, err := newWASMEngine(ctx, cfg.WASM, cfg.Limits)
	if err != nil {
		return nil, opErr("new host", "", err)
	}
	l, ownL, err := newLuaEngine(ctx, cfg.Lua, cfg.Limits)
	if err != nil {
		if ownW {
			_ = w.close(ctx)
		}
		return nil, opErr("new host", "", err)
	}
	var owned []engine
	if ownW {
		owned = append(owned, w)
	}
	if ownL {
		owned = append(owned, l)
	}
	for i := range cfg.Funcs {
		if err := cfg.Funcs[i].define(w.rt, l.rt); err != nil {
			for _, e := range owned {
				_ = e.close(ctx)
			}
			return nil, opErr("new host", "", err)
		}
	}
	return newHost(cfg, map[Kind]engine{KindWASM: w, KindLua: l}, owned), nil
}

func newHost(cfg Config, engines map[Kind]engine, owned []engine) *Host {
	cfg = cfg.withDefaults()
	h := &Host{cfg: cfg, engines: engines, owned: owned, scripts: map[string]*Script{}, files: map[string]*Script{},
		loads: map[string]*loadRes{}, loadsOf: map[string]string{}}
	h.ev = newEvents(cfg.EventBuffer, cfg.Logger)
	h.stagings, h.turnMax = make(chan struct{}, cfg.Stagings), stageTurnMax
	h.base, h.cancel = context.WithCancelCause(context.Background())
	return h
}

// Events returns the channel on which the Host reports every load, reload, revert
// and watched-file removal. It is buffered (Config.EventBuffer); when a reader falls
// behind, new events are dropped rather than delaying a reload, and counted by
// DroppedEvents. Close closes the channel. Safe for concurrent use.
func (h *Host) Events() <-chan Event { return h.ev.ch }

// DroppedEvents returns how many events were dropped because the Events buffer was
// full. Safe for concurrent use.
func (h *Host) DroppedEvents() uint64 { return h.ev.dropped.Load() }

// Script returns the loaded script named name. Safe for concurrent use.
func (h *Host) Script(name string) (*Script, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	s, ok := h.scripts[name]
	return s, ok
}

// Scripts returns the loaded scripts sorted by name. Safe for concurrent use.
func (h *Host) Scripts() []*Script {
	h.mu.RLock()
	out := make([]*Script, 0, len(h.scripts))
	for _, s := range h.scripts {
		out = append(out, s)
	}
	h.mu.RUnlock()
	slices.SortFunc(out, func(a, b *Script) int { return cmp.Compare(a.name, b.name) })
	return out
}

// Apply commits every reload that is staged and waiting (SwapAtApply) and returns
// how many were committed; rejected ones are reported as events. Then it unloads
// the scripts Watch found moved to another file whose load or reload has
// committed (see Host.Watch), waiting for the calls in progress on them until
// ctx ends (such an unload then ends with those calls). Call it at a safe
// point, typically once between frames; each script's callers are blocked only while
// that script is swapped. The migrations Apply runs stop when ctx is done, or when
// their reload's own context is or the Host closes (Close waits for Apply).
//
// A reload that ctx stops while it waits for a call or lease in progress on its
// script, or whose turn comes after ctx ended, is not rejected: it stays for a
// later Apply, staged as it is (its code does not run again). So does one whose
// script's host function is running this Apply (with its context): the commit
// would wait for that very call. A reload that ctx
// stops in its migration or hooks is rejected with ctx's error: it would need
// more than ctx gives it every time. Its own context's end or Close rejects it,
// as ever.
//
// An Apply with nothing waiting costs one atomic operation; with SwapImmediate
// there is never anything waiting and Apply returns 0. From a migration (with its
// context), Apply does nothing and returns 0. Safe for concurrent use.
func (h *Host) Apply(ctx context.Context) int {
	if !h.readyHint.Load() {
		return 0
	}
	if h.reloading(ctx, committingKey{}) != nil {
		return 0 // it would commit a version of a script whose commit runs it
	}
	if !h.readyHint.Swap(false) || !h.enter() {
		return 0
	}
	defer h.wg.Done()
	h.readyMu.Lock()
	waiting := make([]*Script, 0, len(h.ready))
	for s := range h.ready {
		waiting = append(waiting, s)
	}
	clear(h.ready)
	moves := h.moves
	h.moves = nil
	h.readyMu.Unlock()
	slices.SortFunc(waiting, func(a, b *Script) int { return cmp.Compare(a.name, b.name) })
	n := 0
	for _, s := range waiting {
		if s.commitReady(ctx) {
			n++
		}
	}
	h.applyMoves(ctx, moves)
	return n
}

// parked records that s has a reload parked for Apply; the caller holds s.mu
// and has set s.ready.
func (h *Host) parked(s *Script) {
	h.readyMu.Lock()
	if h.ready == nil {
		h.ready = map[*Script]struct{}{}
	}
	h.ready[s] = struct{}{}
	h.readyMu.Unlock()
	h.readyHint.Store(true) // after: an Apply that sees the hint finds s
}

// enter registers work that Close must wait for (a load, a reload worker, a watcher,
// an abandon callback). It fails once Close has started.
func (h *Host) enter() bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed.Load() {
		return false
	}
	h.wg.Add(1)
	return true
}

// Close stops the Host: reloads still queued or staged are rejected with ErrClosed,
// stages in flight are cancelled and waited for, the Events channel is closed, and
// the runtimes the Host created are closed. Runtimes passed in Config are not
// closed, but the scripts the Host loaded into them are unloaded.
// Calls made after Close return ErrClosed. Close is idempotent; a second call returns
// the first one's result once it is done. Safe for concurrent use. A call in
// progress under a limit is stopped at its next check, failing with ErrClosed, on
// the runtimes the Host created; on runtimes passed in Config, which Close does not
// close, a WASM call is waited for until it returns or reaches its limit (a
// MaxExecutionTime of 20 s can hold Close that long). An unmetered WASM script's
// code cannot be stopped at all (see Config.Limits): Close waits for a start
// function, migration or call of one that never returns. So does a call of a Lua
// script without limits whose context cannot end (context.Background()), which
// Close cannot interrupt either (see lua.Runtime.Close).
//
// Called from a host function with the context it received (a script's "quit"),
// Close fails at once, closing nothing, with an error matching wasm.ErrReentrant and
// lua.ErrReentrant: it would wait for the call that is running the host function.
// Signal the goroutine that owns the Host instead.
func (h *Host) Close(ctx context.Context) error {
	if reentry.Inside(ctx) {
		from := "a host function"
		if c := h.reloading(ctx, committingKey{}); c != nil {
			from = "a migration of " + c.name
		}
		return opErr("close", "", reentrant(from))
	}
	h.closeOnce.Do(func() {
		h.mu.Lock()
		h.closed.Store(true)
		h.mu.Unlock()
		h.cancel(ErrClosed)
		h.wg.Wait()
		for _, s := range h.Scripts() {
			s.drain(ctx)
			if !slices.Contains(h.owned, h.engineFor(s.kind)) {
				_ = s.u.unload(ctx) // a runtime passed in Config outlives the Host, not its scripts
			}
		}
		h.ev.close()
		var errs []error
		for _, e := range h.owned {
			errs = append(errs, e.close(ctx))
		}
		if err := errors.Join(errs...); err != nil {
			h.closeErr = opErr("close", "", err)
		}
	})
	return h.closeErr
}
