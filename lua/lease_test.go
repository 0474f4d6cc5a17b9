package lua_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotscript/hotscript/lua"
)

// tickSrc is version v of a script whose tick adds v to a carried counter and
// answers v*1,000,000 + counter, so that an answer tells which version ran it and
// what ran before it.
func tickSrc(v int) string {
	return fmt.Sprintf(`
local V = %d
local M = { counter = 0 }
function M.tick() M.counter = M.counter + V return V * 1000000 + M.counter end
function M.fail() error("boom") end
function M.spin() while true do end end
function M.work() local s = 0 for i = 1, 1000 do s = s + i end return s end
return M`, v)
}

// acquire leases id, released when the test ends.
func acquire(t testing.TB, rt *lua.Runtime, id lua.ScriptID) *lua.Lease {
	t.Helper()
	l, err := rt.Acquire(context.Background(), id)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	t.Cleanup(l.Release)
	return l
}

// newFunc returns a handle on fn of id, failing the test on error.
func newFunc(t testing.TB, rt *lua.Runtime, id lua.ScriptID, fn string) *lua.Func {
	t.Helper()
	f, err := rt.Func(id, fn)
	if err != nil {
		t.Fatalf("Func(%s): %v", fn, err)
	}
	return f
}

// leaseTicks calls tick n times through l, alternating the Func and CallJSON, and
// checks that the answers come from one version stepping its counter by its version
// each call, as they must when nothing runs in between. It returns the version, the
// last counter and the sum of the steps, or zeros after reporting an error. Safe to
// use from any goroutine.
func leaseTicks(t testing.TB, l *lua.Lease, tick *lua.Func, n int) (version, counter, sum int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		var answer int
		if i%2 == 0 {
			r, err := l.Call(ctx, tick)
			if err != nil {
				t.Errorf("Lease.Call(tick): %v", err)
				return 0, 0, 0
			}
			answer = int(r)
		} else {
			out, err := l.CallJSON(ctx, "tick")
			if err != nil {
				t.Errorf("Lease.CallJSON(tick): %v", err)
				return 0, 0, 0
			}
			if answer, err = strconv.Atoi(string(out)); err != nil {
				t.Errorf("tick answered %s, want an integer", out)
				return 0, 0, 0
			}
		}
		v, c := answer/1_000_000, answer%1_000_000
		if i > 0 && (v != version || c != counter+v) {
			t.Errorf("call %d of a lease answered %d after version %d, counter %d: another call or a reload ran in between", i, answer, version, counter)
			return 0, 0, 0
		}
		version, counter, sum = v, c, sum+v
	}
	return version, counter, sum
}

// wantKind fails the test unless err matches kind.
func wantKind(t testing.TB, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("error %v, want one matching %v", err, kind)
	}
}

// yieldTo lets goroutines started just before run up to where they block.
func yieldTo() {
	for range 100 {
		runtime.Gosched()
	}
}

// The rules of a lease, one case each.
func TestLease(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, rt *lua.Runtime, id lua.ScriptID)
	}{
		{"calls through the lease run in order on one version", func(t *testing.T, rt *lua.Runtime, id lua.ScriptID) {
			if v, c, _ := leaseTicks(t, acquire(t, rt, id), newFunc(t, rt, id, "tick"), 10); v != 1 || c != 10 {
				t.Errorf("10 ticks answered version %d, counter %d; want 1, 10", v, c)
			}
		}},
		{"other goroutines' calls wait for Release", func(t *testing.T, rt *lua.Runtime, id lua.ScriptID) {
			tick := newFunc(t, rt, id, "tick")
			l := acquire(t, rt, id)
			viaJSON, viaFunc := make(chan string), make(chan float64)
			go func() {
				out, err := rt.CallJSON(ctx, id, "tick")
				if err != nil {
					t.Errorf("CallJSON while leased: %v", err)
				}
				viaJSON <- string(out)
			}()
			go func() {
				r, err := tick.Call(ctx)
				if err != nil {
					t.Errorf("Func.Call while leased: %v", err)
				}
				viaFunc <- r
			}()
			yieldTo()
			_, last, _ := leaseTicks(t, l, tick, 50)
			l.Release()
			a, _ := strconv.Atoi(<-viaJSON)
			b := int(<-viaFunc)
			if lo, hi := min(a, b)%1_000_000, max(a, b)%1_000_000; lo != last+1 || hi != last+2 {
				t.Errorf("the waiting calls answered counters %d and %d, want %d and %d (after the lease's calls)", lo, hi, last+1, last+2)
			}
		}},
		{"a commit waits for Release, and Stage does not", func(t *testing.T, rt *lua.Runtime, id lua.ScriptID) {
			tick := newFunc(t, rt, id, "tick")
			l := acquire(t, rt, id)
			st, err := rt.Stage(ctx, id, []byte(tickSrc(2)))
			if err != nil {
				t.Fatalf("Stage while leased: %v", err)
			}
			done := make(chan error)
			go func() {
				_, err := st.Commit(ctx)
				done <- err
			}()
			yieldTo()
			if v, _, _ := leaseTicks(t, l, tick, 50); v != 1 {
				t.Errorf("the lease answered version %d during a commit, want 1", v)
			}
			l.Release()
			if err := <-done; err != nil {
				t.Fatalf("Commit: %v", err)
			}
			if v, c, _ := leaseTicks(t, acquire(t, rt, id), tick, 4); v != 2 || c != 50+8 {
				t.Errorf("the next lease answered version %d, counter %d; want 2, 58 (the counter carried)", v, c)
			}
		}},
		{"a Lua error leaves the lease usable", func(t *testing.T, rt *lua.Runtime, id lua.ScriptID) {
			l := acquire(t, rt, id)
			_, err := l.Call(ctx, newFunc(t, rt, id, "fail"))
			wantKind(t, err, lua.ErrRuntime)
			_, err = l.CallJSON(ctx, "fail")
			wantKind(t, err, lua.ErrRuntime)
			_, err = l.CallJSON(ctx, "missing")
			wantKind(t, err, lua.ErrNoFunction)
			if v, c, _ := leaseTicks(t, l, newFunc(t, rt, id, "tick"), 4); v != 1 || c != 4 {
				t.Errorf("ticks after errors answered version %d, counter %d; want 1, 4", v, c)
			}
		}},
		{"limits apply to each call and leave the lease usable", func(t *testing.T, rt *lua.Runtime, _ lua.ScriptID) {
			id, err := rt.Load(ctx, "limited.lua", []byte(tickSrc(1)), &lua.ScriptOptions{Limits: &lua.Limits{MaxInstructions: 10_000}})
			if err != nil {
				t.Fatal(err)
			}
			l := acquire(t, rt, id)
			spin, work := newFunc(t, rt, id, "spin"), newFunc(t, rt, id, "work")
			for range 2 {
				_, err := l.Call(ctx, spin)
				wantKind(t, err, lua.ErrInstructionLimit)
				_, err = l.CallJSON(ctx, "spin")
				wantKind(t, err, lua.ErrInstructionLimit)
			}
			for i := range 20 { // 20 times 4,000 instructions: the budget is per call
				if r, err := l.Call(ctx, work); err != nil || r != 500500 {
					t.Fatalf("work call %d under a lease: %v, %v; want 500500", i, r, err)
				}
			}
		}},
		{"after Release calls fail with ErrReleased", func(t *testing.T, rt *lua.Runtime, id lua.ScriptID) {
			tick := newFunc(t, rt, id, "tick")
			l := acquire(t, rt, id)
			l.Release()
			l.Release() // idempotent
			_, err := l.Call(ctx, tick)
			wantKind(t, err, lua.ErrReleased)
			_, err = l.CallJSON(ctx, "tick")
			wantKind(t, err, lua.ErrReleased)
			if e := asError(t, err); e.Script != "tick.lua" || e.Function != "tick" {
				t.Errorf("error names script %q, function %q; want tick.lua, tick", e.Script, e.Function)
			}
			if r, err := tick.Call(ctx); err != nil || r != 1_000_001 {
				t.Errorf("Func.Call after Release = %v, %v; want 1000001 (the released calls ran nothing)", r, err)
			}
		}},
		{"a Func of another script is refused", func(t *testing.T, rt *lua.Runtime, id lua.ScriptID) {
			other := load(t, rt, "other.lua", tickSrc(7))
			l := acquire(t, rt, id)
			_, err := l.Call(ctx, newFunc(t, rt, other, "tick"))
			wantKind(t, err, lua.ErrNoFunction)
			if r, err := newFunc(t, rt, other, "tick").Call(ctx); err != nil || r != 7_000_007 {
				t.Errorf("the other script's tick = %v, %v; want 7000007 (the refused call ran nothing)", r, err)
			}
		}},
		{"a Func follows a reload between leases", func(t *testing.T, rt *lua.Runtime, id lua.ScriptID) {
			tick := newFunc(t, rt, id, "tick")
			l := acquire(t, rt, id)
			leaseTicks(t, l, tick, 2)
			l.Release()
			reload(t, rt, id, tickSrc(3))
			if v, c, _ := leaseTicks(t, acquire(t, rt, id), tick, 2); v != 3 || c != 2+6 {
				t.Errorf("after the reload the lease answered version %d, counter %d; want 3, 8", v, c)
			}
		}},
		{"Unload waits for Release", func(t *testing.T, rt *lua.Runtime, id lua.ScriptID) {
			tick := newFunc(t, rt, id, "tick")
			l := acquire(t, rt, id)
			done := make(chan error)
			go func() { done <- rt.Unload(ctx, id) }()
			yieldTo()
			leaseTicks(t, l, tick, 20)
			l.Release()
			if err := <-done; err != nil {
				t.Fatalf("Unload: %v", err)
			}
			_, err := rt.Acquire(ctx, id)
			wantKind(t, err, lua.ErrNotFound)
		}},
		{"Acquire fails on a cancelled context, a closed runtime", func(t *testing.T, rt *lua.Runtime, id lua.ScriptID) {
			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			_, err := rt.Acquire(cancelled, id)
			wantKind(t, err, context.Canceled)
			_, err = rt.Acquire(ctx, id+100)
			wantKind(t, err, lua.ErrNotFound)
			rt.Close(ctx)
			_, err = rt.Acquire(ctx, id)
			wantKind(t, err, lua.ErrClosed)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, lua.Config{})
			tt.run(t, rt, load(t, rt, "tick.lua", tickSrc(1)))
		})
	}
}

// TestLeaseHammer has 4 goroutines lease a script and call it through the lease
// while another calls it without one and another reloads it back and forth between
// versions 1 and 2. Every lease must be answered by one whole version, commits must
// land between leases, and no tick may be lost across them.
func TestLeaseHammer(t *testing.T) {
	const leasers, minLeases, calls, minCommits = 4, 50, 8, 20
	ctx := context.Background()
	rt := newRuntime(t, lua.Config{Limits: lua.Limits{MaxInstructions: 100_000}})
	id := load(t, rt, "tick.lua", tickSrc(1))
	tick := newFunc(t, rt, id, "tick")
	var commits, leasersDone atomic.Int64
	var total, changes atomic.Int64 // sum of all ticks' steps; versions changed between a goroutine's leases
	var wg sync.WaitGroup
	for g := range leasers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer leasersDone.Add(1)
			last := 0
			for i := 0; i < minLeases || commits.Load() < minCommits; i++ {
				l, err := rt.Acquire(ctx, id)
				if err != nil {
					t.Errorf("leaser %d: Acquire: %v", g, err)
					return
				}
				v, _, sum := leaseTicks(t, l, tick, calls)
				l.Release()
				if v == 0 {
					return
				}
				if last != 0 && v != last {
					changes.Add(1)
				}
				last = v
				total.Add(int64(sum))
			}
		}()
	}
	wg.Add(2)
	go func() { // a caller without a lease, waiting for the leases
		defer wg.Done()
		for leasersDone.Load() < leasers {
			r, err := tick.Call(ctx)
			if err != nil {
				t.Errorf("Func.Call: %v", err)
				return
			}
			total.Add(int64(r) / 1_000_000)
		}
	}()
	go func() {
		defer wg.Done()
		for c := 0; c < minCommits || leasersDone.Load() < leasers; c++ {
			if err := rt.ReloadScript(ctx, id, []byte(tickSrc(2-c%2))); err != nil {
				t.Errorf("reload %d: %v", c, err)
				return
			}
			commits.Add(1)
			runtime.Gosched()
		}
	}()
	wg.Wait()
	if changes.Load() == 0 {
		t.Errorf("%d commits, and no leaser saw the version change between its leases", commits.Load())
	}
	if got := field(t, rt, id, "counter"); got != strconv.FormatInt(total.Load(), 10) {
		t.Errorf("the carried counter is %s, want %d, the sum of every tick's step", got, total.Load())
	}
}

// A call, lease, Field or commit that finds its script busy gives up when its
// context ends, with an error naming the script, and leaves the script as it
// was; Unload waits for the call in progress whatever its context.
func TestWaitEndsWithContext(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "ticker.lua", tickSrc(1))
	tick := newFunc(t, rt, id, "tick")
	ways := map[string]func(ctx context.Context) error{
		"CallJSON": func(ctx context.Context) error {
			_, err := rt.CallJSON(ctx, id, "tick")
			return err
		},
		"Func.Call": func(ctx context.Context) error {
			_, err := tick.Call(ctx)
			return err
		},
		"Field": func(ctx context.Context) error {
			_, err := rt.Field(ctx, id, "counter")
			return err
		},
		"Functions": func(ctx context.Context) error {
			_, err := rt.Functions(ctx, id)
			return err
		},
		"Acquire": func(ctx context.Context) error {
			l, err := rt.Acquire(ctx, id)
			if err == nil {
				l.Release()
			}
			return err
		},
		"ReloadScript": func(ctx context.Context) error { return rt.ReloadScript(ctx, id, []byte(tickSrc(2))) },
	}
	l, err := rt.Acquire(ctx, id) // the call in progress
	if err != nil {
		t.Fatal(err)
	}
	for name, wait := range ways {
		t.Run(name, func(t *testing.T) {
			short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
			defer cancel()
			err := wait(short)
			wantKind(t, err, context.DeadlineExceeded)
			if err != nil && !strings.Contains(err.Error(), "ticker.lua") {
				t.Errorf("error %q does not name the script", err)
			}
		})
	}
	l.Release()
	if got := call(t, rt, id, "tick"); got != "1000001" {
		t.Fatalf("tick() = %s after the calls and commit that gave up, want 1000001 (v1, first tick)", got)
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
