package hotscript

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
	"sync"
	"time"

	"github.com/hotscript/hotscript/watch"
)

// Watch watches dir and its subdirectories (package watch: one debounced event per
// saved file) and keeps the Host's scripts in step with the files, until ctx is done
// or the Host is closed. It returns once watching has begun.
//
//   - A save of a loaded script's file (the path given to Load) reloads it through
//     the same transactional reload as Reload, asynchronously: the outcome is an
//     Event, and a broken save leaves the last good version running. So does a
//     save made between a Load that has returned and Watch, which Watch finds
//     as it begins by reading the file again (a Load still running then does
//     not know of Watch: a save before it returns waits for the next), and a
//     save made while no Watch of dir ran, since the Host last saw the file.
//     For a .wasm, that file may be its source (below): a save of x.c or x.wat
//     since the load of x.wasm, or since the save of it Watch last built into
//     the script, is built and reloaded as Watch begins, as the watcher's
//     report of it would have been (if x.wasm was saved too, the later of the
//     two runs). A save whose reload the program's own Reload, ReloadAsync or
//     Revert superseded was seen: a later Watch does not run it over what the
//     program asked for since (unless that request was cut off in turn).
//     A save whose bytes (built, for .wat and .c) are the live version's, with
//     no reload of the script pending, changes nothing and reloads nothing: a
//     touch, a comment edited in a .wat, a directory restored as it was would
//     otherwise start a WASM script's state over. Nor does a report of the
//     file the script comes from exactly as Watch last saw it (same file,
//     time and bytes: a directory moved away and back), whatever a Revert or
//     a program's Reload made run since. h.Reload still reloads identical
//     bytes.
//   - A script loaded with LoadBytes under a name that is the path of a file in
//     dir counts as loaded from that file: a save reloads it. The path given to
//     Load may reach dir another way (through a symbolic link to it, or to the
//     directory a watched link names): a script is known by its file. dir, if a
//     link, is resolved as Watch begins: pointing it elsewhere later leaves
//     Watch on the directory it named (watch the new one with another Watch).
//   - A script file that is a symbolic link, to a file in dir or outside it,
//     reloads when its target is saved or the link is pointed elsewhere; links
//     to directories below dir are not followed (see package watch).
//   - Sources with a build step (.wat with wat2wasm, .c with clang, as in
//     watch.DefaultBuildSteps) are reloaded from the built module. A .wat or .c
//     file is the source of the script of the .wasm next to it, if one is
//     loaded. Without one, a .wat is a script of its own, named x.wat (Load
//     builds .wat itself), and a .c is loaded from the built bytes under the
//     name of the .wasm it builds, x.wasm (Load does not build C). A script
//     the program loaded so itself (LoadBytes of its built source, under the
//     name of a .wasm that is not there) comes from that source. A failed
//     build is a Rejected event carrying the tool's message. Watch builds a
//     source into its script but does not write the .wasm beside it (the
//     program's own build does): of the two, the one saved last runs. A file
//     Watch reports as it last saw it (same file, time and bytes: a directory
//     moved away and back, a file renamed away and back) while the script has
//     come since from the other reloads nothing, so that the .wasm a save of
//     its source superseded does not run again; a .wasm saved since (rebuilt,
//     copied, touched) does.
//   - An empty file is not a script yet: a save that leaves a script's file, or
//     its source, empty (an editor's new file, a touch, a save read between its
//     truncation and its write) is ignored, as is a new empty file. No script,
//     WASM or Lua, can be empty, so nothing is lost: the next save counts.
//   - A deleted script file (for a .c without a .wasm, its source) leaves the
//     last version running, and a Removed event says so. Deleting the source of
//     a .wasm that stays says nothing. A script file renamed or moved within
//     dir, onto a new name or over another script's file, is a deletion and a
//     save: once the file has loaded (or reloaded the script it replaced), the
//     script of its old name is unloaded (an Unloaded event), so that its code
//     does not run on under two names. (The source of a .wasm that stays, renamed,
//     moves nothing: the .wasm's script runs on, and the new name is a script of
//     its own.) Watch knows the file by its identity
//     (os.SameFile), time and bytes (a source's text: a C module's debug
//     information names its source, so a renamed one builds to other bytes)
//     from the load or save it last saw, within two seconds of the deletion;
//     the script under the new name starts from its own state.
//   - A saved .wasm, .wat, .c or .lua file that is not loaded yet is loaded (named
//     by joining dir and its path under dir) and reported by a Loaded event, or a
//     Rejected one if it does not load; files already there when Watch starts are
//     not loaded. Each such load runs on a goroutine of its own, so that a file
//     that is slow to load holds up no other script's save; saves of the file
//     while it loads wait for the load, and the newest of them is then handled.
//   - What concerns the directory rather than one script is a WatchError event:
//     subdirectories that cannot be watched (the rest is), lost notifications.
//     When dir itself is removed (a WatchError wrapping watch.ErrDirRemoved), its
//     scripts keep running (each has a Removed event, unless dir is back within
//     the watcher's debounce), and Watch looks for dir
//     every half second; once it is back, a WatchResumed event says so, and the
//     scripts in it are loaded or reloaded as if saved.
//
// Watch fails if dir itself cannot be watched, and with ErrInvalid if dir is,
// contains or is inside a directory this Host watches already (one save would
// reload a script once per watch). Safe for concurrent use; a Host may watch
// several directories apart.
func (h *Host) Watch(ctx context.Context, dir string) error {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return opErr("watch", dir, err)
	}
	claim, err := h.claim(ctx, absDir)
	if err != nil {
		return opErr("watch", dir, err)
	}
	build := watch.DefaultBuildSteps()
	w, err := watch.New(watch.Options{
		Filter: watch.MatchExt(".wasm", ".wat", ".c", ".lua"),
		Build:  build,
	})
	if err != nil {
		h.unclaim(claim)
		return opErr("watch", dir, err)
	}
	addErr := w.Add(absDir)
	if addErr != nil && !errors.Is(addErr, watch.ErrIncomplete) {
		_ = w.Close(ctx)
		h.unclaim(claim)
		return opErr("watch", dir, addErr)
	}
	if !h.enter() {
		_ = w.Close(ctx)
		h.unclaim(claim)
		return opErr("watch", dir, ErrClosed)
	}
	wd := &watchedDir{h: h, dir: dir, abs: absDir, real: claim.dir, build: build, caught: map[string]caughtFile{}}
	h.watchMu.Lock()
	claim.abs, claim.w, claim.wd = absDir, w, wd
	h.watchMu.Unlock()
	if addErr != nil {
		wd.watchError(addErr)
	}
	var loaded []*Script
	for _, s := range h.Scripts() {
		if file := s.file0(); file != "" && (within(file, absDir) || within(s.canonFile(), wd.real)) {
			s.markWatched(file)
			loaded = append(loaded, s)
		}
	}
	go func() {
		defer h.wg.Done()
		defer h.unclaim(claim)
		defer w.Close(context.WithoutCancel(ctx))
		wd.catchUp(ctx, loaded)
		rewatch := time.NewTicker(rewatchInterval)
		rewatch.Stop() // runs while dir is gone
		defer rewatch.Stop()
		for {
			select {
			case ev, ok := <-w.Events():
				if !ok {
					return
				}
				wd.handle(ctx, ev)
			case err, ok := <-w.Errors():
				if !ok {
					return
				}
				wd.watchError(err)
				if errors.Is(err, watch.ErrDirRemoved) {
					rewatch.Reset(rewatchInterval)
				}
			case <-rewatch.C:
				if wd.rewatch(w) {
					rewatch.Stop()
				}
			case <-ctx.Done():
				return
			case <-h.base.Done():
				return
			}
		}
	}()
	return nil
}

// watchClaim is a directory a Watch holds, with its symbolic links resolved,
// until its context is done; and, once it watches, the directory as the
// watcher names its files and the watcher.
type watchClaim struct {
	dir string
	ctx context.Context
	abs string
	w   *watch.Watcher
	wd  *watchedDir
}

// forgetFiles tells the watchers of the directories that hold paths that the
// Host no longer has what it loaded from them (Unload): a file's next activity
// loads it again, even one that leaves it as the watcher last reported it (a
// file renamed away, its old name unloaded as moved, and straight back).
func (h *Host) forgetFiles(paths ...string) {
	type watcher struct {
		abs string
		w   *watch.Watcher
	}
	var ws []watcher
	h.watchMu.Lock()
	for _, c := range h.watched {
		if c.w != nil {
			ws = append(ws, watcher{c.abs, c.w})
		}
	}
	h.watchMu.Unlock()
	for _, w := range ws {
		for _, p := range paths {
			if p != "" && within(p, w.abs) {
				w.w.Forget(p)
			}
		}
	}
}

// claim records that dir is watched under ctx, unless it overlaps a directory
// watched already. A Watch whose context is done holds nothing, even while its
// goroutine has not stopped yet: a program that cancels a Watch and starts
// another may do so at once.
func (h *Host) claim(ctx context.Context, dir string) (*watchClaim, error) {
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	h.watchMu.Lock()
	defer h.watchMu.Unlock()
	h.watched = slices.DeleteFunc(h.watched, func(c *watchClaim) bool { return c.ctx.Err() != nil })
	for _, c := range h.watched {
		if within(dir, c.dir) || within(c.dir, dir) {
			return nil, fmt.Errorf("%w: %s is watched already", ErrInvalid, c.dir)
		}
	}
	c := &watchClaim{dir: dir, ctx: ctx}
	h.watched = append(h.watched, c)
	return c, nil
}

// unclaim ends claim c, of a Watch that failed or stopped.
func (h *Host) unclaim(c *watchClaim) {
	h.watchMu.Lock()
	defer h.watchMu.Unlock()
	h.watched = slices.DeleteFunc(h.watched, func(d *watchClaim) bool { return d == c })
}

// within reports whether path is dir or inside it; both are clean and absolute.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// rewatchInterval is how often Watch looks for a watched directory that was
// removed, to watch it again once it is back.
const rewatchInterval = 500 * time.Millisecond

type watchedDir struct {
	h        *Host
	dir, abs string
	real     string                     // abs with its links resolved; "" is abs
	build    map[string]watch.BuildStep // the watcher's, for the catch-up's builds

	mu sync.Mutex
	// loading maps the names of the scripts whose file is loading, on a
	// goroutine of its own, to that load. A file renamed while it loads adds
	// its new name to the same load.
	loading map[string]*fileLoad
	// caught holds, by path, what the catch-up found of a file as Watch began
	// (see caughtUp).
	caught map[string]caughtFile
}

// caughtFile is what the catch-up found of a file: its size and time, and the
// hash of its bytes (a .wat's text).
type caughtFile struct {
	size int64
	mod  time.Time
	sum  uint64
}

// fileLoad is a load of a file that is not a script yet, with the events that
// came meanwhile for its script: the newest of each file, in the order they came.
type fileLoad struct {
	first arrival
	queue []arrival
}

// arrival is an event of the watcher, when it came and the identity of its file
// then (nil if there was none): a rename is told by the time between a deletion
// and a save, not by when an event that waited for a load is handled, and a file
// renamed again meanwhile is still known.
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
	a.at = time.Now()
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
	if l == nil {
		// A file renamed while its first load runs: its new name waits for that
		// load, so that it then finds the script of its old name moved.
		if l = wd.loadOf(a); l != nil {
			wd.loading[name] = l
		}
	}
	if l != nil {
		l.queue = slices.DeleteFunc(l.queue, func(b arrival) bool { return b.ev.Path == ev.Path })
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
		if f.info != nil && f.ev.Path != a.ev.Path && os.SameFile(f.info, a.info) &&
			f.info.ModTime().Equal(a.info.ModTime()) && !lexists(f.ev.Path) {
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
// save of script s's own file.
func fileSum(a arrival, s *Script, fromSource bool) uint64 {
	if s == nil || fromSource || a.ev.Op != watch.Changed {
		return 0
	}
	return a.sum
}

// process acts on an event. owner says that the caller is the goroutine of a
// load of the event's script, which loads the file itself if it must.
func (wd *watchedDir) process(ctx context.Context, a arrival, owner bool) {
	ev := a.ev
	s, fromSource := wd.find(ev.Path), false
	if s == nil && ev.Output != ev.Path {
		s, fromSource = wd.find(ev.Output), true // x.c builds the x.wasm a script was loaded from
	}
	if a.catchUp && s == nil {
		return // unloaded since the catch-up read its file: not a new file
	}
	sum := fileSum(a, s, fromSource)
	if s != nil && !a.catchUp && wd.caughtUp(ev.Path, a.sum) {
		return // the save the catch-up read as the watcher began, reported now
	}
	if s != nil && ev.Op == watch.Changed {
		s.unsayRemoved() // a file of it is there: its deletion is news again
	}
	switch {
	case s != nil && ev.Op == watch.Removed && (!fromSource || !exists(ev.Output)):
		// The script's file is gone: the one it was loaded from, or the source
		// of a .wasm that is not there either. A deleted source of a .wasm that
		// stays concerns nothing that runs. A .wasm and its source deleted
		// together are one deletion, reported once (see sayRemoved).
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
		if sum != 0 { // before the event: a Watch begun on it leaves the save
			s.readSum.Store(sum) // seen, and refused: a later Watch leaves it
		} else if fromSource {
			s.refusedSource(ev.Path, a.sum, a.info) // so is a source
		}
		s.record("reload", Event{Kind: Rejected}, buildError(ev))
	case s != nil && s.unchanged(ev.Data):
		// A save that changes nothing (a touch, a comment in a .wat): a reload
		// would only start a WASM script's state over. A file with the same
		// bytes renamed over this one's still moves: its old name goes.
		moved := wd.movedTo(a, s)
		s.mark(ev.Path, a.sum, a.info)
		if sum != 0 {
			s.readSum.Store(sum)
		}
		wd.unloadMoved(ctx, nil, nil, moved)
	case s != nil:
		moved := wd.movedTo(a, s)
		p := wd.h.ReloadAsync(ctx, s, ev.Data)
		s.markSaved(ev.Path, a.sum, a.info, p)
		if sum != 0 { // once resolved: a save whose reload was cut off is caught up later
			go s.seeSave(p, sum)
		}
		wd.unloadMoved(ctx, s, p, moved)
	case owner:
		wd.load(ctx, a)
	default:
		wd.startLoad(ctx, a)
	}
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
	go func() {
		defer wd.h.wg.Done()
		wd.load(ctx, a)
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

// empty reports whether a Changed event found its file empty: no bytes, or a
// source that failed to build because it is empty now.
func empty(ev watch.Event) bool {
	if ev.Err == nil {
		return len(ev.Data) == 0
	}
	info, err := os.Stat(ev.Path)
	return err == nil && info.Size() == 0
}

// unchanged reports whether code is what s's live version runs, with no reload of
// s pending (which a save of the live bytes must still overtake).
func (s *Script) unchanged(code []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open == 0 && bytes.Equal(s.hist.live().code, code)
}

// watchError reports an error of the watcher, which concerns the directory rather
// than one script; the event names the directory, and the watcher's errors name the
// paths they concern.
func (wd *watchedDir) watchError(err error) {
	wd.h.ev.emit(Event{Script: wd.dir, Kind: WatchError, Err: err})
}

// rewatch watches the directory again if it is back, and reports whether it is.
// The watcher then reports every file in it, so each is loaded or reloaded.
func (wd *watchedDir) rewatch(w *watch.Watcher) bool {
	err := w.Add(wd.abs)
	if err != nil && !errors.Is(err, watch.ErrIncomplete) {
		return false
	}
	wd.h.ev.emit(Event{Script: wd.dir, Kind: WatchResumed})
	if err != nil {
		wd.watchError(err)
	}
	return true
}

// contains reports whether path is in the directory, reached through abs or
// through another path to it (see canonFile).
func (wd *watchedDir) contains(path string) bool {
	if within(path, wd.abs) {
		return true
	}
	real := wd.real
	if real == "" {
		real = wd.abs
	}
	return within(canonPath(path), real)
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
	moved := wd.movedTo(a, nil)
	// The load runs on a goroutine of the Host's, as a reload's staging does.
	// What the file held (a .wat's text) is known before the Loaded event: a
	// Watch begun on that event catches up a save made after it.
	s, err := wd.h.load(context.WithValue(ctx, watchLoadKey{}, true), name, path, ev.Data, a.sum, nil)
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
		if _, taken := wd.h.Script(name); !taken || wd.find(ev.Path) != nil || wd.find(ev.Output) != nil {
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
	wd.unloadMoved(ctx, nil, nil, moved)
}

// newest returns the Pending of s's newest request, resolved or not: the one
// that decides for the requests it superseded.
func (s *Script) newest() *Pending {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latestP
}

// exists reports whether there is a file at path.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// lexists reports whether there is anything at path, a dangling link included.
func lexists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// relOrSelf is path relative to base, or path itself if it has no such form.
func relOrSelf(base, path string) string {
	rel, err := filepath.Rel(base, path)
	if err != nil {
		return path
	}
	return rel
}

func buildError(ev watch.Event) error {
	return &stepError{ErrBuild, ev.Err}
}
