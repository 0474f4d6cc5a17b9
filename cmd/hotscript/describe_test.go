package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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

// TestRunNamesSourcesFromDir: run names a build's source relative to DIR, as it
// names the script, wherever it runs from and however DIR is given: from /w,
// DIR /w/x/d3 with a broken d3/bad.c reads "d3/bad.wasm ... d3/bad.c:1:8: error",
// not x/d3/d3/bad.c.
func TestRunNamesSourcesFromDir(t *testing.T) {
	needTools(t, "bad.c")
	root := t.TempDir()
	dir := filepath.Join(root, "x", "d3")
	if err := os.MkdirAll(filepath.Join(dir, "d3"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "d3", "bad.c"), []byte("int f( { return 1; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, wd, dir string }{
		{"absolute DIR under the working directory", root, dir},
		{"relative DIR", root, filepath.Join("x", "d3")},
		{"DIR named as its subdirectory is", filepath.Join(root, "x"), "d3"},
		{"working directory DIR", dir, "."},
		{"working directory in DIR", filepath.Join(dir, "d3"), ".."},
		{"absolute DIR above the working directory", filepath.Join(dir, "d3"), dir},
	}
	rejected := regexp.MustCompile(`(?m)^\S+  d3/bad\.wasm +- +rejected +d3/bad\.c:1:\d+: error: `)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(tt.wd)
			r := runCmd(t, "run", "--tps", "500", "--frames", "1", tt.dir)
			if r.code != exitOK || !rejected.MatchString(r.stdout) {
				t.Errorf("exit %d, want the rejected line to name d3/bad.wasm and d3/bad.c:\n%s%s", r.code, r.stdout, r.stderr)
			}
		})
	}
}
