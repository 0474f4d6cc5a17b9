package hotscript

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// engine is what the host needs from a scripting runtime. The WASM and Lua adapters
// implement it over package wasm and package lua; tests add a scripted fake to drive
// the reload state machine into races the real engines make hard to hit.
type engine interface {
	// inspect returns the interface code would have, without loading it, or
	// ok false when only loading it can tell: a Lua chunk builds its module
	// when it runs, and it may call host functions as it does, which only the
	// real runtime has.
	inspect(ctx context.Context, name string, code []byte) (in Interface, ok bool, err error)
	// load loads code as a new script named name.
	load(ctx context.Context, name string, code []byte, lim *Limits) (unit, error)
	// close closes the runtime (only called for runtimes the host created).
	close(ctx context.Context) error
}

// unit is one loaded script inside an engine. Its methods are safe for concurrent use.
type unit interface {
	call(ctx context.Context, fn string, args []any) (json.RawMessage, error)
	// iface is the live version's interface.
	iface(ctx context.Context) (Interface, error)
	// stage prepares a new version (compile and instantiate, or compile and run the
	// chunk) without blocking callers of the live version.
	stage(ctx context.Context, code []byte) (staged, error)
	// reentered reports whether ctx comes from a host function the script is
	// running: waiting for its calls from there would never end.
	reentered(ctx context.Context) bool
	// unload removes the script from its engine: for a load the host refuses
	// after the fact, for Unload, and at Close.
	unload(ctx context.Context) error
}

// staged is a prepared version waiting to be committed or discarded.
type staged interface {
	iface() Interface
	// commit swaps the staged version in, running p's migration while callers wait,
	// and p.swap at the swap, failing with its error. On error the live version
	// and its state are untouched, p.swapIf has not recorded it, and the staged version
	// is spent unless the result says it was kept.
	commit(ctx context.Context, p *commitPlan) (commitResult, error)
	// discard releases the staged version; idempotent, a no-op after commit.
	discard(ctx context.Context)
}

// commitPlan is what a commit needs to know beyond the staged code.
type commitPlan struct {
	to        int           // the number the new version gets, for the self-check's error
	migrate   MigrationFunc // WASM: never nil (MigrateReset at least); Lua: unused
	selfCheck string        // function run on the new version before it goes live
	migration *Migration    // what migrate is given (WASM)
	// swapIf records the new version as live (Script.Version, Interface),
	// unless a newer request of the script came while the commit waited for
	// the script (a call or lease in progress) or ran, and reports whether it
	// did: both at once, so that a request deciding by the live version (a
	// Watch save of the running code) sees it before or after, never between
	// (helper-201). commit runs it once, through swap, at the swap: after
	// every step that can fail, while the script's callers are still blocked,
	// before any call can reach the new version.
	swapIf func() bool
}

// swap is the last step of a commit: it runs swapIf, and fails with
// errSwapSuperseded if a newer request of the script has come since the
// commit began, which wins (see Reload): the commit rolls back.
func (p *commitPlan) swap() error {
	if !p.swapIf() {
		return errSwapSuperseded
	}
	return nil
}

// errSwapSuperseded is swap's error: ErrSuperseded, told apart from the same
// sentinel in a migration's own error (a reload of another script it made).
var errSwapSuperseded = fmt.Errorf("%w at the swap", ErrSuperseded)

type commitResult struct {
	carried []string
	reset   error // why a migration let the new version start afresh, or Lua's on_save failed (Event.Reset)
	blocked time.Duration
	// kept says that the commit failed as its context ended while it
	// waited for a call or lease in progress, or as that wait would never
	// end (ErrReentrant), changing nothing, and that the version is still
	// staged: it may be committed again.
	kept bool
}
