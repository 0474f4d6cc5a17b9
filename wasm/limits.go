package wasm

import (
	"context"
	"fmt"
	"time"

	"github.com/hotscript/hotscript/internal/meter"
	"github.com/tetratelabs/wazero"
)

// Limits bound what one script may use. The zero value of each field means no
// limit. Limits apply per script: each script's own limits (ModuleOptions) or
// else the runtime's, and one script hitting a limit does not affect another.
//
//   - MaxMemoryBytes caps the script's linear memory. Loading a module whose
//     declared initial memory is larger fails with ErrMemoryLimit; past the cap,
//     memory.grow returns -1 to the guest, as the WebAssembly specification
//     allows, and a call that then traps (as a guest allocator does when it runs
//     out) fails with ErrMemoryLimit. It is exact, and costs a call about
//     2 ns (resetting what tells a trap after a refused growth from another).
//     The script's tables are held to the same cap on their own, at 8 bytes
//     per element, and to 2^27 elements (1 GiB) together with the cap or
//     without it: a module whose tables start larger fails with
//     ErrMemoryLimit, and each table's maximum is lowered to its minimum plus
//     an equal share of the rest, so table.grow past it returns -1. (A table
//     declared without a maximum could otherwise grow to 2^32 elements, 32
//     GiB, in one instruction, an allocation whose failure ends the process.)
//   - MaxInstructions caps the fuel one call may use: one unit per WebAssembly
//     instruction executed, except block, loop, else and end, which cost
//     nothing, plus one unit per 64 bytes that memory.copy, memory.fill and
//     memory.init move (and per 64 elements for their table forms and for
//     table.grow). The count is
//     deterministic: the same module, state, arguments and budget use the same
//     fuel and stop at the same place on every run and machine. A call that
//     uses more fails with ErrInstructionLimit, whether the guest was stopped at
//     a check (every function entry and loop header; the header of a small
//     unrolled loop checks once per up to 8 iterations; each bulk instruction,
//     before it runs, so a memory.fill that would break the budget fails
//     unrun) or finished its last straight-line stretch over budget.
//   - MaxExecutionTime caps the wall-clock time of one call. The call's clock
//     starts at the first host function call or the first time a slice of
//     65,536 units of fuel runs out (or a bulk instruction's charge runs it
//     out), not when the call begins: a call too short to reach either never
//     reads the clock, and the up to 65,536 units before it are not timed.
//     From then on the clock is read each time a slice runs
//     out (tens of microseconds of guest code) and each time a host function
//     returns, so a call stops with ErrTimeout within a fraction of a
//     millisecond of its deadline (BenchmarkTimeoutOverrun measures it), or as
//     soon as the host function running at the deadline returns. Time spent in
//     host functions counts, but a host function is not interrupted, and
//     neither is wazero growing its call stack in deep recursion (copying up to
//     hundreds of MiB), which can overrun the deadline by tens of milliseconds
//     (endless recursion under a 50 ms limit stopped 9 to 107 ms late on a
//     loaded 2-core machine), nor a
//     bulk instruction: a memory.fill or memory.copy over a large memory runs
//     to its end (tens of milliseconds per 100 MiB), so its time can add to the
//     overrun. MaxMemoryBytes bounds that too. Nor is the reading of a (ptr,
//     len) result, which the runtime checks (valid JSON) and copies once the
//     guest has returned it: up to about 8 ms per MiB, for a document of small
//     numbers (less for other JSON), on this 2-core VM. The limit bounds the
//     guest's code, not the size of what it returns: the state a migration
//     carries (get_state) is read whatever its size, under a limit of a
//     millisecond as well; MaxMemoryBytes bounds it. Reading
//     the clock costs a time-limited script about 50 ns per host function call
//     (BenchmarkHostCall).
//
// A CallJSON with a JSON argument counts alloc and the call together as one
// call. The free that follows is the runtime's bookkeeping and runs on a
// budget of its own: in a metered script, up to 2^20 units of fuel (a
// millisecond or so) and MaxExecutionTime from its start, whatever the call
// used, and even after the call was stopped by a limit or by ctx, which does
// not stop it; its fuel counts neither in Usage nor against MaxInstructions.
// A free that runs past that budget fails the call (returned with the
// function's result, if it returned).
//
// A script with MaxInstructions or MaxExecutionTime is metered: the runtime
// rewrites its module before compiling it (internal/meter) so that the guest
// counts its own fuel in a register and calls out to the runtime only when a
// slice runs out. What that costs: a subtraction, a compare and a branch per
// loop iteration and function entry, which is a few percent of a loop doing
// real work; the tightest loops (a sum of integers, six machine instructions
// per iteration) have their body copied up to 8 times and pay the check once
// per copies, running 0.6 to 1.3 times as long as unmetered; 30 to 45 ns per
// call, for the fuel bookkeeping; and instrumenting takes 60 to 90 ms per MB of
// module, about as long as compiling it, when a version is first loaded (bytes
// seen before reuse their instrumented, compiled code). A module the
// instrumenter cannot handle (an unknown opcode, or exception handling) fails to
// load with ErrCompile naming the function and the reason; it is never run
// unmetered. Only a metered script's calls watch ctx: one whose ctx is done
// does not start, and one under way stops with ctx's error when it is
// cancelled, checked as often as the clock and before each host function call. Runtime.Usage reports the fuel a metered script's calls use. An unmetered script's code cannot be stopped at all: a
// start function or call that never returns keeps its goroutine (and, for a
// call, the script) forever; worse, compiled code is not preempted, so the
// next garbage collection, which stops every goroutine first, waits for it
// forever too: the whole program stops. Give scripts a MaxExecutionTime
// wherever an edit could loop (package lua, which can stop Lua code cheaply, bounds
// chunks and reload hooks even without one).
//
// After a call stopped by a limit (or a trap) the script keeps working: the
// next call runs normally. The guest's own state is what the interrupted call
// left behind: globals and memory it wrote before it was stopped keep their
// values, so a data structure it was halfway through updating stays half
// updated. A script whose state must stay consistent can be reloaded, or can
// export a function that repairs or resets it.
//
// Deep recursion always stops, with ErrStackOverflow, when wazero's call stack
// reaches its ceiling (about 400 MiB, allocated on the way, outside
// MaxMemoryBytes); a metered script with a budget usually runs out of fuel
// first. A call stack that grew past 1 MiB is let go when the call ends, so
// that a function called deep again grows a new one.
type Limits struct {
	MaxMemoryBytes   uint64        // the most a script's memory (and tables) may grow to; 0: no limit
	MaxInstructions  uint64        // per call, in the instrumentation's units (above); 0: no limit
	MaxExecutionTime time.Duration // per call, from its start; 0: no limit
}

func (l Limits) validate() error {
	if l.MaxExecutionTime < 0 {
		return fmt.Errorf("negative MaxExecutionTime %v", l.MaxExecutionTime)
	}
	return nil
}

// metered reports whether scripts with these limits run instrumented code.
func (l Limits) metered() bool { return l.MaxInstructions > 0 || l.MaxExecutionTime > 0 }

const (
	refuelName = meter.ImportName
	fuelGlobal = meter.FuelExport
	// fuelSlice is the fuel granted at a time: the guest calls refuel, which
	// reads the clock and ctx, once per slice.
	fuelSlice = 1 << 16
	// freeBudget is the fuel CallJSON's free may use after a call, on a
	// budget of its own (see freeDoc).
	freeBudget = 1 << 20
	// maxBudget keeps the guest's arithmetic on the fuel global from
	// overflowing, as internal/meter asks.
	maxBudget = 1 << 62
)

// instrument rewrites a module to count its fuel, for a metered script.
func instrument(b []byte) ([]byte, *meter.Info, error) {
	out, info, err := meter.Instrument(b)
	if err != nil {
		return nil, nil, fmt.Errorf("instrumenting for MaxInstructions or MaxExecutionTime: %w", meterCause(err))
	}
	return out, &info, nil
}

// meteredFrames tells the frames of instrumented code from the user's.
func meteredFrames(n *frameNames, mi *meter.Info) {
	n.metered, n.refuel = true, mi.RefuelFunc
}

// explainCompile turns a compile error of instrumented bytes into one about the
// module the user gave: wazero's messages name functions by index, which the
// instrumentation shifts. It runs on the failure path only, and compiles in a
// runtime of its own so that no compiled code is shared with the live ones.
func explainCompile(ctx context.Context, original []byte, err error) error {
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	if _, origErr := r.CompileModule(ctx, original); origErr != nil {
		return origErr
	}
	return fmt.Errorf("the instrumented module does not compile (a bug in internal/meter): %w", err)
}

// Usage is what a metered script's calls have used so far, to tune
// MaxInstructions. A call's fuel is counted as Limits describes; for a call
// that trapped it is a lower bound (the guest had not yet reported the fuel of
// its last stretch). Fuel used in a migrate function counts, that of start
// functions does not.
type Usage struct {
	Metered   bool   // the script has MaxInstructions or MaxExecutionTime; otherwise the rest is zero
	Calls     uint64 // calls counted, including those that failed
	LastFuel  uint64 // fuel used by the call that finished last
	MaxFuel   uint64 // the most fuel one call used
	TotalFuel uint64 // fuel used by all calls, across reloads
}

// Usage reports the fuel a script's calls have used since it was loaded. It
// waits for a call in progress on the script to return (calls to one script
// are serialized, which is also what keeps the counts free of atomics on the
// call path); asked about its own script by a host function, with the context
// the host function received, it fails with ErrReentrant instead. Safe for
// concurrent use.
func (rt *Runtime) Usage(ctx context.Context, id ScriptID) (Usage, error) {
	s, err := rt.script(id)
	if err != nil {
		return Usage{}, rt.unknown("usage", "", id, err)
	}
	inst, err := s.acquire(ctx, "usage", "")
	if err != nil {
		return Usage{}, err
	}
	u := s.usage
	inst.mu.Unlock()
	return Usage{Metered: s.limits.metered(), Calls: u.calls, LastFuel: u.last, MaxFuel: u.max, TotalFuel: u.total}, nil
}

// usage is a script's Usage, written by its calls, which are serialized: a
// call holds the live instance's mutex, and a commit moves the script to a new
// instance while holding the old one's.
type usage struct {
	calls, last, max, total uint64
}

func (u *usage) add(fuel uint64) {
	u.calls++
	u.last = fuel
	u.total += fuel
	u.max = max(u.max, fuel)
}

// tableElemBytes is what MaxMemoryBytes counts per table element: wazero keeps
// each as a pointer.
const tableElemBytes = 8

// maxTables is the most elements a script's tables may hold together, limits
// or not: 2^27 (1 GiB of pointers, the most wazero lets one table declare).
// A table declared without a maximum could otherwise grow to 2^32 elements,
// 32 GiB, in one table.grow, an allocation whose failure Go cannot recover
// from: it would end the process.
const maxTables = 1 << 27

// maxTableElems is the most elements a script's tables may hold together:
// what MaxMemoryBytes allows at tableElemBytes each, and at most maxTables.
func (l Limits) maxTableElems() uint64 {
	if l.MaxMemoryBytes > 0 {
		return min(l.MaxMemoryBytes/tableElemBytes, maxTables)
	}
	return maxTables
}

// checkMemory refuses a module whose initial memory is over the cap; its
// error goes with the Kind ErrMemoryLimit.
func checkMemory(lim Limits, scan *moduleScan) error {
	if lim.MaxMemoryBytes == 0 || scan.memory == nil {
		return nil
	}
	if need := uint64(scan.memory.Min) * 65536; need > lim.MaxMemoryBytes {
		return fmt.Errorf("initial memory of %d bytes, limit %d", need, lim.MaxMemoryBytes)
	}
	return nil
}

// cappedMemory backs a linear memory that may not grow past limit bytes. wazero
// calls Reallocate for the initial size and on every memory.grow; returning nil
// makes memory.grow return -1. This, rather than lowering the declared maximum
// in the module, is how MaxMemoryBytes caps linear memory: it keeps the memory
// section as the module declares it (only tables are capped by rewriting, see
// meter.CapTables), and it tells a trap after a refused growth from any other.
type cappedMemory struct {
	limit     uint64
	buf       []byte
	allocated bool // the initial size, which checkMemory vetted, was allocated
	refused   bool // a grow was refused during the current call
}

func (m *cappedMemory) Reallocate(size uint64) []byte {
	if size > m.limit && m.allocated {
		m.refused = true
		return nil
	}
	m.allocated = true
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size] // memory never shrinks, so the bytes past len are still zero
		return m.buf
	}
	m.buf = append(m.buf[:cap(m.buf)], make([]byte, size-uint64(cap(m.buf)))...)[:size]
	return m.buf
}

func (m *cappedMemory) Free() { m.buf = nil }
