package watch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is the debounce interval of Options whose Debounce is zero, a
// frame at 60 fps: long enough to span the steps of an editor's save, which
// follow each other within a millisecond or two (what comes later is handled
// anyway: an empty file is no save, and bytes already sent are not sent again),
// short enough that a save is live within a frame or two. A file written in
// pieces more than that apart (a slow copy) can go out half-written, and its
// reload fail, before the whole of it goes out.
const DefaultDebounce = 16 * time.Millisecond

// Options configures a Watcher. The zero value is ready to use: a 16 ms debounce,
// every file reported except those DefaultIgnore names, no build steps.
type Options struct {
	// Debounce is how long a file must stay quiet after its last change before
	// its event fires. Zero means DefaultDebounce; negative is invalid.
	Debounce time.Duration

	// Filter reports whether a file matters; nil means every file that is not
	// ignored. It is called with absolute file paths (never directories) on the
	// watcher's own goroutine, so it must be quick and must not call the
	// Watcher. MatchExt builds a common one.
	Filter func(path string) bool

	// Ignore adds path/filepath.Match patterns to DefaultIgnore. They are
	// matched against base names, of files and of directories; an ignored
	// directory is not watched.
	Ignore []string

	// Build maps a file extension such as ".wat" to the step that builds files
	// with that extension; their events carry the built bytes. Nil means no
	// builds. DefaultBuildSteps provides .wat and .c.
	Build map[string]BuildStep
}

// Watcher reports saved and removed files under the directories given to Add, one
// Event per save, on the channel Events returns.
//
// All methods are safe for concurrent use. The Watcher runs one goroutine of its own
// plus fsnotify's, and one short-lived goroutine per file being read or built; Close
// ends them all.
type Watcher struct {
	fsw      *fsnotify.Watcher
	events   chan Event
	errors   chan error
	adds     chan addRequest
	forgets  chan string
	done     chan struct{} // closed by Close
	finished chan struct{} // closed once every goroutine has ended

	closeOnce sync.Once
	closeErr  error // written before finished is closed
}

type addRequest struct {
	dir   string
	reply chan error
}

// New returns a Watcher configured by opts, watching nothing until Add. It fails
// with ErrInvalidOptions for options it cannot use, or with the operating system's
// error when it cannot start watching (for example the per-user inotify limit).
func New(opts Options) (*Watcher, error) {
	if opts.Debounce < 0 {
		return nil, fmt.Errorf("%w: negative debounce %v", ErrInvalidOptions, opts.Debounce)
	}
	debounce := opts.Debounce
	if debounce == 0 {
		debounce = DefaultDebounce
	}
	ignore, err := newIgnorer(opts.Ignore)
	if err != nil {
		return nil, err
	}
	builds := make(map[string]BuildStep, len(opts.Build))
	for ext, step := range opts.Build {
		if err := step.validate(ext); err != nil {
			return nil, err
		}
		step.Command = slices.Clone(step.Command)
		builds[ext] = step
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch: new: %w", err)
	}
	w := &Watcher{
		fsw:      fsw,
		events:   make(chan Event),
		errors:   make(chan error),
		adds:     make(chan addRequest),
		forgets:  make(chan string),
		done:     make(chan struct{}),
		finished: make(chan struct{}),
	}
	l := newLoop(w, debounce, ignore, opts.Filter, builds)
	go l.run()
	return w, nil
}

// Add watches dir and, recursively, every directory under it that is not ignored,
// including directories created later. It does not report the files already there:
// a host loads those itself, after Add so that no save falls in between. Those files
// are known to the Watcher, so deleting one later reports Removed.
//
// Adding a directory twice, or one inside another, is harmless: a file whose
// activity is still waiting for its debounce (one just moved in) is reported as it
// would have been, not taken for a file the host has loaded. Adding again a
// directory that was removed (ErrDirRemoved) and has come back reports every file
// it holds, since none is one the host has seen, even if the watcher found it as it
// was before the removal; and it reports Removed a file it held that is gone
// since. Add fails with ErrNotDir for a file and ErrClosed after Close. When some
// subdirectories cannot be watched (permissions, the inotify watch limit), Add
// returns an error wrapping ErrIncomplete and theirs, and keeps watching the rest.
// It is safe for concurrent use.
func (w *Watcher) Add(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("watch: add %s: %w", dir, err)
	}
	info, err := os.Stat(abs)
	if err != nil {
		return fmt.Errorf("watch: add %s: %w", dir, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("watch: add %s: %w", dir, ErrNotDir)
	}
	req := addRequest{dir: abs, reply: make(chan error, 1)}
	select {
	case w.adds <- req:
		return <-req.reply
	case <-w.done:
		return fmt.Errorf("watch: add %s: %w", dir, ErrClosed)
	}
}

// Forget tells the Watcher that the host no longer has the file at path: it
// dropped what it loaded from it, though the Watcher has not reported the file
// removed (a host that took the file for renamed away, say). The file's next
// activity is then reported as a Changed event even if it leaves the file as the
// host last received it (renamed back, copied over with cp -p), as for a file
// the host never had, and its removal is not reported. Forget of a path the
// Watcher does not know does nothing. It is safe for concurrent use, and does
// nothing after Close.
func (w *Watcher) Forget(path string) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return
	}
	select {
	case w.forgets <- abs:
	case <-w.done:
	}
}

// Events returns the channel of file events; it is the same channel on every call
// and is closed by Close.
//
// Events are sent in the order they fired (their file's debounce ran out), with
// one exception: an event does not wait for the build of a file with another
// Output. Events with the same Output (x.wat or x.c, and x.wasm) are always sent
// in firing order, however long a build takes, so that of a source and its built
// module the one saved last is received last. A build holds up nothing else:
// events of other files that fired while it runs are sent once they are read (or
// built). Events of files without a build step keep their firing order among
// themselves.
//
// The Watcher never blocks on a slow receiver: while an event waits to be received,
// a newer event for the same path replaces it in its place (after the events of
// the same Output that fired in between), so a receiver that falls behind sees the
// latest state of each file, each in turn, not a backlog. A new file removed while its Changed event waits yields nothing: the
// event is dropped, since the receiver never had the file (see Removed). Events is
// safe for concurrent use, and several goroutines may receive from the channel.
func (w *Watcher) Events() <-chan Event { return w.events }

// Errors returns the channel of errors that concern the watcher rather than one
// file: errors from fsnotify, ErrOverflow, ErrDirRemoved, directories created
// later that could not be watched or listed, and directories holding a symbolic
// link's target that could not be watched. A directory that is gone (or no
// longer a directory) by the time the watcher watches or lists it, like a tool's
// scratch directory removed at once, is not an error: nothing in it is left to
// watch. It is the same channel on every call and is closed by Close. Reading it
// is optional: up to 64 errors wait to be received, after which the oldest are
// dropped. Errors is safe for concurrent use.
func (w *Watcher) Errors() <-chan error { return w.errors }

// Close stops watching, kills running builds (on Unix with the processes their
// tools started, see BuildStep.Build), drops pending and undelivered events,
// closes Events and Errors, and waits until every goroutine the Watcher started
// has ended or ctx is done. It returns ctx's error if ctx ended the wait (the
// goroutines still end shortly after), otherwise the error, if any, of closing
// fsnotify. Close is idempotent and safe to call from any goroutine, including one
// ranging over Events.
func (w *Watcher) Close(ctx context.Context) error {
	w.closeOnce.Do(func() { close(w.done) })
	select {
	case <-w.finished:
		return w.closeErr
	case <-ctx.Done():
		return fmt.Errorf("watch: close: %w", ctx.Err())
	}
}
