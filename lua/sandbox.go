package lua

import (
	"math/rand/v2"
	"strings"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
)

// Libraries is a set of optional Lua libraries. The base library (without the holes
// listed in the package documentation), string, table and math are always open; a
// Runtime opens the ones in Config.Libraries in every script as well.
type Libraries uint32

const (
	// LibCoroutine opens coroutine. A coroutine runs on the budget of the call that
	// resumes it: its instructions count against that call's limits, and so does
	// the growth of its value stack against MaxMemoryBytes (see Limits). Resumes nest
	// at most 200 deep, as in Lua 5.1: one more fails with "C stack overflow". As in
	// Lua 5.1, a coroutine cannot yield out of a function that a builtin or a
	// metamethod called (pcall's function or xpcall's handler, a table.sort
	// comparator, a gsub replacement, __index, __tostring, a generic for's
	// iterator): that yield raises "attempt to yield across metamethod/C-call
	// boundary", which gopher-lua did not check, breaking its VM. Nor can it
	// resume a coroutine that is resuming the one running ("cannot resume
	// non-suspended coroutine"). A coroutine may end in a tail call of yield, or
	// run a Go function, which gopher-lua never ended: each coroutine runs its
	// function through a small Lua function of the package's, named
	// [coroutine] in messages and tracebacks, which copies the arguments and the
	// results: a coroutine takes or returns at most about 80,000 values.
	LibCoroutine Libraries = 1 << iota
	// LibOS opens os without os.exit, which would end the host process. os.execute,
	// os.remove and os.rename reach the system: open LibOS only for trusted scripts.
	LibOS
	// LibIO opens io, which reads and writes files and the process's standard streams.
	LibIO
	// LibDebug opens debug, which can read and change any local, upvalue and
	// metatable: it defeats the sandbox.
	LibDebug
	// LibPackage opens package and require/module, which load Lua files from
	// package.path. Loaded code is not routed through the capped .. operator,
	// nor its ... through the charged varargs (see Limits).
	LibPackage
	// LibChannel opens gopher-lua's channel library. A channel.select or receive
	// that blocks cannot be interrupted by any limit.
	LibChannel
)

// stateOptions give an LState a call stack of 1,024 frames (80 KiB, allocated
// up front) and a value stack that grows on demand to 256 Ki slots (4 MiB), 16 Ki
// slots (256 KiB) at a time: gopher-lua grows it by a fixed step, copying it
// each time, so filling it costs the square of the size over the step. At
// 1,024 slots a step, one unpack of 250,000 values (one instruction, which no
// time limit interrupts) copied 468 MiB and took most of a second.
//
// The call stack must not grow on demand (MinimizeStackMemory), although that
// would save 80 KiB per LState and per coroutine: in gopher-lua v1.1.2 such a
// stack never reports itself full (autoGrowingCallFrameStack.IsFull compares
// its segment index with one past the last), so runaway recursion overflows it
// with a bare panic mid-call instead of a Lua "stack overflow" error; on some
// paths (a tail-called pcall) the unwinding then returns a segment still in use
// to a pool that every LState in the process shares, and another script's calls
// write into frames this one still reads.
var stateOptions = glua.Options{
	SkipOpenLibs:     true,
	CallStackSize:    1024,
	RegistrySize:     1024,
	RegistryMaxSize:  256 << 10,
	RegistryGrowStep: 16 << 10,
}

// sandboxHoles are base-library globals no script gets: they reach the real
// globals (getfenv(0)), the file system (dofile, loadfile), the Go runtime
// (collectgarbage runs runtime.GC; _printregs prints to stdout), or load code that
// bypasses the capped compiler (load and loadstring are replaced, see below).
var sandboxHoles = []string{"getfenv", "setfenv", "dofile", "loadfile", "collectgarbage", "_printregs", "require", "module"}

// newState builds a sandboxed LState for one version of a script: libraries, caps,
// print, source-only load, a private random generator, and the host modules. It
// returns the state and the generator behind its math.random (see installRandom).
func (rt *Runtime) newState(name string, b *budget, hosts map[string]map[string]hostDef) (*glua.LState, *rand.PCG) {
	L := glua.NewState(stateOptions)
	open := func(lib string, fn glua.LGFunction) {
		L.Push(L.NewFunction(fn))
		L.Push(glua.LString(lib))
		L.Call(1, 0)
	}
	open(glua.BaseLibName, glua.OpenBase)
	open(glua.TabLibName, glua.OpenTable)
	open(glua.StringLibName, glua.OpenString)
	open(glua.MathLibName, glua.OpenMath)
	libs := rt.cfg.Libraries
	for _, hole := range sandboxHoles {
		if libs&LibPackage == 0 || (hole != "require" && hole != "module") {
			L.SetGlobal(hole, glua.LNil)
		}
	}
	str := L.GetGlobal("string").(*glua.LTable)
	str.RawSetString("dump", glua.LNil)
	installBase(L)
	installCaps(L)
	installStrlib(L)
	L.SetGlobal("print", L.NewFunction(func(L *glua.LState) int { return rt.print(L, name) }))
	L.SetGlobal("loadstring", L.NewFunction(baseLoadString))
	random := installRandom(L)

	if libs&LibCoroutine != 0 {
		openCoroutine(L)
	}
	if libs&LibOS != 0 {
		open(glua.OsLibName, glua.OpenOs)
		os := L.GetGlobal(glua.OsLibName).(*glua.LTable)
		os.RawSetString("exit", glua.LNil)
		installOSDate(L, os)
	}
	if libs&LibIO != 0 {
		open(glua.IoLibName, glua.OpenIo)
	}
	if libs&LibDebug != 0 {
		open(glua.DebugLibName, glua.OpenDebug)
	}
	if libs&LibPackage != 0 {
		open(glua.LoadLibName, glua.OpenPackage)
	}
	if libs&LibChannel != 0 {
		open(glua.ChannelLibName, glua.OpenChannel)
	}
	installHosts(L, name, b, hosts)
	return L, random
}

// print writes its arguments, separated by tabs, to Config.Stdout as one line, or
// logs them on Config.Logger with the script's name. The line is charged and
// size-checked before it is joined, like the strings of the capped builtins:
// print(unpack(t)) with many references to one big string would otherwise build a
// huge line for free.
func (rt *Runtime) print(L *glua.LState, name string) int {
	parts := make([]string, L.GetTop())
	total := uint64(len(parts)) // the tabs and the newline
	tostring := L.GetGlobal("tostring")
	for i := range parts {
		L.Push(tostring) // as Lua 5.1's print converts: a __tostring's error levels count it
		L.Push(L.Get(i + 1))
		L.Call(1, 1)
		switch s := L.Get(-1).(type) {
		case glua.LString, glua.LNumber: // a number too, as lua_tostring converts it
			parts[i] = glua.LVAsString(s)
		default:
			L.RaiseError("'tostring' must return a string to 'print'")
		}
		L.Pop(1)
		total += uint64(len(parts[i]))
	}
	budgetOf(L).alloc(L, total)
	checkSize(L, total)
	var w strings.Builder
	w.Grow(int(total))
	for i, s := range parts {
		if i > 0 {
			w.WriteByte('\t')
		}
		w.WriteString(s)
	}
	if rt.cfg.Stdout == nil {
		rt.logger.Info(w.String(), "script", name)
		return 0
	}
	w.WriteByte('\n')
	rt.printMu.Lock()
	defer rt.printMu.Unlock()
	_, _ = rt.cfg.Stdout.Write([]byte(w.String()))
	return 0
}

// baseLoadString is loadstring(s [, chunkname]): source only, compiled like every
// chunk (so .. stays capped), with the calling script's globals as environment.
func baseLoadString(L *glua.LState) int {
	src := L.CheckString(1)
	return loadSource(L, src, optStringArg(L, 2, src))
}

// load is load(s | f [, chunkname]), where f returns the source in pieces;
// an error f raises is returned with nil, as from a chunk that does not compile.
func (p *protectors) load(L *glua.LState) int {
	if s, ok := L.Get(1).(glua.LString); ok {
		return loadSource(L, string(s), optStringArg(L, 2, string(s)))
	}
	name := optStringArg(L, 2, "=(load)")
	f := L.CheckFunction(1)
	var src growing
	for {
		L.Push(f)
		if err := p.protect(L, 0, 1, nil); err != nil { // the reader's error is load's result, as in 5.1
			pushFailure(L, err)
			L.Replace(-2, glua.LNil)
			return 2
		}
		piece := L.Get(-1)
		L.Pop(1)
		if piece == glua.LNil || piece == glua.LString("") {
			break
		}
		if !glua.LVCanConvToString(piece) { // a number is its text, as in 5.1
			L.Push(glua.LNil)
			L.Push(glua.LString("reader function must return a string"))
			return 2
		}
		s := glua.LVAsString(piece)
		src.reserve(L, len(s))
		src.WriteString(s)
	}
	return loadSource(L, src.String(), name)
}

// chunkID is how Lua 5.1 names a chunk that load or loadstring compiled, in the
// positions of its errors (luaO_chunkid, LUA_IDSIZE 60): "=name" as name, its
// first 59 bytes; "@file" as file, its last 52 bytes after "..."; and any
// other name, such as the source itself when none is given, as
// [string "name"], its first line's first 43 bytes and "..." if cut.
// gopher-lua wrote the name as given (=name:1:), or <string>.
func chunkID(name string) string {
	const idSize = maxChunkName
	switch {
	case strings.HasPrefix(name, "="):
		return name[1:min(len(name), idSize)]
	case strings.HasPrefix(name, "@"):
		name = name[1:]
		if keep := idSize - len(" '...' ") - 1; len(name) > keep {
			name = "..." + name[len(name)-keep:]
		}
		return name
	}
	line := name
	if i := strings.IndexAny(line, "\n\r"); i >= 0 {
		line = line[:i]
	}
	line = line[:min(len(line), idSize-len(` [string "..."] `)-1)]
	if len(line) < len(name) {
		return `[string "` + line + `..."]`
	}
	return `[string "` + name + `"]`
}

// maxChunkName bounds the names chunkID makes, as Lua's LUA_IDSIZE: every
// error raised in the chunk starts with its name.
const maxChunkName = 60

func loadSource(L *glua.LState, src, name string) int {
	name = chunkID(name)
	if strings.HasPrefix(src, "\x1b") {
		L.Push(glua.LNil)
		L.Push(glua.LString("attempt to load a binary chunk"))
		return 2
	}
	b := budgetOf(L)
	b.chargeCompile(L, src)
	proto, err := b.compile(L, name, src)
	if err != nil {
		L.Push(glua.LNil)
		L.Push(glua.LString(err.(*Error).Message))
		return 2
	}
	L.Push(chunkFunction(L, proto))
	return 1
}

// What load and loadstring charge for compiling a chunk (see Limits): gopher-lua's
// parser and compiler run in the one instruction of the call, and took 6.7 s and
// 607 MiB for load(string.rep("a=1 ", 1e6)) under a MaxInstructions of a million
// and a MaxMemoryBytes of 16 MiB when only the source's bytes were charged.
// Measured on dense code of several shapes (statements such as a=1, calls,
// concatenations, nested blocks, table constructors), a byte of source takes
// 4 to 18 times a VM instruction's time and allocates 90 to 160 bytes, mostly
// garbage; each function (its prototype) about 500 instructions' time and 17 KiB
// more, most of it kept while the function lives; and each compile, however
// small, 500 to 1,300 instructions' time and 30 to 50 KiB. A chunk is charged
// from its length and the times "function" occurs in it, so the same source
// always costs the same. Whitespace, comments and long string literals compile
// 50 times faster than code and are charged as code; the one shape the charge
// does not cover is a function with thousands of distinct constants that
// splitConstants leaves (it splits tables of literals and runs of assignments),
// whose compile time grows with their square (gopher-lua looks each up in a list):
// MaxExecutionTime bounds it (see budget.compile).
const (
	compileUnits        = 512      // per chunk
	compileBytes        = 32 << 10 // per chunk
	compileUnitsPerByte = 16       // per byte of source
	compileBytesPerByte = 160      // per byte of source
	compileUnitsPerFunc = 512      // per "function" in the source
	compileBytesPerFunc = 16 << 10 // per "function" in the source
)

// compileCost is what compiling src is charged: work units and bytes.
func compileCost(src string) (units, bytes uint64) {
	n, f := uint64(len(src)), uint64(strings.Count(src, "function"))
	return compileUnits + n*compileUnitsPerByte + f*compileUnitsPerFunc,
		compileBytes + n*compileBytesPerByte + f*compileBytesPerFunc
}

// chargeCompile charges the compile of src before it starts, and raises the limit
// error in Lua, the compile not started, when the charge is past what is left.
func (b *budget) chargeCompile(L *glua.LState, src string) {
	if b == nil {
		return
	}
	units, bytes := compileCost(src)
	b.hold(bytes)
	b.charge(L, units)
}

// installRandom gives the state its own generator, seeded at random, and returns
// it: gopher-lua's math.random uses the process-wide one, so math.randomseed in one
// script changed the numbers of all. The PCG is the generator's whole state (a Rand
// holds nothing but its source), and math.randomseed seeds it in place, so a
// reload carries the generator by copying the PCG's value (see swap).
func installRandom(L *glua.LState) *rand.PCG {
	src := rand.NewPCG(rand.Uint64(), rand.Uint64())
	rng := rand.New(src)
	math := L.GetGlobal(glua.MathLibName).(*glua.LTable)
	math.RawSetString("random", L.NewFunction(func(L *glua.LState) int {
		switch L.GetTop() {
		case 0:
			L.Push(glua.LNumber(rng.Float64()))
			return 1
		case 1:
			return pushRandom(L, rng, 1, int64Arg(L, 1))
		case 2:
			return pushRandom(L, rng, int64Arg(L, 1), int64Arg(L, 2))
		}
		L.RaiseError("wrong number of arguments")
		return 0
	}))
	math.RawSetString("randomseed", L.NewFunction(func(L *glua.LState) int {
		seed := uint64(int64Arg(L, 1))
		src.Seed(seed, seed)
		return 0
	}))
	return src
}

func pushRandom(L *glua.LState, rng *rand.Rand, lo, hi int64) int {
	if lo > hi {
		L.RaiseError("interval is empty")
	}
	span := uint64(hi) - uint64(lo) // the width minus one, which fits where hi-lo+1 may not
	r := rng.Uint64()
	if span != ^uint64(0) {
		r = rng.Uint64N(span + 1)
	}
	L.Push(glua.LNumber(lo + int64(r))) // wraps to lo + r, which is at most hi
	return 1
}
