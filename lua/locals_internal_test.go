package lua

import (
	"maps"
	"slices"
	"strings"
	"testing"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
	"github.com/hotscript/hotscript/internal/gopherlua/parse"
)

// TestAssignedNames: the top level's names an assignment gives a value to,
// wherever it is, but for one to a name an inner scope declares (helper-218).
func TestAssignedNames(t *testing.T) {
	tests := []struct{ src, want string }{
		{"local a = 1; a = 2", "a"},
		{"local a = 1; function f() a = 2 end", "a,f"},
		{"local a = 1; local function g() if x then a = 2 end end", "a"},
		{"local a = 1; function M.f(a) a = a or 0 end", ""},
		{"local a = 1; function M.f() local a; a = 0 end", ""},
		{"local a = 1; function M.f() a = 0; local a; a = 1 end", "a"},
		{"local i = 1; for i = 1, 3 do i = 2 end", ""},
		{"local k = 1; for k, v in pairs(t) do k = 2; v = 3 end", ""},
		{"local self = 1; function M:m() self = 2 end", ""},
		{"local a = 1; function a.b() end; function a:c() end", ""},
		{"local a = 1; function a() end", "a"},
		{"local a = 1; t = { f = function() a = 2 end }", "a,t"},
		{"local a = 1; do local a = 2; a = 3 end; a = 4", "a"},
		{"local a = 1; do local a = 2; a = 3 end", ""},
		{"local a, b = 1, 2; a, b.c = 3, 4", "a"},
		{"local a = 1; repeat local b = 2; b = 3 until a", ""},
	}
	for _, tt := range tests {
		chunk, err := parse.Parse(strings.NewReader(tt.src), "t.lua")
		if err != nil {
			t.Fatalf("%s: %v", tt.src, err)
		}
		if got := strings.Join(slices.Sorted(maps.Keys(assignedNames(chunk))), ","); got != tt.want {
			t.Errorf("%s: assigned %q, want %q", tt.src, got, tt.want)
		}
	}
}

// TestReturnLocalsLeavesCalls: a chunk that returns a call's results, or ...,
// keeps its tail call (helper-218: the traceback and the stack depth changed),
// and one that returns a value returns its locals second.
func TestReturnLocalsLeavesCalls(t *testing.T) {
	for src, rewritten := range map[string]bool{
		"local M = {} return M": true,
		"local M = {} local function init() return M end return init()": false,
		"local M = {} return ...":  false,
		"local M = {} return M, 1": false,
	} {
		chunk, err := parse.Parse(strings.NewReader(src), "t.lua")
		if err != nil {
			t.Fatal(err)
		}
		n := len(chunk)
		if got := len(returnLocals(chunk)) != n; got != rewritten {
			t.Errorf("%s: rewritten %v, want %v", src, got, rewritten)
		}
	}
}

// TestCompiledProtosTrimmed: a compiled chunk's functions keep only what they
// need, not the compiler's buffers of a thousand instructions and lines each
// (helper-227: about 17 KB a function, 75 MB for 20 scripts of 200 one-line
// functions).
func TestCompiledProtosTrimmed(t *testing.T) {
	var src strings.Builder
	src.WriteString("local M = {}\n")
	for i := range 20 {
		src.WriteString("function M.f" + strings.Repeat("x", i) + "(x) return x + 1 end\n")
	}
	src.WriteString("return M\n")
	proto, err := compileChunk("m.lua", src.String(), chunkKind{module: true})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	eachProto(proto, func(p *glua.FunctionProto) {
		n++
		if cap(p.Code) > 2*len(p.Code)+8 || cap(p.DbgSourcePositions) > 2*len(p.DbgSourcePositions)+8 {
			t.Errorf("%s:%d: %d instructions in a slice of %d, %d lines in %d", p.SourceName, p.LineDefined,
				len(p.Code), cap(p.Code), len(p.DbgSourcePositions), cap(p.DbgSourcePositions))
		}
	})
	if n != 21 {
		t.Errorf("%d functions, want 21", n)
	}
}
