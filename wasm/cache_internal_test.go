package wasm

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/guest"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// variant returns b with a custom section that makes its bytes, and so its hash,
// unique to n.
func variant(b []byte, n byte) []byte {
	return append(append([]byte(nil), b...), 0, 3, 1, 'v', n)
}

func TestCodeCache(t *testing.T) {
	ctx := context.Background()
	rt, err := NewRuntime(ctx, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	v1, v2 := guest.Bytes("counter_v1"), guest.Bytes("counter_v2")
	id, err := rt.Load(ctx, "a", v1, nil)
	if err != nil {
		t.Fatal(err)
	}
	keeper, err := rt.Load(ctx, "b", v1, nil) // shares v1's code throughout
	if err != nil {
		t.Fatal(err)
	}
	counts := func(step string, entries, idle int) {
		t.Helper()
		if e, i := rt.cache.counts(); e != entries || i != idle {
			t.Errorf("%s: %d entries, %d idle; want %d, %d", step, e, i, entries, idle)
		}
	}
	reload := func(b []byte) {
		t.Helper()
		if err := rt.ReloadModule(ctx, id, b); err != nil {
			t.Fatal(err)
		}
	}
	counts("two scripts on one module", 1, 0)
	reload(v1)
	counts("identical bytes", 1, 0)
	reload(v2)
	counts("new version", 2, 0)
	if err := rt.Unload(ctx, keeper); err != nil {
		t.Fatal(err)
	}
	counts("v1 unused", 2, 1)
	reload(v1)
	counts("back to v1", 2, 1)

	if keeper, err = rt.Load(ctx, "b", v1, nil); err != nil {
		t.Fatal(err)
	}
	for n := range byte(idleCodes + 4) {
		reload(variant(v2, n))
	}
	counts("after many versions", 1+1+idleCodes, idleCodes)
	// v1 was never evicted under the script using it.
	if out, err := rt.CallJSON(ctx, keeper, "tick"); err != nil || string(out) != "1000001" {
		t.Errorf("tick on the long-lived script = %s, %v", out, err)
	}
	// The most recent versions are still compiled: going back reuses them.
	reload(variant(v2, idleCodes+1))
	counts("back to a recent version", 1+1+idleCodes, idleCodes)
}

// A failed compilation is not cached, and its waiters see the error.
func TestCodeCacheFailure(t *testing.T) {
	ctx := context.Background()
	rt, err := NewRuntime(ctx, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	bad := guest.Bytes("counter_v1")
	bad = bad[:len(bad)-1]
	for range 2 {
		if _, err := rt.LoadModule(ctx, bad); err == nil {
			t.Fatal("a truncated module loaded")
		}
	}
	if e, i := rt.cache.counts(); e != 0 || i != 0 {
		t.Errorf("after failures: %d entries, %d idle", e, i)
	}
}

// Compiled code is keyed by the bytes compiled: the same module with and without
// metering compiles twice, and scripts metered by different limits share one.
func TestCodeCacheMetered(t *testing.T) {
	ctx := context.Background()
	rt, err := NewRuntime(ctx, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	b := guest.Bytes("spin")
	steps := []struct {
		name    string
		lim     Limits
		entries int
	}{
		{"plain", Limits{}, 1},
		{"metered by instructions", Limits{MaxInstructions: 1000}, 2},
		{"metered by time", Limits{MaxExecutionTime: time.Second}, 2},
		{"plain with a memory cap", Limits{MaxMemoryBytes: 1 << 20}, 2},
	}
	var ids []ScriptID
	for _, st := range steps {
		id, err := rt.Load(ctx, st.name, b, &ModuleOptions{Limits: &st.lim})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		if e, _ := rt.cache.counts(); e != st.entries {
			t.Errorf("after loading %s: %d entries, want %d", st.name, e, st.entries)
		}
	}
	// Reloading a metered script with bytes it knows finds the instrumented code
	// without instrumenting again.
	if err := rt.ReloadModule(ctx, ids[1], b); err != nil {
		t.Fatal(err)
	}
	rt.cache.mu.Lock()
	memo := len(rt.cache.metered)
	rt.cache.mu.Unlock()
	if e, _ := rt.cache.counts(); e != 2 || memo != 1 {
		t.Errorf("after reloading a metered script: %d entries, %d instrumented records; want 2, 1", e, memo)
	}
	// Unloading the first user of each entry leaves the others working.
	for _, id := range ids[:2] {
		if err := rt.Unload(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range ids[2:] {
		if out, err := rt.CallJSON(ctx, id, "spin", 1000); err != nil || string(out) != "1000" {
			t.Errorf("spin(1000) = %s, %v", out, err)
		}
	}
	if _, err := rt.CallJSON(ctx, ids[2], "forever"); !errors.Is(err, ErrTimeout) {
		t.Errorf("the time-limited script ran metered code? forever = %v", err)
	}
}

// Code shared by two scripts is compiled under neither load's context, nor
// are the host modules under the first load's: a function listener that
// wazero builds from one context's values at compile time would see the other
// script's calls, or every script's calls of host functions.
func TestCodeCacheCompilesWithoutContext(t *testing.T) {
	ctx := context.Background()
	rt, err := NewRuntime(ctx, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	if err := rt.Define("host", "log", LogFunc(func(string, string) {})); err != nil {
		t.Fatal(err)
	}
	var seen atomic.Int64
	traced := experimental.WithFunctionListenerFactory(ctx, experimental.FunctionListenerFactoryFunc(
		func(api.FunctionDefinition) experimental.FunctionListener { return countingListener{&seen} }))
	b := guest.Bytes("add_v1")
	if _, err := rt.Load(traced, "traced", b, nil); err != nil {
		t.Fatal(err)
	}
	other, err := rt.Load(ctx, "other", b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.CallJSON(ctx, other, "add", 1, 2); err != nil {
		t.Fatal(err)
	}
	if n := seen.Load(); n != 0 {
		t.Errorf("the listener in the first load's context saw %d calls of the other script", n)
	}
	logger, err := rt.Load(ctx, "logger", guest.Bytes("log_v1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.CallJSON(ctx, logger, "run"); err != nil {
		t.Fatal(err)
	}
	if n := seen.Load(); n != 0 {
		t.Errorf("the listener in the first load's context saw %d calls, of host functions", n)
	}
}

type countingListener struct{ n *atomic.Int64 }

func (l countingListener) Before(context.Context, api.Module, api.FunctionDefinition, []uint64, experimental.StackIterator) {
	l.n.Add(1)
}
func (countingListener) After(context.Context, api.Module, api.FunctionDefinition, []uint64) {}
func (countingListener) Abort(context.Context, api.Module, api.FunctionDefinition, error)    {}

// A load whose context ends while it waits for another load's compilation of
// the same bytes fails with the context's error, not as a compile error.
func TestCodeCacheWaitEndsWithContext(t *testing.T) {
	ctx := context.Background()
	rt, err := NewRuntime(ctx, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	if _, err := rt.enter(); err != nil {
		t.Fatal(err)
	}
	rt.busy.Done()
	b := guest.Bytes("add_v1")
	pending := &code{key: codeKey(sha256.Sum256(b)), ready: make(chan struct{}), refs: 1}
	rt.cache.mu.Lock()
	rt.cache.entries = map[codeKey]*code{pending.key: pending}
	rt.cache.metered = map[codeKey]codeKey{}
	rt.cache.mu.Unlock()
	defer func() { // the compilation that never came fails
		rt.cache.mu.Lock()
		rt.cache.remove(pending)
		rt.cache.mu.Unlock()
		pending.err = errors.New("abandoned")
		close(pending.ready)
		rt.cache.release(pending)
	}()
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	_, err = rt.Load(short, "a", b, nil)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrCompile) {
		t.Fatalf("Load whose wait for a compilation outlived its context: %v, want the context's error and not ErrCompile", err)
	}
}
