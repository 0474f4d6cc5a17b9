package hotscript

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotscript/hotscript/lua"
)

// EventKind says what happened to a script. Its method is safe for concurrent
// use.
type EventKind int

const (
	// Loaded: a script was loaded (by Load, LoadBytes or a watched directory).
	Loaded EventKind = iota + 1
	// Committed: a reload was swapped in; calls now reach version To.
	Committed
	// Rejected: a load, reload or revert failed (Err says why). After a reload or
	// revert, version From keeps running with its state untouched; after a load,
	// From and To are 0 and nothing runs.
	Rejected
	// Reverted: Revert swapped version From out for the earlier version To.
	Reverted
	// Superseded: a newer reload or revert replaced this one before it was committed.
	Superseded
	// Removed: a watched script's file was deleted, or renamed or moved away (a
	// rename within a watched directory is told apart only once the new name
	// appears: Unloaded with MovedTo follows); the last version keeps running.
	Removed
	// WatchError: a problem of a directory under Host.Watch rather than of one
	// script. Script is the directory as given to Watch; Err says what:
	// watch.ErrDirRemoved (the directory is gone; Watch watches it again once it
	// is back, and says so with WatchResumed), watch.ErrIncomplete (directories
	// under it cannot be watched), watch.ErrOverflow (notifications were lost and
	// the directory rescanned).
	WatchError
	// WatchResumed: a watched directory that was removed is back and watched
	// again, and the scripts it holds are loaded or reloaded. Script is the
	// directory as given to Watch.
	WatchResumed
	// Unloaded: Unload removed the script, whose last version was From.
	Unloaded
	// Restored: a watched script's file, which a save the reload rejected (or
	// could not build), a save whose reload is still staging (superseded now)
	// or a deletion had left apart from the running version, holds that
	// version's code again: the edit undone, the file recreated or moved back
	// as it was. Nothing is reloaded; version From (To too) runs on, its state
	// untouched, as it did since.
	Restored
)

var kindNames = [...]string{Loaded: "loaded", Committed: "committed", Rejected: "rejected",
	Reverted: "reverted", Superseded: "superseded", Removed: "removed",
	WatchError: "watch error", WatchResumed: "watch resumed", Unloaded: "unloaded",
	Restored: "restored"}

// String returns the kind's lower-case name ("committed").
func (k EventKind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event reports one load, reload, revert or file removal, or a change in the state
// of a watched directory. Events are delivered on the channel returned by
// Host.Events. An Event is a value owned by its receiver; its method only reads
// it and is safe for concurrent use.
type Event struct {
	// Script is the script's name (for WatchError and WatchResumed, the
	// directory's).
	Script string
	// Kind says what happened.
	Kind EventKind
	// From is the version that was live before; To the version live after a commit or
	// revert, or the version that would have been (Rejected, Superseded; 0 for a
	// request that ended before it was staged: a revert with no earlier version, a
	// reload with no file to re-read or whose file could not be read or built, one
	// superseded, cancelled or closed while queued). A first load has From 0.
	From, To int
	// Err is why a load, reload or revert was rejected (for Lua it carries
	// file:line, for WASM the function and the wasm stack trace), why a request
	// was superseded (ErrSuperseded), or the watcher's error of a WatchError
	// event. Nil for other kinds.
	Err error
	// Diff compares the exports and imports of version To with version From.
	Diff Diff
	// CompileTime is how long the engine took to prepare the version (compile and
	// instantiate for WASM, compile and run the chunk for Lua): for a reload, off
	// every caller's goroutine; for a load (Loaded, or a load Rejected by the
	// engine), within Load. Building a .wat is not included.
	CompileTime time.Duration
	// SwapTime is how long the script's callers were blocked: the swap itself,
	// migration and self-check included, from the moment the commit held the
	// script. The wait for a call or lease in progress before that, which
	// blocked no caller, is not included.
	SwapTime time.Duration
	// Carried lists the state carried into the new version: Lua field names, the
	// top-level keys of the state document under MigrateExports, what a Migration
	// func declared with Carry; none under MigrateReset.
	Carried []string
	// MovedTo, for an Unloaded event of Watch's, names the script that runs the
	// file now: the script's file was renamed or moved within the watched
	// directory, onto a new name (loaded as a script of that name, with this
	// one's ScriptOptions) or over another script's file (reloaded from it). A
	// program that holds the *Script of the unloaded one finds the other with
	// Host.Script(MovedTo), unless the file moved on again meanwhile: that
	// script's own Unloaded event follows, with the next name (examples/game
	// follows such chains). Empty for Host.Unload.
	MovedTo string
	// Reset, for a commit, is why its migration let the new version start from
	// its initial state rather than carry the old one's (Migration.Reset):
	// MigrateExportsOrReset's "get_state on v1: ... trap", for one; for a Lua
	// script, the error of the live version's on_save that the reload went on
	// past (lua.Config.ReloadPastFailingOnSave): its fields were carried, not
	// what on_save would have returned (PastFailingOnSave tells). Nil when
	// the state was carried, or when nothing was to carry.
	Reset error
}

// String is a one-line summary: "enemy.lua: committed v1 -> v2 (carried health,
// pos)", "enemy.lua: rejected v3, v2 keeps running: lua: reload enemy.lua:
// enemy.lua:1: syntax error at end of file". Of Err (and Reset) it gives the
// first line: the rest (a WASM stack trace, a Lua traceback, a build tool's
// log) is in Err.
func (e Event) String() string {
	var b strings.Builder
	if e.Script != "" { // "" only for a request refused for lack of a script
		b.WriteString(e.Script + ": ")
	}
	switch {
	case e.Kind == WatchError || e.Kind == WatchResumed:
		b.WriteString(e.Kind.String())
	case e.Kind == Loaded || e.Kind == Removed || e.Kind == Unloaded || e.Kind == Restored:
		fmt.Fprintf(&b, "%s v%d", e.Kind, max(e.To, e.From))
	case e.From == 0 && e.To == 0, e.Kind == Rejected && ended(e.Err):
		// A load (its error says so), a request refused before it began, or
		// a reload cut off by Unload or Close: no version of it runs.
		b.WriteString(e.Kind.String())
		if e.To != 0 {
			fmt.Fprintf(&b, " v%d", e.To)
		}
	case e.Kind == Rejected && e.To == 0: // not built, or nothing to revert to
		fmt.Fprintf(&b, "%s, v%d keeps running", e.Kind, e.From)
	case e.Kind == Rejected || e.Kind == Superseded && e.To != 0:
		fmt.Fprintf(&b, "%s v%d, v%d keeps running", e.Kind, e.To, e.From)
	case e.To == 0: // a request superseded before it was staged
		fmt.Fprintf(&b, "%s, v%d keeps running", e.Kind, e.From)
	default:
		fmt.Fprintf(&b, "%s v%d -> v%d", e.Kind, e.From, e.To)
	}
	if e.MovedTo != "" {
		fmt.Fprintf(&b, " (its file moved: %s runs it)", e.MovedTo)
	}
	if len(e.Carried) > 0 {
		fmt.Fprintf(&b, " (carried %s)", strings.Join(e.Carried, ", "))
	}
	switch {
	case e.PastFailingOnSave():
		fmt.Fprintf(&b, " (not what on_save returns: %s)", firstLine(e.Reset))
	case e.Reset != nil:
		fmt.Fprintf(&b, " (state reset: %s)", firstLine(e.Reset))
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %s", firstLine(e.Err))
	}
	return b.String()
}

// firstLine returns the first line of err's text (a WASM error's stack trace,
// a build tool's log, a Lua traceback follow on lines of their own), with the
// next line that says something if it ends in a colon: error("\nboom") reads
// "...main chunk: boom" (helper-196: it read "...main chunk: ").
func firstLine(err error) string {
	line, rest, _ := strings.Cut(err.Error(), "\n")
	for strings.HasSuffix(strings.TrimSpace(line), ":") && rest != "" {
		var next string
		next, rest, _ = strings.Cut(rest, "\n")
		if next = strings.TrimSpace(next); next != "" {
			return strings.TrimRight(line, " ") + " " + next
		}
	}
	return line
}

// ended reports whether err, a reload's, says that its script was unloaded or
// the Host closed under it ("hotscript: reload a.lua: script unloaded"), not
// that something the reload ran met another script's end.
func ended(err error) bool {
	var oe *opError
	if errors.As(err, &oe) {
		err = oe.err
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok && len(joined.Unwrap()) > 0 {
		err = joined.Unwrap()[0] // "host closed: <what the engine said when stopped>"
	}
	return err == ErrUnloaded || err == ErrClosed
}

// events delivers events without ever blocking the reload that emits them.
type events struct {
	mu      sync.RWMutex // write-held only to close ch
	ch      chan Event
	closed  bool
	dropped atomic.Uint64
	log     *slog.Logger
}

func newEvents(size int, log *slog.Logger) *events {
	return &events{ch: make(chan Event, size), log: log}
}

// emit logs ev and sends it to the channel of Events.
func (e *events) emit(ev Event) {
	e.logEvent(ev)
	e.send(ev)
}

// send sends ev to the channel of Events, unless it is full (ev is counted as
// dropped) or closed.
func (e *events) send(ev Event) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return
	}
	select {
	case e.ch <- ev:
	default:
		e.dropped.Add(1)
	}
}

func (e *events) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.closed {
		e.closed = true
		close(e.ch)
	}
}

func (e *events) logEvent(ev Event) {
	level := slog.LevelInfo
	switch ev.Kind {
	case Rejected, Removed, WatchError:
		level = slog.LevelWarn
	case Superseded:
		level = slog.LevelDebug
	}
	ctx := context.Background()
	if !e.log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{slog.String("script", ev.Script), slog.Int("from", ev.From), slog.Int("to", ev.To),
		slog.Duration("compile", ev.CompileTime), slog.Duration("swap", ev.SwapTime)}
	if !ev.Diff.Empty() {
		attrs = append(attrs, slog.String("diff", ev.Diff.String()))
	}
	if len(ev.Carried) > 0 {
		attrs = append(attrs, slog.Any("carried", ev.Carried))
	}
	if ev.Reset != nil {
		attrs = append(attrs, slog.Any("reset", ev.Reset))
	}
	if ev.Err != nil {
		attrs = append(attrs, slog.Any("err", ev.Err))
	}
	e.log.LogAttrs(ctx, level, "hotscript: "+ev.Kind.String(), attrs...)
}

// clone copies ev with what it shares with other copies: Carried and Diff.
func (ev Event) clone() Event {
	ev.Carried, ev.Diff = slices.Clone(ev.Carried), ev.Diff.clone()
	return ev
}

// PastFailingOnSave reports whether e's Reset is the failure of a Lua
// script's live on_save that its reload went on past
// (lua.Config.ReloadPastFailingOnSave: the fields were carried, not what
// on_save would have returned), rather than why a migration started the new
// version afresh.
func (e Event) PastFailingOnSave() bool {
	var le *lua.Error
	return errors.As(e.Reset, &le) && le.Function == lua.LiveOnSave
}
