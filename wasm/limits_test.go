package wasm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/guest"
	"github.com/hotscript/hotscript/internal/meter"
	"github.com/hotscript/hotscript/wasm"
)

const page = 64 << 10

// MaxMemoryBytes caps each script's memory: growth past it fails as WebAssembly
// says it may, and a call that traps because of that reports ErrMemoryLimit.
func TestMemoryLimit(t *testing.T) {
	tests := []struct {
		name      string
		runtime   wasm.Limits
		script    *wasm.Limits
		wantPages int // where growth stops; 0 means it does not within 64 pages
	}{
		{"runtime limit", wasm.Limits{MaxMemoryBytes: 4 * page}, nil, 4},
		{"limit not a multiple of a page", wasm.Limits{MaxMemoryBytes: 5*page - 1}, nil, 4},
		{"script limit above the runtime's", wasm.Limits{MaxMemoryBytes: 4 * page}, &wasm.Limits{MaxMemoryBytes: 9 * page}, 9},
		{"script limit below the runtime's", wasm.Limits{MaxMemoryBytes: 9 * page}, &wasm.Limits{MaxMemoryBytes: 3 * page}, 3},
		{"script without limits", wasm.Limits{MaxMemoryBytes: 4 * page}, &wasm.Limits{}, 0},
		{"metered script", wasm.Limits{MaxMemoryBytes: 4 * page, MaxInstructions: 1e9, MaxExecutionTime: time.Minute}, nil, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, tt.runtime)
			id := load(t, rt, "grow", &wasm.ModuleOptions{Limits: tt.script})
			start := callInt(t, rt, id, "pages")
			for range 64 {
				if callInt(t, rt, id, "grow", 1) == -1 {
					break
				}
			}
			got := callInt(t, rt, id, "pages")
			if tt.wantPages == 0 {
				if got != 64+start {
					t.Errorf("unlimited memory stopped at %d pages", got)
				}
				return
			}
			if got != tt.wantPages {
				t.Errorf("memory stopped growing at %d pages, want %d", got, tt.wantPages)
			}
			_, err := rt.CallJSON(ctx, id, "grow_forever")
			wantErr(t, err, []error{wasm.ErrMemoryLimit, wasm.ErrLimit}, "grow", "grow_forever")
			if n := callInt(t, rt, id, "touch"); n != tt.wantPages {
				t.Errorf("after the limit: touch() = %d pages, want %d", n, tt.wantPages)
			}
			// A refused growth the guest handled does not color a later trap.
			if callInt(t, rt, id, "grow", 1) != -1 {
				t.Error("grow(1) past the limit did not return -1")
			}
			_, err = rt.CallJSON(ctx, id, "fail")
			wantErr(t, err, []error{wasm.ErrTrap}, "fail")
			if errors.Is(err, wasm.ErrMemoryLimit) {
				t.Errorf("an unrelated trap after a refused growth reports %v", err)
			}
		})
	}
}

// A host function's failure after a refused growth, in the same call, is a
// trap (Kind ErrTrap, matching the host function's error: the guest may have
// handled the refusal, helper-195) that says the growth was refused and
// matches ErrMemoryLimit (an allocator calling an imported abort when
// memory.grow fails, helper-196); without a refusal, it is a trap alone.
func TestMemoryLimitHostErrorAfterRefusal(t *testing.T) {
	for _, tt := range []struct {
		lim     wasm.Limits
		refused bool
	}{
		{wasm.Limits{MaxMemoryBytes: page}, true},
		{wasm.Limits{MaxMemoryBytes: page, MaxInstructions: 1e6}, true},
		{wasm.Limits{MaxMemoryBytes: 4 * page}, false},
	} {
		rt := newRuntime(t, tt.lim)
		errNoEntity := errors.New("no such entity")
		if err := rt.Define("game", "despawn", wasm.HostFunc{Params: []wasm.ValueType{wasm.I32},
			Func: func(context.Context, *wasm.Caller, []uint64) error { return errNoEntity }}); err != nil {
			t.Fatal(err)
		}
		id, err := rt.Load(ctx, "grow_host.wasm", testModule(t, "grow_host"), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = rt.CallJSON(ctx, id, "update")
		var we *wasm.Error
		if !errors.As(err, &we) || we.Kind != wasm.ErrTrap || !errors.Is(err, errNoEntity) ||
			errors.Is(err, wasm.ErrMemoryLimit) != tt.refused ||
			strings.Contains(err.Error(), "no such entity (after memory limit exceeded)") != tt.refused {
			t.Errorf("limits %+v: %v, want a trap with the host function's error, matching ErrMemoryLimit and saying so: %v",
				tt.lim, err, tt.refused)
		}
	}
}

// A start function that traps after MaxMemoryBytes refused it memory fails the
// load with ErrMemoryLimit, as a call does: it said only ErrTrap.
func TestMemoryLimitInitializer(t *testing.T) {
	for _, lim := range []wasm.Limits{{MaxMemoryBytes: 4 * page}, {MaxMemoryBytes: 4 * page, MaxExecutionTime: time.Minute}} {
		rt := newRuntime(t, lim)
		_, err := rt.Load(ctx, "init_grow", testModule(t, "init_grow"), nil)
		wantErr(t, err, []error{wasm.ErrInstantiate, wasm.ErrMemoryLimit, wasm.ErrLimit}, "init_grow", "unreachable")
	}
	rt := newRuntime(t, wasm.Limits{})
	id := loadTest(t, rt, "init_grow", nil)
	if got := call(t, rt, id, "f"); got != "1" {
		t.Errorf("f() = %s without limits", got)
	}
}

// A script loaded by a host function that a capped script's start function
// calls, with the context it was given, gets a memory of its own under its own
// limits: it was given the capped script's (each read the other's writes, and
// it could not grow past the other's cap), and lost it when that one reloaded.
func TestMemoryOfNestedLoad(t *testing.T) {
	for _, lim := range []wasm.Limits{{}, {MaxInstructions: 1e6}} {
		rt := newRuntime(t, wasm.Limits{})
		var inner wasm.ScriptID
		err := rt.Define("host", "load_other", wasm.HostFunc{Func: func(ctx context.Context, _ *wasm.Caller, _ []uint64) error {
			if inner != 0 {
				return nil
			}
			var err error
			inner, err = rt.Load(ctx, "cell", testModule(t, "cell"), &wasm.ModuleOptions{Limits: &lim})
			return err
		}})
		if err != nil {
			t.Fatal(err)
		}
		outer, err := rt.Load(ctx, "cell_loader", testModule(t, "cell_loader"),
			&wasm.ModuleOptions{Limits: &wasm.Limits{MaxMemoryBytes: 2 * page}})
		if err != nil {
			t.Fatal(err)
		}
		call(t, rt, outer, "poke", 12345)
		call(t, rt, inner, "poke", 777)
		if got := callInt(t, rt, outer, "peek"); got != 12345 {
			t.Errorf("%+v: the loader reads %d after the script it loaded wrote 777", lim, got)
		}
		if err := rt.ReloadModule(ctx, outer, testModule(t, "cell_loader")); err != nil {
			t.Fatal(err)
		}
		if got := callInt(t, rt, inner, "peek"); got != 777 {
			t.Errorf("%+v: the loaded script reads %d after the loader's reload, want 777", lim, got)
		}
		for i := range 4 {
			if callInt(t, rt, inner, "grow") == -1 {
				t.Errorf("%+v: a script without MaxMemoryBytes could not grow to %d pages", lim, i+2)
				break
			}
		}
	}
}

// A module whose initial memory exceeds the limit does not load.
func TestMemoryLimitInitial(t *testing.T) {
	for _, lim := range []wasm.Limits{{MaxMemoryBytes: page}, {MaxMemoryBytes: page, MaxInstructions: 1e6}} {
		rt := newRuntime(t, lim)
		_, err := rt.Load(ctx, "json_state", guest.Bytes("json_state"), nil)
		wantErr(t, err, []error{wasm.ErrMemoryLimit, wasm.ErrLimit}, "json_state", "initial memory of 131072 bytes, limit 65536")
	}
}

// MaxMemoryBytes holds a script's tables to the cap too, at 8 bytes per element:
// tables declared without a maximum stop growing at their share, metered or
// not, and a module whose tables start over the cap does not load.
func TestTableLimit(t *testing.T) {
	// 64 KiB is 8,192 elements; the tables start at 1 and 2, and each may grow
	// by half of the other 8,189: to 4,095 and 4,096.
	for _, lim := range []wasm.Limits{{MaxMemoryBytes: page}, {MaxMemoryBytes: page, MaxInstructions: 1e6}} {
		rt := newRuntime(t, lim)
		id := load(t, rt, "tables", nil)
		for _, step := range []struct{ fn, arg, want string }{
			{"grow", "4094", "1"}, {"grow", "1", "-1"}, {"size", "", "4095"},
			{"grow_u", "4094", "2"}, {"grow_u", "1", "-1"},
		} {
			var args []any
			if step.arg != "" {
				n, _ := strconv.Atoi(step.arg)
				args = []any{n}
			}
			if got := call(t, rt, id, step.fn, args...); got != step.want {
				t.Errorf("metered %v: %s(%s) = %s, want %s", lim.MaxInstructions > 0, step.fn, step.arg, got, step.want)
			}
		}
	}
	// Without a memory limit, or with one past 1 GiB of elements, the tables
	// hold 2^27 elements together: grown by 2^32-256 elements, 32 GiB that Go
	// cannot allocate, a table ended the process.
	for _, lim := range []wasm.Limits{{}, {MaxMemoryBytes: 1 << 40}, {MaxExecutionTime: time.Minute}} {
		rt := newRuntime(t, lim)
		id := load(t, rt, "tables", nil)
		for _, step := range []struct {
			arg  int
			want string
		}{{-256, "-1"}, {100_000, "1"}, {1 << 26, "-1"}} { // each table's share is under 2^26
			if got := call(t, rt, id, "grow", step.arg); got != step.want {
				t.Errorf("%+v: grow(%d) = %s, want %s", lim, step.arg, got, step.want)
			}
		}
	}
	rt := newRuntime(t, wasm.Limits{MaxMemoryBytes: 16})
	_, err := rt.Load(ctx, "tables", guest.Bytes("tables"), nil)
	wantErr(t, err, []error{wasm.ErrMemoryLimit, wasm.ErrLimit}, "tables", "tables declare 3 elements (24 bytes) at start")
}

// recursionBudget is an instruction budget that recursion spends before its
// stack overflows: wazero's compiled code grows its stack to hundreds of MiB,
// but where wazero interprets (386, arm) the stack holds 2,000 frames.
var recursionBudget = map[bool]uint64{true: 1_000_000, false: 2_000}[runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64"]

// Runaway code stops at each limit, with the error of that limit, through
// CallJSON and through a Func handle; the script keeps its state and answers
// its next call.
func TestRunawayStopped(t *testing.T) {
	tests := []struct {
		name  string
		lim   wasm.Limits
		fn    string
		args  []any
		kinds []error
	}{
		{"loop by instructions", wasm.Limits{MaxInstructions: 1_000_000}, "forever", nil, []error{wasm.ErrInstructionLimit}},
		{"loop by time", wasm.Limits{MaxExecutionTime: 20 * time.Millisecond}, "forever", nil, []error{wasm.ErrTimeout}},
		{"loop by the first limit hit", wasm.Limits{MaxInstructions: 1_000_000, MaxExecutionTime: time.Minute}, "forever", nil, []error{wasm.ErrInstructionLimit}},
		{"recursion by instructions", wasm.Limits{MaxInstructions: recursionBudget}, "recurse", []any{0}, []error{wasm.ErrInstructionLimit}},
		{"recursion by time", wasm.Limits{MaxExecutionTime: 20 * time.Millisecond}, "recurse", []any{0}, []error{wasm.ErrLimit}},
		{"finite loop over budget", wasm.Limits{MaxInstructions: 1000}, "spin", []any{1000}, []error{wasm.ErrInstructionLimit}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, tt.lim)
			id := load(t, rt, "spin", nil)
			callInt(t, rt, id, "bump")
			_, err := rt.CallJSON(ctx, id, tt.fn, tt.args...)
			wantErr(t, err, append(tt.kinds, wasm.ErrLimit), "spin", tt.fn)

			f, err := rt.Func(id, tt.fn)
			if err != nil {
				t.Fatal(err)
			}
			stack := make([]uint64, 1)
			if len(tt.args) > 0 {
				stack[0] = uint64(tt.args[0].(int))
			}
			wantErr(t, f.Call(ctx, stack), tt.kinds, tt.fn)

			if got := callInt(t, rt, id, "bump"); got != 2 {
				t.Errorf("bump after hitting the limit = %d, want 2 (state kept)", got)
			}
			if got := callInt(t, rt, id, "spin", 100); got != 100 {
				t.Errorf("spin(100) after hitting the limit = %d", got)
			}
		})
	}
}

// Without any limit, deep recursion still ends in ErrStackOverflow.
func TestRecursionWithoutLimits(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "spin", nil)
	_, err := rt.CallJSON(ctx, id, "recurse", 0)
	wantErr(t, err, []error{wasm.ErrStackOverflow, wasm.ErrLimit}, "recurse")
	if got := callInt(t, rt, id, "add", 2, 3); got != 5 {
		t.Errorf("add after a stack overflow = %d", got)
	}
}

// A MaxExecutionTime too large for a deadline to be represented means no
// practical limit: a call does not time out at once.
func TestHugeTimeLimit(t *testing.T) {
	for _, limit := range []time.Duration{math.MaxInt64, math.MaxInt64 - time.Second} {
		rt := newRuntime(t, wasm.Limits{MaxExecutionTime: limit})
		id := load(t, rt, "spin", nil)
		if _, err := rt.CallJSON(ctx, id, "sum", 1_000_000); err != nil {
			t.Errorf("MaxExecutionTime %v: a loop of 1e6 iterations failed: %v", limit, err)
		}
	}
}

// A call stops over time within a bound of its deadline. The bound here is
// generous, for loaded test machines; BenchmarkTimeoutOverrun measures it.
func TestTimeLimitOverrun(t *testing.T) {
	const limit = 20 * time.Millisecond
	rt := newRuntime(t, wasm.Limits{MaxExecutionTime: limit})
	id := load(t, rt, "spin", nil)
	start := time.Now()
	_, err := rt.CallJSON(ctx, id, "forever")
	elapsed := time.Since(start)
	wantErr(t, err, []error{wasm.ErrTimeout}, "forever")
	if elapsed < limit || elapsed > limit+500*time.Millisecond {
		t.Errorf("a call with a %v limit stopped after %v", limit, elapsed)
	}
}

// Time spent in host functions counts against MaxExecutionTime, and a metered
// call watches ctx at host function calls: the call stops at the first check
// after its deadline (before or after a host function) instead of running to
// the end, with the error refuel would give, and the script keeps working.
func TestLimitsAtHostCalls(t *testing.T) {
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	tests := []struct {
		name      string
		lim       wasm.Limits
		ctx       context.Context
		fn        string
		args      []any
		maxWaits  int // host calls that may run before the call stops
		want      []error
		substring string
	}{
		// The clock starts before the first wait: after the third (60 ms) at
		// the latest, the call is past its 50 ms.
		{"loop of waits", wasm.Limits{MaxExecutionTime: 50 * time.Millisecond}, ctx, "repeat", []any{20, 20}, 3,
			[]error{wasm.ErrTimeout, wasm.ErrLimit}, "limit 50ms, over by"},
		{"one wait past the deadline", wasm.Limits{MaxExecutionTime: 50 * time.Millisecond}, ctx, "three", []any{100}, 1,
			[]error{wasm.ErrTimeout, wasm.ErrLimit}, "limit 50ms, over by"},
		{"a last wait past the deadline", wasm.Limits{MaxExecutionTime: 50 * time.Millisecond}, ctx, "repeat", []any{1, 100}, 1,
			[]error{wasm.ErrTimeout, wasm.ErrLimit}, "limit 50ms, over by"},
		{"cancelled, time limit", wasm.Limits{MaxExecutionTime: time.Hour}, cancelled, "repeat", []any{5, 0}, 0,
			[]error{context.Canceled}, "context canceled"},
		{"cancelled, instruction limit", wasm.Limits{MaxInstructions: 1e9}, cancelled, "three", []any{0}, 0,
			[]error{context.Canceled}, "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, tt.lim)
			waits := 0
			err := rt.Define("host", "wait", wasm.HostFunc{
				Params: []wasm.ValueType{wasm.I32},
				Func: func(_ context.Context, _ *wasm.Caller, stack []uint64) error {
					waits++
					time.Sleep(time.Duration(stack[0]) * time.Millisecond)
					return nil
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			id := load(t, rt, "host_calls", nil)
			call(t, rt, id, "repeat", 1, 0) // the first call after a load refuels at once
			waits = 0
			_, err = rt.CallJSON(tt.ctx, id, tt.fn, tt.args...)
			wantErr(t, err, tt.want, "host_calls", tt.fn, tt.substring)
			if errors.Is(err, wasm.ErrTrap) {
				t.Errorf("a stopped call reports a trap: %v", err)
			}
			if waits > tt.maxWaits {
				t.Errorf("the host function ran %d times, want at most %d", waits, tt.maxWaits)
			}
			waits = 0
			call(t, rt, id, "repeat", 3, 0)
			if waits != 3 {
				t.Errorf("after the stopped call, repeat(3, 0) waited %d times", waits)
			}
		})
	}
}

// The free of a JSON argument runs after a call that a limit or ctx stopped,
// on a budget of its own: the guest gets its document back. A free that never
// returns is stopped by that budget, whatever the script's limits.
func TestFreeAfterStop(t *testing.T) {
	tests := []struct {
		name    string
		lim     wasm.Limits
		timeout time.Duration // of the call's ctx; 0 for none
		fn      string
		loops   bool // free never returns
		want    []error
		result  string // returned with the error
	}{
		{"instruction limit", wasm.Limits{MaxInstructions: 100_000}, 0, "spin", false, []error{wasm.ErrInstructionLimit}, ""},
		{"time limit", wasm.Limits{MaxExecutionTime: 5 * time.Millisecond}, 0, "spin", false, []error{wasm.ErrTimeout}, ""},
		{"ctx", wasm.Limits{MaxExecutionTime: time.Minute}, 5 * time.Millisecond, "spin", false, []error{context.DeadlineExceeded}, ""},
		{"free loops, instruction limit", wasm.Limits{MaxInstructions: 1 << 40}, 0, "take", true, []error{wasm.ErrInstructionLimit}, "7"},
		{"free loops, time limit", wasm.Limits{MaxExecutionTime: time.Hour}, 0, "take", true, []error{wasm.ErrInstructionLimit}, "7"},
		{"free loops after a stop", wasm.Limits{MaxInstructions: 100_000}, 0, "spin", true, []error{wasm.ErrInstructionLimit}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, tt.lim)
			id := loadTest(t, rt, "docs", nil)
			if tt.loops {
				call(t, rt, id, "free_loops", 1)
			}
			for range 3 {
				cctx := ctx
				if tt.timeout > 0 {
					var cancel context.CancelFunc
					cctx, cancel = context.WithTimeout(ctx, tt.timeout)
					defer cancel()
				}
				out, err := rt.CallJSON(cctx, id, tt.fn, map[string]int{"a": 1})
				wantErr(t, err, tt.want, "docs "+tt.fn)
				if string(out) != tt.result {
					t.Errorf("result %q, want %q", out, tt.result)
				}
			}
			if tt.loops {
				return
			}
			if live := callInt(t, rt, id, "live"); live != 0 {
				t.Errorf("the guest holds %d bytes of documents CallJSON did not free", live)
			}
		})
	}
}

// A call stopped by a limit leaves the state it wrote: count adds to a counter
// one iteration at a time. Under an instruction budget where it stops is
// deterministic.
func TestInterruptedState(t *testing.T) {
	progress := func() int {
		rt := newRuntime(t, wasm.Limits{MaxInstructions: 10_000})
		id := load(t, rt, "spin", nil)
		_, err := rt.CallJSON(ctx, id, "count", 1_000_000)
		wantErr(t, err, []error{wasm.ErrInstructionLimit}, "count")
		return callInt(t, rt, id, "get")
	}
	first := progress()
	if first <= 0 || first >= 1_000_000 {
		t.Fatalf("after the interrupted call the counter is %d, want partial progress", first)
	}
	for range 3 {
		if got := progress(); got != first {
			t.Errorf("the interrupted call stopped at %d, and at %d in another run", got, first)
		}
	}
}

// usage returns a script's Usage, failing the test on error.
func usage(t testing.TB, rt *wasm.Runtime, id wasm.ScriptID) wasm.Usage {
	t.Helper()
	u, err := rt.Usage(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// fuelOf runs fn once on a fresh script with limits and returns its fuel.
func fuelOf(t *testing.T, lim wasm.Limits, fn string, args ...any) uint64 {
	t.Helper()
	rt := newRuntime(t, lim)
	id := load(t, rt, "spin", nil)
	call(t, rt, id, fn, args...)
	return usage(t, rt, id).LastFuel
}

// The fuel of a call depends only on the module and its input: not on the run,
// the runtime, or how the budget is sliced.
func TestFuelDeterministic(t *testing.T) {
	limits := []wasm.Limits{
		{MaxExecutionTime: time.Minute},
		{MaxInstructions: 1 << 40},
		{MaxInstructions: 1 << 40, MaxExecutionTime: time.Minute, MaxMemoryBytes: 1 << 20},
	}
	for _, n := range []int{0, 10, 100_000} {
		want := fuelOf(t, limits[0], "spin", n)
		for _, lim := range limits {
			for range 2 {
				if got := fuelOf(t, lim, "spin", n); got != want {
					t.Errorf("spin(%d) under %+v used %d, and %d in another run", n, lim, got, want)
				}
			}
		}
	}
	// spin(n) runs 9 instructions per iteration (see internal/meter's cost model).
	a, b := fuelOf(t, limits[0], "spin", 1000), fuelOf(t, limits[0], "spin", 2000)
	if b-a != 9*1000 {
		t.Errorf("spin(2000) - spin(1000) = %d units, want 9 per iteration", b-a)
	}
}

// MaxInstructions is exact: a budget of exactly the fuel a call uses lets it
// finish, one unit less stops it, whether the budget fits one slice of fuel or
// takes many.
func TestInstructionLimitExact(t *testing.T) {
	for _, n := range []int{10, 1000, 100_000} {
		need := fuelOf(t, wasm.Limits{MaxExecutionTime: time.Minute}, "spin", n)
		for _, tt := range []struct {
			budget uint64
			ok     bool
		}{{need, true}, {need - 1, false}} {
			rt := newRuntime(t, wasm.Limits{MaxInstructions: tt.budget})
			id := load(t, rt, "spin", nil)
			_, err := rt.CallJSON(ctx, id, "spin", n)
			if (err == nil) != tt.ok {
				t.Errorf("spin(%d) needs %d, with a budget of %d: %v", n, need, tt.budget, err)
			}
			if !tt.ok && !errors.Is(err, wasm.ErrInstructionLimit) {
				t.Errorf("spin(%d) over budget: %v, want ErrInstructionLimit", n, err)
			}
		}
	}
}

// Usage counts every metered call and its fuel, and nothing for an unmetered
// script.
func TestUsage(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{MaxInstructions: 100_000})
	id := load(t, rt, "spin", nil)
	if u := usage(t, rt, id); u != (wasm.Usage{Metered: true}) {
		t.Errorf("Usage before any call = %+v", u)
	}
	call(t, rt, id, "spin", 10)
	small := usage(t, rt, id).LastFuel
	call(t, rt, id, "spin", 1000)
	big := usage(t, rt, id).LastFuel
	if _, err := rt.CallJSON(ctx, id, "forever"); !errors.Is(err, wasm.ErrInstructionLimit) {
		t.Fatalf("forever: %v", err)
	}
	u := usage(t, rt, id)
	if u.Calls != 3 || small == 0 || big <= small || u.LastFuel <= 100_000 || u.MaxFuel != u.LastFuel ||
		u.TotalFuel != small+big+u.LastFuel {
		t.Errorf("Usage = %+v after spin(10) = %d, spin(1000) = %d and a runaway", u, small, big)
	}
	// A reload keeps the totals.
	if err := rt.ReloadModule(ctx, id, guest.Bytes("spin")); err != nil {
		t.Fatal(err)
	}
	call(t, rt, id, "spin", 10)
	if got := usage(t, rt, id); got.Calls != 4 || got.TotalFuel != u.TotalFuel+small {
		t.Errorf("Usage after a reload and spin(10) = %+v, was %+v", got, u)
	}

	plain := load(t, rt, "add_v1", &wasm.ModuleOptions{Limits: &wasm.Limits{MaxMemoryBytes: 1 << 20}})
	call(t, rt, plain, "add", 1, 2)
	if u := usage(t, rt, plain); u != (wasm.Usage{}) {
		t.Errorf("Usage of an unmetered script = %+v", u)
	}
	_, err := rt.Usage(ctx, 99)
	wantErr(t, err, []error{wasm.ErrNotFound})
}

// A metered call stops when its context ends; an unmetered one is not watched.
func TestContextStopsMeteredCall(t *testing.T) {
	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want []error
	}{
		{"cancel", func() (context.Context, context.CancelFunc) {
			c, cancel := context.WithCancel(ctx)
			time.AfterFunc(5*time.Millisecond, cancel)
			return c, cancel
		}, []error{context.Canceled}},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(ctx, 5*time.Millisecond)
		}, []error{context.DeadlineExceeded}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, wasm.Limits{MaxExecutionTime: time.Hour})
			id := load(t, rt, "spin", nil)
			c, cancel := tt.ctx()
			defer cancel()
			_, err := rt.CallJSON(c, id, "forever")
			wantErr(t, err, tt.want, "forever")
			if got := callInt(t, rt, id, "bump"); got != 1 {
				t.Errorf("bump after the cancelled call = %d", got)
			}
		})
	}
}

// A script that hits a limit, even continuously and from several goroutines,
// leaves other scripts and their state alone.
func TestLimitsIsolated(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	runaway := load(t, rt, "spin", &wasm.ModuleOptions{Limits: &wasm.Limits{MaxExecutionTime: 2 * time.Millisecond}})
	budgeted := load(t, rt, "spin", &wasm.ModuleOptions{Limits: &wasm.Limits{MaxInstructions: recursionBudget}})
	calm := load(t, rt, "spin", nil)

	const workers, iterations = 3, 20
	errs := make(chan error, 2*workers*iterations)
	done := make(chan struct{})
	for range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for range iterations {
				if _, err := rt.CallJSON(ctx, runaway, "forever"); !errors.Is(err, wasm.ErrTimeout) {
					errs <- err
				}
				if _, err := rt.CallJSON(ctx, budgeted, "recurse", 0); !errors.Is(err, wasm.ErrInstructionLimit) {
					errs <- err
				}
			}
		}()
	}
	for i := 1; i <= 200; i++ {
		if got := callInt(t, rt, calm, "bump"); got != i {
			t.Fatalf("bump #%d of the calm script = %d", i, got)
		}
	}
	for range workers {
		<-done
	}
	close(errs)
	for err := range errs {
		t.Errorf("a limited script returned %v", err)
	}
	if u := usage(t, rt, budgeted); u.Calls != workers*iterations {
		t.Errorf("Usage counted %d calls of the budgeted script, want %d", u.Calls, workers*iterations)
	}
	if got := callInt(t, rt, calm, "get"); got != 200 {
		t.Errorf("the calm script's counter = %d, want 200", got)
	}
}

// A load refused for a limit says the package and the limit once, and names
// no internal package.
func TestLoadLimitErrorTexts(t *testing.T) {
	// One function whose body is the opcode 0xfd 0x1ff (no such SIMD instruction).
	unknown := moduleOf(
		sectionOf(1, uleb(1), []byte{0x60, 0, 0}),
		sectionOf(3, uleb(1), []byte{0}),
		sectionOf(10, uleb(1), []byte{5, 0, 0xfd, 0xff, 0x03, 0x0b}))
	// One function, named "deep", of 5,000 nested blocks: more than wazero
	// compiles in about a second.
	body := append(uleb(0), bytes.Repeat([]byte{0x02, 0x40}, 5000)...)
	body = append(body, bytes.Repeat([]byte{0x0b}, 5001)...)
	names := append([]byte{4}, "name"...)
	names = append(names, sectionOf(1, uleb(1), uleb(0), uleb(4), []byte("deep"))...)
	deep := moduleOf(
		sectionOf(1, uleb(1), []byte{0x60, 0, 0}),
		sectionOf(3, uleb(1), []byte{0}),
		sectionOf(10, uleb(1), uleb(uint64(len(body))), body),
		sectionOf(0, names))
	tests := []struct {
		name   string
		lim    wasm.Limits
		module []byte
		want   []error
		text   string
	}{
		{"control flow too deep", wasm.Limits{}, deep,
			[]error{wasm.ErrCompile}, `wasm: load m: compile failed: module refused: function 0 "deep": its blocks, loops, ifs and branches follow or nest in one another`},
		{"initial memory", wasm.Limits{MaxMemoryBytes: 100}, moduleOf(sectionOf(5, uleb(1), []byte{0, 1})),
			[]error{wasm.ErrMemoryLimit}, fmt.Sprintf("wasm: load m: memory limit exceeded: initial memory of %d bytes, limit 100", page)},
		{"tables", wasm.Limits{MaxMemoryBytes: 100}, moduleOf(sectionOf(4, uleb(1), []byte{0x70, 0, 20})),
			[]error{wasm.ErrMemoryLimit, meter.ErrMemoryTooLarge}, "wasm: load m: memory limit exceeded: the tables declare 20 elements"},
		{"tables without limits", wasm.Limits{}, moduleOf(sectionOf(4, uleb(2), []byte{0x70, 0}, uleb(1<<26), []byte{0x70, 0}, uleb(1<<26+1))),
			[]error{wasm.ErrMemoryLimit, meter.ErrMemoryTooLarge}, "wasm: load m: memory limit exceeded: the tables declare 134217729 elements"},
		{"start function", wasm.Limits{MaxInstructions: 1000}, testModule(t, "start_loop"),
			[]error{wasm.ErrInstantiate, wasm.ErrInstructionLimit}, "wasm: load m: instantiate failed: instruction limit exceeded: "},
		{"instrumenting", wasm.Limits{MaxInstructions: 1000}, unknown,
			[]error{wasm.ErrCompile}, "wasm: load m: compile failed: instrumenting for MaxInstructions or MaxExecutionTime: function 0: unknown opcode 0xfd 0x1ff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, tt.lim)
			_, err := rt.Load(ctx, "m", tt.module, nil)
			wantErr(t, err, tt.want, tt.text)
			if msg := err.Error(); strings.Count(msg, "wasm:") != 1 || strings.Contains(msg, "meter:") {
				t.Errorf("error %q repeats the package's prefix or names internal/meter", msg)
			}
		})
	}
}

// A module the instrumenter cannot handle fails to load with the reason; it is
// never run unmetered.
func TestMeterRejects(t *testing.T) {
	// One function whose body is the opcode 0xfd 0x1ff (no such SIMD instruction).
	unknown := []byte{0, 'a', 's', 'm', 1, 0, 0, 0,
		1, 4, 1, 0x60, 0, 0, // type () -> ()
		3, 2, 1, 0, // one function of type 0
		10, 7, 1, 5, 0, 0xfd, 0xff, 0x03, 0x0b, // its body
	}
	rt := newRuntime(t, wasm.Limits{MaxInstructions: 1000})
	_, err := rt.Load(ctx, "odd.wasm", unknown, nil)
	wantErr(t, err, []error{wasm.ErrCompile, meter.ErrUnknownOpcode}, "odd.wasm", "function 0", "unknown opcode 0xfd 0x1ff")
}

// The names the instrumentation adds are the runtime's: a module may not use
// them, and a metered script's introspection does not show them.
func TestReservedNames(t *testing.T) {
	instrumented, _, err := meter.Instrument(guest.Bytes("spin"))
	if err != nil {
		t.Fatal(err)
	}
	for _, lim := range []wasm.Limits{{}, {MaxInstructions: 1000}} {
		rt := newRuntime(t, lim)
		_, err := rt.Load(ctx, "twice", instrumented, nil)
		wantErr(t, err, []error{wasm.ErrInstantiate}, "twice", "hotscript.refuel", "reserved")
	}

	rt := newRuntime(t, wasm.Limits{MaxInstructions: 1000})
	id := load(t, rt, "spin", nil)
	imports, _ := rt.Imports(id)
	exports, _ := rt.Exports(id)
	plain, err := wasm.Inspect(ctx, guest.Bytes("spin"))
	if err != nil {
		t.Fatal(err)
	}
	if len(imports) != 0 || !equalInfos(exports, plain.Exports) {
		t.Errorf("a metered script shows imports %v and exports %v, want none and %v", imports, exports, plain.Exports)
	}
	inspected, err := wasm.Inspect(ctx, instrumented)
	if err != nil {
		t.Fatal(err)
	}
	if len(inspected.Imports) != 0 || !equalInfos(inspected.Exports, plain.Exports) {
		t.Errorf("Inspect of an instrumented module shows imports %v and exports %v", inspected.Imports, inspected.Exports)
	}
}

func equalInfos(a, b []wasm.FuncInfo) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].String() != b[i].String() {
			return false
		}
	}
	return true
}

func TestLimitsValidation(t *testing.T) {
	_, err := wasm.NewRuntime(ctx, wasm.Limits{MaxExecutionTime: -1})
	wantErr(t, err, []error{wasm.ErrLimit}, "negative")
	rt := newRuntime(t, wasm.Limits{})
	_, err = rt.Load(ctx, "x", guest.Bytes("add_v1"), &wasm.ModuleOptions{Limits: &wasm.Limits{MaxExecutionTime: -time.Second}})
	wantErr(t, err, []error{wasm.ErrLimit}, "negative")
}

// A metered call whose ctx is already done is refused before any of its code
// runs, by every way of calling, whatever the call before it left of its fuel:
// the guest checked ctx only when a slice ran out, so a call after a short one
// ran to its end.
func TestDoneContextRefusedMetered(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{MaxExecutionTime: time.Second})
	id := load(t, rt, "counter_v1", nil)
	inc, err := rt.Func(id, "increment")
	if err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	calls := map[string]func() error{
		"CallJSON": func() error { _, err := rt.CallJSON(done, id, "increment"); return err },
		"Func":     func() error { return inc.Call(done, nil) },
		"Lease": func() error {
			l, err := rt.Acquire(ctx, id)
			if err != nil {
				return err
			}
			defer l.Release()
			return l.Call(done, inc, nil)
		},
	}
	// In a migration, such a call counts as one its context stopped
	// (Instance.Err), and fails the Commit even if the MigrateFunc returns
	// nil: the migration meant to do what it did not (helper-169).
	calls["Instance.CallJSON"] = func() error {
		st, err := rt.Stage(ctx, id, guest.Bytes("counter_v1"))
		if err != nil {
			return err
		}
		var callErr error
		err = st.Commit(ctx, func(ctx context.Context, old, next *wasm.Instance) error {
			if _, callErr = old.CallJSON(done, "increment"); !errors.Is(old.Err(), context.Canceled) {
				t.Errorf("Instance.Err = %v, want the refused call's", old.Err())
			}
			return nil
		})
		if !errors.Is(err, wasm.ErrMigrate) || !errors.Is(err, context.Canceled) {
			t.Errorf("Commit: %v, want ErrMigrate with the refused call's error", err)
		}
		return callErr
	}
	for name, c := range calls {
		for i := range 3 {
			call(t, rt, id, "increment") // leaves the fuel of a short call
			before := call(t, rt, id, "get_counter")
			err := c()
			if !errors.Is(err, context.Canceled) || !strings.Contains(fmt.Sprint(err), "counter_v1") {
				t.Errorf("%s #%d with a done ctx: %v, want context.Canceled naming the script", name, i, err)
			}
			if after := call(t, rt, id, "get_counter"); after != before {
				t.Errorf("%s #%d with a done ctx ran: counter %s -> %s", name, i, before, after)
			}
		}
	}
}

// A (ptr, len) result is read whatever its size and the time limit: the
// limit bounds the guest's code, which returns a large document in two
// instructions; a migration's get_state carries a large state under a limit
// of milliseconds. Under a limit of 1 ns, the call's clock starts at the first
// check (build's first; get ends before any), so a read that counted as the
// call's time would fail. (A first attempt to bound the reading by the limit
// made a Host drop a 4 MiB state under a 2 ms limit: helper-167.)
func TestLargeResultNotCutByTimeLimit(t *testing.T) {
	const size = 2 << 20
	for _, lim := range []wasm.Limits{{}, {MaxExecutionTime: time.Nanosecond}} {
		rt := newRuntime(t, lim)
		id := load(t, rt, "big_result", nil)
		if _, err := rt.CallJSON(ctx, id, "build", size); err != nil {
			t.Fatal(err)
		}
		out, err := rt.CallJSON(ctx, id, "get")
		if err != nil || len(out) != size+1 || !json.Valid(out) {
			t.Errorf("%+v: a %d-byte result, valid %v, %v; want %d bytes", lim, len(out), json.Valid(out), err, size+1)
		}
	}
}
