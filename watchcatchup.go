package hotscript

// Watch's catch-up: as a Watch begins, the saves and deletions it could not
// see (made between a Load and the Watch, or while no Watch ran) are found by
// reading the files again, and handled as the watcher's reports would have been.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hotscript/hotscript/internal/fsread"
	"github.com/hotscript/hotscript/watch"
)

// changedSinceLoad returns what the file the Host read s from holds now, if
// that is not what it read (else code is what it holds, if anything): a save
// between Load and Watch, which the watcher, started after it, does not report. Bytes are compared, as a save within the
// file system's clock tick may leave its size and time as they were. err is
// why a file that is there could not be read (grown past 64 MiB, its
// permissions changed): a save too, which the watcher would have reported.
// info is what a stat of the file said before it was read (fsread.ReadStat),
// nil if unknown.
func (s *Script) changedSinceLoad() (info os.FileInfo, code []byte, changed bool, err error) {
	sum := s.readSum.Load()
	if sum == 0 || s.path == "" {
		return nil, nil, false, nil
	}
	_, info, code, err = fsread.ReadStat(s.file0())
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, fsread.ErrNotRegular):
		return info, nil, false, nil // gone: a deletion (see deletion)
	case err != nil:
		return info, nil, false, err
	case len(code) == 0:
		return info, nil, false, nil
	case maphash.Bytes(markSeed, code) == sum:
		return info, code, false, nil
	}
	return info, code, true, nil
}

// fileLive reports whether s's file holds the code s runs: what the Host last
// read from it (see readSum), or for a .wat, the text built now (a Revert or a
// program's Reload may have made other code run since that text was read,
// helper-200). A .c loaded as its .wasm is not compared (false).
func (s *Script) fileLive(ctx context.Context) bool {
	s.mu.Lock()
	live := s.hist.live().code
	s.mu.Unlock()
	if !s.needsWAT {
		return s.readSum.Load() == maphash.Bytes(markSeed, live)
	}
	text, err := fsread.File(s.file0())
	if err != nil {
		return false
	}
	built, err := buildWAT(ctx, s.name, text)
	return err == nil && bytes.Equal(built, live)
}

// catchUp handles the files of scripts that changed or went while no Watch of
// the directory ran (between their Load and Watch, or between two Watches) as
// the watcher would have reported them, before any event of the watcher,
// which runs already: if the watcher reports the same save, its event is
// dropped (caughtUp). A script's files are its own (Script.readSum says what
// the Host last read from it) and, for a .wasm, the source beside it (what
// Watch last saw of it: see lastSource), built as the watcher builds it; if
// both changed, the one saved last is handled last, and runs. It stops when
// the Watch's context ends or the Host closes.
func (wd *watchedDir) catchUp(ctx context.Context, scripts []*Script) {
	bctx, cancel := context.WithCancel(ctx) // a build ends when the Host closes too
	defer cancel()
	defer context.AfterFunc(wd.h.base, cancel)()
	// Every change found happened before the catch-up began: its events are
	// timed so, as the watcher's by when they fired, not by when the builds
	// of other scripts' files between them let them be handled (a rename is
	// a deletion and a save within renameWindow).
	began := time.Now()
	for _, s := range scripts {
		back := false // deleted under an earlier Watch, there again
		if a, ok := wd.deletion(bctx, s); ok {
			a.ev.Fired = began
			wd.handleArrival(ctx, a)
		} else {
			back = s.removedSaid() // unsaid below, once a save found is handled (see apart)
		}
		var saves []caughtSave
		if c, ok := wd.ownSave(bctx, s); ok {
			saves = append(saves, c)
		}
		if c, ok := wd.sourceSave(bctx, s); ok {
			saves = append(saves, c)
		}
		if bctx.Err() != nil { // a build the Watch's end or Close killed says nothing
			return
		}
		if s.gone.Load() {
			continue
		}
		if back && len(saves) == 0 && s.fileLive(bctx) { // as the Host last read it, the running code
			wd.restored(s)
		}
		slices.SortStableFunc(saves, func(a, b caughtSave) int { return a.mod.Compare(b.mod) })
		for _, c := range saves {
			if c.info != nil {
				wd.remember(c.a.ev.Path, caughtFile{size: c.info.Size(), mod: c.info.ModTime(), sum: c.a.sum})
			}
			c.a.ev.Fired = began
			wd.handleArrival(ctx, c.a)
		}
		if back {
			s.unsayRemoved() // its file is there (back since): a deletion is news again
		}
	}
}

// deletion returns the deletion of the file s comes from, if it is gone, as the
// watcher would have reported it (see process): its own file, which the Host
// read or Watch saw, or, for a script loaded from bytes under the name of a
// .wasm that is not there, the source it came from. A symbolic link whose
// target is gone is gone, as the watcher reports it. A file deleted while a
// Watch ran was reported already, and a deletion is reported once (see
// sayRemoved); a script whose file was never there has none.
func (wd *watchedDir) deletion(ctx context.Context, s *Script) (arrival, bool) {
	own := s.file0()
	if own == "" || exists(own) {
		return arrival{}, false
	}
	path := own
	if f := s.settledMark(ctx); s.path == "" && !samePath(f.path, own) {
		if path = f.path; path == "" || exists(path) {
			return arrival{}, false
		}
	}
	return arrival{ev: watch.Event{Path: path, Output: own, Op: watch.Removed}, catchUp: true}, true
}

// remember records what the catch-up found of the file at path (see caughtUp),
// by its path with its directory's links resolved: the catch-up spells a
// script's file as it was loaded, the watcher as the directory is watched, and
// the two may be other paths to one directory (see canonFile).
func (wd *watchedDir) remember(path string, c caughtFile) {
	key := canonPath(path)
	wd.mu.Lock()
	wd.caught[key] = c
	wd.mu.Unlock()
}

// caughtSave is a save the catch-up found: the event it makes of it, and its
// file's size and time before its bytes were read (nil if unknown), so that a
// save after that, which has others, is not taken for this one (caughtUp).
type caughtSave struct {
	a    arrival
	info os.FileInfo
	mod  time.Time
}

// ownSave returns a save of s's own file (the path given to Load) since the
// Host last read it, built if s is a .wat. A save an earlier Watch reloaded
// is not one, once its reload has resolved without being cut off, even if
// the Host has not recorded it read yet.
func (wd *watchedDir) ownSave(ctx context.Context, s *Script) (caughtSave, bool) {
	file := s.file0()
	info, code, changed, err := s.changedSinceLoad()
	if !changed && code != nil && s.savedOverSource(file, info) {
		changed = true // its bytes as read, but saved after its source (helper-206)
	}
	if err != nil && ctx.Err() == nil {
		if s.reportedUnread(file, info) {
			return caughtSave{}, false
		}
		return unreadSave(file, file, err, info), true
	}
	if !changed || ctx.Err() != nil {
		return caughtSave{}, false
	}
	sum := maphash.Bytes(markSeed, code)
	if f := s.settledMark(ctx); f.path == file && f.reload != nil && !f.open() && f.sum == sum {
		s.readSum.Store(sum)
		return caughtSave{}, false
	}
	ev := watch.Event{Path: file, Op: watch.Changed, Data: code}
	ev.Output = ev.Path
	if s.needsWAT {
		ev.Output, ev.Source = strings.TrimSuffix(ev.Path, filepath.Ext(ev.Path))+".wasm", code
		var err error
		if ev.Data, err = buildWAT(ctx, s.name, code); err != nil {
			var be *watch.BuildError
			if ev.Err = err; errors.As(err, &be) {
				ev.Err = be // as the watcher's event carries it
			}
		}
	}
	return newCaughtSave(ev, code, info), true
}

// savedOverSource reports whether file, a .wasm the script comes from, had
// info when the catch-up read it, and the script came last from its source,
// which superseded file as Watch saw it then (see superseded), and file was
// saved since (rebuilt, copied back, touched), and after the source: the one
// saved last runs, even with the bytes the Host read from it before.
func (s *Script) savedOverSource(file string, info os.FileInfo) bool {
	lst, err := os.Lstat(file)
	if info == nil || err != nil {
		return false
	}
	s.mu.Lock()
	f := s.file
	s.mu.Unlock()
	p := f.prev
	if f.path == "" || f.path == file || p == nil || p.path != file || p.info == nil || sameStamp(p.info, lst) {
		return false
	}
	// Saved since; but the source, saved after it again (its text as it
	// was: a checkout away and back), is the one saved last (helper-208),
	// also in the same clock tick, as git writes x.wasm and then x.wat
	// (helper-209), and a link to it made again.
	src, err := os.Stat(f.path)
	if err != nil {
		return true
	}
	at := src.ModTime()
	if l, err := os.Lstat(f.path); err == nil && l.ModTime().After(at) { // a link made again
		at = l.ModTime()
	}
	return info.ModTime().After(at)
}

// sourceSave returns a save of the source of s, a .wasm, that Watch has not
// seen, built with the watcher's build step: the source it last saw s come
// from, changed or its reload open or cut off, or the one beside the .wasm,
// changed since a load or save of the .wasm (or new).
func (wd *watchedDir) sourceSave(ctx context.Context, s *Script) (caughtSave, bool) {
	if s.needsWAT || s.kind != KindWASM {
		return caughtSave{}, false
	}
	wasm := s.file0()
	src, mark, last := s.lastSource(ctx, wasm)
	step, ok := wd.build[filepath.Ext(src)]
	if src == "" || !ok {
		return caughtSave{}, false
	}
	// read reads src; a file empty (a save in progress) or as Watch last saw
	// it is no save, as if gone: the watcher, which runs already, reports what
	// follows.
	var info os.FileInfo
	read := func() (watch.Read, error) {
		_, rd, err := readSource(src)
		if info = rd.Info; err == nil && (len(rd.Bytes) == 0 || mark != nil && mark.sum == maphash.Bytes(markSeed, rd.Bytes) && (!last || !mark.open())) {
			err = fs.ErrNotExist
		}
		return rd, err
	}
	rd, err := read()
	b, ok := watch.Built{}, false
	if err == nil && ctx.Err() == nil {
		// Built as the watcher builds it: again if it changed as it built;
		// still changing after the third build, it is left to the watcher.
		b, ok, err = step.BuildRead(ctx, src, rd, read)
	}
	switch {
	case ctx.Err() != nil || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fsread.ErrNotRegular) ||
		err != nil && s.reportedUnread(src, info):
		return caughtSave{}, false
	case err != nil:
		return unreadSave(src, wasm, err, info), true
	case !ok:
		return caughtSave{}, false
	}
	ev := watch.Event{Path: src, Output: wasm, Op: watch.Changed, Source: b.Source.Bytes, Data: b.Data, BuildLog: b.Log, Err: b.Err}
	return newCaughtSave(ev, b.Source.Bytes, info), true
}

// unreadSave is the catch-up's save of path, standing for output, that it
// could not read (past 64 MiB, its permissions changed), as the watcher
// reports one: an event carrying the read's error, and no bytes to know it by.
// info is what a stat of the file said before the read, nil if unknown.
func unreadSave(path, output string, err error, info os.FileInfo) caughtSave {
	return caughtSave{a: arrival{ev: watch.Event{Path: path, Output: output, Op: watch.Changed, Err: fmt.Errorf("watch: %w", err)}, catchUp: true}}.stat(info)
}

// unreadMark is a file Watch reported it could not read (past 64 MiB, or
// its permissions changed): its size and time then.
type unreadMark struct {
	size int64
	mod  time.Time
}

// refusedUnread records that Watch reported path, a file of s, unreadable: a
// later Watch's catch-up does not report it again while it stays as it is
// now (reportedUnread).
func (s *Script) refusedUnread(path string) {
	info, err := os.Stat(path)
	if err != nil {
		return
	}
	key := canonPath(path)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unread == nil {
		s.unread = map[string]unreadMark{}
	}
	s.unread[key] = unreadMark{info.Size(), info.ModTime()}
}

// reportedUnread reports whether path, a file of s that had info when the
// catch-up could not read it (nil if unknown), is as Watch last reported it
// unreadable.
func (s *Script) reportedUnread(path string, info os.FileInfo) bool {
	if info == nil {
		return false
	}
	key := canonPath(path)
	s.mu.Lock()
	m, ok := s.unread[key]
	s.mu.Unlock()
	return ok && m.size == info.Size() && m.mod.Equal(info.ModTime())
}

// newCaughtSave makes the catch-up's save of ev, whose file held bytes (a
// source's text) after it had info (nil if unknown).
func newCaughtSave(ev watch.Event, bytes []byte, info os.FileInfo) caughtSave {
	return caughtSave{a: arrival{ev: ev, catchUp: true, sum: maphash.Bytes(markSeed, bytes)}}.stat(info)
}

// stat returns c with info, what a stat of its file said before it was read
// (nil if unknown).
func (c caughtSave) stat(info os.FileInfo) caughtSave {
	if info != nil {
		c.info, c.mod = info, info.ModTime()
	}
	return c
}

// caughtUp reports whether the watcher's event of path, whose bytes hash to sum
// (a .wat's text), reports the save the catch-up handled as the watcher began:
// the file is as the catch-up found it, size, time and bytes. It forgets what
// the catch-up found of path: the watcher's first event of the file after it
// is that save, reported again, or a later one (a touch to retry a reload
// that failed has a new time).
func (wd *watchedDir) caughtUp(path string, sum uint64) bool {
	key := canonPath(path)
	wd.mu.Lock()
	c, ok := wd.caught[key]
	delete(wd.caught, key)
	wd.mu.Unlock()
	if !ok || sum == 0 || c.sum != sum {
		return false
	}
	info, err := os.Stat(path)
	return err == nil && info.Size() == c.size && info.ModTime().Equal(c.mod)
}
