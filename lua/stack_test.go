package lua_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hotscript/hotscript/lua"
)

// Runaway recursion, plain or through a tail-called pcall, fails with a Lua
// "stack overflow" error naming the script and line, the script keeps working,
// and another script recursing at the same time is untouched (gopher-lua's
// growing call stacks, which this package does not use, corrupted frames shared
// between scripts on the pcall path: run with -race).
func TestCallStackOverflow(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, lua.Config{})
	a := load(t, rt, "a.lua", `local M = {}
local function depth(k) if k == 0 then return 0 end return 1 + depth(k - 1) end
function M.depth(k) return depth(k) end
function M.pcalls() local function g() return pcall(g) end local r = {pcall(g)} return #r end
return M`)
	b := load(t, rt, "b.lua", `local M = {}
function M.f(n) if n == 0 then return 0 end return 1 + M.f(n - 1) end
return M`)
	if got := call(t, rt, a, "depth", 900); got != "900" {
		t.Fatalf("depth(900) = %s", got)
	}
	_, err := rt.CallJSON(ctx, a, "depth", 5000)
	var le *lua.Error
	if !errors.Is(err, lua.ErrRuntime) || !errors.As(err, &le) || le.Line != 2 || !strings.Contains(err.Error(), "stack overflow") {
		t.Fatalf("depth(5000): %v, want a stack overflow at line 2", err)
	}
	// The innermost pcall catches the overflow, and each one above returns true
	// and everything below it: the same count on every call.
	pcalls := call(t, rt, a, "pcalls")
	if n, err := strconv.Atoi(pcalls); err != nil || n < 100 {
		t.Fatalf("pcalls = %s, want the number of values the pcalls returned", pcalls)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 20 {
			if out, err := rt.CallJSON(ctx, a, "pcalls"); err != nil || string(out) != pcalls {
				t.Errorf("pcalls = %s, %v; want %s", out, err, pcalls)
				return
			}
		}
	})
	wg.Go(func() {
		for range 200 {
			if out, err := rt.CallJSON(ctx, b, "f", 500); err != nil || string(out) != "500" {
				t.Errorf("b.f(500) next to a's overflows = %s, %v", out, err)
				return
			}
		}
	})
	wg.Wait()
	if got := call(t, rt, a, "depth", 10); got != "10" {
		t.Fatalf("depth(10) after the overflows = %s", got)
	}
}

// Each coroutine is charged its stacks, 96 KiB, against MaxMemoryBytes.
func TestCoroutineMemory(t *testing.T) {
	rt := newRuntime(t, lua.Config{Limits: lua.Limits{MaxMemoryBytes: 2 << 20}, Libraries: lua.LibCoroutine})
	id := load(t, rt, "co.lua", `return { threads = function(k)
  for i = 1, k do coroutine.create(function() end) end
  return k
end }`)
	if got := call(t, rt, id, "threads", 16); got != "16" { // 1.5 MiB
		t.Fatalf("16 coroutines under 2 MiB: %s", got)
	}
	if _, err := rt.CallJSON(context.Background(), id, "threads", 24); !errors.Is(err, lua.ErrMemoryLimit) { // 2.25 MiB
		t.Fatalf("24 coroutines under 2 MiB: %v, want ErrMemoryLimit", err)
	}
}

// A coroutine's value stack grows on demand to 4 MiB, and the growth is
// charged to the call that resumes it: coroutines recursing 200 deep through a
// function of 190 locals hold about 700 KiB of stack each, where their
// creation is charged 96 KiB. Eight of them, kept suspended, pass a 4 MiB
// MaxMemoryBytes (80 such coroutines recursing 1,000 deep used to hold 250 MiB
// under 16 MiB), whether the call that grows them created them or not; four
// stay under it.
func TestCoroutineStackGrowthCounts(t *testing.T) {
	locals := make([]string, 190)
	for i := range locals {
		locals[i] = "a" + strconv.Itoa(i)
	}
	rt := newRuntime(t, lua.Config{Limits: lua.Limits{MaxMemoryBytes: 4 << 20}, Libraries: lua.LibCoroutine})
	id := load(t, rt, "co.lua", `
local M = {}
local keep = {}
local function deep(n)
  local `+strings.Join(locals, ", ")+`
  if n == 0 then coroutine.yield() return end
  deep(n - 1)
end
function M.make(k)
  keep = {}
  for i = 1, k do keep[i] = coroutine.create(function() deep(200) end) end
end
function M.grow()
  for _, co in ipairs(keep) do assert(coroutine.resume(co)) end
  return #keep
end
function M.both(k) M.make(k) return M.grow() end
return M`)
	ctx := context.Background()
	if got := call(t, rt, id, "both", 4); got != "4" {
		t.Fatalf("4 coroutines under 4 MiB: %s", got)
	}
	if _, err := rt.CallJSON(ctx, id, "both", 8); !errors.Is(err, lua.ErrMemoryLimit) {
		t.Errorf("8 coroutines created and grown by one call: %v, want ErrMemoryLimit", err)
	}
	call(t, rt, id, "make", 8) // 768 KiB
	if _, err := rt.CallJSON(ctx, id, "grow"); !errors.Is(err, lua.ErrMemoryLimit) {
		t.Errorf("8 coroutines grown by the call after the one that made them: %v, want ErrMemoryLimit", err)
	}
}
