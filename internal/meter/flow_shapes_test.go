package meter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
)

// A localShape is a kind of code whose cost to wazero's SSA builder grows
// faster than its size through the locals it reads or the predecessors of
// its blocks rather than the depth of its blocks (see flow.read, flow.pred):
// code(n) is the body of a function of type [i32] -> [i32], declaring
// locals(n) i32 locals.
type localShape struct {
	name   string
	locals func(n int) int
	code   func(n int) []byte
	// results, if not 0, adds type 1, taking nothing and giving results
	// i32s, for blocks of the code; and the refusal then says so.
	results int
}

// valueBlocks is n nested blocks of type 1, which gives k i32s (see
// localShape.results), their values made in the innermost and dropped after
// the outermost: each block's end takes the k values, a block parameter each.
func valueBlocks(n, k int) []byte {
	c := cat(bytes.Repeat([]byte{0x02, 0x01}, n), bytes.Repeat([]byte{0x41, 0x01}, k), bytes.Repeat([]byte{opEnd}, n))
	return cat(c, bytes.Repeat([]byte{0x1a}, k), []byte{0x20, 0x00})
}

// sumLocals adds locals 1 to m to the i32 on the stack.
func sumLocals(m int) []byte {
	var c []byte
	for k := 1; k <= m; k++ {
		c = append(append(append(c, 0x20), leb(uint64(k))...), 0x6a) // local.get k; i32.add
	}
	return c
}

// setLocals sets locals 1 to m from the parameter.
func setLocals(m int) []byte {
	var c []byte
	for k := 1; k <= m; k++ { // local.set k (local.get 0 + k)
		c = append(append(c, 0x20, 0x00, 0x41), leb(uint64(k))...)
		c = append(append(c, 0x6a, 0x21), leb(uint64(k))...)
	}
	return c
}

// fanIn is a block left by a br_table of n targets, all to its end, then
// the sum of m locals: the block after it has n+1 predecessors, and every
// local is looked up in each.
func fanIn(n, m int) []byte {
	c := cat([]byte{0x02, 0x40, 0x20, 0x00, 0x0e}, leb(uint64(n)), make([]byte, n+1), []byte{opEnd, 0x41, 0x00})
	return append(c, sumLocals(m)...)
}

// loopsAround is d nested loops around the sum of m locals: each local
// gets a placeholder in every loop's header, a parameter once sealed.
func loopsAround(d, m int) []byte {
	c := cat(bytes.Repeat([]byte{0x03, 0x40}, d), []byte{0x41, 0x00}, sumLocals(m), []byte{0x1a})
	return cat(c, bytes.Repeat([]byte{opEnd}, d), []byte{0x41, 0x00})
}

// loopsLive is m locals set, then d nested loops each counting the
// parameter down, then the sum of the locals: each is looked up through
// every loop's header, and is a parameter of each.
func loopsLive(d, m int) []byte {
	loop := []byte{0x03, 0x40, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00}
	c := cat(setLocals(m), bytes.Repeat(loop, d), bytes.Repeat([]byte{opEnd}, d), []byte{0x41, 0x00})
	return append(c, sumLocals(m)...)
}

// switchLive is m locals set, then a switch of b cases that fall through
// (one br_table into b nested blocks, as clang makes it), then the sum of
// the locals: each is looked up through every case's block.
func switchLive(b, m int) []byte {
	c := cat(setLocals(m), bytes.Repeat([]byte{0x02, 0x40}, b), []byte{0x20, 0x00, 0x0e}, leb(uint64(b)))
	for i := range b {
		c = append(c, leb(uint64(i))...)
	}
	c = append(c, 0x00)
	c = append(c, bytes.Repeat([]byte{opEnd, 0x20, 0x00, 0x41, 0x01, 0x6a, 0x21, 0x00}, b)...) // end; local.set 0 (local.get 0 + 1)
	return append(append(c, 0x41, 0x00), sumLocals(m)...)
}

// backEdges is a loop of n br_ifs back to its header, then the sum of n
// locals: the header has n+1 predecessors, each local is a parameter, and
// is looked up from each br_if back through the blocks of those before it.
func backEdges(n int) []byte {
	c := cat([]byte{0x03, 0x40}, bytes.Repeat(brIf0, n), []byte{opEnd, 0x41, 0x00})
	return append(c, sumLocals(n)...)
}

// backEdgesAfter is a loop reading n locals, then n br_ifs back to its
// header: each local's placeholder is looked up from each br_if back
// through the blocks of those before it when the header is sealed.
func backEdgesAfter(n int) []byte {
	c := cat([]byte{0x03, 0x40, 0x41, 0x00}, sumLocals(n), []byte{0x1a}, bytes.Repeat(brIf0, n))
	return append(c, opEnd, 0x41, 0x00)
}

// localShapes are the shapes a reviewer found to pass the limit of depth
// alone and stall a load for 10 s to 8 min, or exhaust memory, and blocks
// passing on many values (multi-value types), which did so too.
var localShapes = []localShape{
	{"br_table targets to one block", func(int) int { return 0 }, func(n int) []byte { return fanIn(n, 0) }, 0},
	{"locals read after a br_table to one block", func(n int) int { return n }, func(n int) []byte { return fanIn(n, n) }, 0},
	{"locals read in 100 nested loops", func(n int) int { return n }, func(n int) []byte { return loopsAround(100, n) }, 0},
	{"locals live across 100 nested loops", func(n int) int { return n }, func(n int) []byte { return loopsLive(100, n) }, 0},
	{"nested loops, 2,000 locals live across them", func(int) int { return 2000 }, func(n int) []byte { return loopsLive(n, 2000) }, 0},
	{"locals live across a switch of as many cases", func(n int) int { return n }, func(n int) []byte { return switchLive(n, n) }, 0},
	{"br_ifs back to a loop's header, as many locals read after", func(n int) int { return n }, func(n int) []byte { return backEdges(n) }, 0},
	{"locals read in a loop, as many br_ifs back to its header", func(n int) int { return n }, func(n int) []byte { return backEdgesAfter(n) }, 0},
	{"nested blocks of 1,000 results", func(int) int { return 0 }, func(n int) []byte { return valueBlocks(n, 1000) }, 1000},
	{"2,000 nested blocks of as many results", func(int) int { return 0 }, func(n int) []byte { return valueBlocks(2000, n) }, -1},
}

// module is the shape made n times, in a function named "deep".
func (s localShape) module(n int) []byte {
	var locals []byte
	if m := s.locals(n); m > 0 {
		locals = cat(leb(1), leb(uint64(m)), []byte{valI32})
	}
	types := [][]byte{fnType([]byte{valI32}, []byte{valI32})}
	if k := s.results; k != 0 {
		if k < 0 { // as many as n
			k = n
		}
		types = append(types, fnType(nil, bytes.Repeat([]byte{valI32}, k)))
	}
	return module(
		sec(secType, vec(types...)),
		sec(secFunction, vec(leb(0))),
		sec(secCode, vec(codeEntry(locals, s.code(n)...))),
		nameSection(nameSub(nameFunctions, nameMap(0, "deep"))),
	)
}

// limit returns the largest n for which ok(s.module(n)).
func (s localShape) limit(tb testing.TB, ok func([]byte) bool) int {
	return largest(tb, s.name, s.module, ok)
}

// Every shape whose cost to wazero grows with its predecessors or its
// locals rather than its depth is refused past a limit, naming the
// function; the module at the limit is valid and accepted, metered or not.
func TestFlowShapeLimits(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	for _, s := range localShapes {
		t.Run(s.name, func(t *testing.T) {
			n := s.limit(t, scans)
			if n < 2 {
				t.Fatalf("limit %d: even the smallest is refused", n)
			}
			if _, err := r.CompileModule(ctx, s.module(2)); err != nil {
				t.Fatalf("wazero refuses the shape: %v", err)
			}
			_, err := Scan(s.module(n + 1))
			if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("%d: %v, want ErrUnsupported", n+1, err)
			}
			says := "join so much"
			if s.results != 0 {
				says = "pass on so many values"
			}
			for _, want := range []string{`function 0 "deep": `, says, "that wazero cannot compile it"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%d: %q does not contain %q", n+1, err, want)
				}
			}
			if out, _, err := Instrument(s.module(n)); err == nil {
				if _, err := Scan(out); err != nil {
					t.Errorf("%d, instrumented: Scan: %v", n, err)
				}
			} else if !errors.Is(err, ErrUnsupported) {
				t.Errorf("%d: Instrument: %v", n, err)
			}
			t.Logf("limit %d (%d bytes): %v", n, len(s.module(n)), err)
		})
	}
}

// The modules the reviewer measured are refused, metered or not.
func TestFlowShapesRefused(t *testing.T) {
	for _, c := range []struct {
		name    string
		code    []byte
		m       int
		results int
	}{
		{"br_table of 150,000 targets to one block (10-12 s)", fanIn(150_000, 0), 0, 0},
		{"br_table of 20,000 targets, 20,000 locals read after (6.5-16.5 s)", fanIn(20_000, 20_000), 20_000, 0},
		{"5,000 locals read in 200 nested loops (7.5-14 s)", loopsAround(200, 5000), 5000, 0},
		{"5,000 locals read in 100 nested loops (4.4 s)", loopsAround(100, 5000), 5000, 0},
		{"5,000 locals live across 1,000 nested loops (8.5 min)", loopsLive(1000, 5000), 5000, 0},
		{"2,000 locals live across 300 nested loops (17-22 s)", loopsLive(300, 2000), 2000, 0},
		{"3,000 locals live across a switch of 3,000 cases (7-13 s)", switchLive(3000, 3000), 3000, 0},
		{"8,000 locals live across a switch of 8,000 cases (over 4 GB)", switchLive(8000, 8000), 8000, 0},
		{"2,000 nested blocks of 1,000 results (3.7 s)", valueBlocks(2000, 1000), 0, 1000},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := localShape{c.name, func(int) int { return c.m }, func(int) []byte { return c.code }, c.results}
			refused(t, s.module(0))
		})
	}
}

// BenchmarkCompileFlowShapes measures wazero compiling the costliest
// module of each localShape that Scan accepts, as written and instrumented
// (the largest Instrument accepts): each should take about a second or
// less. Run it with -benchtime=1x: it compiles without a cache.
func BenchmarkCompileFlowShapes(b *testing.B) {
	for _, s := range localShapes {
		n := s.limit(b, scans)
		out, _, err := Instrument(s.module(s.limit(b, instruments)))
		if err != nil {
			b.Fatal(err)
		}
		benchCompile(b, fmt.Sprintf("%s/plain n=%d", s.name, n), s.module(n))
		benchCompile(b, s.name+"/metered", out)
	}
}
