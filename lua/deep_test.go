package lua_test

import (
	"context"
	"errors"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/hotscript/hotscript/lua"
)

// Go kills the process, without a recoverable panic, when a goroutine's stack
// outgrows its maximum. These tests lower that maximum to 16 MiB, so that code
// recursing once per level of a deep input would die here at depths a test
// can afford (the default 1 GiB takes millions of levels).
func lowMaxStack(t *testing.T) {
	old := debug.SetMaxStack(16 << 20)
	t.Cleanup(func() { debug.SetMaxStack(old) })
}

// A chunk nested deeper than a compiler can walk fails to compile, naming the
// script and line, instead of overflowing the stack; as a reload it leaves the
// old version running. Nesting a real script uses still compiles.
func TestDeeplyNestedSource(t *testing.T) {
	lowMaxStack(t)
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "deep.lua", "return { v = 1 }")
	for name, src := range map[string]string{
		"tables":     "return " + strings.Repeat("{", 50_000) + strings.Repeat("}", 50_000),
		"operators":  "return { v = " + strings.Repeat("1 + ", 50_000) + "1 }",
		"statements": "local M = { v = 2 }\n" + strings.Repeat("if true then ", 50_000) + strings.Repeat("end ", 50_000) + "\nreturn M",
	} {
		_, err := rt.LoadScript(context.Background(), "deep.lua", []byte(src))
		if !errors.Is(err, lua.ErrCompile) || !strings.Contains(err.Error(), "deep.lua:") || !strings.Contains(err.Error(), "too many syntax levels") {
			t.Errorf("%s nested 50,000 deep: %v, want a compile error naming deep.lua and the nesting", name, err)
		}
		if err := rt.ReloadScript(context.Background(), id, []byte(src)); !errors.Is(err, lua.ErrCompile) {
			t.Errorf("reload with %s nested 50,000 deep: %v, want ErrCompile", name, err)
		}
		if got := field(t, rt, id, "v"); got != "1" {
			t.Fatalf("v = %s after the failed reload, want 1", got)
		}
	}
	// 300 nested tables are under the syntax limit but over gopher-lua's registers:
	// still a compile error, and one that does not claim a line 0.
	_, err := rt.LoadScript(context.Background(), "deep.lua", []byte("return "+strings.Repeat("{", 300)+strings.Repeat("}", 300)))
	if !errors.Is(err, lua.ErrCompile) || !strings.Contains(err.Error(), "deep.lua: register overflow") {
		t.Errorf("300 nested tables: %v, want a register overflow naming deep.lua without a line", err)
	}
	// A long sum nests one level per operator in gopher-lua's tree; thousands of
	// terms, as generated code may have, still compile.
	chain := load(t, rt, "chain.lua", "local M = {}\nfunction M.f(x) return "+strings.Repeat("x + ", 3000)+"x end\nreturn M")
	if got := call(t, rt, chain, "f", 1); got != "3001" {
		t.Errorf("a 3,001-term sum = %s, want 3001", got)
	}
	nested := "local M = { v = 3 }\n" + strings.Repeat("if true then ", 150) + "M.w = { " + strings.Repeat("{", 100) + strings.Repeat("}", 100) +
		" }" + strings.Repeat(" end", 150) + "\nreturn M"
	reload(t, rt, id, nested)
	if got := field(t, rt, id, "v"); got != "1" { // carried over the new default
		t.Fatalf("v = %s after reloading a script nested 250 deep, want 1", got)
	}
}

// A reload carries a table nested far deeper than any recursion could follow
// (a long linked list), whole.
func TestDeeplyNestedStateCarried(t *testing.T) {
	lowMaxStack(t)
	const src = `local M = {}
function M.build(n) local t = {} for i = 1, n do t = { next = t } end M.list = t return n end
function M.length() local n, t = 0, M.list while t.next do n = n + 1 t = t.next end return n end
return M`
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "list.lua", src)
	call(t, rt, id, "build", 100_000)
	// Too deep for JSON: the error shows both ends of the path, not 10,000 steps.
	_, err := rt.Field(context.Background(), id, "list")
	if !errors.Is(err, lua.ErrJSON) || !strings.Contains(err.Error(), "next.next.next.next ... 9992 more ... next.next.next.next") || len(err.Error()) > 200 {
		t.Errorf("Field of the list: %v, want a short ErrJSON naming both ends of the path", err)
	}
	reload(t, rt, id, src)
	if got := call(t, rt, id, "length"); got != "100000" {
		t.Fatalf("length after the reload = %s, want 100000", got)
	}
}

// A conversion error's path shows the start of a long string key and its
// length: the whole key, quoted, made an error up to four times its size (12
// MB from a 3 MB key).
func TestLongKeyInErrorPath(t *testing.T) {
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "keys.lua", `return {long = {[("\1"):rep(1e5)] = print}, name = {[("a"):rep(1e5)] = print}}`)
	for _, name := range []string{"long", "name"} {
		_, err := rt.Field(context.Background(), id, name)
		if !errors.Is(err, lua.ErrJSON) || !strings.Contains(err.Error(), "...(100000 bytes)]") || len(err.Error()) > 300 {
			t.Errorf("Field(%s): %.400v; want a short ErrJSON naming the key's start and length", name, err)
		}
	}
}

// Coroutines resuming coroutines without end fail as Lua 5.1 fails them, with a
// catchable error, instead of nesting Go calls until the stack overflows.
func TestCoroutinesNestedWithoutEnd(t *testing.T) {
	lowMaxStack(t)
	rt := newRuntime(t, lua.Config{Libraries: lua.LibCoroutine})
	id := load(t, rt, "co.lua", `local M = {}
local function down(n) if n == 0 then return 0 end return coroutine.wrap(down)(n - 1) + 1 end
local function resumed(n) if n == 0 then return 0 end
  local ok, v = coroutine.resume(coroutine.create(resumed), n - 1)
  if not ok then error(v, 0) end
  return v + 1 end
function M.wrap(n) return down(n) end
function M.resume(n) return resumed(n) end
function M.forever() local ok, err = pcall(down, -1) return err end
return M`)
	for _, fn := range []string{"wrap", "resume"} {
		if got := call(t, rt, id, fn, 150); got != "150" {
			t.Errorf("%s nested 150 deep = %s, want 150", fn, got)
		}
		_, err := rt.CallJSON(context.Background(), id, fn, 100_000)
		if !errors.Is(err, lua.ErrRuntime) || !strings.Contains(err.Error(), "C stack overflow") {
			t.Errorf("%s nested 100,000 deep: %v, want a runtime error saying C stack overflow", fn, err)
		}
	}
	// Each wrap puts its caller's position in front, as 5.1's does (lua5.1:
	// "co.lua:1: co.lua:1: ... C stack overflow", 2,986 bytes).
	if got := call(t, rt, id, "forever"); !strings.HasPrefix(got, `"co.lua:2: co.lua:2: `) || !strings.HasSuffix(got, `C stack overflow"`) {
		t.Errorf("pcall of endless nesting returned %s, want the error", got)
	}
}

// Table constructors gopher-lua's compiler stored wrong keep their items (see
// listAsKeys; each want is lua5.1's): more than 25,550 list items, 511 batches
// of 50, lost the rest (helper-240: a 200x200 tilemap of 0s and 1s, few
// distinct constants, which splitConstants leaves whole), also assigned to a
// field, where a word of the constructor's was taken for a move (helper-241);
// a keyed field after a whole number of batches had the batch stored again
// from the registers its value was computed in (helper-241: the spawn table
// at [1]), in a main chunk too; a keyed last field of a call was stored as an
// item too, and a call after a whole number of batches over the last batch
// (helper-243: {P(1), ..., P(51)} had P(51) at [1]); a keyed field after a
// whole batch in a constructor ending in a call had its value at [1], a Go nil
// at [50] in a main chunk (helper-244), also when the batch's last item was a
// call, or a nil-pointer error; more than 25,550 items ending in a call did
// not compile; and a call before the one ending the constructor gives one
// value (see appendLast).
func TestListConstructorsKeepTheirItems(t *testing.T) {
	items := func(n int) string { // id(1), 0, ..., 0, n: few constants, which compile fast
		return "id(1), " + strings.Repeat("0, ", n-2) + strconv.Itoa(n)
	}
	calls := func(n int) string { // id(1), ..., id(n): items computed, which hoistKeyed leaves alone
		var s []string
		for i := 1; i <= n; i++ {
			s = append(s, "id("+strconv.Itoa(i)+")")
		}
		return strings.Join(s, ", ")
	}
	src := `local M = {}
local function id(x) return x end
local function two(a, b) return a, b end
local function f() return "F" end
local function count(t) local n = 0 for _ in pairs(t) do n = n + 1 end return n end
M.main = {` + items(50) + `, spawn = {x = 7}}
function M.tilemap() local t = {` + strings.Repeat("0,", 29999) + `1} return {#t, count(t), t[30000]} end
function M.field() M.x = {` + items(25601) + `} return {#M.x, M.x[25601]} end
function M.spawn() local t = {` + items(50) + `, spawn = {x = 7}} return {t[1], #t, t.spawn.x} end
function M.keyed() local t = {` + items(25600) + `, n = f()} return {#t, count(t), t.n} end
function M.mixed() local t = {a = 1, ` + items(100) + `, [f()] = 7, c = {}} return {#t, count(t), t[1], t[100], t.F} end
function M.chunk() return {M.main[1], #M.main, M.main.spawn.x} end
function M.lastKeyed() local t = {1, 2, x = id(5)} local u = {'a', n = select('#', 1, 2)} return {#t, t[3] == nil, t.x, #u, u.n} end
function M.keyedAfterBatch() local t = {` + items(50) + `, x = id(7)} return {#t, t[50], t[51] == nil, t.x} end
function M.callAfterBatch() local t = {` + items(50) + `, id(51)} return {#t, t[1], t[50], t[51]} end
function M.varargsAfterBatch() return (function(...) local t = {` + items(50) + `, ...} return {#t, t[1], t[51], t[52]} end)(51, 52) end
function M.callAfterAll() local t = {` + items(25550) + `, id(25551)} return {#t, t[1], t[25550], t[25551]} end
function M.keyedThenCall() local t = {1, ` + strings.Repeat("0, ", 48) + `50, x = {}, 51, id(52)} return {#t, t[1], t[50], t[52], type(t.x)} end
M.keyedThenCallMain = {1, ` + strings.Repeat("0, ", 48) + `50, x = id("X"), 51, id(52)}
function M.keyedThenCallInMain() local t = M.keyedThenCallMain return {#t, t[1], t[50], t[52], t.x} end
function M.longThenCall() local t = {` + items(25551) + `, two(7, 8)} return {#t, t[25551], t[25552], t[25553]} end
function M.callsKeyedCall() local t = {` + calls(50) + `, x = 7, id(51)} return {#t, t[1], t[50], t[51], t.x} end
function M.callsKeyedCalls() local t = {` + calls(50) + `, x = id(9), y = 3, two("p", "q")} return {#t, t[1], t[50], t[51], t[52], t.x, t.y} end
function M.callBeforeCall() local t = {` + calls(50) + `, x = 7, two(51, -51), id(52)} return {#t, t[51], t[52], t.x} end
M.callsKeyedCallsMain = {` + calls(50) + `, x = id(9), y = 3, two("p", "q")}
function M.callsKeyedCallsInMain() local t = M.callsKeyedCallsMain return {#t, t[1], t[50], t[51], t[52], t.x, t.y} end
return M`
	for _, lim := range []lua.Limits{{}, {MaxInstructions: 1e8}} {
		rt := newRuntime(t, lua.Config{Limits: lim})
		id := load(t, rt, "big.lua", src)
		for _, tt := range []struct{ fn, want string }{
			{"tilemap", "[30000,30000,1]"},
			{"field", "[25601,25601]"},
			{"spawn", "[1,50,7]"},
			{"keyed", `[25600,25601,"F"]`},
			{"mixed", `[100,103,1,100,7]`},
			{"chunk", "[1,50,7]"},
			{"lastKeyed", "[2,true,5,1,2]"},
			{"keyedAfterBatch", "[50,50,true,7]"},
			{"callAfterBatch", "[51,1,50,51]"},
			{"varargsAfterBatch", "[52,1,51,52]"},
			{"callAfterAll", "[25551,1,25550,25551]"},
			{"keyedThenCall", `[52,1,50,52,"table"]`},
			{"keyedThenCallInMain", `[52,1,50,52,"X"]`},
			{"longThenCall", "[25553,25551,7,8]"},
			{"callsKeyedCall", "[51,1,50,51,7]"},
			{"callsKeyedCalls", `[52,1,50,"p","q",9,3]`},
			{"callBeforeCall", "[52,51,52,7]"},
			{"callsKeyedCallsInMain", `[52,1,50,"p","q",9,3]`},
		} {
			if got := call(t, rt, id, tt.fn); got != tt.want {
				t.Errorf("limits %v: %s = %s, want %s", lim, tt.fn, got, tt.want)
			}
		}
	}
}

// Keyed fields moved before a batch's last item (hoistKeyed) give what lua5.1
// gives (each want is its output; helper-245): a call or ... right after the
// run is mended too (by appendLast), an item
// whose building fails (a nil key) is not moved, nor a zero (0 and -0 share
// the constant of the first of them).
func TestHoistedKeyedFieldsFollowLua51(t *testing.T) {
	var items []string
	for i := 1; i <= 49; i++ {
		items = append(items, strconv.Itoa(i))
	}
	first49 := strings.Join(items, ", ")
	const fields = ` return {#t, t[1], t[2], t[50], t[51], t[52], type(t.x)} end`
	src := `local M = {}
function id(...) return ... end
-- 1: a keyed run after 50 items directly followed by a call or ...
function M.callRightAfterRun() local t = {` + first49 + `, 50, x = {}, id(51, 52)}` + fields + `
function M.varargsRightAfterRun() return (function(...) local t = {` + first49 + `, 50, x = {}, ...}` + fields + `)(51, 52) end
function M.strThenCall() local t = {` + first49 + `, "s", x = {}, id(51, 52)}` + fields + `
M.mainT = {` + first49 + `, 50, x = {}, id(51, 52)}
function M.callRightAfterRunMain() local t = M.mainT` + fields + `
-- 2: an "inert" item with a nil key is computed after the keyed field
function M.nilKeyItem()
  local ok, err = pcall(function() return {` + first49 + `, {[nil] = 1}, x = error("boom", 0)} end)
  return string.find(tostring(err), "table index is nil", 1, true) and "table index is nil" or tostring(err)
end
-- 3: 0 and -0: the first of the two in the function is kept for both (lua5.1 and gopher-lua alike)
function M.zeroFirst() local t = {` + first49 + `, 0, x = -0} return {1/t[50] > 0, 1/t.x > 0} end
function M.negZeroFirst() local t = {` + first49 + `, -0, x = 0} return {1/t[50] > 0, 1/t.x > 0} end
function M.negZeroInner() local t = {` + first49 + `, {-0, 0}, x = 0, 51} return {1/t[50][1] > 0, 1/t[50][2] > 0, 1/t.x > 0} end
return M`
	for _, lim := range []lua.Limits{{}, {MaxInstructions: 1e8}} {
		rt := newRuntime(t, lua.Config{Limits: lim})
		id := load(t, rt, "h245.lua", src)
		for _, tt := range []struct{ fn, want string }{
			{"callRightAfterRun", `[52,1,2,50,51,52,"table"]`},
			{"varargsRightAfterRun", `[52,1,2,50,51,52,"table"]`},
			{"strThenCall", `[52,1,2,"s",51,52,"table"]`},
			{"callRightAfterRunMain", `[52,1,2,50,51,52,"table"]`},
			{"nilKeyItem", `"table index is nil"`},
			{"zeroFirst", `[true,true]`},
			{"negZeroFirst", `[false,false]`},
			{"negZeroInner", `[false,false,false]`},
		} {
			if got := call(t, rt, id, tt.fn); got != tt.want {
				t.Errorf("limits %v: %s = %s, want %s (lua5.1)", lim, tt.fn, got, tt.want)
			}
		}
	}
}
