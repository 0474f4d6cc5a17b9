package lua

import (
	"context"
	"encoding/json"
	"fmt"
)

// Lease holds a script for one goroutine, so that it can make many calls without
// taking the script's mutex for each: a game that calls update for every entity
// leases the script once per frame. The per-call mutex costs about a tenth of the
// call of a small function through Func.Call; a lease takes it once.
//
//	l, err := rt.Acquire(ctx, id)
//	if err != nil {
//		return err
//	}
//	defer l.Release()
//	for i := range entities {
//		if _, err := l.Call(ctx, update, float64(i)); err != nil {
//			log.Print(err) // a Lua error or a limit: the lease is still usable
//		}
//	}
//
// While a lease is held:
//
//   - calls to the script from other goroutines (CallJSON, Func.Call, Field,
//     Fields, Functions, other leases) wait for Release;
//   - a reload prepares as usual (Stage compiles and runs the new chunk without
//     waiting), but its commit waits for Release, so the leased version is never
//     swapped or closed under the lease and every call made through it runs on
//     the same version; Unload and Runtime.Close wait too;
//   - each call gets the script's limits on its own, exactly as Func.Call does; a
//     Lua error or a limit fails that call and leaves the lease usable.
//
// A lease is for the goroutine that acquired it: it is not safe for concurrent
// use. That goroutine must not reload, commit or call the same script through
// anything but the lease (Runtime.CallJSON, Func.Call, another Acquire) while it
// holds it: those wait for a Release that will never come, until their context
// ends (Go has no cheap goroutine identity to tell that goroutine from another),
// and Unload and Runtime.Close wait for good. Release first. For the same
// reason, goroutines that lease several scripts must take the leases in one
// order. A host function that the leased version is running may not call it
// through the lease (the version would run inside its own call): that fails with
// ErrReentrant. Keep leases short, a frame at most: a held lease delays reloads.
// Host functions run while the lease is held, with the same rule as for any call
// (see Define).
type Lease struct {
	s    *script
	held *script // s while the lease holds s.mu; nil once released
}

// Acquire leases script id, waiting for the call, lease or commit in progress on
// it until ctx ends; a ctx already done fails at once. The lease must be
// released with Release. Errors match ErrNotFound, ErrClosed, ErrReentrant or
// ctx's error. Acquire is safe for concurrent use.
func (rt *Runtime) Acquire(ctx context.Context, id ScriptID) (*Lease, error) {
	s, err := rt.script("acquire", "", id)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, s.failure("acquire", "", err, "")
	}
	if err := s.lock(ctx, "acquire", ""); err != nil {
		return nil, err
	}
	if s.cur == nil { // unloaded, or the runtime closed, while we looked it up
		err := s.gone("acquire", "")
		s.mu.Unlock()
		return nil, err
	}
	return &Lease{s: s, held: s}, nil
}

// Release ends the lease: waiting calls and commits proceed. Later calls on the
// lease fail with ErrReleased. Release is idempotent. Not safe for concurrent use.
func (l *Lease) Release() {
	if s := l.held; s != nil {
		l.held = nil
		s.mu.Unlock()
	}
}

// Script returns the name of the leased script.
func (l *Lease) Script() string { return l.s.name }

// Call calls f with args as f.Call(ctx, args...) would, without taking the
// script's mutex: the same binding (f follows reloads, which cannot happen while
// the lease is held), limits, result and errors. f must be a handle on the leased
// script, else the call fails with ErrNoFunction. After Release it fails with
// ErrReleased. Not safe for concurrent use.
func (l *Lease) Call(ctx context.Context, f *Func, args ...float64) (float64, error) {
	if f.s != l.held { // one comparison covers both misuses
		return 0, l.misuse(f.name, f.s)
	}
	if l.held.guard.Load().InHost() {
		return 0, l.reentered(f.name)
	}
	return f.call(ctx, args)
}

// CallJSON calls the module's function fn as Runtime.CallJSON does (the same
// conversions, limits and errors), without taking the script's mutex. After
// Release it fails with ErrReleased. Not safe for concurrent use.
func (l *Lease) CallJSON(ctx context.Context, fn string, args ...any) (json.RawMessage, error) {
	if l.held == nil {
		return nil, l.misuse(fn, l.s)
	}
	if l.held.guard.Load().InHost() {
		return nil, l.reentered(fn)
	}
	return l.s.callJSON(ctx, fn, args)
}

// reentered is the error of a call of fn through the lease from a host function
// that the leased version is running: the version would run inside its own
// call, and the inner call would end the outer one's limits.
func (l *Lease) reentered(fn string) error {
	return &Error{Op: "call", Script: l.s.name, Function: fn, Kind: ErrReentrant,
		Message: "called through the lease from a host function the leased version is running"}
}

// misuse is the error of a call on a released lease, or of a Func of script s on
// a lease of another script.
func (l *Lease) misuse(fn string, s *script) error {
	if l.held == nil {
		return &Error{Op: "call", Script: l.s.name, Function: fn, Kind: ErrReleased,
			Message: "the lease was released"}
	}
	return &Error{Op: "call", Script: l.s.name, Function: fn, Kind: ErrNoFunction,
		Message: fmt.Sprintf("the Func is a handle on script %s, not on the leased one", s.name)}
}
