package wasm_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hotscript/hotscript/internal/guest"
	"github.com/hotscript/hotscript/wasm"
)

var ctx = context.Background()

// newRuntime returns a runtime closed when the test ends.
func newRuntime(t testing.TB, lim wasm.Limits) *wasm.Runtime {
	t.Helper()
	rt, err := wasm.NewRuntime(ctx, lim)
	if err != nil {
		t.Fatalf("NewRuntime: %v", err)
	}
	t.Cleanup(func() {
		if err := rt.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return rt
}

// load loads a guest module as a script named after it.
func load(t testing.TB, rt *wasm.Runtime, name string, opts *wasm.ModuleOptions) wasm.ScriptID {
	t.Helper()
	id, err := rt.Load(ctx, name, guest.Bytes(name), opts)
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	return id
}

// testModule returns a module of this package's testdata, built from the .wat
// next to it by scripts/build-guests.sh.
func testModule(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loadTest loads a module of testdata as a script named after it.
func loadTest(t testing.TB, rt *wasm.Runtime, name string, opts *wasm.ModuleOptions) wasm.ScriptID {
	t.Helper()
	id, err := rt.Load(ctx, name, testModule(t, name), opts)
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	return id
}

// call calls fn and fails the test on error; it returns the JSON result as a string.
func call(t testing.TB, rt *wasm.Runtime, id wasm.ScriptID, fn string, args ...any) string {
	t.Helper()
	out, err := rt.CallJSON(ctx, id, fn, args...)
	if err != nil {
		t.Fatalf("CallJSON(%s): %v", fn, err)
	}
	return string(out)
}

// callInt calls fn and decodes a number result.
func callInt(t testing.TB, rt *wasm.Runtime, id wasm.ScriptID, fn string, args ...any) int {
	t.Helper()
	var n int
	if err := json.Unmarshal([]byte(call(t, rt, id, fn, args...)), &n); err != nil {
		t.Fatalf("%s returned a non-integer: %v", fn, err)
	}
	return n
}

// wantErr checks that err matches every sentinel and contains every substring.
func wantErr(t testing.TB, err error, sentinels []error, substrings ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", sentinels)
	}
	for _, s := range sentinels {
		if !errors.Is(err, s) {
			t.Errorf("error %q does not match %v", err, s)
		}
	}
	for _, s := range substrings {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
}

// logger collects host.log messages.
type logger struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logger) log(script, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, script+": "+msg)
}

func (l *logger) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	msgs := l.msgs
	l.msgs = nil
	return msgs
}

// ScriptState stands in for an ECS component holding a script's state between
// reloads (the founding document's ScriptState).
type ScriptState struct {
	Counter  int        `json:"counter"`
	Health   float64    `json:"health"`
	Position [3]float64 `json:"position"`
}
