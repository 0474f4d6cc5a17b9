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

// shape is a kind of control flow that costs wazero's compiler time
// superlinear in its size (see MaxFlowCost).
type shape struct {
	name        string
	open, close []byte // n opens then n closes, nested; or n of both in a row
	nested      bool
	prefix      []byte // before them, once
}

var (
	getLocal = []byte{0x20, 0x00}
	ifOpen   = cat(getLocal, []byte{0x04, 0x40})
	brIf0    = cat(getLocal, []byte{0x0d, 0x00})
)

var shapes = []shape{
	{name: "nested blocks", open: []byte{0x02, 0x40}, close: []byte{opEnd}, nested: true},
	{name: "nested loops", open: []byte{0x03, 0x40}, close: []byte{opEnd}, nested: true},
	{name: "nested ifs", open: ifOpen, close: []byte{opEnd}, nested: true},
	{name: "nested if/else", open: ifOpen, close: []byte{0x05, opEnd}, nested: true},
	{name: "nested ifs with br_if", open: cat(ifOpen, brIf0), close: []byte{opEnd}, nested: true},
	{name: "blocks in a row", open: []byte{0x02, 0x40}, close: []byte{opEnd}},
	{name: "loops in a row", open: []byte{0x03, 0x40}, close: []byte{opEnd}},
	{name: "ifs in a row", open: ifOpen, close: []byte{opEnd}},
	{name: "br_ifs in a row", open: brIf0},
	{name: "local.gets after 1000 br_ifs", open: cat(getLocal, []byte{0x1a}), prefix: bytes.Repeat(brIf0, 1000)},
}

// module is the shape made n times, in a function of type [i32] -> [],
// named "deep".
func (s shape) module(n int) []byte {
	code := slicesClone(s.prefix)
	if s.nested {
		code = append(code, bytes.Repeat(s.open, n)...)
		code = append(code, bytes.Repeat(s.close, n)...)
	} else {
		code = append(code, bytes.Repeat(cat(s.open, s.close), n)...)
	}
	return module(
		sec(secType, vec(fnType([]byte{valI32}, nil))),
		sec(secFunction, vec(leb(0))),
		sec(secCode, vec(codeEntry(nil, code...))),
		nameSection(nameSub(nameFunctions, nameMap(0, "deep"))),
	)
}

func slicesClone(b []byte) []byte { return append([]byte(nil), b...) }

// flowLimit returns the largest n for which Scan accepts s.module(n).
func (s shape) flowLimit(tb testing.TB) int { return s.limit(tb, scans) }

// limit returns the largest n for which ok(s.module(n)).
func (s shape) limit(tb testing.TB, ok func([]byte) bool) int {
	return largest(tb, s.name, s.module, ok)
}

// largest returns the largest n for which ok(module(n)), for the shape named
// name, which ok must refuse below 2^22.
func largest(tb testing.TB, name string, module func(int) []byte, ok func([]byte) bool) int {
	lo, hi := 0, 1
	for ok(module(hi)) {
		lo, hi = hi, 2*hi
		if hi > 1<<22 {
			tb.Fatalf("%s: accepted %d of them", name, hi)
		}
	}
	for hi-lo > 1 {
		if mid := (lo + hi) / 2; ok(module(mid)) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

func scans(b []byte) bool { _, err := Scan(b); return err == nil }

func instruments(b []byte) bool { _, _, err := Instrument(b); return err == nil }

// Every kind of control flow that takes wazero's compiler superlinear time
// is refused by Scan past a limit, with an error naming the function and how
// deep its blocks go; the module at the limit is accepted.
func TestFlowLimits(t *testing.T) {
	for _, s := range shapes {
		t.Run(s.name, func(t *testing.T) {
			n := s.flowLimit(t)
			_, err := Scan(s.module(n + 1))
			if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("%d: %v, want ErrUnsupported", n+1, err)
			}
			for _, want := range []string{`function 0 "deep"`, "deep or more", "more than wazero can compile"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%d: %q does not contain %q", n+1, err, want)
				}
			}
			t.Logf("limit %d (%d bytes): %v", n, len(s.module(n)), err)
		})
	}
}

// The modules a reviewer found to stall a load for seconds to minutes are
// refused, metered (by Instrument) or not (by Scan, which every module
// passes).
func TestFlowRefused(t *testing.T) {
	byName := map[string]shape{}
	for _, s := range shapes {
		byName[s.name] = s
	}
	for _, c := range []struct {
		shape string
		n     int
	}{
		{"nested ifs", 10_000},      // 50 KB: 10 s
		{"nested ifs", 20_000},      // 100 KB: 73 s
		{"nested blocks", 100_000},  // 300 KB: 9 min
		{"ifs in a row", 16_000},    // 80 KB: 23 s
		{"loops in a row", 16_000},  // 48 KB: 20 s
		{"br_ifs in a row", 12_000}, // 48 KB: 8 s
		{"local.gets after 1000 br_ifs", 50_000},
	} {
		t.Run(fmt.Sprintf("%s %d", c.shape, c.n), func(t *testing.T) {
			refused(t, byName[c.shape].module(c.n))
		})
	}
}

// What Instrument writes passes Scan, which wasm runs on it again before
// compiling it: Instrument refuses a function whose instrumented control flow
// is over the limit, naming the function of its input.
func TestFlowInstrumented(t *testing.T) {
	for _, s := range shapes {
		t.Run(s.name, func(t *testing.T) {
			n := s.flowLimit(t)
			for _, m := range []int{n / 4, n / 2, n} {
				out, _, err := Instrument(s.module(m))
				if err != nil {
					if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), `function 0 "deep": `) {
						t.Errorf("%d: %v", m, err)
					}
					continue
				}
				if _, err := Scan(out); err != nil {
					t.Errorf("%d: Scan of the instrumented module: %v", m, err)
				}
			}
		})
	}
}

// Scan reads a body as wazero does, the sub-opcode after 0xfd as one byte:
// read as the LEB128 it should be, 0xfd 0x80 0x1a is an unknown opcode,
// which stopped the walk, and to wazero it is i16x8.abs then drop, so
// blocks after it were not counted.
func TestFlowReadsAsWazero(t *testing.T) {
	level := []byte{0x20, 0x00, 0xfd, 0x80, 0x1a, 0x02, 0x40} // local.get 0 (v128), i16x8.abs, drop, block
	mod := func(n int) []byte {
		code := cat(bytes.Repeat(level, n), bytes.Repeat([]byte{opEnd}, n))
		return module(
			sec(secType, vec(fnType(nil, nil))),
			sec(secFunction, vec(leb(0))),
			sec(secCode, vec(codeEntry(cat(leb(1), leb(1), []byte{valV128}), code...))),
		)
	}
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	if _, err := r.CompileModule(ctx, mod(3)); err != nil {
		t.Fatalf("wazero does not read it so: %v", err)
	}
	if _, err := Scan(mod(100_000)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("100,000 nested blocks behind SIMD opcodes: %v, want ErrUnsupported", err)
	}
}

// Compilers' code is far from the limit: the test modules, and a C switch of
// 2,000 cases that clang turns into 2,400 nested blocks, metered or not.
func TestFlowRealCode(t *testing.T) {
	for name, b := range corpus(t) {
		t.Run(name, func(t *testing.T) {
			if _, err := Scan(b); err != nil {
				t.Fatalf("Scan: %v", err)
			}
			if out, _, err := Instrument(b); err == nil {
				if _, err := Scan(out); err != nil {
					t.Errorf("Scan of the instrumented module: %v", err)
				}
			}
			if max, _ := flowCostOf(b); max > MaxFlowCost/100 {
				t.Errorf("a function costs %d, over 1%% of MaxFlowCost", max)
			}
		})
	}
}

// flowCostOf returns the highest flow cost of a function of b, and the
// deepest block.
func flowCostOf(b []byte) (maxCost uint64, deepest int64) {
	secs, _ := splitSections(b)
	for _, s := range secs {
		if s.id != secCode {
			continue
		}
		r := newReader(s.body, s.base)
		for n := r.count(2); n > 0 && r.err == nil; n-- {
			body := r.bytes(r.count(1))
			code := entryCode(body)
			var f flow
			f.walk(code, 0, MaxFlowCost)
			maxCost, deepest = max(maxCost, f.cost), max(deepest, f.deepest)
		}
	}
	return maxCost, deepest
}

// BenchmarkCompileAtFlowLimit measures wazero compiling the costliest
// module of each shape that Scan accepts, as written and instrumented (if
// Instrument accepts it): each should take about a second or less. Run it
// with -benchtime=1x: it compiles without a cache.
func BenchmarkCompileAtFlowLimit(b *testing.B) {
	for _, s := range shapes {
		in := s.module(s.flowLimit(b))
		out, _, err := Instrument(s.module(s.limit(b, instruments)))
		if err != nil {
			b.Fatal(err)
		}
		benchCompile(b, s.name+"/plain", in)
		benchCompile(b, s.name+"/metered", out)
	}
}

// A module's functions share a budget: several just under the limit each
// are refused together, unless the code is large enough to pay for them.
func TestFlowModuleBudget(t *testing.T) {
	s := shapes[2] // nested ifs
	n := s.flowLimit(t) * 3 / 4
	one := s.module(n)
	if !scans(one) {
		t.Fatalf("one function of %d nested ifs is refused", n)
	}
	code := cat(bytes.Repeat(ifOpen, n), bytes.Repeat([]byte{opEnd}, n))
	many := func(k int, pad int) []byte { // k such functions and k functions of pad nops
		var types, bodies [][]byte
		for range k {
			types, bodies = append(types, leb(0)), append(bodies, codeEntry(nil, code...))
		}
		for range k {
			types, bodies = append(types, leb(0)), append(bodies, codeEntry(nil, bytes.Repeat([]byte{0x01}, pad)...))
		}
		return module(sec(secType, vec(fnType([]byte{valI32}, nil))), sec(secFunction, vec(types...)), sec(secCode, vec(bodies...)))
	}
	_, err := Scan(many(2, 0))
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "function 1: the control flow of its functions costs") {
		t.Errorf("two functions: %v, want the second refused for the module's budget", err)
	}
	// Enough code for both: the budget grows with the code section.
	if _, err := Scan(many(2, 2*MaxFlowCost/flowPerByte)); err != nil {
		t.Errorf("two functions in a large module: %v", err)
	}
}

// benchCompile measures wazero compiling wasm without a cache, as name.
func benchCompile(b *testing.B, name string, wasm []byte) {
	ctx := context.Background()
	b.Run(name, func(b *testing.B) {
		b.ReportAllocs()
		b.ReportMetric(float64(len(wasm)), "bytes")
		for b.Loop() {
			r := wazero.NewRuntime(ctx)
			if _, err := r.CompileModule(ctx, wasm); err != nil {
				b.Fatal(err)
			}
			r.Close(ctx)
		}
	})
}

// refused checks that Scan and Instrument both refuse b with ErrUnsupported.
func refused(t *testing.T, b []byte) {
	t.Helper()
	if _, err := Scan(b); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Scan: %v, want ErrUnsupported", err)
	}
	if _, _, err := Instrument(b); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Instrument: %v, want ErrUnsupported", err)
	}
}
