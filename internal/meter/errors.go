package meter

import (
	"errors"
	"fmt"
)

// Sentinel errors returned by Instrument, wrapped in an *Error. Test for them
// with errors.Is.
var (
	// ErrMalformed reports input that is not a well-formed WebAssembly binary:
	// a bad header, a truncated section, an index out of range, a body whose
	// blocks do not nest.
	ErrMalformed = errors.New("meter: malformed module")

	// ErrUnknownOpcode reports an instruction the instrumenter does not know.
	// The module is rejected rather than left partly unmetered.
	ErrUnknownOpcode = errors.New("meter: unknown opcode")

	// ErrUnsupported reports a known feature the instrumenter cannot meter
	// correctly: exception handling, typed function references and GC,
	// 64-bit memories.
	ErrUnsupported = errors.New("meter: unsupported feature")

	// ErrMemoryTooLarge reports tables whose declared minimums add up to
	// more elements than CapTables was given.
	ErrMemoryTooLarge = errors.New("meter: memory too large")

	// ErrReservedName reports a module that already imports
	// ImportModule.ImportName or exports FuelExport, typically because it was
	// instrumented before.
	ErrReservedName = errors.New("meter: reserved name in use")
)

// Error describes why a module was rejected. Its Error text names the
// function (by index in the input module's function index space and, when
// the name section has one, by name) and the problem:
//
//	meter: function 12 "update": unknown opcode 0xfd 0x1ff
//
// Err is one of the sentinel errors; errors.Is(err, ErrUnknownOpcode) and
// the like work on the returned error.
type Error struct {
	// Err is the sentinel error this error is an instance of.
	Err error
	// Func is the index of the offending function in the input module's
	// function index space, or -1 when the problem is not inside a function.
	Func int
	// FuncName is the function's name from the name section, if any.
	FuncName string
	// Offset is the byte offset in the input module where the problem was
	// found, or -1 when unknown.
	Offset int
	// Detail says what is wrong, e.g. "unknown opcode 0xfd 0x1ff".
	Detail string
}

// Error implements the error interface.
func (e *Error) Error() string {
	switch {
	case e.Func < 0:
		return "meter: " + e.Detail
	case e.FuncName != "":
		return fmt.Sprintf("meter: function %d %q: %s", e.Func, e.FuncName, e.Detail)
	default:
		return fmt.Sprintf("meter: function %d: %s", e.Func, e.Detail)
	}
}

// Unwrap returns the sentinel error, so errors.Is matches it.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel this error wraps.
func (e *Error) Is(target error) bool { return target == e.Err }

func errorf(sentinel error, format string, args ...any) *Error {
	return &Error{Err: sentinel, Func: -1, Offset: -1, Detail: fmt.Sprintf(format, args...)}
}

// inFunc attaches a function index and name to err when it is an *Error that
// has none yet.
func inFunc(err error, idx int, name string, offset int) error {
	var e *Error
	if errors.As(err, &e) && e.Func < 0 {
		e.Func, e.FuncName = idx, name
		if e.Offset < 0 {
			e.Offset = offset
		}
	}
	return err
}
