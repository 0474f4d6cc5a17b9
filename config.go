package hotscript

import (
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"time"

	"github.com/hotscript/hotscript/ecs"
	"github.com/hotscript/hotscript/lua"
	"github.com/hotscript/hotscript/wasm"
)

// SwapMode says when a staged reload is swapped in.
type SwapMode int

const (
	// SwapImmediate swaps a reload in as soon as it is staged and checked. The
	// script's callers are blocked only for the swap itself. The commit, with the
	// state migration, Lua's on_save and on_restore and the self-check, runs on
	// the goroutine that staged the reload, not the caller's: host functions and
	// MigrationFuncs that reach data the game loop also uses (an ecs.World, which
	// is not safe for concurrent use) must lock it, or use SwapAtApply, which
	// runs the commit, not the staging, on the goroutine that calls Apply.
	SwapImmediate SwapMode = iota
	// SwapAtApply keeps staged reloads waiting until Host.Apply, which a game calls
	// at a safe point between frames. Reload and Revert block until then. The
	// commit runs on the goroutine that calls Apply: the state migration, Lua's
	// on_save and on_restore, and the self-check. So does Watch's unload of the
	// script of a file renamed within its directory (see Host.Watch).
	//
	// Staging does not wait for Apply. A new version's top-level Lua chunk, and a
	// WASM module's start function (_initialize included), run when the reload is
	// staged, on a goroutine of the Host's, before any Apply; the host functions
	// they call run then, on that goroutine, and what they did stays even if the
	// reload is then superseded or rejected. Keep calls of host functions that
	// touch the game's data (an ecs.World) out of a chunk's top level and a start
	// function, or make those host functions safe for concurrent use.
	SwapAtApply
)

// String returns the mode's name, "SwapImmediate" or "SwapAtApply".
func (m SwapMode) String() string {
	switch m {
	case SwapImmediate:
		return "SwapImmediate"
	case SwapAtApply:
		return "SwapAtApply"
	}
	return fmt.Sprintf("SwapMode(%d)", int(m))
}

// Limits bounds what one call into a script may use. Zero fields mean no limit. They
// are converted to wasm.Limits and lua.Limits; see those packages for exactly what
// each engine counts.
type Limits struct {
	// MaxMemoryBytes caps a script's memory: WASM linear memory and tables; for
	// Lua, the strings its builtins build and the coroutines it creates, not its
	// tables (see package lua for why).
	MaxMemoryBytes uint64
	// MaxInstructions is a deterministic instruction budget per call: Lua VM
	// instructions, or WebAssembly instructions, which package wasm counts by
	// instrumenting the module when it loads it under this limit.
	MaxInstructions uint64
	// MaxExecutionTime is a wall-clock budget per call.
	MaxExecutionTime time.Duration
}

// validate refuses limits that mean nothing: a negative MaxExecutionTime (in
// what, Config.Limits or ScriptOptions.Limits).
func (l Limits) validate(what string) error {
	if l.MaxExecutionTime < 0 {
		return fmt.Errorf("%w: %s.MaxExecutionTime %v is negative", ErrInvalid, what, l.MaxExecutionTime)
	}
	return nil
}

func (l Limits) wasm() wasm.Limits {
	return wasm.Limits{MaxMemoryBytes: l.MaxMemoryBytes, MaxInstructions: l.MaxInstructions, MaxExecutionTime: l.MaxExecutionTime}
}

func (l Limits) lua() lua.Limits {
	return lua.Limits{MaxMemoryBytes: l.MaxMemoryBytes, MaxInstructions: l.MaxInstructions, MaxExecutionTime: l.MaxExecutionTime}
}

// Config configures a Host. Its zero value is a usable configuration: engines created
// from zero (unlimited) Limits, SwapImmediate, 4 versions of history, MigrateReset,
// the "on_reload" self-check, no ECS world, no logging, 64 buffered events.
type Config struct {
	// Limits are the default per-call limits of every script, and the limits of the
	// runtimes the host creates. A script's ScriptOptions.Limits replaces them as a
	// whole, not field by field: a field it leaves zero means no limit for that
	// script, whatever Limits says. When Limits is zero, scripts loaded into a
	// runtime passed in WASM or Lua get that runtime's own limits.
	//
	// A WASM script with neither MaxInstructions nor MaxExecutionTime runs
	// unmetered, and nothing can stop its code (see wasm.Limits): a start
	// function, a migration's set_state or a call that never returns holds
	// its reload (which its context no longer ends), its callers and Close
	// for good. Give WASM scripts a MaxExecutionTime wherever an edit could
	// loop. (A Lua script's chunk and reload hooks stop after 10 s without
	// one; its calls without limits stop only when their context ends, so a
	// call with context.Background() that loops holds its callers and Close.)
	Limits Limits

	// WASM is a runtime to load WASM scripts into, typically one on which the host
	// program has already called Define for its host functions. Nil means the Host
	// creates one from Limits. Close closes only a runtime the Host created.
	WASM *wasm.Runtime
	// Lua is the same for Lua scripts.
	Lua *lua.Runtime

	// Funcs are host functions for scripts of both kinds, defined by New on
	// both runtimes (those given in WASM and Lua, or those it creates), before
	// any script loads: a runtime given here must not have loaded one yet. A
	// name defined twice, or a definition either engine refuses, fails New;
	// functions defined on a given runtime before the failure stay defined
	// (a retry with a corrected Config needs new runtimes, or fails on them).
	Funcs []HostFunc

	// Swap says when reloads are swapped in; the zero value is SwapImmediate.
	Swap SwapMode

	// History is how many versions of each script are kept for Revert, the live one
	// included; 0 means 4. Only bytes are kept: reverting to a WASM version whose
	// compiled code is still in the wasm runtime's cache costs an instantiation.
	History int

	// Migration is the default state migration of WASM scripts; nil means
	// MigrateReset. Lua scripts always carry their fields (see package lua).
	Migration MigrationFunc

	// SelfCheck is the function run on a new version before it goes live, on
	// each reload and revert, if the version has it: a WASM export, after
	// migration, or a Lua module function, after the fields are carried and
	// on_restore ran; "" means "on_reload". It does not run on the first load,
	// where there is no running version to keep. The reload is rolled back when
	// the check traps or raises an error, hits a limit, or fails: a WASM check
	// passes by returning nothing or 0, as C's main does (any other number,
	// 1 included, is a failure code: a C function returning true fails); a
	// Lua check passes by returning nothing, nil, 0 or true.
	SelfCheck string

	// World is handed to Migration funcs as Migration.World.
	World *ecs.World

	// WatchOptions gives the options of a script that Watch loads from a new
	// file of a watched directory, by the script's name (the file's path, as
	// Load would name it; x.wasm for a new x.c, which loads as the module it
	// builds); nil, or a nil result, means the Host's defaults. A file renamed
	// or moved within the directory (into a subdirectory whose scripts the
	// function gives other options, too) is loaded with the options of the
	// script it was (see Watch), not with these, and so is the file of a
	// script the program unloaded (see Host.Unload). It is called on the
	// goroutine of each such load, several at once when files arrive
	// together: it must be safe for concurrent use.
	WatchOptions func(name string) *ScriptOptions

	// Logger receives one record per event; nil discards them.
	Logger *slog.Logger

	// Stagings is how many new versions are staged at once, across scripts:
	// a reload's compile and instantiation (WASM) or chunk (Lua), and a new
	// file's load under Watch. 0 means one less than GOMAXPROCS, at least one,
	// so that a checkout changing many scripts leaves the program's loop a
	// processor instead of sharing every one with the compiles. A staging
	// that runs for more than 100 ms lets the next one start beside it: one
	// that never ends (a chunk without limits that loops) delays the others
	// by that, not for good. Watch's builds of sources (x.c, x.wat) are not
	// counted: package watch runs one per processor.
	Stagings int

	// EventBuffer is the capacity of the Events channel; 0 means 64, and at most
	// 65,536 (MaxEventBuffer: the channel is allocated whole, 272 bytes an event
	// on 64-bit systems, so 18 MB at most).
	// When the buffer is full, events are dropped (a reload never waits for a
	// reader) and counted in Host.DroppedEvents.
	EventBuffer int
}

// ScriptOptions are per-script settings for Load and LoadBytes. A nil *ScriptOptions
// and zero fields mean the Host's defaults.
type ScriptOptions struct {
	// Limits, if not nil, replace Config.Limits for this script as a whole: a
	// zero field means no limit, not Config.Limits's value, so set every limit
	// the script should have (copy Config.Limits and change what differs).
	Limits *Limits
	// Migration overrides Config.Migration for this script (WASM only).
	Migration MigrationFunc
	// Contract is what every version of the script must export. The first version
	// is held to it too: Load fails if it breaks it.
	Contract *Contract
}

// clone is a copy of o that shares nothing the caller may change after
// giving it: its Limits and its Contract's exports are copied.
func (o *ScriptOptions) clone() ScriptOptions {
	c := *o
	if o.Limits != nil {
		lim := *o.Limits
		c.Limits = &lim
	}
	if o.Contract != nil {
		con := *o.Contract
		con.Exports = slices.Clone(con.Exports)
		c.Contract = &con
	}
	return c
}

// MaxEventBuffer is the largest Config.EventBuffer.
const MaxEventBuffer = 1 << 16

// validate refuses options that mean nothing: a Swap that is not a SwapMode,
// a negative History, EventBuffer or MaxExecutionTime, an EventBuffer over
// MaxEventBuffer, a HostFunc the engines
// could not define.
func (c Config) validate() error {
	switch {
	case c.Swap != SwapImmediate && c.Swap != SwapAtApply:
		return fmt.Errorf("%w: Config.Swap %d is neither SwapImmediate nor SwapAtApply", ErrInvalid, c.Swap)
	case c.History < 0:
		return fmt.Errorf("%w: Config.History %d is negative", ErrInvalid, c.History)
	case c.Stagings < 0:
		return fmt.Errorf("%w: Config.Stagings %d is negative", ErrInvalid, c.Stagings)
	case c.EventBuffer < 0:
		return fmt.Errorf("%w: Config.EventBuffer %d is negative", ErrInvalid, c.EventBuffer)
	case c.EventBuffer > MaxEventBuffer:
		return fmt.Errorf("%w: Config.EventBuffer %d is over MaxEventBuffer (%d)", ErrInvalid, c.EventBuffer, MaxEventBuffer)
	}
	if err := c.Limits.validate("Config.Limits"); err != nil {
		return err
	}
	names := map[[2]string]bool{}
	for i := range c.Funcs {
		f := &c.Funcs[i]
		if err := f.check(); err != nil {
			return err
		}
		if names[[2]string{f.Module, f.Name}] {
			return fmt.Errorf("%w: host function %s.%s is defined twice", ErrInvalid, f.Module, f.Name)
		}
		names[[2]string{f.Module, f.Name}] = true
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.History <= 0 {
		c.History = 4
	}
	if c.Migration == nil {
		c.Migration = MigrateReset
	}
	if c.SelfCheck == "" {
		c.SelfCheck = "on_reload"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.EventBuffer <= 0 {
		c.EventBuffer = 64
	}
	if c.Stagings <= 0 {
		c.Stagings = max(1, runtime.GOMAXPROCS(0)-1)
	}
	return c
}
