package lua

import (
	"context"
	"fmt"
	"math"
	"unsafe"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
)

// Func is a handle on one function of a script, for hot loops: numbers in, a number
// out, no JSON and no allocation per call.
//
// A Func binds the function value it resolves, M[name] looked up like CallJSON does
// (__index included), and keeps calling that value until the script's live version
// changes: a reload (ReloadScript, or Stage then Commit) makes its next call resolve
// M[name] again in the new version, with no action from the caller. So a Func follows
// reloads, but not a script that replaces its own function at run time: after
// M.name = g (or M.name = nil, or rawset, or a new metatable) CallJSON calls g at
// once, while a Func already bound keeps calling the function it bound until the next
// reload, and a Func made by Runtime.Func after the change binds g on its first call.
// A Func that finds no function (Call fails with ErrNoFunction) binds nothing and
// looks again on its next call. Whether the bound value is still current is one
// comparison of version numbers per call; reading M[name] instead would cost more
// than the rest of the handle's overhead over a raw gopher-lua call. Like wazero's
// api.Function, a Func is a handle on code, not on a table slot.
//
// A Func is safe for concurrent use; calls into one script run one at a time,
// whichever handle or method they come through.
type Func struct {
	s    *script
	name string

	// Guarded by s.mu. fn is the function resolved in the version numbered gen;
	// gen is 0 (never a script's gen) while nothing is bound.
	gen uint64
	fn  *glua.LFunction
}

// Func returns a handle on the module's function name of script id. The function need
// not exist yet: Call fails with ErrNoFunction for as long as it does not. The handle
// binds the function on its first successful call (see Func). Func is safe for
// concurrent use.
func (rt *Runtime) Func(id ScriptID, name string) (*Func, error) {
	s, err := rt.script("func", name, id)
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
// The first call after the handle is made or the script is reloaded resolves the
// function (see Func); later calls compare one version number and call the bound
// value. Everything else about the call is the same as a raw gopher-lua PCall, plus
// the script's mutex; a Lease takes that mutex once for many calls (Lease.Call).
func (f *Func) Call(ctx context.Context, args ...float64) (float64, error) {
	s := f.s
	if !s.mu.TryLock() { // s.lock, inlined; unlocked by hand: a defer costs a measurable share here
		if err := s.lockSlow(ctx, "call", f.name); err != nil {
			return 0, err
		}
	}
	r, err := f.call(ctx, args)
	s.mu.Unlock()
	return r, err
}

// call is Call with the script's mutex held by the caller: Func.Call, or a Lease,
// which has checked that f is a handle on its script.
func (f *Func) call(ctx context.Context, args []float64) (float64, error) {
	s := f.s
	if f.gen != s.gen {
		if err := f.bind(ctx); err != nil {
			return 0, err
		}
	}
	if len(args) > maxArgs {
		return 0, tooManyArgs(s.name, f.name, len(args))
	}
	v := s.cur
	L := v.L
	L.Push(f.fn)
	for _, a := range args {
		L.Push(v.numbers.box(a))
	}
	if err := v.pcall(ctx, len(args), 1); err != nil {
		return 0, v.fail(err, "call", s.name, f.name)
	}
	r := L.Get(-1)
	L.Pop(1)
	switch r := r.(type) {
	case glua.LNumber:
		return float64(r), nil
	case *glua.LNilType, nil: // nil: a Go nil, which an open upvalue can hold (see orNil)
		return 0, nil
	}
	return 0, &Error{Op: "call", Script: s.name, Function: f.name, Kind: ErrJSON,
		Message: fmt.Sprintf("%s result: got %s, want a number", f.name, r.Type())}
}

// bind resolves the function in the script's live version and binds it, or leaves
// the handle unbound and returns why not. The caller holds s.mu.
func (f *Func) bind(ctx context.Context) error {
	s := f.s
	f.gen, f.fn = 0, nil // drop the old version's function even if this fails
	v, err := s.live("call", f.name)
	if err != nil {
		return err
	}
	lv, err := v.function(ctx, s.name, f.name)
	if err != nil {
		return err
	}
	f.gen, f.fn = s.gen, lv.(*glua.LFunction)
	return nil
}

// numberBoxes turns float64s into Lua values without a heap allocation each. An
// LValue holding an LNumber is an interface whose data word points to a float64;
// converting normally allocates those 8 bytes every time. numberBoxes hands out the
// slots of a 1 KiB block instead, the technique gopher-lua's own allocator (alloc.go)
// uses for the numbers the VM computes: one allocation per 128 numbers, and none for
// the integers 0 to 255, which are boxed once for the whole process. A block is freed
// once no value pointing into it is reachable. Like the LState it feeds, it is used
// only under the script's mutex (by Func.Call and CallJSON, and, through boxAny,
// by host functions for their arguments).
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
	// A negative f, NaN or -0 fails the test whatever uint(f) is.
	if i := uint(f); i < uint(len(smallNumbers)) && float64(i) == f && math.Float64bits(f) != 1<<63 {
		return smallNumbers[i]
	}
	return nb.boxBlock(f)
}

// boxAny is box for a Go any holding a float64, a HostFunc's argument: the same
// slot under float64's type word, since an LNumber's data word points to the
// float64 alone.
func (nb *numberBoxes) boxAny(f float64) any {
	lv := nb.box(f)
	a := anyFloat64 // float64's type word, a static value's data
	(*[2]unsafe.Pointer)(unsafe.Pointer(&a))[1] = (*[2]unsafe.Pointer)(unsafe.Pointer(&lv))[1]
	return a
}

var anyFloat64 any = float64(0)

// boxBlock is box for the numbers outside smallNumbers; kept apart so that box,
// small, is inlined into its callers.
//
//go:noinline
func (nb *numberBoxes) boxBlock(f float64) glua.LValue {
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
