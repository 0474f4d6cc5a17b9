package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
)

// ownTempDir gives the process a temporary directory of its own, made in the one
// the environment names (os.TempDir), and names it in the environment instead,
// so that whatever the command and its children make there lands in it: the
// builds of package watch's steps (os.MkdirTemp("", ...)), the objects clang
// writes while it builds, the demo's directory. The builds remove their files
// with deferred calls, which the forced exit of a second Ctrl-C skips; it runs
// the hooks of onForcedExit instead, and one of them now removes the whole
// directory. remove removes it when the command returns.
//
// It returns ctx with the hooks of onForcedExit, which interruptContext then
// uses, and changes the process's environment: main calls it, not the tests that
// run commands side by side. If the directory cannot be made, nothing changes:
// the builds then fail or succeed as they would have.
func ownTempDir(ctx context.Context) (_ context.Context, remove func()) {
	ctx = withExitHooks(ctx)
	dir, err := os.MkdirTemp("", "hotscript-tmp-")
	if err == nil {
		// Absolute: build tools run in their source's directory.
		dir, err = filepath.Abs(dir)
	}
	if err != nil {
		return ctx, func() {}
	}
	for _, name := range tempDirVars() {
		if err := os.Setenv(name, dir); err != nil {
			_ = os.RemoveAll(dir)
			return ctx, func() {}
		}
	}
	remove = func() { _ = os.RemoveAll(dir) }
	onForcedExit(ctx, remove)
	return ctx, remove
}

// tempDirVars are the environment variables os.TempDir reads on this system, and
// with it the tools that follow its conventions.
func tempDirVars() []string {
	if runtime.GOOS == "windows" {
		return []string{"TMP", "TEMP"}
	}
	return []string{"TMPDIR"}
}
