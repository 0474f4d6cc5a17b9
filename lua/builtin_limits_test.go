package lua_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hotscript/hotscript/lua"
)

// string.rep builds its result by doubling in chunks of about 1 MiB; each
// chunk must be a whole number of copies of the piece, or everything after it
// is out of phase. The pieces' lengths are and are not powers of two, and one
// is longer than a chunk; every result is past 2 MiB.
func TestRepExactPastChunkSize(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "rep.lua", `local M = {}
function M.rep(s, n) return string.rep(s, n) end
function M.loads(s, n) return load(string.rep(s, n)) ~= nil end
return M`)
	tests := []struct {
		name  string
		piece string
		n     int
	}{
		{"1 byte", "a", 3 << 20},
		{"2 bytes", "ab", 1500000},
		{"3 bytes", "abc", 1000000},
		{"4 bytes", "abcd", 800000},
		{"5 bytes", "a={} ", 800000},
		{"7 bytes", "abcdefg", 500000},
		{"64 bytes", strings.Repeat("0123456789abcdef", 4), 50000},
		{"1000 bytes", strings.Repeat("xyz.", 250)[:999] + "!", 5000},
		{"longer than a chunk", strings.Repeat("pqrstu", 1<<18) + "!", 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := rt.CallJSON(context.Background(), id, "rep", tc.piece, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			want := strings.Repeat(tc.piece, tc.n)
			if got != want {
				i := 0
				for i < min(len(got), len(want)) && got[i] == want[i] {
					i++
				}
				t.Fatalf("string.rep(%d-byte piece, %d): %d bytes, differs from byte %d on (want %d bytes)", len(tc.piece), tc.n, len(got), i, len(want))
			}
		})
	}
	if got := call(t, rt, id, "loads", "a={} ", 800000); got != "true" {
		t.Errorf("load(string.rep(\"a={} \", 800000)) = %s, want a function", got)
	}
}

// limitCase is a script body run under limits that must stop it with kind,
// within a generous bound of its MaxExecutionTime when it has one.
type limitCase struct {
	name   string
	limits lua.Limits
	body   string
	kind   error
}

// runLimitCases runs each case's body as a function of a fresh script and
// checks that the call fails with the case's limit error.
func runLimitCases(t *testing.T, tests []limitCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rt := newRuntime(t, lua.Config{Limits: tc.limits})
			id := load(t, rt, "limit.lua", "local M = {}\nfunction M.f()\n"+tc.body+"\nend\nreturn M")
			start := time.Now()
			out, err := rt.CallJSON(context.Background(), id, "f")
			took := time.Since(start)
			if !errors.Is(err, tc.kind) {
				t.Fatalf("got %.40s, %v after %v; want an error matching %v", out, err, took, tc.kind)
			}
			if d := tc.limits.MaxExecutionTime; d > 0 && took > 20*d {
				t.Errorf("stopped after %v, over 20 times MaxExecutionTime %v", took, d)
			}
		})
	}
}

// gsub reads its replacement string at every match; "%1" of an empty capture
// writes nothing, so only counting that reading stops a replacement of a
// million of them.
func TestGsubReplacementCharged(t *testing.T) {
	const gsub = `local repl = string.rep("%1", 1000000)
return #(string.gsub(string.rep("a", 40), "(x*)", repl))`
	runLimitCases(t, []limitCase{
		{"by instructions", lua.Limits{MaxInstructions: 1_000_000}, gsub, lua.ErrInstructionLimit},
		{"by time", lua.Limits{MaxExecutionTime: 100 * time.Millisecond}, gsub, lua.ErrTimeout},
		{"under all three limits", lua.Limits{MaxInstructions: 1_000_000, MaxMemoryBytes: 16 << 20, MaxExecutionTime: 100 * time.Millisecond},
			gsub, lua.ErrInstructionLimit},
		{"whole empty match by instructions", lua.Limits{MaxInstructions: 1_000_000},
			`return #(string.gsub(string.rep("a", 40), "x*", string.rep("%0", 1000000)))`, lua.ErrInstructionLimit},
	})
}
