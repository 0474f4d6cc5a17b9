package lua

import (
	"context"
	"errors"
	"io"
	"strings"
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
	oldMax := maxGivenUp
	maxGivenUp = givenUp.Load() + 3 // the three compiles this test gives up on
	t.Cleanup(func() { maxGivenUp = oldMax })
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

	// With maxGivenUp compiles given up still running, a compile is waited
	// for (here, not through the slow backgroundCompile: it succeeds).
	if n := givenUp.Load(); n != maxGivenUp {
		t.Fatalf("%d compiles given up still run, want %d", n, maxGivenUp)
	}
	short, cancel = context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := rt.LoadScript(short, "data2.lua", []byte("return { slow = 1 }")); err != nil {
		t.Errorf("a load past maxGivenUp compiles given up: %v, want it compiled in place", err)
	}
}
