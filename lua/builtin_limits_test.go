package lua_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

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
