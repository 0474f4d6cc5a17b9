package hotscript

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

var wasmMagic = []byte("\x00asm")

// source returns the bytes of a new version: code, or the script's file when code is
// nil, built if the script is a .wat.
func (s *Script) source(ctx context.Context, code []byte) ([]byte, error) {
	if code == nil {
		if s.path == "" {
			return nil, ErrNoSource
		}
		var err error
		if code, err = os.ReadFile(s.path); err != nil {
			return nil, err
		}
	}
	return s.prepare(ctx, code)
}

// prepare builds .wat text into a module. A .wat script may also be given a built
// module (as package watch delivers it): bytes starting with the wasm magic number are
// used as they are.
func (s *Script) prepare(ctx context.Context, code []byte) ([]byte, error) {
	if !s.needsWAT || bytes.HasPrefix(code, wasmMagic) {
		return code, nil
	}
	return buildWAT(ctx, s.name, code)
}

// buildWAT runs wat2wasm with every feature enabled, as scripts/build-guests.sh does.
func buildWAT(ctx context.Context, name string, src []byte) ([]byte, error) {
	tool, err := exec.LookPath("wat2wasm")
	if err != nil {
		return nil, fmt.Errorf("%w: %s needs wat2wasm (wabt) on PATH: %w", ErrBuild, name, err)
	}
	dir, err := os.MkdirTemp("", "hotscript-wat-")
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBuild, name, err)
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "in.wat"), filepath.Join(dir, "out.wasm")
	if err := os.WriteFile(in, src, 0o600); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBuild, name, err)
	}
	msg, err := exec.CommandContext(ctx, tool, "--enable-all", "-o", out, in).CombinedOutput()
	if err != nil {
		text := strings.TrimSpace(strings.ReplaceAll(string(msg), in, filepath.Base(name)))
		return nil, fmt.Errorf("%w: %s: wat2wasm: %s", ErrBuild, name, text)
	}
	return os.ReadFile(out)
}
