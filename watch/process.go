package watch

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/hotscript/hotscript/internal/fsread"
)

// result is what a worker learnt about one generation of one path.
type result struct {
	path      string
	gen       uint64
	gone      bool // no regular file at path
	unchanged bool // the file is as in its previous event: no new event
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
	r := l.load(ctx, path, last)
	r.path, r.gen = path, gen
	select {
	case l.results <- r:
	case <-l.ctx.Done():
	}
}

// load reads path and, when a build step applies to its extension, builds it. The
// file is read now, when its debounce has run out, not when it was written: the
// event carries the bytes the file holds after the save.
func (l *loop) load(ctx context.Context, path string, last version) result {
	info, err := os.Stat(path)
	if vanished(err) || err == nil && !info.Mode().IsRegular() {
		return result{gone: true}
	}
	r := result{ev: Event{Path: path, Output: l.output(path), Op: Changed}}
	var src []byte
	if err == nil {
		src, err = l.read(ctx, path)
	}
	switch {
	case vanished(err) || errors.Is(err, fsread.ErrNotRegular):
		return result{gone: true}
	case ctx.Err() != nil:
		return r // superseded or closing: the loop drops this result
	case err != nil:
		r.ev.Err = fmt.Errorf("watch: read %s: %w", path, err)
		return r
	}
	r.version = version{stamp: stampOf(info), sum: maphash.Bytes(l.seed, src), summed: true}
	if r.version.matches(last) {
		r.unchanged = true
		return r
	}
	step, ok := l.builds[filepath.Ext(path)]
	if !ok {
		r.ev.Data = src
		return r
	}
	select {
	case l.buildSlots <- struct{}{}:
	case <-ctx.Done():
		return r
	}
	defer func() { <-l.buildSlots }()
	r.ev.Data, r.ev.BuildLog, r.ev.Err = step.Build(ctx, path)
	return r
}

// vanished reports whether err says that nothing is at a path any more: it does
// not exist, or a directory on the way to it is no longer one (ENOTDIR), as for a
// file of a directory that was removed and whose name a file has taken.
func vanished(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// read reads path while holding one of the read slots.
func (l *loop) read(ctx context.Context, path string) ([]byte, error) {
	select {
	case l.readSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-l.readSlots }()
	return fsread.File(path)
}

// outbox holds events not yet received, one per path, in the order they fired. A
// newer event for a path replaces the waiting one in its place.
type outbox struct {
	order  []string
	byPath map[string]Event
}

func (o *outbox) push(ev Event) {
	if o.byPath == nil {
		o.byPath = make(map[string]Event)
	}
	if _, waiting := o.byPath[ev.Path]; !waiting {
		o.order = append(o.order, ev.Path)
	}
	o.byPath[ev.Path] = ev
}

// waiting reports whether an event with op waits for path.
func (o *outbox) waiting(path string, op Op) bool {
	ev, ok := o.byPath[path]
	return ok && ev.Op == op
}

// drop removes the event waiting for path if it has op.
func (o *outbox) drop(path string, op Op) {
	if !o.waiting(path, op) {
		return
	}
	delete(o.byPath, path)
	o.order = slices.DeleteFunc(o.order, func(p string) bool { return p == path })
}

func (o *outbox) peek() (Event, bool) {
	if len(o.order) == 0 {
		return Event{}, false
	}
	return o.byPath[o.order[0]], true
}

func (o *outbox) pop() {
	delete(o.byPath, o.order[0])
	o.order = o.order[1:]
	if len(o.order) == 0 {
		o.order = nil
	}
}
