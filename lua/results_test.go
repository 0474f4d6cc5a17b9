package lua_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hotscript/hotscript/lua"
)

// TestResultConversionBounded: CallJSON's results and Field's value that reach
// one table many times are written out as many times, so their conversion to
// JSON is charged to the call (Field's to a budget of its own): it stops at the
// limits, or when the caller's context ends, with their error, naming the
// script and the function, long before the JSON grows large.
func TestResultConversionBounded(t *testing.T) {
	cases := []struct {
		name    string
		limits  lua.Limits
		timeout time.Duration // of the caller's context; 0 for none
		field   bool          // Field of state (a million numbers), not give(top)
		top     int           // millions of numbers returned
		want    error
	}{
		{"instruction limit", lua.Limits{MaxInstructions: 1_000_000}, 0, false, 2, lua.ErrInstructionLimit},
		{"time limit", lua.Limits{MaxExecutionTime: 20 * time.Millisecond}, 0, false, 100, lua.ErrTimeout},
		{"caller's context", lua.Limits{}, 20 * time.Millisecond, false, 100, context.DeadlineExceeded},
		{"Field, instruction limit", lua.Limits{MaxInstructions: 100_000}, 0, true, 1, lua.ErrInstructionLimit},
		{"Field, caller's context", lua.Limits{}, time.Nanosecond, true, 1, context.DeadlineExceeded},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rt, _ := takingRuntime(t, lua.Config{Limits: tc.limits})
			id := load(t, rt, "results.lua", sharedTablesSrc)
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			var (
				out []byte
				err error
				fn  = "give"
			)
			bytes := allocated(func() {
				if tc.field {
					fn = "state"
					out, err = rt.Field(ctx, id, "state")
				} else {
					out, err = rt.CallJSON(ctx, id, "give", tc.top)
				}
			})
			if !errors.Is(err, tc.want) || errors.Is(err, lua.ErrJSON) {
				t.Fatalf("%s: %v (%d bytes of JSON), want %v", fn, err, len(out), tc.want)
			}
			if e := asError(t, err); e.Script != "results.lua" || e.Function != fn ||
				!strings.Contains(e.Message, "converting it to JSON") {
				t.Errorf("error %q names %q %q, want results.lua %s and the conversion", e.Message, e.Script, e.Function, fn)
			}
			// A million numbers are 6 MB of JSON; all of them, 6 MB times top.
			if bytes > 64<<20 {
				t.Errorf("%s allocated %d MiB", fn, bytes>>20)
			}
			if got := call(t, rt, id, "give", 0); got != "{}" {
				t.Errorf("the script after the call: give(0) = %s, want {}", got)
			}
		})
	}
}

// TestResultTooLargeAllocation: without limits, a result whose JSON passes 256
// MiB fails with ErrJSON having allocated about twice that, not the five times
// that growing the JSON by a quarter at a time costs.
func TestResultTooLargeAllocation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 256 MiB of JSON")
	}
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "big.lua", `local M = {}
function M.refs() local s, t = ("x"):rep(2^20), {} for i = 1, 300 do t[i] = s end return t end
return M`)
	var err error
	bytes := allocated(func() { _, err = rt.CallJSON(context.Background(), id, "refs") })
	if !errors.Is(err, lua.ErrJSON) || !strings.Contains(err.Error(), "too large") {
		t.Errorf("refs: %v, want ErrJSON, too large", err)
	}
	if bytes > 640<<20 {
		t.Errorf("refs allocated %d MiB", bytes>>20)
	}
}
