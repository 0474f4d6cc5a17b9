package lua_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/hotscript/hotscript/lua"
)

// world is what a program owns outside its scripts, written by a host
// function, host.set(key, value), that registers with lua.OnRollback how to
// put each write back; host.get(key) reads it.
type world struct {
	mu         sync.Mutex
	vals       map[string]float64
	registered []bool // what OnRollback returned, per write
	committing []bool // what Committing returned before it
	commitCtx  []context.Context
	panicUndo  bool // the undo functions panic after putting the value back
}

func newWorldRuntime(t *testing.T, cfg lua.Config) (*lua.Runtime, *world) {
	t.Helper()
	w := &world{vals: map[string]float64{"hp": 100}}
	rt := newRuntime(t, cfg)
	err := rt.Define("host", "set", func(ctx context.Context, c *lua.Call) ([]any, error) {
		k, v := c.Args[0].(string), c.Args[1].(float64)
		w.mu.Lock()
		defer w.mu.Unlock()
		was, had := w.vals[k]
		w.vals[k] = v
		w.committing = append(w.committing, lua.Committing(ctx))
		ok := lua.OnRollback(ctx, func() {
			w.mu.Lock()
			defer w.mu.Unlock()
			if had {
				w.vals[k] = was
			} else {
				delete(w.vals, k)
			}
			if w.panicUndo {
				panic("undo of " + k + " broke")
			}
		})
		w.registered = append(w.registered, ok)
		w.commitCtx = append(w.commitCtx, ctx)
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = rt.Define("host", "get", func(ctx context.Context, c *lua.Call) ([]any, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		return []any{w.vals[c.Args[0].(string)]}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rt, w
}

func (w *world) get(k string) (float64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	v, ok := w.vals[k]
	return v, ok
}

// TestOnRollback: what host functions called by on_save, on_restore and a
// CheckFunc wrote outside the script is put back, most recent write last
// undone first, when the commit fails; it stays when the commit goes
// through, and a write from an ordinary call registers nothing.
func TestOnRollback(t *testing.T) {
	ctx := context.Background()
	const v1 = "local M = {}\nfunction M.hit() host.set('hp', 90) end\nreturn M"
	for _, tt := range []struct {
		name    string
		src     string
		check   lua.CheckFunc
		panics  bool
		wantErr string // "" if the commit goes through
		want    map[string]float64
	}{
		{"on_restore fails", "local M = {}\nfunction M.on_save() return {} end\nfunction M.on_restore() host.set('hp', 10) host.set('hp', 20) host.set('mp', 5) error('no') end\nreturn M",
			nil, false, "no", map[string]float64{"hp": 100}},
		{"on_save writes, on_restore fails", "local M = {}\nfunction M.on_restore() error('no') end\nreturn M",
			nil, false, "no", map[string]float64{"hp": 100}},
		{"check fails after a call", "local M = {}\nfunction M.f() host.set('hp', 1) host.set('mp', 2) end\nreturn M",
			func(ctx context.Context, next *lua.Version) error {
				if _, err := next.CallJSON(ctx, "f"); err != nil {
					return err
				}
				return errors.New("refused")
			}, false, "refused", map[string]float64{"hp": 100}},
		{"an undo panics", "local M = {}\nfunction M.on_save() return {} end\nfunction M.on_restore() host.set('hp', 10) host.set('mp', 5) error('no') end\nreturn M",
			nil, true, "no (and 2 Undo functions panicked: undo of mp broke; undo of hp broke)", map[string]float64{"hp": 100}},
		{"commits", "local M = {}\nfunction M.on_save() return {} end\nfunction M.on_restore() host.set('hp', 10) host.set('mp', 5) end\nreturn M",
			nil, false, "", map[string]float64{"hp": 10, "mp": 5}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rt, w := newWorldRuntime(t, lua.Config{})
			old := v1
			if strings.HasPrefix(tt.name, "on_save") {
				old = "local M = {}\nfunction M.hit() host.set('hp', 90) end\nfunction M.on_save() host.set('hp', 50) return {} end\nreturn M"
			}
			id := load(t, rt, "p.lua", old)
			w.panicUndo = tt.panics
			st, err := rt.Stage(ctx, id, []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			_, err = st.CommitCheck(ctx, tt.check)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("commit: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("commit: %v, want an error saying %q", err, tt.wantErr)
			}
			for _, k := range []string{"hp", "mp"} {
				got, ok := w.get(k)
				want, wantOK := tt.want[k]
				if got != want || ok != wantOK {
					t.Errorf("%s = %v (set %v) after the commit, want %v (set %v)", k, got, ok, want, wantOK)
				}
			}
			for i, ok := range w.registered {
				if !ok || !w.committing[i] {
					t.Errorf("write %d in the commit: OnRollback returned %v, Committing %v; want true", i, ok, w.committing[i])
				}
			}
			// Once the commit is over its context registers nothing, and
			// an ordinary call's never did.
			for _, c := range w.commitCtx {
				if lua.OnRollback(c, func() {}) || lua.Committing(c) {
					t.Errorf("OnRollback or Committing with a commit's context after the commit returned true")
				}
			}
			w.registered, w.committing, w.panicUndo = nil, nil, false
			if tt.wantErr != "" { // v1 is live again
				call(t, rt, id, "hit")
				if got, _ := w.get("hp"); got != 90 || len(w.registered) != 1 || w.registered[0] || w.committing[0] {
					t.Errorf("an ordinary call: hp %v, OnRollback %v, Committing %v; want 90, false", got, w.registered, w.committing)
				}
			}
		})
	}
	if lua.OnRollback(ctx, func() { t.Error("ran") }) {
		t.Error("OnRollback outside a commit returned true")
	}
}

// TestOnRollbackPastFailingOnSave: under ReloadPastFailingOnSave, what the
// host functions a failing on_save called wrote is put back before
// on_restore runs, as what it changed in the script is; the reload goes on.
func TestOnRollbackPastFailingOnSave(t *testing.T) {
	ctx := context.Background()
	rt, w := newWorldRuntime(t, lua.Config{ReloadPastFailingOnSave: true})
	id := load(t, rt, "p.lua", "local M = {}\nfunction M.on_save() host.set('hp', 7) error('typo') end\nreturn M")
	w.panicUndo = true
	st, err := rt.Stage(ctx, id, []byte("local M = {}\nfunction M.on_restore(s) M.seen = host.get('hp') end\nreturn M"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := st.Commit(ctx)
	if err != nil {
		t.Fatalf("the reload past on_save: %v", err)
	}
	if seen := field(t, rt, id, "seen"); seen != "100" {
		t.Errorf("on_restore saw hp = %s, want 100 (on_save's write undone)", seen)
	}
	if rep.SaveFailed == nil || !strings.Contains(rep.SaveFailed.Error(), "typo (and an Undo function panicked: undo of hp broke)") {
		t.Errorf("SaveFailed = %v, want on_save's error with the undo's panic", rep.SaveFailed)
	}
	if e := asError(t, rep.SaveFailed); e.Function != lua.LiveOnSave {
		t.Errorf("SaveFailed names %q, want %q", e.Function, lua.LiveOnSave)
	}
}

// TestOnRollbackNotInReloadItMakes: a reload of another script that a HostFunc
// of a commit's hook makes is that script's own: its chunk does not register
// with the commit's log, and the commit's rollback leaves it.
func TestOnRollbackNotInReloadItMakes(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, lua.Config{})
	var b lua.ScriptID
	var registered, undone bool
	if err := rt.Define("host", "probe", func(ctx context.Context, c *lua.Call) ([]any, error) {
		registered = lua.OnRollback(ctx, func() { undone = true })
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := rt.Define("host", "kick", func(ctx context.Context, c *lua.Call) ([]any, error) {
		return nil, rt.ReloadScript(ctx, b, []byte("host.probe()\nreturn {}"))
	}); err != nil {
		t.Fatal(err)
	}
	b = load(t, rt, "b.lua", "return {}")
	a := load(t, rt, "a.lua", "return {on_save = function() return {} end}")
	if err := rt.ReloadScript(ctx, a, []byte("return {on_restore = function() host.kick() error('no') end}")); err == nil {
		t.Fatal("a's reload went through; want on_restore's error")
	}
	if registered || undone {
		t.Errorf("b's chunk registered with a's commit: OnRollback %v, undone by a's rollback %v", registered, undone)
	}
}

// TestOnRollbackPanicPastFailingOnSave: gone on past a failing on_save, whose
// host function's undo function panics as on_save's changes are undone, a
// reload that then fails (on_restore) says the panic with its error: it went
// into ReloadReport.SaveFailed, which a failed reload drops.
func TestOnRollbackPanicPastFailingOnSave(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, lua.Config{ReloadPastFailingOnSave: true})
	if err := rt.Define("game", "touch", func(ctx context.Context, c *lua.Call) ([]any, error) {
		what := c.Args[0].(string)
		lua.OnRollback(ctx, func() { panic("undo of " + what + " broke") })
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	id := load(t, rt, "p.lua", "local M = {}\nfunction M.on_save() game.touch('save') error('save failed') end\nreturn M")
	err := rt.ReloadScript(ctx, id, []byte("local M = {}\nfunction M.on_restore() game.touch('restore') error('restore failed') end\nreturn M"))
	const want = "restore failed (and 2 Undo functions panicked: undo of save broke; undo of restore broke)"
	if err == nil || !strings.Contains(err.Error(), want) || !errors.As(err, new(*lua.Error)) {
		t.Errorf("reload: %v, want an *Error saying %q", err, want)
	}
}
