package hotscript

// Calls of a script through the Host, and the errors of the Host's operations.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/hotscript/hotscript/internal/monoclock"
)

// Call calls fn in script s with args, one parameter each, and returns the result as
// JSON. The conversion rules are those of the script's engine (wasm.Runtime.CallJSON,
// lua.Runtime.CallJSON). A call never sees a half-swapped script: it runs entirely on
// the version live when it starts, and is blocked only while a swap is in progress.
// Calls to one script are serialized: a call that finds s busy waits its turn
// until ctx ends. Errors name the script and the function. Safe for concurrent
// use.
//
// Call adds to the engine's own call only an atomic counter and a few branches; the
// call's duration is measured on a sample of calls (see Stats.CallTime).
func (h *Host) Call(ctx context.Context, s *Script, fn string, args ...any) (json.RawMessage, error) {
	if s == nil || s.h != h || h.closed.Load() {
		return nil, h.refuse(s, fn)
	}
	if n := s.stats.calls.Add(1); sampled(n) {
		return h.timedCall(ctx, s, n, fn, args)
	}
	out, err := s.call(ctx, fn, args)
	if err != nil {
		err = h.failed(s, fn, err)
	}
	return out, err
}

// timedCall is Call for call number n of s, sampled for Stats.CallTime.
func (h *Host) timedCall(ctx context.Context, s *Script, n uint64, fn string, args []any) (json.RawMessage, error) {
	start := monoclock.Now()
	out, err := s.call(ctx, fn, args)
	s.stats.timed(n, monoclock.Now()-start)
	if err != nil {
		err = h.failed(s, fn, err)
	}
	return out, err
}

// call calls the live version through the engines' concrete types, which lets
// escape analysis keep args on the caller's stack; a call through the unit
// interface would move it to the heap.
func (s *Script) call(ctx context.Context, fn string, args []any) (json.RawMessage, error) {
	switch u := s.u.(type) {
	case *wasmUnit:
		return u.rt.CallJSON(ctx, u.id, fn, args...)
	case *luaUnit:
		return u.rt.CallJSON(ctx, u.id, fn, args...)
	}
	return s.u.call(ctx, fn, slices.Clone(args))
}

// refuse is the error of a call Call does not make.
func (h *Host) refuse(s *Script, fn string) error {
	if err := h.notOurs(s, "call", fn); err != nil {
		return err
	}
	return opErr("call", s.name+" "+fn, ErrClosed)
}

// notOurs is the ErrInvalid error of operation op (on function fn, if any) when
// s is nil or another Host's script, and nil for a script of h.
func (h *Host) notOurs(s *Script, op, fn string) error {
	if s != nil && s.h == h {
		return nil
	}
	what, why := fn, "nil Script"
	switch {
	case s == nil:
	case s.h == nil:
		why = "a zero Script, which no Host made"
	default:
		what, why = s.name, "a script of another Host"
		if fn != "" {
			what += "." + fn
		}
	}
	return opErr(op, what, fmt.Errorf("%w: %s", ErrInvalid, why))
}

// opError is the error of the Host's operation op on what (a script, a
// script's function; "" for none), caused by err: "hotscript: revert
// enemy.wasm: no earlier version to revert to". The package's prefix is said
// once: err's own, which the sentinel errors have, is left out of the text;
// errors.Is and errors.As still see err.
type opError struct {
	op, what string
	err      error
}

func opErr(op, what string, err error) error { return &opError{op, what, err} }

func (e *opError) Error() string {
	head := "hotscript: " + e.op
	if e.what != "" {
		head += " " + e.what
	}
	return head + ": " + strings.TrimPrefix(e.err.Error(), "hotscript: ")
}

func (e *opError) Unwrap() error { return e.err }

// failed counts a failed call and returns its error.
func (h *Host) failed(s *Script, fn string, err error) error {
	s.stats.errors.Add(1)
	switch {
	case h.closed.Load():
		// The runtime was closed under the call: say so, whatever the engine said.
		return opErr("call", s.name+" "+fn, fmt.Errorf("%w: %w", ErrClosed, err))
	case s.unloaded(err):
		return opErr("call", s.name+" "+fn, ErrUnloaded)
	}
	return err
}
