package wasm_test

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hotscript/hotscript/internal/guest"
	"github.com/hotscript/hotscript/wasm"
	"github.com/tetratelabs/wazero/api"
)

const (
	hammerCallers = 4
	hammerCalls   = 2000
	hammerReloads = 200
)

// checkTick checks that one tick answer came from one whole version: tick returns
// version*1e6 + counter, and version v steps the counter by v.
func checkTick(t *testing.T, answer int) (version int) {
	t.Helper()
	version, counter := answer/1_000_000, answer%1_000_000
	if version != 1 && version != 2 || counter == 0 || counter%version != 0 {
		t.Errorf("tick answered %d: version %d, counter %d is not one version's answer", answer, version, counter)
		return 0
	}
	return version
}

// Four goroutines call, through CallJSON and Func handles, while another reloads
// alternating v1 and v2: every call succeeds and answers from one whole version.
func TestHammerReloadWhileCalling(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "counter_v1", nil)
	tick, err := rt.Func(id, "tick")
	if err != nil {
		t.Fatal(err)
	}
	versions := [][]byte{guest.Bytes("counter_v1"), guest.Bytes("counter_v2")}

	var wg sync.WaitGroup
	var calls atomic.Int64
	var seen [3]atomic.Int64 // answers per version
	for g := range hammerCallers {
		wg.Go(func() {
			stack := make([]uint64, 1)
			for range hammerCalls {
				var answer int
				if g%2 == 0 {
					out, err := rt.CallJSON(ctx, id, "tick")
					if err != nil {
						t.Errorf("CallJSON during reloads: %v", err)
						return
					}
					if err := json.Unmarshal(out, &answer); err != nil {
						t.Errorf("tick answered %s: %v", out, err)
						return
					}
				} else {
					if err := tick.Call(ctx, stack); err != nil {
						t.Errorf("Func.Call during reloads: %v", err)
						return
					}
					answer = int(api.DecodeI32(stack[0]))
				}
				seen[checkTick(t, answer)].Add(1)
				calls.Add(1)
			}
		})
	}
	wg.Go(func() {
		for i := range hammerReloads {
			if err := rt.ReloadModule(ctx, id, versions[(i+1)%2]); err != nil {
				t.Errorf("reload %d: %v", i, err)
				return
			}
		}
	})
	wg.Wait()
	if got := calls.Load(); got != hammerCallers*hammerCalls {
		t.Errorf("%d calls succeeded, want %d", got, hammerCallers*hammerCalls)
	}
	t.Logf("answers: %d from v1, %d from v2", seen[1].Load(), seen[2].Load())
}

// Goroutines increment while others commit staged reloads that migrate the counter:
// no increment is lost, so no call ran on an instance after its state was moved.
func TestHammerMigrateLosesNothing(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "counter_v1", nil)
	migrate := func(ctx context.Context, old, next *wasm.Instance) error {
		n, err := old.CallJSON(ctx, "get_counter")
		if err != nil {
			return err
		}
		_, err = next.CallJSON(ctx, "set_counter", json.Number(n))
		return err
	}
	var wg sync.WaitGroup
	for range hammerCallers {
		wg.Go(func() {
			for range hammerCalls / 2 {
				if _, err := rt.CallJSON(ctx, id, "increment"); err != nil {
					t.Errorf("increment: %v", err)
					return
				}
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for range hammerReloads / 2 {
				st, err := rt.Stage(ctx, id, guest.Bytes("counter_v1"))
				if err != nil {
					t.Errorf("Stage: %v", err)
					return
				}
				if err := st.Commit(ctx, migrate); err != nil {
					t.Errorf("Commit: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if got, want := callInt(t, rt, id, "get_counter"), hammerCallers*hammerCalls/2; got != want {
		t.Errorf("counter = %d after %d increments across reloads", got, want)
	}
}

// Many goroutines load, call and unload the same bytes at once: one compiled module
// serves them all and none is closed under another.
func TestHammerSharedCode(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				id, err := rt.Load(ctx, "add", guest.Bytes("add_v1"), nil)
				if err != nil {
					t.Errorf("Load: %v", err)
					return
				}
				if out, err := rt.CallJSON(ctx, id, "add", 20, 22); err != nil || string(out) != "42" {
					t.Errorf("add(20, 22) = %s, %v", out, err)
				}
				if err := rt.Unload(ctx, id); err != nil {
					t.Errorf("Unload: %v", err)
				}
			}
		})
	}
	wg.Wait()
}

// Calls racing with Close either succeed or fail with ErrClosed.
func TestHammerClose(t *testing.T) {
	rt, err := wasm.NewRuntime(ctx, wasm.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	id := load(t, rt, "counter_v1", nil)
	f, err := rt.Func(id, "tick")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var ok atomic.Int64
	for g := range hammerCallers {
		wg.Go(func() {
			stack := make([]uint64, 1)
			for range hammerCalls {
				var err error
				if g%2 == 0 {
					_, err = rt.CallJSON(ctx, id, "tick")
				} else {
					err = f.Call(ctx, stack)
				}
				if err == nil {
					ok.Add(1)
				} else if !errors.Is(err, wasm.ErrClosed) {
					t.Errorf("call racing Close: %v", err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for ok.Load() < 100 { // let some calls through first
			runtime.Gosched()
		}
		if err := rt.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	wg.Wait()
	if err := rt.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_, err = rt.CallJSON(ctx, id, "tick")
	wantErr(t, err, []error{wasm.ErrClosed})
}

// Goroutines call a script whose host function calls a second script, call both
// scripts directly and reload the first, all at once: a call that finds a script
// busy inside another goroutine's host function waits, and nothing is refused as
// a call back or hangs.
func TestHammerHostFunctionsCallOtherScripts(t *testing.T) {
	var rt *wasm.Runtime
	var b wasm.ScriptID
	var a wasm.ScriptID
	rt, a, b = reentryRuntime(t, func(ctx context.Context, script string) error {
		if script != "a" {
			return nil
		}
		// Let the others find a busy inside its host function, then call b (never
		// back into a).
		runtime.Gosched()
		_, err := rt.CallJSON(ctx, b, "version")
		return err
	})
	var wg sync.WaitGroup
	errs := make(chan error, hammerCallers+1)
	for g := range hammerCallers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range hammerCalls / 4 {
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
		for i := range hammerReloads / 4 {
			if err := rt.ReloadModule(ctx, a, guest.Bytes([]string{"log_v1", "log_v2"}[i%2])); err != nil {
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
