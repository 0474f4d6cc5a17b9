package hotscript

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/hotscript/hotscript/wasm"
)

// wasmEngine adapts a *wasm.Runtime to the host's engine interface.
type wasmEngine struct{ rt *wasm.Runtime }

// newWASMEngine wraps rt, or creates a runtime from lim when rt is nil; owned says
// whether the Host created it (and must close it).
func newWASMEngine(ctx context.Context, rt *wasm.Runtime, lim Limits) (e wasmEngine, owned bool, err error) {
	if rt != nil {
		return wasmEngine{rt}, false, nil
	}
	if rt, err = wasm.NewRuntime(ctx, lim.wasm()); err != nil {
		return e, false, err
	}
	return wasmEngine{rt}, true, nil
}

func (e wasmEngine) inspect(ctx context.Context, _ string, code []byte) (Interface, bool, error) {
	info, err := wasm.Inspect(ctx, code)
	if err != nil {
		return Interface{}, false, err
	}
	return Interface{Exports: wasmFuncs(info.Exports), Imports: wasmFuncs(info.Imports)}, true, nil
}

func (e wasmEngine) load(ctx context.Context, name string, code []byte, lim *Limits) (unit, error) {
	var opts *wasm.ModuleOptions
	if lim != nil {
		l := lim.wasm()
		opts = &wasm.ModuleOptions{Limits: &l}
	}
	id, err := e.rt.Load(ctx, name, code, opts)
	if err != nil {
		return nil, err
	}
	return &wasmUnit{rt: e.rt, id: id}, nil
}

func (e wasmEngine) close(ctx context.Context) error { return e.rt.Close(ctx) }

func wasmFuncs(in []wasm.FuncInfo) []Func {
	out := make([]Func, len(in))
	for i, f := range in {
		out[i] = Func{Module: f.Module, Name: f.Name, Params: wasmTypes(f.Params), Results: wasmTypes(f.Results), Typed: true}
	}
	return out
}

func wasmTypes(ts []wasm.ValueType) []string {
	if len(ts) == 0 {
		return nil
	}
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.String()
	}
	return out
}

type wasmUnit struct {
	rt *wasm.Runtime
	id wasm.ScriptID
}

func (u *wasmUnit) reentered(ctx context.Context) bool { return u.rt.Reentered(ctx, u.id) }

func (u *wasmUnit) call(ctx context.Context, fn string, args []any) (json.RawMessage, error) {
	return u.rt.CallJSON(ctx, u.id, fn, args...)
}

func (u *wasmUnit) iface(context.Context) (Interface, error) {
	ex, err := u.rt.Exports(u.id)
	if err != nil {
		return Interface{}, err
	}
	im, err := u.rt.Imports(u.id)
	if err != nil {
		return Interface{}, err
	}
	return Interface{Exports: wasmFuncs(ex), Imports: wasmFuncs(im)}, nil
}

func (u *wasmUnit) unload(ctx context.Context) error { return u.rt.Unload(ctx, u.id) }

func (u *wasmUnit) stage(ctx context.Context, code []byte) (staged, error) {
	st, err := u.rt.Stage(ctx, u.id, code)
	if err != nil {
		return nil, err
	}
	return wasmStaged{st}, nil
}

type wasmStaged struct{ st *wasm.Staged }

func (s wasmStaged) iface() Interface {
	return Interface{Exports: wasmFuncs(s.st.Exports()), Imports: wasmFuncs(s.st.Imports())}
}

// commit commits through the wasm package, p's migration as its migrate func.
// The time callers were blocked is that func's: Commit runs it once it holds
// the script (after the call or lease in progress, which callers were not
// waiting for), and swaps and lets them go as it returns.
func (s wasmStaged) commit(ctx context.Context, p *commitPlan) (commitResult, error) {
	var res commitResult
	held := false
	err := s.st.Commit(ctx, func(ctx context.Context, old, next *wasm.Instance) error {
		held = true
		start := time.Now()
		defer func() { res.blocked = time.Since(start) }()
		var err error
		// runMigration swaps (p.swap) once nothing else can fail: next goes
		// live as this returns, old still locked.
		res.carried, res.reset, err = runMigration(ctx, p, wasmInstance{old}, wasmInstance{next})
		return err
	})
	var we *wasm.Error
	// An error without a Kind before migrate ran: ctx ended the wait for the
	// script; or ErrReentrant: the wait would never end. Commit keeps the
	// module staged.
	res.kept = err != nil && !held && errors.As(err, &we) && (we.Kind == nil || we.Kind == wasm.ErrReentrant)
	return res, err
}

func (s wasmStaged) discard(ctx context.Context) { s.st.Discard(ctx) }

// wasmInstance is a *wasm.Instance as a Migration sees it.
type wasmInstance struct{ in *wasm.Instance }

func (i wasmInstance) callJSON(ctx context.Context, fn string, args []any) (json.RawMessage, error) {
	return i.in.CallJSON(ctx, fn, args...)
}

func (i wasmInstance) callRaw(ctx context.Context, fn string, params []uint64) ([]uint64, error) {
	return i.in.CallRaw(ctx, fn, params...)
}

func (i wasmInstance) exports() []Func { return wasmFuncs(i.in.Exports()) }

func (i wasmInstance) err() error { return i.in.Err() }

func (i wasmInstance) clearErr() { i.in.ClearErr() }
