package lua

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/hotscript/hotscript/internal/idtable"
)

// Config configures a Runtime. The zero value is usable: no limits, no optional
// libraries, print logged on slog.Default().
type Config struct {
	// Limits are the per-call limits of every script; ScriptOptions.Limits
	// overrides them for one script.
	Limits Limits
	// Libraries are the optional libraries opened in every script.
	Libraries Libraries
	// Stdout receives what scripts print, one line per print call. Nil means
	// print is logged on Logger at level Info with the script's name.
	Stdout io.Writer
	// Logger receives print output when Stdout is nil. Nil means slog.Default().
	Logger *slog.Logger
	// ReloadPastFailingOnSave lets a reload go on when the live version's
	// on_save fails (an error, or a limit; not the reload's context): the new
	// version gets the fields step 3 carried, as they were before on_save ran,
	// and on_restore gets nil, as on the reload that adds the hooks;
	// ReloadReport.SaveFailed says why. Without it such a reload fails, as the
	// spec's step 4 says, and so does every later one, the fix of on_save
	// included, since it is the live version's on_save that runs: a
	// development loop (hotscript run) sets it, a program that must not lose
	// what on_save saves leaves it off.
	ReloadPastFailingOnSave bool
}

// ScriptOptions are per-script settings for Load. A nil *ScriptOptions means the
// Runtime's defaults.
type ScriptOptions struct {
	// Limits, if not nil, replace Config.Limits for this script (all three fields:
	// a zero field means no limit, not the runtime's value).
	Limits *Limits
}

// ScriptID identifies a script loaded in a Runtime. It stays the same across
// reloads. The zero ScriptID is never used.
type ScriptID uint64

// Runtime runs Lua scripts, each in its own sandboxed LState, and reloads them with
// their state carried over. All its methods are safe for concurrent use: calls into
// one script are serialized (an LState is not goroutine-safe), calls into different
// scripts run in parallel.
type Runtime struct {
	cfg     Config
	logger  *slog.Logger
	closing atomic.Bool // read by budgets: Close interrupts calls that have a budget
	printMu sync.Mutex  // one print line at a time on cfg.Stdout

	scripts  idtable.Table[script] // by ScriptID
	unloaded idtable.Names         // the names of scripts unloaded last, for errors
	// loads bounds the compiles of loads running on goroutines of their own
	// (see compileUntil), those given up included, by name.
	loads namedSlots

	mu     sync.Mutex // guards the fields below
	hosts  map[string]map[string]hostDef
	frozen bool // hosts are fixed once a script is loaded
	closed bool
	nextID ScriptID
}

// NewRuntime returns a Runtime whose scripts run under limits by default. It is
// NewRuntimeWithConfig with only Config.Limits set.
func NewRuntime(ctx context.Context, limits Limits) (*Runtime, error) {
	return NewRuntimeWithConfig(ctx, Config{Limits: limits})
}

// NewRuntimeWithConfig returns a Runtime configured by cfg. Call Close to release
// its scripts.
func NewRuntimeWithConfig(ctx context.Context, cfg Config) (*Runtime, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rt := &Runtime{cfg: cfg, logger: cfg.Logger, hosts: map[string]map[string]hostDef{}}
	if rt.logger == nil {
		rt.logger = slog.Default()
	}
	return rt, nil
}

// Close unloads every script and makes later calls fail with ErrClosed. Calls in
// progress that run under a limit or a cancellable context are interrupted within
// about a thousand instructions; Close waits for the others to return. Close is
// idempotent and safe for concurrent use.
func (rt *Runtime) Close(ctx context.Context) error {
	rt.mu.Lock()
	if rt.closed {
		rt.mu.Unlock()
		return nil
	}
	for _, s := range rt.scripts.All() {
		if err := s.reentered(ctx, "close runtime from", ""); err != nil {
			rt.mu.Unlock()
			return err
		}
	}
	rt.closed = true
	rt.closing.Store(true)
	all := rt.scripts.Reset()
	rt.mu.Unlock()
	for _, s := range all {
		s.unload(ErrClosed)
	}
	return nil
}

// hostFuncs returns the host functions, or ErrClosed. With fix (a load), they
// are fixed from then on, and the map returned is the runtime's own, which no
// Define changes any more; without (Inspect), a copy of what is defined so far.
func (rt *Runtime) hostFuncs(fix bool) (map[string]map[string]hostDef, error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.closed {
		return nil, ErrClosed
	}
	if fix {
		rt.frozen = true
	}
	if rt.frozen {
		return rt.hosts, nil
	}
	hosts := make(map[string]map[string]hostDef, len(rt.hosts))
	for module, fns := range rt.hosts {
		hosts[module] = maps.Clone(fns)
	}
	return hosts, nil
}

// add registers a new script and gives it its id.
func (rt *Runtime) add(s *script) error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.closed {
		return ErrClosed
	}
	rt.nextID++
	s.id = rt.nextID
	rt.scripts.Put(uint64(s.id), s)
	return nil
}

// remove unregisters a script and returns it, or nil if id is not registered.
func (rt *Runtime) remove(id ScriptID) *script {
	return rt.scripts.Clear(uint64(id))
}

// script returns the script with the given id, or an error for op (on function
// fn, if any) naming it.
func (rt *Runtime) script(op, fn string, id ScriptID) (*script, error) {
	if s := rt.scripts.Get(uint64(id)); s != nil {
		return s, nil
	}
	return nil, rt.unknown(op, fn, id)
}

// unknown is the error of op (on function fn, if any) on an id the runtime
// does not have: named by the script's name if it was unloaded not long ago
// (see idtable.Names), else by its number.
func (rt *Runtime) unknown(op, fn string, id ScriptID) error {
	why := ErrNotFound
	if rt.closing.Load() {
		why = ErrClosed
	} else if name, ok := rt.unloaded.Get(uint64(id)); ok {
		return newError(op, name, fn, why, "script not found: unloaded")
	}
	return newError(op, fmt.Sprintf("script %d", id), fn, why, "")
}

// Reentered reports whether ctx comes from a host function that script id is
// running (in its live version, or the one a commit is moving into): work on
// the script that waits for its calls to end, such as a reload committed while
// the caller waits, would wait for itself. It is false for an id the runtime
// does not have. Safe for concurrent use.
func (rt *Runtime) Reentered(ctx context.Context, id ScriptID) bool {
	s, err := rt.script("", "", id)
	return err == nil && s.reentered(ctx, "", "") != nil
}

// Unload closes a script: later calls with its id fail with ErrNotFound. It waits
// for a call in progress on the script to return. Unload is safe for concurrent use.
func (rt *Runtime) Unload(ctx context.Context, id ScriptID) error {
	if s, err := rt.script("unload", "", id); err == nil {
		if err := s.reentered(ctx, "unload", ""); err != nil {
			return err
		}
	}
	s := rt.remove(id)
	if s == nil {
		return rt.unknown("unload", "", id)
	}
	rt.unloaded.Add(uint64(id), s.name)
	s.unload(ErrNotFound)
	return nil
}
