package lua

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
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

	scripts atomic.Pointer[map[ScriptID]*script] // copy on write, read without locks

	mu     sync.Mutex // guards the fields below and writes of scripts
	hosts  map[string]map[string]HostFunc
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
	rt := &Runtime{cfg: cfg, logger: cfg.Logger, hosts: map[string]map[string]HostFunc{}}
	if rt.logger == nil {
		rt.logger = slog.Default()
	}
	rt.scripts.Store(&map[ScriptID]*script{})
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
	rt.closed = true
	rt.closing.Store(true)
	all := *rt.scripts.Load()
	rt.scripts.Store(&map[ScriptID]*script{})
	rt.mu.Unlock()
	for _, s := range all {
		s.unload()
	}
	return nil
}

// freeze marks the host functions as fixed and returns them, or ErrClosed.
func (rt *Runtime) freeze() (map[string]map[string]HostFunc, error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.closed {
		return nil, ErrClosed
	}
	rt.frozen = true
	return rt.hosts, nil
}

// add registers a new script and returns its id.
func (rt *Runtime) add(s *script) error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.closed {
		return ErrClosed
	}
	rt.nextID++
	s.id = rt.nextID
	old := *rt.scripts.Load()
	next := make(map[ScriptID]*script, len(old)+1)
	for id, o := range old {
		next[id] = o
	}
	next[s.id] = s
	rt.scripts.Store(&next)
	return nil
}

// remove unregisters a script and returns it.
func (rt *Runtime) remove(id ScriptID) *script {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	old := *rt.scripts.Load()
	s, ok := old[id]
	if !ok {
		return nil
	}
	next := make(map[ScriptID]*script, len(old))
	for i, o := range old {
		if i != id {
			next[i] = o
		}
	}
	rt.scripts.Store(&next)
	return s
}

// script returns the script with the given id, or an error for op naming it.
func (rt *Runtime) script(op string, id ScriptID) (*script, error) {
	if s, ok := (*rt.scripts.Load())[id]; ok {
		return s, nil
	}
	if rt.closing.Load() {
		return nil, fmt.Errorf("lua: %s script %d: %w", op, id, ErrClosed)
	}
	return nil, fmt.Errorf("lua: %s script %d: %w", op, id, ErrNotFound)
}

// Unload closes a script: later calls with its id fail with ErrNotFound. It waits
// for a call in progress on the script to return. Unload is safe for concurrent use.
func (rt *Runtime) Unload(ctx context.Context, id ScriptID) error {
	s := rt.remove(id)
	if s == nil {
		return fmt.Errorf("lua: unload script %d: %w", id, ErrNotFound)
	}
	s.unload()
	return nil
}
