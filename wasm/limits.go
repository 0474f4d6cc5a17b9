package wasm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// Limits bound what one script may use. The zero value of each field means no
// limit, and a script without limits pays nothing for them on its calls.
//
// How each limit is enforced, and what hitting it does:
//
//   - MaxMemoryBytes caps the script's linear memory. Loading a module whose initial
//     memory is larger fails with ErrMemoryLimit; past the cap, memory.grow returns
//     -1 as the WebAssembly specification allows, and a call that then traps (as a
//     guest allocator does when it runs out) fails with ErrMemoryLimit. It is exact,
//     per script, and costs nothing until the guest grows its memory.
//   - MaxInstructions caps the work of one call, counted by the fuel that
//     instrumentation (internal/meter) charges per block of guest code. A module
//     without that instrumentation cannot be held to it, so loading one with this
//     limit set fails with errors.ErrUnsupported. A call over budget fails with
//     ErrInstructionLimit and the module keeps its state.
//   - MaxExecutionTime caps the wall-clock time of one call (for CallJSON with a
//     JSON argument, the allocation, the call and the free together). In an
//     instrumented module it is checked each time fuel runs out, and a call over
//     time fails with ErrTimeout while the module keeps its state. A module without
//     instrumentation is compiled with wazero's context-done checks instead, which
//     cost microseconds per call (wazero starts a goroutine for each) and make
//     loops tens of times slower; and wazero stops a late call by closing the
//     module, so after an ErrTimeout the runtime replaces it with a fresh instance
//     of the same code: the script keeps answering, with its state reset as after
//     a reload. The ctx given to a call on such a script interrupts it in the same
//     way.
//
// Without MaxExecutionTime, ctx does not interrupt a call, and a guest that loops
// forever with no MaxInstructions budget never returns. Deep recursion always
// stops, with ErrStackOverflow, when wazero's call stack reaches its ceiling (about
// 400 MiB, allocated on the way).
type Limits struct {
	MaxMemoryBytes   uint64
	MaxInstructions  uint64
	MaxExecutionTime time.Duration
}

func (l Limits) validate() error {
	if l.MaxExecutionTime < 0 {
		return fmt.Errorf("negative MaxExecutionTime %v", l.MaxExecutionTime)
	}
	return nil
}

// guarded reports whether a module must be compiled with wazero's interruption
// checks: it has a time limit and no fuel to check it with.
func (l Limits) guarded(metered bool) bool { return l.MaxExecutionTime > 0 && !metered }

// The fuel protocol internal/meter's instrumentation speaks: the module imports
// hotscript.refuel ([] -> []) and exports the mutable i64 global hotscript.fuel,
// which it decrements as it runs, calling refuel when it drops below zero.
const (
	refuelName   = "refuel"
	fuelGlobal   = reservedPrefix + "fuel"
	fuelInterval = 1 << 16 // fuel granted per refuel under a limit: time is checked this often
	fuelForever  = math.MaxInt64
)

// limiter holds an instance's limits and the state of the call in progress. Only the
// goroutine holding the instance's mutex uses it; refuel reaches it through the
// calling module.
type limiter struct {
	lim     Limits
	guarded bool
	mem     *cappedMemory     // nil without MaxMemoryBytes
	fuel    api.MutableGlobal // nil until instantiated, and for modules without fuel

	cancel    context.CancelFunc
	remaining uint64 // MaxInstructions left, not counting fuel already granted
	deadline  time.Time
}

// newLimiter returns nil when a script has no limits, which is what keeps the call
// path free of limit code for it.
func newLimiter(lim Limits, metered bool) *limiter {
	if lim == (Limits{}) {
		return nil
	}
	l := &limiter{lim: lim, guarded: lim.guarded(metered)}
	if lim.MaxMemoryBytes > 0 {
		l.mem = &cappedMemory{limit: lim.MaxMemoryBytes}
	}
	return l
}

// checkMemory refuses a module whose initial memory is over the cap.
func checkMemory(lim Limits, scan *moduleScan) error {
	if lim.MaxMemoryBytes == 0 || scan.memory == nil {
		return nil
	}
	if need := uint64(scan.memory.Min) * 65536; need > lim.MaxMemoryBytes {
		return fmt.Errorf("%w: initial memory of %d bytes, limit %d", ErrMemoryLimit, need, lim.MaxMemoryBytes)
	}
	return nil
}

// instantiateContext adds the memory cap to the context wazero instantiates with.
func (l *limiter) instantiateContext(ctx context.Context) context.Context {
	if l == nil || l.mem == nil {
		return ctx
	}
	return experimental.WithMemoryAllocator(ctx, experimental.MemoryAllocatorFunc(
		func(_, _ uint64) experimental.LinearMemory { return l.mem }))
}

// begin starts the budget of one call and returns the context to call with; end
// must follow.
func (l *limiter) begin(ctx context.Context) context.Context {
	if l.mem != nil {
		l.mem.refused = false
	}
	if l.guarded {
		ctx, l.cancel = context.WithTimeout(ctx, l.lim.MaxExecutionTime)
		return ctx
	}
	if l.lim.MaxExecutionTime > 0 {
		l.deadline = time.Now().Add(l.lim.MaxExecutionTime)
	}
	l.remaining = l.lim.MaxInstructions
	if l.fuel != nil {
		l.fuel.Set(uint64(l.grant()))
	}
	return ctx
}

func (l *limiter) end() {
	if l.cancel != nil {
		l.cancel()
		l.cancel = nil
	}
}

// grant takes the next slice of fuel out of the budget.
func (l *limiter) grant() int64 {
	switch {
	case l.lim.MaxInstructions > 0:
		g := min(l.remaining, fuelInterval)
		l.remaining -= g
		return int64(g)
	case l.lim.MaxExecutionTime > 0:
		return fuelInterval
	}
	return fuelForever
}

// refuel charges the fuel overdrawn since the last grant, checks the budget, the
// deadline and ctx, and grants more fuel or returns the limit that was hit.
func (l *limiter) refuel(ctx context.Context, fuel api.MutableGlobal) error {
	if l.fuel == nil { // the start function runs before the instance is set up
		l.fuel = fuel
	}
	if over := int64(fuel.Get()); over < 0 && l.lim.MaxInstructions > 0 {
		if uint64(-over) > l.remaining {
			return ErrInstructionLimit
		}
		l.remaining -= uint64(-over)
	}
	if l.lim.MaxExecutionTime > 0 && time.Now().After(l.deadline) {
		return ErrTimeout
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	fuel.Set(uint64(l.grant()))
	return nil
}

// refine reports a trap that followed a refused memory.grow as ErrMemoryLimit.
func (l *limiter) refine(kind error) error {
	if kind == ErrTrap && l.mem != nil && l.mem.refused {
		return ErrMemoryLimit
	}
	return kind
}

// setupFuel binds a metered instance's fuel global after instantiation. Without an
// instruction or time limit the module gets fuel that never runs out.
func setupFuel(inst *instance) error {
	g, ok := inst.mod.ExportedGlobal(fuelGlobal).(api.MutableGlobal)
	if !ok || g.Type() != api.ValueTypeI64 {
		return fmt.Errorf("imports %s.%s but does not export the mutable i64 global %q", reservedModule, refuelName, fuelGlobal)
	}
	if inst.lim == nil {
		g.Set(fuelForever)
		return nil
	}
	inst.lim.fuel = g
	return nil
}

// defineRefuel adds the hotscript host module, which serves refuel, to an engine.
func (rt *Runtime) defineRefuel(ctx context.Context, r wazero.Runtime) error {
	refuel := api.GoModuleFunc(func(ctx context.Context, mod api.Module, _ []uint64) {
		fuel, _ := mod.ExportedGlobal(fuelGlobal).(api.MutableGlobal)
		if fuel == nil {
			panic(&hostError{fn: reservedPrefix + refuelName, err: errors.New("no fuel global")})
		}
		inst := rt.instanceOf(ctx, mod)
		if inst == nil || inst.lim == nil {
			fuel.Set(fuelForever)
			return
		}
		if err := inst.lim.refuel(ctx, fuel); err != nil {
			panic(&hostError{fn: reservedPrefix + refuelName, err: err})
		}
	})
	_, err := r.NewHostModuleBuilder(reservedModule).
		NewFunctionBuilder().WithGoModuleFunction(refuel, nil, nil).Export(refuelName).
		Instantiate(ctx)
	return err
}

// restartIfClosed replaces an instance that wazero closed to stop a guarded call (a
// timeout or a cancelled context) with a fresh instance of the same code, so the
// script keeps answering, with its state reset. The caller holds inst.mu and inst
// is the script's live instance. If the fresh instance cannot be made, the closed
// one stays and calls fail until a reload.
func (inst *instance) restartIfClosed(ctx context.Context) {
	if inst.lim == nil || !inst.lim.guarded || inst.retired || !inst.mod.IsClosed() {
		return
	}
	s := inst.s
	ctx = context.WithoutCancel(ctx)
	fresh, err := s.rt.instantiate(ctx, "restart", s, s.rt.cache.retain(inst.code))
	if err != nil {
		return
	}
	if !s.cur.CompareAndSwap(inst, fresh) {
		fresh.close(ctx)
		return
	}
	inst.retired = true
	inst.close(ctx)
}

// cappedMemory backs a linear memory that may not grow past limit bytes. wazero
// calls Reallocate for the initial size and on every memory.grow; returning nil
// makes memory.grow return -1.
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
