package wasm

import (
	"context"
	"errors"
	"github.com/hotscript/hotscript/internal/clip"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

// Sentinel errors. Every error the package returns wraps one of them (through
// *Error); test for them with errors.Is.
var (
	// ErrNotFound: no script has the given ScriptID (never loaded, or unloaded).
	ErrNotFound = errors.New("wasm: script not found")
	// ErrClosed: the Runtime was closed.
	ErrClosed = errors.New("wasm: runtime closed")
	// ErrCompile: the bytes are not a valid WebAssembly module.
	ErrCompile = errors.New("wasm: compile failed")
	// ErrInstantiate: a valid module could not be instantiated: it imports
	// something the runtime does not define, or its start function failed.
	ErrInstantiate = errors.New("wasm: instantiate failed")
	// ErrTrap: the guest trapped (unreachable, divide by zero, out-of-bounds
	// access...) or a host function it called returned an error.
	ErrTrap = errors.New("wasm: trap")
	// ErrLimit: a call or a load hit one of the script's Limits. The four errors
	// below say which one, and each of them also matches ErrLimit.
	ErrLimit = errors.New("wasm: limit exceeded")
	// ErrNoFunction: the module exports no function of that name.
	ErrNoFunction = errors.New("wasm: no such function")
	// ErrSignature: the arguments do not fit the function's parameters, or a
	// function changed its signature under a Func handle.
	ErrSignature = errors.New("wasm: signature mismatch")
	// ErrJSON: a JSON argument or a JSON result is not valid JSON, or a result
	// cannot be written as JSON (NaN, infinity).
	ErrJSON = errors.New("wasm: invalid JSON")
	// ErrMemoryAccess: a host function, or CallJSON on a guest's behalf, touched
	// guest memory outside its bounds.
	ErrMemoryAccess = errors.New("wasm: memory access out of bounds")
	// ErrDefine: Define was called after the first load, twice for one name, for
	// the reserved module "hotscript", or with an invalid HostFunc.
	ErrDefine = errors.New("wasm: cannot define host function")
	// ErrMigrate: the migrate function of a Commit failed or panicked; the old
	// instance is still live.
	ErrMigrate = errors.New("wasm: migrate failed")
	// ErrStale: a Staged module was already committed or discarded, or an
	// *Instance was used after its migrate function returned.
	ErrStale = errors.New("wasm: staged module no longer usable")
	// ErrReleased: a call on a Lease after its Release.
	ErrReleased = errors.New("wasm: lease released")
	// ErrReentrant: a host function called, reloaded or unloaded the script that
	// is running it (or a commit's migrate function, through the Runtime, the
	// script it migrates), or a script whose call waits, through host
	// functions on other goroutines, for this one (a calls b while b calls a):
	// either would wait for itself forever (see HostFunc).
	ErrReentrant = errors.New("wasm: script called from inside its own call or commit (it would wait for itself)")
)

// The specific limits. Each matches ErrLimit too.
var (
	// ErrInstructionLimit: the call ran more than Limits.MaxInstructions.
	ErrInstructionLimit error = &limitError{"wasm: instruction limit exceeded"}
	// ErrTimeout: the call ran longer than Limits.MaxExecutionTime.
	ErrTimeout error = &limitError{"wasm: execution time limit exceeded"}
	// ErrMemoryLimit: the module needs more memory than Limits.MaxMemoryBytes, or a
	// call trapped after the runtime refused to grow its memory. A host
	// function's failure after a refusal (an allocator's call of an imported
	// abort) matches it too, but its Kind is ErrTrap: the guest may have
	// handled the refusal, and its text says "(after memory limit exceeded)".
	ErrMemoryLimit error = &limitError{"wasm: memory limit exceeded"}
	// ErrStackOverflow: the guest recursed too deeply. Its Error has no Trace:
	// wazero gives none for it. (A C guest built as watch.DefaultBuildSteps
	// builds it usually runs out of its own stack, in its memory, first: a
	// trap, with its trace.)
	ErrStackOverflow error = &limitError{"wasm: stack overflow"}
)

type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }

// Is makes every specific limit error match ErrLimit.
func (e *limitError) Is(target error) bool { return target == ErrLimit }

// Error is the error every operation on a script returns. It names the operation,
// the script and, for calls, the function; Kind is one of the package's sentinel
// errors, or nil when the caller's context ended the call or its wait for the
// script, and Err the underlying cause. errors.Is matches both Kind and anything
// in Err's chain (a host function's own error, context.Canceled,
// context.DeadlineExceeded...).
//
// Trace names a function of the script by its name in the module's name
// section, else by its export name, else by its index ("$3(i32) i32"), never
// after the module's own name in that section, metered or not; it names a
// host function after its module ("host.log(i32,i32)"). In a module built with
// DWARF 4 debug information (clang -gdwarf-4), each frame of the script that
// has a source is followed by its source position: "0x1a: enemy.c:12:9", the
// offset being the instruction's in the module's code section, or
// "enemy.c:12:9" when limits that meter instructions rewrote the code (see
// Limits). Unmetered, code the compiler inlined adds a line per inlined call
// ("0x1a: enemy.c:4:11 (inlined)" then the caller's); metered, a frame names the
// innermost inlined position only. Of DWARF 5, whose line tables wazero cannot
// read, only a metered script's frames get their lines.
//
// Its methods only read it and are safe for concurrent use.
type Error struct {
	Op     string   // "load", "reload", "stage", "commit", "call", "func", "acquire", "usage", "exports", "imports", "unload", "close", "define", "inspect", "new runtime"
	Script string   // the script's name; empty for Define, Inspect and NewRuntime
	Func   string   // the function called, when there is one
	Kind   error    // a sentinel error of this package; nil when the caller's context ended the call
	Err    error    // the cause; may be nil
	Trace  []string // the wasm stack trace of a trap, innermost frame first
}

// Error formats as "wasm: call enemy.wasm div: trap: integer divide by zero",
// followed by the wasm stack trace when there is one.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("wasm: ")
	b.WriteString(e.Op)
	if e.Script != "" {
		b.WriteByte(' ')
		b.WriteString(e.Script)
	}
	if e.Func != "" {
		b.WriteByte(' ')
		b.WriteString(e.Func)
	}
	if e.Kind != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Kind.Error(), "wasm: "))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if len(e.Trace) > 0 {
		b.WriteString("\nwasm stack trace:\n\t")
		b.WriteString(strings.Join(e.Trace, "\n\t"))
	}
	return b.String()
}

// Unwrap returns Kind and Err, so errors.Is and errors.As see both.
func (e *Error) Unwrap() []error {
	switch {
	case e.Kind == nil:
		return []error{e.Err}
	case e.Err == nil:
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// limitHit is the error of a limit that stopped a call, saying by how much.
type limitHit struct {
	kind   error // ErrInstructionLimit or ErrTimeout
	detail string
}

func (e *limitHit) Error() string { return e.detail }

// Is matches the limit's sentinel and, through it, ErrLimit.
func (e *limitHit) Is(target error) bool { return target == e.kind || errors.Is(e.kind, target) }

// hostError is how a host function's error travels through wazero: the wrapper
// panics with it, wazero recovers and wraps it, and classify finds it again.
type hostError struct {
	fn   string // "host.log"
	err  error
	stop bool // the runtime stopped the call at fn, for a limit or ctx (err)
}

func (e *hostError) Error() string { return e.fn + ": " + e.err.Error() }
func (e *hostError) Unwrap() error { return e.err }

// cause keeps wazero's error in the chain while showing a clean message: the
// first line, without wazero's "wasm error: " prefix and "(recovered by wazero)".
type cause struct {
	msg string
	err error
}

func (c *cause) Error() string { return c.msg }
func (c *cause) Unwrap() error { return c.err }

// kindCause is the cause of an *Error that names a kind its Kind does not (a
// start function stopped by a limit fails a load with ErrInstantiate): it
// reads as the kind without the package's prefix, which the *Error already
// says, and matches it.
type kindCause struct {
	kind, err error
	// after says the kind came before the cause, which its text gives first:
	// "env.abort: abort called (after memory limit exceeded)".
	after bool
}

func (c *kindCause) Error() string {
	kind := strings.TrimPrefix(c.kind.Error(), "wasm: ")
	if c.after {
		return c.err.Error() + " (after " + kind + ")"
	}
	return kind + ": " + c.err.Error()
}
func (c *kindCause) Unwrap() []error { return []error{c.kind, c.err} }

// meterCause is an error of internal/meter as the cause of one of this
// package's: without meter's prefix, as the user gave no module to meter.
func meterCause(err error) error {
	if msg, ok := strings.CutPrefix(err.Error(), "meter: "); ok {
		return &cause{msg: msg, err: err}
	}
	return err
}

// wazeroTrapPkg is the package of wazero's trap values (*wasmruntime.Error), which
// is internal and so recognised by its type's package path.
const wazeroTrapPkg = "github.com/tetratelabs/wazero/internal/wasmruntime"

// classify turns an error from a wazero call into a Kind, a cause and the wasm
// stack trace. Only the failure path runs it.
func classify(err error) (kind, why error, trace []string) {
	var he *hostError
	if !errors.As(err, &he) {
		msg, trace := splitTrace(err.Error())
		for e := err; e != nil; e = errors.Unwrap(e) {
			if t := reflect.TypeOf(e); t.Kind() == reflect.Pointer && t.Elem().PkgPath() == wazeroTrapPkg {
				if e.Error() == "stack overflow" {
					return ErrStackOverflow, &cause{msg: "call stack exhausted", err: err}, trace
				}
				break
			}
		}
		return ErrTrap, &cause{msg: msg, err: err}, trace
	}
	// The host function's error may hold a stack trace of its own (another
	// script's, returned by a call it made): the trace of this call is what
	// wazero wrote after the host function's text.
	s, text := err.Error(), he.Error()
	var msg string
	if i := strings.Index(s, text+wazeroRecovered); i >= 0 {
		msg, trace = splitTrace(s[:i] + s[i+len(text):])
		msg += text
	} else { // not as wazero writes it: the first trace is the best guess
		msg, trace = splitTrace(s)
	}
	if !he.stop {
		// A host function failed, whatever its error says: a limit or a
		// context its error matches is not this call's.
		return ErrTrap, &cause{msg: msg, err: err}, trace
	}
	why = &cause{msg: he.err.Error(), err: err} // a limit or ctx: say only why
	for _, k := range []error{ErrInstructionLimit, ErrTimeout, ErrClosed} {
		if errors.Is(he.err, k) {
			return k, why, trace
		}
	}
	if errors.Is(he.err, context.Canceled) || errors.Is(he.err, context.DeadlineExceeded) {
		return nil, why, trace // the caller's context ended the call: its choice, not a limit
	}
	return ErrTrap, why, trace
}

// hostFailed reports whether err is a host function's failure (not a limit or
// a context it stopped the call for).
func hostFailed(err error) bool {
	var he *hostError
	return errors.As(err, &he) && !he.stop
}

// wazeroRecovered is what wazero writes after the error a host function panicked
// with, before the stack trace.
const wazeroRecovered = " (recovered by wazero)\nwasm stack trace:\n\t"

var (
	startDesc = regexp.MustCompile(`^start function\[\d+\](?: export\[.*?\])? failed: `)
	initDesc  = regexp.MustCompile(`^module\[[^\]]*\] function\[(.*?)\] failed: `)
)

// splitTrace separates wazero's "<message>\nwasm stack trace:\n\t<frames>" and
// drops any Go stack trace wazero appends after a blank line.
func splitTrace(s string) (msg string, trace []string) {
	msg, rest, found := strings.Cut(s, "\nwasm stack trace:\n\t")
	msg = strings.Replace(msg, "wasm error: ", "", 1)
	msg = strings.TrimSuffix(msg, " (recovered by wazero)")
	// wazero names a failed start function by an index that counts imported
	// functions twice (and, in a metered module, the import the
	// instrumentation added), with the export found there, often another
	// function: the trace names it right.
	msg = startDesc.ReplaceAllString(msg, "start function failed: ")
	msg = initDesc.ReplaceAllString(msg, "$1 failed: ")
	if !found {
		return msg, nil
	}
	rest, _, _ = strings.Cut(rest, "\n\n")
	for _, line := range strings.Split(rest, "\n\t") {
		if line = strings.TrimSpace(line); line != "" {
			trace = append(trace, line)
		}
	}
	return msg, trace
}

// maxFrameName is the longest name of a function a stack trace writes, in
// bytes: longer ones, in a module's name section or its exports, are cut (see
// meter.CutNames), as a trace names up to 30 frames.
const maxFrameName = 256

// frameNames names the frames of a module's stack traces.
type frameNames struct {
	module  string            // the module's name in its name section, if any
	imports map[string]bool   // "host.log" for each imported function, when module is set
	exports map[uint32]string // function index -> export name
	// In instrumented code the refuel import sits at index refuel, so the
	// functions after it are one past their index in the module the user gave.
	metered bool
	refuel  uint32
}

// rewrite rewrites wazero's frames of the module's functions, which it names
// after the module's name in its name section, if any, and the function's
// name there or else its index (".$8(i32,i32) i32", "game.$8(i32,i32) i32"):
// the module's name is dropped, and a function without a name is named after
// its export ("div(i32,i32) i32") or else its index in the module as given, so
// that a trace reads the same with or without a name section and metered or
// not. The refuel host function's frame is dropped.
func (n *frameNames) rewrite(trace []string) []string {
	out := trace[:0]
	for _, frame := range trace {
		if strings.HasPrefix(frame, reservedPrefix) {
			continue // the refuel host function
		}
		if at, line, ok := strings.Cut(frame, ": "); ok && n.metered && strings.HasPrefix(at, "0x") {
			// The source line of the frame before, from the line table the
			// rewrite carried (see meter): the offset is the rewritten code's.
			out = append(out, line)
			continue
		}
		if name, _, _ := strings.Cut(frame, "("); n.imports[name] {
			out = append(out, frame) // a host function of a module named as this one is
			continue
		}
		frame, ok := strings.CutPrefix(frame, n.module+".")
		if !ok {
			out = append(out, frame) // a host function: "host.log(i32,i32)"
			continue
		}
		if rest, ok := strings.CutPrefix(frame, "$"); ok {
			end := strings.IndexByte(rest, '(')
			if i, err := strconv.ParseUint(rest[:max(end, 0)], 10, 32); err == nil {
				idx := uint32(i)
				switch {
				case n.exports[idx] != "":
					frame = clip.String(n.exports[idx], maxFrameName) + rest[end:]
				case n.metered && idx > n.refuel:
					frame = "$" + strconv.FormatUint(uint64(idx-1), 10) + rest[end:]
				}
			}
		}
		out = append(out, frame)
	}
	return out
}
