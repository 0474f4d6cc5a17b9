package hotscript

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hotscript/hotscript/ecs"
	"github.com/hotscript/hotscript/internal/guest"
	"github.com/hotscript/hotscript/internal/hostguest"
)

// TestOnRollback: a host function that spawns an entity in the World
// registers its despawning with OnRollback; called by what a commit runs (a
// WASM migration's call into the new version, a Lua on_restore), the entity
// is gone again when the reload is rejected after it, and stays when the
// reload commits. Called by the program, OnRollback registers nothing.
func TestOnRollback(t *testing.T) {
	type X struct{ V float64 } // where a spawned entity is
	ctx := context.Background()
	const luaBody = "local M = {}\nfunction M.wave(x) return game.spawn('orc', x) end\nfunction M.on_save() return {} end\n"
	for _, tt := range []struct {
		name, file string
		v1, v2     []byte
		fail       bool // the migration fails after the call (WASM)
		wantErr    error
	}{
		{"wasm commits", "w.wasm", hostguest.Bytes("spawner"), hostguest.Bytes("spawner"), false, nil},
		{"wasm migration fails", "w.wasm", hostguest.Bytes("spawner"), hostguest.Bytes("spawner"), true, ErrMigration},
		{"lua commits", "w.lua", []byte(luaBody + "return M"), []byte(luaBody + "function M.on_restore() M.id = game.spawn('orc', 3.5) end\nreturn M"), false, nil},
		{"lua self-check fails", "w.lua", []byte(luaBody + "return M"), []byte(luaBody + "function M.on_restore() game.spawn('orc', 3.5) game.spawn('elf', 3.5) end\nfunction M.on_reload() return false end\nreturn M"), false, ErrSelfCheck},
	} {
		t.Run(tt.name, func(t *testing.T) {
			world := ecs.NewWorld()
			var registered []bool
			spawn := HostFunc{Module: "game", Name: "spawn", Params: []Type{String, F64}, Results: []Type{I64},
				Func: func(ctx context.Context, c HostCall) error {
					e := world.Spawn()
					ecs.Insert(world, e, X{c.Float(1)})
					committing := Committing(ctx)
					registered = append(registered, OnRollback(ctx, func() { world.Unspawn(e) }))
					if committing != registered[len(registered)-1] {
						t.Errorf("Committing %v, OnRollback %v", committing, !committing)
					}
					c.SetInt(0, int64(world.Len()))
					return nil
				}}
			migrate := func(ctx context.Context, m *Migration) error {
				if _, err := m.CallNew(ctx, "wave", 3.5); err != nil {
					return err
				}
				if tt.fail {
					return errors.New("no room")
				}
				return nil
			}
			h := newTestHost(t, Config{World: world, Funcs: []HostFunc{spawn}, Migration: migrate})
			s := mustLoad(t, h, tt.file, tt.v1, nil)
			call(t, h, s, "wave", 1.5)
			if len(registered) != 1 || registered[0] {
				t.Fatalf("a call from the program: OnRollback returned %v, want false", registered)
			}
			registered = nil
			err := h.Reload(ctx, s, tt.v2)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Reload: %v, want %v", err, tt.wantErr)
			}
			if len(registered) == 0 {
				t.Fatal("the reload's commit did not call game.spawn")
			}
			for _, ok := range registered {
				if !ok {
					t.Error("a call from the commit: OnRollback returned false")
				}
			}
			n := world.Len()
			want := 1 + len(registered) // the program's entity and the commit's
			if tt.wantErr != nil {
				want = 1
			}
			if n != want {
				t.Errorf("%d entities after the reload, want %d", n, want)
			}
			if next := world.Spawn(); tt.wantErr != nil && next != ecs.Entity(1<<32|1) {
				t.Errorf("the next entity after the rollback is %v, want 1v1: the commit's spawns undone", next)
			}
		})
	}
}

// TestOnRollbackNotInReloadsItStarts: a reload a commit's host function
// starts (ReloadAsync) is a request of its own: its staging, running while
// that commit still runs, does not register with the commit's undo log.
func TestOnRollbackNotInReloadsItStarts(t *testing.T) {
	ctx := context.Background()
	probed := make(chan bool, 1)
	var h *Host
	var other *Script
	funcs := []HostFunc{
		{Module: "game", Name: "probe", Func: func(ctx context.Context, c HostCall) error {
			probed <- OnRollback(ctx, func() {})
			return nil
		}},
		{Module: "game", Name: "kick", Func: func(ctx context.Context, c HostCall) error {
			h.ReloadAsync(ctx, other, []byte("game.probe()\nreturn {}"))
			select {
			case ok := <-probed:
				if ok {
					t.Error("the staging of a reload started in a commit registered with the commit's undo log")
				}
			case <-time.After(10 * time.Second):
				t.Error("the other script's staging did not run while the commit waited")
			}
			return nil
		}},
	}
	h = newTestHost(t, Config{Funcs: funcs})
	other = mustLoad(t, h, "other.lua", "return {}", nil)
	s := mustLoad(t, h, "s.lua", "return {on_save = function() return {} end}", nil)
	if err := h.Reload(ctx, s, []byte("return {on_save = function() return {} end, on_restore = function() game.kick() end}")); err != nil {
		t.Fatal(err)
	}
}

// TestOnRollbackNotInWorkItStarts: a reload or a load of another script that
// a commit's host function makes and waits for is that script's own: its
// chunk's host functions do not register with the commit's log, and the
// commit's rollback leaves what that load or reload did.
func TestOnRollbackNotInWorkItStarts(t *testing.T) {
	ctx := context.Background()
	for _, how := range []string{"Reload", "LoadBytes"} {
		t.Run(how, func(t *testing.T) {
			var h *Host
			var other *Script
			var registered, undone bool
			funcs := []HostFunc{
				{Module: "game", Name: "probe", Func: func(ctx context.Context, c HostCall) error {
					registered = OnRollback(ctx, func() { undone = true })
					return nil
				}},
				{Module: "game", Name: "kick", Func: func(ctx context.Context, c HostCall) error {
					if how == "Reload" {
						return h.Reload(ctx, other, []byte("game.probe()\nreturn {}"))
					}
					_, err := h.LoadBytes(ctx, "b.lua", []byte("game.probe()\nreturn {}"), nil)
					return err
				}},
			}
			h = newTestHost(t, Config{Funcs: funcs})
			other = mustLoad(t, h, "other.lua", "return {}", nil)
			s := mustLoad(t, h, "s.lua", "return {on_save = function() return {} end}", nil)
			err := h.Reload(ctx, s, []byte("return {on_save = function() return {} end, on_restore = function() game.kick() end, on_reload = function() return false end}"))
			if !errors.Is(err, ErrSelfCheck) {
				t.Fatalf("Reload: %v, want the self-check failed", err)
			}
			if registered || undone {
				t.Errorf("the %s the commit made registered with its log: OnRollback %v, undone by its rollback %v", how, registered, undone)
			}
		})
	}
}

// TestUndoOnProgramMigration: a Migration the program makes (to test its
// MigrationFunc) takes Undo functions like the Host's.
func TestUndoOnProgramMigration(t *testing.T) {
	m := &Migration{Script: "x.wasm", From: 1, To: 2}
	ran := false
	m.Undo(func() { ran = true })
	if err := m.undo.Run(nil); err != nil || !ran {
		t.Errorf("the registered function: ran %v, err %v", ran, err)
	}
}

// TestOnRollbackPanicReported: a panic in an undo function is said with the
// reload's error, whichever step failed: a Lua self-check (whose error the
// Host reports as the step's) as well as on_restore.
func TestOnRollbackPanicReported(t *testing.T) {
	ctx := context.Background()
	funcs := []HostFunc{{Module: "game", Name: "probe", Func: func(ctx context.Context, c HostCall) error {
		OnRollback(ctx, func() { panic("undo broke") })
		return nil
	}}}
	h := newTestHost(t, Config{Funcs: funcs})
	s := mustLoad(t, h, "s.lua", "return {on_save = function() return {} end}", nil)
	for _, hooks := range []string{
		"on_restore = function() game.probe() end, on_reload = function() return false end",
		"on_restore = function() game.probe() error('nope') end",
	} {
		err := h.Reload(ctx, s, []byte("return {on_save = function() return {} end, "+hooks+"}"))
		if err == nil || !strings.Contains(err.Error(), "(and an Undo function panicked: undo broke)") {
			t.Errorf("hooks %s: %v, want the reload's error saying the panic", hooks, err)
		}
	}
}

// A reload whose ctx ends during its migration: a metered script's call made
// then is refused before it runs, and counts as a call its context stopped,
// so the reload rolls back even though the MigrationFunc ignores the error
// (helper-169: a first version of the refusal did not count it, and v2 went
// live without its state); an unmetered script's call, which does not watch
// ctx, runs and carries the state.
func TestMigrationCtxEndedRollsBack(t *testing.T) {
	for _, lim := range []*Limits{nil, {MaxExecutionTime: time.Second}} {
		ctx, cancel := context.WithCancel(context.Background())
		h := newTestHost(t, Config{Migration: func(mctx context.Context, m *Migration) error {
			n, err := m.CallOld(mctx, "get_counter")
			if err != nil {
				return err
			}
			cancel() // the program gives up on the Reload
			m.CallNew(mctx, "set_counter", json.Number(n))
			return nil // its error ignored
		}})
		s, err := h.LoadBytes(context.Background(), "c.wasm", guest.Bytes("counter_v1"), &ScriptOptions{Limits: lim})
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			call(t, h, s, "increment")
		}
		err = h.Reload(ctx, s, guest.Bytes("counter_v2"))
		v, n := call(t, h, s, "version"), call(t, h, s, "get_counter")
		if wantV := map[bool]string{true: "1", false: "2"}[lim != nil]; n != "5" || v != wantV || (lim != nil) != (err != nil) {
			t.Errorf("limits %v: Reload = %v, live version %s with counter %s; want version %s with 5", lim, err, v, n, wantV)
		}
	}
}
