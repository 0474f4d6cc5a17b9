package wasm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Lease holds a script's live instance for one goroutine, so that it can make many
// calls without taking the instance's lock for each: a game that calls update for
// every entity leases the script once per frame. The per-call lock costs up to about
// half the call of a small function; a lease takes it once.
//
//	l, err := rt.Acquire(ctx, id)
//	if err != nil {
//		return err
//	}
//	defer l.Release()
//	for i := range entities {
//		stack[0] = uint64(i)
//		if err := l.Call(ctx, update, stack); err != nil {
//			log.Print(err) // a trap or a limit: the lease is still usable
//		}
//	}
//
// While a lease is held:
//
//   - calls to the script from other goroutines (CallJSON, Func.Call, Usage,
//     other leases) wait for Release;
//   - a reload prepares as usual (Stage compiles and instantiates without
//     waiting), but its commit waits for Release, so the leased instance is never
//     swapped or closed under the lease and every call made through it runs on
//     the same version; Unload and Runtime.Close wait too;
//   - each call gets the script's limits on its own, exactly as Func.Call does; a
//     trap or a limit fails that call and leaves the lease usable.
//
// A lease is for the goroutine that acquired it: it is not safe for concurrent
// use. That goroutine must not reload, commit or call the same script through
// anything but the lease (Runtime.CallJSON, Func.Call, another Acquire) while it
// holds it: those wait for a Release that will never come, until their context
// ends (Go has no cheap goroutine identity to tell that goroutine from another),
// and Unload and Runtime.Close wait for good. Release first. For the same
// reason, goroutines that lease several scripts must take the leases in one
// order. A host function that the leased instance is running may not call it
// through the lease (the instance would run inside its own call): that fails with
// ErrReentrant. Keep leases short, a frame at most: a held lease delays reloads.
type Lease struct {
	s    *script
	inst *instance // locked by the lease; nil once released
}

// Acquire leases the script's live instance, waiting for the call, lease or
// commit in progress on it until ctx ends; a ctx already done fails at once. The
// lease must be released with Release. Errors match ErrNotFound, ErrClosed,
// ErrReentrant or ctx's error. Safe for concurrent use.
func (rt *Runtime) Acquire(ctx context.Context, id ScriptID) (*Lease, error) {
	s, err := rt.script(id)
	if err != nil {
		return nil, rt.unknown("acquire", "", id, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, &Error{Op: "acquire", Script: s.name, Err: err}
	}
	inst, err := s.acquire(ctx, "acquire", "")
	if err != nil {
		return nil, err
	}
	return &Lease{s: s, inst: inst}, nil
}

// Release ends the lease: waiting calls and commits proceed. Later calls on the
// lease fail with ErrReleased. Release is idempotent. Not safe for concurrent use.
func (l *Lease) Release() {
	if inst := l.inst; inst != nil {
		l.inst = nil
		inst.mu.Unlock()
	}
}

// Script returns the name of the leased script.
func (l *Lease) Script() string { return l.s.name }

// Call calls f on the leased instance as f.Call(ctx, stack) would, without taking
// the instance's lock: the same stack layout, limits and errors, including
// ErrNoFunction or ErrSignature when the leased version lacks f's function or
// changed its signature. f must be a handle on the leased script (else
// ErrNoFunction). After Release it fails with ErrReleased. Not safe for concurrent
// use.
func (l *Lease) Call(ctx context.Context, f *Func, stack []uint64) error {
	return f.call(ctx, l.inst, stack, l) // the misuse and reentry checks are on its slow path
}

// CallJSON calls fn on the leased instance as Runtime.CallJSON does (the same
// conversions, limits and errors), without taking the instance's lock. After
// Release it fails with ErrReleased. Not safe for concurrent use.
func (l *Lease) CallJSON(ctx context.Context, fn string, args ...any) (json.RawMessage, error) {
	if l.inst == nil {
		return nil, l.misuse(fn, l.s)
	}
	if l.inst.guard.InHost() {
		return nil, l.reentered(fn)
	}
	return l.inst.callJSON(ctx, fn, args)
}

// reentered is the error of a call of fn through the lease from a host function
// that the leased instance is running: the instance would run inside its own
// call (wazero's functions cannot be re-entered), and the inner call would
// restart the outer one's limits.
func (l *Lease) reentered(fn string) error {
	return &Error{Op: "call", Script: l.s.name, Func: fn, Kind: ErrReentrant,
		Err: errors.New("called through the lease from a host function the leased instance is running")}
}

// misuse is the error of a call on a released lease, or of a Func of script s on
// a lease of another script.
func (l *Lease) misuse(fn string, s *script) error {
	if l.inst == nil {
		return &Error{Op: "call", Script: l.s.name, Func: fn, Kind: ErrReleased}
	}
	return &Error{Op: "call", Script: l.s.name, Func: fn, Kind: ErrNoFunction,
		Err: fmt.Errorf("the Func is a handle on script %s, not on the leased one", s.name)}
}
