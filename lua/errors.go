package lua

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors. Every error the package returns matches one of them (or a context
// error) with errors.Is; script failures come as an *Error that carries the details.
var (
	// ErrNotFound means the script id is unknown or the script was unloaded.
	ErrNotFound = errors.New("lua: script not found")
	// ErrCompile means the source does not compile (a syntax error).
	ErrCompile = errors.New("lua: compile error")
	// ErrRuntime means Lua code raised an error: error(), a failed operation, a
	// host function that returned an error.
	ErrRuntime = errors.New("lua: runtime error")
	// ErrLimit means a call ran out of one of its Limits. ErrInstructionLimit,
	// ErrTimeout and ErrMemoryLimit each also match ErrLimit.
	ErrLimit = errors.New("lua: limit exceeded")
	// ErrInstructionLimit means a call used more than Limits.MaxInstructions.
	ErrInstructionLimit error = &limitError{what: "instruction limit exceeded"}
	// ErrTimeout means a call ran longer than Limits.MaxExecutionTime.
	ErrTimeout error = &limitError{what: "execution time limit exceeded"}
	// ErrMemoryLimit means a call produced more than Limits.MaxMemoryBytes.
	ErrMemoryLimit error = &limitError{what: "memory limit exceeded"}
	// ErrNoFunction means the module has no function by the requested name.
	ErrNoFunction = errors.New("lua: no such function")
	// ErrNotTable means a chunk returned something other than a table.
	ErrNotTable = errors.New("lua: script did not return a table")
	// ErrJSON means a value could not be converted between Go (or JSON) and Lua:
	// a function, a cyclic table, a NaN, a table key that is neither a string nor
	// an integer, tables nested more than 10,000 levels deep.
	ErrJSON = errors.New("lua: value cannot be converted")
	// ErrClosed means the Runtime was closed, or a Staged reload was already
	// committed or discarded.
	ErrClosed = errors.New("lua: closed")
	// ErrReleased means a call was made on a Lease after its Release.
	ErrReleased = errors.New("lua: lease released")
	// ErrReentrant means a host function called, reloaded or unloaded the script
	// that is running it (or a CheckFunc the script it checks), or a script
	// whose call waits, through host functions on other goroutines, for this
	// one (a calls b while b calls a): either would wait for itself forever
	// (see HostFunc).
	ErrReentrant = errors.New("lua: script called from inside its own call or commit (it would wait for itself)")
	// ErrInvalid means an argument is unusable: a bad host function name, a
	// Define after the first load, more arguments than a call can pass (8,000).
	ErrInvalid = errors.New("lua: invalid argument")
	// ErrCheck means a CommitCheck's CheckFunc refused the new version: it
	// returned an error (which the error also matches), panicked, or made a
	// call that failed.
	ErrCheck = errors.New("lua: reload check failed")
)

// checkError is the error of a CheckFunc that refused a version: it matches
// ErrCheck and wraps the cause.
type checkError struct {
	script string
	err    error
}

func (e *checkError) Error() string   { return "lua: reload " + e.script + ": check: " + e.err.Error() }
func (e *checkError) Unwrap() []error { return []error{ErrCheck, e.err} }

// limitError is the type of the three limit sentinels: each matches ErrLimit too.
// A variant of one of them with its own words names it as also.
type limitError struct {
	what string
	also error
}

func (e *limitError) Error() string { return "lua: " + e.what }
func (e *limitError) Is(target error) bool {
	return target == ErrLimit || (e.also != nil && target == e.also)
}

// Error is a failure of a script: a compile error, an error raised by Lua code or a
// host function, a limit hit, a value that cannot be converted. It names the script,
// the function and, where known, the line, and carries the Lua traceback.
//
// Error matches its kind with errors.Is: ErrCompile, ErrRuntime, ErrNotTable,
// ErrNoFunction, ErrJSON, ErrInstructionLimit (and so ErrLimit), ErrTimeout,
// ErrMemoryLimit, ErrNotFound, ErrClosed, ErrReentrant, ErrReleased, or
// context.Canceled / context.DeadlineExceeded when the caller's context ended
// the call or its wait for the script. Its methods only read it and are safe
// for concurrent use.
type Error struct {
	// Op is the operation: "load", "call", "field", "fields", "functions",
	// "func", "acquire", "reload", "commit", "unload", "define", "inspect".
	Op string
	// Script is the script's name, as given to Load ("script 7" for an unknown
	// ScriptID); empty for Define.
	Script string
	// Function is the Lua function that failed ("on_update", "on_save"), or
	// "main chunk" when the failure was while running the chunk itself.
	Function string
	// Line is the line in Script where the error was raised, 0 if unknown.
	Line int
	// Message is the Lua error message, with its "script:line:" prefix when Lua
	// gave one ("enemy.lua:12: attempt to index a non-table object(nil) with key 'x'"); a table the
	// script raised (error({code = 5})) reads as its JSON ({"code":5}; a
	// __tostring metamethod is not run), or, if JSON cannot hold it (a
	// function, a cycle, a key other than a string or a list index) or it is
	// too large to show, as Lua prints it ("table: 0x...") with why. It is cut to 4 KiB
	// (ending with "…"): a script's error value, or a key of megabytes that
	// gopher-lua quotes, would hand the host megabytes per failing call.
	Message string
	// Traceback is the Lua stack traceback, empty if there was none. The names
	// of functions in it are cut to 256 bytes.
	Traceback string
	// Kind is the sentinel (or context error) that Error matches.
	Kind error
}

// Error formats e as "lua: <op> <script> <function>: <message>".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("lua: ")
	b.WriteString(e.Op)
	if e.Script != "" {
		b.WriteByte(' ')
		b.WriteString(e.Script)
	}
	if e.Function != "" {
		b.WriteByte(' ')
		b.WriteString(e.Function)
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}

// newError is the error of op on script (on function fn, if any): kind,
// explained by msg, or by kind's own text without the package prefix when msg
// is empty.
func newError(op, script, fn string, kind error, msg string) *Error {
	if msg == "" {
		msg = kindText(kind)
	}
	return &Error{Op: op, Script: script, Function: fn, Kind: kind, Message: msg}
}

// kindText is kind's text without the package prefix.
func kindText(kind error) string { return strings.TrimPrefix(kind.Error(), "lua: ") }

// Is reports whether target is e's kind (or, for limits, ErrLimit).
func (e *Error) Is(target error) bool { return errors.Is(e.Kind, target) }

// Unwrap returns e's kind.
func (e *Error) Unwrap() error { return e.Kind }

// lineInTrace returns the line of the innermost frame of traceback (gopher-lua's
// "stack traceback:\n\t[G]: in function 'error'\n\tscript:12: in ...") that is
// in script, or 0 if none is.
func lineInTrace(script, traceback string) int {
	for line := range strings.Lines(traceback) {
		if n := lineOf(script, strings.TrimLeft(line, "\t")); n > 0 {
			return n
		}
	}
	return 0
}

// lineOf extracts the line from a Lua message of the form "script:line: ...", as
// gopher-lua prefixes errors raised in script. It returns 0 when the message
// points elsewhere (another chunk) or has no position.
func lineOf(script, msg string) int {
	rest, ok := strings.CutPrefix(msg, script+":")
	if !ok {
		return 0
	}
	end := strings.IndexByte(rest, ':')
	if end <= 0 {
		return 0
	}
	n, err := strconv.Atoi(rest[:end])
	if err != nil {
		return 0
	}
	return n
}
