package wasm_test

// Benchmarks compare each call path with the same guest work done on raw wazero, in
// the same run: the "x-wazero" metric is ns/op divided by the raw figure, timed
// right after each benchmark (the median of three runs of at least 100ms).

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/guest"
	"github.com/hotscript/hotscript/wasm"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// doc80 is an 80-byte JSON document.
var doc80 = json.RawMessage(`{"id":12345,"name":"enemy","hp":97.5,"pos":[1.5,-2.25,3],"alive":true,"tag":123}`)

func init() {
	if len(doc80) != 80 || !json.Valid(doc80) {
		panic("doc80 must be 80 bytes of JSON")
	}
}

// rawModule instantiates a guest on a plain wazero runtime.
func rawModule(tb testing.TB, name string) api.Module {
	r := wazero.NewRuntime(ctx)
	tb.Cleanup(func() { r.Close(ctx) })
	mod, err := r.Instantiate(ctx, guest.Bytes(name))
	if err != nil {
		tb.Fatal(err)
	}
	return mod
}

// rawAdd returns one call of add(2, 3) with CallWithStack.
func rawAdd(tb testing.TB) func() {
	add := rawModule(tb, "add_v1").ExportedFunction("add")
	stack := []uint64{2, 3}
	return func() {
		stack[0], stack[1] = 2, 3
		if err := add.CallWithStack(ctx, stack); err != nil {
			tb.Fatal(err)
		}
	}
}

// rawEcho returns what CallJSON does for echo(doc80), by hand: alloc, write, call,
// read and copy the result, free.
func rawEcho(tb testing.TB) func() {
	mod := rawModule(tb, "json_state")
	alloc, echo, free := mod.ExportedFunction("alloc"), mod.ExportedFunction("echo"), mod.ExportedFunction("free")
	mem := mod.Memory()
	stack := make([]uint64, 2)
	return func() {
		stack[0] = uint64(len(doc80))
		if err := alloc.CallWithStack(ctx, stack); err != nil {
			tb.Fatal(err)
		}
		ptr := uint32(stack[0])
		mem.Write(ptr, doc80)
		stack[0], stack[1] = uint64(ptr), uint64(len(doc80))
		if err := echo.CallWithStack(ctx, stack); err != nil {
			tb.Fatal(err)
		}
		view, _ := mem.Read(uint32(stack[0]), uint32(stack[1]))
		out := bytes.Clone(view)
		stack[0], stack[1] = uint64(ptr), uint64(len(doc80))
		if err := free.CallWithStack(ctx, stack); err != nil {
			tb.Fatal(err)
		}
		if len(out) != len(doc80) {
			tb.Fatal("short echo")
		}
	}
}

var rawOps = map[string]func(testing.TB) func(){"add": rawAdd, "echo": rawEcho}

// benchRaw benchmarks a raw operation.
func benchRaw(name string) func(*testing.B) {
	return func(b *testing.B) {
		op := rawOps[name](b)
		b.ReportAllocs()
		for b.Loop() {
			op()
		}
	}
}

// rawNsPerOp times a raw operation right after the benchmark it is compared with,
// so both see the same machine load: the median of three runs of at least 100ms.
func rawNsPerOp(tb testing.TB, name string) float64 {
	op := rawOps[name](tb)
	var runs []float64
	for range 3 {
		for n := 1000; ; n *= 2 {
			start := time.Now()
			for range n {
				op()
			}
			if d := time.Since(start); d >= 100*time.Millisecond {
				runs = append(runs, float64(d.Nanoseconds())/float64(n))
				break
			}
		}
	}
	slices.Sort(runs)
	return runs[1]
}

// reportRatio reports ns/op as a multiple of the raw operation's.
func reportRatio(b *testing.B, raw string) {
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(ns/rawNsPerOp(b, raw), "x-wazero")
}

// BenchmarkAdd calls add(2, 3): raw wazero CallWithStack, a Func handle, CallJSON.
func BenchmarkAdd(b *testing.B) {
	b.Run("wazero", benchRaw("add"))
	rt := newRuntime(b, wasm.Limits{})
	id := load(b, rt, "add_v1", nil)
	b.Run("Func", func(b *testing.B) {
		add, err := rt.Func(id, "add")
		if err != nil {
			b.Fatal(err)
		}
		stack := []uint64{2, 3}
		b.ReportAllocs()
		for b.Loop() {
			stack[0], stack[1] = 2, 3
			if err := add.Call(ctx, stack); err != nil {
				b.Fatal(err)
			}
		}
		reportRatio(b, "add")
	})
	b.Run("CallJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := rt.CallJSON(ctx, id, "add", 2, 3); err != nil {
				b.Fatal(err)
			}
		}
		reportRatio(b, "add")
	})
}

// BenchmarkEcho round-trips an 80-byte JSON document through echo(ptr, len).
func BenchmarkEcho(b *testing.B) {
	b.Run("wazero", benchRaw("echo"))
	rt := newRuntime(b, wasm.Limits{})
	id := load(b, rt, "json_state", nil)
	b.Run("CallJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out, err := rt.CallJSON(ctx, id, "echo", doc80)
			if err != nil || len(out) != len(doc80) {
				b.Fatal(out, err)
			}
		}
		reportRatio(b, "echo")
	})
	b.Run("CallJSON-map", func(b *testing.B) { // json.Marshal of a Go value, for scale
		state := map[string]any{"id": 12345, "name": "enemy", "hp": 97.5}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := rt.CallJSON(ctx, id, "echo", state); err != nil {
				b.Fatal(err)
			}
		}
		reportRatio(b, "echo")
	})
}

// BenchmarkLimits shows what limits cost per call of add(2, 3) (relative to raw
// wazero): a memory cap, and a time limit on a module without fuel, which needs
// wazero's context-done checks.
func BenchmarkLimits(b *testing.B) {
	for _, tt := range []struct {
		name string
		lim  wasm.Limits
	}{
		{"memory", wasm.Limits{MaxMemoryBytes: 1 << 20}},
		{"time-without-fuel", wasm.Limits{MaxExecutionTime: time.Second}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			rt := newRuntime(b, tt.lim)
			id := load(b, rt, "add_v1", nil)
			add, err := rt.Func(id, "add")
			if err != nil {
				b.Fatal(err)
			}
			stack := []uint64{2, 3}
			b.ReportAllocs()
			for b.Loop() {
				stack[0], stack[1] = 2, 3
				if err := add.Call(ctx, stack); err != nil {
					b.Fatal(err)
				}
			}
			reportRatio(b, "add")
		})
	}
}

// BenchmarkFuel runs spin(10000) in the fuel-instrumented stand-in module, with no
// limit and with an instruction budget: the cost of refuel checks.
func BenchmarkFuel(b *testing.B) {
	for _, tt := range []struct {
		name string
		lim  wasm.Limits
	}{
		{"unlimited", wasm.Limits{}},
		{"budget", wasm.Limits{MaxInstructions: 1 << 40}},
		{"deadline", wasm.Limits{MaxExecutionTime: time.Hour}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			rt := newRuntime(b, tt.lim)
			id := load(b, rt, "metered", nil)
			spin, err := rt.Func(id, "spin")
			if err != nil {
				b.Fatal(err)
			}
			stack := []uint64{10000}
			for b.Loop() {
				stack[0] = 10000
				if err := spin.Call(ctx, stack); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReload reloads a script with bytes whose compiled code is cached (the
// case of every reload but the first of a new version): instantiate and swap.
func BenchmarkReload(b *testing.B) {
	rt := newRuntime(b, wasm.Limits{})
	id := load(b, rt, "json_state", nil)
	versions := [][]byte{guest.Bytes("json_state"), guest.Bytes("json_state_v2")}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		if err := rt.ReloadModule(ctx, id, versions[i%2]); err != nil {
			b.Fatal(err)
		}
	}
}
