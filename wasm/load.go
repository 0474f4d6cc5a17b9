package wasm

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/hotscript/hotscript/internal/ctxlock"
	"github.com/hotscript/hotscript/internal/meter"
	"github.com/hotscript/hotscript/internal/reentry"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// ScriptID identifies a loaded script. It stays the same across reloads and is never
// reused after Unload.
type ScriptID uint64

// ModuleOptions configures one script. A nil *ModuleOptions means the defaults.
type ModuleOptions struct {
	// Limits, when not nil, replaces the runtime's limits for this script as a
	// whole: a zero field means no limit, not the runtime's value. Reloads keep it.
	Limits *Limits
}

// script is a loaded script: a stable identity over a sequence of instances.
type script struct {
	rt     *Runtime
	id     ScriptID
	name   string
	limits Limits
	usage  usage
	cur    atomic.Pointer[instance] // nil once unloaded or closed
	swap   ctxlock.Mutex            // serializes commits, unload and close
	// next is the instance a commit is migrating into while it holds cur
	// locked, for acquire to recognize its host functions too; nil otherwise.
	next atomic.Pointer[instance]
}

// instance is one instantiation of a script's module. Calls hold mu, which is what
// makes a module (not goroutine-safe in wazero) usable from many goroutines, and
// what a swap takes to retire it.
type instance struct {
	mu      ctxlock.Mutex
	retired bool // no longer the script's live instance; guarded by mu

	s          *script
	code       *code
	mod        api.Module
	exports    map[string]*export
	last       *export // the export callJSON looked up last
	alloc      *export // alloc(i32) i32, if exported
	free       *export // free(i32, i32), if exported
	stack      []uint64
	aux        [2]uint64 // stack for alloc and free
	block      []byte    // the block small results are carved from (see keep)
	knownValid [2][]byte // the last argument and result found valid (see validDoc)
	caller     Caller
	guard      reentry.Guard // marks host functions' contexts (see acquire)
	lim        *limiter      // nil without limits
	// sp is the module's C stack pointer, if it has one, and spAtRest its
	// value between calls, read as the instance started (see resetStack).
	sp       api.MutableGlobal
	spAtRest uint64
}

// export is an exported function of one instance.
type export struct {
	sig *funcSig
	fn  api.Function // created on first call: each costs a 10 KiB stack in wazero
	// stack is fn's call stack in wazero, as a []byte whatever its elements
	// (see engineStack), and maxStack the most elements it may keep between
	// calls (see settle).
	stack    *[]byte
	maxStack int
	// host is fn for an exported host function (sig.host), which is called
	// with the instance in its ctx: fn stays nil to keep it off a Func's
	// direct path.
	host api.Function
}

// LoadModule loads an unnamed script, named "module#<id>" in errors, with the
// runtime's limits. See Load. Safe for concurrent use.
func (rt *Runtime) LoadModule(ctx context.Context, wasmBytes []byte) (ScriptID, error) {
	return rt.Load(ctx, "", wasmBytes, nil)
}

// Load compiles and instantiates a module as a new script called name (used in
// errors and passed to host functions; names need not be unique). The module's
// exported _initialize function, if any, runs once, after its start function;
// without one, an exported __wasm_call_ctors (a C module's constructors, as
// watch.DefaultBuildSteps exports them) runs in its place. Neither runs if the
// module runs it itself: it is the start function, or a function of the
// module calls it directly.
// Errors match ErrCompile, ErrInstantiate (an import the runtime does not define,
// or a start function that trapped), ErrLimit or ErrClosed. Safe for concurrent use.
func (rt *Runtime) Load(ctx context.Context, name string, wasmBytes []byte, opts *ModuleOptions) (ScriptID, error) {
	lim := rt.limits
	if opts != nil && opts.Limits != nil {
		lim = *opts.Limits
	}
	id := ScriptID(rt.nextID.Add(1))
	if name == "" {
		name = "module#" + strconv.FormatUint(uint64(id), 10)
	}
	s := &script{rt: rt, id: id, name: name, limits: lim}
	if err := lim.validate(); err != nil {
		return 0, &Error{Op: "load", Script: name, Kind: ErrLimit, Err: err}
	}
	inst, err := rt.newInstance(ctx, "load", s, wasmBytes)
	if err != nil {
		return 0, err
	}
	s.cur.Store(inst)
	if err := rt.publish(s); err != nil {
		inst.close(ctx)
		return 0, &Error{Op: "load", Script: name, Kind: err}
	}
	return id, nil
}

// Reentered reports whether ctx comes from a host function that script id is
// running (in its live instance, or the one a commit is migrating into): work
// on the script that waits for its calls to end, such as a reload committed
// while the caller waits, would wait for itself. It is false for an id the
// runtime does not have. Safe for concurrent use.
func (rt *Runtime) Reentered(ctx context.Context, id ScriptID) bool {
	s, err := rt.script(id)
	return err == nil && s.reentered(ctx)
}

// Unload closes a script; its ID is not found afterwards. Calls in progress finish
// first. Safe for concurrent use.
func (rt *Runtime) Unload(ctx context.Context, id ScriptID) error {
	s, err := rt.script(id)
	if err != nil {
		return rt.unknown("unload", "", id, err)
	}
	inst, err := s.retire(ctx, "unload")
	if err != nil {
		return err
	}
	rt.unpublish(id)
	rt.unloaded.Add(uint64(id), s.name)
	inst.close(ctx)
	return nil
}

// Exports lists the functions the script's live module exports, sorted by name.
// Safe for concurrent use.
func (rt *Runtime) Exports(id ScriptID) ([]FuncInfo, error) {
	c, err := rt.liveCode(id, "exports")
	if err != nil {
		return nil, err
	}
	return cloneInfos(c.info.Exports), nil
}

// Imports lists the functions the script's live module imports. Safe for
// concurrent use.
func (rt *Runtime) Imports(id ScriptID) ([]FuncInfo, error) {
	c, err := rt.liveCode(id, "imports")
	if err != nil {
		return nil, err
	}
	return cloneInfos(c.info.Imports), nil
}

func (rt *Runtime) liveCode(id ScriptID, op string) (*code, error) {
	s, err := rt.script(id)
	if err != nil {
		return nil, rt.unknown(op, "", id, err)
	}
	inst := s.cur.Load()
	if inst == nil {
		return nil, &Error{Op: op, Script: s.name, Kind: s.gone()}
	}
	return inst.code, nil
}

func idName(id ScriptID) string { return "script " + strconv.FormatUint(uint64(id), 10) }

// unknown is the error of op (on function fn, if any) on id, which the runtime
// does not have (err, from script): named by the script's name if it was
// unloaded not long ago (see idtable.Names), else by its number.
func (rt *Runtime) unknown(op, fn string, id ScriptID, err error) *Error {
	if name, ok := rt.unloaded.Get(uint64(id)); ok && err == ErrNotFound {
		return &Error{Op: op, Script: name, Func: fn, Kind: err, Err: errUnloaded}
	}
	return &Error{Op: op, Script: idName(id), Func: fn, Kind: err}
}

// errUnloaded says why a script that was loaded is not found.
var errUnloaded = errors.New("unloaded")

// newInstance checks the module's counts and locals (scanModule: no bytes
// reach wazero unchecked), caps the tables (maxTableElems),
// instruments (for a metered script), compiles (or reuses) and instantiates a
// module for script s.
func (rt *Runtime) newInstance(ctx context.Context, op string, s *script, b []byte) (*instance, error) {
	fail := func(kind, err error) (*instance, error) {
		return nil, &Error{Op: op, Script: s.name, Kind: kind, Err: err}
	}
	scan, err := scanModule(b)
	if err != nil {
		return fail(ErrCompile, err)
	}
	if err := scan.reserved(); err != nil {
		return fail(ErrInstantiate, err)
	}
	if b, err = meter.CapTables(b, s.limits.maxTableElems()); errors.Is(err, meter.ErrMemoryTooLarge) {
		return fail(ErrMemoryLimit, meterCause(err))
	} else if err != nil {
		return fail(ErrCompile, meterCause(err))
	}
	eng, err := rt.enter()
	if errors.Is(err, ErrClosed) {
		return fail(ErrClosed, nil)
	} else if err != nil {
		return fail(ErrInstantiate, err)
	}
	defer rt.busy.Done()
	c, err := rt.cache.acquire(ctx, eng, b, s.limits.metered())
	switch {
	case errors.Is(err, ErrClosed):
		return fail(ErrClosed, nil)
	case err != nil && err == ctx.Err(): // ended while another load compiled the same bytes
		return fail(nil, err)
	case err != nil:
		return fail(ErrCompile, err)
	}
	inst, err := rt.instantiate(ctx, op, s, c)
	if err == nil && rt.closed.Load() { // Close came while the start functions ran
		inst.close(ctx)
		return fail(ErrClosed, nil)
	}
	return inst, err
}

// instantiate makes an instance of compiled code, taking over the caller's
// reference to it.
func (rt *Runtime) instantiate(ctx context.Context, op string, s *script, c *code) (*instance, error) {
	fail := func(kind, err error, trace []string) (*instance, error) {
		rt.cache.release(c)
		return nil, &Error{Op: op, Script: s.name, Kind: kind, Err: err, Trace: trace}
	}
	if err := rt.link(c); err != nil {
		return fail(ErrInstantiate, err, nil)
	}
	if err := checkMemory(s.limits, c.scan); err != nil {
		return fail(ErrMemoryLimit, err, nil)
	}
	inst := newInstanceLimited(s.limits, &s.usage, &s.rt.closed)
	inst.s, inst.code = s, c
	inst.caller.inst = inst

	ictx := context.WithValue(inst.lim.instantiateContext(ctx), callerKey{}, inst)
	if inst.lim != nil {
		inst.lim.begin() // start functions run under the limits of a call
	}
	mod, err := c.eng.rt.InstantiateModule(ictx, c.compiled,
		wazero.NewModuleConfig().WithName("").WithStartFunctions(c.starts...))
	if err == nil && inst.lim != nil && inst.lim.end(false) { // the start functions finished over budget
		_ = mod.Close(ctx)
		return fail(ErrInstantiate, &kindCause{kind: ErrInstructionLimit, err: inst.lim.overBudget()}, nil)
	}
	if err != nil {
		kind, why, trace := classify(err)
		if kind, why = inst.lim.refine(kind, why, err); kind != ErrTrap && kind != nil {
			why = &kindCause{kind: kind, err: why}
		}
		return fail(ErrInstantiate, why, c.frames.rewrite(trace))
	}
	inst.mod = mod
	if inst.lim != nil && c.scan.metered() {
		if err := setupFuel(inst); err != nil {
			_ = mod.Close(ctx)
			return fail(ErrInstantiate, err, nil)
		}
	}
	inst.exports = make(map[string]*export, len(c.funcs))
	for name, sig := range c.funcs {
		inst.exports[name] = &export{sig: sig, stack: &noStack}
	}
	inst.alloc = inst.exportWith("alloc", FuncInfo{Params: []ValueType{I32}, Results: []ValueType{I32}})
	inst.free = inst.exportWith("free", FuncInfo{Params: []ValueType{I32, I32}})
	inst.stack = make([]uint64, c.maxStack)
	if sp, ok := mod.ExportedGlobal(meter.StackPointerExport).(api.MutableGlobal); ok {
		inst.sp, inst.spAtRest = sp, sp.Get()
	}
	rt.live.Store(mod, inst)
	return inst, nil
}

func (inst *instance) exportWith(name string, sig FuncInfo) *export {
	if e := inst.exports[name]; e != nil && e.sig.info.sameSignature(sig) {
		return e
	}
	return nil
}

// link checks that every import of c is a function the runtime defines, with the
// same signature, so a module that would fail to link is refused with a clear
// message before anything is instantiated.
func (rt *Runtime) link(c *code) error {
	for _, imp := range c.scan.imports {
		if imp.Kind != meter.KindFunc {
			return fmt.Errorf("imports the %v %s.%s: the runtime provides only functions", imp.Kind, imp.Module, imp.Name)
		}
	}
	for _, f := range c.imports {
		def, ok := rt.linked[importName{f.Module, f.Name}]
		switch {
		case !ok:
			return fmt.Errorf("missing host function %s.%s, imported as %s", f.Module, f.Name, f)
		case !def.sameSignature(f):
			return fmt.Errorf("host function %s is imported as %s", def, f)
		}
	}
	return nil
}

// close releases an instance that is retired or was never live.
func (inst *instance) close(ctx context.Context) {
	rt := inst.s.rt
	rt.live.Delete(inst.mod)
	_ = inst.mod.Close(ctx)
	rt.cache.release(inst.code)
}

// acquire locks and returns the script's live instance for op (on function fn,
// if any), waiting for the call in progress on it until ctx ends, unless ctx
// comes from a host function that call is running: then waiting would never
// end, and acquire fails with ErrReentrant. Its errors are op's *Error, whose
// Err is ctx's error when ctx ended the wait.
func (s *script) acquire(ctx context.Context, op, fn string) (*instance, error) {
	if inst := s.cur.Load(); inst != nil && inst.mu.TryLock() {
		if !inst.retired {
			return inst, nil
		}
		inst.mu.Unlock()
	}
	return s.acquireSlow(ctx, op, fn)
}

// acquireSlow is acquire when the live instance is busy, changed or is gone.
func (s *script) acquireSlow(ctx context.Context, op, fn string) (*instance, error) {
	for {
		inst := s.cur.Load()
		if inst == nil {
			return nil, &Error{Op: op, Script: s.name, Func: fn, Kind: s.gone()}
		}
		if !inst.mu.TryLock() {
			if s.reentered(ctx) || reentry.Wait(ctx, s.guards(inst)) {
				return nil, &Error{Op: op, Script: s.name, Func: fn, Kind: ErrReentrant} // the wait would never end
			}
			err := inst.mu.Lock(ctx)
			reentry.Done(ctx)
			if err != nil {
				return nil, &Error{Op: op, Script: s.name, Func: fn, Err: err}
			}
		}
		if !inst.retired {
			return inst, nil
		}
		inst.mu.Unlock() // swapped while we waited: take the new one
	}
}

// reentered reports whether ctx comes from a host function that the script's
// live instance, or the instance a commit is migrating into, is running: the
// caller holds the script (or waits for the commit that does), so waiting for
// it from ctx would never end.
func (s *script) reentered(ctx context.Context) bool {
	if inst := s.cur.Load(); inst != nil && inst.guard.Reentered(ctx) {
		return true
	}
	next := s.next.Load()
	return next != nil && next.guard.Reentered(ctx)
}

// guards returns the reentry guards of inst, the live instance, and of the
// instance a commit is migrating into, if any.
func (s *script) guards(inst *instance) [2]*reentry.Guard {
	g := [2]*reentry.Guard{&inst.guard}
	if next := s.next.Load(); next != nil {
		g[1] = &next.guard
	}
	return g
}

// gone is why a script has no live instance: it was unloaded, or the runtime
// closed.
func (s *script) gone() error {
	if s.rt.closed.Load() {
		return ErrClosed
	}
	return ErrNotFound
}

// retire detaches the live instance, waiting for its call in progress whatever
// ctx, and returns it for the caller to close; nil and an error (op's) if there
// was none, or if ctx comes from a host function that call is running (see
// acquire).
func (s *script) retire(ctx context.Context, op string) (*instance, error) {
	if s.reentered(ctx) { // before swap, which a commit waiting for that call holds
		return nil, &Error{Op: op, Script: s.name, Kind: ErrReentrant}
	}
	ctx = context.WithoutCancel(ctx)
	_ = s.swap.Lock(ctx) // cannot fail: ctx does not end
	defer s.swap.Unlock()
	inst, err := s.acquire(ctx, op, "")
	if err != nil {
		return nil, err
	}
	s.cur.Store(nil)
	inst.retired = true
	inst.mu.Unlock()
	return inst, nil
}
