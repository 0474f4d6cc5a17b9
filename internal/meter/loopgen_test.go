package meter

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tetratelabs/wazero"
)

// loopGen writes random, always terminating functions full of loops, for the
// property test below: while loops (a test, br_if out, a body, br 0) and
// do-while loops (a body, br_if 0), nested, with continues, blocks with early
// exits, ifs, calls, returns from inside loops and the odd division that traps.
// Every loop counts a local of its own down from a small bound and leaves when
// it reaches zero, and a continue (to a while loop only) comes after the
// count, so every run ends.
type loopGen struct {
	rng    *rand.Rand
	code   []byte
	labels []byte // open labels, innermost last: 'b' block, 'l' while loop, 'd' do-while loop, 'i' if
	nextC  uint32 // next free counter local
	budget int    // statements left
}

const (
	genVars     = 4  // locals 1..4 hold values; 0 is the parameter
	genCounters = 12 // locals 5..16 count loops down
)

func (g *loopGen) op(b ...byte) { g.code = append(g.code, b...) }

func (g *loopGen) idx(op byte, i uint32) { g.op(op); g.code = AppendULEB(g.code, uint64(i)) }

func (g *loopGen) i32(v int32) { g.op(0x41); g.code = AppendSLEB(g.code, int64(v)) }

// depth is the branch depth of the innermost open label of kind k.
func (g *loopGen) depth(k byte) (uint32, bool) {
	for d := range len(g.labels) {
		if g.labels[len(g.labels)-1-d] == k {
			return uint32(d), true
		}
	}
	return 0, false
}

func (g *loopGen) open(op, kind byte) { g.op(op, 0x40); g.labels = append(g.labels, kind) }

func (g *loopGen) end() { g.op(0x0b); g.labels = g.labels[:len(g.labels)-1] }

// expr pushes one i32.
func (g *loopGen) expr(depth int) {
	switch r := g.rng.IntN(10); {
	case depth > 2 || r < 3:
		g.i32(int32(g.rng.IntN(200)) - 50)
	case r < 6:
		g.idx(0x20, uint32(g.rng.IntN(genVars+1)))
	case r < 7:
		g.expr(depth + 1)
		g.idx(0x10, 0) // call $g
	default:
		g.expr(depth + 1)
		g.expr(depth + 1)
		ops := []byte{0x6a, 0x6b, 0x6c, 0x71, 0x73, 0x74, 0x6a, 0x6b}
		if g.rng.IntN(40) == 0 {
			ops = []byte{0x6e} // i32.div_u: traps on zero
		}
		g.op(ops[g.rng.IntN(len(ops))])
	}
}

// counter starts a loop's counter at a small bound, from the parameter, unless
// the loop would be a fourth level of nesting or the counters are used up.
func (g *loopGen) counter() (uint32, bool) {
	loops := 0
	for _, k := range g.labels {
		if k == 'l' || k == 'd' {
			loops++
		}
	}
	if loops >= 3 || g.nextC >= genVars+1+genCounters {
		return 0, false
	}
	c := g.nextC
	g.nextC++
	g.idx(0x20, 0)
	g.i32(int32(g.rng.IntN(7)))
	g.op(0x6a)
	g.i32(15)
	g.op(0x71) // (n + k) & 15
	g.idx(0x21, c)
	return c, true
}

// countDown emits c -= 1.
func (g *loopGen) countDown(c uint32) {
	g.idx(0x20, c)
	g.i32(1)
	g.op(0x6b)
	g.idx(0x21, c)
}

func (g *loopGen) stmts(n int) {
	for range n {
		if g.budget <= 0 {
			return
		}
		g.budget--
		g.stmt()
	}
}

func (g *loopGen) stmt() {
	switch r := g.rng.IntN(20); {
	case r < 7:
		g.expr(0)
		g.idx(0x21, 1+uint32(g.rng.IntN(genVars)))
	case r < 10: // while loop
		c, ok := g.counter()
		if !ok {
			return
		}
		g.open(0x02, 'b')
		g.open(0x03, 'l')
		g.idx(0x20, c)
		g.op(0x45)     // i32.eqz
		g.idx(0x0d, 1) // br_if out
		g.countDown(c) // before any continue
		g.stmts(1 + g.rng.IntN(3))
		g.idx(0x0c, 0) // br 0
		g.end()
		g.end()
	case r < 13: // do-while loop
		c, ok := g.counter()
		if !ok {
			return
		}
		g.open(0x03, 'd') // no continue: it would skip the test at the end
		g.countDown(c)
		g.stmts(1 + g.rng.IntN(3))
		g.idx(0x20, c)
		g.i32(0)
		g.op(0x4a)     // i32.gt_s
		g.idx(0x0d, 0) // br_if 0
		g.end()
	case r < 15: // continue, inside a loop
		if d, ok := g.depth('l'); ok {
			g.expr(0)
			g.idx(0x0d, d)
		}
	case r < 16: // leave the innermost block
		if d, ok := g.depth('b'); ok {
			g.expr(0)
			g.idx(0x0d, d)
		}
	case r < 17:
		g.open(0x02, 'b')
		g.stmts(1 + g.rng.IntN(2))
		g.end()
	case r < 19:
		g.expr(0)
		g.open(0x04, 'i')
		g.stmts(1 + g.rng.IntN(2))
		g.op(0x05) // else
		g.stmts(1 + g.rng.IntN(2))
		g.end()
	default: // return from wherever we are
		if len(g.labels) > 0 && g.rng.IntN(3) == 0 {
			g.idx(0x20, 1)
			g.op(0x0f)
		}
	}
}

// module returns a module exporting f(n i32) i32, a random function of the
// seed, and the helper g it calls.
func loopModule(seed uint64) []byte {
	g := &loopGen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), nextC: genVars + 1, budget: 40}
	g.stmts(12)
	g.idx(0x20, 1)
	g.op(0x0b)
	helper := []byte{0x00, 0x20, 0x00, 0x41, 0x03, 0x6c, 0x41, 0x01, 0x6a, 0x0b} // n*3 + 1
	f := append(AppendULEB(nil, 1), byte(genVars+genCounters), 0x7f)
	f = append(f, g.code...)
	sec := func(out []byte, id byte, body []byte) []byte {
		out = append(out, id)
		out = AppendULEB(out, uint64(len(body)))
		return append(out, body...)
	}
	code := AppendULEB(nil, 2)
	code = append(AppendULEB(code, uint64(len(helper))), helper...)
	code = append(AppendULEB(code, uint64(len(f))), f...)
	m := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}
	m = sec(m, 1, []byte{0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f}) // (i32) -> i32
	m = sec(m, 3, []byte{0x02, 0x00, 0x00})
	m = sec(m, 7, []byte{0x01, 0x01, 'f', 0x00, 0x01})
	return sec(m, 10, code)
}

// Random loop programs compute the same results metered as unmetered, and use
// the same fuel with and without unrolling (a call that traps: at least as
// much), whether the fuel comes in one piece or in small slices.
func TestUnrollRandomLoops(t *testing.T) {
	ctx := context.Background()
	raw := newPlainRuntime(t)
	unrolled := 0
	for seed := range uint64(300) {
		wasm := loopModule(seed)
		mod, err := raw.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithName(""))
		if err != nil {
			t.Fatalf("seed %d: generated module does not instantiate: %v", seed, err)
		}
		var ms [2]*metered
		for i, copies := range []int{1, defaultUnrollCopies} {
			var info Info
			ms[i], info = instantiateUnrolled(t, wasm, copies)
			if copies > 1 {
				unrolled += info.UnrolledLoops
			}
		}
		for _, n := range []uint64{0, 1, 6, 13} {
			// Metered first, on a budget: a generator bug that loops forever
			// runs out of fuel instead of hanging the unmetered call.
			if _, _, err := ms[1].callWith(tank{slice: 1 << 30, left: 1 << 26}, "f", n); errors.Is(err, errOutOfFuel) {
				t.Fatalf("seed %d, f(%d) does not end", seed, n)
			}
			want, wantErr := mod.ExportedFunction("f").Call(ctx, n)
			for _, slice := range []int64{61, 1 << 30} {
				var used [2]int64
				for i, m := range ms {
					got, u, err := m.callWith(tank{slice: slice, left: 1 << 40}, "f", n)
					if firstLine(err) != firstLine(wantErr) || !slices.Equal(got, want) {
						t.Fatalf("seed %d, f(%d), %d copies, slices of %d: %v, %v; unmetered %v, %v",
							seed, n, []int{1, defaultUnrollCopies}[i], slice, got, err, want, wantErr)
					}
					used[i] = u
				}
				if used[0] != used[1] && (wantErr == nil || used[1] < used[0]) {
					t.Fatalf("seed %d, f(%d), slices of %d: fuel %d unrolled, %d not (error %v)", seed, n, slice, used[1], used[0], wantErr)
				}
			}
		}
	}
	if unrolled < 100 {
		t.Errorf("only %d loops unrolled over the random programs", unrolled)
	}
	t.Logf("%d loops unrolled", unrolled)
}

// callWith is call with the tank set to tk first.
func (m *metered) callWith(tk tank, name string, args ...uint64) ([]uint64, int64, error) {
	*m.tank = tk
	return m.call(name, args...)
}
