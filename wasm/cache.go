package wasm

import (
	"context"
	"crypto/sha256"
	"slices"
	"sync"

	"github.com/hotscript/hotscript/internal/meter"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// idleCodes is how many compiled modules no instance uses are kept, so that going
// back to a recent version of a script does not compile it again.
const idleCodes = 16

// codeKey identifies compiled code by the hash of the bytes compiled: for a
// metered script, the instrumented bytes. Instrumentation is deterministic, so
// identical bytes loaded with limits share one entry, and never one with the
// same bytes loaded without.
type codeKey [sha256.Size]byte

// code is a compiled module and what the runtime derived from it once. Everything
// but refs is immutable after ready is closed.
type code struct {
	key      codeKey
	eng      *engine
	scan     *moduleScan
	compiled wazero.CompiledModule
	imports  []FuncInfo // every imported function, for linking
	info     ModuleInfo // what Exports and Imports show
	funcs    map[string]*funcSig
	frames   frameNames // for stack traces
	maxStack int        // the largest stackLen of funcs
	starts   []string   // what an instance runs as it starts (see initializer)

	ready chan struct{} // closed when compiled or err is set
	err   error
	refs  int // instances and waiters using it; guarded by codeCache.mu
}

// funcSig is an exported function's signature and how CallJSON treats it.
type funcSig struct {
	info     FuncInfo
	stackLen int  // the []uint64 wazero needs: max(params, results), in slots
	jsonIn   bool // params are exactly (i32, i32)
	jsonOut  bool // results are exactly (i32, i32)
	// noJSON is the first type of a param or result that has no JSON form:
	// V128, FuncRef or ExternRef; 0 if there is none.
	noJSON ValueType
	// ref is a param or result of a reference type, FuncRef or ExternRef,
	// which no uint64 a caller makes can stand for.
	ref bool
	// host: the function is an imported host function the module exports.
	host bool
}

func newFuncSig(info FuncInfo) *funcSig {
	pair := func(ts []ValueType) bool { return len(ts) == 2 && ts[0] == I32 && ts[1] == I32 }
	params, results := slots(info.Params), slots(info.Results)
	sig := &funcSig{
		info:     info,
		stackLen: max(params, results),
		jsonIn:   pair(info.Params),
		jsonOut:  pair(info.Results),
	}
	for _, t := range append(slices.Clip(info.Params), info.Results...) {
		if !t.numeric() && sig.noJSON == 0 {
			sig.noJSON = t
		}
		sig.ref = sig.ref || t == FuncRef || t == ExternRef
	}
	return sig
}

// slots counts the uint64 stack slots values of types ts take: two for a
// v128, one for the others.
func slots(ts []ValueType) int {
	n := len(ts)
	for _, t := range ts {
		if t == V128 {
			n++
		}
	}
	return n
}

// codeCache shares compiled code between the versions of all scripts. An entry
// lives while instances use it, then waits among the idleCodes most recently used
// before its CompiledModule is closed. Because one key maps to one entry, and so
// one CompiledModule, the runtime never compiles bytes a live instance runs a
// second time, and never closes a CompiledModule under an instance (wazero shares
// compiled code by the bytes' hash, so closing a duplicate would break the live one).
type codeCache struct {
	mu      sync.Mutex
	entries map[codeKey]*code
	idle    []*code // unreferenced, least recently used first
	closed  bool
	// metered maps the hash of a module as given to the key of its instrumented
	// code, for entries that exist, so that reloading a metered script with
	// known bytes does not instrument them again.
	metered map[codeKey]codeKey
}

// acquire returns the compiled code for b on eng, instrumented first if metered,
// compiling it unless an entry exists; concurrent acquires of the same bytes wait
// for one compilation. The caller owns a reference and must release it.
func (c *codeCache) acquire(ctx context.Context, eng *engine, b []byte, metered bool) (*code, error) {
	src := codeKey(sha256.Sum256(b))
	original, key := b, src
	var mi *meter.Info
	c.mu.Lock()
	x, ok := c.entries[key]
	if metered {
		key, ok = c.metered[src]
		if ok {
			x, ok = c.entries[key]
		}
		if !ok { // instrument without holding the lock, then look again
			c.mu.Unlock()
			var err error
			if b, mi, err = instrument(b); err != nil {
				return nil, err
			}
			key = codeKey(sha256.Sum256(b))
			c.mu.Lock()
			x, ok = c.entries[key]
		}
	}
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if ok {
		x.refs++
		c.unidle(x)
		if metered {
			c.metered[src] = key
		}
		c.mu.Unlock()
		select {
		case <-x.ready:
		case <-ctx.Done():
			c.release(x)
			return nil, ctx.Err()
		}
		if x.err != nil {
			c.release(x)
			return nil, x.err
		}
		return x, nil
	}
	if c.entries == nil {
		c.entries, c.metered = map[codeKey]*code{}, map[codeKey]codeKey{}
	}
	x = &code{key: key, eng: eng, ready: make(chan struct{}), refs: 1}
	c.entries[key] = x
	if metered {
		c.metered[src] = key
	}
	c.mu.Unlock()

	x.err = x.compile(b, mi)
	if x.err != nil && metered {
		x.err = explainCompile(ctx, original, x.err)
	}
	if x.err != nil {
		c.mu.Lock()
		if c.entries[key] == x {
			c.remove(x) // failures are not cached
		}
		c.mu.Unlock()
	}
	close(x.ready)
	if x.err != nil {
		c.release(x)
		return nil, x.err
	}
	return x, nil
}

// remove deletes an entry and the instrumentation records that lead to it. The
// caller holds c.mu.
func (c *codeCache) remove(x *code) {
	delete(c.entries, x.key)
	for src, key := range c.metered {
		if key == x.key {
			delete(c.metered, src)
		}
	}
}

// release drops a reference; the last one makes the entry idle.
func (c *codeCache) release(x *code) {
	c.mu.Lock()
	defer c.mu.Unlock()
	x.refs--
	if x.refs > 0 || x.err != nil || c.closed || c.entries[x.key] != x {
		return
	}
	c.idle = append(c.idle, x)
	if len(c.idle) > idleCodes {
		old := c.idle[0]
		c.idle = c.idle[1:]
		c.remove(old)
		_ = old.compiled.Close(context.Background()) // frees engine memory; cannot fail
	}
}

func (c *codeCache) unidle(x *code) {
	for i, y := range c.idle {
		if y == x {
			c.idle = append(c.idle[:i], c.idle[i+1:]...)
			return
		}
	}
}

// close forgets every entry; closing the engines frees their code.
func (c *codeCache) close() {
	c.mu.Lock()
	c.closed = true
	c.entries, c.idle, c.metered = nil, nil, nil
	c.mu.Unlock()
}

// counts reports the number of entries and of idle ones.
func (c *codeCache) counts() (entries, idle int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries), len(c.idle)
}

// memory returns mod's memory, mod being an instance of x, or nil if the module
// has none: wazero's Module.Memory then returns a non-nil api.Memory that holds
// nothing and panics when used.
func (x *code) memory(mod api.Module) api.Memory {
	if x.scan.memory == nil {
		return nil
	}
	return mod.Memory()
}

// compile compiles b under no caller's context: the code serves every load of
// these bytes, and a context's values reach wazero's compile (a function
// listener asked for with a wazero experimental option would watch every
// script that shares the code).
func (x *code) compile(b []byte, mi *meter.Info) error {
	scan, err := scanModule(b)
	if err != nil {
		return err
	}
	if scan.hasStackPointer { // so that a call that breaks off can put it back (see resetStack)
		if b, err = meter.ExportGlobal(b, scan.stackPointer, meter.StackPointerExport); err != nil {
			return err
		}
	}
	if scan.longestName > maxFrameName { // wazero writes them in each of a trace's 30 frames
		if b, err = meter.CutNames(b, maxFrameName); err != nil {
			return err
		}
	}
	compiled, err := x.eng.rt.CompileModule(context.Background(), b)
	if err != nil {
		return err
	}
	x.scan = scan
	x.compiled = compiled
	imports := compiled.ImportedFunctions()
	x.frames.module = compiled.Name()
	for _, def := range imports {
		module, name, _ := def.Import()
		x.imports = append(x.imports, funcInfo(module, name, def))
		if x.frames.module != "" { // a trace then cannot tell "host.log" by its prefix
			if x.frames.imports == nil {
				x.frames.imports = map[string]bool{}
			}
			x.frames.imports[module+"."+name] = true
		}
	}
	exports := compiled.ExportedFunctions()
	init := initializer(exports, scan)
	if init != "" {
		x.starts = []string{init}
	}
	x.info = ModuleInfo{Imports: publicImports(imports), Exports: publicExports(exports, init), Memory: x.scan.memory}
	x.funcs = make(map[string]*funcSig, len(exports))
	x.frames.exports = make(map[uint32]string, len(exports))
	if mi != nil {
		meteredFrames(&x.frames, mi)
	}
	for name, def := range exports {
		if old, ok := x.frames.exports[def.Index()]; !ok || name < old {
			x.frames.exports[def.Index()] = name
		}
		if hidden(name, init) {
			continue
		}
		sig := newFuncSig(funcInfo("", name, def))
		_, _, sig.host = def.Import()
		x.funcs[name] = sig
		x.maxStack = max(x.maxStack, sig.stackLen)
	}
	return nil
}
