package lua_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotscript/hotscript/lua"
)

// versionSrc is version v of a counter script: each call counts, and reports the
// version of the code that ran it twice, read before and after some work.
func versionSrc(v int) string {
	return fmt.Sprintf(`
local V = %d
local M = { count = 0, log = {} }
function M.step()
  local before = V
  M.count = M.count + 1
  local s = 0
  for i = 1, 50 do s = s + i end
  M.log[#M.log %% 8 + 1] = s
  return { before, V, M.count }
end
function M.bump() M.count = M.count + 1 return M.count end
return M`, v)
}

// TestReloadWhileCalling reloads a script 20 times while 4 goroutines call it. Every
// call must be answered by one whole version, no goroutine may see an older version
// after a newer one, and no increment of the carried counter may be lost.
func TestReloadWhileCalling(t *testing.T) {
	const callers, calls, reloads = 4, 300, 20
	rt := newRuntime(t, lua.Config{Limits: lua.Limits{MaxInstructions: 1_000_000}})
	id := load(t, rt, "counter.lua", versionSrc(0))
	bump, err := rt.Func(id, "bump")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	counts := make(chan float64, 2*callers*calls)
	for g := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := 0.0
			for i := range calls {
				out, err := rt.CallJSON(context.Background(), id, "step")
				if err != nil {
					t.Errorf("caller %d call %d: %v", g, i, err)
					return
				}
				var r [3]float64
				if err := json.Unmarshal(out, &r); err != nil {
					t.Errorf("caller %d: %s: %v", g, out, err)
					return
				}
				if r[0] != r[1] || r[0] < last {
					t.Errorf("caller %d saw version %v/%v after %v", g, r[0], r[1], last)
				}
				last = r[0]
				counts <- r[2]
				if i%50 == 0 { // the typed path shares the lock and the state
					n, err := bump.Call(context.Background())
					if err != nil {
						t.Errorf("Func.Call: %v", err)
					}
					counts <- n
				}
			}
		}()
	}
	for v := 1; v <= reloads; v++ {
		if err := rt.ReloadScript(context.Background(), id, []byte(versionSrc(v))); err != nil {
			t.Fatalf("reload %d: %v", v, err)
		}
	}
	wg.Wait()
	close(counts)
	seen := map[float64]bool{}
	for c := range counts {
		if seen[c] {
			t.Fatalf("count %v returned twice: an increment was lost in a reload", c)
		}
		seen[c] = true
	}
	typed := callers * ((calls + 49) / 50)
	if got, want := field(t, rt, id, "count"), fmt.Sprint(callers*calls+typed); got != want {
		t.Errorf("count = %s after all calls, want %s", got, want)
	}
	if got := call(t, rt, id, "step"); !jsonEqual(t, got, fmt.Sprintf("[%d,%d,%d]", reloads, reloads, callers*calls+typed+1)) {
		t.Errorf("final step = %s", got)
	}
}

// TestStageDoesNotBlockCallers stages a version whose chunk waits on the test, and
// calls the live version meanwhile.
func TestStageDoesNotBlockCallers(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	rt := newRuntime(t, lua.Config{})
	rt.Define("gate", "wait", func(context.Context, *lua.Call) ([]any, error) {
		close(entered)
		<-release
		return nil, nil
	})
	id := load(t, rt, "s.lua", `return { n = 1, get = function() return "old" end }`)
	staged := make(chan *lua.Staged)
	go func() {
		st, err := rt.Stage(context.Background(), id, []byte(`gate.wait() return { get = function() return "new" end }`))
		if err != nil {
			t.Error(err)
		}
		staged <- st
	}()
	<-entered
	done := make(chan string)
	go func() { done <- call(t, rt, id, "get") }()
	select {
	case got := <-done:
		if got != `"old"` {
			t.Errorf("live version answered %s while a reload was staging", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a call was blocked while the next version was staging")
	}
	close(release)
	st := <-staged
	if st == nil {
		t.FailNow()
	}
	if _, err := st.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := call(t, rt, id, "get"); got != `"new"` {
		t.Errorf("after Commit get = %s", got)
	}
}

// TestConcurrentScripts calls several scripts from several goroutines, with loads
// and unloads going on, under -race.
func TestConcurrentScripts(t *testing.T) {
	const goroutines, iterations = 4, 200
	rt := newRuntime(t, lua.Config{Limits: lua.Limits{MaxInstructions: 100_000, MaxExecutionTime: time.Second}})
	ids := make([]lua.ScriptID, goroutines)
	for i := range ids {
		ids[i] = load(t, rt, fmt.Sprintf("s%d.lua", i), `local M = { n = 0 } function M.inc() M.n = M.n + 1 return M.n end return M`)
	}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, _ := rt.Func(ids[g], "inc")
			for i := range iterations {
				if _, err := rt.CallJSON(context.Background(), ids[(g+i)%goroutines], "inc"); err != nil {
					t.Error(err)
					return
				}
				if _, err := f.Call(context.Background()); err != nil {
					t.Error(err)
					return
				}
				tmp, err := rt.LoadScript(context.Background(), "tmp.lua", []byte(`return {}`))
				if err != nil {
					t.Error(err)
					return
				}
				rt.Unload(context.Background(), tmp)
			}
		}()
	}
	wg.Wait()
	total := 0
	for _, id := range ids {
		var n int
		json.Unmarshal([]byte(field(t, rt, id, "n")), &n)
		total += n
	}
	if want := 2 * goroutines * iterations; total != want {
		t.Errorf("%d increments in total, want %d", total, want)
	}
}

// TestIDsWhileLoadingAndUnloading has goroutines load, call and unload scripts while
// each also calls the script its neighbour loaded last, under -race. The registry
// grows many times meanwhile; every id must answer as the script it was given to,
// or, once unloaded, with ErrNotFound: never as another script.
func TestIDsWhileLoadingAndUnloading(t *testing.T) {
	const goroutines, iterations = 4, 300
	rt := newRuntime(t, lua.Config{})
	type loaded struct {
		id   lua.ScriptID
		name string
	}
	latest := make([]atomic.Pointer[loaded], goroutines)
	kept := make([][]loaded, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range iterations {
				name := fmt.Sprintf(`"g%d-%d"`, g, i)
				id, err := rt.LoadScript(context.Background(), "ids.lua", []byte(`return { who = function() return `+name+` end }`))
				if err != nil {
					t.Error(err)
					return
				}
				latest[g].Store(&loaded{id, name})
				if out, err := rt.CallJSON(context.Background(), id, "who"); err != nil || string(out) != name {
					t.Errorf("script %d: %s, %v; want %s", id, out, err, name)
					return
				}
				if other := latest[(g+1)%goroutines].Load(); other != nil {
					out, err := rt.CallJSON(context.Background(), other.id, "who")
					if (err == nil && string(out) != other.name) || (err != nil && !errors.Is(err, lua.ErrNotFound)) {
						t.Errorf("neighbour's script %d: %s, %v; want %s or ErrNotFound", other.id, out, err, other.name)
						return
					}
				}
				if i%3 == 0 { // keep a third of them loaded
					kept[g] = append(kept[g], loaded{id, name})
				} else {
					if err := rt.Unload(context.Background(), id); err != nil {
						t.Error(err)
						return
					}
					if _, err := rt.CallJSON(context.Background(), id, "who"); !errors.Is(err, lua.ErrNotFound) {
						t.Errorf("script %d after Unload: %v, want ErrNotFound", id, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, ks := range kept {
		for _, k := range ks {
			if got := call(t, rt, k.id, "who"); got != k.name {
				t.Errorf("script %d answers %s, want %s", k.id, got, k.name)
			}
		}
	}
}

// Calls racing the runtime's Close, through every way into a script, either
// complete or fail with ErrClosed: never ErrNotFound, even for a call that
// found the script just before Close unloaded it.
func TestCloseWhileCalling(t *testing.T) {
	for round := range 20 {
		rt, err := lua.NewRuntime(context.Background(), lua.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		id := load(t, rt, "s.lua", `return { n = 1, add = function(a, b) return a + b end }`)
		f, err := rt.Func(id, "add")
		if err != nil {
			t.Fatal(err)
		}
		ways := []func() error{
			func() error { _, err := rt.CallJSON(context.Background(), id, "add", 1, 2); return err },
			func() error { _, err := f.Call(context.Background(), 1, 2); return err },
			func() error { _, err := rt.Field(context.Background(), id, "n"); return err },
			func() error {
				l, err := rt.Acquire(context.Background(), id)
				if err == nil {
					_, err = l.Call(context.Background(), f, 1, 2)
					l.Release()
				}
				return err
			},
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w, way := range ways {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for range 200 {
					if err := way(); err != nil {
						if !errors.Is(err, lua.ErrClosed) {
							t.Errorf("round %d, way %d: %v, want ErrClosed", round, w, err)
						}
						return
					}
				}
			}()
		}
		close(start)
		time.Sleep(time.Duration(round%4) * 50 * time.Microsecond)
		if err := rt.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
	}
}

// Goroutines call a script whose host function calls a second script, call both
// directly and reload the first, all at once: a call that finds a script busy
// inside another goroutine's host function waits, and nothing is refused as a
// call back or hangs.
func TestHammerHostFunctionsCallOtherScripts(t *testing.T) {
	var rt *lua.Runtime
	var a, b lua.ScriptID
	rt, a, b = reentryRuntime(t, func(ctx context.Context, script string) error {
		if script != "a.lua" {
			return nil
		}
		// Let the others find a busy inside its host function, then call b (never
		// back into a).
		runtime.Gosched()
		_, err := rt.CallJSON(ctx, b, "version")
		return err
	})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				target, fn := a, "run"
				switch (g + i) % 3 {
				case 1:
					target = b // b's own host function does nothing
				case 2:
					fn = "version"
				}
				if _, err := rt.CallJSON(ctx, target, fn); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 50 {
			if err := rt.ReloadScript(ctx, a, []byte([]string{reentrySrc, reentrySrcV2}[i%2])); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
