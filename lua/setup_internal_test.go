package lua

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/testtool"
	glua "github.com/yuin/gopher-lua"
)

// A script without MaxExecutionTime still has its chunk and its reload hooks
// stopped after setupTime, so that an edit that never returns cannot spin a
// reload forever or hold the script's callers; its calls stay unlimited.
func TestSetupTimeWithoutLimits(t *testing.T) {
	old := setupTime
	setupTime = 20 * time.Millisecond
	t.Cleanup(func() { setupTime = old })
	ctx := context.Background()
	rt, err := NewRuntimeWithConfig(ctx, Config{Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(ctx) })

	_, err = rt.LoadScript(ctx, "spin.lua", []byte("while true do end"))
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

// gopher-lua's compiler cannot be interrupted and may take seconds over a large
// chunk (its time grows with the square of a function's distinct constants). A
// load or reload stops waiting for it when its context ends, and a call that
// loads a chunk (loadstring) when its time limit passes or its context ends;
// the compile, here one that waits until the test ends, is left behind.
func TestCompileGivesUp(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	old := backgroundCompile
	backgroundCompile = func(name, src string) (*glua.FunctionProto, error) {
		if strings.Contains(src, "slow") {
			<-release
		}
		return compileChunk(name, src)
	}
	t.Cleanup(func() { backgroundCompile = old })
	// Compiles other tests gave up on end once those tests release them.
	for deadline := time.Now().Add(10 * time.Second); compiling.Load() != 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("compiles of other tests still run")
		}
	}
	oldMax := maxCompiling
	maxCompiling = 3 // the three compiles this test gives up on
	t.Cleanup(func() { maxCompiling = oldMax })
	ctx := context.Background()
	rt, err := NewRuntimeWithConfig(ctx, Config{Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(ctx) })

	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	err = testtool.Returns(t, "LoadScript of a slow chunk", func() error {
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
	err = testtool.Returns(t, "a call that loads a slow chunk", func() error {
		_, err := rt.CallJSON(ctx, id, "gen")
		return err
	})
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "gen.lua") {
		t.Errorf("loadstring past the call's time limit, in a pcall: %v, want ErrTimeout", err)
	}
	if out, err := rt.Field(ctx, id, "n"); err != nil || string(out) != "2" {
		t.Errorf("n = %s, %v after the call, want 2 (the state the call left)", out, err)
	}

	// With maxCompiling compiles given up still running, a compile is waited
	// for (here, not through the slow backgroundCompile: it succeeds).
	if n := compiling.Load(); n != maxCompiling {
		t.Fatalf("%d compiles given up still run, want %d", n, maxCompiling)
	}
	short, cancel = context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := rt.LoadScript(short, "data2.lua", []byte("return { slow = 1 }")); err != nil {
		t.Errorf("a load past maxCompiling compiles given up: %v, want it compiled in place", err)
	}
}

// The bound on compiles given up holds for callers that give up at once, and a
// compile given up says what ended its wait as its kind does, leaving the cause
// to the caller that knows it (the Host says "host closed" in front, once).
func TestCompilesGivenUpBounded(t *testing.T) {
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	// Compiles other tests gave up on end once those tests release them.
	waitFor("no compile given up to run", func() bool { return compiling.Load() == 0 })
	old, oldMax := backgroundCompile, maxCompiling
	t.Cleanup(func() { backgroundCompile, maxCompiling = old, oldMax })
	release := make(chan struct{})
	backgroundCompile = func(name, src string) (*glua.FunctionProto, error) {
		<-release
		return compileChunk(name, src)
	}
	maxCompiling = 2

	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("the reason"))
	const callers = 10
	start, errs := make(chan struct{}), make(chan error, callers)
	for range callers {
		go func() {
			<-start
			_, err := compileUntil(ctx, "x.lua", "return 1")
			errs <- err
		}()
	}
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	received := 0
	t.Cleanup(func() { // first: the callers end before the variables are restored
		open()
		for ; received < callers; received++ {
			<-errs
		}
	})
	close(start)
	// Two start a compile on a goroutine (held until released) and give up on
	// it; the others compile in place (past the bound, compileUntil does not
	// start one), and succeed. All return before the release.
	var givenUpErrs []error
	for ; received < callers; received++ {
		if err := <-errs; err != nil {
			givenUpErrs = append(givenUpErrs, err)
		}
	}
	if n := compiling.Load(); n != 2 {
		t.Errorf("%d compiles on goroutines of their own, want 2", n)
	}
	open()
	if len(givenUpErrs) != 2 {
		t.Errorf("%d compiles given up, want 2: %v", len(givenUpErrs), givenUpErrs)
	}
	for _, err := range givenUpErrs {
		if !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "the reason") {
			t.Errorf("a compile given up: %v, want context.Canceled without the cause", err)
		}
	}
}
