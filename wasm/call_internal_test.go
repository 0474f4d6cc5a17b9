package wasm

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"
	"unsafe"
	"weak"

	"github.com/hotscript/hotscript/internal/guest"
)

// A Func keeps no closed instance, and so no closed module's memory, alive once
// a call finds its function gone from the new version or the script gone: the
// old instance is collected although the Func lives on.
func TestFuncLetsClosedInstancesGo(t *testing.T) {
	ctx := context.Background()
	rt, err := NewRuntime(ctx, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	id, err := rt.Load(ctx, "a", guest.Bytes("add_v1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := rt.Func(id, "add")
	if err != nil {
		t.Fatal(err)
	}
	defer runtime.KeepAlive(f) // the Func lives on: only what it points to may go
	// collected calls f, changes the script, calls f again, which must fail
	// with want, and reports whether the instance f first ran on was collected.
	collected := func(change func() error, want error) bool {
		t.Helper()
		if err := f.Call(ctx, []uint64{2, 3}); err != nil {
			t.Fatal(err)
		}
		old := weak.Make(f.bound.Load().inst)
		if err := change(); err != nil {
			t.Fatal(err)
		}
		if err := f.Call(ctx, []uint64{2, 3}); !errors.Is(err, want) {
			t.Fatalf("Call = %v, want %v", err, want)
		}
		runtime.GC()
		runtime.GC()
		return old.Value() == nil
	}
	lacksAdd := func() error { return rt.ReloadModule(ctx, id, guest.Bytes("counter_v1")) }
	if !collected(lacksAdd, ErrNoFunction) {
		t.Error("a Func whose function the new version lacks keeps the old instance alive")
	}
	if err := rt.ReloadModule(ctx, id, guest.Bytes("add_v1")); err != nil {
		t.Fatal(err)
	}
	if !collected(func() error { return rt.Unload(ctx, id) }, ErrNotFound) {
		t.Error("a Func of an unloaded script keeps its last instance alive")
	}
}

func TestRoughly(t *testing.T) {
	for _, tt := range []struct {
		in   time.Duration
		want string
	}{
		{75584737, "75.6ms"},
		{999, "999ns"},
		{1234, "1.23µs"},
		{2*time.Second + 345678901, "2.35s"},
		{0, "0s"},
	} {
		if got := roughly(tt.in).String(); got != tt.want {
			t.Errorf("roughly(%d) = %s, want %s", int64(tt.in), got, tt.want)
		}
	}
}

// A call that grew its function's stack in wazero past keptStack leaves it
// behind, on every path a call takes (CallJSON, a Func with and without limits,
// a trap): wazero would keep hundreds of MiB per export until an unload
// (helper-247). A shallow call keeps its function, and the next call after a
// deep one makes it again. wazero's interpreter (386) stops calls 2,000 deep,
// on a stack far below keptStack, which it keeps.
func TestDeepCallStackFreed(t *testing.T) {
	ctx := context.Background()
	compiled := runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64"
	deep := map[bool]uint64{true: 200_000, false: 1_900}[compiled]
	for _, limits := range []Limits{{}, {MaxExecutionTime: time.Minute, MaxInstructions: 1 << 40}} {
		rt, err := NewRuntime(ctx, limits)
		if err != nil {
			t.Fatal(err)
		}
		defer rt.Close(ctx)
		id, err := rt.Load(ctx, "spin", guest.Bytes("spin"), nil)
		if err != nil {
			t.Fatal(err)
		}
		f, err := rt.Func(id, "depth")
		if err != nil {
			t.Fatal(err)
		}
		depth := func(via string, n uint64) *export {
			t.Helper()
			stack := []uint64{n}
			if via == "CallJSON" {
				if _, err := rt.CallJSON(ctx, id, "depth", n); err != nil {
					t.Fatal(err)
				}
			} else if err := f.Call(ctx, stack); err != nil || stack[0] != n {
				t.Fatalf("depth(%d) = %d, %v", n, stack[0], err)
			}
			return f.bound.Load().e
		}
		for _, via := range []string{"CallJSON", "Func"} {
			depth(via, 10)
			e := depth(via, 10) // bound: Func takes its fast path
			if e.fn == nil || e.stack == &noStack || cap(*e.stack) > e.maxStack {
				t.Fatalf("%s with %+v: after a shallow call, function %v, stack of %d elements found %v",
					via, limits, e.fn != nil, cap(*e.stack), e.stack != &noStack)
			}
			gone := make(chan struct{})
			runtime.AddCleanup((*byte)(unsafe.Pointer(e.stack)), func(c chan struct{}) { close(c) }, gone)
			if e = depth(via, deep); (e.fn == nil) != compiled {
				t.Errorf("%s with %+v: after a call %d deep, function %v, stack of %d elements",
					via, limits, deep, e.fn != nil, cap(*e.stack))
			}
			if compiled && !collected(gone) {
				t.Errorf("%s with %+v: the function dropped after a call %d deep, and its stack, are kept", via, limits, deep)
			}
			if e = depth(via, 10); e.fn == nil || cap(*e.stack) > e.maxStack {
				t.Errorf("%s with %+v: after a shallow call following a deep one, function %v, stack of %d elements",
					via, limits, e.fn != nil, cap(*e.stack))
			}
		}
		_, err = rt.CallJSON(ctx, id, "recurse", 0)
		if !errors.Is(err, ErrStackOverflow) {
			t.Fatalf("recurse: %v", err)
		}
		s, err := rt.script(id)
		if err != nil {
			t.Fatal(err)
		}
		if e := s.cur.Load().exports["recurse"]; (e.fn == nil) != compiled {
			t.Errorf("with %+v: after a stack overflow, function %v, stack of %d elements", limits, e.fn != nil, cap(*e.stack))
		}
	}
}

// collected reports whether gone is closed, as a cleanup does, within a few
// collections.
func collected(gone chan struct{}) bool {
	for range 20 {
		runtime.GC()
		select {
		case <-gone:
			return true
		case <-time.After(50 * time.Millisecond):
		}
	}
	return false
}
