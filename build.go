package hotscript

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hotscript/hotscript/internal/fsread"
	"github.com/hotscript/hotscript/watch"
)

var wasmMagic = []byte("\x00asm")

// source returns the bytes of a new version: code, or the script's file when code is
// nil, built if the script is a .wat. For a .wasm script, the file is its source
// (x.c, x.wat) where Watch would take that (see sourceToBuild), built; p is the
// reload's, recorded with the source as the file the script comes from now.
func (s *Script) source(ctx context.Context, code []byte, p *Pending) ([]byte, error) {
	if code == nil {
		if src, rd, info, seen, err := s.sourceToBuild(); err != nil || src != "" {
			if err != nil {
				return nil, err
			}
			out, rd, info, err := buildBeside(ctx, src, rd, info)
			sum := maphash.Bytes(markSeed, rd.Bytes)
			switch {
			case seen.knows(src, sum): // as Watch or a load saw it: its reload decides
			case err == nil || rd.Bytes != nil && errors.Is(context.Cause(ctx), ErrSuperseded):
				// Built, or stopped as it built by a newer request, which
				// decides for it (see saveCutOff): recorded as a Watch's
				// save is, unless a save came meanwhile.
				s.markSavedIf(&seen, src, sum, info, p)
			case rd.Bytes != nil && ctx.Err() == nil: // the build of a save failed, not cut off
				s.refusedSource(src, sum, info) // a later Watch does not report it again
			}
			return out, err
		}
		if s.path == "" {
			return nil, ErrNoSource
		}
		file := s.file0() // where it was loaded from, whatever the working directory now
		s.mu.Lock()
		seen := s.file
		s.mu.Unlock()
		var err error
		if code, err = fsread.File(file); err != nil {
			return nil, err
		}
		// Read as a Watch's save is: a reload cut off before it said anything
		// of the bytes leaves them unseen, for the next Watch's catch-up. The
		// bytes Watch (or the load) saw last are known already: that mark's
		// reload decides for them, whatever becomes of this one.
		if sum := maphash.Bytes(markSeed, code); !seen.knows(file, sum) {
			s.markSavedIf(&seen, file, sum, nil, p)
			go s.seeSave(p, sum)
		}
	}
	return s.prepare(ctx, code)
}

// sourceToBuild returns the source (x.c or x.wat, for a script x.wasm) that a
// Reload with nil bytes builds, with a read of it (its stat, then its text)
// and what os.Lstat said of it before, or "" when it re-reads the .wasm. What
// Watch saw decides, not the files' times, which a copy or a clock can set
// back: the source that Watch (or the load) last saw the script come from,
// which Watch builds without writing the .wasm; or the source beside the .wasm
// holding text that neither saw, the save a Watch would catch up as it begins
// (not an empty one: an editor's new file). An empty source the script comes
// from is an error: there is nothing to build.
func (s *Script) sourceToBuild() (src string, rd watch.Read, info os.FileInfo, seen fileMark, err error) {
	if s.needsWAT || s.kind != KindWASM {
		return "", rd, nil, seen, nil
	}
	wasm := s.file0()
	s.mu.Lock()
	seen = s.file
	s.mu.Unlock()
	from := isSourceOf(canonPath(seen.path), canonPath(wasm)) // the watcher's spelling, or the load's
	if _, _, saved, _ := s.changedSinceLoad(); from && saved {
		return "", rd, nil, seen, nil // the program's build wrote the .wasm after: saved last
	}
	src = seen.path
	if !from {
		if src = sourceOf(wasm); src == "" {
			return "", rd, nil, seen, nil
		}
	}
	info, rd, err = readSource(src)
	switch {
	case err != nil:
		return "", rd, nil, seen, nil
	case len(rd.Bytes) == 0 && from:
		return "", rd, nil, seen, &stepError{ErrBuild, fmt.Errorf("%s is empty", src)}
	case len(rd.Bytes) == 0:
		return "", rd, nil, seen, nil
	}
	sum := maphash.Bytes(markSeed, rd.Bytes)
	if !from && seen.prev != nil && samePath(seen.prev.path, src) && seen.prev.sum == sum {
		return "", rd, nil, seen, nil // as seen: the .wasm is newer
	}
	return src, rd, info, seen, nil
}

// readSource reads src as the watcher reads a save (fsread.ReadStat): what
// os.Lstat says of it (a link is itself, as for the watcher's Event.Info),
// and its text after a stat of the file it stands for.
func readSource(src string) (info os.FileInfo, rd watch.Read, err error) {
	info, rd.Info, rd.Bytes, err = fsread.ReadStat(src)
	return info, rd, err
}

// buildBeside builds src, a source beside a .wasm read as rd (and, by
// os.Lstat, info), with its watch.DefaultBuildSteps step, as Watch builds a
// save of it: again if it changed as it built (BuildRead). It returns the
// read the build is of, or no bytes when the build failed for want of one:
// src went, kept changing or could no longer be read.
func buildBeside(ctx context.Context, src string, rd watch.Read, info os.FileInfo) ([]byte, watch.Read, os.FileInfo, error) {
	step := watch.DefaultBuildSteps()[filepath.Ext(src)]
	b, ok, err := step.BuildRead(ctx, src, rd, func() (watch.Read, error) {
		var rd watch.Read
		var err error
		if info, rd, err = readSource(src); err == nil && len(rd.Bytes) == 0 {
			err = fs.ErrNotExist // being written: as if gone
		}
		return rd, err
	})
	switch {
	case err != nil:
		return nil, watch.Read{}, nil, &stepError{ErrBuild, fmt.Errorf("reading %s again after it changed as it was built: %w", src, err)}
	case !ok:
		return nil, watch.Read{}, nil, &stepError{ErrBuild, fmt.Errorf("%s went, or kept changing, as it was built: save it again", src)}
	case b.Err != nil:
		return nil, b.Source, info, &stepError{ErrBuild, b.Err}
	}
	return b.Data, b.Source, info, nil
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
