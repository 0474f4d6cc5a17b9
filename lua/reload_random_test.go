package lua_test

// A randomized, seeded invariant test of Lua reloads.
//
//	go test -run TestRandomReload -count=1 ./lua -seeds=2000
//	go test -run TestRandomReload -count=1 ./lua -seeds=50 -race
//	go test -run TestRandomReload -count=1 ./lua -seed=123 -v   (one seed, prints its script)
//
// Each seed makes a script: module data, classes in several styles and
// holders, objects in lists and maps, functions in data, and a list of
// operations (module functions op_N) that mutate all of that. A Lua dump
// function in the script walks everything reachable from the module (and the
// global classes): tables get ids in the order first visited, each table's
// entries in pairs order, its metatable's id, and what the known methods
// return. The invariants:
//
//  1. reloading the unchanged source (twice, with runtime.GC between) leaves
//     the dump as it was, and the reloaded script then behaves as a twin
//     that was never reloaded;
//  2. reloading a source whose method bodies say v2 instead of v1 leaves the
//     dump as it was but for v1 -> v2;
//  3. a failed reload (syntax error, chunk error, on_restore error, a
//     CommitCheck that runs ops on the new version and refuses) leaves the
//     dump as it was.
//
// -rskip=KIND,... leaves out shapes of the generator, to shrink a failure:
// delfield (ops that remove a field the chunk set in the module), emptysub
// (Programming in Lua subclasses made by Base:new() with no method of their
// own), datacls (local and global classes with a data field of their own).

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"runtime"
	"strings"
	"testing"

	"github.com/hotscript/hotscript/lua"
)

var (
	flagSeeds = flag.Int("seeds", 200, "TestRandomReload: number of seeds")
	flagSeed  = flag.Int("seed", -1, "TestRandomReload: run this seed only, and print its script")
	flagSkip  = flag.String("rskip", "", "TestRandomReload: comma-separated op kinds not to generate (e.g. delfield)")
)

// skip reports whether op kind k is not to be generated (-rskip).
func skip(k string) bool {
	for _, s := range strings.Split(*flagSkip, ",") {
		if s == k {
			return true
		}
	}
	return false
}

type rclass struct {
	name   string // C0, C1...
	ref    string // Lua expression reaching it from the script's functions
	holder string // module, local, global, alias (M.C and a local), modlocal (a local put in M)
	style  string // plain, pil, classobj
	meta   string // the instances' metatable, as a Lua expression
	count  bool   // new() counts instances in ref.count
}

type rgen struct {
	r         *rand.Rand
	b         strings.Builder
	classes   []rclass
	globals   []string
	ops       []string
	onSave    bool
	selfClass bool
}

func (g *rgen) p(format string, args ...any) { fmt.Fprintf(&g.b, format+"\n", args...) }
func (g *rgen) pick(xs ...string) string     { return xs[g.r.Intn(len(xs))] }

// genScript returns the source with VERSION in place of the version text.
func genScript(seed int64) (src string, nops int) {
	g := &rgen{r: rand.New(rand.NewSource(seed))}
	g.p(`local M = { list = {}, map = {}, n1 = %d, s1 = "a", b1 = true, data1 = { x = 1, y = { z = 2 } }, arr = { 1, 2, 3 } }`, g.r.Intn(9))
	if g.r.Intn(2) == 0 {
		g.p(`M.shared1 = M.data1.y`) // one table under two names
	}
	if g.r.Intn(2) == 0 {
		g.p(`M.data1.self = M.data1 M.data1.owner = M`) // cycles
	}
	// functions for data: state machine states, handlers
	g.p(`function M.st_a() return "A VERSION" end`)
	g.p(`function M.st_b() return "B VERSION" end`)
	g.p(`local function st_c() return "C VERSION" end`)
	g.p(`M.fsm = { current = M.st_a, ticks = 0, history = {} }`)
	g.p(`M.handlers = { on_hit = M.st_a, on_miss = st_c, M.st_b }`)
	g.p(`M.classes = {}`)
	g.p(`M.steps = { function() return "s1" end, function() return "s2" end }`)

	if g.r.Intn(4) == 0 && !skip("selfclass") { // the module is a class too
		g.p(`M.__index = M`)
		g.p(`function M:who() return "M VERSION" end`)
		g.selfClass = true
	}
	nc := 1 + g.r.Intn(3)
	for i := 0; i < nc; i++ {
		g.genClass(i)
	}
	g.genOps()
	if g.r.Intn(3) == 0 {
		g.onSave = true
		g.p(`function M.on_save() M.n1 = M.n1 + 100 if M.list[1] then M.list[1].hp = -1 end M.fsm.current = M.st_b return { list = M.list, n = M.n1 } end`)
		g.p(`function M.on_restore(saved) end`)
	}
	g.genDump()
	g.p(`return M`)
	return g.b.String(), len(g.ops)
}

func (g *rgen) genClass(i int) {
	c := rclass{name: fmt.Sprintf("C%d", i)}
	c.holder = g.pick("module", "local", "global", "alias", "modlocal", "nested", "modglobal")
	c.style = g.pick("plain", "pil", "classobj")
	var base *rclass
	if i > 0 && g.r.Intn(2) == 0 {
		b := g.classes[g.r.Intn(i)]
		base = &b
		c.style = b.style // a subclass in its base's style
	}
	c.count = c.holder != "local" && c.holder != "global" && c.style == "plain"
	init := fmt.Sprintf(`{ tag = "%s" }`, c.name)
	if (c.holder == "local" || c.holder == "global") && skip("datacls") {
		init = "{}" // a local or global class with no data of its own
	}
	if c.count {
		init = fmt.Sprintf(`{ tag = "%s", count = 0 }`, c.name)
	}
	if base != nil && c.style == "pil" {
		init = base.ref + ":new()"
	}
	switch c.holder {
	case "module":
		c.ref = "M." + c.name
		g.p(`M.%s = %s`, c.name, init)
	case "local":
		c.ref = c.name
		g.p(`local %s = %s`, c.name, init)
	case "global":
		c.ref = c.name
		g.globals = append(g.globals, c.name)
		g.p(`%s = %s`, c.name, init)
	case "alias":
		c.ref = c.name
		g.p(`M.%s = %s`, c.name, init)
		g.p(`local %s = M.%s`, c.name, c.name)
	case "modglobal": // a global class the module holds too
		c.ref = c.name
		g.globals = append(g.globals, c.name)
		g.p(`%s = %s`, c.name, init)
		g.p(`M.%s = %s`, c.name, c.name)
	case "nested":
		c.ref = "M.classes." + c.name
		g.p(`%s = %s`, c.ref, init)
	case "modlocal":
		c.ref = c.name
		g.p(`local %s = %s`, c.name, init)
		g.p(`M.%s = %s`, c.name, c.name)
	}
	R := c.ref
	switch c.style {
	case "plain":
		c.meta = R
		if base != nil {
			g.p(`setmetatable(%s, { __index = %s })`, R, base.ref)
		}
		g.p(`%s.__index = %s`, R, R)
		cnt := ""
		if c.count {
			cnt = fmt.Sprintf("%s.count = %s.count + 1 ", R, R)
		}
		g.p(`function %s.new(hp) %sreturn setmetatable({ hp = hp }, %s) end`, R, cnt, R)
	case "pil":
		c.meta = R
		if base == nil {
			g.p(`function %s:new(o) o = o or {} setmetatable(o, self) self.__index = self return o end`, R)
		}
	case "classobj":
		c.meta = R + ".mt"
		if base != nil {
			g.p(`%s.proto = setmetatable({}, { __index = %s.proto })`, R, base.ref)
		} else {
			g.p(`%s.proto = {}`, R)
		}
		g.p(`%s.mt = { __index = %s.proto }`, R, R)
		g.p(`function %s.new(hp) return setmetatable({ hp = hp }, %s.mt) end`, R, R)
	}
	methods := R
	if c.style == "classobj" {
		methods = R + ".proto"
	}
	if base == nil || g.r.Intn(2) == 0 || c.style == "pil" && skip("emptysub") {
		g.p(`function %s:who() return "%s VERSION" end`, methods, c.name)
	}
	if g.r.Intn(2) == 0 {
		g.p(`function %s:hp_() return self.hp end`, methods)
	}
	g.classes = append(g.classes, c)
}

// newExpr returns a Lua expression making an instance of c.
func (c rclass) newExpr(hp int) string {
	if c.style == "pil" {
		return fmt.Sprintf("%s:new({ hp = %d })", c.ref, hp)
	}
	return fmt.Sprintf("%s.new(%d)", c.ref, hp)
}

func (g *rgen) genOps() {
	n := 6 + g.r.Intn(10)
	for i := 0; i < n; i++ {
		c := g.classes[g.r.Intn(len(g.classes))]
		var body string
		c2 := g.classes[g.r.Intn(len(g.classes))]
		held := c.holder != "local" && c.holder != "global" // the module holds it: its changes are state
		methods := c.ref
		if c.style == "classobj" {
			methods += ".proto"
		}
		switch g.r.Intn(48) {
		case 0, 1, 2:
			body = fmt.Sprintf(`M.list[#M.list + 1] = %s`, c.newExpr(g.r.Intn(100)))
		case 3:
			body = fmt.Sprintf(`M.map["k%d"] = %s`, g.r.Intn(4), c.newExpr(g.r.Intn(100)))
		case 4:
			body = fmt.Sprintf(`M.hero = %s`, c.newExpr(g.r.Intn(100)))
		case 5:
			body = `if #M.list > 0 then table.remove(M.list, 1) end`
		case 6:
			body = `local o = M.list[#M.list] if o then o.extra = (o.extra or 0) + 1 end`
		case 7:
			body = `local o = M.list[1] if o then o.hp = nil end`
		case 8:
			body = fmt.Sprintf(`local o = M.list[1] if o then setmetatable(o, %s) end`, c.meta)
		case 9:
			body = g.pick(`M.fsm.current = M.st_b`, `M.fsm.current = st_c`, `M.handlers.on_hit = M.st_b`, `M.handlers.on_miss = nil`, `M.handlers.on_new = st_c`)
		case 10:
			body = g.pick(`M.alias = M.list[#M.list]`, `M.shared2 = M.data1`, `M.map.first = M.list[1]`)
		case 11:
			body = g.pick(`M.n1 = M.n1 + 1`, `M.s1 = (M.s1 or "") .. "x"`, `M.b1 = not M.b1`)
		case 12:
			body = g.pick(`M.data1.x = nil`, `M.data1.w = { 1, 2 }`, `M.data1.y.z = M.data1.y.z + 1`)
		case 13:
			if skip("delfield") {
				body = g.pick(`M.newfield = { a = 1 }`, `if M.arr then M.arr[#M.arr] = nil end`)
			} else {
				body = g.pick(`M.s1 = nil`, `M.arr = nil`, `M.newfield = { a = 1 }`, `if M.arr then M.arr[#M.arr] = nil end`)
			}
		case 14:
			if c.count {
				body = fmt.Sprintf(`%s.level = (%s.level or 0) + 1`, c.ref, c.ref)
			} else {
				body = `M.n1 = M.n1 * 2`
			}
		case 15:
			if c.holder != "local" && c.holder != "global" {
				body = fmt.Sprintf(`%s.tag = nil`, c.ref)
			} else {
				body = `M.map.k0 = nil`
			}
		case 16:
			methods := c.ref
			if c.style == "classobj" {
				methods += ".proto"
			}
			if c.holder != "local" && c.holder != "global" {
				body = fmt.Sprintf(`%s.who = function(self) return "patched" end`, methods)
			} else {
				body = `M.handlers.cb = function() return "cb" end`
			}
		case 17:
			body = `M.data1.cb = function() return "cb" end`
		case 18:
			body = `local o = M.list[#M.list] if o then o.who = function() return "own" end end`
		case 19:
			body = `local m for k in pairs(M.map) do if not m or k < m then m = k end end if m then M.map[m] = nil end`
		case 20:
			body = fmt.Sprintf(`M.list[#M.list + 1] = { tag = "plain data", n = %d }`, g.r.Intn(9))
		case 21:
			body = `M.fsm = { current = M.st_b, prev = M.fsm.current, history = {} }`
		case 22: // a method as a state
			body = fmt.Sprintf(`M.fsm.current = %s.who`, methods)
		case 23: // re-parent a class the module holds
			if held && c.style == "plain" && c2.style != "classobj" && c2.name < c.name { // no __index cycles
				body = fmt.Sprintf(`setmetatable(%s, { __index = %s })`, c.ref, c2.ref)
			} else {
				body = `M.n1 = M.n1 - 1`
			}
		case 24: // remove a method from a class the module holds
			if held {
				body = fmt.Sprintf(`%s.hp_ = nil`, methods)
			} else {
				body = `M.n1 = M.n1 - 2`
			}
		case 25: // a method swapped for another class's
			m2 := c2.ref
			if c2.style == "classobj" {
				m2 += ".proto"
			}
			if held {
				body = fmt.Sprintf(`%s.who = %s.who`, methods, m2)
			} else {
				body = `M.n1 = M.n1 - 3`
			}
		case 26: // one object in two places
			body = fmt.Sprintf(`local o = %s M.list[#M.list + 1] = o M.map.both = o`, c.newExpr(7))
		case 27: // an object loses its class
			body = `local o = M.list[#M.list] if o then setmetatable(o, nil) end`
		case 28: // classes listed in the module's data
			body = fmt.Sprintf(`M.kinds = M.kinds or {} M.kinds[#M.kinds + 1] = %s`, c.meta)
		case 30:
			body = g.pick(`M.fsm.ticks = (M.fsm.ticks or 0) + 1`, `M.fsm.history[#M.fsm.history + 1] = M.fsm.ticks or 0`, `M.fsm.ticks = nil`, `M.fsm.history = { "reset" }`)
		case 31:
			body = g.pick(`M.handlers[#M.handlers + 1] = st_c`, `table.remove(M.handlers)`, `M.handlers[1] = M.st_a`)
		case 32: // objects as keys
			body = `M.seen = M.seen or {} if M.list[1] then M.seen[M.list[1]] = #M.list end`
		case 33:
			body = g.pick(`M.sparse = M.sparse or {} M.sparse[100] = M.st_a M.sparse[-1] = "neg" M.sparse[1.5] = true`, `M.data1[true] = "yes"`)
		case 34: // a closure over the old module: a failed reload's hooks may call it
			body = `M.data1.bump = function() M.n1 = M.n1 + 1000 M.list[1] = nil M.fsm.ticks = -1 end`
		case 35: // a metatable made for one object
			body = `M.list[#M.list + 1] = setmetatable({ n = 1 }, { __index = function(t, k) return k == "who" and function() return "own mt" end or nil end })`
		case 36: // functions deep in data
			body = g.pick(`M.data1.y.f = M.st_b`, `M.data1.y.g = st_c`, fmt.Sprintf(`M.data1.y.m = %s.who`, methods))
		case 37: // the module refers to itself
			body = `M.self = M M.data1.mod = M`
		case 38, 39: // a list of the chunk's, popped and pushed
			body = "if M.arr then " + g.pick(`M.popped = table.remove(M.arr) or false`, `M.arr[#M.arr + 1] = M.n1`, `M.popped = table.remove(M.arr) or false M.popped2 = table.remove(M.arr) or false`) + " end"
		case 40: // an object of closures over self and a local counter
			body = `local o = M.list[#M.list] if o and rawget(o, "tag") == nil then local n = 0 o.tick = function(s) if s then n = n + s o.t = n end return n end o.peek = function() return n end end`
		case 41:
			body = `for _, o in ipairs(M.list) do if rawget(o, "tick") then o.tick(1) end end`
		case 42: // handlers over M, made as the script runs
			body = `M.data1.h = M.data1.h or {} M.data1.h[#M.data1.h + 1] = function(s) if s then M.n1 = M.n1 + s end return M.n1 end`
		case 43:
			body = `for _, f in ipairs(M.data1.h or {}) do f(1) end if M.pair then M.pair.inc(2) end if M.rec then M.rec.f(3) end`
		case 44: // a pair sharing a local, and a closure as a key
			body = `local c = 0 local inc = function(s) if s then c = c + s end return c end M.pair = { inc = inc, get = function() return c end } M.keys = M.keys or {} M.keys[inc] = "k"`
		case 45: // a recursive local function over a data table
			body = `local acc = { v = 0 } local function f(k) if k and k > 0 then acc.v = acc.v + 1 return f(k - 1) end return acc.v end M.rec = { f = f, acc = acc }`
		case 46: // the current step, a literal of a list, kept in data
			body = `M.fsm.step = M.steps[1]`
		case 47:
			body = `M.steps[#M.steps + 1] = function() return "s3" end`
		case 29: // an object made from a class found in data
			body = fmt.Sprintf(`M.byname = M.byname or {} M.byname.%s = %s`, c.name, c.ref)
		}
		if g.selfClass && g.r.Intn(6) == 0 {
			body = `M.list[#M.list + 1] = setmetatable({ hp = 1 }, M)`
		}
		g.ops = append(g.ops, body)
		g.p(`function M.op_%d() %s end`, i, body)
	}
}

func (g *rgen) genDump() {
	gl := make([]string, len(g.globals))
	for i, n := range g.globals {
		gl[i] = fmt.Sprintf("%q", n)
	}
	g.p(`local GLOBALS = { %s }`, strings.Join(gl, ", "))
	g.p(`local METHODS = { "who", "hp_" }`)
	g.b.WriteString(`function M.dump(sorted)
  local ids, queue, n, out = {}, {}, 0, {}
  local function id(v)
    local t = type(v)
    if t == "table" or t == "function" then
      if not ids[v] then n = n + 1 ids[v] = n queue[#queue + 1] = v end
      return t:sub(1, 1) .. ids[v]
    elseif t == "string" then return string.format("%q", v) end
    return tostring(v)
  end
  id(M)
  for _, name in ipairs(GLOBALS) do out[#out + 1] = "G " .. name .. "=" .. id(rawget(_G, name)) end
  local i = 1
  while i <= #queue do
    local v = queue[i]
    i = i + 1
    if type(v) == "function" then
      local ok, r = pcall(v)
      out[#out + 1] = "f" .. ids[v] .. " () -> " .. tostring(ok) .. " " .. tostring(r)
    else
      local parts = { "t" .. ids[v] .. " mt=" .. id(getmetatable(v)) }
      local entries = {}
      for k, x in pairs(v) do entries[#entries + 1] = { k, x } end
      if sorted then -- pairs order aside: a key removed and set again after a reload goes last (documented)
        local tk, sk = {}, {} -- tables as keys keep their order, after the others
        for _, e in ipairs(entries) do if type(e[1]) == "table" or type(e[1]) == "function" then tk[#tk + 1] = e else sk[#sk + 1] = e end end
        table.sort(sk, function(a, b) return type(a[1]) .. tostring(a[1]) < type(b[1]) .. tostring(b[1]) end)
        for _, e in ipairs(tk) do sk[#sk + 1] = e end
        entries = sk
      end
      for _, e in ipairs(entries) do
        local k, x = e[1], e[2]
        local skip = type(k) == "string" and (k:sub(1, 3) == "op_" or k == "dump" or k == "new" or k == "bump" or k:sub(1, 3) == "on_" and v == M)
        parts[#parts + 1] = id(k) .. "=" .. (skip and type(x) or id(x))
      end
      for _, name in ipairs(METHODS) do
        local ok, f = pcall(function() return v[name] end)
        if ok and type(f) == "function" then
          local ok2, r = pcall(f, v)
          parts[#parts + 1] = name .. "() -> " .. tostring(ok2) .. " " .. tostring(r)
        end
      end
      out[#out + 1] = table.concat(parts, " ")
    end
  end
  return table.concat(out, "\n")
end
`)
}

// rDump returns the dump of id, failing the test on error.
func rDump(t *testing.T, rt *lua.Runtime, id lua.ScriptID, sorted ...bool) string {
	t.Helper()
	out, err := rt.CallJSON(context.Background(), id, "dump", len(sorted) > 0)
	if err != nil {
		t.Fatalf("dump: %v", err)
	}
	return string(out)
}

func rOps(t *testing.T, rt *lua.Runtime, ids []lua.ScriptID, seq []int) {
	t.Helper()
	for _, op := range seq {
		for _, id := range ids {
			if _, err := rt.CallJSON(context.Background(), id, fmt.Sprintf("op_%d", op)); err != nil {
				t.Fatalf("op_%d: %v", op, err)
			}
		}
	}
}

// diffDump returns the first differing line of two dumps.
func diffDump(a, b string) string {
	al, bl := strings.Split(a, `\n`), strings.Split(b, `\n`)
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n  want %s\n  got  %s", i, x, y)
		}
	}
	return "same"
}

func TestRandomReload(t *testing.T) {
	seeds := make([]int64, 0, *flagSeeds)
	if *flagSeed >= 0 {
		seeds = append(seeds, int64(*flagSeed))
	} else {
		for s := 0; s < *flagSeeds; s++ {
			seeds = append(seeds, int64(s))
		}
	}
	failed := 0
	for _, seed := range seeds {
		ok := t.Run(fmt.Sprint(seed), func(t *testing.T) {
			src, nops := genScript(seed)
			if *flagSeed >= 0 {
				t.Logf("script:\n%s", src)
			}
			r := rand.New(rand.NewSource(seed * 7919))
			seq := func() []int {
				s := make([]int, 3+r.Intn(12))
				for i := range s {
					s[i] = r.Intn(nops)
				}
				return s
			}
			v1 := strings.ReplaceAll(src, "VERSION", "v1")
			v2 := strings.ReplaceAll(src, "VERSION", "v2")
			rt := newRuntime(t, lua.Config{})
			a := load(t, rt, "s.lua", v1)
			b := load(t, rt, "s.lua", v1) // the twin, never reloaded
			seqA := seq()
			rOps(t, rt, []lua.ScriptID{a, b}, seqA)
			if *flagSeed >= 0 {
				t.Logf("ops A: %v", seqA)
			}
			runtime.GC() // what the ops dropped of the chunk's code is collected: sites hold it weakly
			d0 := rDump(t, rt, a)
			if d := rDump(t, rt, b); d != d0 {
				t.Fatalf("twins differ before any reload (generator bug): %s", diffDump(d0, d))
			}
			if *flagSeed >= 0 {
				t.Logf("dump:\n%s", strings.ReplaceAll(d0, `\n`, "\n"))
			}

			// 3: failed reloads change nothing.
			ret := strings.LastIndex(v1, "return M")
			fails := map[string]string{
				"syntax":      v1 + "\n)",
				"chunk error": v1[:ret] + "error('boom')\n" + v1[ret:],
				"on_restore":  v1[:ret] + "function M.on_save() return { list = M.list } end\nfunction M.on_restore(s) M.n1 = 'spoiled' if M.data1.bump then M.data1.bump() end error('refused') end\n" + v1[ret:],
			}
			for _, name := range []string{"syntax", "chunk error", "on_restore"} {
				if err := rt.ReloadScript(context.Background(), a, []byte(fails[name])); err == nil {
					t.Fatalf("reload %s: no error", name)
				}
				if d := rDump(t, rt, a); d != d0 {
					t.Fatalf("invariant 3 (%s failed reload) broken: %s", name, diffDump(d0, d))
				}
			}
			st, err := rt.Stage(context.Background(), a, []byte(v2))
			if err != nil {
				t.Fatal(err)
			}
			checkOps := seq()
			_, err = st.CommitCheck(context.Background(), func(ctx context.Context, next *lua.Version) error {
				for _, op := range checkOps {
					if _, err := next.CallJSON(ctx, fmt.Sprintf("op_%d", op)); err != nil {
						return err
					}
				}
				return errors.New("refused")
			})
			if err == nil {
				t.Fatal("CommitCheck refused: no error")
			}
			if d := rDump(t, rt, a); d != d0 {
				t.Fatalf("invariant 3 (CommitCheck ran ops %v then refused) broken: %s", checkOps, diffDump(d0, d))
			}

			// 1: the same source, twice, with GC.
			reload(t, rt, a, v1)
			if d := rDump(t, rt, a); d != d0 {
				t.Fatalf("invariant 1 (first reload of the same source) broken: %s", diffDump(d0, d))
			}
			runtime.GC()
			runtime.GC()
			reload(t, rt, a, v1)
			runtime.GC()
			if d := rDump(t, rt, a); d != d0 {
				t.Fatalf("invariant 1 (second reload of the same source, GC) broken: %s", diffDump(d0, d))
			}
			// 1, concurrently: a reader never sees a dump but d0 while the same source reloads.
			done := make(chan error)
			go func() {
				for i := 0; i < 3; i++ {
					if err := rt.ReloadScript(context.Background(), a, []byte(v1)); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			for reading := true; reading; {
				select {
				case err := <-done:
					if err != nil {
						t.Fatalf("concurrent reload: %v", err)
					}
					reading = false
				default:
					if d := rDump(t, rt, a); d != d0 {
						t.Fatalf("invariant 1 (read during concurrent reloads) broken: %s", diffDump(d0, d))
					}
				}
			}
			seqB := seq()
			rOps(t, rt, []lua.ScriptID{a, b}, seqB)
			if d, want := rDump(t, rt, a, true), rDump(t, rt, b, true); d != want {
				t.Fatalf("invariant 1 (ops %v after the reloads, vs the twin) broken: %s", seqB, diffDump(want, d))
			}

			// 2: method bodies edited.
			want := strings.ReplaceAll(rDump(t, rt, a), "v1", "v2")
			reload(t, rt, a, v2)
			runtime.GC()
			if d := rDump(t, rt, a); d != want {
				t.Fatalf("invariant 2 (reload with v2 method bodies) broken: %s", diffDump(want, d))
			}
			seqC := seq()
			rOps(t, rt, []lua.ScriptID{a, b}, seqC)
			want = strings.ReplaceAll(rDump(t, rt, b, true), "v1", "v2")
			if d := rDump(t, rt, a, true); d != want {
				t.Fatalf("invariant 2 (ops %v after the v2 reload, vs the twin) broken: %s", seqC, diffDump(want, d))
			}
		})
		if !ok {
			if failed++; failed >= 40 {
				t.Fatal("too many failures; stopping")
			}
		}
	}
}
