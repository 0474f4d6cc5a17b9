package lua

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
	"github.com/hotscript/hotscript/internal/gopherlua/ast"
	"github.com/hotscript/hotscript/internal/gopherlua/parse"
)

// dump is a Lua function that writes a value as text: a table as its length and
// its pairs in the order next gives them, recursively; a function as its type.
const dump = `
function dump(v, out)
	if type(v) == "function" then
		out[#out+1] = "function"
		return
	elseif type(v) ~= "table" then
		out[#out+1] = type(v) .. ":" .. tostring(v)
		return
	end
	out[#out+1] = "{#" .. #v
	for k, x in pairs(v) do
		dump(k, out)
		out[#out+1] = "="
		dump(x, out)
	end
	out[#out+1] = "}"
end
function show(v) local out = {} dump(v, out) return out end`

// listOf returns n literals made by item from each index, each followed by a comma.
func listOf(n int, item func(i int) string) string { return linesOf(n, ",", item) }

// filler returns n statements M.k<i> = <number>, each of two constants of its own.
func filler(n int) string {
	return linesOf(n, "", func(i int) string { return fmt.Sprintf("M.k%d = %d", i, i+1000) })
}

// linesOf returns n lines made by item from each index, each ending with end.
func linesOf(n int, end string, item func(i int) string) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(item(i))
		b.WriteString(end + "\n")
	}
	return b.String()
}

// shown runs proto, or src compiled as compileChunk compiles it but not split
// if proto is nil, and returns what dump writes of the value it returns.
func shown(t *testing.T, src string, proto *glua.FunctionProto) string {
	t.Helper()
	L := glua.NewState()
	defer L.Close()
	if err := L.DoString(dump); err != nil {
		t.Fatal(err)
	}
	if proto == nil {
		chunk := mustParse(t, src)
		r := concatRewriter{}
		r.chunk(chunk)
		if r.concat || r.varargs || r.appends {
			chunk = takeCapped(chunk)
		}
		var err error
		if proto, err = glua.Compile(chunk, "data.lua"); err != nil {
			t.Fatal(err)
		}
	}
	fn := chunkFunction(L, proto)
	L.Push(L.GetGlobal("show"))
	L.Push(fn)
	if err := L.PCall(0, 1, nil); err != nil {
		t.Fatal(err)
	}
	if err := L.PCall(1, 1, nil); err != nil {
		t.Fatal(err)
	}
	var out []string
	L.Get(-1).(*glua.LTable).ForEach(func(_, v glua.LValue) { out = append(out, v.String()) })
	return strings.Join(out, " ")
}

// protos counts the functions under p, p not included.
// chunkProtos is protos of a chunk compiled by compileChunk, without the
// function takeCapped may have wrapped around it.
func chunkProtos(p *glua.FunctionProto) int {
	if tookCapped(p) {
		return protos(p) - 1
	}
	return protos(p)
}

func protos(p *glua.FunctionProto) int {
	n := -1
	for range allProtos(p) {
		n++
	}
	return n
}

func mustParse(t *testing.T, src string) []ast.Stmt {
	t.Helper()
	chunk, err := parse.Parse(strings.NewReader(src), "data.lua")
	if err != nil {
		t.Fatal(err)
	}
	return chunk
}

// TestSplitConstants checks that a large table of literals is built apart, in
// functions of few constants each, and is the table gopher-lua builds from the
// source as written: the same length, and the same pairs in the same order.
func TestSplitConstants(t *testing.T) {
	numbers := func(i int) string { return [...]string{"%d", "-%d.5", "0x%x", "%de3"}[i%4] }
	for _, c := range []struct {
		name, src string
	}{
		{"numbers", "return {" + listOf(3000, func(i int) string { return fmt.Sprintf(numbers(i), i) }) + "}"},
		{"records", "return {" + listOf(1000, func(i int) string {
			return fmt.Sprintf(`{name = "e%d", x = %d, y = -%d, alive = %v, tags = {"a%d", "b"}, kind = KIND, [-1] = 0.5}`,
				i, i, i*2+1, i%2 == 0, i)
		}) + "}"},
		{"keyed", "return {" + listOf(3000, func(i int) string {
			return fmt.Sprintf([...]string{`k%d = "v%[1]d"`, `["with space %d"] = true`, `dup = %d`, `gone%d = nil`, `[%d.5] = false`}[i%5], i)
		}) + "}"},
		{"nested", "return {small = {1, 2}, big = {" + listOf(3000, func(i int) string { return fmt.Sprint(i) }) +
			"}, after = {" + listOf(600, func(i int) string { return fmt.Sprintf("%q", fmt.Sprint("s", i)) }) + "}}"},
		{"in code", "local M = {}\nM.data = {" + listOf(2500, func(i int) string { return fmt.Sprint(i * 7) }) +
			"}\nlocal extra = {10, 20, 30}\nfunction M:size() for i = 1, 2, 1 do end return #self.data end\n" +
			"M.n = M:size() + #extra\nreturn M"},
		{"deep", "return {" + linesOf(150, "", func(level int) string {
			return "{" + listOf(30, func(i int) string { return fmt.Sprintf("k%d = %d", i, level*100+i) }) + "deeper = "
		}) + "true" + strings.Repeat("}", 150) + "}"},
		// Locals assigned among the moved statements stay where they are:
		// a caught error (the pcall in note) closes the upvalues moved code
		// reaches them through, and gopher-lua compiles a, b = b, a on
		// locals differently from upvalues.
		{"statements", "local L, calls, count, a, b = {}, {}, 0, 1, 2\n" +
			"local function note(k, v) pcall(error, 'caught') calls[#calls+1] = string.format('%s=%s', k, tostring(v)) end\n" +
			linesOf(3000, "", func(i int) string {
				return fmt.Sprintf([...]string{`do local x = %d; X = x end`, `for i = 1, 2 do L[i + %d] = "loop %[1]d" end`,
					`Seen%d = select("#", ...)`, `a, b = b, a; count = count + %d`, `L["key %d"] = "text %[1]d"`,
					`note("n%d", %[1]d)`, `function L.f%d() return %[1]d end`}[min(i%25, 4+i%3)], i)
			}) + "\nreturn {L = L, calls = calls, seen = Seen2, count = count, a = a, b = b}"},
		// An assignment of several targets, a block of its own by then
		// (assignInOrder), moves as one of one target does (helper-257: 5,000
		// such lines compiled in 1.8 s, 0.07 s before).
		{"several targets", "local L = {}\n" + linesOf(2500, "", func(i int) string {
			return fmt.Sprintf(`L.key%d, L.tip%[1]d = "text %[1]d", "tip %[1]d"`, i)
		}) + "return L"},
		// self (of a method) and arg (of a function of ...) are locals
		// too, which the statements that assign them must not move off.
		{"method", "local M = {name = 'M'}\nlocal other = {name = 'other'}\nfunction M:f(...)\n" + filler(3000) +
			"self, other = other, self\narg = {n = 0}\nreturn self, arg.n\nend\nlocal r, n = M:f(1, 2)\n" +
			"return {r = r.name, o = other.name, n = n}"},
		{"in a function", "local function make() return {" + listOf(2500, func(i int) string { return fmt.Sprint(-i) }) +
			"} end\nreturn {a = make(), b = make()}"},
	} {
		t.Run(c.name, func(t *testing.T) {
			proto, err := compileChunk("data.lua", c.src, chunkKind{})
			if err != nil {
				t.Fatal(err)
			}
			want := shown(t, c.src, nil)
			raw, err := glua.Compile(mustParse(t, c.src), "data.lua")
			if err != nil {
				t.Fatal(err)
			}
			if chunkProtos(proto) <= protos(raw) {
				t.Fatalf("compiled into %d functions, as written %d: nothing was split", chunkProtos(proto), protos(raw))
			}
			for p := range allProtos(proto) {
				if len(p.Constants) > splitAbove && c.name != "deep" { // built whole past splitDepth
					t.Errorf("a function kept %d constants", len(p.Constants))
				}
			}
			if got := shown(t, c.src, proto); got != want {
				t.Errorf("split table differs:\n got %.300s\nwant %.300s", got, want)
			}
		})
	}
}

// TestSplitConstantsLeavesWhole checks the tables that are not split: those of a
// function with few distinct constants, those whose building in order could
// show, and those of a function with both 0 and -0 among its constants.
func TestSplitConstantsLeavesWhole(t *testing.T) {
	// 2,999 items: after 3,000, a whole number of batches of 50, gopher-lua
	// stores a keyed field wrong, which compileChunk corrects (see listAsKeys)
	many := listOf(2999, func(i int) string { return fmt.Sprint(i) })
	for _, c := range []struct{ name, src string }{
		{"few constants", "return {" + listOf(500, func(i int) string { return fmt.Sprint(i) }) + "}"},
		{"list and a number key", "return {" + many + "[1] = 'x'}"},
		{"nil in the list", "return {" + many + "nil, 5}"},
		{"not literals", "local function f() return 1 end\nreturn {f(), " + many + "}"},
		{"few distinct constants", "return {" + listOf(5000, func(i int) string { return fmt.Sprintf(`{x = %d, y = "s"}`, i%100) }) + "}"},
		{"0 and -0", "return {zero = 0, " + many + "neg = -0, folded = -1 * 0}"},
	} {
		t.Run(c.name, func(t *testing.T) {
			proto, err := compileChunk("data.lua", c.src, chunkKind{})
			if err != nil {
				t.Fatal(err)
			}
			raw, err := glua.Compile(mustParse(t, c.src), "data.lua")
			if err != nil {
				t.Fatal(err)
			}
			if n := chunkProtos(proto); n != protos(raw) {
				t.Errorf("compiled into %d functions, as written %d; want the table whole", n, protos(raw))
			}
			if got, want := shown(t, c.src, proto), shown(t, c.src, nil); got != want {
				t.Errorf("table differs:\n got %.300s\nwant %.300s", got, want)
			}
		})
	}
}

// allProtos yields p and every function under it.
func allProtos(p *glua.FunctionProto) func(func(*glua.FunctionProto) bool) {
	return func(yield func(*glua.FunctionProto) bool) {
		var walk func(*glua.FunctionProto) bool
		walk = func(p *glua.FunctionProto) bool {
			if !yield(p) {
				return false
			}
			for _, c := range p.FunctionPrototypes {
				if !walk(c) {
					return false
				}
			}
			return true
		}
		walk(p)
	}
}

// TestSplitKeepsLines checks that an error in a statement moved into a function
// of its own names the statement's line, as it would where it was written.
func TestSplitKeepsLines(t *testing.T) {
	src := "local M = {}\n" + linesOf(3000, "", func(i int) string {
		if i == 1500 {
			return "M.missing.field = 1"
		}
		return fmt.Sprintf(`M.key%d = "text %[1]d"`, i)
	}) + "return M"
	ctx := context.Background()
	rt, err := NewRuntime(ctx, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	_, err = rt.LoadScript(ctx, "data.lua", []byte(src))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v; want an *Error at data.lua:1502", err)
	}
	if e.Line != 1502 || !strings.Contains(e.Message, "data.lua:1502:") {
		t.Fatalf("error %v (line %d); want one at data.lua:1502", err, e.Line)
	}
	proto, err := compileChunk("data.lua", src, chunkKind{})
	if err != nil || chunkProtos(proto) == 0 {
		t.Fatalf("compiled into %d functions (%v); want the statements split", chunkProtos(proto), err)
	}
}
