package lua

import (
	"context"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
)

// TestNumberBoxes checks that boxed numbers keep their values through block changes
// and garbage collections, and equal the numbers gopher-lua itself makes.
func TestNumberBoxes(t *testing.T) {
	var nb numberBoxes
	inputs := []float64{0, math.Copysign(0, -1), 1, 2, 255, 256, -1, 0.5, 1e300, math.Inf(-1), math.MaxInt64}
	var kept []glua.LValue
	var want []float64
	for i := range 1000 {
		f := inputs[i%len(inputs)] + float64(i/len(inputs))*0.25
		kept = append(kept, nb.box(f))
		want = append(want, f)
		if i%300 == 0 {
			runtime.GC()
		}
	}
	runtime.GC()
	for i, v := range kept {
		n, ok := v.(glua.LNumber)
		if !ok || math.Float64bits(float64(n)) != math.Float64bits(want[i]) {
			t.Fatalf("box %d holds %v (%T), want %v", i, v, v, want[i])
		}
		if v != glua.LValue(glua.LNumber(want[i])) && !math.IsNaN(want[i]) {
			t.Fatalf("box %d does not compare equal to a plain LNumber", i)
		}
	}
	if v := nb.box(math.NaN()); !math.IsNaN(float64(v.(glua.LNumber))) {
		t.Errorf("NaN boxed as %v", v)
	}
}

// maxFormatSlack is how far past what a conversion writes its bound may be.
const maxFormatSlack = 16

// TestFormatBound checks that parseFormat bounds what string.format builds for every
// conversion Lua 5.1 has, with every combination of flags, with and without a width
// and a precision, and for arguments that make each conversion print the most: long
// strings of bytes that %q and %x expand, numbers at the ends of the range; and
// that the bound is tight, at most the format and maxFormatSlack bytes past it.
func TestFormatBound(t *testing.T) {
	L := glua.NewState()
	defer L.Close()
	installCaps(L)
	format := L.GetGlobal("string").(*glua.LTable).RawGetString("format").(*glua.LFunction)
	var args []glua.LValue
	for _, s := range []string{"", "12", "\x00\x01\xff\"\\\n", "\x01", "\xff", "\u00e9", "\u20ac", "\U0001F600", "\u2028"} {
		args = append(args, glua.LString(s), glua.LString(strings.Repeat(s, 300)))
	}
	for _, f := range []float64{0, -1.5, 255, 1 << 62, 1 << 63, -1e308, 1e308, 5e-324, math.NaN(), math.Inf(-1)} {
		args = append(args, glua.LNumber(f))
	}
	others := []glua.LValue{glua.LNil, glua.LTrue, L.NewTable(), L.NewFunction(func(*glua.LState) int { return 0 })}
	const flags = "-+ #0"
	checked := 0
	for set := range 1 << len(flags) {
		spec := "%"
		for i := range len(flags) {
			if set&(1<<i) != 0 {
				spec += flags[i : i+1]
			}
		}
		for _, size := range []string{"", "7", ".3", "99.99"} {
			for _, conv := range "cdiouxXeEfgGqs" {
				f := "<" + spec + size + string(conv) + ">"
				for _, a := range append(args, others...) {
					var bound uint64
					L.SetTop(0)
					L.Push(L.NewFunction(func(L *glua.LState) int {
						_, bound = parseFormat(L, f)
						return 0
					}))
					L.Push(glua.LString(f))
					L.Push(a)
					// Refused: a value other than a number or a string that reads
					// as one for a numeric conversion, other than a string or a
					// number for %s and %q.
					if err := L.PCall(2, 0, nil); err != nil {
						if a.Type() == glua.LTNumber || !strings.Contains(err.Error(), " expected") {
							t.Errorf("format(%q, %s): error %v", f, a.Type(), err)
						}
						continue
					}
					L.SetTop(0)
					if err := L.CallByParam(glua.P{Fn: format, NRet: 1, Protect: true}, glua.LString(f), a); err != nil {
						t.Fatal(err)
					}
					switch got := uint64(len(L.ToString(-1))); {
					case got > bound:
						t.Errorf("format(%q, %.20q...) built %d bytes, bound %d", f, a, got, bound)
					case bound > got+uint64(len(f))+maxFormatSlack:
						// A loose bound fails formats whose result fits the limits.
						t.Errorf("format(%q, %.20q...) built %d bytes, bound %d: more than the format and %d bytes over", f, a, got, bound, maxFormatSlack)
					}
					checked++
				}
			}
		}
	}
	if checked < 10000 {
		t.Errorf("only %d formats checked", checked)
	}
}

// stackSlots reads gopher-lua's value stack: were its layout to change, every
// coroutine would be charged its largest stack (4 MiB) when created.
func TestStackSlotsReadsTheStack(t *testing.T) {
	L := glua.NewState(stateOptions)
	defer L.Close()
	if got := stackSlots(L); got != stateOptions.RegistrySize {
		t.Fatalf("stackSlots = %d, want the initial %d", got, stateOptions.RegistrySize)
	}
}

// The clock is read every checkEvery instructions while they run fast, and every
// minCheckEvery once they turn slow (a comparison of two long strings is one
// instruction that takes milliseconds): a call past its deadline then stops
// within a few such instructions rather than up to 1,024 of them.
func TestChecksFollowSlowInstructions(t *testing.T) {
	b := &budget{limits: Limits{MaxExecutionTime: time.Hour}}
	b.begin(context.Background())
	for b.due == 0 { // the first check starts the clock
		b.Done()
	}
	if b.every != minCheckEvery {
		t.Fatalf("checks every %d instructions once the clock starts, want %d", b.every, minCheckEvery)
	}
	for b.every < checkEvery && b.count < 1e7 { // fast instructions
		b.Done()
	}
	if b.every != checkEvery {
		t.Fatalf("checks every %d fast instructions, want %d", b.every, checkEvery)
	}
	time.Sleep(2 * time.Millisecond) // the instructions until the next check take 2 µs each, or more
	for next := b.next; b.count < next; {
		b.Done()
	}
	if b.every != minCheckEvery {
		t.Fatalf("checks every %d slow instructions, want %d", b.every, minCheckEvery)
	}
}

// TestUpvalueLayoutFound checks that upvalueLayout finds gopher-lua's fields,
// its flag among them: set inside a PCall with an error function, clear
// outside.
func TestUpvalueLayoutFound(t *testing.T) {
	if !upvalueLayout.ok {
		t.Fatal("gopher-lua's upvalue fields not found: caught errors close upvalues as gopher-lua closes them")
	}
	flag := func(L *glua.LState) bool { return *(*bool)(unsafe.Add(unsafe.Pointer(L), upvalueLayout.flag)) }
	L := glua.NewState()
	defer L.Close()
	var inside bool
	L.Push(L.NewFunction(func(L *glua.LState) int { inside = flag(L); return 0 }))
	if err := L.PCall(0, 0, L.NewFunction(func(*glua.LState) int { return 1 })); err != nil {
		t.Fatal(err)
	}
	if !inside || flag(L) {
		t.Errorf("flag %v inside a PCall with an error function, %v after it; want true, false", inside, flag(L))
	}
}

// A Go panic inside pcall (a bug of a Go function; host functions' panics are
// errors) raises no error through the panic function that closes the upvalues
// of the frames it leaves: they are closed as pcall returns, once gopher-lua
// emptied their slots, so that a closure made there reads nil, not the local
// of the function that uses the slot next.
func TestGoPanicInPcallClosesUpvalues(t *testing.T) {
	L := glua.NewState()
	defer L.Close()
	installProtected(L)
	L.SetGlobal("boom", L.NewFunction(func(*glua.LState) int { panic("go") }))
	err := L.DoString(`
local kept
local function fill(a, b, c, d) return a + b + c + d end
local ok, e = pcall(function() local v = 41; kept = function() v = (v or 0) + 1; return v end; boom() end)
fill(100, 200, 300, 400)
result = {ok, e, kept()}`)
	if err != nil {
		t.Fatal(err)
	}
	r := L.GetGlobal("result").(*glua.LTable)
	if ok, e, v := r.RawGetInt(1), r.RawGetInt(2), r.RawGetInt(3); ok != glua.LFalse || !strings.Contains(e.String(), "go") || v != glua.LNumber(1) {
		t.Errorf("pcall = %v, %v; the closure read %v, want false, go and 1 (a nil variable)", ok, e, v)
	}
}
