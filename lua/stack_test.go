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
