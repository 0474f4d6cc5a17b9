package lua_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/hotscript/hotscript/lua"
	glua "github.com/yuin/gopher-lua"
)

// patternCases are string-library expressions whose results are checked two ways:
// against gopher-lua's own implementation (package pm) where the two agree, and
// against the result Lua 5.1's reference implementation gives, written out, where
// gopher-lua differs from it (want != "").
var patternCases = []struct {
	name, expr, want string
}{
	{"find plain", `string.find("hello world", "o w")`, ""},
	{"find init", `string.find("hello", "l", 4)`, ""},
	{"find negative init", `string.find("hello", "l", -2)`, ""},
	{"find plain flag", `string.find("a.b", ".", 1, true)`, ""},
	{"find captures", `string.find("key = value", "(%w+)%s*=%s*(%w+)")`, ""},
	{"find anchored", `string.find("hello", "^h")`, ""},
	{"find anchored miss", `string.find("hello", "^e")`, ""},
	{"find end anchor", `string.find("hello", "lo$")`, ""},
	{"find dollar inside", `string.find("a$b", "a$b")`, ""},
	{"find none", `string.find("abc", "x")`, ""},
	{"find empty pattern", `string.find("abc", "")`, ""},
	{"match whole", `string.match("  trim  ", "^%s*(.-)%s*$")`, ""},
	{"match number", `string.match("hp=42;", "%d+")`, ""},
	{"match classes", `string.match("Ab1x .", "(%u)(%l)(%d)(%w*)(%s)(%p)")`, ""},
	{"match fails", `string.match("Ab1_ .", "(%u)(%l)(%d)(%w*)(%s)(%p)")`, "nil"},
	{"match complement", `string.match("abc123", "%D+")`, ""},
	{"match set", `string.match("x-y+z", "[%-+]")`, ""},
	{"match negated set", `string.match("aaab", "[^a]")`, ""},
	{"match range", `string.match("hello42", "[0-9]+")`, ""},
	{"match lazy", `string.match("<a><b>", "<(.-)>")`, ""},
	{"match greedy", `string.match("<a><b>", "<(.*)>")`, ""},
	{"match optional", `string.match("colour", "colou?r")`, ""},
	{"match position capture", `string.match("hello", "()ll()")`, ""},
	{"match back reference", `string.match("say 'hi' now", "(['\"])(.-)%1")`, ""},
	{"find back reference to a position", `string.find("aa", "()%1")`, "nil"},
	{"match back reference to a position", `string.match("abab", "()ab%1")`, "nil"},
	{"gsub back reference to a position", `string.gsub("aa", "()a%1", "x")`, "aa|0"},
	{"match balanced", `string.match("f(a(b)c) d", "%b()")`, ""},
	{"match frontier", `string.match("THE (quick) fox", "%f[%a]%a+")`, "THE"},
	{"gsub frontier", `string.gsub("THE (quick) fox", "%f[%a]%a+", "w")`, "w (w) w|3"},
	{"match init", `string.match("abcabc", "b", 3)`, ""},
	{"match escaped bracket", `string.match("a]b", "[%]]")`, ""},
	{"match bracket first", `string.match("a]b", "[]]")`, `]`},
	{"match nul class", `string.match("a\0b", "%z")`, ""},
	{"gmatch words", `(function() local t = {} for w in ("one two  three"):gmatch("%a+") do t[#t+1] = w end return table.concat(t, ",") end)()`, ""},
	{"gmatch pairs", `(function() local t = {} for k, v in ("a=1, b=2"):gmatch("(%w+)=(%w+)") do t[#t+1] = k .. v end return table.concat(t, ",") end)()`, ""},
	{"gmatch empty matches", `(function() local n = 0 for _ in ("abc"):gmatch("x*") do n = n + 1 end return n end)()`, ""},
	{"gsub string", `string.gsub("hello world", "o", "0")`, ""},
	{"gsub limit", `string.gsub("aaa", "a", "b", 2)`, ""},
	{"gsub captures", `string.gsub("hello world", "(%w+)", "<%1>")`, ""},
	{"gsub whole match", `string.gsub("abc", "%w", "%0%0")`, ""},
	{"gsub percent", `string.gsub("50", "%d+", "%1%%")`, ""},
	{"gsub table", `string.gsub("$name is $age", "%$(%w+)", {name = "bob", age = 3})`, ""},
	{"gsub table miss", `string.gsub("$x $y", "%$(%w+)", {x = "1"})`, ""},
	{"gsub function", `string.gsub("1 2 3", "%d", function(d) return d * 2 end)`, ""},
	{"gsub function false keeps", `string.gsub("a b", "%w", function(c) return c == "a" and "A" end)`, ""},
	{"gsub anchored", `string.gsub("aaa", "^a", "b")`, ""},
	{"gsub empty pattern", `string.gsub("abc", "", "-")`, ""},
	{"gsub position capture", `string.gsub("abc", "()", "%1")`, ""},
	// the other capped builtins
	{"concat numbers", `1 .. "" .. 1.5 .. -2 .. 1e100`, ""},
	{"concat chain", `(function() local a, b, c = "x", 2, "z" return a .. b .. c .. a end)()`, ""},
	{"concat metamethod left", `tostring(setmetatable({}, {__concat = function(a, b) return "L" .. type(a) .. type(b) end}) .. "s")`, ""},
	{"concat metamethod right", `tostring("s" .. setmetatable({}, {__concat = function(a, b) return "R" .. type(a) .. type(b) end}))`, ""},
	{"concat metamethod middle", `(function() local m = setmetatable({}, {__concat = function(a, b) return "M" end}) return "a" .. m .. "b" .. "c" end)()`, ""},
	{"concat in loop", `(function() local s = "" for i = 1, 5 do s = s .. i end return s end)()`, ""},
	{"rep", `("ab"):rep(3) .. string.rep("x", 0) .. string.rep("y", -1)`, ""},
	{"format", `string.format("%5.2f|%d|%s|%q|%x|%5s|%-5s|%%", 3.14159, 42, "x", "a\nb", 255, "r", "l")`, " 3.14|42|x|\"a\\\nb\"|ff|    r|l    |%"},
	{"format flags", `string.format("%-5d|%+.3e|%05.1f|%#o|%#x|% d|%c|%i|%5.1s|%G|%X", 3, 2, 3.14159, 8, 255, 7, 65, 42, "abc", 1e20, 3054)`, ""},
	// Where gopher-lua's format (Go's) differs from Lua 5.1's, Lua's.
	{"format %u", `string.format("%u|%5u", 7, 42)`, "7|   42"},
	{"format numeric strings", `string.format("%x|%5.1f|%d", "255", "1.5", " 12 ")`, "ff|  1.5|12"},
	{"format %q as Lua quotes", `string.format("%q", "a\0b\r\n\"\\")`, "\"a\\000b\\r\\\n\\\"\\\\\""},
	{"format %c one byte", `#string.format("%c", 200)`, "1"},
	{"format extra arguments", `string.format("%%%%|%s", "x", "y")`, "%%|x"},
	// Positions and counts as Lua 5.1 reads them on amd64, on 386 too, where
	// gopher-lua's CheckInt wrapped 2^31 and more around (a string that reads
	// as a number is one, as in Lua 5.1).
	{"find past the end", `string.find("hello", "o", 2^31)`, "nil"},
	{"find from far before the start", `string.find("hello", "l", -2^31)`, "3|3"},
	{"find from nan", `string.find("hello", "l", 0/0)`, "3|3"},
	{"match past the end", `string.match("hello", ".", 2^53)`, "nil"},
	{"sub to far past the end", `string.sub("hello", 2, 2^32)`, "ello"},
	{"sub from far before the start", `string.sub("hello", -2^40, 2)`, "he"},
	{"sub from past the end", `string.sub("hello", 2^31)`, ""},
	{"gsub a large count", `string.gsub("aaa", "a", "b", 2^32)`, "bbb|3"},
	{"byte past the end", `select("#", string.byte("hello", 2^31))`, "0"},
	{"table.concat to far past the end", `pcall(table.concat, {"a", "b"}, ",", 1, 2^32)`, "false|eval:1: invalid value (at index 3) in table for 'concat'"},
	{"table.concat a large empty range", `table.concat({}, ",", 2^32, 1)`, ""},
	// Beyond the 64-bit integers, C's cast on amd64 gives the lowest integer.
	{"sub to math.huge", `"[" .. string.sub("hello", 2, math.huge) .. "]"`, "[]"}, // on every platform (gopher-lua's own saturates on arm64)
	{"byte to math.huge", `select("#", string.byte("hello", 1, math.huge))`, "0"},
	{"gsub a math.huge count", `string.gsub("hello", "l", "L", math.huge)`, "hello|0"},
	{"find from math.huge", `string.find("hello", "l", math.huge)`, "3|3"},
	{"find from 2^63", `string.find("hello", "l", 2^63)`, "3|3"},
	{"table.concat to math.huge", `"[" .. table.concat({1, 2, 3}, ",", 1, math.huge) .. "]"`, "[]"},
	{"byte default", `string.byte("hello")`, "104"},
	{"byte from zero", `string.byte("hello", 0, 2)`, "104|101"},
	{"byte last", `string.byte("hello", -1)`, "111"},
	{"byte range", `string.byte("hello", 2, -2)`, "101|108|108"},
	{"sub numeric strings", `string.sub("hello", "2") .. string.sub("hello", "2", "3.5")`, "elloel"},
	{"char numeric strings", `string.char("65", 66.9)`, "AB"},
	{"char none", `string.char()`, ""},
	{"find numeric init", `string.find("hello", "l", "4")`, "4|4"},
	{"byte numeric position", `string.byte("hello", "2")`, "101"},
	{"gsub numeric count", `string.gsub("aaa", "a", "b", "2")`, "bba|2"},
	{"table.concat numeric range", `table.concat({1, 2, 3}, "", "2") .. table.concat({1, 2, 3}, "-", 2, "3")`, "232-3"},
	{"match numeric init", `string.match("hello", "l+", "-2")`, "l"},
	{"upper lower", `("MiXeD 123"):upper() .. ("MiXeD 123"):lower()`, ""},
	{"reverse", `("hello"):reverse()`, ""},
	{"table.concat", `table.concat({1, "two", 3}, ", ")`, ""},
	{"table.concat range", `table.concat({"a", "b", "c", "d"}, "-", 2, 3)`, ""},
	{"table.concat empty", `table.concat({}, "x") .. "|" .. table.concat({"a"}, "x", 2)`, ""},
}

// evalAll evaluates expr in L and returns its results joined by "|".
func evalAll(t *testing.T, L *glua.LState, expr string) string {
	t.Helper()
	if err := L.DoString("return " + expr); err != nil {
		return "error: " + err.Error()
	}
	parts := []string{}
	for i := 1; i <= L.GetTop(); i++ {
		parts = append(parts, L.Get(i).String())
	}
	L.SetTop(0)
	return strings.Join(parts, "|")
}

// evaluator returns a function evaluating a Lua expression in a script of a
// runtime with an instruction budget, its results as tostring shows them,
// joined by "|".
func evaluator(t *testing.T) func(expr string) string {
	rt := newRuntime(t, lua.Config{Limits: lua.Limits{MaxInstructions: 1_000_000}})
	id := load(t, rt, "eval.lua", `
local M = {}
function M.eval(src)
  local parts, f = {}, assert(loadstring("return " .. src, "=eval"))
  local r = { f() }
  for i = 1, select("#", f()) do parts[i] = tostring(r[i]) end
  return table.concat(parts, "|")
end
return M`)
	return func(expr string) string {
		t.Helper()
		var got string
		if err := json.Unmarshal([]byte(call(t, rt, id, "eval", expr)), &got); err != nil {
			t.Fatal(err)
		}
		return got
	}
}

func TestPatterns(t *testing.T) {
	eval := evaluator(t)
	raw := glua.NewState()
	defer raw.Close()
	for _, tt := range patternCases {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if want == "" {
				want = evalAll(t, raw, tt.expr)
			}
			if got := eval(tt.expr); got != want {
				t.Errorf("%s = %q, want %q", tt.expr, got, want)
			}
		})
	}
}

func TestPatternErrors(t *testing.T) {
	tests := []struct{ name, expr, want string }{
		{"ends with percent", `string.find("a", "%")`, "malformed pattern (ends with '%')"},
		{"missing bracket", `string.find("a", "[a")`, "malformed pattern (missing ']')"},
		{"bad capture index", `string.find("a", "%1")`, "invalid capture index"},
		{"unclosed capture", `string.match("a", "(a")`, "unfinished capture"},
		{"bad close", `string.match("a", "a)")`, "invalid pattern capture"},
		{"frontier without set", `string.find("a", "%fa")`, "missing '[' after '%f' in pattern"},
		{"unbalanced", `string.find("a", "%b")`, "unbalanced pattern"},
		{"bad replacement", `string.gsub("a", "a", "%2")`, "invalid capture index"},
		{"bad replacement value", `string.gsub("a", "a", function() return {} end)`, "invalid replacement value (a table)"},
		{"bad replacement type", `string.gsub("a", "a", true)`, "string/function/table expected"},
		{"too complex", `string.find(("a"):rep(300), ("a?"):rep(300))`, "pattern too complex"},
		{"too many captures", `string.find("a", ("()"):rep(33))`, "too many captures"},
		{"concat nil", `"x" .. nil`, "eval:1: attempt to concatenate a nil value"},
		{"concat table", `{} .. "x"`, "eval:1: attempt to concatenate a table value"},
		{"table.concat bad value", `table.concat({1, {}, 3})`, "invalid value (at index 2) in table for 'concat'"},
		{"format Go verb", `string.format("%#v", "x")`, "invalid option '%#v' to 'format'"},
		{"format argument index", `string.format("%[1]d", 1)`, "invalid option '%[' to 'format'"},
		{"format width argument", `string.format("%*d", 5, 1)`, "invalid option '%*' to 'format'"},
		{"format percent with width", `string.format("%5%")`, "invalid option '%5%' to 'format'"},
		{"format ends with percent", `string.format("50%")`, "invalid option '%' to 'format'"},
		{"format table as number", `string.format("%d", {})`, "bad argument #2 to format (number expected, got table)"},
		{"format a string that is no number", `string.format("%d", "abc")`, "bad argument #2 to format (number expected, got string)"},
		{"format %q of a table", `string.format("%q", {})`, "bad argument #2 to format (string expected, got table)"},
		{"format missing argument", `string.format("%d %s", 1)`, "bad argument #3 to format (value expected)"},
		{"rep too large", `string.rep("ab", 2^62)`, "resulting string too large"},
		{"char past a byte", `string.char(256)`, "bad argument #1 to char (invalid value)"},
		{"char below a byte", `string.char(65, -1)`, "bad argument #2 to char (invalid value)"},
		{"sub without a position", `string.sub("hello")`, "bad argument #2 to sub (number expected, got nil)"},
	}
	rt := newRuntime(t, lua.Config{})
	id := load(t, rt, "p.lua", `return { eval = function(src) return assert(loadstring("return " .. src, "=eval"))() end }`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rt.CallJSON(context.Background(), id, "eval", tt.expr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: err = %v, want %q", tt.expr, err, tt.want)
			}
		})
	}
}
