package watch

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io/fs"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hotscript/hotscript/internal/fsread"
)

// result is what a worker learnt about one generation of one path: its outcome,
// or, sent before the outcome, that the file has been read and its build begins.
type result struct {
	path      string
	gen       uint64
	building  bool      // the build begins; the other fields are unset
	gone      bool      // no regular file at path
	fired     time.Time // when the load began: Event.Fired
	unchanged bool      // the file is as in its previous event: no new event
	version   version
	ev        Event
}

// version identifies what a file held when it was last reported, or when Add found
// it, to tell whether notifications reflect a change. Late notifications leave the
// whole stamp as it was; attribute changes (chmod, indexers) leave size,
// modification time and bytes as they were.
type version struct {
	stamp
	sum    uint64 // hash of the bytes, valid when summed
	summed bool
	// settled: the stamp alone identifies the bytes, as for a file Add found
	// unchanged for settleTime (see versionAtAdd); sum is not set. A version
	// neither summed nor settled matches nothing.
	settled bool
}

// matches reports whether v, read from the file now, is what last recorded. A file
// with nothing recorded never matches: its first activity is reported.
//
// A settled version matches only the same stamp, node included: a file renamed
// over it has another inode, and one rewritten and given its old modification
// time back (cp -p, tar) has a newer change time, though size and modification
// time are the same. A chmod moves the change time too, and is reported, since
// a stat cannot tell it from such a rewrite. A summed version compares the bytes
// instead of the node: a chmod changes no byte, and an identical file renamed
// over it changes nothing the host loads.
func (v version) matches(last version) bool {
	switch {
	case last.settled:
		return v.stamp == last.stamp
	case last.summed:
		return v.size == last.size && v.modTime == last.modTime && v.sum == last.sum
	}
	return false
}

// stamp is what one stat says of a file: all a rescan compares, and all a settled
// version holds.
type stamp struct {
	size    int64
	modTime int64
	node    node
}

// node identifies a file (its device and inode) and the last change to it of any
// kind: its change time (ctime), which any write, chmod, rename or link sets to
// the current time and which, unlike the modification time, no program can set.
// nodeOf reads it where the system's stat has these fields (node_*.go); elsewhere
// it is zero, and stamps compare size and modification time only.
type node struct {
	dev, ino uint64
	changed  int64 // change time in Unix nanoseconds
}

func stampOf(info fs.FileInfo) stamp {
	return stamp{size: info.Size(), modTime: info.ModTime().UnixNano(), node: nodeOf(info)}
}

// Unchanged reports whether after, a later stat of the file before describes,
// says it was not written, replaced or otherwise changed since: the same size,
// modification time and, where the system's stat has them, device, inode and
// change time (which no program can set back, as cp -p sets the
// modification time).
func Unchanged(before, after fs.FileInfo) bool {
	return stampOf(before) == stampOf(after)
}

// changed returns the time of the last change to the file the stamp says: the
// later of its modification and change times.
func (s stamp) changed() int64 {
	return max(s.modTime, s.node.changed)
}

// process loads one generation of path and hands the result to the loop. It runs on
// its own goroutine; ctx is cancelled when newer activity supersedes it. last is the
// version of the path's previous event.
func (l *loop) process(ctx context.Context, path string, gen uint64, last version) {
	defer l.workers.Done()
	r := l.load(ctx, path, gen, last)
	r.path, r.gen = path, gen
	select {
	case l.results <- r:
	case <-l.ctx.Done():
	}
}

// load reads path and, when a build step applies to its extension, tells the loop
// and builds it. The file is read now, when its debounce has run out, not when it
// was written: the event carries the bytes the file holds after the save.
func (l *loop) load(ctx context.Context, path string, gen uint64, last version) result {
	fired := time.Now()
	lst, rd, err := l.readFile(ctx, path)
	if vanished(err) || errors.Is(err, fsread.ErrNotRegular) {
		return result{gone: true, fired: fired}
	}
	r := result{ev: Event{Path: path, Output: l.output(path), Op: Changed, Info: lst, Fired: fired}}
	switch {
	case ctx.Err() != nil:
		return r // superseded or closing: the loop drops this result
	case err != nil:
		r.ev.Err = err
		return r
	}
	r.version = l.versionOf(rd)
	if r.version.matches(last) {
		r.unchanged = true
		return r
	}
	step, ok := l.builds[filepath.Ext(path)]
	if !ok {
		r.ev.Data = rd.Bytes
		return r
	}
	r.ev.Source = rd.Bytes
	select {
	case l.results <- result{path: path, gen: gen, building: true}:
	case <-l.ctx.Done():
		return r
	}
	select {
	case l.buildSlots <- struct{}{}:
	case <-ctx.Done():
		return r
	}
	defer func() { <-l.buildSlots }()
	// The build reads path itself: a file changed since the read above is
	// read and built again, so that Source and Data are one save's (a host
	// takes Source for what runs); one still changing, or gone, gives no
	// event (its own activity does), one unreadable now an event of the
	// read's error.
	b, ok, err := step.BuildRead(ctx, path, rd, func() (Read, error) {
		var rd Read
		lst, rd, err = l.readFile(ctx, path)
		return rd, err
	})
	switch {
	case !ok:
		r.unchanged = true // dropped
	case err != nil:
		r.ev = Event{Path: path, Output: r.ev.Output, Op: Changed, Info: lst, Err: err, Fired: fired}
		r.version = version{}
	default:
		r.ev.Info, r.ev.Source, r.ev.Data, r.ev.BuildLog, r.ev.Err = lst, b.Source.Bytes, b.Data, b.Log, b.Err
		r.version = l.versionOf(b.Source)
	}
	return r
}

// readFile reads path for its event (fsread.ReadStat) while holding one of
// the read slots: what os.Lstat says of it (the event's Info), and a read of
// the file it stands for (a link's target), whose stat comes before the
// bytes, so that a save landing in between, whose bytes the event may carry,
// leaves a newer stamp and Info than the event's: its own event, which
// follows, is not taken for this one. A read's error names path and says it
// is the watcher's.
func (l *loop) readFile(ctx context.Context, path string) (lst fs.FileInfo, rd Read, err error) {
	select {
	case l.readSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, rd, ctx.Err()
	}
	lst, rd.Info, rd.Bytes, err = fsread.ReadStat(path)
	<-l.readSlots
	if err != nil && !vanished(err) && !errors.Is(err, fsread.ErrNotRegular) {
		if !errors.As(err, new(*fs.PathError)) { // one names its path already
			err = fmt.Errorf("read %s: %w", path, err)
		}
		err = fmt.Errorf("watch: %w", err)
	}
	return lst, rd, err
}

// versionOf is the version of a file read as rd.
func (l *loop) versionOf(rd Read) version {
	return version{stamp: stampOf(rd.Info), sum: maphash.Bytes(l.seed, rd.Bytes), summed: true}
}

// vanished reports whether err says that nothing is at a path any more: it does
// not exist, or a directory on the way to it is no longer one (ENOTDIR), as for a
// file of a directory that was removed and whose name a file has taken.
func vanished(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
