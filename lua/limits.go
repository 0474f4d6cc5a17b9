package lua

import (
	"context"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
	"github.com/hotscript/hotscript/internal/monoclock"
	"github.com/hotscript/hotscript/internal/reentry"
)

// Limits bounds what one call into a script may use. Zero fields mean no limit. Every
// call (CallJSON, Field, Func.Call, a chunk run by Load or Stage, each reload hook)
// starts with a fresh budget.
//
// What is counted, exactly:
//
//   - MaxInstructions counts VM instructions (gopher-lua asks the context installed on
//     the LState before each one), plus the work done inside the builtins that could
//     otherwise run unbounded in a single instruction: one per pattern-matching step
//     in string.find, match, gmatch and gsub, and one per byte of a bracket class
//     ([...], %f[...]) each time the matcher scans it, and one per % escape and
//     per 64 bytes of other text of gsub's replacement string each time gsub reads
//     it (twice per match: to measure, then to write what it makes, which an
//     empty capture makes nothing of); one per 64 bytes of string
//     built by string.rep, format, gsub, upper, lower, reverse, table.concat, the
//     .. operator, print, load's joining of the pieces its reader function
//     returns, and by error and assert (a message with its position in front is
//     a new string; load and loadstring cut a chunk's name to 60 bytes, as Lua
//     does); for each chunk that load and loadstring compile, charged before the
//     compile starts (which is one instruction) from the source alone, so that
//     a chunk past what is left is refused with the limit's error: 512 units
//     and 32 KiB, plus 16 units and 160 bytes per byte of source, plus 512 units
//     and 16 KiB per "function" in it (about the most time and memory that
//     gopher-lua's parser and compiler were measured to take on code;
//     whitespace, comments and long string literals cost far less, and are
//     charged the same, and a function of thousands of distinct constants
//     that the package does not split (they are split in tables of literals
//     and in long runs of assignments and calls; not in an if-elseif chain of
//     thousands of cases) compiles in time that grows with their square,
//     which only MaxExecutionTime bounds); one per element that table.concat walks,
//     table.insert and table.remove shift, and unpack and string.byte return;
//     one per slot of a removed key past the first that next, or a step of
//     pairs, steps over (a nil in the array part, and a removed hash key's
//     place in pairs order, which a table keeps until removed keys outnumber
//     the others and a key is added); one per slot that
//     table.maxn looks at;
//     one per value that a ... passes on whole (as the last argument of a call,
//     the last item of a table constructor or the last value returned, the VM
//     copies them all in one instruction; local a, b = ... copies two and is
//     not charged); one per 64 bytes that tonumber reads; one per comparison
//     table.sort makes (its comparator's instructions count besides; 5.1's
//     quicksort makes about n*log2(n) for n elements, up to about n*n), and, without a
//     comparator, one per 64 bytes of the common prefix of two strings it
//     compares, counted in whole KiB (a prefix under 1 KiB costs nothing
//     more); one per table,
//     one per array element and two per object entry that a conversion walks
//     (a host function's arguments to Go values, CallJSON's results and Field's
//     value to JSON), and one per 64 bytes of their strings, each time the
//     value reaches them. CallJSON converts its results
//     as part of the call, and Field under a budget of its own, as for a call:
//     the limits and the caller's context stop a conversion as they stop Lua
//     code, with the same errors.
//     Instructions run in coroutines count against the caller's budget.
//     The count is deterministic: the same call on the same state counts the same.
//   - MaxExecutionTime is wall-clock time, read every 1,024 instructions (or work
//     units) while they run fast, every 16 once they average a microsecond or
//     more (and every 16 just after the clock starts), and after each host
//     function call, so a call stops within a fraction
//     of a millisecond of its deadline (BenchmarkTimeoutOverrun measures it) or
//     when a host function returns past it: time spent in host functions counts.
//     A chunk that a call compiles (load, loadstring) is waited for only until the
//     deadline, or until the caller's context ends (see Runtime.Load): one of 4 KiB
//     or more compiles on a goroutine of its own, left to finish in the
//     background if the call stops first; a script has one such compile running
//     at a time, so its next call that loads such a chunk waits for the last one
//     (within its own deadline). Smaller chunks compile in place, in 5 ms at most.
//     The same checks see the caller's context end. The clock starts at the first
//     of those checks, or at the first host function call, whichever comes first:
//     calls too short to reach one never read the clock, and the up to 1,024
//     instructions before it are not timed. A single builtin that allocates a huge
//     string between two checks can overrun by the time that allocation takes;
//     MaxMemoryBytes closes that gap (but see below for tables). A script
//     without MaxExecutionTime still has its chunk (at load and at each reload)
//     and its reload hooks and check stopped after 10 seconds, with an error
//     matching ErrTimeout that says so: an edit that never returns would
//     otherwise spin its reload forever, or hold the script's callers while a
//     hook runs. Its calls stay unlimited.
//   - MaxMemoryBytes is a practical bound, not a heap measurement: it caps the bytes
//     of strings built by the builtins above (for gsub and load's joining, what
//     their buffers allocate as they grow, about twice what they write), plus the bytes charged for each
//     compile by load and loadstring (above), plus the messages of the errors that
//     pcall, xpcall (for its handler and for its result) and coroutine.resume
//     catch, unless error or assert raised them, each time one is caught
//     (gopher-lua's own errors copy what they name: indexing nil with a string
//     key copies the key), plus the stacks of coroutines: 96 KiB
//     for each coroutine the call creates (its call stack of 1,024 frames and its
//     first 1,024 value slots), and 16 bytes for each slot by which the value stack
//     of a coroutine the call resumes grows (it grows on demand, 16 Ki slots at a
//     time, to at most 256 Ki slots, 4 MiB). That growth is seen at each resume
//     and yield and every 1,024 instructions, so a call can pass the limit by
//     what one coroutine's stack grows in that time, at most 4 MiB, before it
//     stops. A builtin checks the size of its result before building it, so
//     string.rep("x", 1<<30) fails without allocating. Not counted: tables (see
//     below), strings that Go host functions return, the LState itself (its own
//     value stack, which grows the same way, included).
//     Without MaxMemoryBytes, those builtins still refuse to build any one string
//     over 256 MiB: Go cannot recover from running out of memory, so a typo such as
//     string.rep("x", 1e12) would otherwise kill the process. The JSON that
//     CallJSON and Field make of a value, and the Go values a host function gets
//     as arguments, are held to 256 MiB, limits or not (MaxMemoryBytes bounds
//     what one call builds, and a script's state may rightly be larger), since a
//     value that reaches one table or string many times is converted as many
//     times: past it CallJSON and Field fail with an error matching ErrJSON, and
//     the call of the host function raises a Lua error. The Go values count
//     what they take in Go: 16 bytes for each value's interface, 8 more for a
//     number, 16 more and its bytes for a string, 24 more for a slice, a map's
//     buckets (about 84 bytes an entry); a string's bytes count each time it is
//     reached, as in JSON, although the Go strings share them.
//
// What no limit bounds is the work one instruction does on a table. A table's
// array part (its integer keys from 1 up) grows as Lua 5.1's does: past its end
// only while more than half its slots would hold a value, so t[16e6] = true takes
// one hash slot (upstream gopher-lua padded the array with nils up to any
// integer key below 2^26: 6 GiB allocated for t[2^26-1] = true; this package
// runs on the patched copy in internal/gopherlua). But an instruction that adds a key can still move the
// integer keys a table's hash part holds into its array part, as many as there
// are, when they come to fill it, as 5.1's rehash does; and a table constructor
// fed by a call returning many values ({f()}) fills up to 256 Ki slots in one
// instruction.
//
// Nor is the work of reading a long string in the VM: s1 == s2 and s1 < s2
// compare two strings byte by byte (unless they are the same string), t[s],
// t[s] = v and a field access hash all of s, and arithmetic on a string (s + 1)
// and a builtin given a string for a number (math.floor(s), ("x"):rep(s)) read
// all of s as a number, each in one instruction, whose time grows with the
// strings' length up to that of the largest string a script can hold (one call
// builds at most MaxMemoryBytes of strings, or 256 MiB in one string without
// it, and a host function can hand over longer ones, a script's state can keep
// strings of many calls). Two equal strings of 50 MB take about 9 ms to
// compare, and a lookup of one in a table of a dozen string keys about 6 ms,
// so a loop doing either runs its first 1,024 instructions, a second or more,
// before its call's clock starts. Once a look at the clock has seen such
// instructions, it looks every 16 of them; but after a stretch of fast ones it
// looks every 1,024, so up to 1,024 slow ones can run past the deadline before
// the call stops. tonumber is charged for the bytes it reads.
//
// Nor the traceback of an error that ends a call, which gopher-lua builds from
// the whole call stack in time that grows with the square of its depth: about
// 7 ms at the deepest, 1,024 frames, once per call (the names of functions
// in it cut to 256 bytes, as compiled), with a line for each tail call a frame
// counts, which a call with any limit holds to 16 a frame (see
// maxTailCalls; without limits, a loop of a million tail calls that ends in an
// error lists them all). The package's pcall and xpcall build none for the
// errors they catch, which cost a walk of the open upvalues of the frames the
// error left.
//
// None of this is charged to MaxInstructions or MaxMemoryBytes, and
// MaxExecutionTime and the caller's context are only seen once the instruction
// in progress ends. The limits therefore
// bound runaway scripts, not hostile ones: a hostile script can still take
// gigabytes of memory and seconds per instruction, so run scripts that may be
// hostile in a process of their own.
//
// A call that hits a limit returns an *Error matching ErrInstructionLimit,
// ErrTimeout or ErrMemoryLimit (and ErrLimit); the script stays usable, its state is
// what the call left behind, and other scripts are unaffected. A script's pcall
// cannot swallow a limit: the budget stays exhausted, so the next instruction raises
// the error again until it leaves the call.
type Limits struct {
	// MaxMemoryBytes caps the bytes of strings (and coroutine stacks) one call creates.
	MaxMemoryBytes uint64
	// MaxInstructions caps the VM instructions (and builtin work units) of one call.
	MaxInstructions uint64
	// MaxExecutionTime caps the wall-clock time of one call.
	MaxExecutionTime time.Duration
}

func (l Limits) set() bool {
	return l.MaxMemoryBytes > 0 || l.MaxInstructions > 0 || l.MaxExecutionTime > 0
}

const (
	maxCharge           = 1 << 40  // the most one charge counts (see charge)
	checkEvery          = 1024     // instructions between looks at the clock, the caller's context and Close
	bytesPerUnit        = 64       // bytes a builtin builds per instruction charged
	threadBytes  uint64 = 96 << 10 // charged per coroutine: its call stack (80 KiB) and first value stack (16 KiB)
)

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// budget is the context.Context installed on a script's LState during a call. The VM
// calls Done before every instruction; Done counts and, every checkEvery calls or when
// the instruction budget runs out, checks the other limits. Once a limit is hit Done
// returns a closed channel, and the VM raises Err().Error() as a Lua error.
//
// A budget belongs to one script version and is used only under that script's mutex
// (or, while staging, by the one goroutine that owns the new version), so its fields
// need no synchronization; only the runtime's closing flag is shared.
type budget struct {
	limits  Limits
	free    bool // no limit is set: see begin
	closing *atomic.Bool

	ctx     context.Context // the caller's, for host functions, Value and cancellation
	ctxDone <-chan struct{}
	due     time.Duration // the deadline, as a monoclock.Now value; 0 until the clock starts
	every   uint64        // instructions between checks: checkEvery, less while they run slow (see pace)
	seen    time.Duration // when the clock was last read, as a monoclock.Now value
	seenAt  uint64        // count when the clock was last read

	count  uint64 // instructions and work units so far
	next   uint64 // count at which check runs
	holdAt uint64 // count at which check holds every frame of the running thread (see holdTailCalls)
	mem    uint64 // bytes charged so far
	spare  uint64 // bytes charged but not yet turned into a work unit

	resumed []resumed    // the coroutines the call is resuming, innermost last (see enter)
	L       *glua.LState // the version's state, whose frames check reads

	tripped error // ErrInstructionLimit, ErrTimeout, ErrMemoryLimit, ErrClosed or ctx.Err()
	setup   bool  // MaxExecutionTime is setupTime, lent by forSetup
	raised  bool  // the error in flight was raised by error or assert, which charged it (see holdError)

	guard reentry.Guard // marks host functions' contexts (see script.lock)

	// compiling holds the one compile of a chunk the version's code loads that
	// may run on a goroutine of its own, given up or not (see compileUntil).
	compiling chan struct{}
}

// begin resets b for a call under ctx and reports whether b must be installed on the
// LState: only when there is a limit to enforce or a context that can end the call.
// Otherwise the VM runs its plain loop, without asking b anything, and begin does
// no more than record ctx for host functions.
func (b *budget) begin(ctx context.Context) bool {
	b.ctx, b.ctxDone, b.tripped, b.raised = ctx, ctx.Done(), nil, false
	b.resumed = b.resumed[:0]
	if b.ctxDone == nil && b.free {
		return false
	}
	b.count, b.mem, b.spare, b.holdAt = 0, 0, 0, 0
	b.next, b.every = checkEvery, checkEvery
	if max := b.limits.MaxInstructions; max > 0 && max < checkEvery {
		b.next = max + 1
	}
	b.due = 0 // the clock starts at the first check: see startClock
	if b.ctxDone != nil {
		select {
		case <-b.ctxDone: // ended already: fail at the first instruction
			b.tripped, b.next = ctx.Err(), 0
		default:
		}
	}
	return true
}

// end drops the caller's context so that the budget does not keep it alive.
func (b *budget) end() { b.ctx, b.ctxDone = nil, nil }

// resume reopens b, ended by the call it served, under that call's ctx for work
// that counts as part of the call: converting its results to JSON. end closes
// it again.
func (b *budget) resume(ctx context.Context) { b.ctx, b.ctxDone = ctx, ctx.Done() }

// work counts units of work that a conversion does outside the VM for the call
// b serves, and returns the limit error (as b.tripped holds it) once the budget
// is exhausted: a conversion returns its error rather than raise it in Lua.
func (b *budget) work(units uint64) error {
	b.count += min(units, maxCharge)
	if b.count >= b.next && b.check() != nil {
		return b.tripped
	}
	return nil
}

// callCtx is the context of the call in progress, for host functions.
func (b *budget) callCtx() context.Context {
	if b.ctx == nil {
		return context.Background()
	}
	return b.ctx
}

// Done counts one instruction. It is called by the VM, never blocks, and returns nil
// while the budget lasts.
func (b *budget) Done() <-chan struct{} {
	b.count++
	if b.count < b.next {
		return nil
	}
	return b.check()
}

func (b *budget) check() <-chan struct{} {
	b.measureStack()
	if b.tripped == nil {
		if b.tripped = b.exceeded(); b.tripped == nil {
			b.next = b.count + b.every
			if max := b.limits.MaxInstructions; max > 0 && b.next > max {
				b.next = max + 1
			}
			b.holdTailCalls(false)
			return nil
		}
	}
	b.holdTailCalls(true) // the limit's error is raised next, and traced
	b.next = 0
	return closedChan
}

// maxTailCalls is the most tail calls a frame counts once check has seen it.
// gopher-lua's traceback of an error has a line for each tail call a frame
// counts: a loop written as return loop(n + 1) that ended in an error, a
// limit's included, took three times a 200 ms time limit and 180 MB to list
// them, and a reload stopped after its 10 s, 36 s and 4.5 GB (helper-246).
// error(msg, level) counts a frame's tail calls as levels, as Lua 5.1 does:
// so a level past maxTailCalls of them, none of which has a position, may name
// the frame below. Without a budget (no limits), nothing holds them.
const maxTailCalls = 16

// holdTailCalls holds the tail calls of frames of the call's threads to
// maxTailCalls: at every check, the running thread's top holdTop frames; at
// least holdEvery instructions apart, all its frames; and when a limit trips,
// every frame of every thread (the version's and the coroutines it resumes).
// A frame counts tail calls only while it is on top, but it can come to the top
// and leave it between two checks each time, below any number of frames at
// the checks (helper-254: a loop whose every step called four deep, in 32
// instructions, was never among the top four at a check), so that it counts at
// most holdEvery of them between two walks of them all; walking them all at
// every check cost a host call 1,000 frames deep 3 microseconds, and a call
// under 190 nested coroutines 1,000 frames deep each 16 times its time
// (helper-258). A thread's frames change only while it runs, and the running
// one is the innermost the call resumes.
func (b *budget) holdTailCalls(tripped bool) {
	if !frameLayout.ok {
		return
	}
	hold := func(L *glua.LState, n int) {
		for cf := currentFrame(L); cf != nil && n != 0; _, cf = frameOf(cf) {
			if tail := (*int)(unsafe.Add(cf, frameLayout.tail)); *tail > maxTailCalls {
				*tail = maxTailCalls
			}
			n--
		}
	}
	running := b.L
	if n := len(b.resumed); n > 0 {
		running = b.resumed[n-1].th
	}
	switch {
	case tripped:
		if b.L != nil {
			hold(b.L, -1)
		}
		for _, r := range b.resumed {
			hold(r.th, -1)
		}
	case running == nil:
	case b.count >= b.holdAt:
		b.holdAt = b.count + holdEvery
		hold(running, -1)
	default:
		hold(running, holdTop)
	}
}

// holdTop and holdEvery set how often holdTailCalls holds which frames.
const (
	holdTop   = 4
	holdEvery = 1 << 16
)

func (b *budget) exceeded() error {
	switch l := b.limits; {
	case l.MaxInstructions > 0 && b.count > l.MaxInstructions:
		return ErrInstructionLimit
	case l.MaxMemoryBytes > 0 && b.mem > l.MaxMemoryBytes:
		return ErrMemoryLimit
	case b.limits.MaxExecutionTime > 0 && b.timeUp():
		return b.timeError()
	case b.closing != nil && b.closing.Load():
		return ErrClosed
	}
	if b.ctxDone != nil {
		select {
		case <-b.ctxDone:
			return b.ctx.Err()
		default:
		}
	}
	return nil
}

// compile compiles a chunk that a call loads (load, loadstring) within the call's
// time limit and context: the compile is one instruction, which the VM cannot
// interrupt, and gopher-lua's compiler can take seconds over a large generated
// chunk (see compileUntil). When the limit passes or the context ends first,
// compile raises that error in Lua, as the next instruction would.
func (b *budget) compile(L *glua.LState, name, src string) (*glua.FunctionProto, error) {
	if b == nil || (b.ctxDone == nil && b.limits.MaxExecutionTime == 0) {
		return compileChunk(name, src, chunkKind{varargs: b != nil && b.limits.MaxInstructions > 0})
	}
	ctx := b.callCtx()
	if b.limits.MaxExecutionTime > 0 {
		b.startClock()
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, monoclock.Time(b.due))
		defer cancel()
	}
	if b.compiling == nil {
		b.compiling = make(chan struct{}, 1)
	}
	proto, err := compileUntil(ctx, name, src, chunkKind{varargs: b.limits.MaxInstructions > 0}, slot{places: b.compiling})
	if err != nil && ctx.Err() != nil {
		if b.tripped == nil {
			b.tripped = b.timeError()
			if b.ctxDone != nil && b.ctx.Err() != nil {
				b.tripped = b.ctx.Err()
			}
		}
		b.next = 0
		L.RaiseError("%s", b.Err().Error())
	}
	return proto, err
}

// Err is the error the VM raises in Lua once Done has returned a closed channel: the
// limit, without the Go package prefix ("instruction limit exceeded").
func (b *budget) Err() error {
	if le, ok := b.tripped.(*limitError); ok {
		return luaText(le.what)
	}
	return b.tripped
}

// Deadline returns the call's time limit.
func (b *budget) Deadline() (time.Time, bool) {
	if b.due == 0 {
		return time.Time{}, false
	}
	return monoclock.Time(b.due), true
}

// Value forwards to the caller's context.
func (b *budget) Value(key any) any {
	if b.ctx == nil {
		return nil
	}
	return b.ctx.Value(key)
}

type luaText string

func (t luaText) Error() string { return string(t) }

// budgetOf returns the budget installed on L (a script state or one of its
// coroutines), or nil when the call runs without limits. Its methods accept nil.
func budgetOf(L *glua.LState) *budget {
	b, _ := L.Context().(*budget)
	return b
}

// charge counts units of builtin work and raises the limit error in Lua when the
// budget is exhausted. A charge counts at most maxCharge units: more is past any
// budget, and the count must not wrap around (unpack({}, -2^63, 2^63) asks for
// 2^64 units, which gave back what the script had used).
func (b *budget) charge(L *glua.LState, units uint64) {
	if b != nil && b.work(units) != nil {
		L.RaiseError("%s", b.Err().Error())
	}
}

// alloc charges n bytes that a builtin is about to build: memory, and one work unit
// per bytesPerUnit.
func (b *budget) alloc(L *glua.LState, n uint64) {
	if b == nil {
		return
	}
	b.hold(n)
	b.spare += n
	units := b.spare / bytesPerUnit
	b.spare %= bytesPerUnit
	b.charge(L, units)
}

// hold counts n bytes against MaxMemoryBytes; past it, the next charge or
// instruction raises ErrMemoryLimit.
func (b *budget) hold(n uint64) {
	b.mem += min(n, maxCharge)
	if max := b.limits.MaxMemoryBytes; max > 0 && b.mem > max && b.tripped == nil {
		b.tripped, b.next = ErrMemoryLimit, 0
	}
}

// reserve fails the call if n more bytes could not be charged, without charging them:
// for builtins that know only an upper bound of their result before building it.
func (b *budget) reserve(L *glua.LState, n uint64) {
	if b == nil {
		return
	}
	l := b.limits
	switch {
	case l.MaxMemoryBytes > 0 && (n > l.MaxMemoryBytes || b.mem+n > l.MaxMemoryBytes):
		b.tripped = ErrMemoryLimit
	case l.MaxInstructions > 0 && b.count+n/bytesPerUnit > l.MaxInstructions:
		b.tripped = ErrInstructionLimit
	default:
		return
	}
	b.next = 0
	L.RaiseError("%s", b.Err().Error())
}

// growing is a strings.Builder that a builtin builds a result of a size not
// known in advance in (gsub's, load's source from a reader), charged for
// what it allocates as it grows, twice its capacity and the bytes to add, as
// strings.Builder grows: the buffers it outgrows are held until the collector
// runs, so that charging the bytes written let a gsub hold two to three times
// MaxMemoryBytes (helper-246).
type growing struct{ strings.Builder }

// reserve charges and checks room for n more bytes in w.
func (w *growing) reserve(L *glua.LState, n int) {
	grow := w.Cap()-w.Len() < n
	if grow {
		budgetOf(L).alloc(L, uint64(2*w.Cap()+n))
	}
	checkSize(L, uint64(w.Len()+n))
	if grow {
		w.Grow(n)
	}
}

// maxString caps each string a builtin builds when Limits.MaxMemoryBytes is not
// set (with it, the limit governs). Go cannot recover from running out of memory:
// without a cap, string.rep("x", 1e12), one typo, would kill the whole process.
const maxString = 256 << 20

// checkSize raises a Lua error before a builtin builds a string of n bytes that is
// over maxString, unless the call has a memory limit. Builtins call it after
// charging the call's budget, so that a limit the host set is the one reported.
func checkSize(L *glua.LState, n uint64) {
	if n <= maxString {
		return
	}
	if b := budgetOf(L); b != nil && b.limits.MaxMemoryBytes > 0 {
		return
	}
	L.RaiseError("string of %d bytes is too large: a builtin builds at most %d MiB unless Limits.MaxMemoryBytes allows more", n, maxString>>20)
}
