package wasm_test

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/guest"
	"github.com/hotscript/hotscript/wasm"
	"github.com/tetratelabs/wazero/api"
)

// acquire leases a script, released when the test ends.
func acquire(t testing.TB, rt *wasm.Runtime, id wasm.ScriptID) *wasm.Lease {
	t.Helper()
	l, err := rt.Acquire(ctx, id)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	t.Cleanup(l.Release)
	return l
}

// leaseTicks calls tick n times through l, alternating a Func and CallJSON, and
// checks that the answers come from one version stepping its counter by its
// version each call, as they must when no other call runs in between. It returns
// the version and the last counter, or zeros after reporting an error. Safe to
// use from any goroutine.
func leaseTicks(t testing.TB, l *wasm.Lease, tick *wasm.Func, n int) (version, counter int) {
	t.Helper()
	stack := make([]uint64, 1)
	for i := range n {
		var answer int
		if i%2 == 0 {
			if err := l.Call(ctx, tick, stack); err != nil {
				t.Errorf("Lease.Call(tick): %v", err)
				return 0, 0
			}
			answer = int(api.DecodeI32(stack[0]))
		} else {
			out, err := l.CallJSON(ctx, "tick")
			if err != nil {
				t.Errorf("Lease.CallJSON(tick): %v", err)
				return 0, 0
			}
			answer = atoi(t, out)
		}
		v, c := answer/1_000_000, answer%1_000_000
		if i > 0 && (v != version || c != counter+v) {
			t.Errorf("call %d of a lease answered %d after version %d, counter %d: another call or a reload ran in between", i, answer, version, counter)
			return 0, 0
		}
		version, counter = v, c
	}
	return version, counter
}

// atoi decodes a JSON integer.
func atoi(t testing.TB, out []byte) int {
	t.Helper()
	n, err := strconv.Atoi(string(out))
	if err != nil {
		t.Errorf("want an integer, got %s", out)
	}
	return n
}

// yieldTo lets goroutines started just before run up to where they block.
func yieldTo() {
	for range 100 {
		runtime.Gosched()
	}
}

// The rules of a lease, one case each.
func TestLease(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, rt *wasm.Runtime)
	}{
		{"calls through the lease run in order on one version", func(t *testing.T, rt *wasm.Runtime) {
			id := load(t, rt, "counter_v1", nil)
			tick := newFunc(t, rt, id, "tick")
			if v, c := leaseTicks(t, acquire(t, rt, id), tick, 10); v != 1 || c != 10 {
				t.Errorf("10 ticks answered version %d, counter %d; want 1, 10", v, c)
			}
		}},
		{"other goroutines' calls wait for Release", func(t *testing.T, rt *wasm.Runtime) {
			id := load(t, rt, "counter_v1", nil)
			tick := newFunc(t, rt, id, "tick")
			l := acquire(t, rt, id)
			done := make(chan []byte)
			go func() {
				out, err := rt.CallJSON(ctx, id, "tick")
				if err != nil {
					t.Errorf("CallJSON while leased: %v", err)
				}
				done <- out
			}()
			yieldTo()
			_, last := leaseTicks(t, l, tick, 50)
			l.Release()
			if got, want := atoi(t, <-done)%1_000_000, last+1; got != want {
				t.Errorf("the waiting call answered counter %d, want %d (after the lease's calls)", got, want)
			}
		}},
		{"a commit waits for Release, and Stage does not", func(t *testing.T, rt *wasm.Runtime) {
			id := load(t, rt, "counter_v1", nil)
			tick := newFunc(t, rt, id, "tick")
			l := acquire(t, rt, id)
			st, err := rt.Stage(ctx, id, guest.Bytes("counter_v2"))
			if err != nil {
				t.Fatalf("Stage while leased: %v", err)
			}
			done := make(chan error)
			go func() { done <- st.Commit(ctx, nil) }()
			yieldTo()
			if v, _ := leaseTicks(t, l, tick, 50); v != 1 {
				t.Errorf("the lease answered version %d during a commit, want 1", v)
			}
			l.Release()
			if err := <-done; err != nil {
				t.Fatalf("Commit: %v", err)
			}
			if v, _ := leaseTicks(t, acquire(t, rt, id), tick, 4); v != 2 {
				t.Errorf("the next lease answered version %d, want 2", v)
			}
		}},
		{"a trap leaves the lease usable", func(t *testing.T, rt *wasm.Runtime) {
			id := load(t, rt, "json_state", nil)
			l := acquire(t, rt, id)
			for _, fn := range []string{"trap_unreachable", "oob"} {
				_, err := l.CallJSON(ctx, fn)
				wantErr(t, err, []error{wasm.ErrTrap}, "json_state", fn)
			}
			if out, err := l.CallJSON(ctx, "div", 7, 2); err != nil || string(out) != "3" {
				t.Errorf("div(7, 2) after traps = %s, %v; want 3", out, err)
			}
		}},
		{"limits apply to each call and leave the lease usable", func(t *testing.T, rt *wasm.Runtime) {
			id := load(t, rt, "spin", &wasm.ModuleOptions{Limits: &wasm.Limits{MaxInstructions: 1_000_000}})
			forever, add := newFunc(t, rt, id, "forever"), newFunc(t, rt, id, "add")
			l := acquire(t, rt, id)
			stack := make([]uint64, 2)
			for range 2 { // the budget is per call, not per lease
				wantErr(t, l.Call(ctx, forever, stack), []error{wasm.ErrInstructionLimit, wasm.ErrLimit}, "spin", "forever")
				_, err := l.CallJSON(ctx, "forever")
				wantErr(t, err, []error{wasm.ErrInstructionLimit}, "spin", "forever")
				stack[0], stack[1] = 2, 3
				if err := l.Call(ctx, add, stack); err != nil || stack[0] != 5 {
					t.Errorf("add(2, 3) after a limit = %d, %v; want 5", stack[0], err)
				}
			}
		}},
		{"calls after Release fail with ErrReleased", func(t *testing.T, rt *wasm.Runtime) {
			id := load(t, rt, "add_v1", nil)
			add := newFunc(t, rt, id, "add")
			l := acquire(t, rt, id)
			l.Release()
			l.Release() // idempotent: unlocking twice would crash
			wantErr(t, l.Call(ctx, add, make([]uint64, 2)), []error{wasm.ErrReleased}, "add_v1", "add")
			_, err := l.CallJSON(ctx, "add", 2, 3)
			wantErr(t, err, []error{wasm.ErrReleased}, "add_v1", "add")
			if got := callInt(t, rt, id, "add", 2, 3); got != 5 {
				t.Errorf("add(2, 3) after Release = %d", got)
			}
		}},
		{"a Func whose function changed fails as Func.Call does", func(t *testing.T, rt *wasm.Runtime) {
			id := load(t, rt, "add_v1", nil)
			add := newFunc(t, rt, id, "add")
			if err := rt.ReloadModule(ctx, id, guest.Bytes("add_v2")); err != nil {
				t.Fatal(err)
			}
			stack := make([]uint64, 3)
			want := add.Call(ctx, stack)
			wantErr(t, want, []error{wasm.ErrSignature}, "add(i32, i32, i32)")
			got := acquire(t, rt, id).Call(ctx, add, stack)
			if got == nil || got.Error() != want.Error() {
				t.Errorf("Lease.Call = %v, want Func.Call's %v", got, want)
			}
		}},
		{"a Func whose function is missing fails as Func.Call does", func(t *testing.T, rt *wasm.Runtime) {
			id := load(t, rt, "counter_v1", nil)
			inc := newFunc(t, rt, id, "increment")
			if err := rt.ReloadModule(ctx, id, guest.Bytes("add_v1")); err != nil {
				t.Fatal(err)
			}
			want := inc.Call(ctx, nil)
			wantErr(t, want, []error{wasm.ErrNoFunction}, "increment")
			got := acquire(t, rt, id).Call(ctx, inc, nil)
			if got == nil || got.Error() != want.Error() {
				t.Errorf("Lease.Call = %v, want Func.Call's %v", got, want)
			}
		}},
		{"a Func of another script is refused", func(t *testing.T, rt *wasm.Runtime) {
			a, b := load(t, rt, "add_v1", nil), load(t, rt, "spin", nil)
			add := newFunc(t, rt, b, "add")
			err := acquire(t, rt, a).Call(ctx, add, make([]uint64, 2))
			wantErr(t, err, []error{wasm.ErrNoFunction}, "add_v1", "spin")
		}},
		{"Acquire fails on an unknown script, a done ctx and a closed runtime", func(t *testing.T, rt *wasm.Runtime) {
			id := load(t, rt, "add_v1", nil)
			_, err := rt.Acquire(ctx, id+1)
			wantErr(t, err, []error{wasm.ErrNotFound}, "acquire")
			done, cancel := context.WithCancel(ctx)
			cancel()
			_, err = rt.Acquire(done, id)
			wantErr(t, err, []error{context.Canceled}, "acquire", "add_v1")
			if err := rt.Close(ctx); err != nil {
				t.Fatal(err)
			}
			_, err = rt.Acquire(ctx, id)
			wantErr(t, err, []error{wasm.ErrClosed}, "acquire")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newRuntime(t, wasm.Limits{})) })
	}
}

// newFunc returns a handle on fn.
func newFunc(t testing.TB, rt *wasm.Runtime, id wasm.ScriptID, fn string) *wasm.Func {
	t.Helper()
	f, err := rt.Func(id, fn)
	if err != nil {
		t.Fatalf("Func(%s): %v", fn, err)
	}
	return f
}

// Goroutines lease the script and tick through the lease, another calls without
// one, while another reloads alternating v1 and v2, waiting after each commit
// until a lease taken after it has finished: every call succeeds, every lease
// answers from one whole version with nothing in between, and reloads commit
// between leases.
func TestHammerLeaseWhileReloading(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "counter_v1", nil)
	tick := newFunc(t, rt, id, "tick")
	versions := [][]byte{guest.Bytes("counter_v1"), guest.Bytes("counter_v2")}

	var wg sync.WaitGroup
	var stop atomic.Bool
	var leases atomic.Int64
	var seen [3]atomic.Int64 // leases per version
	for range hammerCallers {
		wg.Go(func() {
			for !stop.Load() && !t.Failed() {
				l, err := rt.Acquire(ctx, id)
				if err != nil {
					t.Errorf("Acquire during reloads: %v", err)
					return
				}
				v, _ := leaseTicks(t, l, tick, 10)
				l.Release()
				seen[v].Add(1)
				leases.Add(1)
			}
		})
	}
	wg.Go(func() { // a caller without a lease, between the leases
		for !stop.Load() && !t.Failed() {
			out, err := rt.CallJSON(ctx, id, "tick")
			if err != nil {
				t.Errorf("CallJSON during leases: %v", err)
				return
			}
			checkTick(t, atoi(t, out))
		}
	})
	for i := range hammerReloads {
		if err := rt.ReloadModule(ctx, id, versions[(i+1)%2]); err != nil {
			t.Errorf("reload %d: %v", i, err)
			break
		}
		// A lease acquired before the commit may finish after it: wait for more
		// leases than there are callers, so one was taken on the new version.
		for n := leases.Load(); leases.Load() <= n+hammerCallers && !t.Failed(); {
			runtime.Gosched()
		}
	}
	stop.Store(true)
	wg.Wait()
	if seen[1].Load() == 0 || seen[2].Load() == 0 {
		t.Errorf("leases saw v1 %d times and v2 %d times: reloads did not commit between leases", seen[1].Load(), seen[2].Load())
	}
	t.Logf("%d leases: %d on v1, %d on v2", leases.Load(), seen[1].Load(), seen[2].Load())
}

// A call, lease, Usage or commit that finds its script busy gives up when its
// context ends, with an error naming the script, and leaves the script as it
// was; Unload waits for the call in progress whatever its context.
func TestWaitEndsWithContext(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "add_v1", nil)
	add := newFunc(t, rt, id, "add")
	ways := map[string]func(ctx context.Context) error{
		"CallJSON": func(ctx context.Context) error {
			_, err := rt.CallJSON(ctx, id, "add", 2, 3)
			return err
		},
		"Func.Call": func(ctx context.Context) error { return add.Call(ctx, []uint64{2, 3}) },
		"Usage": func(ctx context.Context) error {
			_, err := rt.Usage(ctx, id)
			return err
		},
		"Acquire": func(ctx context.Context) error {
			l, err := rt.Acquire(ctx, id)
			if err == nil {
				l.Release()
			}
			return err
		},
		"ReloadModule": func(ctx context.Context) error { return rt.ReloadModule(ctx, id, guest.Bytes("add_v2")) },
		"Staged.Commit": func(ctx context.Context) error {
			st, err := rt.Stage(ctx, id, guest.Bytes("add_v2"))
			if err != nil {
				t.Fatal(err)
			}
			return st.Commit(ctx, nil)
		},
	}
	l, err := rt.Acquire(ctx, id) // the call in progress
	if err != nil {
		t.Fatal(err)
	}
	for name, wait := range ways {
		t.Run(name, func(t *testing.T) {
			short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
			defer cancel()
			wantErr(t, wait(short), []error{context.DeadlineExceeded}, "add_v1")
		})
	}
	l.Release()
	if got := call(t, rt, id, "add", 2, 3); got != "5" {
		t.Fatalf("add(2, 3) = %s after the commits that gave up, want 5 from v1", got)
	}

	l, err = rt.Acquire(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		l.Release()
	}()
	short, cancel := context.WithTimeout(ctx, time.Millisecond)
	defer cancel()
	if err := rt.Unload(short, id); err != nil {
		t.Fatalf("Unload of a busy script with a short context: %v, want it to wait and succeed", err)
	}
}
