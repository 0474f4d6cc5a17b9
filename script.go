package hotscript

import (
	"fmt"
	"github.com/hotscript/hotscript/internal/ctxlock"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hotscript/hotscript/lua"
	"github.com/hotscript/hotscript/wasm"
)

// Kind is a script's engine.
type Kind string

const (
	// KindWASM scripts are WebAssembly modules (.wasm, or .wat built with wat2wasm).
	KindWASM Kind = "wasm"
	// KindLua scripts are Lua chunks that return a module table (.lua).
	KindLua Kind = "lua"
)

// kindOf maps a script name's extension to its engine and whether its text must be
// built first.
func kindOf(name string) (Kind, bool, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".wasm":
		return KindWASM, false, nil
	case ".wat":
		return KindWASM, true, nil
	case ".lua":
		return KindLua, false, nil
	}
	return "", false, fmt.Errorf("%w: %s: unknown script kind (want .wasm, .wat or .lua)", ErrInvalid, name)
}

// Script is a handle to one loaded script, made by Host.Load or Host.LoadBytes (or
// found with Host.Script); a Script of another making, the zero one included, is
// not usable. Its methods are safe for concurrent use.
type Script struct {
	h        *Host
	name     string
	path     string // "" when loaded from bytes
	kind     Kind
	needsWAT bool
	u        unit
	contract compiledContract
	migrate  MigrationFunc
	opts     ScriptOptions // as loaded, for the script its file is renamed to (see Watch)
	stats    counters
	live     atomic.Pointer[liveVersion] // replaced whole at each commit

	// readSum is a hash of the bytes the Host last read from the script's own
	// file, path (Load, Reload with nil bytes, a Watch's load or save of it,
	// its catch-up), for a later Watch to tell a save none saw; 0 for a script
	// not read so. A source (x.c, x.wat beside x.wasm) is not counted here:
	// Watch keeps what it saw of each file in the script's fileMark.
	readSum atomic.Uint64

	// unloading is set once Unload has begun, gone once it has taken the
	// script from its engine (under mu); unloadMu serializes Unloads.
	unloading, gone atomic.Bool
	unloadMu        sync.Mutex

	// abs is file0, taken as the script loads: a relative name, taken later,
	// has no absolute form once the working directory is deleted (a program
	// run in the directory it watches, which is removed and comes back).
	abs string

	// canon is file0 with the links in its directory resolved, once Watch
	// first asks (see canonFile).
	canonOnce sync.Once
	canon     string

	swapMu ctxlock.Mutex // serializes commits of this script; a revert waits on it as it stages

	mu      sync.Mutex // guards what follows
	hist    history
	seq     uint64   // last request number handed out
	latest  uint64   // the request that wins; older ones are superseded
	latestP *Pending // its Pending, kept once resolved (newest, in watch.go)
	// latestCode is the bytes of the newest request (a Reload's), nil for a
	// revert or a re-read of the file (see Script.unchanged).
	latestCode []byte
	overtake   uint64        // the newest request that wins over a commit in progress (see commitPlan.swap)
	queued     *request      // the next request for the worker
	staging    *request      // the request the worker is staging, if any
	inCommit   *request      // the request whose commit has begun (beginCommit), until it ends
	building   *request      // the request whose version the engine builds: a newer one stops it
	running    bool          // a worker goroutine is processing requests
	open       int           // requests not resolved yet
	idle       chan struct{} // closed when the running worker stops
	// resolving counts requests taken out of queued or ready and resolved
	// after s.mu (the ones a new request superseded, the ones their context
	// abandoned): Unload waits for them before it reports Unloaded. Added to
	// under s.mu while s is not gone, so before Unload waits.
	resolving sync.WaitGroup
	ready     *stagedItem
	file      fileMark // the file Watch last saw the script come from (watch.go)
	// unread are the files of the script (its own, a source) Watch reported
	// it could not read, by canonical path (see refusedUnread).
	unread map[string]unreadMark
}

// Name returns the script's name: the path given to Load, or the name given to
// LoadBytes.
func (s *Script) Name() string { return s.name }

// Kind returns the script's engine.
func (s *Script) Kind() Kind { return s.kind }

// liveVersion is what a script's callers see of its live version. Version and
// Interface read one snapshot, so that a program reading both between two commits
// gets a matching pair.
type liveVersion struct {
	n     int
	iface Interface
}

// Version returns the live version number: 1 after the load, one more for each
// committed reload, and the earlier number again after a Revert.
//
// It changes at the swap itself, while the script's callers are blocked, so it
// never lags behind the code calls reach nor runs ahead of it: a call that ran
// version N was made while Version already said N (read after the call
// returns, Version is N or later), and a call that starts after Version
// returned N runs version N or later. The same holds for calls through the
// engine handles (Script.WASM, Script.Lua). Safe for concurrent use.
func (s *Script) Version() int { return s.live.Load().n }

// Interface returns the exports and imports of the live version: for example,
// whether it exports update, without calling it. It changes with Version, and
// a program reading both between two commits gets a matching pair. The result is
// the caller's to modify. Safe for concurrent use; cheap enough to call once a frame,
// though a program usually calls it only when Version changes.
func (s *Script) Interface() Interface { return s.live.Load().iface.clone() }

// WASM returns the runtime a WASM script runs in and the script's id there, for
// the engine's hot-loop paths, which cost less per call than Call and its JSON: a
// wasm.Func handle, or a wasm.Lease from Runtime.Acquire that a frame's calls
// share. The id stays the script's across reloads and reverts, so a Func or a
// Lease made from it calls the live version, as Call does; after Unload, calls
// through it fail with wasm.ErrNotFound. ok is false for a Lua script.
//
// Reload, revert and unload the script through the Host: the runtime's own
// ReloadModule, Stage or Unload would skip the Host's history, contract,
// migration and events. Calls made through the runtime are not in Stats. Safe
// for concurrent use.
func (s *Script) WASM() (rt *wasm.Runtime, id wasm.ScriptID, ok bool) {
	u, ok := s.u.(*wasmUnit)
	if !ok {
		return nil, 0, false
	}
	return u.rt, u.id, true
}

// Lua is WASM for a Lua script: the runtime and the id there, for lua.Func and
// lua.Lease (or Field, Fields), with the same rules. ok is false for a WASM script.
func (s *Script) Lua() (rt *lua.Runtime, id lua.ScriptID, ok bool) {
	u, ok := s.u.(*luaUnit)
	if !ok {
		return nil, 0, false
	}
	return u.rt, u.id, true
}
