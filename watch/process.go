package watch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// result is what a worker learnt about one generation of one path.
type result struct {
	path  string
	gen   uint64
	gone  bool // no regular file at path
	stamp stamp
	ev    Event
}

// stamp identifies a version of a file cheaply, to tell after lost notifications
// whether it changed.
type stamp struct {
	size    int64
	modTime int64
}

func stampOf(info fs.FileInfo) stamp {
	return stamp{size: info.Size(), modTime: info.ModTime().UnixNano()}
}

// process loads one generation of path and hands the result to the loop. It runs on
// its own goroutine; ctx is cancelled when newer activity supersedes it.
func (l *loop) process(ctx context.Context, path string, gen uint64) {
	defer l.workers.Done()
	r := l.load(ctx, path)
	r.path, r.gen = path, gen
	select {
	case l.results <- r:
	case <-l.ctx.Done():
	}
}

// load reads path, or builds it when a build step applies to its extension. The
// file is read now, when its debounce has run out, not when it was written: the
// event carries the bytes the file holds after the save.
func (l *loop) load(ctx context.Context, path string) result {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) || err == nil && !info.Mode().IsRegular() {
		return result{gone: true}
	}
	r := result{ev: Event{Path: path, Output: l.output(path), Op: Changed}}
	if err != nil {
		r.ev.Err = fmt.Errorf("watch: read %s: %w", path, err)
		return r
	}
	r.stamp = stampOf(info)
	step, ok := l.builds[filepath.Ext(path)]
	slots := l.readSlots
	if ok {
		slots = l.buildSlots
	}
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		r.ev.Err = ctx.Err() // superseded or closing: the loop drops this result
		return r
	}
	defer func() { <-slots }()
	if !ok {
		r.ev.Data, err = os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return result{gone: true}
		}
		if err != nil {
			r.ev.Data, r.ev.Err = nil, fmt.Errorf("watch: read %s: %w", path, err)
		}
		return r
	}
	r.ev.Data, r.ev.BuildLog, r.ev.Err = step.run(ctx, path)
	return r
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
