package hotscript

// What Watch knows of the file each script comes from: its identity and bytes,
// to tell a file renamed or moved onto another name from a new one, and a file
// reported again as it was from a save.

import (
	"context"
	"hash/maphash"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
	// removed says that a Removed event of the script was sent since the mark
	// or since a file of the script's was last reported saved (see sayRemoved).
	removed bool
	// refused is the file (absolute) of a save refused since the mark,
	// unbuilt or unread (see apart); "" if none was.
	refused string
	// prev is the file the script came from before path, as Watch last saw
	// it (its gone, prev and reload unset): the other of a .wasm and its source,
	// superseded by the save of path (see superseded), or the source beside
	// the .wasm a load read (see markFile).
	prev *fileMark
	// reload is the reload of the save that gave path, if any: until it
	// resolves, or if it was cut off (see saveCutOff) before it said anything
	// of its bytes, the mark is open (see open): the script may not run them,
	// and a later report of the file (or a later Watch's catch-up) is a save.
	reload *Pending
}

// apart reports whether path, a file of the script's, was left apart from the
// version the script runs by what Watch saw of it last: a save of it refused
// before its reload (not built, not read), a save of it whose reload was
// rejected, or the script's file deleted. A save of the running version's code
// to it then restores it (see Restored); one to the other of a .wasm and its
// source, the broken one still broken, does not (helper-196).
func (s *Script) apart(path string) bool {
	abs, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &s.file
	switch {
	case m.refused != "" && samePath(m.refused, abs):
		return true
	case !samePath(m.path, abs): // the other of a .wasm and its source (helper-199)
		return false
	}
	return m.removed || m.rejected()
}

// rejected reports whether the reload of the save m records was rejected.
func (m *fileMark) rejected() bool {
	if m.reload == nil {
		return false
	}
	select {
	case <-m.reload.Done():
		return m.reload.Event().Kind == Rejected && !saveCutOff(m.reload)
	default:
		return false
	}
}

// refuse records that a save of path, a file of s's, was refused before its
// reload (see apart).
func (s *Script) refuse(path string) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return
	}
	s.mu.Lock()
	s.file.refused = abs
	s.mu.Unlock()
}

// open reports whether the reload of the save m records has not resolved, or
// was cut off (see saveCutOff).
func (m *fileMark) open() bool {
	if m.reload == nil {
		return false
	}
	select {
	case <-m.reload.Done():
		return saveCutOff(m.reload)
	default:
		return true
	}
}

// knows reports whether m records path with the bytes of sum.
func (m *fileMark) knows(path string, sum uint64) bool {
	return m.path != "" && samePath(m.path, path) && m.sum == sum
}

// saveCutOff reports whether p, the resolved reload of a Watch's save, was cut
// off before it could say anything of the save's bytes (see cutOff). A reload
// superseded by a request of the program's (Reload, ReloadAsync, Revert) is
// not, unless the request that decided for it (see Pending.decider) was cut
// off in turn: what the program asked for after the save runs, or is on its
// way, and a later Watch does not replay the save over it. (A reload superseded
// by a later save is replaced by that save's mark: its own reload decides.)
func saveCutOff(p *Pending) bool {
	if p.ev.Kind != Superseded { // p is resolved: ev and cut are set
		return p.cut
	}
	d := p.decider()
	select {
	case <-d.Done():
		return d.cut
	default:
		return false
	}
}

// seeSave records sum, the hash of the bytes of a save of s's own file whose
// reload is p, as read (Script.readSum) once p and, if it was superseded, the
// request that decided for it have resolved, unless it was cut off (see
// saveCutOff) or a later save's mark replaced its own.
func (s *Script) seeSave(p *Pending, sum uint64) {
	for d := p; ; d = d.decider() {
		<-d.Done()
		if d.decider() == d {
			break
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file.reload == p && !saveCutOff(p) {
		s.readSum.Store(sum)
	}
}

// markSeed seeds the sums of fileMark.
var markSeed = maphash.MakeSeed()

// renameWindow is how long after the deletion of a script's file a save of a
// file with that file's identity counts as it renamed, both by when the watcher
// reported them: past it, the identity may be a new file's that the system gave
// the number of the deleted one. A variable so that tests can shorten it.
var renameWindow = 2 * time.Second

// markFile records path (absolute, or made so), the file of s's name, as the
// file s comes from now, as a load does. Its sum is that of the bytes the Host
// last read from the file (Script.readSum) or, if it read none (LoadBytes), of
// the live version's bytes (for a .wat, the file's text now). A script loaded
// from bytes under the name of a .wasm that is not there (a .c or .wat the
// program built itself, as `hotscript run` loads a .c) comes from its source,
// known by its text. For a .wasm that is there, the source beside it, if any, is
// recorded as prev, as it is now, unless it was saved after the .wasm: a report
// of it as it is reloads nothing (superseded), and a save of it before Watch
// begins is caught up (catchUp). A source saved after its .wasm (edited under
// an earlier Watch, which does not write the .wasm) is caught up too: the
// one saved last runs.
func (s *Script) markFile(path string) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return
	}
	if s.path == "" && !s.needsWAT && !lexists(abs) {
		if src := sourceOf(abs); src != "" {
			s.markText(src)
		}
		return
	}
	s.markOwn(abs)
	if src := sourceOf(abs); src != "" {
		info, _, text, err := fsread.ReadStat(src)
		if err != nil {
			return
		}
		if own, err := os.Stat(abs); err == nil && info.ModTime().After(own.ModTime()) {
			return // saved after the .wasm was: not seen, so that Watch builds it as it begins
		}
		s.mu.Lock()
		if s.file.path == abs && s.file.prev == nil {
			s.file.prev = &fileMark{path: src, info: info, sum: maphash.Bytes(markSeed, text)}
		}
		s.mu.Unlock()
	}
}

// markOwn records path, absolute and the file of s's name, as the file s comes
// from now (see markFile), if it is there.
func (s *Script) markOwn(path string) {
	var sum uint64
	if !s.needsWAT {
		if sum = s.readSum.Load(); sum == 0 || s.path == "" {
			s.mu.Lock()
			sum = maphash.Bytes(markSeed, s.hist.live().code)
			s.mu.Unlock()
		}
	} else if sum = s.readSum.Load(); sum == 0 {
		s.markText(path)
		return
	}
	s.mark(path, sum, nil)
}

// markText records src as the file s comes from now, known by its text.
func (s *Script) markText(src string) {
	info, _, text, err := fsread.ReadStat(src) // a save after the stat has another time
	if err != nil {
		return
	}
	s.mark(src, maphash.Bytes(markSeed, text), info)
}

// sourceExts are the extensions of the sources Watch builds into a .wasm beside
// them (watch.DefaultBuildSteps), in the order sourceOf looks for them.
var sourceExts = []string{".c", ".wat"}

// sourceOf returns the source beside wasm, a .wasm file's path (x.c or x.wat
// for x.wasm), if there is one, else "".
func sourceOf(wasm string) string {
	if filepath.Ext(wasm) != ".wasm" {
		return ""
	}
	for _, ext := range sourceExts {
		if src := strings.TrimSuffix(wasm, ".wasm") + ext; lexists(src) {
			return src
		}
	}
	return ""
}

// isSourceOf reports whether src is a source that builds wasm (x.c, x.wat for
// x.wasm).
func isSourceOf(src, wasm string) bool {
	ext := filepath.Ext(src)
	return filepath.Ext(wasm) == ".wasm" && slices.Contains(sourceExts, ext) &&
		strings.TrimSuffix(src, ext)+".wasm" == wasm
}

// lastSource returns the source of wasm, s's file, that Watch last saw s come
// from or, if s came last from wasm, the one beside it, with what Watch saw of
// it: mark is s.file (once its reload has resolved: see settledMark) or its
// prev, nil if Watch never saw that source; last says that mark is s.file. src
// is "" if there is no source.
func (s *Script) lastSource(ctx context.Context, wasm string) (src string, mark *fileMark, last bool) {
	f := s.settledMark(ctx)
	switch {
	case isSourceOf(f.path, wasm):
		return f.path, &f, true
	case f.prev != nil && isSourceOf(f.prev.path, wasm) && lexists(f.prev.path):
		return f.prev.path, f.prev, false
	}
	return sourceOf(wasm), nil, false
}

// mark records path (absolute, or made so) as the file s comes from now, whose
// bytes (a source's text) hash to sum; info is its identity when it gave them,
// nil to take it now. A mark of another path than the last keeps the last as
// prev.
func (s *Script) mark(path string, sum uint64, info os.FileInfo) {
	s.markSaved(path, sum, info, nil)
}

// markSaved is mark of a save whose reload is p (see fileMark.reload), asked
// before the mark: a Watch that begins once the reload has started finds
// either the mark with its reload or the mark before, with which the save is
// not seen either.
func (s *Script) markSaved(path string, sum uint64, info os.FileInfo, p *Pending) {
	s.markSavedIf(nil, path, sum, info, p)
}

// markSavedIf is markSaved, done only if the mark is still was (compared by
// file, bytes and reload), when was is not nil: a mark a save made meanwhile
// stays.
func (s *Script) markSavedIf(was *fileMark, path string, sum uint64, info os.FileInfo, p *Pending) {
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
	if was != nil && (s.file.path != was.path || s.file.sum != was.sum || s.file.reload != was.reload) {
		return
	}
	prev := s.file.prev
	if s.file.path != abs && s.file.info != nil {
		prev = &fileMark{path: s.file.path, info: s.file.info, sum: s.file.sum}
	}
	refused := s.file.refused // the other of a .wasm and its source, still refused
	if refused == abs {
		refused = ""
	}
	s.file = fileMark{path: abs, info: info, sum: sum, prev: prev, reload: p, refused: refused}
}

// settledMark returns s.file once the reload it records, if any, has resolved
// (the reload of a Watch that has ended, which resolves as it is cut off or
// commits), or ctx is done.
func (s *Script) settledMark(ctx context.Context) fileMark {
	s.mu.Lock()
	f := s.file
	s.mu.Unlock()
	if f.reload != nil {
		select {
		case <-f.reload.Done():
		case <-ctx.Done():
		}
	}
	return f
}

// refusedSource records that Watch saw src, a source of s, with the text of
// sum when it had info, and that it did not build: a later Watch does not take
// it for a save it has not seen (catchUp), nor does a report of it as it is
// (asSeen, superseded). If s came last from src, src is now known by that text;
// if it came from the .wasm, src is recorded beside it, as prev.
func (s *Script) refusedSource(src string, sum uint64, info os.FileInfo) {
	if sum == 0 || info == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.file.path == src:
		s.file.sum, s.file.info, s.file.reload = sum, info, nil
	case s.file.prev == nil || s.file.prev.path == src:
		s.file.prev = &fileMark{path: src, info: info, sum: sum}
	}
}

// markWatched marks file, the file of s's name, as Watch begins: known before
// its first save, for a rename. If s came last from another file that is still
// there, its source, whose save superseded file, that mark stays: the .wasm
// beside the source stays superseded (see superseded) from one Watch to the
// next. What it found of the source beside file stays too, or stays unknown:
// a save of the source since is caught up (catchUp), not taken as seen. So
// does the mark of a save of file an earlier Watch reloaded, which tells the
// catch-up whether that reload went through (see ownSave). A file that is not
// there (a link whose target is gone included) is not marked: its mark stays,
// which says whether its deletion was reported (see sayRemoved).
func (s *Script) markWatched(file string) {
	s.mu.Lock()
	from, saved := s.file.path, s.file.reload != nil
	removed, refused := s.file.removed, s.file.refused
	prev := s.file.prev
	s.mu.Unlock()
	if from != "" && (from != file || saved) && lexists(from) || !exists(file) {
		return
	}
	if from != "" && from != file && prev != nil && prev.path == file && prev.info != nil {
		// The source s came from is gone; file, superseded by its save,
		// was saved since (helper-209): the catch-up's to find, not to
		// take as seen (see savedOverSource).
		if info, err := os.Lstat(file); err == nil && !sameStamp(prev.info, info) {
			return
		}
	}
	s.markOwn(file)
	if from == file { // what the last Watch saw of it stays: a save restores it (see apart)
		s.mu.Lock()
		s.file.removed, s.file.refused = removed, refused
		s.mu.Unlock()
	}
}

// sameStamp reports whether a and b, from os.Lstat, are one file with one
// modification time: a file renamed, or reported again, that nobody saved
// since (a save, a copy over it, a touch gives it another time).
func sameStamp(a, b os.FileInfo) bool {
	return a != nil && b != nil && os.SameFile(a, b) && a.ModTime().Equal(b.ModTime())
}

// asSeen reports whether a's file is the one s comes from now, as Watch last
// saw it: the same file, time and bytes, whose reload (if any) has resolved
// and was not cut off. A watcher reports such a file when its directory is
// moved away and back, or when it is renamed away and back; nobody saved it,
// and what runs since (a Revert, a program's Reload) stays.
func (s *Script) asSeen(a arrival) bool {
	if a.info == nil || a.sum == 0 {
		return false
	}
	s.mu.Lock()
	f := s.file
	s.mu.Unlock()
	return f.path == a.ev.Path && !f.open() && f.sum == a.sum && sameStamp(f.info, a.info)
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
	return p != nil && p.path == a.ev.Path && f.path != a.ev.Path && p.sum == a.sum && sameStamp(p.info, a.info)
}

// file0 is the absolute path of the file s was loaded from, or that its name
// is (see find), or "".
func (s *Script) file0() string { return s.abs }

// absFile is file0 computed: the path given to Load, or the name given to
// LoadBytes, made absolute; "" if it cannot be.
func absFile(s *Script) string {
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

// canonFile is file0 with the symbolic links of its directory resolved (not the
// file itself: a script file that is a link is known by the link), taken once: a
// script loaded through another path to a watched directory (a link to it, or
// the directory a watched link names) is the script of its file's events.
func (s *Script) canonFile() string {
	s.canonOnce.Do(func() { s.canon = canonPath(s.file0()) })
	return s.canon
}

// samePath reports whether a and b name the same file, alike or through other
// paths to its directory (see canonFile).
func samePath(a, b string) bool { return a == b || canonPath(a) == canonPath(b) }

// canonPath is path with the symbolic links of its directory resolved, or path if
// they cannot be.
func canonPath(path string) string {
	if path == "" {
		return ""
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(path))
	if err != nil {
		return path
	}
	return filepath.Join(dir, filepath.Base(path))
}
