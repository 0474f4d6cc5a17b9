package hotscript

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/hotscript/hotscript/lua"
)

// luaEngine adapts a *lua.Runtime to the host's engine interface. Lua functions have
// no declared signatures, so interfaces list names only, and Lua scripts have no
// imports (host functions are globals every script sees).
type luaEngine struct{ rt *lua.Runtime }

func newLuaEngine(ctx context.Context, rt *lua.Runtime, lim Limits) (e luaEngine, owned bool, err error) {
	if rt != nil {
		return luaEngine{rt}, false, nil
	}
	if rt, err = lua.NewRuntime(ctx, lim.lua()); err != nil {
		return e, false, err
	}
	return luaEngine{rt}, true, nil
}

// inspect cannot tell a chunk's interface without running it, and running it
// anywhere but in the runtime would miss its host functions (a chunk that logs
// as it loads) or run them twice.
func (e luaEngine) inspect(context.Context, string, []byte) (Interface, bool, error) {
	return Interface{}, false, nil
}

func (e luaEngine) load(ctx context.Context, name string, code []byte, lim *Limits) (unit, error) {
	var opts *lua.ScriptOptions
	if lim != nil {
		l := lim.lua()
		opts = &lua.ScriptOptions{Limits: &l}
	}
	id, err := e.rt.Load(ctx, name, code, opts)
	if err != nil {
		return nil, err
	}
	return &luaUnit{rt: e.rt, id: id}, nil
}

func (e luaEngine) close(ctx context.Context) error { return e.rt.Close(ctx) }

func luaFuncs(names []string) []Func {
	out := make([]Func, len(names))
	for i, n := range names {
		out[i] = Func{Name: n}
	}
	return out
}

type luaUnit struct {
	rt *lua.Runtime
	id lua.ScriptID
}

func (u *luaUnit) reentered(ctx context.Context) bool { return u.rt.Reentered(ctx, u.id) }

func (u *luaUnit) call(ctx context.Context, fn string, args []any) (json.RawMessage, error) {
	return u.rt.CallJSON(ctx, u.id, fn, args...)
}

func (u *luaUnit) iface(ctx context.Context) (Interface, error) {
	fns, err := u.rt.Functions(ctx, u.id)
	if err != nil {
		return Interface{}, err
	}
	return Interface{Exports: luaFuncs(fns)}, nil
}

func (u *luaUnit) unload(ctx context.Context) error { return u.rt.Unload(ctx, u.id) }

func (u *luaUnit) stage(ctx context.Context, code []byte) (staged, error) {
	st, err := u.rt.Stage(ctx, u.id, code)
	if err != nil {
		return nil, err
	}
	return luaStaged{st}, nil
}

type luaStaged struct{ st *lua.Staged }

func (s luaStaged) iface() Interface { return Interface{Exports: luaFuncs(s.st.Functions())} }

// commit carries the module's fields with the lua package's rules (p's migration is
// WASM-only), then runs p's self-check function if the new module has one.
//
// The check is the last step of the lua package's commit before it swaps,
// with the script held: p.swap runs at its end, when nothing else can fail,
// so it runs even when there is no self-check.
func (s luaStaged) commit(ctx context.Context, p *commitPlan) (commitResult, error) {
	selfCheck := slices.Contains(s.st.Functions(), p.selfCheck)
	check := func(ctx context.Context, next *lua.Version) error {
		if selfCheck {
			err := p.runSelfCheck(ctx, func(ctx context.Context, fn string, args []any) (json.RawMessage, error) {
				return next.CallJSON(ctx, fn, args...)
			})
			if err != nil {
				return err
			}
		}
		return p.swap()
	}
	rep, err := s.st.CommitCheck(ctx, check)
	if err != nil {
		return commitResult{blocked: rep.Blocked, kept: unspent(err)}, err // 0 if it never held the script
	}
	return commitResult{carried: rep.Carried, blocked: rep.Blocked, reset: rep.SaveFailed}, nil
}

// unspent reports whether err, from a Lua commit, says that it did not wait
// for the script, which keeps the version staged: its context ended while it
// waited, or the wait would never end (ErrReentrant). The lua package's commit
// fails so ("lua: commit x.lua: context deadline exceeded") before it runs any
// hook, whose failures name the hook's operation, "reload".
func unspent(err error) bool {
	var le *lua.Error
	return errors.As(err, &le) && le.Op == "commit" && (errors.Is(le.Kind, context.Canceled) ||
		errors.Is(le.Kind, context.DeadlineExceeded) || errors.Is(le.Kind, lua.ErrReentrant))
}

func (s luaStaged) discard(ctx context.Context) { s.st.Discard(ctx) }
