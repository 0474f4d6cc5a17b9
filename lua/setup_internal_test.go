package lua

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
	"github.com/hotscript/hotscript/internal/testtool"
)

// A script without MaxExecutionTime still has its chunk and its reload hooks
// stopped after setupTime, so that an edit that never returns cannot spin a
// reload forever or hold the script's callers; its calls stay unlimited.
func TestSetupTimeWithoutLimits(t *testing.T) {
	old := setupTime
	setupTime = 20 * time.Millisecond
	t.Cleanup(func() { setupTime = old })
	ctx := context.Background()
	rt := quietRuntime(t)

	_, err := rt.LoadScript(ctx, "spin.lua", []byte("while true do end"))
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "spin.lua") ||
		!strings.Contains(err.Error(), "allowed to a script without MaxExecutionTime") {
		t.Fatalf("a chunk that never returns: %v, want ErrTimeout naming the script and why", err)
	}

	const src = `local M = { n = 1 }
function M.slow(k) local s = 0 for i = 1, k do s = s + i end M.n = M.n + 1 return M.n end
function M.on_save() return {} end
function M.on_restore() end
return M`
	id, err := rt.LoadScript(ctx, "slow.lua", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := rt.CallJSON(ctx, id, "slow", 1e6); err != nil {
		t.Fatalf("a call longer than the setup limit (%v): %v, want no limit on calls", time.Since(start), err)
	} else if time.Since(start) < setupTime {
		t.Logf("the call took %v, under the setup limit: it shows nothing on this machine", time.Since(start))
	}

	spinning := strings.Replace(src, "function M.on_restore() end", "function M.on_restore() while true do end end", 1)
	err = rt.ReloadScript(ctx, id, []byte(spinning))
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "on_restore") {
		t.Fatalf("an on_restore that never returns: %v, want ErrTimeout naming on_restore", err)
	}
	if out, err := rt.Field(ctx, id, "n"); err != nil || string(out) != "2" {
		t.Fatalf("n = %s, %v after the failed reload, want 2 (the state before it)", out, err)
	}
	if _, err := rt.CallJSON(ctx, id, "slow", 1e6); err != nil {
		t.Fatalf("a long call after the failed reload: %v, want no limit", err)
	}
}

// slowCompiles makes the compiles compileUntil runs on goroutines of their own,
// of any size, wait until the test ends when their chunk says "slow", and
// returns how many of those run.
func slowCompiles(t *testing.T) *atomic.Int32 {
	var running atomic.Int32
	release := make(chan struct{})
	old, oldInPlace := backgroundCompile, compileInPlace
	backgroundCompile = func(name, src string, kind chunkKind) (*glua.FunctionProto, error) {
		if strings.Contains(src, "slow") {
			running.Add(1)
			defer running.Add(-1)
			<-release
		}
		return compileChunk(name, src, kind)
	}
	compileInPlace = 0
	t.Cleanup(func() {
		close(release)
		for deadline := time.Now().Add(10 * time.Second); running.Load() != 0 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		backgroundCompile, compileInPlace = old, oldInPlace
	})
	return &running
}

// gopher-lua's compiler cannot be interrupted and may take seconds over a large
// chunk (its time grows with the square of a function's distinct constants). A
// load or reload stops waiting for it when its context ends, and a call that
// loads a chunk (loadstring) when its time limit passes or its context ends;
// the compile, here one that waits until the test ends, is left behind.
func TestCompileGivesUp(t *testing.T) {
	running := slowCompiles(t)
	ctx := context.Background()
	rt := quietRuntime(t)

	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	err := testtool.Returns(t, "LoadScript of a slow chunk", func() error {
		_, err := rt.LoadScript(short, "data.lua", []byte("return { slow = 1 }"))
		return err
	})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "lua: load data.lua: data.lua: compiling stopped") {
		t.Errorf("a load whose context ends while it compiles: %v", err)
	}

	id, err := rt.Load(ctx, "gen.lua", []byte(`local M = { n = 1 }
function M.gen() M.n = M.n + 1 local ok = pcall(loadstring, "return 'slow'") return ok end
return M`), &ScriptOptions{Limits: &Limits{MaxExecutionTime: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	reload, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	err = testtool.Returns(t, "ReloadScript to a slow chunk", func() error {
		return rt.ReloadScript(reload, id, []byte("return { slow = 1 }"))
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a reload whose context ends while it compiles: %v", err)
	}
	for i := range 2 { // the second waits for the first's compile, given up
		err = testtool.Returns(t, "a call that loads a slow chunk", func() error {
			_, err := rt.CallJSON(ctx, id, "gen")
			return err
		})
		if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "gen.lua") {
			t.Errorf("call %d: loadstring past the call's time limit, in a pcall: %v, want ErrTimeout", i+1, err)
		}
	}
	if out, err := rt.Field(ctx, id, "n"); err != nil || string(out) != "3" {
		t.Errorf("n = %s, %v after two calls, want 3 (the state the calls left)", out, err)
	}
	if n := running.Load(); n != 3 {
		t.Errorf("%d compiles given up run, want 3 (the load's, the reload's, the first call's)", n)
	}
	// The program's own loads are not held up by the compiles given up.
	short, cancel = context.WithTimeout(ctx, time.Second)
	defer cancel()
	if _, err := rt.LoadScript(short, "data2.lua", []byte("return { quick = 1 }")); err != nil {
		t.Errorf("a load while compiles given up run: %v", err)
	}
}

// Loads given up while their chunk compiles hold up the loads of their name,
// two compiles at a time, not those of other names: however many names'
// compiles run given up, a load of another name compiles at once (a load
// waited for a place any runtime's load held). A load that waits for a place
// says so when it stops.
func TestLoadsGivenUpBoundedByName(t *testing.T) {
	running := slowCompiles(t)
	ctx := context.Background()
	rt := quietRuntime(t)
	giveUp := func(name string) error {
		short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		_, err := rt.LoadScript(short, name, []byte("return { slow = 1 }"))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("load of %s: %v, want it given up", name, err)
		}
		return err
	}
	names := max(2, runtime.GOMAXPROCS(0))
	for i := range names {
		giveUp(fmt.Sprintf("slow%d.lua", i))
	}
	for range 2 {
		giveUp("slow0.lua")
	}
	err := giveUp("slow0.lua")
	if want := "slow0.lua: waiting for an earlier compile of it to end stopped"; !strings.Contains(err.Error(), want) {
		t.Errorf("a load waiting for a place: %v, want it to say %q", err, want)
	}
	for deadline := time.Now().Add(5 * time.Second); running.Load() != int32(names+1) && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond) // the compiles given up start on goroutines of their own
	}
	short, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if _, err := rt.LoadScript(short, "other.lua", []byte("return { quick = 1 }")); err != nil {
		t.Errorf("a load of another name while %d compiles given up run: %v", running.Load(), err)
	}
	if n := running.Load(); n != int32(names+1) {
		t.Errorf("%d compiles given up run, want %d (two of slow0.lua, one of each other name)", n, names+1)
	}
}

// A script's chunks given up on, however many its calls load, run on one
// goroutine at a time, and no other script's wait for them; a compile asked with
// a context ended already says what ended it as its kind does, leaving the cause
// to the caller that knows it (the Host says "host closed" in front, once).
func TestCompilesGivenUpBounded(t *testing.T) {
	running := slowCompiles(t)
	ctx := context.Background()
	rt := quietRuntime(t)
	src := []byte(`return { gen = function() return pcall(loadstring, "return 'slow'") end }`)
	limits := &ScriptOptions{Limits: &Limits{MaxExecutionTime: 10 * time.Millisecond}}
	a, err := rt.Load(ctx, "a.lua", src, limits)
	if err != nil {
		t.Fatal(err)
	}
	b, err := rt.Load(ctx, "b.lua", src, limits)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := rt.CallJSON(ctx, a, "gen"); !errors.Is(err, ErrTimeout) {
			t.Fatalf("call %d of a.lua: %v, want ErrTimeout", i+1, err)
		}
	}
	if n := running.Load(); n != 1 {
		t.Errorf("%d compiles given up run after five calls of a.lua, want 1", n)
	}
	if _, err := rt.CallJSON(ctx, b, "gen"); !errors.Is(err, ErrTimeout) {
		t.Fatalf("call of b.lua: %v, want ErrTimeout", err)
	}
	if n := running.Load(); n != 2 {
		t.Errorf("%d compiles given up run after b.lua's call, want 2 (b.lua's started)", n)
	}

	ended, cancel := context.WithCancelCause(ctx)
	cancel(errors.New("the reason"))
	_, err = compileUntil(ended, "x.lua", "return 1", chunkKind{}, slot{})
	if !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "the reason") {
		t.Errorf("a compile given up: %v, want context.Canceled without the cause", err)
	}
}

// quietRuntime is a Runtime printing nothing, closed when the test ends.
func quietRuntime(t *testing.T) *Runtime {
	t.Helper()
	rt, err := NewRuntimeWithConfig(context.Background(), Config{Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	return rt
}

// Reloads given up one after another (each save of a file that compiles for
// seconds, stopped by the next) leave at most two compiles of the script
// running, the next waiting for a place; loads and inspections given up, at
// most two of each name (see TestLoadsGivenUpBoundedByName), shared.
func TestReloadCompilesBounded(t *testing.T) {
	running := slowCompiles(t)
	ctx := context.Background()
	rt := quietRuntime(t)
	id, err := rt.Load(ctx, "a.lua", []byte("return {}"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		rctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		err := rt.ReloadScript(rctx, id, []byte("-- slow\nreturn {}"))
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("reload %d: %v, want it given up", i+1, err)
		}
	}
	if n := running.Load(); n != 2 {
		t.Errorf("%d compiles given up run after six reloads, want 2", n)
	}
	giveUp := func(what string, f func(ctx context.Context) error) {
		t.Helper()
		for i := range 3 {
			lctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			err := f(lctx)
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("%s %d: %v, want it given up", what, i+1, err)
			}
		}
	}
	giveUp("load", func(ctx context.Context) error {
		_, err := rt.Load(ctx, "b.lua", []byte("-- slow\nreturn {}"), nil)
		return err
	})
	if n := running.Load(); n != 4 {
		t.Errorf("%d compiles given up run after the loads, want 4 (2 of the reloads, 2 of the loads)", n)
	}
	giveUp("inspection", func(ctx context.Context) error {
		_, err := rt.Inspect(ctx, "b.lua", []byte("-- slow\nreturn {}"))
		return err
	})
	if n := running.Load(); n != 4 {
		t.Errorf("%d compiles given up run after the inspections of b.lua, want still 4", n)
	}
	giveUp("inspection", func(ctx context.Context) error {
		_, err := rt.Inspect(ctx, "c.lua", []byte("-- slow\nreturn {}"))
		return err
	})
	if n := running.Load(); n != 6 {
		t.Errorf("%d compiles given up run after the inspections of c.lua, want 6", n)
	}
}
