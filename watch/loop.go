package watch

import (
	"context"
	"errors"
	"fmt"
	"github.com/hotscript/hotscript/internal/recovered"
	"hash/maphash"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

const (
	// maxQueuedErrors bounds the errors waiting to be received on Errors.
	maxQueuedErrors = 64
	// maxConcurrentReads bounds the files read at once, so that a rescan of a
	// large tree does not open thousands of files together.
	maxConcurrentReads = 16
)

// loop is the state of one Watcher. Only the goroutine running run touches it,
// except the fields workers use: ctx, results, the slots, builds (read-only).
type loop struct {
	w        *Watcher
	debounce time.Duration
	ignore   ignorer
	filter   func(path string) bool
	builds   map[string]BuildStep
	seed     maphash.Seed

	ctx        context.Context // cancelled when the Watcher closes
	cancel     context.CancelFunc
	workers    sync.WaitGroup
	results    chan result
	readSlots  chan struct{} // bounds concurrent reads (open files)
	buildSlots chan struct{} // bounds concurrent builds to the number of CPUs

	files map[string]*file // files the host knows, and files with activity
	dirs  map[string]bool  // watched directories; true for those given to Add
	lost  map[string]bool  // directories given to Add and removed since
	due   []due            // pending debounces, in deadline order
	fired []*load          // loads not yet applied, in firing order (order.go)
	seq   uint64           // last generation handed out
	timer *time.Timer      // fires at due[0].at
	out   outbox
	errs  []error

	// Symbolic links among the files (links.go).
	roots    map[string]string          // directories given to Add and watched, with their links resolved
	links    map[string]*link           // the files that are symbolic links, and what each hangs on
	linked   map[string]map[string]bool // the links hanging on each name (see link), by path
	linkDirs map[string]int             // directories watched for links, with how many links use each
}

// file is what the loop knows of one path. An entry is known, or has activity or
// an event waiting to be received; the others are deleted.
type file struct {
	gen uint64 // generation of the latest activity
	// known: the host has the file, found by Add or received in a Changed
	// event, and has not received a Removed event since (see delivered).
	known bool
	seen  version // when last reported, or its stamp when found by Add
	load  *load   // the load of generation gen, from its firing until it is applied
}

// due is a debounce deadline. Every activity appends one, so deadlines arrive in
// order and a slice serves as the queue; entries whose gen is no longer the file's
// are stale and skipped.
type due struct {
	path string
	gen  uint64
	at   time.Time
}

func newLoop(w *Watcher, debounce time.Duration, ignore ignorer, filter func(string) bool, builds map[string]BuildStep) *loop {
	ctx, cancel := context.WithCancel(context.Background())
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	return &loop{
		w: w, debounce: debounce, ignore: ignore, filter: filter, builds: builds, seed: maphash.MakeSeed(),
		ctx: ctx, cancel: cancel,
		results:    make(chan result),
		readSlots:  make(chan struct{}, maxConcurrentReads),
		buildSlots: make(chan struct{}, runtime.GOMAXPROCS(0)),
		files:      make(map[string]*file),
		dirs:       make(map[string]bool),
		lost:       make(map[string]bool),
		roots:      make(map[string]string),
		links:      make(map[string]*link),
		linked:     make(map[string]map[string]bool),
		linkDirs:   make(map[string]int),
		timer:      timer,
	}
}

func (l *loop) run() {
	defer l.shutdown()
	fsEvents, fsErrors := l.w.fsw.Events, l.w.fsw.Errors
	for {
		var events chan<- Event
		next, ok := l.out.peek()
		if ok {
			events = l.w.events
		}
		var errs chan<- error
		var nextErr error
		if len(l.errs) > 0 {
			errs, nextErr = l.w.errors, l.errs[0]
		}
		select {
		case <-l.w.done:
			return
		case ev, ok := <-fsEvents:
			if !ok {
				fsEvents = nil
				continue
			}
			l.handle(ev)
		case err, ok := <-fsErrors:
			if !ok {
				fsErrors = nil
				continue
			}
			l.handleError(err)
		case req := <-l.w.adds:
			req.reply <- l.add(req.dir)
		case path := <-l.w.forgets:
			l.forget(path)
		case <-l.timer.C:
			l.fire()
		case r := <-l.results:
			l.arrived(r)
		case events <- next:
			l.out.pop()
			l.delivered(next)
		case errs <- nextErr:
			l.errs = l.errs[1:]
		}
	}
}

func (l *loop) shutdown() {
	l.cancel()
	l.timer.Stop()
	l.workers.Wait()
	l.w.closeErr = l.w.fsw.Close()
	close(l.w.events)
	close(l.w.errors)
	close(l.w.finished)
}

// handle turns one fsnotify event into activity on a file, or into watching or
// forgetting a directory. An event on a name that a symbolic link hangs on (its
// target, wherever that is) is activity on the link.
func (l *loop) handle(ev fsnotify.Event) {
	path := filepath.Clean(ev.Name)
	if links := l.linked[path]; len(links) > 0 {
		for _, link := range slices.Collect(maps.Keys(links)) { // touch follows them anew
			l.touch(link)
		}
	}
	_, isDir := l.dirs[path]
	if isDir && (ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename)) {
		l.dirGone(path)
		return
	}
	if _, ok := l.dirs[filepath.Dir(path)]; !ok {
		return // not in the tree: in a directory watched for links only, or forgotten
	}
	if l.ignore.match(path) {
		return
	}
	if ev.Has(fsnotify.Create) {
		// A directory that appears under a watched one is new, with all it
		// holds, even when a concurrent Add has walked it already.
		if info, err := os.Lstat(path); err == nil && info.IsDir() {
			if _, err := l.walk(path, l.touch); err != nil {
				l.pushErr(err)
			}
			return
		}
	}
	if !isDir && l.wants(path) { // other events on directories say nothing about files
		l.touch(path)
	}
}

func (l *loop) handleError(err error) {
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		l.pushErr(fmt.Errorf("%w: %w", ErrOverflow, err))
		l.rescan()
		return
	}
	l.pushErr(fmt.Errorf("watch: %w", err))
}

func (l *loop) pushErr(err error) {
	if len(l.errs) == maxQueuedErrors {
		l.errs = l.errs[1:]
	}
	l.errs = append(l.errs, err)
}

// wants reports whether a file passes the ignore patterns and the filter. A
// panicking filter is reported on Errors and taken as a no.
func (l *loop) wants(path string) (ok bool) {
	if l.ignore.match(path) {
		return false
	}
	if l.filter == nil {
		return true
	}
	defer func() {
		if r := recover(); r != nil {
			l.pushErr(recovered.Error("watch: filter panicked on "+path, r))
			ok = false
		}
	}()
	return l.filter(path)
}

// touch records activity on path: it supersedes any load in progress and restarts
// the path's debounce. It follows path anew if it is a symbolic link.
func (l *loop) touch(path string) {
	l.follow(path)
	f := l.files[path]
	if f == nil {
		// Until a waiting Removed is received, the host has the file that was
		// at path before.
		f = &file{known: l.out.waiting(path, Removed)}
		l.files[path] = f
	}
	l.supersede(f)
	l.seq++
	f.gen = l.seq
	l.due = append(l.due, due{path: path, gen: f.gen, at: time.Now().Add(l.debounce)})
	if len(l.due) == 1 {
		l.timer.Reset(l.debounce)
	}
}

// fire starts a load for every path whose debounce has run out.
func (l *loop) fire() {
	now := time.Now()
	for len(l.due) > 0 && !l.due[0].at.After(now) {
		d := l.due[0]
		l.due = l.due[1:]
		f := l.files[d.path]
		if f == nil || f.gen != d.gen {
			continue
		}
		ctx, cancel := context.WithCancel(l.ctx)
		f.load = &load{path: d.path, output: l.output(d.path), gen: d.gen, cancel: cancel}
		l.fired = append(l.fired, f.load)
		l.workers.Add(1)
		go l.process(ctx, d.path, d.gen, f.seen)
	}
	if len(l.due) == 0 {
		l.due = nil
		return
	}
	l.timer.Reset(time.Until(l.due[0].at))
}

// apply turns the result of the load of f that applyInOrder lets through into an
// event, unless the file is as in its previous event.
func (l *loop) apply(f *file, r result) {
	if r.gone {
		if f.known {
			l.out.push(Event{Path: r.path, Output: l.output(r.path), Op: Removed, Fired: r.fired})
		} else {
			l.out.drop(r.path, Changed) // the host never received it: nothing happened
		}
		delete(l.files, r.path)
		return
	}
	if r.unchanged {
		return
	}
	f.seen = r.version
	l.out.push(r.ev)
}

// forget records that the host no longer has the file at path (see
// Watcher.Forget): its next activity is reported whatever it leaves.
func (l *loop) forget(path string) {
	f := l.files[path]
	if f == nil {
		return
	}
	f.known, f.seen = false, version{} // a version neither summed nor settled matches nothing
	if f.load == nil && !slices.ContainsFunc(l.due, func(d due) bool { return d.path == path && d.gen == f.gen }) {
		delete(l.files, path) // no activity: an entry neither known nor active is dropped
	}
}

// delivered records that the host has received ev: it has the file after a
// Changed event, and no longer after a Removed one.
func (l *loop) delivered(ev Event) {
	if f := l.files[ev.Path]; f != nil {
		f.known = ev.Op == Changed
	}
}

// output is the name the data of path stands for (see Event.Output).
func (l *loop) output(path string) string {
	if step, ok := l.builds[filepath.Ext(path)]; ok {
		return step.output(path)
	}
	return path
}
