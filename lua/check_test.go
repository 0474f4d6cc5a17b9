package lua_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hotscript/hotscript/lua"
)

// oldWithSave is a script whose on_save changes its own module, which a failed
// check must undo.
const oldWithSave = `
local M = { items = {1, 2, 3}, pos = { x = 1 } }
function M.on_save() M.items = nil; M.pos.x = 99; return 1 end
function M.dump() return M.items, M.pos end
return M`

// newWithRestore is the version a check judges: it gets the old fields and
// on_save's result, and can be asked about them.
const newWithRestore = `
local M = { pos = { x = 0 } }
function M.on_restore(saved) M.saved = saved end
function M.x() return M.pos.x end
function M.saved_value() return M.saved end
function M.fail() error("not ready") end
leaked = true
return M`

// A check sees the staged version with its carried state (copied before
// on_save ran) and hook results,
// and whatever it decides, the script ends up in exactly one version: the new
// one when it passes, the old one with its state as before on_save when it
// fails, returns an error from Lua, or panics.
func TestCommitCheck(t *testing.T) {
	ctx := context.Background()
	errNo := errors.New("no")
	tests := []struct {
		name    string
		check   lua.CheckFunc
		refused bool
		wantErr error // what the error matches, if not nil
	}{
		{"passes after reading the carried state", func(ctx context.Context, next *lua.Version) error {
			if x, err := next.CallJSON(ctx, "x"); err != nil || string(x) != "1" { // carried before on_save ran
				return errors.New("x() = " + string(x))
			}
			if s, err := next.CallJSON(ctx, "saved_value"); err != nil || string(s) != "1" {
				return errors.New("saved_value() = " + string(s))
			}
			return nil
		}, false, nil},
		{"returns an error", func(context.Context, *lua.Version) error { return errNo }, true, errNo},
		{"a Lua error in the new version", func(ctx context.Context, next *lua.Version) error {
			_, err := next.CallJSON(ctx, "fail")
			return err
		}, true, lua.ErrRuntime},
		{"a Lua error in the new version, dropped", func(ctx context.Context, next *lua.Version) error {
			_, _ = next.CallJSON(ctx, "fail")
			return nil
		}, true, lua.ErrRuntime},
		{"panics", func(context.Context, *lua.Version) error { panic("boom") }, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, lua.Config{})
			id := load(t, rt, "s.lua", oldWithSave)
			before := call(t, rt, id, "dump")
			st, err := rt.Stage(ctx, id, []byte(newWithRestore))
			if err != nil {
				t.Fatal(err)
			}
			var seen *lua.Version
			rep, err := st.CommitCheck(ctx, func(ctx context.Context, next *lua.Version) error {
				seen = next
				return tt.check(ctx, next)
			})
			if !tt.refused {
				if err != nil || !rep.Saved || !rep.Restored {
					t.Fatalf("CommitCheck = %+v, %v; want committed", rep, err)
				}
				if got := call(t, rt, id, "x"); got != "1" {
					t.Errorf("live x() = %s, want 1", got)
				}
			} else {
				if !errors.Is(err, lua.ErrCheck) || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Fatalf("CommitCheck error %v, want ErrCheck and %v", err, tt.wantErr)
				}
				if rep.Saved || rep.Restored {
					t.Errorf("report %+v after a refused check", rep)
				}
				if after := call(t, rt, id, "dump"); after != before {
					t.Errorf("old state after the refused check %s, want %s", after, before)
				}
				if _, err := rt.CallJSON(ctx, id, "x"); !errors.Is(err, lua.ErrNoFunction) {
					t.Errorf("x() on the old version: %v, want ErrNoFunction", err)
				}
			}
			if _, err := seen.CallJSON(ctx, "x"); !errors.Is(err, lua.ErrClosed) {
				t.Errorf("Version used after its check: %v, want ErrClosed", err)
			}
		})
	}
}
