package lua_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/benchpair"
	"github.com/hotscript/hotscript/lua"
	glua "github.com/yuin/gopher-lua"
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

// runLimitCases runs each case as a subtest of its own (see runLimitCase).
func runLimitCases(t *testing.T, tests []limitCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runLimitCase(t, tc) })
	}
}

// runLimitCase runs the case's body as a function of a fresh script (with the
// coroutine library) and checks that the call fails with the case's limit error.
func runLimitCase(t *testing.T, tc limitCase) {
	t.Helper()
	rt := newRuntime(t, lua.Config{Limits: tc.limits, Libraries: lua.LibCoroutine})
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
			gsub, lua.ErrLimit},
		{"whole empty match by instructions", lua.Limits{MaxInstructions: 1_000_000},
			`return #(string.gsub(string.rep("a", 40), "x*", string.rep("%0", 1000000)))`, lua.ErrInstructionLimit},
	})
}

// table.sort without a comparator charges the common prefixes of the strings
// it compares: suffixes of one 8 MB string of equal bytes are distinct strings
// that compare over megabytes each, in the sort's one instruction.
func TestSortLongStringsCharged(t *testing.T) {
	const sort = `local big = string.rep("a", 8e6)
local t = {}
for i = 1, 1000 do t[i] = big:sub(i) end -- shares big's bytes: nothing built
table.sort(t)
return #t`
	runLimitCases(t, []limitCase{
		{"by instructions", lua.Limits{MaxInstructions: 1_000_000}, sort, lua.ErrInstructionLimit},
		{"by time", lua.Limits{MaxExecutionTime: 100 * time.Millisecond}, sort, lua.ErrTimeout},
		{"under all three limits", lua.Limits{MaxInstructions: 1_000_000, MaxMemoryBytes: 16 << 20, MaxExecutionTime: 100 * time.Millisecond},
			sort, lua.ErrLimit},
	})
}

// table.sort orders strings as Go does (bytewise), however long their common
// prefix, with limits (which charge it) and without; numbers and comparators
// are unchanged, and the sort covers t[1] to t[#t].
func TestSortOrder(t *testing.T) {
	long := strings.Repeat("p", 3000)
	words := []any{long + "b", long + "a", long, long + "ab", "q", long[:2500], long + "~", long + "a", "", "p"}
	src := `local M = {}
function M.sort(t) table.sort(t) return t end
function M.desc(t) table.sort(t, function(a, b) return a > b end) return t end
function M.trailing(t) local n = #t t[n + 1] = 0 t[n + 1] = nil table.sort(t) return t end
return M`
	asc := func(v []any) []any {
		v = slices.Clone(v)
		slices.SortFunc(v, func(a, b any) int {
			if x, ok := a.(float64); ok {
				return cmp.Compare(x, b.(float64))
			}
			return strings.Compare(a.(string), b.(string))
		})
		return v
	}
	desc := func(v []any) []any { v = asc(v); slices.Reverse(v); return v }
	tests := []struct {
		name string
		fn   string
		in   []any
		want func([]any) []any
	}{
		{"numbers", "sort", []any{5.0, 3.5, -1.0, 10.0, 0.0, 3.5}, asc},
		{"short strings", "sort", []any{"pear", "apple", "fig", "apples", "Fig"}, asc},
		{"long common prefixes", "sort", words, asc},
		{"comparator", "desc", words, desc},
		{"nil past the length", "trailing", []any{3.0, 1.0, 2.0}, asc},
	}
	for _, limits := range []lua.Limits{{}, limited} {
		rt := newRuntime(t, lua.Config{Limits: limits})
		id := load(t, rt, "sort.lua", src)
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s/limits=%v", tc.name, limits.MaxInstructions > 0), func(t *testing.T) {
				out, err := rt.CallJSON(context.Background(), id, tc.fn, tc.in)
				if err != nil {
					t.Fatal(err)
				}
				var got []any
				if err := json.Unmarshal(out, &got); err != nil {
					t.Fatal(err)
				}
				want := tc.want(tc.in)
				if i := slices.IndexFunc(want, func(w any) bool { return !slices.Contains(got, w) }); i >= 0 || len(got) != len(want) {
					t.Fatalf("got %d values, want %d, among them %.20q", len(got), len(want), want[max(i, 0)])
				}
				for i := range want {
					if got[i] != want[i] {
						t.Errorf("[%d] = %.20q... (%d bytes), want %.20q... (%d bytes)", i, got[i], len(fmt.Sprint(got[i])), want[i], len(fmt.Sprint(want[i])))
					}
				}
			})
		}
	}
}

// load and loadstring charge the compile of a chunk from its source before
// it starts: gopher-lua's parser and compiler run in one instruction, and
// compiled 4 MB of a=1 in 6.7 s and 607 MiB under limits that charged only the
// source's bytes. A refused compile allocates nothing much past the source.
func TestLoadCompileCharged(t *testing.T) {
	const plain = `local src = string.rep("a=1 ", 1e6) return load(src) ~= nil`
	const funcs = `local src = string.rep("f=function() end ", 3000) return load(src) ~= nil`
	tests := []struct {
		limitCase
		maxAlloc uint64
	}{
		{limitCase{"4 MB by instructions", lua.Limits{MaxInstructions: 1_000_000}, plain, lua.ErrInstructionLimit}, 32 << 20},
		{limitCase{"4 MB by memory", lua.Limits{MaxMemoryBytes: 16 << 20}, plain, lua.ErrMemoryLimit}, 32 << 20},
		{limitCase{"4 MB under all three limits", lua.Limits{MaxInstructions: 1_000_000, MaxMemoryBytes: 16 << 20, MaxExecutionTime: 100 * time.Millisecond},
			plain, lua.ErrLimit}, 32 << 20},
		{limitCase{"functions by instructions", lua.Limits{MaxInstructions: 1_000_000}, funcs, lua.ErrInstructionLimit}, 8 << 20},
		{limitCase{"functions by memory", lua.Limits{MaxMemoryBytes: 16 << 20}, funcs, lua.ErrMemoryLimit}, 8 << 20},
		{limitCase{"pcall cannot swallow it", lua.Limits{MaxInstructions: 1_000_000},
			`local ok = pcall(loadstring, string.rep("a=1 ", 1e6)) return ok`, lua.ErrInstructionLimit}, 32 << 20},
		{limitCase{"loaded in pieces", lua.Limits{MaxMemoryBytes: 16 << 20},
			`local n = 0
return load(function() n = n + 1 if n <= 10000 then return "a=1 a=2 a=3 a=4 " end end) ~= nil`, lua.ErrMemoryLimit}, 8 << 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			grew := allocated(func() { runLimitCase(t, tc.limitCase) })
			if grew > tc.maxAlloc {
				t.Errorf("a refused compile allocated %d MiB, want at most %d MiB", grew>>20, tc.maxAlloc>>20)
			}
		})
	}
}

// A small load costs a few hundred units, the same every time, and each byte
// more of source 16 units more.
func TestLoadChargeSmallAndDeterministic(t *testing.T) {
	const src = `local M = {}
function M.f(src) return load(src)() end
return M`
	need := func(chunk string) uint64 {
		t.Helper()
		return leastInstructions(t, 64, "small.lua", src, "f", chunk) // 64: enough to load the module
	}
	const small = "return 1 + 2"
	base := need(small)
	t.Logf("load(%q)() needs %d instructions", small, base)
	if base > 2000 {
		t.Errorf("load(%q)() needs %d instructions, want a few hundred", small, base)
	}
	if again := need(small); again != base {
		t.Errorf("the same call needs %d instructions, then %d", base, again)
	}
	if padded := need(strings.Repeat(" ", 100) + small); padded != base+100*16 {
		t.Errorf("100 bytes more of source need %d instructions more, want %d", padded-base, 100*16)
	}
}

// loadShapes are sources of about 64 KiB of several shapes, to measure what
// compiling a byte of each takes.
var loadShapes = []struct{ name, src string }{
	{"statements", strings.Repeat("a=1 ", 16<<10)},
	{"calls", strings.Repeat("f(1, 2, 'x')\n", 5000)},
	{"nested blocks", strings.Repeat(strings.Repeat("do ", 100)+strings.Repeat("end ", 100), 100)},
	{"functions", strings.Repeat("f = function() end ", 3400)},
	{"table fields", "t = {" + strings.Repeat("a = 1, ", 9000) + "}"},
	{"long string", "s = '" + strings.Repeat("x", 64<<10) + "'"},
}

// BenchmarkLoad compiles each of loadShapes by load(), paired with raw
// gopher-lua's LoadString of the same source (x-raw), and reports per byte of
// source the time of a compile (ns/B, both sides' average) and the bytes one
// load allocates (alloc-B/B): what load charges per byte (see Limits) is drawn
// from such numbers, against BenchmarkSumLoop's time per VM instruction.
func BenchmarkLoad(b *testing.B) {
	for _, sh := range loadShapes {
		b.Run("paired-"+sh.name, func(b *testing.B) {
			L := glua.NewState()
			b.Cleanup(L.Close)
			raw := func() {
				if _, err := L.LoadString(sh.src); err != nil {
					b.Fatal(err)
				}
			}
			rt := newRuntime(b, lua.Config{})
			id := load(b, rt, "load.lua", `return { f = function(src) return load(src) ~= nil end }`)
			ours := func() {
				if out, err := rt.CallJSON(context.Background(), id, "f", sh.src); err != nil || string(out) != "true" {
					b.Fatal(out, err)
				}
			}
			grew := allocated(ours)
			benchpair.Run(b, 1, raw, ours)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/2/float64(len(sh.src)), "ns/B")
			b.ReportMetric(float64(grew)/float64(len(sh.src)), "alloc-B/B")
		})
	}
}

// sortSrc sorts 1,000 values of a kind, shuffled the same way at each call.
const sortSrc = `
local M = {}
local src = {{}, {}, {}} -- numbers, short strings, strings with a long common prefix
for i = 1, 1000 do
  src[1][i] = i * 1.5
  src[2][i] = "key" .. i
  src[3][i] = string.rep("p", 200) .. i
end
function M.sort(kind)
  local s, t = src[kind], {}
  for i = 1, 1000 do t[i] = s[(i * 7919) % 1000 + 1] end
  table.sort(t)
  return #t
end
return M`

// BenchmarkSort sorts 1,000 numbers, short strings and strings with a common
// prefix of 200 bytes, paired with raw gopher-lua running the same chunk; with
// limits, each comparison of two strings counts the bytes it reads.
func BenchmarkSort(b *testing.B) {
	for i, kind := range []string{"numbers", "short", "prefixed"} {
		b.Run("paired-limits-"+kind, func(b *testing.B) {
			L := glua.NewState()
			b.Cleanup(L.Close)
			if err := L.DoString(sortSrc); err != nil {
				b.Fatal(err)
			}
			sort := L.Get(-1).(*glua.LTable).RawGetString("sort")
			raw := func() {
				if err := L.CallByParam(glua.P{Fn: sort, NRet: 1, Protect: true}, glua.LNumber(i+1)); err != nil {
					b.Fatal(err)
				}
				L.Pop(1)
			}
			rt := newRuntime(b, lua.Config{Limits: limited})
			f, err := rt.Func(load(b, rt, "sort.lua", sortSrc), "sort")
			if err != nil {
				b.Fatal(err)
			}
			benchpair.Run(b, 1, raw, func() {
				if _, err := f.Call(context.Background(), float64(i+1)); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// The error messages that pcall, xpcall and coroutine.resume catch count against
// MaxMemoryBytes: gopher-lua's own errors copy what they name (an index of nil
// with a string key, select's invalid argument), and 60 caught errors of a
// 4 MB key, kept, held 232 MiB under a 16 MiB limit. Here 40 of a 1 MB key.
func TestCaughtErrorsCharged(t *testing.T) {
	const keep = `local k = ("k"):rep(1e6) local keep = {}
for i = 1, 40 do keep[i] = %s end
return #keep`
	limits := lua.Limits{MaxMemoryBytes: 8 << 20}
	var tests []limitCase
	for name, catch := range map[string]string{
		"index by pcall":            `select(2, pcall(function() return nothing[k] end))`,
		"select by pcall":           `select(2, pcall(select, k))`,
		"error by pcall":            `select(2, pcall(error, k))`,
		"index by xpcall":           `select(2, xpcall(function() return nothing[k] end, function(e) return e end))`,
		"index by xpcall's handler": `select(2, xpcall(function() return nothing[k] end, function(e) keep[#keep + 1] = e return 1 end))`,
		"index by resume":           `select(2, coroutine.resume(coroutine.create(function() return nothing[k] end)))`,
	} {
		tests = append(tests, limitCase{name, limits, fmt.Sprintf(keep, catch), lua.ErrMemoryLimit})
	}
	runLimitCases(t, tests)
}
