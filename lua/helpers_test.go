package lua_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/hotscript/hotscript/lua"
)

// newRuntime returns a Runtime with cfg that is closed when the test ends.
func newRuntime(t testing.TB, cfg lua.Config) *lua.Runtime {
	t.Helper()
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	rt, err := lua.NewRuntimeWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	return rt
}

// takingRuntime is newRuntime with a host function host.take that does nothing
// but count its calls in *took: a script hands it the values whose conversion
// a test looks at.
func takingRuntime(t testing.TB, cfg lua.Config) (rt *lua.Runtime, took *int) {
	t.Helper()
	rt, took = newRuntime(t, cfg), new(int)
	if err := rt.Define("host", "take", func(context.Context, *lua.Call) ([]any, error) {
		*took++
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	return rt, took
}

// load loads src as name into rt and fails the test on error.
func load(t testing.TB, rt *lua.Runtime, name, src string) lua.ScriptID {
	t.Helper()
	id, err := rt.LoadScript(context.Background(), name, []byte(src))
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return id
}

// call calls fn and returns its JSON result, failing the test on error.
func call(t testing.TB, rt *lua.Runtime, id lua.ScriptID, fn string, args ...any) string {
	t.Helper()
	out, err := rt.CallJSON(context.Background(), id, fn, args...)
	if err != nil {
		t.Fatalf("call %s: %v", fn, err)
	}
	return string(out)
}

// field returns the JSON of a module field, failing the test on error.
func field(t testing.TB, rt *lua.Runtime, id lua.ScriptID, name string) string {
	t.Helper()
	out, err := rt.Field(context.Background(), id, name)
	if err != nil {
		t.Fatalf("field %s: %v", name, err)
	}
	return string(out)
}

// reload reloads id with src and fails the test on error.
func reload(t testing.TB, rt *lua.Runtime, id lua.ScriptID, src string) {
	t.Helper()
	if err := rt.ReloadScript(context.Background(), id, []byte(src)); err != nil {
		t.Fatalf("reload: %v", err)
	}
}

// asError returns err as a *lua.Error, failing the test if it is not one.
func asError(t testing.TB, err error) *lua.Error {
	t.Helper()
	var e *lua.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *lua.Error", err, err)
	}
	return e
}

// jsonEqual reports whether two JSON documents hold the same value.
func jsonEqual(t testing.TB, got, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("bad JSON %q: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad JSON %q: %v", want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	return string(gb) == string(wb)
}

// allocated returns the bytes the process allocated while f ran: with generous
// margins, what a call built before a limit or a cap stopped it.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
