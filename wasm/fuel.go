package wasm

// The limiter: what a metered script's instruction and time limits cost at
// each call and host-function call, and the fuel a metered module reads.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/hotscript/hotscript/internal/monoclock"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// limiter holds an instance's limits and the state of the call in progress. Only
// the goroutine holding the instance's mutex uses it; refuel reaches it through
// the calling module.
type limiter struct {
	lim    Limits
	budget int64             // MaxInstructions, at most maxBudget; 0 without one
	mem    *cappedMemory     // nil without MaxMemoryBytes
	fuel   api.MutableGlobal // metered instances only; nil until instantiated
	usage  *usage
	closed *atomic.Bool // the runtime's: Close stops a metered call at its next check

	first    int64         // the first slice of a call: slice(0)
	granted  int64         // fuel put into the global during this call: used = granted - global
	used     int64         // the fuel the last call used, once end has run
	left     int64         // the global between calls, a valid first slice: 0 <= left <= first
	clock    bool          // the call's clock has started: deadline is set
	deadline time.Duration // the call's deadline once its clock has started, as a monoclock.Now value
}

// newInstanceLimited returns a new instance whose limiter, if any, is allocated
// with it, next to the fields a call reads. An instance of a script without
// limits has a nil limiter, which is what keeps the call path free of limit
// code for it.
func newInstanceLimited(lim Limits, u *usage, closed *atomic.Bool) *instance {
	if lim == (Limits{}) {
		return &instance{}
	}
	both := &struct {
		inst instance
		lim  limiter
	}{}
	l := &both.lim
	*l = limiter{lim: lim, budget: int64(min(lim.MaxInstructions, maxBudget)), usage: u, closed: closed}
	l.first = l.slice(0)
	if lim.MaxMemoryBytes > 0 {
		l.mem = &cappedMemory{limit: lim.MaxMemoryBytes}
	}
	both.inst.lim = l
	return &both.inst
}

// instantiateContext adds the memory cap to the context wazero instantiates with.
// Without a cap it hides the cap of the instance whose start function is running,
// if any: a host function it calls gets that context, and a module it loads or
// reloads with it would otherwise be given the other instance's memory.
func (l *limiter) instantiateContext(ctx context.Context) context.Context {
	if l == nil || l.mem == nil {
		return uncapped{ctx}
	}
	return experimental.WithMemoryAllocator(ctx, capAllocator{l.mem})
}

// capAllocator gives wazero an instance's capped memory.
type capAllocator struct{ mem *cappedMemory }

func (a capAllocator) Allocate(_, _ uint64) experimental.LinearMemory { return a.mem }

// uncapped is a context without the capAllocator of any instance (a memory
// allocator of the program's own stays).
type uncapped struct{ context.Context }

func (c uncapped) Value(key any) any {
	v := c.Context.Value(key)
	if _, ours := v.(capAllocator); ours {
		return nil
	}
	return v
}

// begin starts the budget of one call; end must follow. A call starts with
// the fuel the last one left in the global, which end made a valid first slice,
// which saves writing the global on most calls: what a call may use, and where
// it stops, depends only on its budget, not on how the fuel is sliced.
func (l *limiter) begin() {
	if l.mem != nil {
		l.mem.refused = false
	}
	l.clock = false
	l.granted = l.left // before instantiation both are zero: the first check calls refuel
}

// end finishes a call begun by begin: it counts the fuel the call used and
// reports whether the call completed over its instruction budget. Without a
// fuel global (a script with only MaxMemoryBytes) it has nothing to count.
func (l *limiter) end(count bool) (over bool) {
	return l.fuel != nil && l.count(count)
}

// count is end for a metered instance.
func (l *limiter) count(count bool) (over bool) {
	left := int64(l.fuel.Get())
	l.used = l.granted - left
	if count {
		l.usage.add(uint64(max(l.used, 0)))
	}
	l.settle(left)
	return l.budget > 0 && l.used > l.budget
}

// settle leaves the global, which holds left, ready to start the next call: as
// it is when 0 <= left <= first, the usual case, or else set to first.
func (l *limiter) settle(left int64) {
	if uint64(left) > uint64(l.first) {
		left = l.first
		l.fuel.Set(uint64(left))
	}
	l.left = left
}

// aside sets the budget of the call in progress aside for bookkeeping that
// runs after it (CallJSON's free), with a budget of n units and a clock of its
// own, and returns what resume needs to go on with the call's: the fuel the
// call used and its budget.
func (l *limiter) aside(n int64) (used, budget int64) {
	used, budget = l.granted-int64(l.fuel.Get()), l.budget
	next := min(n, fuelSlice)
	l.budget, l.granted, l.clock = n, next, false
	l.fuel.Set(uint64(next))
	return used, budget
}

// resume ends the bookkeeping aside began: the call's count goes on from
// used, without the fuel the bookkeeping used.
func (l *limiter) resume(used, budget int64) {
	l.budget = budget
	l.granted = used + int64(l.fuel.Get())
}

// overBudget describes the budget a call that end found over it exceeded.
func (l *limiter) overBudget() error {
	return &limitHit{ErrInstructionLimit, fmt.Sprintf("used %d, limit %d", l.used, l.budget)}
}

// slice is the fuel to grant next, given the fuel used so far.
func (l *limiter) slice(used int64) int64 {
	if l.budget > 0 {
		return max(min(l.budget-used, fuelSlice), 0)
	}
	return fuelSlice
}

// interrupt reports why a metered call must stop now: the runtime is closing,
// it is past its deadline or ctx is done. The first check of a call starts its
// clock (see Limits for why lazily). refuel runs it once per slice, and a host
// function call after the host function returns, which is when the time it
// took counts.
func (l *limiter) interrupt(ctx context.Context) error {
	if l.closed.Load() {
		return ErrClosed
	}
	if l.lim.MaxExecutionTime > 0 {
		now := monoclock.Now()
		if !l.clock {
			// saturated: a limit near math.MaxInt64 means none, not a deadline past
			l.clock, l.deadline = true, now+min(l.lim.MaxExecutionTime, math.MaxInt64-now)
		} else if now >= l.deadline {
			return &limitHit{ErrTimeout, fmt.Sprintf("limit %v, over by %v", l.lim.MaxExecutionTime, roughly(now-l.deadline))}
		}
	}
	return ctx.Err()
}

// beforeHost checks ctx before a host function runs, so that a cancelled
// call does not start one that may block, and starts the call's clock. Once
// started, the clock was read at most a slice of guest code ago, and is read
// again after the host function (interrupt): reading it here too would double
// what the check costs a host call.
func (l *limiter) beforeHost(ctx context.Context) error {
	if l.clock {
		return ctx.Err()
	}
	return l.interrupt(ctx)
}

// refuel runs when the guest's fuel is below zero: it stops the call if it is
// over budget, past its deadline or cancelled, and otherwise grants the next
// slice. The global then holds the negative fuel left, already charged for the
// code the guest is about to run, so used = granted - global counts it.
func (l *limiter) refuel(ctx context.Context, fuel api.MutableGlobal) error {
	if l.fuel == nil { // a start function runs before the instance is set up
		l.fuel = fuel
	}
	used := l.granted - int64(fuel.Get())
	if l.budget > 0 && used > l.budget {
		return &limitHit{ErrInstructionLimit, fmt.Sprintf("used %d, limit %d", used, l.budget)}
	}
	if err := l.interrupt(ctx); err != nil {
		return err
	}
	next := l.slice(used)
	l.granted = used + next
	fuel.Set(uint64(next))
	return nil
}

// refine reports a trap that followed a refused memory.grow as ErrMemoryLimit:
// kind and why are the kind and cause classify gave err, the call's error (nil
// for one the caller made). A host function's failure stays a trap (Kind
// ErrTrap: the guest may have handled the refusal, and the host function
// failed for a reason of its own, helper-195), whose cause says that a growth
// was refused and matches ErrMemoryLimit (an allocator that calls an imported
// abort when memory.grow fails, as AssemblyScript's and Emscripten's do,
// helper-196). A nil limiter (a script without limits) keeps both.
func (l *limiter) refine(kind, why, err error) (error, error) {
	if kind != ErrTrap || l == nil || l.mem == nil || !l.mem.refused {
		return kind, why
	}
	if hostFailed(err) {
		return kind, &kindCause{kind: ErrMemoryLimit, err: why, after: true}
	}
	return ErrMemoryLimit, why
}

// setupFuel binds a metered instance's fuel global after instantiation.
func setupFuel(inst *instance) error {
	g, ok := inst.mod.ExportedGlobal(fuelGlobal).(api.MutableGlobal)
	if !ok || g.Type() != api.ValueTypeI64 {
		return fmt.Errorf("the instrumented module does not export the mutable i64 global %q", fuelGlobal)
	}
	inst.lim.fuel = g
	inst.lim.settle(int64(g.Get()))
	return nil
}

// defineRefuel adds the hotscript host module, which serves refuel, to an engine.
func (rt *Runtime) defineRefuel(ctx context.Context, r wazero.Runtime) error {
	refuel := api.GoModuleFunc(func(ctx context.Context, mod api.Module, _ []uint64) {
		fuel, _ := mod.ExportedGlobal(fuelGlobal).(api.MutableGlobal)
		inst := rt.instanceOf(ctx, mod)
		if fuel == nil || inst == nil || inst.lim == nil {
			panic(&hostError{fn: reservedPrefix + refuelName, err: errors.New("called by a module the runtime did not meter")})
		}
		if err := inst.lim.refuel(ctx, fuel); err != nil {
			panic(&hostError{fn: reservedPrefix + refuelName, err: err, stop: true})
		}
	})
	_, err := r.NewHostModuleBuilder(reservedModule).
		NewFunctionBuilder().WithGoModuleFunction(refuel, nil, nil).Export(refuelName).
		Instantiate(ctx)
	return err
}

// roughly is d to three significant digits (75.6ms, not 75.584737ms), for
// errors a person reads.
func roughly(d time.Duration) time.Duration {
	unit := time.Duration(1)
	for d/unit >= 1000 {
		unit *= 10
	}
	return d.Round(unit)
}
