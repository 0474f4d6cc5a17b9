package wasm

import (
	"context"
	"crypto/sha256"
	"strings"
	"sync"

	"github.com/tetratelabs/wazero"
)

// idleCodes is how many compiled modules no instance uses are kept, so that going
// back to a recent version of a script does not compile it again.
const idleCodes = 16

// codeKey identifies compiled code: the module's bytes and the engine it was
// compiled for (the same bytes compile differently with interruption checks).
type codeKey struct {
	sum     [sha256.Size]byte
	guarded bool
}

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
	names    map[uint32]string // function index -> export name, for stack traces
	maxStack int               // the largest stackLen of funcs

	ready chan struct{} // closed when compiled or err is set
	err   error
	refs  int // instances and waiters using it; guarded by codeCache.mu
}

// funcSig is an exported function's signature and how CallJSON treats it.
type funcSig struct {
	info     FuncInfo
	stackLen int  // the []uint64 wazero needs: max(params, results)
	jsonIn   bool // params are exactly (i32, i32)
	jsonOut  bool // results are exactly (i32, i32)
}

func newFuncSig(info FuncInfo) *funcSig {
	pair := func(ts []ValueType) bool { return len(ts) == 2 && ts[0] == I32 && ts[1] == I32 }
	return &funcSig{
		info:     info,
		stackLen: max(len(info.Params), len(info.Results)),
		jsonIn:   pair(info.Params),
		jsonOut:  pair(info.Results),
	}
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
}

// acquire returns the compiled code for b on eng, compiling it unless an entry
// exists; concurrent acquires of the same bytes wait for one compilation. The
// caller owns a reference and must release it.
func (c *codeCache) acquire(ctx context.Context, eng *engine, b []byte, scan *moduleScan) (*code, error) {
	key := codeKey{sha256.Sum256(b), eng.guarded}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if x, ok := c.entries[key]; ok {
		x.refs++
		c.unidle(x)
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
		c.entries = map[codeKey]*code{}
	}
	x := &code{key: key, eng: eng, scan: scan, ready: make(chan struct{}), refs: 1}
	c.entries[key] = x
	c.mu.Unlock()

	x.err = x.compile(ctx, b)
	if x.err != nil {
		c.mu.Lock()
		if c.entries[key] == x {
			delete(c.entries, key) // failures are not cached
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

// retain adds a reference to code the caller already holds one to.
func (c *codeCache) retain(x *code) *code {
	c.mu.Lock()
	x.refs++
	c.mu.Unlock()
	return x
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
		delete(c.entries, old.key)
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
	c.entries, c.idle = nil, nil
	c.mu.Unlock()
}

// counts reports the number of entries and of idle ones.
func (c *codeCache) counts() (entries, idle int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries), len(c.idle)
}

func (x *code) compile(ctx context.Context, b []byte) error {
	compiled, err := x.eng.rt.CompileModule(ctx, b)
	if err != nil {
		return err
	}
	x.compiled = compiled
	imports := compiled.ImportedFunctions()
	for _, def := range imports {
		module, name, _ := def.Import()
		x.imports = append(x.imports, funcInfo(module, name, def))
	}
	exports := compiled.ExportedFunctions()
	x.info = ModuleInfo{Imports: publicImports(imports), Exports: publicExports(exports), Memory: x.scan.memory}
	x.funcs = make(map[string]*funcSig, len(exports))
	x.names = make(map[uint32]string, len(exports))
	for name, def := range exports {
		if old, ok := x.names[def.Index()]; !ok || name < old {
			x.names[def.Index()] = name
		}
		if strings.HasPrefix(name, reservedPrefix) {
			continue
		}
		sig := newFuncSig(funcInfo("", name, def))
		x.funcs[name] = sig
		x.maxStack = max(x.maxStack, sig.stackLen)
	}
	return nil
}
