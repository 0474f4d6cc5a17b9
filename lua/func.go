package lua

import (
	"context"
	"fmt"
	"math"
	"unsafe"

	glua "github.com/yuin/gopher-lua"
)

// Func is a handle on one function of a script, for hot loops: numbers in, a number
// out, no JSON and no allocation per call. It names the function rather than holding
// it, so it follows reloads (and a script that assigns a new M.name) with no action
// from the caller. A Func is safe for concurrent use; calls into one script run one
// at a time, whichever handle or method they come through.
type Func struct {
	s    *script
	name string
}

// Func returns a handle on the module's function name of script id. The function need
// not exist yet: Call fails with ErrNoFunction for as long as it does not. Func is
// safe for concurrent use.
func (rt *Runtime) Func(id ScriptID, name string) (*Func, error) {
	s, err := rt.script("func", id)
	if err != nil {
		return nil, err
	}
	return &Func{s: s, name: name}, nil
}

// Call calls the function with args, one Lua number each, under the script's limits,
// and returns its first result: a number, or 0 when the function returns nothing or
// nil. Any other result is an error matching ErrJSON; Lua errors and limits come as
// an *Error, as from CallJSON.
//
// Each call reads the module's field afresh (one string-keyed map read), which is
// how it follows reloads and reassignment; everything else about the call is the
// same as a raw gopher-lua PCall, plus the script's mutex.
func (f *Func) Call(ctx context.Context, args ...float64) (float64, error) {
	s := f.s
	s.mu.Lock() // unlocked by hand on every path: a defer costs a measurable share here
	v := s.cur
	if v == nil {
		s.mu.Unlock()
		return 0, s.gone("call")
	}
	fn, ok := v.module.RawGetString(f.name).(*glua.LFunction)
	if !ok { // absent (perhaps behind __index) or not a function: the general path
		lv, err := v.function(ctx, s.name, f.name)
		if err != nil {
			s.mu.Unlock()
			return 0, err
		}
		fn = lv.(*glua.LFunction)
	}
	L := v.L
	L.Push(fn)
	for _, a := range args {
		L.Push(v.numbers.box(a))
	}
	if err := v.pcall(ctx, len(args), 1); err != nil {
		err = v.fail(err, "call", s.name, f.name)
		s.mu.Unlock()
		return 0, err
	}
	r := L.Get(-1)
	L.Pop(1)
	s.mu.Unlock()
	switch r := r.(type) {
	case glua.LNumber:
		return float64(r), nil
	case *glua.LNilType:
		return 0, nil
	}
	return 0, &Error{Op: "call", Script: s.name, Function: f.name, Kind: ErrJSON,
		Message: fmt.Sprintf("%s result: got %s, want a number", f.name, r.Type())}
}

// numberBoxes turns float64s into Lua values without a heap allocation each. An
// LValue holding an LNumber is an interface whose data word points to a float64;
// converting normally allocates those 8 bytes every time. numberBoxes hands out the
// slots of a 1 KiB block instead, the technique gopher-lua's own allocator (alloc.go)
// uses for the numbers the VM computes: one allocation per 128 numbers, and none for
// the integers 0 to 255, which are boxed once for the whole process. A block is freed
// once no value pointing into it is reachable. Like the LState it feeds, it is used
// only under the script's mutex (by Func.Call and CallJSON).
type numberBoxes struct {
	block *[128]float64
	next  int
}

// smallNumbers are the boxed integers 0 to 255, shared by every script: the values
// are immutable.
var smallNumbers = func() (n [256]glua.LValue) {
	for i := range n {
		n[i] = glua.LNumber(i)
	}
	return n
}()

func (nb *numberBoxes) box(f float64) glua.LValue {
	if i := int(f); float64(i) == f && i >= 0 && i < len(smallNumbers) && (i != 0 || math.Float64bits(f) == 0) {
		return smallNumbers[i]
	}
	if nb.block == nil || nb.next == len(nb.block) {
		nb.block, nb.next = new([128]float64), 0
	}
	p := &nb.block[nb.next]
	nb.next++
	*p = f
	var v glua.LValue = glua.LNumber(0) // a static value: no allocation
	(*[2]unsafe.Pointer)(unsafe.Pointer(&v))[1] = unsafe.Pointer(p)
	return v
}
