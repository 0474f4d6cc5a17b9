package lua

import (
	"reflect"
	"strings"
	"unsafe"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
	"github.com/hotscript/hotscript/internal/gopherlua/parse"
)

const (
	maxResumeDepth = 200 // coroutine resumes nested in one another (see openCoroutine)
	slotBytes      = 16  // a value stack slot: an interface (8 bytes on 32-bit platforms; charged as 16 on all)
)

// openCoroutine opens the coroutine library with create, resume and wrap replaced so
// that every coroutine runs on the budget of the call that resumes it: its
// instructions count against that call's limits, and so does its memory:
// threadBytes when it is created, and its value stack's growth while the call
// resumes it (see budget.enter).
//
// gopher-lua runs a resumed coroutine on the resumer's Go stack, so coroutines
// resuming coroutines nest Go calls, and a script that does so without end would
// overflow the Go stack, which kills the process. Resumes therefore nest at most
// maxResumeDepth deep, as in Lua 5.1 (its C stack limit): one more fails like a
// coroutine that raised "C stack overflow".
//
// yield is replaced too, to refuse a yield that Lua 5.1 refuses: see
// yieldCrossesGo. resume (and a wrap function) refuses, as Lua 5.1 does, a
// coroutine that is resuming the one running (gopher-lua ran it again, from
// the middle of its resume: a Go runtime error, or a Go stack overflow that
// ends the process), and one of another LState (a wrap function a reload
// carried in a field, whose coroutine belongs to the old version: gopher-lua
// ran it once and then failed with "can not resume a running thread").
//
// A coroutine runs its function through a trampoline (see trampoline).
func openCoroutine(L *glua.LState) {
	L.Push(L.NewFunction(glua.OpenCoroutine))
	L.Push(glua.LString(glua.CoroutineLibName))
	L.Call(1, 0)
	co := L.GetGlobal(glua.CoroutineLibName).(*glua.LTable)
	create := co.RawGetString("create").(*glua.LFunction).GFunction
	resume := co.RawGetString("resume").(*glua.LFunction).GFunction
	enter := trampoline(L)
	newThread := func(L *glua.LState) *glua.LState {
		b := budgetOf(L)
		b.alloc(L, threadBytes)
		L.Push(enter)
		L.Push(L.CheckFunction(1))
		L.Call(1, 1)
		L.Replace(1, L.Get(-1))
		L.Pop(1)
		create(L)
		th := L.ToThread(-1)
		if extra := stackSlots(th) - stateOptions.RegistrySize; extra > 0 {
			b.alloc(L, uint64(extra)*slotBytes) // only if stackSlots cannot see the stack
		}
		return th
	}
	bind := func(L, th *glua.LState) {
		if ctx := L.Context(); ctx != nil {
			th.SetContext(ctx)
		} else {
			th.RemoveContext()
		}
	}
	refusal := func(L, th *glua.LState) string {
		resuming, depth := resumers(L, th)
		switch {
		case th.G != L.G:
			return "cannot resume a coroutine of another version of the script"
		case th.Dead:
			return "cannot resume dead coroutine"
		case resuming:
			return "cannot resume non-suspended coroutine" // it resumed the one running
		case depth >= maxResumeDepth:
			return "C stack overflow"
		}
		return ""
	}
	// resumeNested resumes th, which refusal let through.
	resumeNested := func(L, th *glua.LState) int {
		if b := budgetOf(L); b != nil {
			b.enter(th)
			defer b.leave()
		}
		for want := yieldResults(th); L.GetTop()-1 < want; {
			L.Push(glua.LNil) // the yield's results it is not given (see yieldResults)
		}
		n := resume(L)
		for i := L.GetTop() - n + 1; i <= L.GetTop(); i++ {
			L.Replace(i, orNil(L.Get(i))) // an error() of a Go nil (see orNil)
		}
		if n == 2 && L.Get(-2) == glua.LFalse {
			holdError(L, L.Get(-1))
		}
		return n
	}
	co.RawSetString("yield", L.NewFunction(func(L *glua.LState) int {
		if yieldCrossesGo(L) {
			L.RaiseError("attempt to yield across metamethod/C-call boundary")
		}
		return -1 // gopher-lua's yield
	}))
	co.RawSetString("status", L.NewFunction(func(L *glua.LState) int {
		th := L.CheckThread(1)
		status := L.Status(th)
		if resuming, _ := resumers(L, th); resuming && status == "suspended" {
			status = "normal" // gopher-lua says so of the one that resumed L only
		}
		L.Push(glua.LString(status))
		return 1
	}))
	co.RawSetString("create", L.NewFunction(func(L *glua.LState) int {
		bind(L, newThread(L))
		return 1
	}))
	co.RawSetString("resume", L.NewFunction(func(L *glua.LState) int {
		th := L.CheckThread(1)
		if refused := refusal(L, th); refused != "" {
			L.Push(glua.LFalse)
			L.Push(glua.LString(refused))
			return 2
		}
		bind(L, th)
		return resumeNested(L, th)
	}))
	co.RawSetString("wrap", L.NewFunction(func(L *glua.LState) int {
		th := newThread(L)
		L.Push(L.NewFunction(func(L *glua.LState) int {
			// An error, the coroutine's or a refusal, gets the caller's
			// position in front if it is a string or a number, as Lua
			// 5.1's wrap puts it.
			placed := func(msg glua.LValue) glua.LValue {
				switch msg.(type) {
				case glua.LString, glua.LNumber:
					return glua.LString(where(L, 1) + glua.LVAsString(msg))
				}
				return msg
			}
			if refused := refusal(L, th); refused != "" {
				L.Error(placed(glua.LString(refused)), 0)
			}
			L.Insert(th, 1)
			bind(L, th)
			n := resumeNested(L, th)
			first := L.GetTop() - n + 1 // not -n: past 9,999 results, a pseudo-index (the registry)
			if ok := L.Get(first); ok != glua.LTrue {
				L.Error(placed(L.Get(first+1)), 0)
			}
			return n - 1
		}))
		return 1
	}))
}

// resumed is a coroutine that a call is resuming, with the size of its value
// stack, in slots, that the call has been charged for.
type resumed struct {
	th    *glua.LState
	slots int
}

// enter notes that the call resumes th, after charging the resumer's stack
// growth if the resumer is a coroutine itself. A coroutine's value stack grows
// on demand up to stateOptions.RegistryMaxSize slots (4 MiB), and only a
// coroutine that is running can grow its own, so the call is charged for the
// growth of the innermost coroutine it resumes: here, at leave, and at every
// check (every checkEvery instructions). 80 coroutines recursing deep and
// yielding held 250 MiB under a 16 MiB MaxMemoryBytes, charged 96 KiB each.
func (b *budget) enter(th *glua.LState) {
	b.measureStack()
	b.resumed = append(b.resumed, resumed{th, stackSlots(th)})
}

// leave notes that the innermost resume has returned (the coroutine yielded,
// returned or failed), charging its growth and the resumer's: resume moves the
// results onto the resumer's stack.
func (b *budget) leave() {
	b.measureStack()
	b.resumed[len(b.resumed)-1] = resumed{} // no reference kept to the coroutine
	b.resumed = b.resumed[:len(b.resumed)-1]
	b.measureStack()
}

// measureStack charges the growth of the innermost resumed coroutine's value
// stack since it was last measured, as memory and as work (the stack is copied
// as it grows). It raises nothing: an exceeded limit stops the call at its next
// instruction.
func (b *budget) measureStack() {
	if len(b.resumed) == 0 {
		return
	}
	r := &b.resumed[len(b.resumed)-1]
	slots := stackSlots(r.th)
	if slots <= r.slots {
		return
	}
	n := uint64(slots-r.slots) * slotBytes
	r.slots = slots
	b.mem += n
	b.count += n / bytesPerUnit
	if max := b.limits.MaxMemoryBytes; max > 0 && b.mem > max && b.tripped == nil {
		b.tripped = ErrMemoryLimit
	}
	if b.tripped != nil || b.count >= b.next {
		b.next = 0 // the next instruction checks, and raises the error
	}
}

// regIndex and arrayIndex reach gopher-lua's value stack, LState.reg.array, which
// it does not export: its capacity is the memory the stack holds. Both are nil if
// a gopher-lua version lays its state out differently; see stackSlots.
var regIndex, arrayIndex = func() ([]int, []int) {
	reg, ok := reflect.TypeFor[glua.LState]().FieldByName("reg")
	if !ok || reg.Type.Kind() != reflect.Pointer || reg.Type.Elem().Kind() != reflect.Struct {
		return nil, nil
	}
	array, ok := reg.Type.Elem().FieldByName("array")
	if !ok || array.Type.Kind() != reflect.Slice {
		return nil, nil
	}
	return reg.Index, array.Index
}()

// stackSlots is the capacity of th's value stack, in slots. If gopher-lua's
// layout cannot be read, it is the most the stack can grow to, so that a
// coroutine is charged its whole stack when it is created.
func stackSlots(th *glua.LState) int {
	if regIndex == nil {
		return stateOptions.RegistryMaxSize
	}
	reg := reflect.ValueOf(th).Elem().FieldByIndex(regIndex)
	if reg.IsNil() {
		return 0
	}
	return reg.Elem().FieldByIndex(arrayIndex).Cap()
}

// resumers reports whether th is resuming L's thread, directly or through
// others (it is L itself, or L's parent, or its parent's...), and how many
// resumes are in progress below L. gopher-lua links a resumed thread to its
// resumer (Parent) until it yields or ends; the chain is each LState's own, so
// that a function of an older version (a closure a reload carried), which runs
// that version's coroutine library, sees it too.
func resumers(L, th *glua.LState) (resuming bool, depth int) {
	for p := L; p != nil; p = p.Parent {
		resuming = resuming || p == th
		if p.Parent != nil {
			depth++
		}
	}
	return resuming, depth
}

// trampolineProto is the chunk that makes trampolines, compiled once, and
// trampolineProtos its functions, which the trampolines of every LState run:
// where a Lua function is one of them, it is a trampoline.
var trampolineProto, trampolineProtos = func() (*glua.FunctionProto, map[*glua.FunctionProto]bool) {
	chunk, err := parse.Parse(strings.NewReader(`local function pass(...) return ... end
return function(coroutine_function)
  return function(...) return pass(coroutine_function(...)) end
end`), "[coroutine]") // not [string "..."], as a script's own loadstring chunks are
	if err != nil {
		panic(err) // a constant chunk
	}
	proto, err := glua.Compile(chunk, "[coroutine]")
	if err != nil {
		panic(err)
	}
	protos := map[*glua.FunctionProto]bool{}
	eachProto(proto, func(p *glua.FunctionProto) { protos[p] = true })
	return proto, protos
}()

// trampoline returns a function that, given f, returns a Lua function calling f
// with its arguments and returning all f returns, which a coroutine runs in
// place of f. gopher-lua mishandles two coroutines Lua 5.1 runs: one whose
// first frame is replaced by a yield (return coroutine.yield(x) in f, which
// tail-calls it, or f = coroutine.yield), whose next resume found no frame to
// return to (a Go nil pointer dereference, the coroutine left "running"); and
// one whose f is a Go function (coroutine.create(math.max)), which never ended
// (resume returned nothing, not even true). f called from the trampoline, not
// tail-called, has a Lua frame below it that ends the coroutine. It copies
// the arguments and the results on the coroutine's value stack (of 256 Ki
// slots at most), so a coroutine takes or returns at most about 80,000 values.
func trampoline(L *glua.LState) *glua.LFunction {
	L.Push(L.NewFunctionFromProto(trampolineProto))
	L.Call(0, 1)
	enter := L.Get(-1).(*glua.LFunction)
	L.Pop(1)
	return enter
}

// yieldCrossesGo reports whether a coroutine.yield running on L would leave a
// function that Go called: one called by a builtin (pcall's, xpcall's handler,
// a table.sort comparator, a gsub replacement, a load reader, a __tostring
// tostring calls) or by the VM outside a call instruction (a metamethod such
// as __index or __concat, a generic for's iterator). gopher-lua runs each of
// those in a loop of its own on the Go stack, which a yield ends as if the
// function had returned: the builtin or instruction went on with a broken
// stack (a Go nil pointer dereference, "register underflow", a coroutine left
// "running", an xpcall that never returned). Lua 5.1 refuses such a yield
// with a catchable error, and so does this package.
//
// It walks L's call frames from yield's caller down to the coroutine's first
// (whose parent is nil): every one must have been called by a Lua function's
// CALL or TAILCALL instruction. If gopher-lua's frames cannot be read (see
// frameLayout), every yield is let through, as gopher-lua does.
func yieldCrossesGo(L *glua.LState) bool {
	fl := &frameLayout
	if !fl.ok {
		return false
	}
	cf := currentFrame(L) // yield's own frame
	for cf != nil {
		_, parent := frameOf(cf)
		if parent == nil {
			return false
		}
		fn, _ := frameOf(parent)
		if fn == nil || fn.IsG || fn.Proto == nil {
			return true
		}
		pc := *(*int)(unsafe.Add(parent, fl.pc))
		if pc < 1 || pc > len(fn.Proto.Code) {
			return true
		}
		if op := int(fn.Proto.Code[pc-1] >> 26); op != glua.OP_CALL && op != glua.OP_TAILCALL {
			return true
		}
		cf = parent
	}
	return false
}

// currentFrame is L's current call frame (see frameLayout), or nil.
func currentFrame(L *glua.LState) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(L), frameLayout.current))
}

// frameOf returns the function of the call frame cf and the frame that called
// it (nil for none).
func frameOf(cf unsafe.Pointer) (*glua.LFunction, unsafe.Pointer) {
	return *(**glua.LFunction)(unsafe.Add(cf, frameLayout.fn)), *(*unsafe.Pointer)(unsafe.Add(cf, frameLayout.parent))
}

// yieldResults is the number of values th, suspended in a yield, takes back as
// the yield's results, or -1 for any number (or if th is not suspended in a
// yield a Lua function called). gopher-lua's resume puts the values it is
// given where the yield's call expects its results, and no nil for those it
// is not given: the registers past them kept what they held, another value
// or a Go nil, which no Lua value is (helper-259: local cmd =
// coroutine.yield(), resumed with no value, read a stale value, or made
// type(cmd) a nil-pointer error). The call is the instruction before the one
// th's Lua frame runs next (after a tail-called yield, the call of the
// function that made it), whose C operand is the results it takes, plus one.
func yieldResults(th *glua.LState) int {
	if !frameLayout.ok {
		return -1
	}
	cf := currentFrame(th)
	if cf == nil { // not started
		return -1
	}
	fn, _ := frameOf(cf)
	pc := *(*int)(unsafe.Add(cf, frameLayout.pc))
	if fn == nil || fn.IsG || pc < 1 || pc > len(fn.Proto.Code) {
		return -1
	}
	inst := fn.Proto.Code[pc-1]
	if int(inst>>26) != glua.OP_CALL {
		return -1
	}
	return int(inst>>9)&0x1ff - 1
}

// frameLayout is where gopher-lua keeps an LState's current call frame and a
// frame's function, parent, next instruction, count of tail calls, first
// local's slot and place in the call stack, which it does not export;
// ok is false if a gopher-lua version lays them out differently.
var frameLayout = func() (l struct {
	current, fn, parent, pc, tail, base, idx uintptr
	ok                                       bool
}) {
	cur, ok := reflect.TypeFor[glua.LState]().FieldByName("currentFrame")
	if !ok || cur.Type.Kind() != reflect.Pointer || cur.Type.Elem().Kind() != reflect.Struct {
		return l
	}
	frame := cur.Type.Elem()
	fn, ok1 := frame.FieldByName("Fn")
	parent, ok2 := frame.FieldByName("Parent")
	pc, ok3 := frame.FieldByName("Pc")
	tail, ok4 := frame.FieldByName("TailCall")
	base, ok5 := frame.FieldByName("LocalBase")
	idx, ok6 := frame.FieldByName("Idx")
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || fn.Type != reflect.TypeFor[*glua.LFunction]() || parent.Type != cur.Type ||
		pc.Type != reflect.TypeFor[int]() || tail.Type != reflect.TypeFor[int]() || base.Type != reflect.TypeFor[int]() ||
		idx.Type != reflect.TypeFor[int]() {
		return l
	}
	l.current, l.fn, l.parent, l.pc, l.tail, l.base, l.idx, l.ok = cur.Offset, fn.Offset, parent.Offset, pc.Offset, tail.Offset, base.Offset, idx.Offset, true
	return l
}()
