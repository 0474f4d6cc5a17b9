package hotscript

// What Watch knows of the file each script comes from: its identity and bytes,
// to tell a file renamed or moved onto another name from a new one, and a file
// reported again as it was from a save.

import (
	"context"
	"errors"
	"hash/maphash"
	"os"
	"path/filepath"
	"time"

	"github.com/hotscript/hotscript/internal/fsread"
)

// fileMark is the file Watch last saw a script come from: the file it was
// loaded or saved from, its own or its source (x.c or x.wat, for x.wasm; for a
// .c without a .wasm, always the source), with its identity, to tell a file
// renamed or moved onto another name from a new one.
type fileMark struct {
	path string      // absolute
	info os.FileInfo // from os.Lstat: os.SameFile compares the identity
	sum  uint64      // of the file's bytes, a source's text (see textSum)
	gone time.Time   // when Watch reported the file deleted; zero before
	// prev is the file the script came from before path, as Watch last saw
	// it (its gone and prev unset): the other of a .wasm and its source,
	// superseded by the save of path (see superseded).
	prev *fileMark
}

// markSeed seeds the sums of fileMark.
var markSeed = maphash.MakeSeed()

// renameWindow is how long after the deletion of a script's file a save of a
// file with that file's identity counts as it renamed, both by when the watcher
// reported them: past it, the identity may be a new file's that the system gave
// the number of the deleted one. A variable so that tests can shorten it.
var renameWindow = 2 * time.Second

// markFile records path (absolute, or made so), the file of s's name, as the
// file s comes from now, with the live version's bytes or, for a .wat, whose
// live version is built, the text the Host last read from the file
// (Script.readSum), or if it read none (LoadBytes) the file's text now.
func (s *Script) markFile(path string) {
	var sum uint64
	if !s.needsWAT {
		s.mu.Lock()
		sum = maphash.Bytes(markSeed, s.hist.live().code)
		s.mu.Unlock()
	} else if sum = s.readSum.Load(); sum == 0 {
		text, err := fsread.File(path)
		if err != nil {
			return
		}
		sum = maphash.Bytes(markSeed, text)
	}
	s.mark(path, sum, nil)
}

// mark records path (absolute, or made so) as the file s comes from now, whose
// bytes (a source's text) hash to sum; info is its identity when it gave them,
// nil to take it now. A mark of another path than the last keeps the last as
// prev.
func (s *Script) mark(path string, sum uint64, info os.FileInfo) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return
	}
	if info == nil {
		if info, err = os.Lstat(abs); err != nil { // a link is itself: renaming its target moves not it
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.file.prev
	if s.file.path != abs && s.file.info != nil {
		prev = &fileMark{path: s.file.path, info: s.file.info, sum: s.file.sum}
	}
	s.file = fileMark{path: abs, info: info, sum: sum, prev: prev}
}

// markWatched marks file, the file of s's name, as Watch begins: known before
// its first save, for a rename. If s came last from another file that is still
// there, its source, whose save superseded file, that mark stays: the .wasm
// beside the source stays superseded (see superseded) from one Watch to the
// next.
func (s *Script) markWatched(file string) {
	s.mu.Lock()
	from := s.file.path
	s.mu.Unlock()
	if from != "" && from != file && lexists(from) {
		return
	}
	s.markFile(file)
}

// superseded reports whether the file of a's save is the one s came from
// before the one it comes from now, and as Watch last saw it then: the same
// file, with the same time and bytes. Of a .wasm and its source, the one saved
// last is what runs: Watch builds the source into the script when it is saved,
// but does not write the .wasm (a build of the program's does, such as
// scripts/build-guests.sh), which is then older than the source and holds the
// code the source's save replaced. A
// watcher reports such a file that nobody saved when its directory is moved
// away and back, or when it is renamed away and back; it is not a save. A .wasm
// saved since (rebuilt, copied over, touched) is, and runs.
func (s *Script) superseded(a arrival) bool {
	if a.info == nil || a.sum == 0 {
		return false
	}
	s.mu.Lock()
	f := s.file
	s.mu.Unlock()
	p := f.prev
	return p != nil && p.path == a.ev.Path && f.path != a.ev.Path && p.sum == a.sum &&
		os.SameFile(p.info, a.info) && p.info.ModTime().Equal(a.info.ModTime())
}

// file0 is the absolute path of the file s was loaded from, or that its name
// is (see find), or "".
func (s *Script) file0() string {
	file := s.path
	if file == "" {
		file = s.name
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return ""
	}
	return abs
}

// fileBack reports whether there is a file again at the path Watch last saw s
// come from, after it found it deleted.
func (s *Script) fileBack() bool {
	s.mu.Lock()
	path := s.file.path
	s.mu.Unlock()
	return path != "" && lexists(path)
}

// fileGone records that Watch found path, s's file, deleted.
func (s *Script) fileGone(path string, at time.Time) {
	s.mu.Lock()
	if s.file.path == path && s.file.gone.IsZero() {
		s.file.gone = at
	}
	s.mu.Unlock()
}

// movedTo returns the scripts whose file was renamed or moved to the path of
// a's save, which gave its bytes (other than to, the script the path belongs to,
// if any): their file is gone, its deletion reported within renameWindow before
// the save, and the path is that same file (identity and modification time: a
// new file the system gave the deleted one's number has a time of its own) with
// the same bytes. Such a script would run on beside the one the path now is, so
// Watch unloads it once that script has loaded or reloaded.
func (wd *watchedDir) movedTo(a arrival, to *Script) []*Script {
	path, sum, info := a.ev.Path, a.sum, a.info
	if info == nil || sum == 0 {
		return nil
	}
	var out []*Script
	for _, s := range wd.h.Scripts() {
		if s == to {
			continue
		}
		s.mu.Lock()
		f := s.file
		s.mu.Unlock()
		if f.info == nil || f.path == path || f.sum != sum || !within(f.path, wd.abs) ||
			!os.SameFile(f.info, info) || !f.info.ModTime().Equal(info.ModTime()) ||
			(!f.gone.IsZero() && a.at.Sub(f.gone) > renameWindow) || lexists(f.path) {
			continue
		}
		out = append(out, s)
	}
	return out
}

// unloadMoved unloads the scripts moved from (see movedTo), once reload p of
// to, if any, has committed: a reload that fails leaves them running, as the
// only copy of their code. If p is superseded, the newer request for to that
// replaced it decides in its place (a broken save after the rename must not
// unload them). It does so on a goroutine of its own: Unload waits for calls
// in progress, however long, and the watcher must go on. Close ends the wait.
func (wd *watchedDir) unloadMoved(ctx context.Context, to *Script, p *Pending, moved []*Script) {
	h := wd.h
	if len(moved) == 0 || !h.enter() {
		return
	}
	go func() {
		defer h.wg.Done()
		for p != nil {
			select {
			case <-p.Done():
			case <-h.base.Done(): // Close resolves p only after waiting for this
				return
			}
			err := p.Err()
			if err == nil {
				break
			}
			if !errors.Is(err, ErrSuperseded) {
				return
			}
			next := to.newest() // pending or resolved already: its outcome decides
			if next == p {
				return // a guard: a superseded request is never the newest
			}
			p = next
		}
		for _, old := range moved {
			if old.fileBack() {
				continue // a new file at its path (saved while the rename's load ran): it stays
			}
			_ = h.Unload(ctx, old) // its event says so; a failure leaves it running
		}
	}()
}
