package wasm

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/hotscript/hotscript/internal/idtable"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Runtime runs WebAssembly scripts and reloads them while they run. Create one with
// NewRuntime and close it with Close. All its methods are safe for concurrent use.
type Runtime struct {
	limits Limits

	mu     sync.Mutex // guards the fields below and writes to scripts
	hosts  []hostDef
	linked map[importName]FuncInfo // signatures, built when sealed
	sealed bool                    // a load happened; hosts are final
	eng    *engine                 // created by the first load

	closed   atomic.Bool
	busy     sync.WaitGroup // loads and stages between enter and the end of their instantiation
	nextID   atomic.Uint64
	scripts  idtable.Table[script] // by ScriptID
	unloaded idtable.Names         // the names of scripts unloaded last, for errors
	cache    codeCache
	live     sync.Map // api.Module -> *instance, for host functions
}

// engine is the wazero runtime with the host modules instantiated in it.
type engine struct {
	rt wazero.Runtime
}

// NewRuntime returns a runtime whose scripts get limits unless they are loaded with
// their own (see ModuleOptions). The context is used for setup only.
func NewRuntime(ctx context.Context, limits Limits) (*Runtime, error) {
	if err := limits.validate(); err != nil {
		return nil, &Error{Op: "new runtime", Kind: ErrLimit, Err: err}
	}
	return &Runtime{limits: limits}, nil
}

// Close closes every script and releases everything the runtime made. Calls in
// progress finish first, and so do loads and reloads compiling or running a
// start function, which then fail with ErrClosed; later calls return
// ErrClosed. A metered call or start function (MaxInstructions or
// MaxExecutionTime) is stopped at its next check of its limits, failing with
// ErrClosed; an unmetered one runs to its end, however long. Close is idempotent and safe for concurrent use. Called from a
// host function, under its context, it fails with ErrReentrant and closes
// nothing: it would wait for the call, or the load running a start function,
// that runs that function.
func (rt *Runtime) Close(ctx context.Context) error {
	rt.mu.Lock()
	if rt.closed.Load() {
		rt.mu.Unlock()
		return nil
	}
	for _, s := range rt.scripts.All() {
		if s.reentered(ctx) {
			rt.mu.Unlock()
			return &Error{Op: "close", Script: s.name, Kind: ErrReentrant}
		}
	}
	// A start function's host function: Close would wait for its load (busy).
	if inst, _ := ctx.Value(callerKey{}).(*instance); inst != nil && inst.s.rt == rt {
		rt.mu.Unlock()
		return &Error{Op: "close", Script: inst.s.name, Kind: ErrReentrant}
	}
	rt.closed.Store(true)
	eng := rt.eng
	rt.mu.Unlock()

	for _, s := range rt.scripts.All() {
		_, _ = s.retire(ctx, "close") // a host function's call ruled out above
	}
	// A compile that ends in a closed wazero runtime panics (it records its
	// code in a map Close has dropped), and a start function's calls fail.
	rt.busy.Wait()
	var err error
	if eng != nil {
		err = eng.rt.Close(ctx)
	}
	rt.cache.close()
	rt.live.Clear()
	return err
}

// enter returns the engine for a load or a stage, creating it on first use (the
// first call seals the host function definitions), and counts the caller as
// busy in it: Close waits for the caller's rt.busy.Done before it closes the
// engine. On error the caller is not counted.
func (rt *Runtime) enter() (*engine, error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.closed.Load() {
		return nil, ErrClosed
	}
	rt.seal()
	if rt.eng == nil {
		// Not under ctx: its values reach wazero's compile of the host modules,
		// which every script calls (see code.compile).
		bg := context.Background()
		r := wazero.NewRuntime(bg)
		if err := rt.instantiateHosts(bg, r); err != nil {
			_ = r.Close(bg)
			return nil, err
		}
		rt.eng = &engine{rt: r}
	}
	rt.busy.Add(1) // under mu, before Close can set closed and Wait
	return rt.eng, nil
}

// script returns the script with the given ID.
func (rt *Runtime) script(id ScriptID) (*script, error) {
	if s := rt.scripts.Get(uint64(id)); s != nil {
		return s, nil
	}
	if rt.closed.Load() {
		return nil, ErrClosed
	}
	return nil, ErrNotFound
}

// publish makes a loaded script visible under its ID.
func (rt *Runtime) publish(s *script) error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.closed.Load() {
		return ErrClosed
	}
	rt.scripts.Put(uint64(s.id), s)
	return nil
}

// unpublish removes a script's ID.
func (rt *Runtime) unpublish(id ScriptID) {
	rt.scripts.Clear(uint64(id))
}

// instanceOf finds the instance a host function was called from: a live one by its
// module, else the one ctx names (see callerKey).
func (rt *Runtime) instanceOf(ctx context.Context, mod api.Module) *instance {
	if v, ok := rt.live.Load(mod); ok {
		return v.(*instance)
	}
	inst, _ := ctx.Value(callerKey{}).(*instance)
	return inst
}

// callerKey is the context key under which a host function finds the
// instance it was called for when its module does not tell: one being created,
// whose start functions run before it is live, or one whose export of an
// imported host function was called, which wazero runs in the host module.
// The innermost call's instance is the one found.
type callerKey struct{}
