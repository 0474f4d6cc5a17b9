package lua

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
)

// goNilLua defines gonil(), which returns a Go nil in place of a Lua value: a
// coroutine that yields inside pcall leaves the closure get with an open
// upvalue on a value-stack slot the yield cleared (a gopher-lua flaw), and what
// get reads there, and a script then stores in a table, is a Go nil. The
// package refuses such a yield (see yieldCrossesGo) where it can read
// gopher-lua's call frames; nilRuntime turns that off, as a gopher-lua of
// another layout would, so that the defences against Go nils are tested.
const goNilLua = `
local function gonil()
  local get
  local co = coroutine.wrap(function()
    pcall(function() local x = {} get = function() return x end coroutine.yield() end)
  end)
  co()
  return get()
end
`

// goNilModule stores Go nils in its module, as values and in tables, when f
// runs (or, with the chunk's last line uncommented, when the chunk runs).
const goNilModule = goNilLua + `
local M = {n = 1}
function M.f()
  local n = gonil()
  M.v = n
  M.on_save = n
  M.tail = {1, 2, n}
  M.hole = {1, n, 3}
  M.obj = {a = 1, b = n}
  M.key = {[n] = 1, c = 2}
  M.n = M.n + 1
  return M.n
end
function M.g() return M.n end
--M.f()
return M
`

// nilRuntime returns a Runtime with coroutines that may yield across pcall,
// closed when the test ends, and checks that closing it returns: a script left
// locked makes Close hang. The test must not run in parallel with others.
func nilRuntime(t *testing.T) *Runtime {
	t.Helper()
	known := frameLayout.ok
	frameLayout.ok = false
	t.Cleanup(func() { frameLayout.ok = known })
	rt, err := NewRuntimeWithConfig(context.Background(), Config{Libraries: LibCoroutine, Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		done := make(chan error, 1)
		go func() { done <- rt.Close(context.Background()) }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Close: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Close has not returned after 5s: a script was left locked")
		}
	})
	return rt
}

// noPanic runs fn, failing the test if it panics.
func noPanic(t *testing.T, what string, fn func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v", what, r)
		}
	}()
	fn()
}

// goNilScript loads goNilModule and runs its f, checking that the module then
// holds a Go nil: without one, the tests using it test nothing.
func goNilScript(t *testing.T, rt *Runtime) ScriptID {
	t.Helper()
	ctx := context.Background()
	id, err := rt.LoadScript(ctx, "gonil.lua", []byte(goNilModule))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.CallJSON(ctx, id, "f"); err != nil {
		t.Fatalf("f: %v", err)
	}
	s, err := rt.script("test", "", id)
	if err != nil {
		t.Fatal(err)
	}
	if v := s.cur.module.RawGetString("v"); v != nil {
		t.Fatalf("M.v is %#v, not a Go nil: the gopher-lua flaw the test relies on is gone", v)
	}
	return id
}

// A Go nil in a module reads as nil everywhere the runtime looks into the
// module: a field that is absent.
func TestGoNilReadsAsNil(t *testing.T) {
	ctx := context.Background()
	rt := nilRuntime(t)
	id := goNilScript(t, rt)
	wantFields := "[hole key n obj tail]" // not v, not on_save
	noPanic(t, "Fields", func() {
		fields, err := rt.Fields(ctx, id)
		if got := fmt.Sprint(fields); err != nil || got != wantFields {
			t.Errorf("Fields = %s, %v; want %s", got, err, wantFields)
		}
	})
	noPanic(t, "Functions", func() {
		funcs, err := rt.Functions(ctx, id)
		if got := fmt.Sprint(funcs); err != nil || got != "[f g]" {
			t.Errorf("Functions = %s, %v; want [f g]", got, err)
		}
	})
	for _, c := range []struct{ name, want string }{
		{"v", "null"},
		{"on_save", "null"},
		{"tail", "[1,2]"},
		{"hole", `{"1":1,"3":3}`},
		{"obj", `{"a":1}`},
		{"key", `{"c":2}`},
	} {
		noPanic(t, "Field "+c.name, func() {
			out, err := rt.Field(ctx, id, c.name)
			if err != nil || string(out) != c.want {
				t.Errorf("Field(%s) = %s, %v; want %s", c.name, out, err, c.want)
			}
		})
	}
	noPanic(t, "CallJSON v", func() {
		if _, err := rt.CallJSON(ctx, id, "v"); !errors.Is(err, ErrNoFunction) {
			t.Errorf("CallJSON(v) = %v; want ErrNoFunction", err)
		}
	})
}

// A reload of a module holding Go nils commits (they are absent fields, not
// carried), and the script is called, reloaded and closed as usual after it.
func TestReloadGoNilModule(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name, next string
	}{
		{"same source", goNilModule},
		{"new source with Go nils of its own", strings.Replace(goNilModule, "--M.f()", "M.f()", 1)},
		{"new source with hooks", goNilLua + `local M = {n = 0}
function M.on_save() return {n = M.n} end
function M.on_restore(s) M.restored = s ~= nil end
function M.g() return M.n end
return M`},
	} {
		t.Run(c.name, func(t *testing.T) {
			rt := nilRuntime(t)
			id := goNilScript(t, rt)
			noPanic(t, "ReloadScript", func() {
				if err := rt.ReloadScript(ctx, id, []byte(c.next)); err != nil {
					t.Errorf("ReloadScript: %v", err)
				}
			})
			callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if out, err := rt.CallJSON(callCtx, id, "g"); err != nil || string(out) != "2" {
				t.Errorf("g after the reload = %s, %v; want 2, carried", out, err)
			}
			if err := rt.ReloadScript(callCtx, id, []byte(c.next)); err != nil {
				t.Errorf("a second reload: %v", err)
			}
		})
	}
}

// Inspect of a chunk that leaves Go nils in its module lists them nowhere.
func TestInspectGoNilModule(t *testing.T) {
	rt := nilRuntime(t)
	src := strings.Replace(goNilModule, "--M.f()", "M.f()", 1)
	noPanic(t, "Inspect", func() {
		info, err := rt.Inspect(context.Background(), "gonil.lua", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(info.Fields, info.Functions); got != "[hole key n obj tail] [f g]" {
			t.Errorf("fields and functions %s; want [hole key n obj tail] [f g]", got)
		}
		if got := string(info.Values["hole"]) + string(info.Values["key"]); got != `{"1":1,"3":3}{"c":2}` {
			t.Errorf("values of hole and key %s", got)
		}
	})
}

// A panic while a commit holds the script (a gopher-lua flaw this package has
// not met yet, say) fails the commit with ErrRuntime naming the script, keeps
// the old version live, and leaves the script unlocked.
func TestCommitPanicUnlocks(t *testing.T) {
	ctx := context.Background()
	rt := nilRuntime(t)
	id, err := rt.LoadScript(ctx, "p.lua", []byte("local M = {n = 1}\nfunction M.g() return M.n end\nreturn M"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := rt.script("test", "", id)
	if err != nil {
		t.Fatal(err)
	}
	// A nil *LTable is no value gopher-lua makes: copying it panics.
	s.cur.module.RawSetString("bad", (*glua.LTable)(nil))
	noPanic(t, "ReloadScript", func() {
		err = rt.ReloadScript(ctx, id, []byte("local M = {n = 5}\nfunction M.g() return M.n * 10 end\nreturn M"))
	})
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrRuntime) || e.Script != "p.lua" || !strings.Contains(err.Error(), "panic") {
		t.Errorf("ReloadScript = %v; want an *Error of ErrRuntime naming p.lua and the panic", err)
	}
	s.cur.module.RawSetString("bad", glua.LNil)
	callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if out, err := rt.CallJSON(callCtx, id, "g"); err != nil || string(out) != "1" {
		t.Errorf("g after the failed reload = %s, %v; want 1, the old version", out, err)
	}
}

// A Go nil returned to the program reads as nil: Func.Call's result is 0,
// and a chunk that returns one is refused as one returning nil is.
func TestGoNilReturned(t *testing.T) {
	ctx := context.Background()
	rt := nilRuntime(t)
	id, err := rt.LoadScript(ctx, "ret.lua", []byte(goNilLua+"return { get = gonil }"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := rt.Func(id, "get")
	if err != nil {
		t.Fatal(err)
	}
	noPanic(t, "Func.Call", func() {
		if got, err := f.Call(ctx); err != nil || got != 0 {
			t.Errorf("Func.Call of a Go nil = %v, %v; want 0, nil", got, err)
		}
	})
	noPanic(t, "LoadScript", func() {
		_, err := rt.LoadScript(ctx, "chunk.lua", []byte(goNilLua+"return gonil()"))
		if !errors.Is(err, ErrNotTable) || !strings.Contains(err.Error(), "returned nil") {
			t.Errorf("a chunk returning a Go nil: %v; want ErrNotTable, as for nil", err)
		}
	})
}

// An error raised with a Go nil fails the call as error(nil) does, and the
// script answers after it: it panicked out of CallJSON with the script locked.
func TestGoNilRaised(t *testing.T) {
	ctx := context.Background()
	rt := nilRuntime(t)
	id, err := rt.LoadScript(ctx, "raise.lua", []byte(goNilLua+`return {
  raise = function() error(gonil()) end,
  caught = function() local ok, e = pcall(error, gonil()) return {ok, e == nil} end,
  handled = function() return {xpcall(function() error(gonil()) end, function(e) return e == nil end)} end,
  resumed = function()
    local ok, e = coroutine.resume(coroutine.create(function() error(gonil()) end))
    return {ok, e == nil}
  end,
  fine = function() return 1 end,
}`))
	if err != nil {
		t.Fatal(err)
	}
	noPanic(t, "CallJSON", func() {
		_, err := rt.CallJSON(ctx, id, "raise")
		if !errors.Is(err, ErrRuntime) || !strings.Contains(err.Error(), "nil") {
			t.Errorf("raise: %v, want ErrRuntime saying nil", err)
		}
	})
	for _, f := range []string{"caught", "handled", "resumed"} {
		if out, err := rt.CallJSON(ctx, id, f); err != nil || string(out) != "[false,true]" {
			t.Errorf("%s: error(Go nil) caught = %s, %v; want [false,true], as error(nil)", f, out, err)
		}
	}
	if out, err := rt.CallJSON(ctx, id, "fine"); err != nil || string(out) != "1" {
		t.Errorf("the next call = %s, %v; want 1", out, err)
	}
}
