package lua_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/benchpair"
	"github.com/hotscript/hotscript/lua"
	glua "github.com/yuin/gopher-lua"
)

// Benchmarks compare the runtime with raw gopher-lua on the same Lua code in the same
// run. Each group has plain sub-benchmarks (ns/op and allocations of one side) and
// paired ones, which run raw and ours alternately in blocks and report ours/raw as
// "x-raw": on a shared, noisy machine the load hits both sides of a pair alike, where
// separate sub-benchmarks drift by tens of percent between runs.

const benchSrc = `
local M = {}
function M.add(a, b) return a + b end
function M.sum(n) local s = 0 for i = 1, n do s = s + i end return s end
function M.concat(n) local s for i = 1, n do s = "item " .. i .. ": " .. (i * 2) end return #s end
function M.hostcalls(n) for i = 1, n do host.nop(i) end return n end
local function pass(...) return ... end
local function wrap(...) return pass(...) end
function M.varargs(n) local s = 0 for i = 1, n do local a, b = wrap(i, 2) s = s + a + b end return s end
local map = {} for i = 1, 20 do map["k" .. i] = i map[i] = i end
function M.pairs(n) local s = 0 for _ = 1, n do for _, v in pairs(map) do s = s + v end end return s end
function M.list(n) local t = {} for i = 1, n do t[#t + 1] = i end local s = 0 for i = 1, #t do s = s + t[i] end return s end
function M.stack(n) local t = {} for i = 1, 20 * n do t[i] = i end while #t > 0 do t[#t] = nil end return n end
function M.ids(n) local t = {} for i = 1, n do t[i * 7919] = i end local s = 0 for _, v in pairs(t) do s = s + v end return s end
local pool = {} for i = 1, 2000 do pool[i] = i end for i = 1001, 1999 do pool[i] = nil end
function M.pool(n) for f = 1, n do pool[2000] = nil pool[2000] = f end return #pool end
return M`

// rawState is a plain gopher-lua state with the benchmark module, as a program
// embedding gopher-lua directly would have it.
func rawState(b *testing.B) (*glua.LState, *glua.LTable) {
	L := glua.NewState()
	host := L.NewTable()
	host.RawSetString("nop", L.NewFunction(func(*glua.LState) int { return 0 }))
	L.SetGlobal("host", host)
	if err := L.DoString(benchSrc); err != nil {
		b.Fatal(err)
	}
	m := L.Get(-1).(*glua.LTable)
	L.Pop(1)
	return L, m
}

// rawCall returns a function calling the raw module's fn with args.
func rawCall(b *testing.B, fn string, args ...glua.LValue) func() {
	L, m := rawState(b)
	b.Cleanup(L.Close)
	f := m.RawGetString(fn)
	return func() {
		if err := L.CallByParam(glua.P{Fn: f, NRet: 1, Protect: true}, args...); err != nil {
			b.Fatal(err)
		}
		L.Pop(1)
	}
}

func benchRuntime(b *testing.B, limits lua.Limits) (*lua.Runtime, lua.ScriptID) {
	return benchRuntimeConfig(b, lua.Config{Limits: limits})
}

func benchRuntimeConfig(b *testing.B, cfg lua.Config) (*lua.Runtime, lua.ScriptID) {
	rt, err := lua.NewRuntimeWithConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rt.Close(context.Background()) })
	if err := rt.Define("host", "nop", func(context.Context, *lua.Call) ([]any, error) { return nil, nil }); err != nil {
		b.Fatal(err)
	}
	id, err := rt.LoadScript(context.Background(), "bench.lua", []byte(benchSrc))
	if err != nil {
		b.Fatal(err)
	}
	return rt, id
}

// loadedScript returns a runtime without limits, closed as b ends, and the
// script it loaded from src.
func loadedScript(b *testing.B, name string, src []byte) (*lua.Runtime, lua.ScriptID) {
	ctx := context.Background()
	rt, err := lua.NewRuntime(ctx, lua.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rt.Close(ctx) })
	id, err := rt.LoadScript(ctx, name, src)
	if err != nil {
		b.Fatal(err)
	}
	return rt, id
}

var limited = lua.Limits{MaxInstructions: 1e9, MaxExecutionTime: 10 * time.Second, MaxMemoryBytes: 1 << 30}

// BenchmarkCall calls add(a, b): raw CallByParam, CallJSON, Func.Call and Func on a
// Lease, without and with limits. Arguments are the constants 2 and 3 (raw then boxes nothing) or
// vary per call (raw then allocates two boxes, Func none).
func BenchmarkCall(b *testing.B) {
	ctx := context.Background()
	b.Run("raw-CallByParam", func(b *testing.B) {
		raw := rawCall(b, "add", glua.LNumber(2), glua.LNumber(3))
		b.ReportAllocs()
		for b.Loop() {
			raw()
		}
	})
	for _, lim := range []struct {
		name string
		cfg  lua.Config
	}{
		{"", lua.Config{}},
		{"-limits", lua.Config{Limits: limited}},
	} {
		rt, id := benchRuntimeConfig(b, lim.cfg)
		add, _ := rt.Func(id, "add")
		callJSON := func() {
			if _, err := rt.CallJSON(ctx, id, "add", 2, 3); err != nil {
				b.Fatal(err)
			}
		}
		callFunc := func() {
			if _, err := add.Call(ctx, 2, 3); err != nil {
				b.Fatal(err)
			}
		}
		b.Run("CallJSON"+lim.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				callJSON()
			}
		})
		b.Run("Func"+lim.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				callFunc()
			}
		})
		b.Run("paired-CallJSON"+lim.name, func(b *testing.B) {
			benchpair.Run(b, 256, rawCall(b, "add", glua.LNumber(2), glua.LNumber(3)), callJSON)
		})
		b.Run("paired-Func"+lim.name, func(b *testing.B) {
			benchpair.Run(b, 256, rawCall(b, "add", glua.LNumber(2), glua.LNumber(3)), callFunc)
		})
		b.Run("paired-Lease"+lim.name, func(b *testing.B) {
			benchpair.Run(b, 256, rawCall(b, "add", glua.LNumber(2), glua.LNumber(3)), leaseCall(b, rt, id, add))
		})
	}
	b.Run("Func-varying-args", func(b *testing.B) {
		rt, id := benchRuntime(b, limited)
		add, _ := rt.Func(id, "add")
		x := 0.5
		b.ReportAllocs()
		for b.Loop() {
			x += 1
			if _, err := add.Call(ctx, x, x); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("paired-Func-varying-args", func(b *testing.B) {
		L, m := rawState(b)
		defer L.Close()
		f := m.RawGetString("add")
		rt, id := benchRuntime(b, limited)
		add, _ := rt.Func(id, "add")
		x, y := 0.5, 0.5
		benchpair.Run(b, 256, func() {
			x += 1
			L.CallByParam(glua.P{Fn: f, NRet: 1, Protect: true}, glua.LNumber(x), glua.LNumber(x))
			L.Pop(1)
		}, func() {
			y += 1
			add.Call(ctx, y, y)
		})
	})
}

// leaseCall returns one call of add(2, 3) through f on a lease held until the
// benchmark ends: the hot loop a lease is for, its Acquire amortized away.
func leaseCall(b *testing.B, rt *lua.Runtime, id lua.ScriptID, f *lua.Func) func() {
	ctx := context.Background()
	l, err := rt.Acquire(ctx, id)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(l.Release)
	return func() {
		if _, err := l.Call(ctx, f, 2, 3); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSumLoop runs a 1e6-iteration loop in one call: raw gopher-lua without a
// context, ours with instruction, time and memory limits on.
func BenchmarkSumLoop(b *testing.B) {
	raw := func(b *testing.B) func() { return rawCall(b, "sum", glua.LNumber(1e6)) }
	ours := func(b *testing.B) func() {
		rt, id := benchRuntime(b, limited)
		sum, _ := rt.Func(id, "sum")
		return func() {
			if _, err := sum.Call(context.Background(), 1e6); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("raw", func(b *testing.B) {
		f := raw(b)
		b.ReportAllocs()
		for b.Loop() {
			f()
		}
	})
	b.Run("limits", func(b *testing.B) {
		f := ours(b)
		b.ReportAllocs()
		for b.Loop() {
			f()
		}
	})
	b.Run("paired", func(b *testing.B) { benchpair.Run(b, 1, raw(b), ours(b)) })
}

// BenchmarkHostCall calls a host function that does nothing 100 times from a
// Lua loop: raw, a gopher-lua Go function; ours, a HostFunc, whose arguments are
// converted to Go values, without and with limits (with a time limit, each host
// call ends with a check of the clock).
func BenchmarkHostCall(b *testing.B) {
	raw := func(b *testing.B) func() { return rawCall(b, "hostcalls", glua.LNumber(100)) }
	for _, lim := range []struct {
		name   string
		limits lua.Limits
	}{{"", lua.Limits{}}, {"-limits", limited}} {
		ours := func(b *testing.B) func() {
			rt, id := benchRuntime(b, lim.limits)
			f, _ := rt.Func(id, "hostcalls")
			return func() {
				if _, err := f.Call(context.Background(), 100); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.Run("paired"+lim.name, func(b *testing.B) { benchpair.Run(b, 16, raw(b), ours(b)) })
	}
}

// BenchmarkConcat measures the price of routing .. through the capped concat: 100
// iterations of s = "item " .. i .. ": " .. (i * 2).
func BenchmarkConcat(b *testing.B) { benchRewrite(b, "concat") }

// BenchmarkVarargs measures the price of routing ... through the charged
// varargs (with MaxInstructions only): 100 iterations of a call through two
// vararg wrappers, each passing its two values on (return pass(...), return ...).
func BenchmarkVarargs(b *testing.B) { benchRewrite(b, "varargs") }

// BenchmarkPairs measures the price of the charged next, pairs' step: 100
// loops of pairs over a table of 20 string and 20 integer keys.
func BenchmarkPairs(b *testing.B) { benchRewrite(b, "pairs") }

// BenchmarkTables runs table code, fn(100): a list of 100 filled by
// t[#t + 1] = v and summed, a stack of 2,000 emptied by t[#t] = nil, 100 ids
// 7,919 apart summed by pairs, and 100 despawns and respawns of the last id of
// a pool whose ids 1,001 to 1,999 are free (helper-264: an array part cut at
// each despawn and padded again at each respawn). Raw gopher-lua empties the
// stack in time that grows with the square of its size (# walks back over the
// nil slots popped before), and pads the ids' table with nils up to the
// largest (12 MB a call); internal/gopherlua's tables do neither.
func BenchmarkTables(b *testing.B) {
	for _, fn := range []string{"list", "stack", "ids", "pool"} {
		b.Run(fn, func(b *testing.B) { benchRewrite(b, fn) })
	}
}

// benchRewrite runs the benchmark module's fn(100), without limits and with
// them, paired with raw gopher-lua running the unrewritten chunk.
func benchRewrite(b *testing.B, fn string) {
	for _, lim := range []struct {
		name   string
		limits lua.Limits
	}{{"no-limits", lua.Limits{}}, {"limits", limited}} {
		b.Run("paired-"+lim.name, func(b *testing.B) {
			rt, id := benchRuntime(b, lim.limits)
			f, _ := rt.Func(id, fn)
			benchpair.Run(b, 16, rawCall(b, fn, glua.LNumber(100)), func() {
				if _, err := f.Call(context.Background(), 100); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// reloadSrc generates a script of 1,000 lines: 300 three-line functions, a module
// with 100 entities of nested state, and plain fields to fill up.
func reloadSrc(version int) []byte {
	var s strings.Builder
	s.WriteString("local M = { entities = {}, names = {}, frame = 0 }\n")
	s.WriteString("for i = 1, 100 do\n  M.entities[i] = { id = i, pos = { x = i, y = -i }, stats = { hp = 100, mp = 50 }, tags = { \"a\", \"b\" } }\n  M.names[\"e\" .. i] = M.entities[i]\nend\n")
	for i := range 300 {
		fmt.Fprintf(&s, "function M.f%d(e)\n  return e.stats.hp * %d + %d\nend\n", i, i, version)
	}
	for i := strings.Count(s.String(), "\n"); i < 999; i++ {
		fmt.Fprintf(&s, "M.c%d = %d\n", i, i)
	}
	s.WriteString("return M\n")
	return []byte(s.String())
}

// BenchmarkReload reloads a 1,000-line script with 100 entities of state. It reports
// the whole reload (ns/op) and the part during which callers are blocked
// (blocked-ns/op: Commit's state copy and swap); the rest is staging, which callers
// do not wait for.
func BenchmarkReload(b *testing.B) {
	rt, id := loadedScript(b, "big.lua", reloadSrc(0))
	srcs := [][]byte{reloadSrc(1), reloadSrc(2)}
	var blocked time.Duration
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		blocked += stageCommit(b, rt, id, srcs[i%2])
		i++
	}
	b.ReportMetric(float64(blocked.Nanoseconds())/float64(b.N), "blocked-ns/op")
}

// fsmSrc2000 is a script of 2,000 tables of code and an FSM of two states in
// a table, which starts in start.
func fsmSrc2000(start string) []byte {
	var s strings.Builder
	s.WriteString("local M = { fsm = { states = {} }, things = {} }\n")
	for i := range 2000 {
		fmt.Fprintf(&s, "M.things.t%d = { n = 0 }\nfunction M.things.t%d.f(t) return t.n + %d end\n", i, i, i)
	}
	s.WriteString(`M.fsm.states.idle = { update = function() return "idle" end }
M.fsm.states.walk = { update = function() return "walk" end }
M.fsm.current = M.fsm.states.` + start + `
function M.go(name) M.fsm.current = M.fsm.states[name] end
return M
`)
	return []byte(s.String())
}

// BenchmarkReloadFSMStart reloads a script of 2,000 tables of code whose FSM
// the edits start in the other state, each time: moved, with the script moved
// to that state first (the old start state is matched by a place that holds
// it still, not the one it was found at first, which Stage reads holding the
// script a moment and Commit checks), or stayed, in the old start state.
// blocked-ns/op should be about the same for both (helper-212: matching again
// in the commit held callers 3 to 4 times as long).
func BenchmarkReloadFSMStart(b *testing.B) {
	ctx := context.Background()
	for _, moved := range []bool{true, false} {
		b.Run(map[bool]string{true: "moved", false: "stayed"}[moved], func(b *testing.B) {
			states := []string{"idle", "walk"}
			rt, id := loadedScript(b, "fsm.lua", fsmSrc2000(states[0]))
			srcs := [][]byte{fsmSrc2000(states[1]), fsmSrc2000(states[0])}
			var blocked time.Duration
			i := 0
			for b.Loop() {
				to := states[i%2] // the old start state: stayed
				if moved {
					to = states[(i+1)%2]
				}
				if _, err := rt.CallJSON(ctx, id, "go", to); err != nil {
					b.Fatal(err)
				}
				blocked += stageCommit(b, rt, id, srcs[i%2])
				i++
			}
			b.ReportMetric(float64(blocked.Nanoseconds())/float64(b.N), "blocked-ns/op")
		})
	}
}

// stageCommit reloads script id with src, staged then committed, and returns
// how long the commit held its callers.
func stageCommit(b *testing.B, rt *lua.Runtime, id lua.ScriptID, src []byte) time.Duration {
	ctx := context.Background()
	st, err := rt.Stage(ctx, id, src)
	if err != nil {
		b.Fatal(err)
	}
	rep, err := st.Commit(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return rep.Blocked
}

// BenchmarkReloadEntities reloads a script whose state is n entities of
// four tables (an entity, its position, stats and tags) made as it ran: what
// callers wait for grows with the tables carried (the README's figure per
// entity is blocked-ns/entity).
func BenchmarkReloadEntities(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			src := []byte(`local M = { entities = {} }
function M.init(n) for i = 1, n do M.entities[i] = { id = i, pos = { x = i, y = -i }, stats = { hp = 100, mp = 50 }, tags = { "a", "b" } } end end
return M`)
			ctx := context.Background()
			rt, id := loadedScript(b, "ents.lua", src)
			if _, err := rt.CallJSON(ctx, id, "init", n); err != nil {
				b.Fatal(err)
			}
			var blocked time.Duration
			for b.Loop() {
				blocked += stageCommit(b, rt, id, src)
			}
			b.ReportMetric(float64(blocked.Nanoseconds())/float64(b.N), "blocked-ns/op")
			b.ReportMetric(float64(blocked.Nanoseconds())/float64(b.N)/float64(n), "blocked-ns/entity")
		})
	}
}

// BenchmarkReloadLinked reloads a script of n entities in a registry, each
// linked to the next, whose first the script replaced (respawned) as it ran:
// the carry leaves every new chunk's entity alone (each is at a place below
// the replaced one), in one walk (helper-178: a walk per entity, seconds of
// callers held at 2,000). blocked-ns/op should grow about as n does.
func BenchmarkReloadLinked(b *testing.B) {
	for _, n := range []int{500, 2000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			src := []byte(fmt.Sprintf(`local M = { ents = {} }
local prev
for i = 1, %d do local e = { id = i, hp = 10 } M.ents["e" .. i] = e if prev then prev.next = e end prev = e end
function M.respawn() M.ents.e1 = { id = 1, hp = 10, next = M.ents.e2 } end
return M`, n))
			ctx := context.Background()
			rt, id := loadedScript(b, "ents.lua", src)
			var blocked time.Duration
			for b.Loop() {
				if _, err := rt.CallJSON(ctx, id, "respawn"); err != nil {
					b.Fatal(err)
				}
				blocked += stageCommit(b, rt, id, src)
			}
			b.ReportMetric(float64(blocked.Nanoseconds())/float64(b.N), "blocked-ns/op")
		})
	}
}

// BenchmarkReloadRingMadeData reloads a ring of 2,000 entities (each at a
// field of M.ents and at the previous one's next) into a ring one longer,
// the same edit making a table of handlers data (its last function removed):
// the walk that decides whether that table is where both chunks left it pairs
// the rings' places, bounded (helper-190: every place of one ring with every
// place of the other, 3.2 s of callers held). blocked-ns/op is the v1 -> v2
// reload's; each op reloads v1 again first.
func BenchmarkReloadRingMadeData(b *testing.B) {
	ring := func(n int, handler string) []byte {
		return []byte(fmt.Sprintf(`local M = { ents = {}, handlers = { dmg = 5 %s } }
local first, prev
for i = 1, %d do
  local e = { id = i }
  M.ents["e" .. i] = e
  if prev then prev.next = e else first = e end
  prev = e
end
prev.next = first
return M`, handler, n))
	}
	v1, v2 := ring(2000, `, on_hit = function() end`), ring(2001, "")
	rt, id := loadedScript(b, "ring.lua", v1)
	var blocked time.Duration
	for b.Loop() {
		blocked += stageCommit(b, rt, id, v2)
		b.StopTimer()
		stageCommit(b, rt, id, v1)
		b.StartTimer()
	}
	b.ReportMetric(float64(blocked.Nanoseconds())/float64(b.N), "blocked-ns/op")
}

// BenchmarkLoadDataTable loads a script whose module holds a table of 10,000
// distinct numbers, as gopher-lua compiles it (raw, in time quadratic in the
// constants) and as Load does, which builds large tables of literals in pieces.
func BenchmarkLoadDataTable(b *testing.B) {
	var src strings.Builder
	src.WriteString("return {data = {")
	for i := range 10000 {
		fmt.Fprintf(&src, "%d.25, ", i)
	}
	src.WriteString("}}\n")
	b.Run("raw", func(b *testing.B) {
		for b.Loop() {
			L := glua.NewState()
			if err := L.DoString(src.String()); err != nil {
				b.Fatal(err)
			}
			L.Close()
		}
	})
	b.Run("Load", func(b *testing.B) {
		ctx := context.Background()
		rt, err := lua.NewRuntime(ctx, lua.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		defer rt.Close(ctx)
		for b.Loop() {
			id, err := rt.LoadScript(ctx, "data.lua", []byte(src.String()))
			if err != nil {
				b.Fatal(err)
			}
			rt.Unload(ctx, id)
		}
	})
}

// BenchmarkTimeoutOverrun reports how far past a 10 ms MaxExecutionTime an infinite
// loop runs before it stops (overrun-ms), the figure behind the "within 10 ms" goal.
// Run it with -benchtime=20x.
func BenchmarkTimeoutOverrun(b *testing.B) {
	const limit = 10 * time.Millisecond
	rt, err := lua.NewRuntime(context.Background(), lua.Limits{MaxExecutionTime: limit})
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close(context.Background())
	id, _ := rt.LoadScript(context.Background(), "spin.lua", []byte(`return { spin = function() local x = 0 while true do x = x + 1 end end,
	  find = function() return string.find(("a"):rep(40), ("a*"):rep(40) .. "b") end }`))
	for _, fn := range []string{"spin", "find"} {
		b.Run(fn, func(b *testing.B) {
			var worst, total time.Duration
			for b.Loop() {
				start := time.Now()
				rt.CallJSON(context.Background(), id, fn)
				over := time.Since(start) - limit
				total += over
				worst = max(worst, over)
			}
			b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "overrun-ms")
			b.ReportMetric(float64(worst.Microseconds())/1000, "worst-overrun-ms")
		})
	}
}
