package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hotscript/hotscript"
	"github.com/hotscript/hotscript/ecs"
	"github.com/hotscript/hotscript/lua"
	"github.com/hotscript/hotscript/wasm"
)

// updateFunc is the function a scene calls on every script once per frame, with the
// frame's fixed time step in seconds.
const updateFunc = "update"

// scene is the small game that run and demo drive: an ecs.World with one entity per
// script, stepped at a fixed rate. Each frame commits the reloads that are ready
// (Host.Apply, the safe point between frames) and then calls every script's update.
//
// A scene is used by one goroutine.
type scene struct {
	h      *hotscript.Host
	world  *ecs.World
	out    *printer
	dt     float64 // seconds per frame
	frames int64   // frames stepped so far
	adopt  bool    // attach scripts that a Loaded event reports (the watcher's)
	// rejectedLoads counts the Rejected events of first loads: the host keeps no
	// Stats for a script it never loaded.
	rejectedLoads int64
	// unloaded holds the scripts the host unloaded (the watcher unloads a script
	// whose file was renamed): Host.Scripts no longer lists them, but their Stats
	// still count in the session's totals.
	unloaded []*hotscript.Script
	// stopped is closed by Ctrl-C. What that stop makes fail (a build, a load or a
	// reload in progress, a call it cuts short) is no failure of the script's: it
	// is neither printed nor counted.
	stopped <-chan struct{}
	// cut counts, by script name, the calls and reloads that failed because the
	// stop cut them short: the host counts them in the script's Stats, stats not.
	cut map[string]cutShort
	// outcomes counts, by script name, the events of reloads and reverts that
	// ended (committed, reverted, rejected, superseded), Ctrl-C's included: the
	// host counts each in Stats just before it emits its event, so a script
	// whose Stats count more has an event still coming (see settledStats).
	outcomes map[string]uint64
	// timed is the time of each script's update calls, measured around each:
	// the summary's average call (Stats.CallTime samples one call in 64, which
	// misses a script slow now and then; here two clock reads a frame cost
	// nothing).
	timed map[*hotscript.Script]callTime
}

// callTime is the number of a script's calls timed, and their time.
type callTime struct {
	n int64
	d time.Duration
}

// cutShort counts a script's calls and reloads that Ctrl-C cut short.
type cutShort struct{ calls, reloads uint64 }

// actor is the component that attaches a script to an entity, with what the scene
// has learned about the script's live version.
type actor struct {
	script   *hotscript.Script
	version  int       // the version update and failing refer to
	idle     bool      // some version had no update and was reported idle
	update   bool      // this version exports update: it is called every frame
	failed   string    // the last error of update printed in this version
	failedAt time.Time // when it was printed
	worked   bool      // update succeeded since then
	held     error     // the latest error that is news, printed once a second has passed since failedAt
	passed   int       // errors that were news but held before the one held now
}

// newScene returns a scene stepped tps times a second; stopped is closed on Ctrl-C
// (ctx.Done()).
func newScene(h *hotscript.Host, world *ecs.World, out *printer, tps int, stopped <-chan struct{}) *scene {
	return &scene{h: h, world: world, out: out, dt: 1 / float64(tps), stopped: stopped,
		cut: map[string]cutShort{}, outcomes: map[string]uint64{}, timed: map[*hotscript.Script]callTime{}}
}

// stats is s's Stats without the failures that Ctrl-C caused.
func (sc *scene) stats(s *hotscript.Script) hotscript.Stats { return sc.discount(s, sc.h.Stats(s)) }

// discount takes the failures that Ctrl-C caused out of st, s's Stats.
func (sc *scene) discount(s *hotscript.Script, st hotscript.Stats) hotscript.Stats {
	cut := sc.cut[s.Name()]
	st.Errors -= min(st.Errors, cut.calls)
	st.FailedReloads -= min(st.FailedReloads, cut.reloads)
	return st
}

// settledStats returns a function giving each script's stats (as stats does) as
// they stood once the scene had handled the event of every reload they count,
// waiting at most wait for those events: the host counts a reload's outcome just
// before it emits the event, so Stats read as the last events are handled may
// count a reload that Ctrl-C cut short as rejected, which its event, handled,
// would have taken back. The snapshot covers the loaded scripts and the unloaded
// ones; a script loaded since reads its stats afresh. If the host dropped
// events, they cannot be matched, and nothing is waited for.
func (sc *scene) settledStats(wait time.Duration) func(*hotscript.Script) hotscript.Stats {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		snap := map[*hotscript.Script]hotscript.Stats{}
		ended := map[string]uint64{} // by name: a name reused counts with the script unloaded
		for _, s := range append(sc.h.Scripts(), sc.unloaded...) {
			if _, ok := snap[s]; ok {
				continue
			}
			st := sc.h.Stats(s)
			snap[s] = sc.discount(s, st)
			ended[s.Name()] += st.Reloads + st.Reverts + st.FailedReloads + st.Superseded
		}
		behind := false
		for name, n := range ended {
			behind = behind || n > sc.outcomes[name]
		}
		if behind && sc.h.DroppedEvents() == 0 {
			select {
			case ev, ok := <-sc.h.Events():
				if ok {
					sc.handle(ev)
					continue
				}
			case <-deadline.C:
			}
		}
		return func(s *hotscript.Script) hotscript.Stats {
			if st, ok := snap[s]; ok {
				return st
			}
			return sc.stats(s)
		}
	}
}

// cancelled reports whether err is a cancellation that Ctrl-C caused.
func (sc *scene) cancelled(err error) bool {
	select {
	case <-sc.stopped:
		return errors.Is(err, context.Canceled)
	default:
		return false
	}
}

// attach spawns an entity for s.
func (sc *scene) attach(s *hotscript.Script) ecs.Entity {
	e := sc.world.Spawn()
	sc.out.seeName(s.Name())
	// Insert cannot fail on an entity just spawned. Version 0 makes the first
	// frame look at the script's interface.
	_ = ecs.Insert(sc.world, e, actor{script: s})
	return e
}

// attached reports whether s already has an entity.
func (sc *scene) attached(s *hotscript.Script) bool {
	for _, a := range ecs.Query[actor](sc.world) {
		if a.script == s {
			return true
		}
	}
	return false
}

// step runs one frame: it commits the reloads that are ready, reports what they and
// anything before them did, then calls every script. The events come first so that
// a frame's own lines (a script found idle, an update failing) follow the load or
// reload that caused them. It returns why the loop must stop, or "".
func (sc *scene) step(ctx context.Context, stop func(hotscript.Event) bool) string {
	sc.h.Apply(ctx)
	if why := sc.deliver(stop); why != "" {
		return why
	}
	sc.frames++
	for _, a := range ecs.Query[actor](sc.world) {
		if ctx.Err() != nil {
			return "interrupted" // a call now would fail, and count as the script's error
		}
		sc.update(ctx, a)
	}
	return ""
}

// deliver handles the events already waiting, without blocking, and returns why
// the loop must stop, or "".
func (sc *scene) deliver(stop func(hotscript.Event) bool) string {
	for {
		select {
		case ev, ok := <-sc.h.Events():
			if why := sc.take(ev, ok, stop); why != "" {
				return why
			}
		default:
			return ""
		}
	}
}

// take handles one receive from the Events channel.
func (sc *scene) take(ev hotscript.Event, ok bool, stop func(hotscript.Event) bool) string {
	if !ok {
		return "host closed"
	}
	sc.handle(ev)
	if stop != nil && stop(ev) {
		return "event"
	}
	return ""
}

// follow brings a up to date with its script's live version: whether the version
// has an update to call (the host says so without a call), and a fresh failure
// count. A script without update is reported once as idle, and again only if a
// later version drops update after one had it.
func (sc *scene) follow(a *actor) {
	v, iface := a.script.Version(), a.script.Interface()
	f, exported := iface.Export(updateFunc)
	has := exported && updateTakesDT(f)
	sc.flush(a)
	*a = actor{script: a.script, version: v, update: has, idle: a.idle && !has}
	if !has && !a.idle {
		a.idle = true
		why := "has no update(dt); loaded, not called each frame"
		if exported {
			why = fmt.Sprintf("exports %s, not update(dt), which takes one f32 or f64; loaded, not called each frame", f)
		}
		sc.out.note(a.script.Name(), v, sc.out.st.dim("idle"), why)
	}
}

// updateTakesDT reports whether f, a script's update, can be given dt: a Lua
// function (its parameters are not known) or a WASM function of one f32 or
// f64 parameter.
func updateTakesDT(f hotscript.Func) bool {
	return !f.Typed || len(f.Params) == 1 && (f.Params[0] == "f32" || f.Params[0] == "f64")
}

// update calls a's update once, if its version has one. A version's first failure
// is printed; later ones are counted, and printed only if they are news: their
// error differs from the last one printed (a time or instruction limit hit
// again is not news),
// or update worked since (a bug that
// strikes now and then). News is printed one line a second at most: the latest
// news, held until then, saying how many others came since the line before
// (an error that names the frame is news every frame), so that a broken script
// does not flood the terminal at 60 lines a second, and a new bug is seen. A
// new version starts afresh.
func (sc *scene) update(ctx context.Context, a *actor) {
	if a.script.Version() != a.version {
		sc.follow(a)
	}
	if !a.update {
		return
	}
	start := time.Now()
	_, err := sc.h.Call(ctx, a.script, updateFunc, sc.dt)
	if ctx.Err() == nil { // a call Ctrl-C cut short is not the script's
		t := sc.timed[a.script]
		t.n, t.d = t.n+1, t.d+time.Since(start)
		sc.timed[a.script] = t
	}
	switch {
	case err == nil:
		a.worked = a.failed != ""
	case ctx.Err() != nil:
		c := sc.cut[a.script.Name()]
		c.calls++
		sc.cut[a.script.Name()] = c
	default:
		switch msg := news(err); {
		case a.held != nil && msg == news(a.held): // held already
		case msg != a.failed || a.worked:
			if a.held != nil {
				a.passed++
			}
			a.held = err
		}
	}
	if time.Since(a.failedAt) >= time.Second {
		sc.flush(a)
	}
}

// tooLong are the errors of a call stopped for running too long.
var tooLong = []error{wasm.ErrTimeout, wasm.ErrInstructionLimit, lua.ErrTimeout, lua.ErrInstructionLimit}

// news is what tells an error of update from another: its text, or, for a
// call stopped for running too long, the limit: such an error's text varies
// from call to call (the time past the limit, the line a loop was at) while
// the bug stays the one already shown (helper-232: a loop was news every
// second). A memory limit's error is told by its text, which says where (or,
// in WASM, which trap followed the refused growth): another one is news.
func news(err error) string {
	for _, k := range tooLong {
		if errors.Is(err, k) {
			return k.Error()
		}
	}
	return err.Error()
}

// flush prints the error a's update held back, if any: a second after the
// line before, or as an event of its script is printed, or the scene ends.
func (sc *scene) flush(a *actor) {
	if a.held == nil {
		return
	}
	a.failed, a.failedAt, a.worked = news(a.held), time.Now(), false
	sc.out.failure(a.script.Name(), a.version, a.held, a.passed)
	a.held, a.passed = nil, 0
}

// flushAll flushes every actor: the scene ends.
func (sc *scene) flushAll() {
	for _, a := range ecs.Query[actor](sc.world) {
		sc.flush(a)
	}
}

// run steps the scene every period until ctx is done, the scene has run frames
// frames (if > 0), until (if not zero) has passed, or stop (if not nil) returns true
// for an event. Events are handled as they come: each is printed, and with adopt,
// scripts loaded by the watcher join the scene. It returns why it stopped.
func (sc *scene) run(ctx context.Context, period time.Duration, frames int64, until time.Time, stop func(hotscript.Event) bool) string {
	tick := time.NewTicker(period)
	defer tick.Stop()
	start, stepped := time.Now(), int64(0) // the frames this run stepped since start
	var deadline <-chan time.Time
	if !until.IsZero() {
		t := time.NewTimer(time.Until(until))
		defer t.Stop()
		deadline = t.C
	}
	events := sc.h.Events()
	for {
		select {
		case <-ctx.Done():
			return "interrupted"
		case <-deadline:
			return "time is up"
		case ev, ok := <-events:
			if why := sc.take(ev, ok, stop); why != "" {
				return why
			}
		case now := <-tick.C:
			// A tick a timer cannot keep (a period under a millisecond or so;
			// a slow frame) is dropped: the frames due by now run at once.
			n, behind := framesDue(now.Sub(start), period, stepped)
			if behind {
				start = now.Add(-time.Duration(stepped+n) * period) // a frame skip, not a spiral
			}
			for i := range n {
				// With the stop and a tick both ready, select picks either.
				if ctx.Err() != nil {
					return "interrupted"
				}
				if i > 0 { // catching up: not past --for, nor for long (slow frames cannot)
					select {
					case <-deadline:
						return "time is up"
					default:
					}
					if time.Since(now) > maxCatchUpTime {
						break
					}
				}
				if why := sc.step(ctx, stop); why != "" {
					return why
				}
				stepped++
				if frames > 0 && sc.frames >= frames {
					return "frames done"
				}
			}
		}
	}
}

// maxCatchUp is the most frames a tick runs to catch up with the clock, and
// maxCatchUpTime the longest it spends at it, past its first frame: frames
// slower than the period cannot catch up, and the loop must stay responsive.
const (
	maxCatchUp     = 100
	maxCatchUpTime = 10 * time.Millisecond
)

// framesDue returns how many frames to step at a tick elapsed after the run
// started, stepped frames having run: those due by then, at least one, at most
// maxCatchUp; behind says that more were due, which the caller drops, as a
// game loop skips frames rather than fall further behind each tick.
func framesDue(elapsed, period time.Duration, stepped int64) (n int64, behind bool) {
	due := int64(elapsed/period) - stepped
	switch {
	case due < 1:
		return 1, false
	case due > maxCatchUp:
		return maxCatchUp, true
	}
	return due, false
}

// handle prints ev, counts a rejected first load, attaches a script the watcher
// loaded and detaches one the host unloaded (the watcher unloads a script whose
// file was renamed). A load or reload that Ctrl-C cut short is left out.
func (sc *scene) handle(ev hotscript.Event) {
	switch ev.Kind {
	case hotscript.Committed, hotscript.Reverted, hotscript.Superseded:
		sc.outcomes[ev.Script]++
	case hotscript.Rejected:
		if ev.From > 0 { // a reload's, not a first load's
			sc.outcomes[ev.Script]++
		}
	}
	if ev.Kind == hotscript.Rejected && sc.cancelled(ev.Err) {
		if ev.From > 0 { // a reload, which the host counts
			c := sc.cut[ev.Script]
			c.reloads++
			sc.cut[ev.Script] = c
		}
		return
	}
	for _, a := range ecs.Query[actor](sc.world) { // what came before the event, first (helper-212)
		if a.script.Name() == ev.Script {
			sc.flush(a)
		}
	}
	sc.out.event(ev)
	switch {
	case ev.Kind == hotscript.Rejected && ev.From == 0:
		sc.rejectedLoads++
	case ev.Kind == hotscript.Unloaded:
		sc.detach(ev.Script)
	case sc.adopt && ev.Kind == hotscript.Loaded:
		if s, ok := sc.h.Script(ev.Script); ok && !sc.attached(s) {
			sc.attach(s)
		}
	}
}

// detach despawns the entity of the script named name, if it has one, and keeps the
// script among the unloaded.
func (sc *scene) detach(name string) {
	var gone []ecs.Entity
	for e, a := range ecs.Query[actor](sc.world) {
		if a.script.Name() == name { // its held error printed before the event (see handle)
			gone = append(gone, e)
			sc.unloaded = append(sc.unloaded, a.script)
		}
	}
	for _, e := range gone {
		sc.world.Despawn(e)
	}
}
