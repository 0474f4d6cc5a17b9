package hotscript

import (
	"errors"
	"strings"

	"github.com/hotscript/hotscript/internal/fsread"
	"github.com/hotscript/hotscript/lua"
	"github.com/hotscript/hotscript/wasm"
)

// Sentinel errors. Errors returned by the Host wrap one of these (or an engine's own
// sentinel, such as wasm.ErrTrap or lua.ErrRuntime) with the operation and the
// script's name; test them with errors.Is.
var (
	// ErrClosed is returned by every operation on a closed Host, and resolves reloads
	// still queued or staged when Close runs.
	ErrClosed = errors.New("hotscript: host closed")
	// ErrInvalid reports a bad argument or option: an unknown script kind, a malformed
	// Contract, a nil or zero Script, or one from another Host.
	ErrInvalid = errors.New("hotscript: invalid argument")
	// ErrExists is returned by Load and LoadBytes for a name already loaded, or
	// a file a script of another name comes from (the error names it).
	ErrExists = errors.New("hotscript: script already loaded")
	// ErrBuild reports that a source needing a build step (.wat, and .c under
	// Watch) could not be built.
	ErrBuild = errors.New("hotscript: build failed")
	// ErrTooLarge is wrapped by the error of a Load, Reload with nil bytes or
	// Watch's report of a script file of more than 64 MiB, which is not read.
	ErrTooLarge = fsread.ErrTooLarge
	// ErrNoSource is returned by a Reload with nil bytes of a script that was loaded
	// from bytes rather than from a file.
	ErrNoSource = errors.New("hotscript: script has no file to re-read")
	// ErrContract reports that a version breaks its script's Contract; the error is a
	// *ContractError with the details.
	ErrContract = errors.New("hotscript: contract broken")
	// ErrMigration reports that state migration failed (a missing get_state or
	// set_state export, a trap or limit in a migration call, an error from a Go
	// migration func); the reload was rolled back.
	ErrMigration = errors.New("hotscript: state migration failed")
	// ErrSelfCheck reports that the new version's self-check (Config.SelfCheck)
	// trapped, raised an error or returned a failure; the reload was rolled back.
	ErrSelfCheck = errors.New("hotscript: self-check failed")
	// ErrNoHistory is returned by Revert when the script has no earlier version.
	ErrNoHistory = errors.New("hotscript: no earlier version to revert to")
	// ErrSuperseded resolves a reload that a newer reload or revert of the same script
	// replaced before it was committed.
	ErrSuperseded = errors.New("hotscript: superseded by a newer reload or revert")
	// ErrUnloaded is returned by every operation on a script after Unload, and
	// resolves its reloads still queued or staged.
	ErrUnloaded = errors.New("hotscript: script unloaded")
)

// ContractError is the error of a version rejected because it breaks its script's
// Contract. It matches ErrContract with errors.Is. Its methods only read it and
// are safe for concurrent use.
type ContractError struct {
	// Script is the script's name.
	Script string
	// Violations has one readable line per broken requirement:
	// "update: was update(f32), now update(f64)", "removed: fire()".
	Violations []string
	// Diff is the full interface difference with the live version (empty on a
	// first load).
	Diff Diff
}

// Error lists the violations: "hotscript: enemy.wasm breaks its contract:
// update: was update(f32), now update(f64); removed: fire()".
func (e *ContractError) Error() string {
	return "hotscript: " + e.Script + " breaks its contract: " + strings.Join(e.Violations, "; ")
}

// Is reports whether target is ErrContract.
func (e *ContractError) Is(target error) bool { return target == ErrContract }

// reentrant is why the Host refuses work that would wait for the very call or
// commit asking for it (Close from a host function, Reload from a migration): it
// matches both engines' ErrReentrant, as their refusals of calls do. It says
// where the work was asked from.
type reentrant string

func (r reentrant) Error() string {
	return "called from " + string(r) + ", it would wait for itself"
}

func (reentrant) Is(target error) bool {
	return target == wasm.ErrReentrant || target == lua.ErrReentrant
}
