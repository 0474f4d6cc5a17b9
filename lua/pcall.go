package lua

import (
	"reflect"
	"unsafe"

	glua "github.com/yuin/gopher-lua"
)

// gopher-lua's pcall builds a traceback of the whole call stack for every error
// it catches, and throws it away: the script sees only the error value. The
// traceback reads each frame with GetStack(i), which walks i frames, so it takes
// time in the square of the call depth, all in the one instruction of the
// pcall: at a depth of 1,000 about 7 ms per caught error, so that a loop of
// pcall(error, "x") there ran 8 seconds within 10,000 instructions. xpcall
// builds one too when its handler fails. The pcall and xpcall installed here
// catch the same errors and return the same values without building it.
//
// The traceback is built by PCall when the error it recovers carries none, and
// PCall installs its own panic function (the one raising errors) on entry, so
// the function is called through untraced, which installs one that marks the
// error as traced already; PCall puts back the previous one when it returns.

// untracedMark is the traceback of an error raised inside the package's pcall,
// which no one reads: the script gets the error value, and an error leaving
// the call gets a traceback of its own, at the call's own PCall.
const untracedMark = "stack traceback: (not built inside pcall)"

// panicUntraced raises the error value on top of L's stack, as gopher-lua's
// panicWithoutTraceback does, with a traceback already set.
func panicUntraced(L *glua.LState) {
	panic(&glua.ApiError{Type: glua.ApiErrorRun, Object: L.Get(-1), StackTrace: untracedMark})
}

// untraced calls its first argument with the others, returning all its results,
// with errors raised as panicUntraced raises them, closing the upvalues of the
// frames they leave.
//
// gopher-lua closes them only while no PCall with an error function runs (a
// flag, hasErrorFunc, which such a PCall sets on entry and every PCall clears
// as it returns), so that in an xpcall'd function, and after a pcall inside
// one, they stayed open: a closure made in a frame an error left went on
// reading its variable's old slot of the value stack, another function's local
// or a Go nil, which no Lua value is (helper-240; stored in a field, it ended
// the process at the next reload). untraced clears the flag: gopher-lua reads
// it for nothing else, and runs an error function once the error has left the
// frames, where the flag is cleared already.
//
// An error closes every open upvalue, those of the live frames below included
// (gopher-lua's closeAllUpvalues), as any error gopher-lua catches does: a
// closure made before the call and called after a caught error updates a copy
// of its variable, which the function that made it no longer sees.
func untraced(L *glua.LState) int {
	L.Panic = panicUntraced
	*errorFuncRunning(L) = false
	L.Call(L.GetTop()-1, glua.MultRet)
	return L.GetTop()
}

// installProtected replaces pcall, xpcall and load (which calls a reader
// function protected).
func installProtected(L *glua.LState) {
	p := protectors{through: L.NewFunction(untraced)}
	L.SetGlobal("pcall", L.NewFunction(p.pcall))
	L.SetGlobal("xpcall", L.NewFunction(p.xpcall))
	L.SetGlobal("load", L.NewFunction(p.load))
}

// protectors are what a state's pcall, xpcall and load call a function
// through: through, untraced.
type protectors struct{ through *glua.LFunction }

// pcall is gopher-lua's pcall, calling the function through untraced.
func (p protectors) pcall(L *glua.LState) int {
	L.CheckAny(1)
	v := L.Get(1)
	if v.Type() != glua.LTFunction && L.GetMetaField(v, "__call").Type() != glua.LTFunction {
		L.Push(glua.LFalse)
		L.Push(glua.LString("attempt to call a " + v.Type().String() + " value"))
		return 2
	}
	nargs := L.GetTop() - 1
	L.Insert(p.through, 1)
	if err := L.PCall(nargs+1, glua.MultRet, nil); err != nil {
		return pushFailure(L, err)
	}
	L.Insert(glua.LTrue, 1)
	return L.GetTop()
}

// errorFuncRunning is L's flag that a PCall with an error function runs
// (see untraced).
func errorFuncRunning(L *glua.LState) *bool {
	if errorFuncFlag == 0 {
		return new(bool)
	}
	return (*bool)(unsafe.Add(unsafe.Pointer(L), errorFuncFlag))
}

// errorFuncFlag is where gopher-lua keeps an LState's hasErrorFunc, which it
// does not export; 0 if a gopher-lua version has no such bool, so that untraced
// leaves it (TestErrorFuncFlagFound fails then).
var errorFuncFlag = func() uintptr {
	f, ok := reflect.TypeFor[glua.LState]().FieldByName("hasErrorFunc")
	if !ok || f.Type.Kind() != reflect.Bool || f.Offset == 0 {
		return 0
	}
	return f.Offset
}()

// xpcall is gopher-lua's xpcall, with the function and the handler called
// through untraced, the handler by an error function of its own: the handler
// still runs where gopher-lua runs it, above the frames of the error
// (debug.traceback sees them), and when it fails, xpcall still returns false
// and the handler's error.
func (p protectors) xpcall(L *glua.LState) int {
	fn := L.CheckFunction(1)
	handler := L.CheckFunction(2)
	top := L.GetTop()
	L.Push(p.through)
	L.Push(fn)
	if err := L.PCall(1, glua.MultRet, L.NewClosure(xpcallError, handler, p.through)); err != nil {
		return pushFailure(L, err)
	}
	L.Insert(glua.LTrue, top+1)
	return L.GetTop() - top
}

// xpcallError is xpcall's error function: a closure of the handler and of the
// state's through (see protectors), which calls the handler.
func xpcallError(L *glua.LState) int {
	handler, through := L.Get(glua.UpvalueIndex(1)), L.Get(glua.UpvalueIndex(2))
	L.Replace(1, orNil(L.Get(1))) // the error value: error() of a Go nil (see orNil)
	holdError(L, L.Get(1))
	L.Insert(handler, 1)
	L.Insert(through, 1)
	if err := L.PCall(L.GetTop()-1, 1, nil); err != nil {
		pushFailure(L, err)
	}
	return 1
}

// pushFailure pushes false and the error value of err, as pcall returns them.
func pushFailure(L *glua.LState, err error) int {
	L.Push(glua.LFalse)
	if aerr, ok := err.(*glua.ApiError); ok {
		L.Push(orNil(aerr.Object)) // error() of a Go nil (see orNil)
	} else {
		L.Push(glua.LString(err.Error()))
	}
	holdError(L, L.Get(-1))
	return 2
}
