package hotscript

// How Watch handles each event of the watcher: a save of a script reloads it,
// a new file loads (on a goroutine of its own), a deletion is reported, and
// what a file's identity says was a rename or nothing new is told apart.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hotscript/hotscript/watch"
)

// fileLoad is a load of a file that is not a script yet, with the events that
// came meanwhile for its script: the newest of each file, in the order they came.
type fileLoad struct {
	first arrival
	queue []arrival
	// path is the file being loaded, sum the hash of its bytes (see
	// arrival.sum), and stop, while it loads, stops that load: a newer save
	// of the file replaces it (a file that takes seconds to compile, or whose
	// chunk never returns, must not hold up its fix).
	path string
	sum  uint64
	ctx  context.Context // of that load
	stop context.CancelCauseFunc
}

// supersedes reports whether a, an event of the file a load is loading, whose
// bytes hash to sum, replaces it: a save of other bytes that builds. A save
// that fails to build is reported after the load, as it would be for a loaded
// script, and one of the same bytes (a touch) or an empty one changes nothing.
func supersedes(a arrival, sum uint64) bool {
	return builds(a) && a.sum != sum
}

// builds reports whether a is a save that builds: not empty, nor failed.
func builds(a arrival) bool {
	return a.ev.Op == watch.Changed && a.ev.Err == nil && !empty(a.ev)
}

// arrival is an event of the watcher (or the catch-up), when it fired
// (watch.Event.Fired; the catch-up's as it began) and the identity of its file then (nil if there
// was none): a rename is told by the time between a deletion and a save as the
// watcher saw them, not by when an event that waited for a load or a build is
// handled, and a file renamed again meanwhile is still known.
type arrival struct {
	ev      watch.Event
	at      time.Time
	info    os.FileInfo // from os.Lstat
	catchUp bool        // made by catchUp: a loaded script's, never a new file's
	// sum is the hash of the file's own bytes, a source's text (see
	// textSum), for a Changed event; catchUp's, of the bytes it read.
	sum uint64
}

// handle handles an event of the watcher, on the watcher's goroutine. A file
// that is not a script yet loads on a goroutine of its own: a large Lua file can
// take seconds to compile, and the saves of the other scripts must not wait for
// it. The events of a script that is loading (by its name, or the .wasm its
// source builds) wait for the load to end.
func (wd *watchedDir) handle(ctx context.Context, ev watch.Event) {
	wd.handleArrival(ctx, arrival{ev: ev})
}

func (wd *watchedDir) handleArrival(ctx context.Context, a arrival) {
	ev := a.ev
	if a.at = ev.Fired; a.at.IsZero() { // an event made without a time
		a.at = time.Now()
	}
	if ev.Op == watch.Changed {
		// What the file was when the watcher read it, not now: handled late,
		// a save taken for the next one's file would drop that one as seen.
		if a.info = ev.Info; a.info == nil {
			a.info, _ = os.Lstat(ev.Path)
		}
		if !a.catchUp {
			a.sum = textSum(ev)
		}
	}
	name, _ := wd.target(ev)
	wd.mu.Lock()
	l := wd.loading[name]
	if l == nil {
		l = wd.loading[filepath.Join(wd.dir, relOrSelf(wd.abs, ev.Output))]
	}
	if l == nil && ev.Output == ev.Path && filepath.Ext(ev.Path) == ".wasm" {
		// An x.wasm saved while the x.wat beside it loads as a script of its
		// own (built by a task as the .wat was created) waits for that load,
		// so as to be that script's other file, not a second script.
		l = wd.loading[strings.TrimSuffix(name, ".wasm")+".wat"]
	}
	if l == nil {
		// A file renamed while its first load runs: its new name waits for that
		// load, so that it then finds the script of its old name moved.
		if l = wd.loadOf(a); l != nil {
			wd.loading[name] = l
		}
	}
	if l != nil {
		if l.stop != nil && ev.Path == l.path && supersedes(a, l.sum) {
			l.stop(ErrSuperseded)
		}
		// The newest event of each file waits, but a save that fails to build
		// or is empty goes after a save of the file that builds rather than
		// in its place, as a loaded script's would: that save still loads.
		keep := a.ev.Op == watch.Changed && (a.ev.Err != nil || empty(a.ev))
		l.queue = slices.DeleteFunc(l.queue, func(b arrival) bool {
			return b.ev.Path == ev.Path && !(keep && builds(b))
		})
		l.queue = append(l.queue, a)
		wd.mu.Unlock()
		return
	}
	wd.mu.Unlock()
	wd.process(ctx, a, false)
}

// loadOf returns the load in progress of the file that a saved, renamed since
// from the path it loads from, or nil. wd.mu is held.
func (wd *watchedDir) loadOf(a arrival) *fileLoad {
	if a.info == nil {
		return nil
	}
	for _, l := range wd.loading {
		f := l.first
		if f.ev.Path != a.ev.Path && sameStamp(f.info, a.info) && !lexists(f.ev.Path) {
			return l
		}
	}
	return nil
}

// textSum is the hash of the bytes of the file a Changed event reports, as the
// Host hashes what it reads from a script's file (Script.readSum) and what
// Watch saw of a file (fileMark): the bytes the event carries or, for a source
// with a build step, its text as the watcher read it before the build (the
// event carries the built module). A source is known by its text, not its
// build: a C module's debug information names its source, so x.c and an
// identical y.c build to different bytes. It is 0 if there are no bytes to
// hash.
func textSum(ev watch.Event) uint64 {
	if ev.Output == ev.Path {
		if ev.Err != nil {
			return 0
		}
		return maphash.Bytes(markSeed, ev.Data)
	}
	if ev.Source == nil {
		return 0
	}
	return maphash.Bytes(markSeed, ev.Source)
}

// fileSum is the hash of the bytes of the file a saved, for a later Watch (see
// Script.readSum): a.sum, a .wat's text. It is 0 for an event that is not a
// save of script s's own file (other is the script's file when it is not).
func fileSum(a arrival, s *Script, other string) uint64 {
	if s == nil || other != "" || a.ev.Op != watch.Changed {
		return 0
	}
	return a.sum
}

// scriptOf returns the script of ev's file: the script loaded from it (or
// named by it), or else the script of the other file of a pair of a .wasm and
// its source, with that file's path (other): the .wasm a script was loaded
// from, which x.c or x.wat builds, or the x.wat a script was loaded from, of
// which the file is x.wasm (built beside it, by hand or by an editor's task).
func (wd *watchedDir) scriptOf(ev watch.Event) (s *Script, other string) {
	if s = wd.find(ev.Path); s != nil {
		return s, ""
	}
	if ev.Output != ev.Path {
		return wd.find(ev.Output), ev.Output
	}
	if filepath.Ext(ev.Path) == ".wasm" {
		wat := strings.TrimSuffix(ev.Path, ".wasm") + ".wat"
		if s = wd.find(wat); s != nil && s.needsWAT {
			return s, s.file0()
		}
	}
	return nil, ""
}

// process acts on an event. owner says that the caller is the goroutine of a
// load of the event's script, which loads the file itself if it must.
func (wd *watchedDir) process(ctx context.Context, a arrival, owner bool) {
	ev := a.ev
	s, other := wd.scriptOf(ev)
	var pending *Pending                            // the reload a save the same as its bytes waits for (see unchanged)
	fromSource := other != "" && other == ev.Output // x.c builds the x.wasm a script was loaded from
	if a.catchUp && s == nil {
		return // unloaded since the catch-up read its file: not a new file
	}
	sum := fileSum(a, s, other)
	if s != nil && !a.catchUp && wd.caughtUp(ev.Path, a.sum) {
		return // the save the catch-up read as the watcher began, reported now
	}
	apart := s != nil && ev.Op == watch.Changed && s.apart(ev.Path) // before the save is news
	if s != nil && ev.Op == watch.Changed && !s.superseded(a) {
		// A file of it is there: its deletion is news again. Not the other of
		// a .wasm and its source reported as Watch last saw it, which the
		// script no longer comes from (helper-206: the directory back, the
		// older of the two reported first made the other's Restored unsaid).
		s.unsayRemoved()
	}
	switch {
	case s != nil && ev.Op == watch.Removed && (other == "" || !exists(other)):
		// The script's file is gone: the one it was loaded from, or the other
		// of a .wasm and its source, the script's file not there either. A
		// deleted source of a .wasm that stays, or a deleted .wasm of a .wat
		// that does, concerns nothing that runs. A .wasm and its source
		// deleted together are one deletion, reported once (see sayRemoved).
		s.fileGone(ev.Path, a.at)
		if s.sayRemoved() {
			wd.h.ev.emit(Event{Script: s.name, Kind: Removed, From: s.Version(), To: s.Version()})
		}
	case ev.Op == watch.Removed:
	case empty(ev):
	case s != nil && !a.catchUp && s.asSeen(a):
		// The file the script comes from, as Watch last saw it (a directory
		// moved away and back, a file renamed away and back): not a save.
		// What runs since, after a Revert or a program's Reload, stays.
		if sum != 0 {
			s.readSum.Store(sum)
		}
		var waits *Pending
		if apart && s.unchanged(ev.Data, &waits) && waits == nil { // not what a Revert left since
			wd.restored(s)
		}
		// Renamed away and back before the script of the name it had meanwhile
		// unloaded this one (an Apply under SwapAtApply): that script goes.
		wd.unloadMoved(ctx, s, nil, wd.movedTo(a, s))
	case s != nil && s.superseded(a):
		// The file is as Watch last saw it, and the script has come since
		// from its other file (see superseded): not a save. Above all a .wasm
		// whose source was saved after it: loading it would run the code that
		// save replaced, until the source's build, reported too, replaced it
		// again, and start the script's state over twice.
		if sum != 0 {
			s.readSum.Store(sum)
		}
	case s != nil && ev.Err != nil: // after asSeen: a broken file reported as it was is no new save
		switch {
		case sum != 0: // before the event: a Watch begun on it leaves the save
			s.readSum.Store(sum) // seen, and refused: a later Watch leaves it
		case a.sum == 0 && !errors.Is(ev.Err, watch.ErrBuild): // not read: so is a file too large
			s.refusedUnread(ev.Path)
		case fromSource:
			s.refusedSource(ev.Path, a.sum, a.info) // and a source
		}
		s.refuse(ev.Path)
		s.record("reload", Event{Kind: Rejected}, buildError(ev))
	case s != nil && s.unchanged(ev.Data, &pending):
		// A save that changes nothing (a touch, a comment in a .wat): a reload
		// would only start a WASM script's state over. So is one of the bytes
		// the newest reload, still pending, makes live (a build-on-save task
		// writing the .wasm that Watch builds from the source just saved):
		// recorded with that reload, which decides for it. A file with the
		// same bytes renamed over this one's still moves: its old name goes.
		moved := wd.movedAlso(s.name, wd.movedTo(a, s))
		s.markSaved(ev.Path, a.sum, a.info, pending)
		switch {
		case sum != 0 && pending != nil:
			go s.seeSave(pending, sum)
		case sum != 0:
			s.readSum.Store(sum)
		}
		if apart && pending == nil {
			wd.restored(s)
		}
		wd.unloadMoved(ctx, s, pending, moved)
	case s != nil:
		moved := wd.movedAlso(s.name, wd.movedTo(a, s))
		// The save is recorded before its reload can resolve: a Revert or
		// another Watch that follows the reload's event finds it.
		// So are the scripts moved here, which a commit under an Apply that
		// comes before reloadAsync returns must find (see unloadMoved).
		p := wd.h.reloadAsync(ctx, s, ev.Data, func(p *Pending) {
			s.markSaved(ev.Path, a.sum, a.info, p)
			wd.unloadMoved(ctx, s, p, moved)
		})
		if sum != 0 { // once resolved: a save whose reload was cut off is caught up later
			go s.seeSave(p, sum)
		}
	case owner:
		wd.load(ctx, a)
	default:
		wd.startLoad(ctx, a)
	}
}

// restored reports that s's file holds its running version's code again.
func (wd *watchedDir) restored(s *Script) {
	v := s.Version()
	wd.h.ev.emit(Event{Script: s.name, Kind: Restored, From: v, To: v})
}

// cutOff reports whether err, a reload's, says it was cut off before it could
// say anything of its bytes: by its context, the Host's Close, a newer save.
func cutOff(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, ErrClosed) || errors.Is(err, ErrSuperseded) || errors.Is(err, ErrUnloaded)
}

// startLoad loads a's file on a goroutine of its own, which then processes the
// events that came for the script meanwhile.
func (wd *watchedDir) startLoad(ctx context.Context, a arrival) {
	name, _ := wd.target(a.ev)
	if !wd.h.enter() {
		return
	}
	l := &fileLoad{first: a}
	wd.mu.Lock()
	if wd.loading == nil {
		wd.loading = map[string]*fileLoad{}
	}
	wd.loading[name] = l
	wd.mu.Unlock()
	// Stoppable from now, by the next event, which may come before the load
	// starts: the load takes this context (see stoppable).
	_, release := wd.stoppable(ctx, name, a.ev.Path, a.sum)
	go func() {
		defer wd.h.wg.Done()
		wd.load(ctx, a)
		release() // if the load did not take it (a build error)
		for {
			wd.mu.Lock()
			if len(l.queue) == 0 || ctx.Err() != nil {
				maps.DeleteFunc(wd.loading, func(_ string, m *fileLoad) bool { return m == l })
				wd.mu.Unlock()
				return
			}
			next := l.queue[0]
			l.queue = l.queue[1:]
			wd.mu.Unlock()
			wd.process(ctx, next, true)
		}
	}()
}

// target returns the name of the script ev's file is, or would be once loaded,
// and the path that script reads its file from ("" for a .c, built into the
// .wasm of the name).
func (wd *watchedDir) target(ev watch.Event) (name, path string) {
	name = filepath.Join(wd.dir, relOrSelf(wd.abs, ev.Output))
	path = name
	if ev.Output != ev.Path { // built from a source
		if filepath.Ext(ev.Path) == ".wat" { // the host builds .wat itself
			name = filepath.Join(wd.dir, relOrSelf(wd.abs, ev.Path))
			path = name
		} else { // no file: find knows the script by its name, x.wasm
			path = ""
		}
	}
	return name, path
}

// empty reports whether a Changed event found its file empty: no bytes (for a
// source, no text: clang builds an empty .c into a module exporting nothing),
// or a source that failed to build because it is empty now.
func empty(ev watch.Event) bool {
	if ev.Err == nil {
		if ev.Output != ev.Path && ev.Source != nil {
			return len(ev.Source) == 0
		}
		return len(ev.Data) == 0
	}
	info, err := os.Stat(ev.Path)
	return err == nil && info.Size() == 0
}

// unchanged reports whether code is what s's live version runs, with no reload of
// s pending (which a save of the live bytes must still overtake), or what the
// newest reload of s, pending, makes live, a Watch's reload of a save (not
// the program's, which its context may yet cancel), which it then sets
// *pending to.
func (s *Script) unchanged(code []byte, pending **Pending) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open == 0 {
		return bytes.Equal(s.hist.live().code, code)
	}
	if s.latestCode != nil && s.file.reload == s.latestP && bytes.Equal(s.latestCode, code) {
		*pending = s.latestP
		return true
	}
	return false
}

// find returns the loaded script whose file is path: the script loaded from it, or
// a script without a file named by it, through this path or another way to the
// same directory (see canonFile).
func (wd *watchedDir) find(path string) *Script {
	scripts := wd.h.Scripts()
	for _, s := range scripts {
		if s.file0() == path {
			return s
		}
	}
	canon := canonPath(path)
	for _, s := range scripts {
		if s.canonFile() == canon {
			return s
		}
	}
	return nil
}

// load loads a saved file that is not a script yet.
func (wd *watchedDir) load(ctx context.Context, a arrival) {
	ev := a.ev
	name, path := wd.target(ev)
	if ev.Err != nil {
		wd.h.reportLoad(name, 0, fmt.Errorf("hotscript: load %s: %w", name, buildError(ev)))
		return
	}
	moved := wd.movedAlso(name, wd.movedTo(a, nil))
	// The load runs on a goroutine of the Host's, as a reload's staging does.
	// What the file held (a .wat's text) is known before the Loaded event: a
	// Watch begun on that event catches up a save made after it.
	lctx, stop := wd.stoppable(ctx, name, ev.Path, a.sum)
	var s *Script
	err := wd.h.inStageTurn(lctx, func() (err error) { // a new file loads as a version stages
		s, err = wd.h.load(context.WithValue(lctx, watchLoadKey{}, true), name, path, ev.Data, a.sum, wd.options(name, ev, moved))
		return err
	})
	superseded := errors.Is(context.Cause(lctx), ErrSuperseded)
	stop()
	if err != nil {
		// Stopped by a newer save, which the load's fileLoad loads next, or
		// failed: the next save of the file that loads unloads what this one
		// would have (its bytes no longer match theirs).
		wd.keepMoved(name, moved)
	}
	if err != nil && superseded {
		return
	}
	if taken := (*fileTaken)(nil); errors.As(err, &taken) {
		// The file is another script's (the program loaded it by another
		// path), or being loaded as one: once that load has ended, the save
		// reloads that script, or, if that load failed, loads the file (a
		// Load of it under the other name then gets ErrExists naming this
		// one). If a script other than the file's holds Watch's name for it
		// (a relative dir, the working directory changed since; a link
		// repointed), the refusal is reported: loading again would be refused
		// again, for good.
		for done := wd.h.loading(taken.by); done != nil; done = wd.h.loading(taken.by) {
			select {
			case <-done:
			case <-ctx.Done():
				return
			case <-wd.h.base.Done():
				return
			}
		}
		// Processed again: a script of the file reloads, or, the other load
		// having failed, the file is nobody's and loads (helper-199).
		_, held := wd.h.Script(taken.by)
		if s, _ := wd.scriptOf(ev); s != nil || !held {
			wd.process(ctx, a, true)
		} else {
			wd.h.ev.emit(Event{Script: name, Kind: Rejected, Err: err})
		}
		return
	}
	if errors.Is(err, ErrExists) {
		// Another load of the name runs (the program's, or an earlier Watch's
		// of this directory), or has just ended: once it has, the save reloads
		// what it loaded, or loads the file if it failed. Else the save would
		// be lost.
		for done := wd.h.loading(name); done != nil; done = wd.h.loading(name) {
			select { // and for a load that took the name as it ended
			case <-done:
			case <-ctx.Done():
				return
			case <-wd.h.base.Done():
				return
			}
		}
		// Reload what was loaded from this file, or load it if the other load
		// failed; a script of that name from elsewhere keeps it.
		_, taken := wd.h.Script(name)
		if s, _ := wd.scriptOf(ev); !taken || s != nil {
			wd.process(ctx, a, true)
		}
		return
	}
	if err != nil { // the outcome is an event
		return
	}
	// The file as it was when it came: load marked the file of its name, which a
	// rename meanwhile took away, and for a .c that is not the source.
	s.mark(ev.Path, a.sum, a.info)
	wd.unloadMoved(ctx, s, nil, moved)
}

// options are the ScriptOptions of the script name that Watch loads from
// ev's file: those of the script its file was, if it was moved (the first
// one's, if several), else those of the script of the file that the program
// unloaded, else Config.WatchOptions's.
func (wd *watchedDir) options(name string, ev watch.Event, moved []*Script) *ScriptOptions {
	if len(moved) > 0 {
		opts := moved[0].opts
		return &opts
	}
	if opts, ok := wd.offOptions(name, ev); ok {
		return &opts
	}
	if f := wd.h.cfg.WatchOptions; f != nil {
		return f(name)
	}
	return nil
}

// offOptions returns the options of the script the program unloaded (see
// keepOff) that ev's file, loading as the script name, is the file of: by its
// paths (a .wat is the source of the .wasm that script was), else by the file
// itself, renamed since and otherwise as it was, whose entry it takes.
func (wd *watchedDir) offOptions(name string, ev watch.Event) (ScriptOptions, bool) {
	wd.mu.Lock()
	none := len(wd.off) == 0
	wd.mu.Unlock()
	if none {
		return ScriptOptions{}, false
	}
	var files []string
	for _, p := range []string{name, ev.Path, ev.Output} {
		if abs, err := filepath.Abs(p); err == nil {
			files = append(files, canonPath(abs))
		}
	}
	info, _ := os.Lstat(ev.Path)
	wd.mu.Lock()
	defer wd.mu.Unlock()
	for _, f := range files {
		if o, ok := wd.off[f]; ok {
			return o.opts, true
		}
	}
	for f, o := range wd.off {
		// The file renamed: the same file, its time and size as they were.
		// A new file that the file system gave the deleted one's inode has
		// others (helper-208).
		if sameStamp(o.file, info) && o.file.Size() == info.Size() {
			delete(wd.off, f)
			return o.opts, true
		}
	}
	return ScriptOptions{}, false
}

// stoppable returns ctx for the load of path, whose bytes hash to sum, as the
// script name, which a newer save of path stops (see fileLoad.stop), and what ends that: the load stopped
// says nothing (no event), and the loop of its fileLoad loads the newer save.
func (wd *watchedDir) stoppable(ctx context.Context, name, path string, sum uint64) (context.Context, func()) {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	l := wd.loading[name]
	if l == nil {
		lctx, stop := context.WithCancelCause(ctx)
		return lctx, func() { stop(nil) }
	}
	if l.ctx == nil || l.path != path || l.sum != sum { // else made by startLoad
		l.ctx, l.stop = context.WithCancelCause(ctx)
		l.path, l.sum = path, sum
	}
	lctx, stop := l.ctx, l.stop
	return lctx, func() {
		wd.mu.Lock()
		if l.ctx == lctx {
			l.ctx, l.stop = nil, nil
		}
		wd.mu.Unlock()
		stop(nil)
	}
}

// newest returns the Pending of s's newest request, resolved or not: the one
// that decides for the requests it superseded.
func (s *Script) newest() *Pending {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latestP
}

// newestSave returns the Pending of s's newest request if it is the reload of
// a save Watch saw, or nil (a Revert, the program's Reload): the reload of
// the save Watch saw last, if it is the newest request or still to resolve
// (marked, and not yet the newest: helper-230).
func (s *Script) newestSave() *Pending {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.file.reload; p != nil && (p == s.latestP || !resolved(p)) {
		return p
	}
	return nil
}
