package watch

import (
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// add watches dir recursively and records its files as known to the host, except
// in a directory given to Add before and removed since (lost): the host has seen
// none of what it holds now, so every file there is reported, whatever the
// watcher recorded of it before the loss (it may have come back within the
// debounce, as it was), and every file the host had seen there and is gone is
// reported Removed.
//
// Symbolic links that lead into dir are followed under dir's names, also those
// followed before dir was added (see alias and aliased).
func (l *loop) add(dir string) error {
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		l.roots[dir] = real
		refollow := l.aliased(dir, real)
		defer func() {
			for _, path := range refollow {
				l.touch(path) // its target was not watched for a moment
			}
		}()
	}
	visit := l.know
	var found []string
	if l.lost[dir] {
		for path, f := range l.filesUnder(dir) {
			f.seen = version{}
			l.touch(path)
		}
		visit = func(path string) {
			l.follow(path)
			found = append(found, path)
		}
	}
	_, err := l.walk(dir, visit)
	l.touchInSaveOrder(found)
	if _, ok := l.dirs[dir]; !ok { // dir itself is not watched
		delete(l.roots, dir)
		if err == nil { // it vanished since Add looked at it
			err = fmt.Errorf("watch: watch %s: %w", dir, fs.ErrNotExist)
		}
		return err
	}
	l.dirs[dir] = true
	delete(l.lost, dir)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrIncomplete, err)
	}
	return nil
}

// walk watches root and every directory under it that is not ignored, calls visit
// for every file the watcher wants, and returns the directories it watched and
// listed. Each directory is watched before it is listed, so a file created while
// walking is seen by the listing or by the watch, possibly both; visit must
// tolerate that. Symbolic links to directories are not followed, except root
// itself.
//
// A directory that vanishes before it is watched or listed (a tool's scratch
// directory, removed at once) is skipped without an error: there is nothing in
// it to watch, and the caller sees that it is not in l.dirs.
func (l *loop) walk(root string, visit func(path string)) (reached []string, err error) {
	var errs []error
	var walkDir func(dir string)
	walkDir = func(dir string) {
		_, had := l.dirs[dir]
		if err := l.w.fsw.Add(dir); err != nil {
			if !vanished(err) {
				errs = append(errs, fmt.Errorf("watch: watch %s: %w", dir, err))
			}
			return
		}
		entries, err := os.ReadDir(dir) // on error, the entries read before it
		switch {
		case vanished(err):
			// Gone, or now a file, since the watch began. One watched
			// before this walk is forgotten when its removal is notified.
			if !had && l.linkDirs[dir] == 0 {
				_ = l.w.fsw.Remove(dir)
			}
			return
		case err != nil:
			errs = append(errs, fmt.Errorf("watch: list %s: %w", dir, err))
		}
		if !had {
			l.dirs[dir] = false
		}
		reached = append(reached, dir)
		for _, e := range entries {
			path := filepath.Join(dir, e.Name())
			switch {
			case e.IsDir():
				if !l.ignore.match(path) {
					walkDir(path)
				}
			case l.wants(path):
				visit(path)
			}
		}
	}
	walkDir(root)
	return reached, errors.Join(errs...)
}

// know records an existing file as one the host has loaded, with its version, so
// that a notification that leaves the file as it is (one that arrives late) yields
// no event. A file the watcher has already is left as it is: it is known, or it
// has activity or an event whose report must not be taken back (Add again while a
// file moved in waits for its debounce). A symbolic link is followed, also one
// that leads nowhere yet.
func (l *loop) know(path string) {
	l.follow(path)
	if l.files[path] != nil {
		return
	}
	info, err := os.Stat(path)
	if err != nil || !info.Mode().IsRegular() {
		return
	}
	l.files[path] = &file{known: true, seen: versionAtAdd(info, time.Now())}
}

// settleTime is how long ago a file must have last changed for its stamp alone to
// identify its bytes: longer than the coarsest timestamp granularity of common file
// systems (2 s on FAT, 1 s on ext3 and HFS+). Any later write then gives the file a
// newer change time (a newer modification time, where stamps have no change time).
const settleTime = 2 * time.Second

// versionAtAdd returns the version of a file found by Add: its stamp, settled if
// the file last changed (its modification or change time) more than settleTime
// ago, so that a notification that leaves its stamp as it is (one that arrives
// late) yields no event. A newer file's stamp serves only rescans: its first
// notification is reported whatever it holds, because what Add would read may
// already be a save the host has not seen (one made while Add ran), and a second
// change within the timestamp granularity would not change its stamp.
func versionAtAdd(info fs.FileInfo, now time.Time) version {
	s := stampOf(info)
	return version{stamp: s, settled: s.changed() < now.Add(-settleTime).UnixNano()}
}

// dirGone forgets a removed or renamed directory and everything under it. Its
// known files get activity, so each becomes Removed, or Changed if it is back
// within the debounce interval (a directory renamed within the tree is reported
// by the Create of its new name). Its symbolic links are forgotten; one of its
// directories that a link elsewhere hangs on stays watched until that link is
// followed anew, which the directory's own notification brings about.
func (l *loop) dirGone(dir string) {
	prefix := dir + string(filepath.Separator)
	for d, root := range l.dirs {
		if d != dir && !strings.HasPrefix(d, prefix) {
			continue
		}
		delete(l.dirs, d)
		if l.linkDirs[d] == 0 {
			_ = l.w.fsw.Remove(d) // the system has usually dropped the watch already
		}
		if root {
			delete(l.roots, d)
			l.lost[d] = true
			l.pushErr(fmt.Errorf("%w: %s", ErrDirRemoved, d))
		}
	}
	for path := range l.filesUnder(dir) {
		l.touch(path)
	}
	for path := range l.links {
		if strings.HasPrefix(path, prefix) {
			l.unfollow(path)
		}
	}
}

// filesUnder yields the files the watcher has under dir.
func (l *loop) filesUnder(dir string) iter.Seq2[string, *file] {
	prefix := dir + string(filepath.Separator)
	return func(yield func(string, *file) bool) {
		for path, f := range l.files {
			if strings.HasPrefix(path, prefix) && !yield(path, f) {
				return
			}
		}
	}
}

// touchInSaveOrder gives activity to paths, files a walk found, in the order
// they were last modified, oldest first, so that their events fire in that
// order: of a source and its module found together (a directory back, a
// rescan), the one saved last is received last, as when they are saved while
// watched. A file whose stat fails goes first, as it was found.
func (l *loop) touchInSaveOrder(paths []string) {
	mod := make(map[string]time.Time, len(paths))
	for _, p := range paths {
		if info, err := os.Stat(p); err == nil {
			mod[p] = info.ModTime()
		}
	}
	slices.SortStableFunc(paths, func(a, b string) int { return mod[a].Compare(mod[b]) })
	for _, p := range paths {
		l.touch(p)
	}
}

// rescan recovers from lost notifications: it walks every directory given to Add
// again, forgets the directories it no longer reaches as removed ones are
// forgotten (dirGone: a directory given to Add is then lost, and reported with
// ErrDirRemoved), follows every symbolic link anew, and gives activity to each
// file that is new, whose stamp (its target's, for a link) differs from the one
// last recorded, or is gone.
func (l *loop) rescan() {
	seen := make(map[string]bool)
	var changed []string
	visit := func(path string) {
		seen[path] = true
		l.follow(path)
		f := l.files[path]
		info, err := os.Stat(path)
		if f == nil || err != nil || stampOf(info) != f.seen.stamp {
			changed = append(changed, path)
		}
	}
	defer func() { l.touchInSaveOrder(changed) }()
	var roots []string
	for dir, root := range l.dirs {
		if root {
			roots = append(roots, dir)
		}
	}
	stale := maps.Clone(l.dirs)
	for _, dir := range roots {
		reached, err := l.walk(dir, visit)
		for _, d := range reached {
			delete(stale, d)
		}
		if err != nil {
			l.pushErr(err)
		}
	}
	for dir := range stale {
		if _, ok := l.dirs[dir]; ok { // not forgotten with a directory above it
			l.dirGone(dir)
		}
	}
	for path := range l.files {
		if !seen[path] { // gone, known or not (its first Changed event may wait)
			l.touch(path)
		}
	}
	for path := range l.links {
		if !seen[path] {
			l.unfollow(path)
		}
	}
}
