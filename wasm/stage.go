package wasm

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/hotscript/hotscript/internal/recovered"
	"sync"
)

// ReloadModule replaces a script's module with new bytes: Stage, then Commit with
// no migration. The module's state (globals, memory) starts over. On any error the
// old module stays live with its state. Safe for concurrent use.
func (rt *Runtime) ReloadModule(ctx context.Context, id ScriptID, wasmBytes []byte) error {
	st, err := rt.stage(ctx, "reload", id, wasmBytes)
	if err != nil {
		return err
	}
	err = st.commit(ctx, "reload", nil)
	st.Discard(ctx) // one that ctx stopped before the swap is still staged
	return err
}

// Stage compiles and instantiates new bytes for a script without touching its live
// module and without blocking its callers, so it may run on a background goroutine
// while the script keeps serving calls. Identical bytes to the live module, or to a
// recently used version, reuse the compiled code. The result must be committed or
// discarded. Errors are those of Load. Safe for concurrent use.
func (rt *Runtime) Stage(ctx context.Context, id ScriptID, wasmBytes []byte) (*Staged, error) {
	return rt.stage(ctx, "stage", id, wasmBytes)
}

func (rt *Runtime) stage(ctx context.Context, op string, id ScriptID, b []byte) (*Staged, error) {
	s, err := rt.script(id)
	if err != nil {
		return nil, rt.unknown(op, "", id, err)
	}
	inst, err := rt.newInstance(ctx, op, s, b)
	if err != nil {
		return nil, err
	}
	return &Staged{s: s, inst: inst}, nil
}

// Staged is a new version of a script, instantiated and waiting to replace the live
// one. Its methods are safe for concurrent use.
type Staged struct {
	s         *script
	mu        sync.Mutex
	inst      *instance // nil once committed or discarded, and while a Commit runs
	discarded bool      // by Discard: a Commit that gives inst back closes it
}

// MigrateFunc moves state from the live instance of a script to the staged one
// during Commit, or checks the staged one before it goes live. old and next are
// valid only until it returns. It runs while the script's callers wait, so it must
// reach the script only through old and next: a call, Usage, reload, Unload or
// Close of the script through the Runtime, made with the context it was given,
// fails with ErrReentrant (made with another context, it would wait forever).
//
// A call through old or next that traps, hits a limit or is stopped by its
// context fails the Commit even if the MigrateFunc then returns nil, as a
// set_state that trapped half-way would leave next on half-written state. A
// MigrateFunc that handles such a failure on purpose says so with ClearErr.
type MigrateFunc func(ctx context.Context, old, next *Instance) error

// Exports lists the functions the staged module exports, sorted by name.
func (st *Staged) Exports() []FuncInfo { return cloneInfos(st.code().info.Exports) }

// Imports lists the functions the staged module imports.
func (st *Staged) Imports() []FuncInfo { return cloneInfos(st.code().info.Imports) }

func (st *Staged) code() *code {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.inst == nil {
		return &code{}
	}
	return st.inst.code
}

// Commit makes the staged module the script's live one. If migrate is not nil it
// runs first, while the script's callers wait, with the live instance as old and
// the staged one as next. If migrate returns an error or panics, or a call in it
// traps or hits a limit, nothing changes: the old instance keeps running with its
// state, the staged one is discarded, and Commit returns the error (matching
// ErrMigrate and the cause: migrate's error, or else the first failed call's
// through old, then through next, even when migrate returned nil; see
// MigrateFunc). Otherwise callers move to the new instance and the old
// one is closed once its call in progress returns. Committing twice, or after
// Discard, returns ErrStale.
//
// Commit waits for the call or lease in progress on the script, and for
// another Commit, Unload or Close of it in progress, until ctx ends. If ctx
// ends first, Commit returns an *Error with no Kind whose Err is ctx's error,
// and the module stays staged: it may be committed again (at the next frame,
// say) or discarded. So it does when the wait would never end, ctx coming from
// a host function of the script itself (ErrReentrant): commit it once that
// call has returned.
func (st *Staged) Commit(ctx context.Context, migrate MigrateFunc) error {
	return st.commit(ctx, "commit", migrate)
}

func (st *Staged) commit(ctx context.Context, op string, migrate MigrateFunc) error {
	st.mu.Lock()
	next := st.inst
	st.inst = nil
	st.mu.Unlock()
	s := st.s
	if next == nil {
		return &Error{Op: op, Script: s.name, Kind: ErrStale}
	}
	if s.reentered(ctx) { // before swap, which a commit waiting for that call holds
		st.giveBack(ctx, next)
		return &Error{Op: op, Script: s.name, Kind: ErrReentrant}
	}
	if err := s.swap.Lock(ctx); err != nil { // another commit, an unload or Close runs
		st.giveBack(ctx, next)
		return &Error{Op: op, Script: s.name, Err: err}
	}
	defer s.swap.Unlock()
	old, err := s.acquire(ctx, op, "")
	if err != nil {
		if e, ok := err.(*Error); ok && (e.Kind == nil || e.Kind == ErrReentrant) { // nothing was tried
			st.giveBack(ctx, next)
		} else {
			next.close(ctx)
		}
		return err
	}
	if migrate != nil {
		s.next.Store(next)
		err := runMigrate(ctx, migrate, old, next)
		s.next.Store(nil)
		if err != nil {
			old.mu.Unlock()
			next.close(ctx)
			return &Error{Op: op, Script: s.name, Kind: ErrMigrate, Err: err}
		}
	}
	s.cur.Store(next)
	old.retired = true
	old.mu.Unlock()
	old.close(ctx)
	return nil
}

// runMigrate calls migrate with old locked by the caller; next is not yet visible
// to anyone else. migrate's context is marked as old's host functions' are, so
// that what it does through the Runtime to the script it holds fails instead of
// waiting for it.
func runMigrate(ctx context.Context, migrate MigrateFunc, old, next *instance) (err error) {
	o, n := &Instance{inst: old, valid: true}, &Instance{inst: next, valid: true}
	ctx, prev := old.guard.Enter(ctx)
	defer func() {
		old.guard.Leave(prev)
		o.valid, n.valid = false, false
		if r := recover(); r != nil {
			err = recovered.Error("panic", r)
		}
	}()
	if err := migrate(ctx, o, n); err != nil {
		return err
	}
	if o.err != nil {
		return o.err
	}
	return n.err
}

// giveBack makes next, taken by a Commit that failed before it held the
// script, staged again, unless Discard was called meanwhile.
func (st *Staged) giveBack(ctx context.Context, next *instance) {
	st.mu.Lock()
	discarded := st.discarded
	if !discarded {
		st.inst = next
	}
	st.mu.Unlock()
	if discarded {
		next.close(ctx)
	}
}

// Discard drops the staged module. It is idempotent, and a no-op after a
// Commit that took the module (one whose context ended waiting left it staged).
func (st *Staged) Discard(ctx context.Context) {
	st.mu.Lock()
	inst := st.inst
	st.inst, st.discarded = nil, true
	st.mu.Unlock()
	if inst != nil {
		inst.close(ctx)
	}
}

// Instance is one version of a script as a MigrateFunc sees it. It is valid only
// until the MigrateFunc it was passed to returns, and only on that goroutine.
type Instance struct {
	inst  *instance
	valid bool
	err   error // the first call that broke off (see broke), until ClearErr
}

// Script returns the script's name.
func (in *Instance) Script() string { return in.inst.s.name }

// Exports lists the functions this version exports, sorted by name.
func (in *Instance) Exports() []FuncInfo { return cloneInfos(in.inst.code.info.Exports) }

// CallJSON calls a function of this version, as Runtime.CallJSON does. After the
// MigrateFunc returned it fails with ErrStale.
func (in *Instance) CallJSON(ctx context.Context, fn string, args ...any) (json.RawMessage, error) {
	if !in.valid {
		return nil, &Error{Op: "call", Script: in.inst.s.name, Func: fn, Kind: ErrStale}
	}
	out, err := in.inst.callJSON(ctx, fn, args)
	if err != nil && in.err == nil && broke(err) {
		in.err = err
	}
	return out, err
}

// CallRaw calls a function of this version that takes and returns numbers
// (i32, i64, f32, f64) with its parameters as wazero encodes them on its stack
// (api.EncodeI32, api.EncodeF64...), and returns its results so: a NaN, an
// infinity, which JSON has no form for, and a NaN's payload go as they are, as
// a migration moving a number from get_state to set_state needs. After the
// MigrateFunc returned it fails with ErrStale.
func (in *Instance) CallRaw(ctx context.Context, fn string, params ...uint64) ([]uint64, error) {
	if !in.valid {
		return nil, &Error{Op: "call", Script: in.inst.s.name, Func: fn, Kind: ErrStale}
	}
	out, err := in.inst.callRaw(ctx, fn, params)
	if err != nil && in.err == nil && broke(err) {
		in.err = err
	}
	return out, err
}

// Err returns the error of the first call through this version, since the
// MigrateFunc began or since ClearErr, that trapped, hit a limit or was stopped
// by its context, or nil. Such a call fails the Commit even if the MigrateFunc
// returns nil. A call that did not run (no such function, arguments that do
// not fit) is not counted: nothing of the version changed. A metered call
// whose ctx had ended as it began, stopped before any of its code ran, is
// counted, as any call its context stopped: the migration's ctx ended, and
// what the MigrateFunc meant to do was not done.
func (in *Instance) Err() error { return in.err }

// ClearErr forgets the failed calls through this version so far, so that they
// do not fail the Commit: for a MigrateFunc that handles one on purpose, such
// as one that starts next afresh when old's get_state traps. Use it only when
// what the MigrateFunc goes on with does not depend on what those calls did,
// not after a set_state on next that trapped half-way.
func (in *Instance) ClearErr() { in.err = nil }

// broke reports whether err is the error of a call that ran and broke off:
// it trapped, hit a limit or was stopped by its context (an Error without a
// Kind), a metered call's as it began included.
func broke(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Kind == nil || e.Kind == ErrTrap || errors.Is(e.Kind, ErrLimit))
}
