package lua_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hotscript/hotscript/lua"
)

// sharedTablesSrc builds a table that reaches one array of 1,000 numbers 1,000
// times in each of its top elements, a few instructions for a million numbers
// each, and passes it to host.take, or returns it from give, as many times as
// the caller says (a million numbers each time).
const sharedTablesSrc = `
local M = {}
local function build(top)
  local a = {} for i = 1, 1000 do a[i] = i + 0.5 end
  local b = {} for i = 1, 1000 do b[i] = a end
  local c = {} for i = 1, top do c[i] = b end
  return c
end
function M.pass(top) local ok, err = pcall(host.take, build(top)) return {ok, err} end
function M.give(top) return build(top) end
M.state = build(1)
return M`

// TestHostArgumentConversionBounded: a host function's arguments that reach one
// table many times are converted as many times, so their conversion is charged
// to the call running the script: it stops at the call's limit, or when the
// caller's context ends, with their error (which pcall cannot swallow), long
// before the Go values grow large, and the host function does not run.
func TestHostArgumentConversionBounded(t *testing.T) {
	cases := []struct {
		name    string
		limits  lua.Limits
		timeout time.Duration // of the caller's context; 0 for none
		top     int           // millions of numbers passed
		want    error
	}{
		{"instruction limit", lua.Limits{MaxInstructions: 1_000_000}, 0, 2, lua.ErrInstructionLimit},
		{"time limit", lua.Limits{MaxExecutionTime: 100 * time.Millisecond}, 0, 16, lua.ErrTimeout}, // the load runs under it too: room for a busy machine
		{"caller's context", lua.Limits{}, 20 * time.Millisecond, 16, context.DeadlineExceeded},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rt, took := takingRuntime(t, lua.Config{Limits: tc.limits})
			id := load(t, rt, "args.lua", sharedTablesSrc)
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			var err error
			bytes := allocated(func() { _, err = rt.CallJSON(ctx, id, "pass", tc.top) })
			if !errors.Is(err, tc.want) {
				t.Errorf("pass(%d): %v, want %v", tc.top, err, tc.want)
			}
			if *took != 0 {
				t.Errorf("host.take ran %d times", *took)
			}
			// A million numbers are 24 MB of Go values; all of them, 24 MB times top.
			if bytes > 200<<20 {
				t.Errorf("the call allocated %d MiB", bytes>>20)
			}
			if got := call(t, rt, id, "give", 0); got != "{}" {
				t.Errorf("the script after the call: give(0) = %s, want {}", got)
			}
		})
	}
}

// TestHostArgumentGoMemoryBound: without limits, what bounds a host function's
// arguments is the Go memory they take, 256 MiB: numbers count 24 bytes each,
// not the byte or two of their JSON, so 16 million of them fail, before their
// conversion ends, with a Lua error saying they are too large.
func TestHostArgumentGoMemoryBound(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 256 MiB of Go values")
	}
	rt, took := takingRuntime(t, lua.Config{})
	id := load(t, rt, "args.lua", sharedTablesSrc)
	var out string
	bytes := allocated(func() { out = call(t, rt, id, "pass", 16) })
	want := fmt.Sprintf(`[false,"args.lua:9: host.take: argument #1: field [`)
	if !strings.HasPrefix(out, want) || !strings.Contains(out, "too large: as Go values it passes 256 MiB") {
		t.Errorf("pass(16) = %.200s, want %s... too large", out, want)
	}
	if *took != 0 {
		t.Errorf("host.take ran %d times", *took)
	}
	// All 16 million numbers would take 384 MiB, their arrays 256 MiB more.
	if bytes > 450<<20 { // 617 MiB before the bound counted Go memory
		t.Errorf("the call allocated %d MiB", bytes>>20)
	}
}
