package wasm

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sync/atomic"
	"unsafe"

	"github.com/hotscript/hotscript/internal/meter"
	"github.com/tetratelabs/wazero/api"
)

// CallJSON calls the exported function fn of a script with Go arguments and returns
// its results as JSON. Each argument is one parameter:
//
//   - Numeric parameters take Go numbers (every int, uint and float kind, and types
//     based on them) and json.Number. An integer parameter refuses a fraction and a
//     value out of range instead of truncating: i32 accepts [-2^31, 2^32-1] and i64
//     [-2^63, 2^64-1], the upper halves being passed as their two's complement
//     (uint32(4294967295) arrives as -1). A float parameter refuses an integer it
//     cannot hold exactly, and f32 a finite value that rounds past its range. A
//     json.Number converts from its text, exactly: json.Number("1e3") passes
//     1000 and "9007199254740993.0" passes 2^53+1 to an integer parameter,
//     which refuses "0.99999999999999999999"; a float parameter gets the
//     text rounded once to its type, and "-0" as -0. A json.RawMessage is
//     never a number.
//     CallJSON(ctx, id, "add", 2, 3) calls add(i32, i32).
//   - A function whose parameters are exactly (i32, i32), given exactly one argument
//     that is not a Go number (a map, struct, slice, string, bool, nil or
//     json.RawMessage, or any value wrapped in JSON to force it), receives that
//     argument as a JSON document: CallJSON marshals it (a json.RawMessage is
//     validated and passed as is), writes it into guest memory through the guest's
//     exported alloc(len i32) i32, and passes (ptr, len); after the call it calls
//     free(ptr, len i32) if the guest exports it, so the guest must copy what it
//     keeps. CallJSON(ctx, id, "set_state", map[string]any{"counter": 3}).
//     If alloc or free fails, the call fails, with an error that says which
//     ("wasm: call enemy.wasm take: trap: alloc: unreachable"); a free that
//     fails after the function returned comes with the function's result.
//     free runs even after the function was stopped by a limit or ctx, on a
//     budget of its own (see Limits), so that no call leaks its document.
//     alloc returning 0 is a failure too, as C's malloc returns NULL when
//     out of memory: nothing is written and the function is not called; the
//     error matches ErrMemoryLimit if the runtime refused to grow the
//     script's memory during the call (MaxMemoryBytes), ErrTrap otherwise.
//
// Results convert by the function's result types:
//
//   - exactly (i32, i32): a (ptr, len) JSON document in guest memory, validated and
//     copied out: CallJSON(ctx, id, "get_state") returns {"counter":3};
//   - none: null;
//   - one: the number, i32 and i64 as signed decimals and floats as JSON numbers:
//     5 for add(2, 3);
//   - more: a JSON array of numbers: [-1,9007199254740993,1.5].
//
// A v128 has no JSON form, nor does a reference (funcref, externref): a
// function with such a parameter or result is refused with ErrJSON, without
// being called (a Func calls one with v128s, not one with references).
//
// The result is the caller's to keep and modify; later calls do not reuse it.
// Small results are carved out of blocks of a few KiB that several results share,
// each with its capacity capped at its length, so appending to one reallocates it
// rather than writing into a neighbour. That makes a call allocate nothing in the
// common case, at the price that a small result kept for long keeps its block
// alive: copy results you store by the thousand.
//
// Validated means as json.Valid validates: the syntax, not the encoding of the
// strings, which JSON wants in UTF-8; a guest writing Latin-1 (or any bytes
// that are not UTF-8) in a string gets its document through unchanged, and
// json.Unmarshal then reads each invalid byte as U+FFFD. A guest that may
// produce such bytes escapes them (\u00e9) or writes UTF-8.
//
// What a call costs: JSON documents are validated in one pass, and a document
// identical to the last argument or the last result the script's instance found
// valid (the same state sent or returned again, an echo, a result passed back)
// is only compared; documents from json.Marshal
// are not validated at all. Arguments are boxed in interfaces, which allocates
// for a numeric variable outside [0, 255] and for a slice such as a
// json.RawMessage (box one you pass often once: var arg any = doc); Func calls
// with no conversion and no allocation.
//
// NaN and infinite results are an error, as JSON cannot hold them. Errors name the
// script and the function and match ErrNotFound, ErrNoFunction, ErrSignature
// ("add(i32, i32, i32) takes 3 arguments, got 2"), ErrJSON, ErrMemoryAccess,
// ErrTrap, ErrLimit or ErrClosed. A trap leaves the script usable: the next call
// works.
//
// Calls to one script are serialized; calls to different scripts run in parallel.
// A call that runs during a reload completes on the old module or runs on the new
// one, never a mix. Safe for concurrent use.
func (rt *Runtime) CallJSON(ctx context.Context, id ScriptID, fn string, args ...any) (json.RawMessage, error) {
	s, err := rt.script(id)
	if err != nil {
		return nil, rt.unknown("call", fn, id, err)
	}
	inst, err := s.acquire(ctx, "call", fn)
	if err != nil {
		return nil, err
	}
	out, err := inst.callJSON(ctx, fn, args)
	inst.mu.Unlock()
	return out, err
}

// callJSON runs CallJSON on a locked instance.
func (inst *instance) callJSON(ctx context.Context, fn string, args []any) (json.RawMessage, error) {
	e := inst.last
	if e == nil || e.sig.info.Name != fn { // a frame calls one function many times
		if e = inst.exports[fn]; e == nil {
			return nil, inst.noFunction(fn)
		}
		inst.last = e
	}
	switch t := e.sig.noJSON; {
	case t == V128:
		return nil, inst.errorf(e, ErrJSON, "%s: a v128 has no JSON form; call it with a Func", e.sig.info)
	case t == ExternRef:
		return nil, inst.errorf(e, ErrJSON, "%s: an externref has no JSON form", e.sig.info)
	case t != 0:
		return nil, inst.errorf(e, ErrJSON, "%s: a %v has no JSON form", e.sig.info, t)
	}
	if e.sig.jsonIn && len(args) == 1 && !isNumber(args[0]) {
		return inst.callDoc(ctx, e, args[0])
	}
	stack := inst.stack[:e.sig.stackLen]
	if !encodeArgs(e.sig.info.Params, args, stack) {
		return nil, inst.errorf(e, ErrSignature, "%w", argsError(e.sig, args))
	}
	if err := inst.begin(ctx, e); err != nil {
		return nil, err
	}
	err := inst.invoke(ctx, e, stack)
	var out json.RawMessage
	if err == nil {
		out, err = inst.result(e, stack)
	}
	if err = inst.finish(e, err); err != nil {
		return nil, err
	}
	return out, nil
}

// callRaw runs Instance.CallRaw on a locked instance.
func (inst *instance) callRaw(ctx context.Context, fn string, params []uint64) ([]uint64, error) {
	e := inst.exports[fn]
	if e == nil {
		return nil, inst.noFunction(fn)
	}
	if t := e.sig.noJSON; t != 0 {
		return nil, inst.errorf(e, ErrSignature, "%s: CallRaw takes numbers, not a %v", e.sig.info, t)
	}
	if len(params) != len(e.sig.info.Params) {
		return nil, inst.errorf(e, ErrSignature, "%s takes %d parameters, got %d", e.sig.info, len(e.sig.info.Params), len(params))
	}
	stack := inst.stack[:e.sig.stackLen]
	copy(stack, params)
	if err := inst.begin(ctx, e); err != nil {
		return nil, err
	}
	err := inst.invoke(ctx, e, stack)
	if err = inst.finish(e, err); err != nil {
		return nil, err
	}
	return slices.Clone(stack[:len(e.sig.info.Results)]), nil
}

// callDoc runs CallJSON with one JSON document as the argument.
func (inst *instance) callDoc(ctx context.Context, e *export, arg any) (json.RawMessage, error) {
	if err := inst.begin(ctx, e); err != nil {
		return nil, err
	}
	stack := inst.stack[:e.sig.stackLen]
	docPtr, docLen, err := inst.writeDoc(ctx, e, arg)
	if err != nil {
		return nil, inst.finish(e, err)
	}
	stack[0], stack[1] = api.EncodeU32(docPtr), api.EncodeU32(docLen)
	err = inst.invoke(ctx, e, stack)
	var out json.RawMessage
	if err == nil {
		out, err = inst.result(e, stack)
	}
	if inst.free != nil {
		if ferr := inst.freeDoc(ctx, e, docPtr, docLen); ferr != nil && err == nil {
			return out, inst.finish(e, ferr) // e ran: say so with its result
		}
	}
	if err = inst.finish(e, err); err != nil {
		return nil, err
	}
	return out, nil
}

// freeDoc calls free for the document of a call of e. In a metered script it
// runs on a budget and a clock of its own, and past the end of ctx: it is the
// runtime's bookkeeping, which a call stopped by a limit or ctx must still
// do (the budget or the deadline spent would stop it at once, and every
// stopped call would leak its document in the guest), and its fuel is not
// the call's.
func (inst *instance) freeDoc(ctx context.Context, e *export, ptr, n uint32) error {
	inst.aux[0], inst.aux[1] = api.EncodeU32(ptr), api.EncodeU32(n)
	l := inst.lim
	if l == nil || l.fuel == nil {
		return inst.invokeFor(ctx, e, inst.free, inst.aux[:])
	}
	if ctx.Err() != nil {
		ctx = context.WithoutCancel(ctx)
	}
	used, budget := l.aside(freeBudget)
	err := inst.invokeFor(ctx, e, inst.free, inst.aux[:])
	l.resume(used, budget)
	return err
}

// invokeFor runs h, alloc or free, for a call of e: a failure of h is one of
// the call, saying that h failed.
func (inst *instance) invokeFor(ctx context.Context, e, h *export, stack []uint64) error {
	err := inst.invoke(ctx, h, stack)
	if err != nil {
		werr := err.(*Error) // as invoke's errors all are
		werr.Func, werr.Err = e.sig.info.Name, fmt.Errorf("%s: %w", h.sig.info.Name, werr.Err)
	}
	return err
}

// begin starts a call of e under the instance's limits, if it has any. A
// metered call whose ctx is done is refused before any of its code runs, as
// a load is: it would otherwise run to its first check, which the fuel the
// last call left may put past its end, so that the same call with the same
// ctx ran or not depending on the call before it.
func (inst *instance) begin(ctx context.Context, e *export) error {
	l := inst.lim
	if l == nil {
		return nil
	}
	l.begin()
	if l.fuel == nil {
		return nil
	}
	return inst.checkCtx(ctx, e)
}

// checkCtx is begin's check of ctx for a metered call, kept out of begin,
// which is inlined.
//
//go:noinline
func (inst *instance) checkCtx(ctx context.Context, e *export) error {
	if err := ctx.Err(); err != nil {
		return &Error{Op: "call", Script: inst.s.name, Func: e.sig.info.Name, Err: &cause{msg: err.Error(), err: err}}
	}
	return nil
}

// finish ends the limits of a call that returned err: a metered call counts its
// fuel and fails if it finished over budget.
func (inst *instance) finish(e *export, err error) error {
	if l := inst.lim; l != nil && l.end(true) && err == nil {
		return inst.overBudget(e)
	}
	return err
}

// overBudget is the error of a call that finished over its instruction budget.
func (inst *instance) overBudget(e *export) error {
	return &Error{Op: "call", Script: inst.s.name, Func: e.sig.info.Name, Kind: ErrInstructionLimit, Err: inst.lim.overBudget()}
}

// invoke calls an export with the stack wazero uses for parameters and results.
func (inst *instance) invoke(ctx context.Context, e *export, stack []uint64) error {
	if e.fn == nil {
		if e.sig.host {
			return inst.invokeHost(ctx, e, stack)
		}
		e.fn = inst.mod.ExportedFunction(e.sig.info.Name)
		e.stack, e.maxStack = engineStack(e.fn)
	}
	if err := e.fn.CallWithStack(ctx, stack); err != nil {
		return inst.trapped(e, err)
	}
	e.settle()
	return nil
}

// keptStack is the most call stack, in bytes, an export's function keeps
// between calls. wazero grows a function's stack as a deep call needs, up to
// 400 MB (ErrStackOverflow past it), and keeps it for the function's next
// calls, outside MaxMemoryBytes: 16 exports each called once a million calls
// deep held 646 MiB until the script was unloaded (helper-247). A function
// whose stack grew past keptStack is dropped after the call, to be made again,
// with wazero's 10 KiB, by the next one.
const keptStack = 1 << 20

// settle drops e's function after a call that grew its stack past keptStack,
// and the stack with it.
func (e *export) settle() {
	if cap(*e.stack) > e.maxStack {
		e.fn, e.stack = nil, &noStack
	}
}

// noStack is the stack of an export without a function, or of one whose
// engine keeps its stack where engineStack does not find it: settle never
// drops it.
var noStack []byte

// engineStack returns where fn, a function of wazero's, keeps its call stack
// (its engine's field stack, a slice), read as a []byte, and the most elements
// it may keep (see keptStack); noStack if fn has no such field (see
// TestDeepCallStackFreed).
func engineStack(fn api.Function) (*[]byte, int) {
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return &noStack, 0
	}
	f, ok := v.Elem().Type().FieldByName("stack")
	if !ok || f.Type.Kind() != reflect.Slice || f.Type.Elem().Size() == 0 {
		return &noStack, 0
	}
	return (*[]byte)(unsafe.Add(v.UnsafePointer(), f.Offset)), keptStack / int(f.Type.Elem().Size())
}

// invokeHost is invoke for an imported host function the module exports:
// wazero calls it in the host module, which does not tell the host function
// which script it runs for, so ctx does.
func (inst *instance) invokeHost(ctx context.Context, e *export, stack []uint64) error {
	if e.host == nil {
		e.host = inst.mod.ExportedFunction(e.sig.info.Name)
	}
	if err := e.host.CallWithStack(context.WithValue(ctx, callerKey{}, inst), stack); err != nil {
		return inst.trapped(e, err)
	}
	return nil
}

// trapped reports a failed call, once it has reset the stack pointer.
func (inst *instance) trapped(e *export, err error) error {
	inst.resetStack()
	kind, why, trace := classify(err)
	kind, why = inst.lim.refine(kind, why, err)
	e.settle() // after an ErrStackOverflow, its stack is hundreds of MiB
	return &Error{Op: "call", Script: inst.s.name, Func: e.sig.info.Name, Kind: kind, Err: why, Trace: inst.code.frames.rewrite(trace)}
}

// resetStack puts the module's C stack pointer back where it was between calls
// (as the instance started): a call that breaks off (a trap, a limit, a host
// function's error) leaves it where its frames had moved it, below the frames
// it no longer has, and enough such calls would move the stack over the
// module's own data. Compilers keep it the same between the calls of an
// export; a module without one (see meter.Interface.StackPointer) keeps its
// stack to itself.
func (inst *instance) resetStack() {
	if inst.sp != nil {
		inst.sp.Set(inst.spAtRest)
	}
}

func (inst *instance) errorf(e *export, kind error, format string, args ...any) error {
	return &Error{Op: "call", Script: inst.s.name, Func: e.sig.info.Name, Kind: kind, Err: fmt.Errorf(format, args...)}
}

// noFunction explains a missing export: absent, or not a function.
func (inst *instance) noFunction(fn string) error {
	err := &Error{Op: "call", Script: inst.s.name, Func: fn, Kind: ErrNoFunction}
	if kind, ok := inst.code.scan.exports[fn]; ok && kind != meter.KindFunc {
		err.Err = fmt.Errorf("%s is an exported %v, not a function", fn, kind)
	}
	return err
}

// Func is a handle on an exported function for hot loops: no name lookup, no
// conversion and no allocation per call. It follows reloads: after one, Call runs
// the new module's function of the same name, or fails with ErrNoFunction if the new
// module lacks it, or ErrSignature if its signature changed from the one the handle
// was made for. A Func refers to the instance it last ran on until its next
// call; a call that finds its function, or its script, gone lets that instance
// (and its memory) go. A Func is safe for concurrent use.
type Func struct {
	s     *script
	info  FuncInfo
	bound atomic.Pointer[binding]
}

// binding is the export a Func resolved in one instance.
type binding struct {
	inst *instance
	e    *export
}

// unbound is the binding of a Func whose script's instance lacks its function,
// or is gone: it keeps no closed instance, and its memory, alive. Its nil inst
// and function send every call to callSlow.
var unbound = &binding{e: &export{sig: &funcSig{}, stack: &noStack}}

// Func returns a handle on the exported function name of a script's live module.
// A function that takes or returns a reference (funcref, externref) is refused
// with ErrSignature: a reference is a pointer into the runtime, which no
// uint64 a caller makes may stand for. Safe for concurrent use.
func (rt *Runtime) Func(id ScriptID, name string) (*Func, error) {
	s, err := rt.script(id)
	if err != nil {
		return nil, rt.unknown("func", name, id, err)
	}
	// An instance's exports never change, so the live one's are read unlocked:
	// no waiting for a call in progress, even from a host function it runs.
	inst := s.cur.Load()
	if inst == nil {
		return nil, &Error{Op: "func", Script: s.name, Func: name, Kind: s.gone()}
	}
	e := inst.exports[name]
	if e == nil {
		return nil, inst.noFunction(name)
	}
	if e.sig.ref {
		return nil, &Error{Op: "func", Script: s.name, Func: name, Kind: ErrSignature,
			Err: fmt.Errorf("%s takes or returns a reference, which a Func cannot pass", e.sig.info)}
	}
	f := &Func{s: s, info: e.sig.info}
	f.bound.Store(&binding{inst, e})
	return f, nil
}

// Info returns the signature the handle was made for.
func (f *Func) Info() FuncInfo { return f.info.clone() }

// Call calls the function with stack holding the parameters, encoded as by
// wazero's api package (api.EncodeI32, api.EncodeF64...), and returns with the
// results written over them from stack[0]. A v128 takes two values, its low
// 64 bits then its high ones, and every other type one: len(stack) must be at
// least the larger of what the parameters and the results take, or Call
// fails with ErrSignature. Errors are those of CallJSON.
func (f *Func) Call(ctx context.Context, stack []uint64) error {
	inst, err := f.s.acquire(ctx, "call", f.info.Name)
	if err != nil {
		if f.s.cur.Load() == nil {
			f.bound.Store(unbound) // the script is gone: let its last instance go
		}
		return err
	}
	err = f.call(ctx, inst, stack, nil)
	inst.mu.Unlock()
	return err
}

// call is Call on inst, which the caller holds locked: a Func call, or a call on
// lease l, whose inst is then l.inst (nil once released).
func (f *Func) call(ctx context.Context, inst *instance, stack []uint64, l *Lease) error {
	b := f.bound.Load()
	if b.inst != inst || b.e.fn == nil || len(stack) < b.e.sig.stackLen || l != nil && inst.guard.InHost() {
		return f.callSlow(ctx, inst, stack, l)
	}
	if inst.lim != nil {
		return inst.callLimited(ctx, b.e, stack)
	}
	if err := b.e.fn.CallWithStack(ctx, stack); err != nil {
		return inst.trapped(b.e, err)
	}
	b.e.settle()
	return nil
}

// callLimited is call with limits, for an export whose function is resolved:
// one frame between the caller and wazero, as the per-call bookkeeping is the
// bulk of what limits cost a short call.
func (inst *instance) callLimited(ctx context.Context, e *export, stack []uint64) error {
	l := inst.lim
	l.begin() // inst.begin, written out: not inlined, it would cost this path a call
	if l.fuel != nil && ctx.Err() != nil {
		return inst.checkCtx(ctx, e)
	}
	err := e.fn.CallWithStack(ctx, stack)
	if err != nil {
		err = inst.trapped(e, err)
	} else {
		e.settle()
	}
	if l.end(true) && err == nil {
		return inst.overBudget(e)
	}
	return err
}

// callSlow is call when the handle is not ready for inst (after a reload, before
// the function's first call, or with a short stack), or l is released, leases
// another script or is used from a host function inst is running: kept out of
// call, which a Lease inlines.
func (f *Func) callSlow(ctx context.Context, inst *instance, stack []uint64, l *Lease) error {
	if l != nil && (inst == nil || f.s != l.s) {
		return l.misuse(f.info.Name, f.s)
	}
	if l != nil && inst.guard.InHost() {
		return l.reentered(f.info.Name)
	}
	b := f.bound.Load()
	if b.inst != inst {
		var err error
		if b, err = f.rebind(inst); err != nil {
			f.bound.Store(unbound)
			return err
		}
	}
	if len(stack) < b.e.sig.stackLen {
		return inst.errorf(b.e, ErrSignature, "%s needs a stack of %d values, got %d", f.info, b.e.sig.stackLen, len(stack))
	}
	if err := inst.begin(ctx, b.e); err != nil {
		return err
	}
	return inst.finish(b.e, inst.invoke(ctx, b.e, stack))
}

// rebind resolves the function in a new instance after a reload.
func (f *Func) rebind(inst *instance) (*binding, error) {
	e := inst.exports[f.info.Name]
	if e == nil {
		return nil, inst.noFunction(f.info.Name)
	}
	if !e.sig.info.sameSignature(f.info) {
		return nil, inst.errorf(e, ErrSignature, "the handle was made for %s, the module now exports %s", f.info, e.sig.info)
	}
	b := &binding{inst, e}
	f.bound.Store(b)
	return b, nil
}
