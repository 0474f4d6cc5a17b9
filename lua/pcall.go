package lua

import (
	"reflect"
	"strings"
	"unsafe"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
)

// pcall, xpcall and load (which calls a reader function) catch errors as
// gopher-lua's do, but for three things:
//
//   - gopher-lua's pcall builds a traceback of the whole call stack for every
//     error it catches, and throws it away: the script sees only the error
//     value. The traceback reads each frame with GetStack(i), which walks i
//     frames, so it takes time in the square of the call depth, all in the one
//     instruction of the pcall: at a depth of 1,000 about 7 ms per caught
//     error, so that a loop of pcall(error, "x") there ran 8 seconds within
//     10,000 instructions. PCall builds it when the error it recovers carries
//     none, and installs its own panic function (the one raising errors) on
//     entry, so they call the function through untraced, which installs one
//     that marks the error as traced already (PCall puts back the previous
//     one as it returns).
//   - An error they catch closes the upvalues of the frames it left, as Lua
//     5.1 closes them, and no others. gopher-lua closes every open upvalue as
//     an error is raised, those of the live frames below included, unless a
//     PCall with an error function runs (a flag, hasErrorFunc, which such a
//     PCall sets on entry and every PCall clears as it returns), and then
//     none: a closure made before a pcall and called after a caught error
//     updated a copy of its variable, which the function that made it no
//     longer saw (local n = 0; local function bump() n = n + 1 end); and
//     inside an xpcall, a closure made in a frame the error left went on
//     reading its variable's old slot of the value stack, another function's
//     local or a Go nil, which no Lua value is (helper-240; stored in a field,
//     it ended the process at the next reload). So the flag is set for every
//     protected call (protectedCall), and untraced's panic function closes the
//     upvalues of the slots from where the function was called on, before
//     PCall empties them.
//   - xpcall's handler runs in that panic function, where the error is
//     raised, as in Lua 5.1: gopher-lua runs it in PCall's recovery, where
//     it cleared the flag (the handler wrote copies of the locals it reached:
//     helper-249), could not run it when the error was a stack overflow (the
//     call stack was still full), and let a registry overflow out of the
//     xpcall as it pushed the handler (helper-251).
//
// Where gopher-lua's fields cannot be found (see upvalueLayout), upvalues are
// closed as gopher-lua closes them (TestUpvalueLayoutFound fails then).

// untracedMark is the traceback of an error raised inside the package's pcall,
// which no one reads: the script gets the error value, and an error leaving
// the call gets a traceback of its own, at the call's own PCall.
const untracedMark = "stack traceback: (not built inside pcall)"

// installProtected replaces pcall, xpcall and load.
func installProtected(L *glua.LState) {
	p := &protectors{}
	p.through = L.NewFunction(p.untraced)
	p.raise = p.panicUntraced
	L.SetGlobal("pcall", L.NewFunction(p.pcall))
	L.SetGlobal("xpcall", L.NewFunction(p.xpcall))
	L.SetGlobal("load", L.NewFunction(p.load))
}

// protectors are the state of a script's pcall, xpcall and load, shared by its
// coroutines: a coroutine cannot yield across them (see yieldCrossesGo), so
// their calls nest.
type protectors struct {
	through *glua.LFunction    // untraced
	raise   func(*glua.LState) // panicUntraced
	calls   []guarded          // the calls protect runs, innermost last
}

// guarded is a call protect runs: the slot of its function, and for
// xpcall's, the handler and whether it ran on the error, or is running.
type guarded struct {
	base              int
	handler           *glua.LFunction
	handled, handling bool
}

// pcall is gopher-lua's pcall (see installProtected).
func (p *protectors) pcall(L *glua.LState) int {
	L.CheckAny(1)
	v := L.Get(1)
	if v.Type() != glua.LTFunction && L.GetMetaField(v, "__call").Type() != glua.LTFunction {
		L.Push(glua.LFalse)
		L.Push(glua.LString("attempt to call a " + v.Type().String() + " value"))
		return 2
	}
	if err := p.protect(L, L.GetTop()-1, glua.MultRet, nil); err != nil {
		return pushFailure(L, err)
	}
	L.Insert(glua.LTrue, 1)
	return L.GetTop()
}

// xpcall is gopher-lua's xpcall (see installProtected): the handler runs as
// Lua 5.1 runs it, where the error is raised, above its frames
// (debug.traceback sees them), with their upvalues open; where the call stack
// has no room left for it (a stack overflow) or its own calls run out of it,
// or on a Go panic, which no panic function raises, once the error has left
// them. When the handler fails, xpcall returns false and the handler's error.
func (p *protectors) xpcall(L *glua.LState) int {
	fn := L.CheckFunction(1)
	handler := L.CheckFunction(2)
	top := L.GetTop()
	L.Push(fn)
	if err := p.protect(L, 0, glua.MultRet, handler); err != nil {
		return pushFailure(L, err)
	}
	L.Insert(glua.LTrue, top+1)
	return L.GetTop() - top
}

// protect calls the function below nargs arguments on L's stack through
// untraced, as L.PCall does, with xpcall's handler or nil (see
// installProtected).
func (p *protectors) protect(L *glua.LState, nargs, nret int, handler *glua.LFunction) error {
	at := L.GetTop() - nargs
	base := slotOf(L, at)
	L.Insert(p.through, at)
	p.calls = append(p.calls, guarded{base: base, handler: handler})
	err := protectedCall(L, nargs+1, nret)
	c := p.calls[len(p.calls)-1]
	p.calls = p.calls[:len(p.calls)-1]
	if err == nil {
		return nil
	}
	if aerr, ok := err.(*glua.ApiError); ok && aerr.Type == glua.ApiErrorPanic {
		closeFrom(L, base) // a Go panic, which no panic function raised
	}
	if handler != nil && !c.handled {
		v, _ := p.handle(L, handler, errorValue(err))
		return &glua.ApiError{Type: glua.ApiErrorRun, Object: v}
	}
	return err
}

// untraced is through: it calls its first argument with the others, returning
// all its results, with errors raised by panicUntraced.
func (p *protectors) untraced(L *glua.LState) int {
	L.Panic = p.raise
	L.Call(L.GetTop()-1, glua.MultRet)
	return L.GetTop()
}

// panicUntraced is raise: it raises the error value on top of L's stack, as
// gopher-lua's panicWithoutTraceback does, with a traceback already set, once
// the handler of an xpcall it leaves has made it what it returns, if there is
// room to run it (see xpcall), and the upvalues of the frames it leaves are
// closed.
func (p *protectors) panicUntraced(L *glua.LState) {
	if i := len(p.calls) - 1; i >= 0 { // none when a script calls untraced itself (debug.getinfo(2, "f").func)
		if c := p.calls[i]; c.handler != nil && !c.handling && roomForHandler(L) {
			p.calls[i].handling = true // an error raised outside the handler's own call: it runs after
			v, ok := p.handle(L, c.handler, orNil(L.Get(-1)))
			p.calls[i].handling, p.calls[i].handled = false, ok
			if ok {
				L.Push(v)
			}
		}
		closeFrom(L, p.calls[i].base)
	}
	panic(&glua.ApiError{Type: glua.ApiErrorRun, Object: L.Get(-1), StackTrace: untracedMark})
}

// handle calls an xpcall's handler on the error value v, and returns what it
// returns, or its error's value; not ok if the handler ran out of call stack,
// to be run again once the error has left its frames.
func (p *protectors) handle(L *glua.LState, handler *glua.LFunction, v glua.LValue) (_ glua.LValue, ok bool) {
	holdError(L, v)
	L.Push(handler)
	L.Push(v)
	if err := p.protect(L, 1, 1, nil); err != nil {
		r := errorValue(err)
		s, _ := r.(glua.LString)
		return r, !strings.HasSuffix(string(s), "stack overflow")
	}
	r := L.Get(-1)
	L.Pop(1)
	return r, true
}

// handlerFrames is the room an xpcall handler needs on the call stack to be
// run where the error is raised: its call through untraced, and its own.
// (debug.traceback needs no more; a handler that does runs again where it
// has room, as handle reports.)
const handlerFrames = 2

// roomForHandler reports whether L's call stack has room for an xpcall
// handler above the current frame.
func roomForHandler(L *glua.LState) bool {
	if !frameLayout.ok {
		return true
	}
	cf := currentFrame(L)
	return cf == nil || *(*int)(unsafe.Add(cf, frameLayout.idx))+1+handlerFrames <= stateOptions.CallStackSize
}

// slotOf is the slot of L's value stack that the value at index i of the
// current (Go) function's stack is in; 0 if upvalueLayout is not known.
func slotOf(L *glua.LState, i int) int {
	if !upvalueLayout.ok {
		return 0
	}
	return *(*int)(unsafe.Add(currentFrame(L), frameLayout.base)) + i - 1
}

// protectedCall is L.PCall(nargs, nret, nil) with gopher-lua's flag that a
// PCall with an error function runs set for the call, and put back as it was
// after it (see installProtected).
func protectedCall(L *glua.LState, nargs, nret int) error {
	if !upvalueLayout.ok {
		return L.PCall(nargs, nret, nil)
	}
	flag := (*bool)(unsafe.Add(unsafe.Pointer(L), upvalueLayout.flag))
	running := *flag
	*flag = true
	err := L.PCall(nargs, nret, nil)
	*flag = running
	return err
}

// closeFrom closes L's open upvalues of the slots from base on, as gopher-lua's
// unexported closeUpvalues does (its list of them is in the order of their
// slots), with a Go nil read from an emptied slot closed as nil. Without
// upvalueLayout, it leaves them to gopher-lua, which then closes them all as
// it raises the error (protectedCall leaves its flag alone).
func closeFrom(L *glua.LState, base int) {
	ul := &upvalueLayout
	if !ul.ok {
		return // gopher-lua closes them as it does
	}
	next := func(uv *glua.Upvalue) **glua.Upvalue {
		return (**glua.Upvalue)(unsafe.Add(unsafe.Pointer(uv), ul.next))
	}
	link := (**glua.Upvalue)(unsafe.Add(unsafe.Pointer(L), ul.open))
	for *link != nil && *(*int)(unsafe.Add(unsafe.Pointer(*link), ul.slot)) < base {
		link = next(*link)
	}
	for uv := *link; uv != nil; uv = *next(uv) {
		uv.Close()
		if uv.Value() == nil {
			uv.SetValue(glua.LNil)
		}
	}
	*link = nil
}

// upvalueLayout is where gopher-lua keeps an LState's flag that a PCall with an
// error function runs (hasErrorFunc) and its list of open upvalues (uvcache),
// and an upvalue's next in the list and slot, which it does not export; ok is
// false if a gopher-lua version lays them out differently, or frameLayout is
// not known.
var upvalueLayout = func() (l struct {
	flag, open, next, slot uintptr
	ok                     bool
}) {
	state, upvalue := reflect.TypeFor[glua.LState](), reflect.TypeFor[glua.Upvalue]()
	flag, ok1 := state.FieldByName("hasErrorFunc")
	open, ok2 := state.FieldByName("uvcache")
	next, ok3 := upvalue.FieldByName("next")
	slot, ok4 := upvalue.FieldByName("index")
	if !ok1 || !ok2 || !ok3 || !ok4 || !frameLayout.ok || flag.Type.Kind() != reflect.Bool ||
		open.Type != reflect.TypeFor[*glua.Upvalue]() || next.Type != open.Type || slot.Type != reflect.TypeFor[int]() {
		return l
	}
	l.flag, l.open, l.next, l.slot, l.ok = flag.Offset, open.Offset, next.Offset, slot.Offset, true
	return l
}()

// pushFailure pushes false and the error value of err, as pcall returns them.
func pushFailure(L *glua.LState, err error) int {
	L.Push(glua.LFalse)
	L.Push(errorValue(err))
	holdError(L, L.Get(-1))
	return 2
}

// errorValue is the Lua value of an error a PCall returned.
func errorValue(err error) glua.LValue {
	if aerr, ok := err.(*glua.ApiError); ok {
		return orNil(aerr.Object) // error() of a Go nil (see orNil)
	}
	return glua.LString(err.Error())
}
