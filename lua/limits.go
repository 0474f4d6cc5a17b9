package lua

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hotscript/hotscript/internal/monoclock"
	"github.com/hotscript/hotscript/internal/reentry"
	glua "github.com/yuin/gopher-lua"
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
//     in string.find, match, gmatch and gsub; one per 64 bytes of string built by
//     string.rep, format, gsub, upper, lower, reverse, table.concat, the .. operator,
//     load and print; one per element that table.concat walks, table.insert and
//     table.remove shift, and unpack and string.byte return; n*log2(n) for a
//     table.sort of n elements (its comparator's instructions count besides).
//     Instructions run in coroutines count against the caller's budget.
//     The count is deterministic: the same call on the same state counts the same.
//   - MaxExecutionTime is wall-clock time, read every 1,024 instructions (or work
//     units) and after each host function call, so a call stops within a fraction
//     of a millisecond of its deadline (BenchmarkTimeoutOverrun measures it) or
//     when a host function returns past it: time spent in host functions counts.
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
//     of strings built by the builtins above, plus 96 KiB per coroutine created
//     (its stacks). A builtin checks the size of its result before building it, so
//     string.rep("x", 1<<30) fails without allocating. Not counted: tables (see
//     below), strings that Go host functions return, the LState itself.
//     Without MaxMemoryBytes, those builtins still refuse to build any one string
//     over 256 MiB: Go cannot recover from running out of memory, so a typo such as
//     string.rep("x", 1e12) would otherwise kill the process. The JSON that
//     CallJSON and Field make of a value, and the Go values a host function gets
//     as arguments, are held to 256 MiB, limits or not (MaxMemoryBytes bounds
//     what one call builds, and a script's state may rightly be larger), since a
//     value that reaches one table or string many times is converted as many
//     times: past it CallJSON and Field fail with an error matching ErrJSON, and
//     the call of the host function raises a Lua error.
//
// What no limit bounds is the work gopher-lua does on a table's array part inside
// one instruction, which this package cannot reach without changing gopher-lua. The
// array holds a table's integer keys from 1 up, and gopher-lua pads it with nils up
// to any integer key below 2^26 that is assigned: t[16e6] = true makes a 256 MiB
// array (over 1 GiB allocated while it grows), t[2^26-1] = true a 1 GiB one (about
// 6 GiB allocated, seconds of CPU), each in one instruction, and table.insert(t, pos,
// v) with pos past the end pads the same way. Once such an array ends in nils
// (t[16e6] = nil), every #t, table.insert(t, v) and next (each step of pairs)
// walks over all of them. A table constructor fed by a call returning many
// values ({f()}) fills up to 256 Ki slots in one instruction. None of this is charged
// to MaxInstructions or MaxMemoryBytes, and MaxExecutionTime and the caller's
// context are only seen once the instruction in progress ends. The limits therefore
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
	// MaxMemoryBytes caps the bytes of strings (and coroutines) one call creates.
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
	threadBytes  uint64 = 96 << 10 // charged per coroutine: its call stack (80 KiB) and first value stack

	maxResumeDepth = 200 // coroutine resumes nested in one another (see openCoroutine)
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

	count uint64 // instructions and work units so far
	next  uint64 // count at which check runs
	mem   uint64 // bytes charged so far
	spare uint64 // bytes charged but not yet turned into a work unit

	tripped error // ErrInstructionLimit, ErrTimeout, ErrMemoryLimit, ErrClosed or ctx.Err()
	setup   bool  // MaxExecutionTime is setupTime, lent by forSetup

	guard reentry.Guard // marks host functions' contexts (see script.lock)
}

// begin resets b for a call under ctx and reports whether b must be installed on the
// LState: only when there is a limit to enforce or a context that can end the call.
// Otherwise the VM runs its plain loop, without asking b anything, and begin does
// no more than record ctx for host functions.
func (b *budget) begin(ctx context.Context) bool {
	b.ctx, b.ctxDone, b.tripped = ctx, ctx.Done(), nil
	if b.ctxDone == nil && b.free {
		return false
	}
	b.count, b.mem, b.spare = 0, 0, 0
	b.next = checkEvery
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

// setupTime bounds a chunk run (at load and reload) and a reload's hooks and
// check, for a script that has no MaxExecutionTime of its own. Without it, an
// edit whose chunk never returns would keep its reload's goroutine spinning
// forever, and an on_restore that never returns would hold the script's
// callers for good. A variable so that tests can shorten it.
var setupTime = 10 * time.Second

// forSetup puts b under setupTime, if its script has no time limit, for the
// chunk run or reload hooks about to run, and returns what undoes it.
func (b *budget) forSetup() (undo func()) {
	if b.limits.MaxExecutionTime > 0 {
		return func() {}
	}
	free := b.free
	b.limits.MaxExecutionTime, b.free, b.setup = setupTime, false, true
	return func() { b.limits.MaxExecutionTime, b.free, b.setup = 0, free, false }
}

// startClock starts the call's clock if it has a time limit and has not started.
// The clock starts lazily, at the first check (after checkEvery instructions, or
// earlier if a builtin charges work) or before the first host function call, not when
// the call begins: reading the clock costs as much as a short call (60 ns on some
// virtual machines), and most calls never reach a check. The time a call spends before
// its clock starts, at most checkEvery instructions, is not counted.
func (b *budget) startClock() {
	if b.limits.MaxExecutionTime > 0 && b.due == 0 {
		b.due = monoclock.Now() + b.limits.MaxExecutionTime
	}
}

// timeUp reports whether the call's time is up, starting its clock if needed.
func (b *budget) timeUp() bool {
	if b.due == 0 {
		b.startClock()
		return false
	}
	return monoclock.Now() >= b.due
}

// end drops the caller's context so that the budget does not keep it alive.
func (b *budget) end() { b.ctx, b.ctxDone = nil, nil }

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
	if b.tripped == nil {
		if b.tripped = b.exceeded(); b.tripped == nil {
			b.next = b.count + checkEvery
			if max := b.limits.MaxInstructions; max > 0 && b.next > max {
				b.next = max + 1
			}
			return nil
		}
	}
	b.next = 0
	return closedChan
}

func (b *budget) exceeded() error {
	switch l := b.limits; {
	case l.MaxInstructions > 0 && b.count > l.MaxInstructions:
		return ErrInstructionLimit
	case l.MaxMemoryBytes > 0 && b.mem > l.MaxMemoryBytes:
		return ErrMemoryLimit
	case b.limits.MaxExecutionTime > 0 && b.timeUp():
		if b.setup {
			return &limitError{what: fmt.Sprintf("execution time limit exceeded: a chunk or a reload hook ran past the %v "+
				"allowed to a script without MaxExecutionTime", setupTime), also: ErrTimeout}
		}
		return ErrTimeout
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
	if b == nil {
		return
	}
	b.count += min(units, maxCharge)
	if b.count >= b.next && b.check() != nil {
		L.RaiseError("%s", b.Err().Error())
	}
}

// alloc charges n bytes that a builtin is about to build: memory, and one work unit
// per bytesPerUnit.
func (b *budget) alloc(L *glua.LState, n uint64) {
	if b == nil {
		return
	}
	b.mem += n
	if max := b.limits.MaxMemoryBytes; max > 0 && b.mem > max && b.tripped == nil {
		b.tripped, b.next = ErrMemoryLimit, 0
	}
	b.spare += n
	units := b.spare / bytesPerUnit
	b.spare %= bytesPerUnit
	b.charge(L, units)
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

// installCaps replaces the string and table builtins that can build big strings, and
// sets the function the compiler routes the .. operator through (see compile.go).
func installCaps(L *glua.LState) {
	str := L.GetGlobal("string").(*glua.LTable)
	for name, fn := range map[string]glua.LGFunction{
		"rep":     capRep,
		"upper":   func(L *glua.LState) int { return mapBytes(L, upperByte) },
		"lower":   func(L *glua.LState) int { return mapBytes(L, lowerByte) },
		"reverse": capReverse,
		"format":  capFormat,
	} {
		str.RawSetString(name, L.NewFunction(fn))
	}
	tbl := L.GetGlobal("table").(*glua.LTable)
	tbl.RawSetString("concat", L.NewFunction(capTableConcat))
	charge := func(lib *glua.LTable, name string, units func(*glua.LState) uint64) {
		fn := lib.RawGetString(name).(*glua.LFunction).GFunction
		lib.RawSetString(name, L.NewFunction(charged(fn, units)))
	}
	charge(tbl, "insert", insertWork)
	charge(tbl, "remove", removeWork)
	charge(tbl, "sort", sortWork)
	charge(L.G.Global, "unpack", unpackWork)
	charge(str, "byte", byteWork)
	L.SetGlobal(concatName, L.NewFunction(capConcat))
}

// charged is the builtin fn with the work it does inside its one instruction charged
// first, one unit per element it moves, pushes or compares, as units reckons from
// the call's arguments: so that table.insert(t, 1, v) on a table of a million
// elements costs what a Lua loop doing the same would, not one instruction.
func charged(fn glua.LGFunction, units func(*glua.LState) uint64) glua.LGFunction {
	return func(L *glua.LState) int {
		if b := budgetOf(L); b != nil {
			b.charge(L, units(L))
		}
		return fn(L)
	}
}

// span is the number of integers in [i, j].
func span(i, j int) uint64 {
	if j < i {
		return 0
	}
	return uint64(j) - uint64(i) + 1
}

// insertWork is table.insert(t, pos, v): the elements from pos on move up one.
func insertWork(L *glua.LState) uint64 {
	if L.GetTop() < 3 {
		return 0 // table.insert(t, v) appends
	}
	t := L.CheckTable(1)
	return span(L.CheckInt(2), t.Len())
}

// removeWork is table.remove(t, pos): the elements after pos move down one.
func removeWork(L *glua.LState) uint64 {
	if L.GetTop() < 2 {
		return 0 // table.remove(t) removes the last
	}
	t := L.CheckTable(1)
	return span(L.CheckInt(2)+1, t.Len())
}

// sortWork is table.sort(t [, comp]): n log2 n comparisons and swaps for n elements
// (a comparator's own instructions count besides).
func sortWork(L *glua.LState) uint64 {
	n := L.CheckTable(1).Len()
	return uint64(n) * uint64(bits.Len(uint(n)))
}

// unpackWork is unpack(t [, i [, j]]): the values pushed.
func unpackWork(L *glua.LState) uint64 {
	t := L.CheckTable(1)
	return span(L.OptInt(2, 1), L.OptInt(3, t.Len()))
}

// byteWork is string.byte(s [, i [, j]]): at most the values gopher-lua pushes (its
// j defaults to the end of s).
func byteWork(L *glua.LState) uint64 {
	n := len(L.CheckString(1))
	if L.GetTop() == 2 {
		return 1
	}
	return span(max(posRelative(L.OptInt(2, 1), n), 1), min(posRelative(L.OptInt(3, -1), n), n))
}

func capRep(L *glua.LState) int {
	s, n := L.CheckString(1), L.CheckInt(2)
	if n <= 0 || s == "" {
		L.Push(glua.LString(""))
		return 1
	}
	if uint64(n) > math.MaxInt/uint64(len(s)) {
		L.RaiseError("resulting string too large")
	}
	total := len(s) * n
	b := budgetOf(L)
	b.reserve(L, uint64(total))
	checkSize(L, uint64(total))
	var w strings.Builder
	w.Grow(total)
	w.WriteString(s)
	b.alloc(L, uint64(len(s)))
	for w.Len() < total { // doubling, charged and checked per chunk of at most 1 MiB
		chunk := min(w.Len(), total-w.Len(), 1<<20)
		b.alloc(L, uint64(chunk))
		w.WriteString(w.String()[:chunk])
	}
	L.Push(glua.LString(w.String()))
	return 1
}

func upperByte(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c - 'A' + 'a'
	}
	return c
}

// mapBytes is string.upper and string.lower: byte-wise ASCII, as in C Lua, so the
// result is exactly as long as the input.
func mapBytes(L *glua.LState, f func(byte) byte) int {
	s := L.CheckString(1)
	budgetOf(L).alloc(L, uint64(len(s)))
	out := make([]byte, len(s))
	for i := 0; i < len(s); i++ {
		out[i] = f(s[i])
	}
	L.Push(glua.LString(out))
	return 1
}

func capReverse(L *glua.LState) int {
	s := L.CheckString(1)
	budgetOf(L).alloc(L, uint64(len(s)))
	out := make([]byte, len(s))
	for i := 0; i < len(s); i++ {
		out[len(s)-1-i] = s[i]
	}
	L.Push(glua.LString(out))
	return 1
}

// capFormat is string.format. gopher-lua's hands the format to fmt.Sprintf, which
// took every Go verb and flag (%v, %T, %[1]d), printed the contents of a table given
// to %d, and added arguments left over after a "%%" as "%!(EXTRA ...)", none of which
// an upper bound of the result could foresee. capFormat accepts Lua 5.1's formats
// only, checks them and their arguments as Lua does, bounds the result before
// building it (see formatArgs), and charges the real size.
func capFormat(L *glua.LState) int {
	f, args, bound := formatArgs(L, L.CheckString(1))
	b := budgetOf(L)
	b.reserve(L, bound)
	checkSize(L, bound)
	out := fmt.Sprintf(f, args...)
	b.alloc(L, uint64(len(out)))
	L.Push(glua.LString(out))
	return 1
}

// formatArgs checks the format f of string.format as Lua 5.1 does: each conversion
// is a '%', any of the flags "-+ #0", a width, a precision, and one of the
// conversions "cdiouxXeEfgGqs" (or "%%"). It returns the format for fmt.Sprintf
// and the arguments the conversions consume, converted as Lua converts them: a
// numeric conversion takes a number or a string that reads as one (%u is %d, %c one
// byte), %q a string or number, quoted as Lua quotes it, %s any value. And it
// returns an upper bound of the output: the format itself, plus for each conversion
// its width and precision (fmt refuses more than 1e6) and its argument as that
// conversion prints it at most, four bytes per byte and the quotes for %q, one per
// byte for %s, at least 400 bytes (a %f of a large number).
func formatArgs(L *glua.LState, f string) (gof string, args []any, bound uint64) {
	number := func(i *int) uint64 {
		n := uint64(0)
		for ; *i < len(f) && '0' <= f[*i] && f[*i] <= '9'; *i++ {
			n = min(n*10+uint64(f[*i]-'0'), 1e6)
		}
		return n
	}
	var g strings.Builder
	bound = uint64(len(f))
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			g.WriteByte(f[i])
			continue
		}
		start := i
		if i++; i < len(f) && f[i] == '%' {
			g.WriteString("%%")
			continue
		}
		for i < len(f) && strings.IndexByte("-+ #0", f[i]) >= 0 {
			i++
		}
		width, precision := number(&i), uint64(0)
		if i < len(f) && f[i] == '.' {
			i++
			precision = number(&i)
		}
		if i == len(f) || strings.IndexByte("cdiouxXeEfgGqs", f[i]) < 0 {
			L.RaiseError("invalid option '%s' to 'format'", f[start:min(i+1, len(f))])
		}
		spec, conv := f[start:i], f[i] // spec: '%', flags, width, precision
		n := len(args) + 2             // the argument's index
		var arg any
		size := uint64(0)
		switch conv {
		case 's':
			v := L.CheckAny(n)
			if s, ok := v.(glua.LString); ok {
				size = uint64(len(s))
			}
			arg = v
		case 'q':
			s := L.CheckString(n)
			arg, size, spec, conv = quoted(s), 4*uint64(len(s))+2, "%", 's'
		case 'c':
			arg, conv = string([]byte{byte(int64(L.CheckNumber(n)))}), 's'
		case 'u', 'i':
			arg, conv = L.CheckNumber(n), 'd'
		default:
			arg = L.CheckNumber(n)
		}
		g.WriteString(spec)
		g.WriteByte(conv)
		bound += width + precision + max(size, 400) + 64
		args = append(args, arg)
	}
	return g.String(), args, bound
}

// quoted is a string that fmt prints as Lua 5.1's %q does: between double quotes,
// with '"', '\\' and a newline escaped by a backslash, a carriage return as \r
// and a zero byte as \000, every other byte as it is. It is written while fmt
// builds the result, after string.format checked the result's size.
type quoted string

func (q quoted) Format(f fmt.State, _ rune) {
	s := string(q)
	io.WriteString(f, `"`)
	start := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '"':
			esc = `\"`
		case '\\':
			esc = `\\`
		case '\n':
			esc = "\\\n"
		case '\r':
			esc = `\r`
		case 0:
			esc = `\000`
		default:
			continue
		}
		io.WriteString(f, s[start:i])
		io.WriteString(f, esc)
		start = i + 1
	}
	io.WriteString(f, s[start:])
	io.WriteString(f, `"`)
}

// capTableConcat is table.concat(t [, sep [, i [, j]]]) with the result's size
// charged before it is built.
func capTableConcat(L *glua.LState) int {
	t := L.CheckTable(1)
	sep := L.OptString(2, "")
	i, j := L.OptInt(3, 1), L.OptInt(4, t.Len())
	if i > j {
		L.Push(glua.LString(""))
		return 1
	}
	total := uint64(j-i) * uint64(len(sep))
	b := budgetOf(L)
	for k := i; k <= j; k++ {
		b.charge(L, 1) // the walk, which empty strings would make free
		v := t.RawGetInt(k)
		if !glua.LVCanConvToString(v) {
			L.RaiseError("invalid value (at index %d) in table for 'concat'", k)
		}
		total += uint64(len(glua.LVAsString(v)))
	}
	b.alloc(L, total)
	checkSize(L, total)
	var w strings.Builder
	w.Grow(int(total))
	for k := i; k <= j; k++ {
		w.WriteString(glua.LVAsString(t.RawGetInt(k)))
		if k < j {
			w.WriteString(sep)
		}
	}
	L.Push(glua.LString(w.String()))
	return 1
}

// capConcat is the .. operator: concat(a, b, c) is a .. b .. c. It keeps Lua's
// semantics (right to left, strings and numbers joined, __concat otherwise) and charges
// the bytes it builds.
func capConcat(L *glua.LState) int {
	top := L.GetTop()
	rhs := L.Get(top)
	for i := top - 1; i >= 1; {
		lhs := L.Get(i)
		if glua.LVCanConvToString(lhs) && glua.LVCanConvToString(rhs) {
			first := i // join the longest run of strings and numbers at once
			for first > 1 && glua.LVCanConvToString(L.Get(first-1)) {
				first--
			}
			total := uint64(len(glua.LVAsString(rhs)))
			for k := first; k <= i; k++ {
				total += uint64(len(glua.LVAsString(L.Get(k))))
			}
			budgetOf(L).alloc(L, total)
			checkSize(L, total)
			var w strings.Builder
			w.Grow(int(total))
			for k := first; k <= i; k++ {
				w.WriteString(glua.LVAsString(L.Get(k)))
			}
			w.WriteString(glua.LVAsString(rhs))
			rhs, i = glua.LString(w.String()), first-1
			continue
		}
		op := L.GetMetaField(lhs, "__concat")
		if op == glua.LNil {
			op = L.GetMetaField(rhs, "__concat")
		}
		if op == glua.LNil {
			bad := lhs
			if glua.LVCanConvToString(lhs) {
				bad = rhs
			}
			L.RaiseError("attempt to concatenate a %s value", bad.Type().String())
		}
		L.Push(op)
		L.Push(lhs)
		L.Push(rhs)
		L.Call(2, 1)
		rhs = L.Get(-1)
		L.Pop(1)
		i--
	}
	L.Push(rhs)
	return 1
}

// openCoroutine opens the coroutine library with create, resume and wrap replaced so
// that every coroutine runs on the budget of the call that resumes it: its
// instructions count against that call's limits. Each coroutine is charged
// threadBytes of memory when created.
//
// gopher-lua runs a resumed coroutine on the resumer's Go stack, so coroutines
// resuming coroutines nest Go calls, and a script that does so without end would
// overflow the Go stack, which kills the process. Resumes therefore nest at most
// maxResumeDepth deep, as in Lua 5.1 (its C stack limit): one more fails like a
// coroutine that raised "C stack overflow".
func openCoroutine(L *glua.LState) {
	L.Push(L.NewFunction(glua.OpenCoroutine))
	L.Push(glua.LString(glua.CoroutineLibName))
	L.Call(1, 0)
	co := L.GetGlobal(glua.CoroutineLibName).(*glua.LTable)
	create := co.RawGetString("create").(*glua.LFunction).GFunction
	resume := co.RawGetString("resume").(*glua.LFunction).GFunction
	newThread := func(L *glua.LState) *glua.LState {
		budgetOf(L).alloc(L, threadBytes)
		create(L)
		return L.ToThread(-1)
	}
	bind := func(L, th *glua.LState) {
		if ctx := L.Context(); ctx != nil {
			th.SetContext(ctx)
		} else {
			th.RemoveContext()
		}
	}
	nested := 0 // resumes in progress; the state's calls are serialized
	resumeNested := func(L *glua.LState) int {
		if nested >= maxResumeDepth {
			L.Push(glua.LFalse)
			L.Push(glua.LString("C stack overflow"))
			return 2
		}
		nested++
		defer func() { nested-- }()
		return resume(L)
	}
	co.RawSetString("create", L.NewFunction(func(L *glua.LState) int {
		bind(L, newThread(L))
		return 1
	}))
	co.RawSetString("resume", L.NewFunction(func(L *glua.LState) int {
		bind(L, L.CheckThread(1))
		return resumeNested(L)
	}))
	co.RawSetString("wrap", L.NewFunction(func(L *glua.LState) int {
		th := newThread(L)
		L.Push(L.NewFunction(func(L *glua.LState) int {
			L.Insert(th, 1)
			bind(L, th)
			n := resumeNested(L)
			if ok := L.Get(-n); ok != glua.LTrue {
				L.Error(L.Get(-n+1), 0)
			}
			return n - 1
		}))
		return 1
	}))
}
