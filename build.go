package hotscript

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"path/filepath"
	"strings"

	"github.com/hotscript/hotscript/internal/fsread"
	"github.com/hotscript/hotscript/watch"
)

var wasmMagic = []byte("\x00asm")

// source returns the bytes of a new version: code, or the script's file when code is
// nil, built if the script is a .wat. For a .wasm whose source beside it (x.c,
// x.wat) was saved after it, that is the source, built: the one saved last runs,
// as under Watch, which builds a saved source without writing the .wasm.
func (s *Script) source(ctx context.Context, code []byte) ([]byte, error) {
	if code == nil {
		if s.path == "" {
			return nil, ErrNoSource
		}
		if src := newerSource(s.path); src != "" {
			out, _, err := watch.DefaultBuildSteps()[filepath.Ext(src)].Build(ctx, src)
			if err != nil {
				return nil, &stepError{ErrBuild, err}
			}
			return out, nil
		}
		var err error
		if code, err = fsread.File(s.path); err != nil {
			return nil, err
		}
		s.readSum.Store(maphash.Bytes(markSeed, code))
	}
	return s.prepare(ctx, code)
}

// newerSource returns the source beside wasm, a .wasm file (see sourceOf), if it
// was saved after wasm, else "".
func newerSource(wasm string) string {
	src := sourceOf(wasm)
	if src == "" {
		return ""
	}
	si, err1 := os.Stat(src)
	wi, err2 := os.Stat(wasm)
	if err1 != nil || err2 != nil || !si.ModTime().After(wi.ModTime()) {
		return ""
	}
	return src
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

// buildWAT builds .wat text with the .wat step of watch.DefaultBuildSteps, the one
// Watch rebuilds saved files with, so that a script is built the same way at load
// and on every save. The text goes to a temporary file named like the script, and
// the tool's messages come back naming the script.
func buildWAT(ctx context.Context, name string, src []byte) ([]byte, error) {
	dir, err := os.MkdirTemp("", "hotscript-wat-")
	if err != nil {
		return nil, &stepError{ErrBuild, fmt.Errorf("%s: %w", name, err)}
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, filepath.Base(name))
	if err := os.WriteFile(in, src, 0o600); err != nil {
		return nil, &stepError{ErrBuild, fmt.Errorf("%s: %w", name, err)}
	}
	out, _, err := watch.DefaultBuildSteps()[".wat"].Build(ctx, in)
	if err != nil {
		var be *watch.BuildError
		if errors.As(err, &be) {
			named := *be
			named.Path, named.Log = name, strings.ReplaceAll(be.Log, in, name)
			err = &named
		}
		return nil, &stepError{ErrBuild, err}
	}
	return out, nil
}
