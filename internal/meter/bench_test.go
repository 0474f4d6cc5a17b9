package meter

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/benchpair"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// sumN is the length of the benchmark's loop: the sum of 1e6 integers.
const sumN = 1_000_000

// sumWant is 0 + 1 + ... + (sumN-1).
const sumWant = sumN * (sumN - 1) / 2

// rawSum instantiates testdata/sum.wasm as it is and returns its sum.
func rawSum(b *testing.B) api.Function {
	r := newPlainRuntime(b)
	mod, err := r.InstantiateWithConfig(context.Background(), readTestdata(b, "sum.wasm"), wazero.NewModuleConfig().WithName(""))
	if err != nil {
		b.Fatal(err)
	}
	return mod.ExportedFunction("sum")
}

func callSum(b *testing.B, f api.Function) {
	res, err := f.Call(context.Background(), sumN)
	if err != nil || res[0] != sumWant {
		b.Fatalf("sum = %v, %v", res, err)
	}
}

// BenchmarkSumLoop times the sum of 1e6 integers in a WebAssembly loop under
// wazero's compiler, as written and instrumented, with refuel called every
// 1e5 and every 1e6 units of fuel (the loop uses 14e6).
func BenchmarkSumLoop(b *testing.B) {
	b.Run("raw", func(b *testing.B) {
		f := rawSum(b)
		b.ReportAllocs()
		for b.Loop() {
			callSum(b, f)
		}
	})
	for _, slice := range []int64{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("metered/refuel-every-%.0e", float64(slice)), func(b *testing.B) {
			m := instantiateMetered(b, readTestdata(b, "sum.wasm"), &tank{slice: slice, left: 1 << 62})
			f := m.mod.ExportedFunction("sum")
			b.ReportAllocs()
			for b.Loop() {
				m.fuel.Set(0)
				callSum(b, f)
			}
			b.ReportMetric(float64(m.tank.refuels)/float64(b.N), "refuels/op")
		})
	}
}

// BenchmarkSumLoopRatio alternates raw and metered calls of the same loop
// in one benchmark, so machine noise hits both alike, and reports the
// metered time as a multiple of the raw time (target: at most 1.5).
func BenchmarkSumLoopRatio(b *testing.B) {
	for _, slice := range []int64{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("refuel-every-%.0e", float64(slice)), func(b *testing.B) {
			raw := rawSum(b)
			m := instantiateMetered(b, readTestdata(b, "sum.wasm"), &tank{slice: slice, left: 1 << 62})
			metered := m.mod.ExportedFunction("sum")
			var rawTime, meteredTime time.Duration
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				callSum(b, raw)
				mid := time.Now()
				m.fuel.Set(0)
				callSum(b, metered)
				meteredTime += time.Since(mid)
				rawTime += mid.Sub(start)
			}
			b.ReportMetric(float64(rawTime.Nanoseconds())/float64(b.N)/1e6, "raw-ms/op")
			b.ReportMetric(float64(meteredTime.Nanoseconds())/float64(b.N)/1e6, "metered-ms/op")
			b.ReportMetric(float64(meteredTime)/float64(rawTime), "x-raw")
		})
	}
}

// BenchmarkWorkloads compares raw and metered runs of a few workloads: a
// host call of a 3-instruction function (the fixed cost per call), fib(15)
// (1973 calls, each passing an entry check), and clang-built loops over
// memory (bubble sort of 63 integers, an 8x8 matrix product).
func BenchmarkWorkloads(b *testing.B) {
	cases := []struct {
		file, fn string
		arg      uint64
	}{{"sum.wasm", "add3", 1}, {"loops.wasm", "fib", 15}, {"loops.wasm", "sort", 63}, {"loops.wasm", "matmul", 3}}
	for _, c := range cases {
		wasm := readTestdata(b, c.file)
		b.Run(c.fn, func(b *testing.B) {
			r := newPlainRuntime(b)
			mod, err := r.InstantiateWithConfig(context.Background(), wasm, wazero.NewModuleConfig().WithName(""))
			if err != nil {
				b.Fatal(err)
			}
			m := instantiateMetered(b, wasm, &tank{slice: 1 << 40, left: 1 << 62})
			m.fuel.Set(1 << 60)
			benchpair.Run(b, 16, callOf(b, mod.ExportedFunction(c.fn), c.arg), callOf(b, m.mod.ExportedFunction(c.fn), c.arg))
		})
	}
}

// callOf returns a call of f with arg.
func callOf(b *testing.B, f api.Function, arg uint64) func() {
	stack := make([]uint64, 1)
	return func() {
		stack[0] = arg
		if err := f.CallWithStack(context.Background(), stack); err != nil {
			b.Fatal(err)
		}
	}
}

// sumLayout is a module exporting the benchmark's sum loop (as in
// testdata/sum.wat, without the mask) after a function of k statements,
// which moves the loop's machine code by k steps in wazero's output.
func sumLayout(k int) []byte {
	var pad []byte
	for i := range k {
		pad = append(pad, 0x23, 0x00, 0x41, byte(i%64), 0x6a, 0x24, 0x00) // g += i
	}
	sum := []byte{
		0x02, 0x40, 0x03, 0x40, // block, loop
		0x20, 0x01, 0x20, 0x00, 0x4f, 0x0d, 0x01, // br_if 1 (i >= n)
		0x20, 0x02, 0x20, 0x01, 0xad, 0x7c, 0x21, 0x02, // s += i
		0x20, 0x01, 0x41, 0x01, 0x6a, 0x21, 0x01, // i++
		0x0c, 0x00, opEnd, opEnd, // br 0, end, end
		0x20, 0x02, // s
	}
	return module(
		sec(secType, vec(fnType(nil, nil), fnType([]byte{valI32}, []byte{valI64}))),
		sec(secFunction, vec(leb(0), leb(1))),
		sec(secGlobal, vec([]byte{valI32, 0x01, 0x41, 0x00, opEnd})),
		sec(secExport, vec(cat(str("sum"), []byte{0x00}, leb(1)))),
		sec(secCode, vec(codeEntry(nil, pad...), codeEntry(vec(cat(leb(1), []byte{valI32}), cat(leb(1), []byte{valI64})), sum...))),
	)
}

// BenchmarkSumLoopLayouts times the sum of 1e6 integers raw and metered
// (refuel every 65,536 units, as package wasm does) in 16 code layouts,
// alternating, and reports the median, lowest and highest ratio. wazero
// does not align loops, and the same loop runs up to twice as fast in one
// place as in another, so one layout's ratio says as much about luck as
// about metering.
func BenchmarkSumLoopLayouts(b *testing.B) {
	const layouts = 16
	var raw, metered [layouts]api.Function
	var fuel [layouts]api.MutableGlobal
	for k := range layouts {
		wasm := sumLayout(k)
		r := newPlainRuntime(b)
		mod, err := r.InstantiateWithConfig(context.Background(), wasm, wazero.NewModuleConfig().WithName(""))
		if err != nil {
			b.Fatal(err)
		}
		raw[k] = mod.ExportedFunction("sum")
		m := instantiateMetered(b, wasm, &tank{slice: 1 << 16, left: 1 << 62})
		metered[k], fuel[k] = m.mod.ExportedFunction("sum"), m.fuel
	}
	var tr, tm [layouts]time.Duration
	for b.Loop() {
		for k := range layouts {
			t0 := time.Now()
			callSum(b, raw[k])
			t1 := time.Now()
			fuel[k].Set(0)
			callSum(b, metered[k])
			tm[k] += time.Since(t1)
			tr[k] += t1.Sub(t0)
		}
	}
	ratios := make([]float64, layouts)
	for k := range layouts {
		ratios[k] = float64(tm[k]) / float64(tr[k])
	}
	slices.Sort(ratios)
	b.ReportMetric((ratios[layouts/2-1]+ratios[layouts/2])/2, "x-raw-median")
	b.ReportMetric(ratios[0], "x-raw-min")
	b.ReportMetric(ratios[layouts-1], "x-raw-max")
}

// BenchmarkInstrument measures the rewrite itself on a synthetic module of
// about 4 MB of loops, branches, memory accesses and calls, and reports
// milliseconds per megabyte of input.
func BenchmarkInstrument(b *testing.B) {
	wasm := syntheticModule(1000, 64)
	b.SetBytes(int64(len(wasm)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Instrument(wasm); err != nil {
			b.Fatal(err)
		}
	}
	perOp := b.Elapsed().Seconds() * 1e3 / float64(b.N)
	b.ReportMetric(perOp/(float64(len(wasm))/(1<<20)), "ms/MB")
	b.ReportMetric(float64(len(wasm))/(1<<20), "MB")
}

// syntheticModule builds funcs functions of type [i32] -> [i32], each made
// of units copies of a loop with a nested if, loads, stores and a call.
func syntheticModule(funcs, units int) []byte {
	var bodies [][]byte
	for i := range funcs {
		var code []byte
		for u := range units {
			k := byte(u & 0x3f)
			code = append(code,
				0x20, 0x00, 0x41, k, 0x6a, 0x21, 0x01, // local.set 1 (local.get 0 + k)
				0x02, 0x40, 0x03, 0x40, // block loop
				0x20, 0x01, 0x41, 0x01, 0x6b, 0x22, 0x01, 0x45, 0x0d, 0x01, // br_if 1 (--l1 == 0)
				0x20, 0x01, 0x41, 0xff, 0x01, 0x71, 0x28, 0x02, 0x08, // i32.load offset=8 (l1 & 255)
				0x20, 0x00, 0x73, 0x21, 0x00, // l0 ^= it
				0x20, 0x01, 0x41, 0x07, 0x71, 0x04, 0x40, // if (l1 & 7)
				0x20, 0x00, 0x41, 0x03, 0x6c, 0x21, 0x00, // l0 *= 3
				0x05,                                     // else
				0x20, 0x00, 0x41, 0x01, 0x76, 0x21, 0x00, // l0 >>= 1
				0x0b,                                     // end
				0x41, 0x10, 0x20, 0x00, 0x36, 0x02, 0x00, // i32.store (16) l0
				0x0c, 0x00, 0x0b, 0x0b, // br 0, end, end
			)
			if i > 0 {
				code = append(code, 0x20, 0x00, 0x10)
				code = AppendULEB(code, uint64(i-1))
				code = append(code, 0x21, 0x00) // l0 = f(i-1)(l0)
			}
		}
		code = append(code, 0x20, 0x00)
		bodies = append(bodies, codeEntry(vec(cat(leb(1), []byte{valI32})), code...))
	}
	indices := make([][]byte, funcs)
	for i := range indices {
		indices[i] = leb(0)
	}
	return module(
		sec(secType, vec(fnType([]byte{valI32}, []byte{valI32}))),
		sec(secFunction, vec(indices...)),
		sec(secMemory, vec([]byte{0x00, 0x01})),
		sec(secCode, vec(bodies...)),
	)
}

// TestSyntheticModule makes sure the benchmark's module and its rewrite
// are valid, on a small instance.
func TestSyntheticModule(t *testing.T) {
	wasm := syntheticModule(5, 4)
	out, _, err := Instrument(wasm)
	if err != nil {
		t.Fatal(err)
	}
	r := newPlainRuntime(t)
	for _, m := range [][]byte{wasm, out} {
		if _, err := r.CompileModule(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
}
