package wasm

import (
	"context"
	"errors"
	"fmt"
	"github.com/hotscript/hotscript/internal/recovered"
	"math"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// HostFunc is a Go function scripts can import. Params and Results are its
// WebAssembly signature (I32, I64, F32 or F64 each). Func receives the parameters in
// stack, encoded as by wazero's api package (api.DecodeI32, api.DecodeF64...), and
// writes the results over them from stack[0]; stack holds max(len(Params),
// len(Results)) values. No reflection happens per call.
//
// An error returned from Func traps the guest: the call in progress fails with an
// *Error whose Kind is ErrTrap and that matches, through errors.Is, Func's error.
// That holds for the error of another script's call too (Func called a script
// that ran out of instructions): the limit was that call's, not this one's,
// and the Trace is this call's own frames. A panic in Func is recovered and
// reported the same way. For a metered script (see Limits) the
// call checks ctx before Func runs, and its deadline and ctx after Func
// returns: a call cancelled or past its MaxExecutionTime stops there, with
// ctx's error or ErrTimeout, as it would in guest code.
//
// Func may run concurrently for calls from different scripts, so it must be safe
// for concurrent use. It may call, reload or unload other scripts, and stage a
// reload of any script. It cannot call, commit a reload of, or unload the script
// that is calling it, nor close the runtime: that script's calls are serialized,
// so those would wait forever for the call running Func. Made with ctx (or a
// context derived from it), they fail at once with ErrReentrant instead, the
// package telling them by the mark it puts on ctx; made with another context,
// they deadlock. The same holds for a host function that a commit's migrate
// function runs in the new instance. The mark also refuses a call made with ctx
// on another goroutine while the script is inside a host function, which would
// only have waited: hand ctx only to work Func waits for.
type HostFunc struct {
	Params  []ValueType // the parameter types a module imports it with
	Results []ValueType // its result types
	// Func runs it: its parameters are on stack, encoded as wazero encodes
	// them (api.DecodeI32...), and it writes its results there.
	Func func(ctx context.Context, c *Caller, stack []uint64) error
}

// Caller is the script calling a host function. It is valid only during that call
// and on its goroutine: do not keep it.
//
// A module may export a function it imports. Calling that export (with
// CallJSON or a Func, or the runtime running it as _initialize) runs the host
// function for the script with no code of the script's calling it: its Caller
// names the script, but Read, ReadString and Write fail with ErrMemoryAccess,
// there being no caller's memory to use.
type Caller struct {
	inst *instance
	mod  api.Module
}

// Script returns the calling script's name.
func (c *Caller) Script() string { return c.inst.s.name }

// Read returns a copy of n bytes of the script's memory from ptr. A range outside the
// memory is an error matching ErrMemoryAccess that names the script.
func (c *Caller) Read(ptr, n uint32) ([]byte, error) {
	view, err := c.view(ptr, n)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), view...), nil
}

// ReadString is Read returning a string.
func (c *Caller) ReadString(ptr, n uint32) (string, error) {
	view, err := c.view(ptr, n)
	return string(view), err
}

// Write copies b into the script's memory at ptr. A range outside the memory is an
// error matching ErrMemoryAccess that names the script.
func (c *Caller) Write(ptr uint32, b []byte) error {
	if uint64(len(b)) > math.MaxUint32 {
		return c.outOfRange(ptr, uint64(len(b)))
	}
	if _, err := c.view(ptr, uint32(len(b))); err != nil {
		return err
	}
	c.memory().Write(ptr, b)
	return nil
}

// memory returns the script's memory, or nil if its module has none or the
// host function was called through the script's export of it.
func (c *Caller) memory() api.Memory {
	if c.mod == nil {
		return nil
	}
	return c.inst.code.memory(c.mod)
}

func (c *Caller) view(ptr, n uint32) ([]byte, error) {
	mem := c.memory()
	if mem == nil && c.mod == nil {
		return nil, fmt.Errorf("%w: script %s called the host function through its export of it, not from its code: no memory is the caller's", ErrMemoryAccess, c.Script())
	}
	if mem == nil {
		return nil, fmt.Errorf("%w: script %s has no memory", ErrMemoryAccess, c.Script())
	}
	view, ok := mem.Read(ptr, n)
	if !ok {
		return nil, c.outOfRange(ptr, uint64(n))
	}
	return view, nil
}

func (c *Caller) outOfRange(ptr uint32, n uint64) error {
	var size uint32
	if mem := c.memory(); mem != nil {
		size = mem.Size()
	}
	return fmt.Errorf("%w: script %s: bytes [%d, %d) are outside its %d-byte memory",
		ErrMemoryAccess, c.Script(), ptr, uint64(ptr)+n, size)
}

// LogFunc returns the host function scripts import as host.log(ptr, len i32): it
// reads the message from the script's memory and calls log with the script's name.
// A ptr and len outside the script's memory trap the call with an error naming the
// script; they never crash. log may be called concurrently for different scripts.
//
//	rt.Define("host", "log", wasm.LogFunc(func(script, msg string) { log.Print(script, ": ", msg) }))
func LogFunc(log func(script, msg string)) HostFunc {
	return HostFunc{
		Params: []ValueType{I32, I32},
		Func: func(_ context.Context, c *Caller, stack []uint64) error {
			msg, err := c.ReadString(api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
			if err != nil {
				return err
			}
			log(c.Script(), msg)
			return nil
		},
	}
}

// importName is the two-part name of an import. Joined with a dot the parts
// would be ambiguous: "a.b" "c" and "a" "b.c" are two functions.
type importName struct{ module, name string }

type hostDef struct {
	module, name string
	fn           HostFunc
}

// Define makes fn importable as module.name by every script the runtime loads.
// Definitions must all come before the first load, so that every load and reload
// links against the same set: Define after it returns an error matching ErrDefine,
// as do a second definition of a name, the module "hotscript" (reserved for
// instrumentation), a nil Func and a non-numeric type. Safe for concurrent use.
func (rt *Runtime) Define(module, name string, fn HostFunc) error {
	fail := func(format string, args ...any) error {
		return &Error{Op: "define", Kind: ErrDefine, Err: fmt.Errorf("%s.%s: "+format, append([]any{module, name}, args...)...)}
	}
	if module == "" || name == "" {
		return fail("empty module or function name")
	}
	if module == reservedModule {
		return fail("the module %q is reserved for instrumentation", reservedModule)
	}
	if fn.Func == nil {
		return fail("nil Func")
	}
	for _, t := range append(append([]ValueType(nil), fn.Params...), fn.Results...) {
		if !t.numeric() {
			return fail("type %v is not i32, i64, f32 or f64", t)
		}
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	switch {
	case rt.closed.Load():
		return &Error{Op: "define", Kind: ErrClosed}
	case rt.sealed:
		return fail("defined after the first load: every version of a script must link against the same functions")
	}
	for _, d := range rt.hosts {
		if d.module == module && d.name == name {
			return fail("defined twice")
		}
	}
	rt.hosts = append(rt.hosts, hostDef{module, name, fn})
	return nil
}

// seal freezes the host definitions. The caller holds rt.mu.
func (rt *Runtime) seal() {
	if rt.sealed {
		return
	}
	rt.sealed = true
	rt.linked = map[importName]FuncInfo{
		{reservedModule, refuelName}: {Module: reservedModule, Name: refuelName},
	}
	for _, d := range rt.hosts {
		rt.linked[importName{d.module, d.name}] = FuncInfo{Module: d.module, Name: d.name, Params: d.fn.Params, Results: d.fn.Results}
	}
}

// instantiateHosts instantiates the defined host modules, and the reserved one,
// in an engine.
func (rt *Runtime) instantiateHosts(ctx context.Context, r wazero.Runtime) error {
	builders := map[string]wazero.HostModuleBuilder{}
	var order []string
	for _, d := range rt.hosts {
		b, ok := builders[d.module]
		if !ok {
			b = r.NewHostModuleBuilder(d.module)
			builders[d.module] = b
			order = append(order, d.module)
		}
		b.NewFunctionBuilder().
			WithGoModuleFunction(rt.hostFunction(d), apiTypes(d.fn.Params), apiTypes(d.fn.Results)).
			Export(d.name)
	}
	for _, module := range order {
		if _, err := builders[module].Instantiate(ctx); err != nil {
			return err
		}
	}
	return rt.defineRefuel(ctx, r)
}

// hostFunction adapts a HostFunc to wazero: it finds the calling instance, runs the
// function with panics recovered, and turns an error into a trap.
func (rt *Runtime) hostFunction(d hostDef) api.GoModuleFunc {
	qualified := d.module + "." + d.name
	f := d.fn.Func
	return func(ctx context.Context, mod api.Module, stack []uint64) {
		inst := rt.instanceOf(ctx, mod)
		if inst == nil { // cannot happen: every guest module is registered or in ctx
			panic(&hostError{fn: qualified, err: errors.New("called from an unknown module")})
		}
		metered := inst.lim != nil && inst.lim.lim.metered() // watches its deadline and ctx
		if metered {
			if err := inst.lim.beforeHost(ctx); err != nil {
				panic(&hostError{fn: qualified, err: err, stop: true})
			}
		}
		c := &inst.caller // calls on an instance are serialized, so its Caller is free
		c.mod = mod
		if mod.Name() != "" { // a host module: the script exports the function, and no code of its calls it
			c.mod = nil
		}
		hctx, prev := inst.guard.Enter(ctx)
		err := runHost(hctx, f, c, stack)
		inst.guard.Leave(prev)
		if err != nil {
			panic(&hostError{fn: qualified, err: err})
		}
		if metered {
			if err := inst.lim.interrupt(ctx); err != nil {
				panic(&hostError{fn: qualified, err: err, stop: true})
			}
		}
	}
}

func runHost(ctx context.Context, f func(context.Context, *Caller, []uint64) error, c *Caller, stack []uint64) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = recovered.Error("panic", r)
		}
	}()
	return f(ctx, c, stack)
}
