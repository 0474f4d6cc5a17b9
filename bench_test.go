package hotscript

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/benchpair"
	"github.com/hotscript/hotscript/internal/guest"
	"github.com/hotscript/hotscript/internal/synth"
	"github.com/hotscript/hotscript/lua"
	"github.com/hotscript/hotscript/wasm"
	"github.com/tetratelabs/wazero"
)

// waits records how long each call of a benchmark waited.
type waits []time.Duration

func (w waits) report(b *testing.B, reloads int) {
	if len(w) == 0 || reloads == 0 {
		return
	}
	s := slices.Clone(w)
	slices.Sort(s)
	µs := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	b.ReportMetric(µs(s[len(s)/2]), "p50-µs")
	b.ReportMetric(µs(s[len(s)*99/100]), "p99-µs")
	b.ReportMetric(µs(s[len(s)-1]), "max-µs")
	over := 0
	for _, d := range s {
		if d > 100*time.Microsecond {
			over++
		}
	}
	b.ReportMetric(float64(over)/float64(reloads), "calls>100µs/reload")
	b.ReportMetric(float64(len(s))/float64(reloads), "calls/reload")
}

// stallVersions are distinct ~800 KB modules: each reload is a real compile.
func stallVersions(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = synth.Module(synth.Config{Version: int32(i + 1)})
	}
	return out
}

// call makes one call, records how long it took, and waits for the next period.
func (w *waits) call(b *testing.B, wait func(start time.Time), call func() error) {
	start := time.Now()
	if err := call(); err != nil {
		b.Fatal(err)
	}
	*w = append(*w, time.Since(start))
	wait(start)
}

// callUntil calls, one period apart, until done is closed, then once more: the
// first call after a reload is committed.
func (w *waits) callUntil(b *testing.B, done <-chan struct{}, wait func(start time.Time), call func() error) {
	for {
		select {
		case <-done:
			w.call(b, wait, call)
			return
		default:
			w.call(b, wait, call)
		}
	}
}

const framePeriod = 100 * time.Microsecond

// pacings space the calls of the stall benchmark 100 µs apart. "sleep" is how a
// game loop waits (time.Sleep oversleeps on a loaded machine: calls/reload shows
// the real pacing); "yield" spins with runtime.Gosched, which keeps the cadence but
// takes a CPU from the background compile.
var pacings = []struct {
	name string
	wait func(start time.Time)
}{
	{"sleep", func(start time.Time) { time.Sleep(time.Until(start.Add(framePeriod))) }},
	{"yield", func(start time.Time) {
		for deadline := start.Add(framePeriod); time.Now().Before(deadline); {
			runtime.Gosched()
		}
	}},
}

// BenchmarkReloadStall measures what a goroutine calling a small export every 100 µs
// sees while an ~800 KB module (a ~25 ms compile) is reloaded. One op is one reload.
//
//	host: h.ReloadAsync stages on a background goroutine; the caller keeps calling
//	      until the reload is committed. swap-µs is the mean time callers were
//	      blocked by the swap (Event.SwapTime), max-swap-µs the longest.
//	control: no host and no reload; a background goroutine compiles the same
//	      modules with wazero while the caller calls an untouched script. What
//	      shows up here (scheduling delays on a loaded machine, GC) is not a stall
//	      the host causes.
//	raw-on-caller: the caller itself runs wasm.Runtime.ReloadModule between two
//	      calls, then makes as many calls per reload as the host case just did (or
//	      250 when run alone), so the percentiles compare like with like.
func BenchmarkReloadStall(b *testing.B) {
	ctx := context.Background()
	versions := stallVersions(40) // more than the wasm cache keeps: no cache hits
	for _, pacing := range pacings {
		callsPerReload := 250
		b.Run("host/"+pacing.name, func(b *testing.B) {
			h := newTestHost(b, Config{EventBuffer: 1})
			s := mustLoad(b, h, "big.wasm", synth.Module(synth.Config{}), nil)
			call := func() error { _, err := h.Call(ctx, s, "add", 1, 2); return err }
			var w waits
			var swap, maxSwap time.Duration
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				p := h.ReloadAsync(ctx, s, versions[n%len(versions)])
				n++
				w.callUntil(b, p.Done(), pacing.wait, call)
				if err := p.Err(); err != nil {
					b.Fatal(err)
				}
				swap += p.Event().SwapTime
				maxSwap = max(maxSwap, p.Event().SwapTime)
			}
			w.report(b, n)
			b.ReportMetric(float64(swap)/float64(time.Microsecond)/float64(n), "swap-µs")
			b.ReportMetric(float64(maxSwap)/float64(time.Microsecond), "max-swap-µs")
			callsPerReload = max(1, len(w)/n)
		})
		b.Run("control/"+pacing.name, func(b *testing.B) {
			// The same background compiles with no host and no reload: calls to
			// an untouched script, to tell the machine's own hiccups (scheduling
			// under load, GC) from stalls the host causes.
			rt, id := bigScript(b)
			call := func() error { _, err := rt.CallJSON(ctx, id, "add", 1, 2); return err }
			other := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig())
			defer other.Close(ctx)
			var w waits
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				compiled, errc := make(chan struct{}), make(chan error, 1)
				go func(bin []byte) {
					defer close(compiled)
					cm, err := other.CompileModule(ctx, bin)
					if err == nil {
						err = cm.Close(ctx)
					}
					errc <- err
				}(versions[n%len(versions)])
				n++
				w.callUntil(b, compiled, pacing.wait, call)
				if err := <-errc; err != nil {
					b.Fatal(err)
				}
			}
			w.report(b, n)
		})
		b.Run("raw-on-caller/"+pacing.name, func(b *testing.B) {
			rt, id := bigScript(b)
			call := func() error { _, err := rt.CallJSON(ctx, id, "add", 1, 2); return err }
			var next []byte
			reloadAndCall := func() error {
				if err := rt.ReloadModule(ctx, id, next); err != nil {
					return err
				}
				return call()
			}
			var w waits
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				next = versions[n%len(versions)]
				n++
				w.call(b, pacing.wait, reloadAndCall)
				for range callsPerReload - 1 {
					w.call(b, pacing.wait, call)
				}
			}
			w.report(b, n)
		})
	}
}

// bigScript returns a wasm runtime (closed with b) with a default synth module loaded.
func bigScript(b *testing.B) (*wasm.Runtime, wasm.ScriptID) {
	ctx := context.Background()
	rt, err := wasm.NewRuntime(ctx, wasm.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rt.Close(ctx) })
	id, err := rt.Load(ctx, "big.wasm", synth.Module(synth.Config{}), nil)
	if err != nil {
		b.Fatal(err)
	}
	return rt, id
}

// BenchmarkReloadCached reloads bytes the wasm runtime has compiled before
// (alternating two versions, both compiled before the timing starts), through
// the host and through the raw runtime.
func BenchmarkReloadCached(b *testing.B) {
	ctx := context.Background()
	versions := [][]byte{guest.Bytes("counter_v1"), guest.Bytes("counter_v2")}
	b.Run("host", func(b *testing.B) {
		h := newTestHost(b, Config{EventBuffer: 1})
		s := mustLoad(b, h, "counter.wasm", versions[0], nil)
		if err := h.Reload(ctx, s, versions[1]); err != nil { // compile v2 before timing
			b.Fatal(err)
		}
		i := 1
		b.ReportAllocs()
		for b.Loop() {
			i++
			if err := h.Reload(ctx, s, versions[i%2]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("wasm-ReloadModule", func(b *testing.B) {
		rt, err := wasm.NewRuntime(ctx, wasm.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		defer rt.Close(ctx)
		id, err := rt.Load(ctx, "counter.wasm", versions[0], nil)
		if err == nil {
			err = rt.ReloadModule(ctx, id, versions[1]) // compile v2 before timing
		}
		if err != nil {
			b.Fatal(err)
		}
		i := 1
		b.ReportAllocs()
		for b.Loop() {
			i++
			if err := rt.ReloadModule(ctx, id, versions[i%2]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRevert measures Revert of a small module whose previous version's code
// is cached. One op is a Reload to v2 (not counted in revert-µs) and a Revert to v1.
func BenchmarkRevert(b *testing.B) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		policy MigrationFunc
		v1, v2 []byte
	}{
		{"reset", MigrateReset, guest.Bytes("counter_v1"), guest.Bytes("counter_v2")},
		{"exports", MigrateExports, guest.Bytes("json_state"), guest.Bytes("json_state_v2")},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h := newTestHost(b, Config{EventBuffer: 1, Migration: tc.policy})
			s := mustLoad(b, h, "s.wasm", tc.v1, nil)
			var revert time.Duration
			b.ReportAllocs()
			for b.Loop() {
				if err := h.Reload(ctx, s, tc.v2); err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				if err := h.Revert(ctx, s); err != nil {
					b.Fatal(err)
				}
				revert += time.Since(start)
			}
			b.ReportMetric(float64(revert.Microseconds())/float64(b.N), "revert-µs")
		})
	}
}

// BenchmarkCall compares Host.Call with the engine's own CallJSON on add(2, 3), for
// a WASM and a Lua script, in one run and on the very same script: the engine calls
// go straight to the runtime with the host script's ID, so that the difference is
// exactly what the host adds. One op is a block of 256 engine calls and a block of
// 256 host calls, in alternating order. x-engine is the median over the ops of host
// time / engine time: a median, so that a neighbour's burst on a shared machine,
// which lands in one block of a pair, does not skew it. The ns/call metrics are
// totals.
func BenchmarkCall(b *testing.B) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		file string
		code []byte
	}{
		{"wasm", "add.wasm", guest.Bytes("add_v1")},
		{"lua", "add.lua", []byte("return { add = function(a, b) return a + b end }")},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h := newTestHost(b, Config{})
			s := mustLoad(b, h, tc.file, tc.code, nil)
			var engineCall func() error
			switch u := s.u.(type) {
			case *wasmUnit:
				engineCall = func() error { _, err := u.rt.CallJSON(ctx, u.id, "add", 2, 3); return err }
			case *luaUnit:
				engineCall = func() error { _, err := u.rt.CallJSON(ctx, u.id, "add", 2, 3); return err }
			}
			hostCall := func() error { _, err := h.Call(ctx, s, "add", 2, 3); return err }
			const block = 256
			timeBlock := func(call func() error) time.Duration {
				start := time.Now()
				for range block {
					if err := call(); err != nil {
						b.Fatal(err)
					}
				}
				return time.Since(start)
			}
			var engine, host time.Duration
			var ratios []float64
			b.ReportAllocs()
			for b.Loop() {
				var e, hd time.Duration
				if len(ratios)%2 == 0 {
					e, hd = timeBlock(engineCall), timeBlock(hostCall)
				} else {
					hd, e = timeBlock(hostCall), timeBlock(engineCall)
				}
				engine, host = engine+e, host+hd
				ratios = append(ratios, float64(hd)/float64(e))
			}
			slices.Sort(ratios)
			calls := float64(len(ratios) * block)
			b.ReportMetric(float64(engine)/calls, "engine-ns/call")
			b.ReportMetric(float64(host)/calls, "host-ns/call")
			b.ReportMetric(ratios[len(ratios)/2], "x-engine")
		})
	}
}

// BenchmarkApplyIdle is the per-frame cost of Apply when nothing is staged.
func BenchmarkApplyIdle(b *testing.B) {
	ctx := context.Background()
	h := newTestHost(b, Config{Swap: SwapAtApply})
	for i := range 10 {
		if _, err := h.LoadBytes(ctx, string(rune('a'+i))+".wasm", guest.Bytes("counter_v1"), nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		h.Apply(ctx)
	}
}

// BenchmarkApplyOne is the cost of an Apply that commits one staged reload,
// with 10 and with 1,000 scripts loaded: it grows with the reloads waiting,
// not with the scripts.
func BenchmarkApplyOne(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("scripts=%d", n), func(b *testing.B) {
			h := newTestHost(b, Config{Swap: SwapAtApply})
			var first *Script
			for i := range n {
				s, err := h.LoadBytes(ctx, fmt.Sprintf("s%04d.lua", i), []byte("return { n = 1 }"), nil)
				if err != nil {
					b.Fatal(err)
				}
				if i == n/2 {
					first = s
				}
			}
			srcs := [][]byte{[]byte("return { n = 2 }"), []byte("return { n = 3 }")}
			i := 0
			for b.Loop() {
				b.StopTimer()
				p := h.ReloadAsync(ctx, first, srcs[i%2])
				for staged := false; !staged; {
					first.mu.Lock()
					staged = first.ready != nil
					first.mu.Unlock()
					runtime.Gosched()
				}
				b.StartTimer()
				if h.Apply(ctx) != 1 {
					b.Fatal("Apply did not commit the staged reload")
				}
				b.StopTimer()
				if err := p.Err(); err != nil {
					b.Fatal(err)
				}
				i++
				b.StartTimer()
			}
		})
	}
}

// BenchmarkHostFunc compares a HostFunc, defined once for both engines, with the
// same no-op host function defined on the engine itself (reported as raw), each
// called 100 times from a loop in a script: host.wait(0) from a WASM guest
// (repeat), and from a Lua one.
func BenchmarkHostFunc(b *testing.B) {
	ctx := context.Background()
	const luaLoop = `return { repeat_ = function(n) for i = 1, n do host.wait(0) end end }`
	for _, tc := range []struct {
		name   string
		file   string
		code   []byte
		fn     string
		native func(*testing.B) Config
	}{
		{"wasm", "calls.wasm", guest.Bytes("host_calls"), "repeat", func(b *testing.B) Config {
			rt, err := wasm.NewRuntime(ctx, wasm.Limits{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { rt.Close(ctx) })
			err = rt.Define("host", "wait", wasm.HostFunc{
				Params: []wasm.ValueType{wasm.I32},
				Func:   func(context.Context, *wasm.Caller, []uint64) error { return nil },
			})
			if err != nil {
				b.Fatal(err)
			}
			return Config{WASM: rt}
		}},
		{"lua", "calls.lua", []byte(luaLoop), "repeat_", func(b *testing.B) Config {
			rt, err := lua.NewRuntime(ctx, lua.Limits{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { rt.Close(ctx) })
			err = rt.Define("host", "wait", func(context.Context, *lua.Call) ([]any, error) { return nil, nil })
			if err != nil {
				b.Fatal(err)
			}
			return Config{Lua: rt}
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			loop := func(cfg Config) func() {
				h := newTestHost(b, cfg)
				s := mustLoad(b, h, tc.file, tc.code, nil)
				var call func() error
				if rt, id, ok := s.WASM(); ok {
					f, err := rt.Func(id, tc.fn)
					if err != nil {
						b.Fatal(err)
					}
					stack := make([]uint64, 2)
					call = func() error { stack[0], stack[1] = hostCalls, 0; return f.Call(ctx, stack) }
				} else {
					rt, id, _ := s.Lua()
					f, err := rt.Func(id, tc.fn)
					if err != nil {
						b.Fatal(err)
					}
					call = func() error { _, err := f.Call(ctx, hostCalls); return err }
				}
				return func() {
					if err := call(); err != nil {
						b.Fatal(err)
					}
				}
			}
			wait := HostFunc{Module: "host", Name: "wait", Params: []Type{I32},
				Func: func(context.Context, HostCall) error { return nil }}
			benchpair.Run(b, 16, loop(tc.native(b)), loop(Config{Funcs: []HostFunc{wait}}))
		})
	}
}

// hostCalls is how many host calls one call of a loop makes in BenchmarkHostFunc.
const hostCalls = 100
