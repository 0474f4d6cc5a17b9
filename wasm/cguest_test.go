package wasm_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/guest"
	"github.com/hotscript/hotscript/wasm"
)

// TestBrokenOffCallsKeepTheStack checks that calls that break off inside a C
// function's stack frame (a limit, a trap, a host function's error) leave the
// C stack where it was: each left its frame behind, and a few hundred of them
// walked the stack down over the module's static data, rewriting its state
// without an error, and then every call failed.
func TestBrokenOffCallsKeepTheStack(t *testing.T) {
	for _, c := range []struct {
		name string
		lim  wasm.Limits
		how  int // work's way of breaking off
		kind error
	}{
		{"instruction limit", wasm.Limits{MaxInstructions: 100_000}, 1, wasm.ErrInstructionLimit},
		{"time limit", wasm.Limits{MaxExecutionTime: time.Millisecond}, 1, wasm.ErrTimeout},
		{"trap", wasm.Limits{}, 2, wasm.ErrTrap},
		{"trap, metered", wasm.Limits{MaxInstructions: 1 << 30}, 2, wasm.ErrTrap},
		{"host function error", wasm.Limits{}, 3, wasm.ErrTrap},
	} {
		t.Run(c.name, func(t *testing.T) {
			rt := newRuntime(t, c.lim)
			err := rt.Define("host", "fail", wasm.HostFunc{Params: []wasm.ValueType{wasm.I32},
				Func: func(context.Context, *wasm.Caller, []uint64) error { return errors.New("failed on purpose") }})
			if err != nil {
				t.Fatal(err)
			}
			id, err := rt.Load(ctx, "frames", guest.Bytes("frames"), nil)
			if err != nil {
				t.Fatal(err)
			}
			const broken = 400 // 272 bytes each: more than the 64 KiB of stack
			for i := range broken {
				_, err := rt.CallJSON(ctx, id, "work", c.how)
				if !errors.Is(err, c.kind) {
					t.Fatalf("call %d: %v, want %v", i, err, c.kind)
				}
			}
			if got := callInt(t, rt, id, "work", 0); got != 100-broken-1 {
				t.Errorf("work(0) = %d, want %d: the state was written over (or its constructor ran again)", got, 100-broken-1)
			}
			for i, want := range []int{7, 0, 0, 63: 0} {
				if got := callInt(t, rt, id, "item", i); got != want {
					t.Errorf("item(%d) = %d, want %d: the state was written over", i, got, want)
				}
			}
		})
	}
}

// TestCGuest checks what the C build flags (scripts/build-guests.sh, as
// watch.DefaultBuildSteps) give a C guest: its constructors run once, as the
// module starts (wasm-ld ran them before every call of an export, starting
// the state over each time), and cannot be called again; a recursion past the
// stack traps without writing over the static data (the stack lay above it,
// growing down over it); and a function returning a struct of two ints
// returns a JSON document as (ptr, len).
func TestCGuest(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	if err := rt.Define("host", "fail", wasm.HostFunc{Params: []wasm.ValueType{wasm.I32},
		Func: func(context.Context, *wasm.Caller, []uint64) error { return nil }}); err != nil {
		t.Fatal(err)
	}
	id, err := rt.Load(ctx, "frames", guest.Bytes("frames"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for want := 99; want > 96; want-- {
		if got := callInt(t, rt, id, "work", 0); got != want {
			t.Fatalf("work(0) = %d, want %d: the constructor ran again", got, want)
		}
	}
	if _, err := rt.CallJSON(ctx, id, "__wasm_call_ctors"); !errors.Is(err, wasm.ErrNoFunction) {
		t.Errorf("calling the constructors: %v, want ErrNoFunction", err)
	}
	for range 3 {
		if _, err := rt.CallJSON(ctx, id, "dive", 100_000); !errors.Is(err, wasm.ErrTrap) {
			t.Fatalf("dive past the stack: %v, want a trap", err)
		}
	}
	if got := call(t, rt, id, "doc"); got != `{"hp":97}` {
		t.Errorf("doc() = %s, want {\"hp\":97}: the state was written over", got)
	}
	if got := callInt(t, rt, id, "item", 0); got != 7 {
		t.Errorf("item(0) = %d, want 7: the state was written over", got)
	}
}

// TestInitializerShapes: the runtime runs a module's _initialize, or else its
// __wasm_call_ctors, once as it starts, only if it takes and returns nothing,
// and not __wasm_call_ctors where the module calls it itself (from an init
// export of its own: they would run twice); nor an export named "". Only the
// constructors it runs are hidden.
func TestInitializerShapes(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	self := loadTest(t, rt, "ctors_self", nil)
	call(t, rt, self, "init")
	if got := callInt(t, rt, self, "runs"); got != 1 {
		t.Errorf("a module that runs its constructors from init: they ran %d times, want once", got)
	}
	if _, err := rt.CallJSON(ctx, self, "__wasm_call_ctors"); err != nil {
		t.Errorf("constructors the runtime does not run are an ordinary export: %v", err)
	}
	// Nor where it is the start function, or the start function calls it
	// (helper-172: they ran twice), metered or not, as loaded or reloaded.
	for _, lim := range []wasm.Limits{{}, {MaxExecutionTime: time.Minute}} {
		rt := newRuntime(t, lim)
		for _, name := range []string{"start_is_ctors", "start_is_init", "start_calls_init"} {
			id := loadTest(t, rt, name, nil)
			if got := callInt(t, rt, id, "runs"); got != 1 {
				t.Errorf("%s (limits %v): ran %d times as loaded, want once", name, lim, got)
			}
			if err := rt.ReloadModule(ctx, id, testModule(t, name)); err != nil {
				t.Fatal(err)
			}
			if got := callInt(t, rt, id, "runs"); got != 1 {
				t.Errorf("%s (limits %v): ran %d times as reloaded, want once", name, lim, got)
			}
		}
	}
	shapes := loadTest(t, rt, "ctors_shapes", nil)
	if got := callInt(t, rt, shapes, "runs"); got != 0 {
		t.Errorf("exports of other shapes, or named \"\": %d ran as the module started, want none", got)
	}
	info, err := wasm.Inspect(ctx, testModule(t, "ctors_shapes"))
	if err != nil {
		t.Fatal(err)
	}
	if got := infoStrings(info.Exports); !slices.Contains(got, "__wasm_call_ctors(i32)") || !slices.Contains(got, "_initialize() i32") {
		t.Errorf("Exports = %q, want __wasm_call_ctors(i32) and _initialize() i32 listed", got)
	}
}
