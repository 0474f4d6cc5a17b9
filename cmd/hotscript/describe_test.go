package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/hotscript/hotscript"
)

// TestDescribeSteps: a reload rejected by its state migration or its self-check
// is described from the Host's real error, leading with the script, then the
// step, then the cause, each once.
func TestDescribeSteps(t *testing.T) {
	ctx := context.Background()
	h, closeHost, err := newHost(ctx, hotscript.Config{}, func(string, string) {})
	if err != nil {
		t.Fatal(err)
	}
	defer closeHost()
	reload := func(t *testing.T, name string, v1, v2 []byte, opts *hotscript.ScriptOptions) error {
		t.Helper()
		s, err := h.LoadBytes(ctx, name, v1, opts)
		if err != nil {
			t.Fatal(err)
		}
		err = h.Reload(ctx, s, v2)
		if err == nil {
			t.Fatalf("the reload of %s was committed", name)
		}
		return err
	}
	lua := func(onReload string) []byte {
		return []byte("local M = {}\nfunction M.update(dt) end\nfunction M.on_reload()\n  " + onReload + "\nend\nreturn M\n")
	}
	t.Run("lua self-check returns a failure", func(t *testing.T) {
		err := reload(t, "false.lua", lua("return true"), lua("return false"), nil)
		checkHead(t, "false.lua", err, "false.lua: self-check failed: on_reload on v2 returned false")
	})
	t.Run("lua self-check raises", func(t *testing.T) {
		err := reload(t, "raise.lua", lua("return true"), lua(`error("bad")`), nil)
		checkHead(t, "raise.lua", err, "raise.lua:4: self-check failed: bad (in on_reload)")
	})

	needTools(t, "x.wat")
	const state = `(memory (export "memory") 1) (data (i32.const 0) "{}")
	  (func (export "alloc") (param i32) (result i32) i32.const 1024)
	  (func (export "get_state") (result i32 i32) i32.const 0 i32.const 2)`
	v1 := wat(t, `(module `+state+` (func (export "set_state") (param i32 i32)))`)
	t.Run("wasm set_state traps", func(t *testing.T) {
		v2 := wat(t, `(module `+state+` (func (export "set_state") (param i32 i32) unreachable))`)
		err := reload(t, "trap.wasm", v1, v2, &hotscript.ScriptOptions{Migration: hotscript.MigrateExports})
		checkHead(t, "trap.wasm", err, "trap.wasm: state migration failed: set_state: trap: unreachable")
	})
	t.Run("wasm without set_state", func(t *testing.T) {
		v2 := wat(t, `(module `+state+`)`)
		err := reload(t, "lost.wasm", v1, v2, &hotscript.ScriptOptions{Migration: hotscript.MigrateExports})
		checkHead(t, "lost.wasm", err, "lost.wasm: state migration failed: v2 does not export set_state")
	})
	t.Run("wasm self-check traps", func(t *testing.T) {
		v2 := wat(t, `(module `+state+` (func (export "set_state") (param i32 i32)) (func (export "on_reload") unreachable))`)
		err := reload(t, "check.wasm", v1, v2, &hotscript.ScriptOptions{Migration: hotscript.MigrateExports})
		checkHead(t, "check.wasm", err, "check.wasm: self-check failed: on_reload: trap: unreachable")
	})
}

func checkHead(t *testing.T, script string, err error, want string) {
	t.Helper()
	if head, _ := describe(script, err); head != want {
		t.Errorf("head %q, want %q\nerror: %v", head, want, err)
	}
}

// wat builds a module from its text with wat2wasm.
func wat(t *testing.T, text string) []byte {
	t.Helper()
	dir := t.TempDir()
	src, out := filepath.Join(dir, "m.wat"), filepath.Join(dir, "m.wasm")
	if err := os.WriteFile(src, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("wat2wasm", src, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm: %v\n%s", err, b)
	}
	return readFile(t, out)
}
