package watch

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// maxLinks bounds the symbolic links followed to resolve one, as the kernel bounds
// them (40 on Linux): a longer chain is taken for a loop.
const maxLinks = 40

// link is what a symbolic link among the files hangs on. Each directory in dirs is
// watched, so that a notification naming one of names is activity on the link.
type link struct {
	// names: each symbolic link on the way to the target (directories'
	// included), where the way ends (the target, or the first name missing on
	// the way), and the directories holding them, whose own notifications
	// (removed, renamed) say that all they hold has gone.
	names []string
	dirs  []string // the directories holding names that the watcher watches for the link
}

// follow records where the file at path leads if it is a symbolic link, watching
// the directories of what it passes through, so that a save of its target,
// wherever that is, is activity on path; it forgets path as a link when it is none
// or leads to a directory (not followed). It runs on every activity on the file
// and whenever Add or a rescan finds it, so that a link retargeted, or one whose
// target's directory went and came back, is followed anew.
func (l *loop) follow(path string) {
	ln, ok := l.trace(path)
	for _, d := range ln.dirs {
		l.linkDirs[d]++
	}
	l.unfollow(path) // after counting ln.dirs, so that a directory it keeps stays watched
	if !ok {
		l.release(ln.dirs)
		return
	}
	l.links[path] = &ln
	for _, name := range ln.names {
		if l.linked[name] == nil {
			l.linked[name] = make(map[string]bool)
		}
		l.linked[name][path] = true
	}
}

// unfollow forgets path as a symbolic link, and gives up its directories.
func (l *loop) unfollow(path string) {
	ln := l.links[path]
	if ln == nil {
		return
	}
	delete(l.links, path)
	for _, name := range ln.names {
		delete(l.linked[name], path)
		if len(l.linked[name]) == 0 {
			delete(l.linked, name)
		}
	}
	l.release(ln.dirs)
}

// release gives up one link's use of each of dirs, and stops watching those that
// no link uses any more, unless they are in the tree.
func (l *loop) release(dirs []string) {
	for _, d := range dirs {
		if l.linkDirs[d]--; l.linkDirs[d] > 0 {
			continue
		}
		delete(l.linkDirs, d)
		if _, tree := l.dirs[d]; !tree {
			_ = l.w.fsw.Remove(d) // the system has dropped the watch already if d went
		}
	}
}

// trace resolves the symbolic link at path as the system does, one name at a
// time, and returns what it hangs on. Before it looks at a name that the link
// hangs on, it watches the name's directory and looks again, so that a change made
// after its look is notified. It is not ok when path is no symbolic link or leads
// to a directory; ln.dirs then still holds the directories it watched.
func (l *loop) trace(path string) (ln link, ok bool) {
	target, err := os.Readlink(path)
	if err != nil {
		return ln, false // not a link (any more)
	}
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		return ln, false
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(path))
	if err != nil {
		return ln, false // its directory has gone, and the link with it
	}
	watching := make(map[string]bool)
	// watch watches dir, a directory with its links resolved, and returns the
	// name it is watched under.
	watch := func(dir string) string {
		name := l.alias(dir)
		if watching[name] {
			return name
		}
		watching[name] = true
		ln.names = append(ln.names, name)
		if err := l.w.fsw.Add(name); err != nil {
			if !vanished(err) {
				l.pushErr(fmt.Errorf("watch: watch %s for the link %s: %w", name, path, err))
			}
			return name
		}
		ln.dirs = append(ln.dirs, name)
		return name
	}
	const sep = string(filepath.Separator)
	var rest string
	// enter continues the resolution at target, read from a link in dir.
	enter := func(target string) {
		target = filepath.FromSlash(target)
		if filepath.IsAbs(target) {
			vol := filepath.VolumeName(target)
			dir, target = vol+sep, target[len(vol):]
		}
		rest = target + sep + rest
	}
	enter(target)
	for links := 1; ; {
		rest = strings.TrimLeft(rest, sep)
		if rest == "" {
			return ln, false // it ends at dir, a directory
		}
		var name string
		name, rest, _ = strings.Cut(rest, sep)
		switch name {
		case ".":
			continue
		case "..":
			dir = filepath.Dir(dir) // dir has no links: its parent is its name's
			continue
		}
		next := filepath.Join(dir, name)
		last := strings.Trim(rest, sep) == ""
		info, err := os.Lstat(next)
		if err != nil || info.Mode()&fs.ModeSymlink != 0 || last {
			ln.names = append(ln.names, filepath.Join(watch(dir), name))
			info, err = os.Lstat(next)
		}
		switch {
		case err != nil:
			return ln, true // missing (or unreadable): its creation is notified
		case info.Mode()&fs.ModeSymlink != 0:
			if links++; links > maxLinks {
				return ln, true // a loop: a change to any link in it is notified
			}
			target, err := os.Readlink(next)
			if err != nil {
				return ln, true // no longer a link: notified
			}
			enter(target)
		case !info.IsDir():
			return ln, true // the target, or a file where a directory should be
		case last:
			return ln, false
		default:
			dir = next
		}
	}
}

// alias returns the name under which the watcher watches dir, a directory with
// its symbolic links resolved: dir, or its path through a directory given to Add
// by another name (through a symbolic link). fsnotify watches a directory under
// the name it was first watched by, and names its notifications so: a directory of
// the tree watched again under another name would have its files' notifications
// named by one of the two.
func (l *loop) alias(dir string) string {
	if _, ok := l.dirs[dir]; ok {
		return dir
	}
	alias := dir
	for root, real := range l.roots {
		if rel, ok := within(dir, real); ok && root != real {
			alias = filepath.Join(root, rel)
			if _, ok := l.dirs[alias]; ok {
				break
			}
		}
	}
	return alias
}

// aliased prepares the Add of root, which is real with its symbolic links
// resolved, when the two differ: it stops watching the directories under real
// that links watch by their own names, so that walking root watches them by
// root's names, which fsnotify then names their notifications by. It returns the
// links that used them, to be followed anew once root is walked.
func (l *loop) aliased(root, real string) (links []string) {
	if root == real {
		return nil
	}
	dropped := make(map[string]bool)
	for path, ln := range l.links {
		used := false
		for _, d := range ln.dirs {
			if _, tree := l.dirs[d]; tree {
				continue
			}
			if _, ok := within(d, real); !ok {
				continue
			}
			used = true
			if !dropped[d] {
				dropped[d] = true
				_ = l.w.fsw.Remove(d)
			}
		}
		if used {
			links = append(links, path)
		}
	}
	return links
}

// within reports whether path is dir or under it, and returns the rest of it.
func within(path, dir string) (rel string, ok bool) {
	if path == dir {
		return ".", true
	}
	return strings.CutPrefix(path, strings.TrimSuffix(dir, string(filepath.Separator))+string(filepath.Separator))
}
