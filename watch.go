package hotscript

import (
	"context"
	"errors"
	"fmt"
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
//     no reload of the script pending, changes nothing and reloads nothing (with
//     one pending, it supersedes that reload, and then stages nothing if its
//     bytes are still the live version's: a Restored event, an edit undone as
//     the broken save stages): a
//     touch, a comment edited in a .wat, a directory restored as it was would
//     otherwise start a WASM script's state over. Nor does a report of the
//     file the script comes from exactly as Watch last saw it (same file,
//     time and bytes: a directory moved away and back), whatever a Revert or
//     a program's Reload made run since. h.Reload still reloads identical
//     bytes. Such a save, or such a report, after a save whose reload was
//     rejected (or that did not build) or after the file's deletion, is a
//     Restored event: the file holds the running version's code again (an
//     edit undone, a file recreated or moved back as it was).
//   - A script loaded with LoadBytes under a name that is the path of a file in
//     dir counts as loaded from that file: a save reloads it. The path given to
//     Load may reach dir another way (through a symbolic link to it, or to the
//     directory a watched link names): a script is known by its file. dir, if a
//     link, is resolved as Watch begins: pointing it elsewhere later leaves
//     Watch on the directory it named (watch the new one with another Watch).
//   - A script file that is a symbolic link, to a file in dir or outside it,
//     reloads when its target is saved or the link is pointed elsewhere; links
//     to directories below dir are not followed (see package watch). Hard
//     links are not told apart: each name of a file is a script of its own,
//     which a save through another name does not reload.
//   - Sources with a build step (.wat with wat2wasm, .c with clang, as in
//     watch.DefaultBuildSteps) are reloaded from the built module. A .wat or .c
//     file is the source of the script of the .wasm next to it, if one is
//     loaded. Without one, a .wat is a script of its own, named x.wat (Load
//     builds .wat itself), whose other file an x.wasm saved beside it later,
//     or as it loads, is (built from it by hand or by an editor's task, as
//     the .wat was created): its saves reload
//     x.wat, no second script (while Watch runs: the next Watch's catch-up,
//     and Reload(nil), read x.wat only); and a .c is loaded from the built bytes under the
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
//     last version running, and a Removed event says so, once, also for a file
//     deleted while no Watch of dir ran (as Watch begins). Deleting the source of
//     a .wasm that stays says nothing. A script file renamed or moved within
//     dir, onto a new name or over another script's file, is a deletion and a
//     save: once the file has loaded (or reloaded the script it replaced), the
//     script of its old name is unloaded (an Unloaded event, whose MovedTo
//     names the script that runs the file now), so that its code does not run
//     on under two names; under SwapAtApply, by the Apply that commits that
//     reload, or the next one, so that the scripts a frame calls change only
//     between frames, as their versions do. Loaded under a new name, it has the ScriptOptions
//     the script of its old name had (its Contract, Migration and Limits). (The source of a .wasm that stays, renamed,
//     moves nothing: the .wasm's script runs on, and the new name is a script of
//     its own.) Watch knows the file by its identity
//     (os.SameFile), time and bytes (a source's text: a C module's debug
//     information names its source, so a renamed one builds to other bytes)
//     from the load or save it last saw, within two seconds of the deletion;
//     the script under the new name starts from its own state. A save that
//     Watch had not seen yet when the file moved (saved and renamed within its
//     debounce, as a storm of changes may) makes it another file to Watch: the
//     old name's script runs on, as a deleted file's does, until unloaded.
//   - A saved .wasm, .wat, .c or .lua file that is not loaded yet is loaded (named
//     by joining dir and its path under dir, with the options
//     Config.WatchOptions gives it, or, for the file of a script the program
//     unloaded as this Watch ran, with that script's options: see Unload) and
//     reported by a Loaded event, or a
//     Rejected one if it does not load; files already there when Watch starts are
//     not loaded. Each such load runs on a goroutine of its own, so that a file
//     that is slow to load holds up no other script's save. A save of other
//     bytes of the file while it loads stops that load, as far as it can be
//     stopped (a Lua compile or chunk stops, a WASM compile runs to its end;
//     the load stopped has no event), and is loaded next; other events of the
//     script's files (a touch, a save that fails to build, a .wasm's source)
//     wait for the load, and the newest of each is then handled.
//     A reload (a save of a loaded script, or a program's Reload) likewise
//     stops the version the script's last reload is still building.
//   - What concerns the directory rather than one script is a WatchError event:
//     subdirectories that cannot be watched (the rest is), lost notifications.
//     When dir itself is removed (a WatchError wrapping watch.ErrDirRemoved), its
//     scripts keep running (each has a Removed event, unless dir is back within
//     the watcher's debounce), and Watch looks for dir
//     every half second; once it is back, a WatchResumed event says so, and the
//     scripts in it are loaded or reloaded as if saved.
//
// Watch fails if dir itself cannot be watched, with ErrInvalid if dir is,
// contains or is inside a directory this Host watches already (one save would
// reload a script once per watch), and with ctx's error if ctx is done already.
// Safe for concurrent use; a Host may watch several directories apart.
func (h *Host) Watch(ctx context.Context, dir string) error {
	if err := ctx.Err(); err != nil {
		return opErr("watch", dir, err)
	}
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

// watchedDirs returns the directories watched now, once watching has begun.
func (h *Host) watchedDirs() []*watchedDir {
	h.watchMu.Lock()
	defer h.watchMu.Unlock()
	wds := make([]*watchedDir, 0, len(h.watched))
	for _, c := range h.watched {
		if c.wd != nil {
			wds = append(wds, c.wd)
		}
	}
	return wds
}

// keepOff keeps the options of s, which the program unloaded, for the Watch
// of each directory that holds one of its files (paths: the script's, and
// the one Watch last saw of it, a source perhaps), which loads the file
// again with them (see watchedDir.options), as it does a file moved: a
// plugin loaded with limits must not come back without them. What a Watch
// keeps goes with it.
func (h *Host) keepOff(s *Script, paths ...string) {
	for _, wd := range h.watchedDirs() {
		for _, p := range paths {
			if p == "" || !wd.contains(p) {
				continue
			}
			info, err := os.Lstat(p)
			if err != nil {
				continue
			}
			file := canonPath(p) // outside wd.mu: it reads the directory's links
			wd.mu.Lock()
			if wd.off == nil {
				wd.off = map[string]offScript{}
			}
			wd.off[file] = offScript{opts: s.opts, file: info}
			wd.mu.Unlock()
		}
	}
}

// dropOff forgets what keepOff kept for file, a script of which is loaded.
func (h *Host) dropOff(file string) {
	for _, wd := range h.watchedDirs() {
		wd.mu.Lock()
		delete(wd.off, file)
		wd.mu.Unlock()
	}
}

// forgetMoved drops s, unloaded, from what the watchers keep for the next
// save of a file that scripts were moved onto (see keepMoved): unloading it
// again would do nothing, and keeping it would keep it.
func (h *Host) forgetMoved(s *Script) {
	for _, wd := range h.watchedDirs() {
		wd.mu.Lock()
		for name, kept := range wd.moved {
			if kept = slices.DeleteFunc(kept, func(k *Script) bool { return k == s }); len(kept) == 0 {
				delete(wd.moved, name)
			} else {
				wd.moved[name] = kept
			}
		}
		wd.mu.Unlock()
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
	// moved holds, by script name, the scripts renamed to its file that its
	// failed load or reload has not unloaded (see keepMoved).
	moved map[string][]*Script
	// off holds the scripts of files in the directory that the program
	// unloaded, by file (canonPath), whose options the file loads with again
	// (see keepOff).
	off map[string]offScript
}

// offScript is a script the program unloaded: its options, and its file as
// it was then, to know it by if renamed.
type offScript struct {
	opts ScriptOptions
	file os.FileInfo
}

// caughtFile is what the catch-up found of a file: its size and time, and the
// hash of its bytes (a .wat's text).
type caughtFile struct {
	size int64
	mod  time.Time
	sum  uint64
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

// buildError is the error of an event whose file could not be built (ErrBuild)
// or read (a file of more than 64 MiB, one that cannot be opened), as it is.
func buildError(ev watch.Event) error {
	if !errors.Is(ev.Err, watch.ErrBuild) {
		return ev.Err
	}
	return &stepError{ErrBuild, ev.Err}
}
