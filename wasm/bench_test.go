package wasm_test

// Benchmarks compare each call path with the same guest work done on raw wazero,
// in the same run. The paired ones run raw and ours alternately, in blocks, in one
// benchmark and report ours/raw as "x-raw": on a shared, noisy machine the load
// hits both sides of a pair alike, where separate benchmarks drift by tens of
// percent between runs. Run them with -count and look at the spread of x-raw.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/benchpair"
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

// rawModule instantiates a guest on a plain wazero runtime, without limits.
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
		if err := add.CallWithStack(ctx, stack); err != nil || stack[0] != 5 {
			tb.Fatal(stack, err)
		}
	}
}

// rawEcho returns what CallJSON does for echo(doc80), by hand: alloc, write, call,
// read and copy the result, free.
func rawEcho(tb testing.TB) func() { return rawDocCall(tb, "echo") }

// rawDocCall is rawEcho for any function of json_state taking and returning an
// 80-byte document.
func rawDocCall(tb testing.TB, fn string) func() {
	mod := rawModule(tb, "json_state")
	alloc, echo, free := mod.ExportedFunction("alloc"), mod.ExportedFunction(fn), mod.ExportedFunction("free")
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

// funcCall returns one call of fn through a Func handle, with args.
func funcCall(tb testing.TB, rt *wasm.Runtime, id wasm.ScriptID, fn string, args ...uint64) func() {
	f, err := rt.Func(id, fn)
	if err != nil {
		tb.Fatal(err)
	}
	stack := make([]uint64, max(len(args), 1))
	return func() {
		copy(stack, args)
		if err := f.Call(ctx, stack); err != nil {
			tb.Fatal(err)
		}
	}
}

// jsonCall returns one CallJSON of fn with args, checking the result's length.
func jsonCall(tb testing.TB, rt *wasm.Runtime, id wasm.ScriptID, fn string, want int, args ...any) func() {
	return func() {
		out, err := rt.CallJSON(ctx, id, fn, args...)
		if err != nil || len(out) != want {
			tb.Fatal(string(out), err)
		}
	}
}

// limited is an instruction budget and a time limit neither call comes close to.
var limited = wasm.Limits{MaxInstructions: 1 << 40, MaxExecutionTime: time.Minute}

// BenchmarkAdd calls add(2, 3) through a Func handle, CallJSON and a Func on a
// Lease, without limits and metered, against raw wazero's CallWithStack.
func BenchmarkAdd(b *testing.B) {
	b.Run("wazero", func(b *testing.B) {
		raw := rawAdd(b)
		b.ReportAllocs()
		for b.Loop() {
			raw()
		}
	})
	for _, lim := range []struct {
		name   string
		limits wasm.Limits
	}{{"", wasm.Limits{}}, {"-limits", limited}} {
		rt := newRuntime(b, lim.limits)
		id := load(b, rt, "add_v1", nil)
		b.Run("Func"+lim.name, func(b *testing.B) {
			benchpair.Run(b, 256, rawAdd(b), funcCall(b, rt, id, "add", 2, 3))
		})
		b.Run("CallJSON"+lim.name, func(b *testing.B) {
			benchpair.Run(b, 256, rawAdd(b), jsonCall(b, rt, id, "add", 1, 2, 3))
		})
		b.Run("Lease"+lim.name, func(b *testing.B) {
			benchpair.Run(b, 256, rawAdd(b), leaseCall(b, rt, id, "add", 2, 3))
		})
	}
}

// leaseCall returns one call of fn through a Func handle on a lease held until
// the benchmark ends: the hot loop a lease is for, its Acquire amortized away.
func leaseCall(tb testing.TB, rt *wasm.Runtime, id wasm.ScriptID, fn string, args ...uint64) func() {
	f, err := rt.Func(id, fn)
	if err != nil {
		tb.Fatal(err)
	}
	l, err := rt.Acquire(ctx, id)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(l.Release)
	stack := make([]uint64, max(len(args), 1))
	return func() {
		copy(stack, args)
		if err := l.Call(ctx, f, stack); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkEcho round-trips an 80-byte JSON document through echo(ptr, len),
// against the same alloc, write, call, read and free by hand on raw wazero.
func BenchmarkEcho(b *testing.B) {
	b.Run("wazero", func(b *testing.B) {
		raw := rawEcho(b)
		b.ReportAllocs()
		for b.Loop() {
			raw()
		}
	})
	rt := newRuntime(b, wasm.Limits{})
	id := load(b, rt, "json_state", nil)
	b.Run("CallJSON", func(b *testing.B) {
		benchpair.Run(b, 64, rawEcho(b), jsonCall(b, rt, id, "echo", len(doc80), doc80))
	})
	b.Run("CallJSON-reply", func(b *testing.B) {
		// A result other than the argument, the same each call (an update's
		// output): both are compared with the last ones, not validated.
		benchpair.Run(b, 64, rawDocCall(b, "reply"), jsonCall(b, rt, id, "reply", len(doc80), doc80))
	})
	b.Run("CallJSON-changing", func(b *testing.B) {
		// A different document on every call, as a game's state changes every
		// frame: the argument is validated, the echoed result only compared.
		docs := make([]json.RawMessage, 16)
		for i := range docs {
			docs[i] = bytes.Replace(doc80, []byte("12345"), fmt.Appendf(nil, "%d", 10000+i), 1)
		}
		i := 0
		benchpair.Run(b, 64, rawEcho(b), func() {
			i++
			out, err := rt.CallJSON(ctx, id, "echo", docs[i%len(docs)])
			if err != nil || len(out) != len(doc80) {
				b.Fatal(string(out), err)
			}
		})
	})
	b.Run("CallJSON-map", func(b *testing.B) { // json.Marshal of a Go value, for scale
		state := map[string]any{"id": 12345, "name": "enemy", "hp": 97.5}
		want, _ := json.Marshal(state)
		benchpair.Run(b, 64, rawEcho(b), jsonCall(b, rt, id, "echo", len(want), state))
	})
}

// hostCalls is how many host calls one call of repeat makes in BenchmarkHostCall.
const hostCalls = 100

// BenchmarkHostCall calls repeat(100, 0), a loop of 100 calls of a host function
// that does nothing, without limits and metered, against the same loop on raw
// wazero: what the runtime adds to a host call.
func BenchmarkHostCall(b *testing.B) {
	r := wazero.NewRuntime(ctx)
	b.Cleanup(func() { r.Close(ctx) })
	noop := api.GoModuleFunc(func(context.Context, api.Module, []uint64) {})
	_, err := r.NewHostModuleBuilder("host").NewFunctionBuilder().
		WithGoModuleFunction(noop, []api.ValueType{api.ValueTypeI32}, nil).Export("wait").Instantiate(ctx)
	if err != nil {
		b.Fatal(err)
	}
	mod, err := r.Instantiate(ctx, guest.Bytes("host_calls"))
	if err != nil {
		b.Fatal(err)
	}
	repeat := mod.ExportedFunction("repeat")
	stack := make([]uint64, 2)
	raw := func() {
		stack[0], stack[1] = hostCalls, 0
		if err := repeat.CallWithStack(ctx, stack); err != nil {
			b.Fatal(err)
		}
	}
	for _, lim := range []struct {
		name   string
		limits wasm.Limits
	}{{"plain", wasm.Limits{}}, {"metered", limited}} {
		b.Run(lim.name, func(b *testing.B) {
			rt := newRuntime(b, lim.limits)
			if err := rt.Define("host", "wait", wasm.HostFunc{
				Params: []wasm.ValueType{wasm.I32},
				Func:   func(context.Context, *wasm.Caller, []uint64) error { return nil },
			}); err != nil {
				b.Fatal(err)
			}
			id := load(b, rt, "host_calls", nil)
			benchpair.Run(b, 16, raw, funcCall(b, rt, id, "repeat", hostCalls, 0))
		})
	}
}

// sumN is the length of the CPU-bound loop: the sum of 1e6 integers.
const sumN = 1_000_000

// BenchmarkSumLoop runs the sum of 1e6 integers metered, with an instruction
// budget and a time limit, against the same loop on raw wazero without limits.
func BenchmarkSumLoop(b *testing.B) {
	sum := rawModule(b, "spin").ExportedFunction("sum")
	raw := func() {
		res, err := sum.Call(ctx, sumN)
		if err != nil || res[0] != sumN*(sumN-1)/2 {
			b.Fatal(res, err)
		}
	}
	rt := newRuntime(b, limited)
	id := load(b, rt, "spin", nil)
	ours := funcCall(b, rt, id, "sum", sumN)
	benchpair.Run(b, 1, raw, ours)
	u := usage(b, rt, id)
	b.ReportMetric(float64(u.LastFuel), "fuel/call")
}

// BenchmarkLimits shows what each limit costs per call of add(2, 3), against raw
// wazero without limits.
func BenchmarkLimits(b *testing.B) {
	for _, tt := range []struct {
		name string
		lim  wasm.Limits
	}{
		{"memory", wasm.Limits{MaxMemoryBytes: 1 << 20}},
		{"instructions", wasm.Limits{MaxInstructions: 1 << 40}},
		{"time", wasm.Limits{MaxExecutionTime: time.Minute}},
		{"all", wasm.Limits{MaxMemoryBytes: 1 << 20, MaxInstructions: 1 << 40, MaxExecutionTime: time.Minute}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			rt := newRuntime(b, tt.lim)
			id := load(b, rt, "add_v1", nil)
			benchpair.Run(b, 256, rawAdd(b), funcCall(b, rt, id, "add", 2, 3))
		})
	}
}

// BenchmarkTimeoutOverrun runs an infinite loop under a 5 ms time limit and
// reports how long after the limit the call returned, from the caller's view:
// the mean and the worst of the run.
func BenchmarkTimeoutOverrun(b *testing.B) {
	const limit = 5 * time.Millisecond
	rt := newRuntime(b, wasm.Limits{MaxExecutionTime: limit})
	id := load(b, rt, "spin", nil)
	f, err := rt.Func(id, "forever")
	if err != nil {
		b.Fatal(err)
	}
	var overruns []time.Duration
	for b.Loop() {
		start := time.Now()
		if err := f.Call(ctx, nil); err == nil {
			b.Fatal("forever returned")
		}
		overruns = append(overruns, time.Since(start)-limit)
	}
	var sum time.Duration
	for _, o := range overruns {
		sum += o
	}
	b.ReportMetric(float64(sum.Microseconds())/float64(len(overruns)), "mean-overrun-µs")
	b.ReportMetric(float64(slices.Max(overruns).Microseconds()), "max-overrun-µs")
}

// BenchmarkReload reloads a script with bytes whose compiled code is cached (the
// case of every reload but the first of a new version): instantiate and swap.
func BenchmarkReload(b *testing.B) {
	for _, lim := range []struct {
		name   string
		limits wasm.Limits
	}{{"plain", wasm.Limits{}}, {"metered", limited}} {
		b.Run(lim.name, func(b *testing.B) {
			rt := newRuntime(b, lim.limits)
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
		})
	}
}
