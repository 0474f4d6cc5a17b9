package hotscript

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotscript/hotscript/internal/fsread"
	"github.com/hotscript/hotscript/internal/monoclock"
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

// Script is a handle to one loaded script. Its methods are safe for concurrent use.
type Script struct {
	h        *Host
	name     string
	path     string // "" when loaded from bytes
	kind     Kind
	needsWAT bool
	u        unit
	contract compiledContract
	migrate  MigrationFunc
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

	// canon is file0 with the links in its directory resolved, once Watch
	// first asks (see canonFile).
	canonOnce sync.Once
	canon     string

	swapMu sync.Mutex // serializes commits of this script

	mu      sync.Mutex // guards what follows
	hist    history
	seq     uint64        // last request number handed out
	latest  uint64        // the request that wins; older ones are superseded
	latestP *Pending      // its Pending, kept once resolved (newest, in watch.go)
	queued  *request      // the next request for the worker
	staging *request      // the request the worker is staging, if any
	running bool          // a worker goroutine is processing requests
	open    int           // requests not resolved yet
	idle    chan struct{} // closed when the running worker stops
	// resolving counts requests taken out of queued or ready and resolved
	// after s.mu (the ones a new request superseded, the ones their context
	// abandoned): Unload waits for them before it reports Unloaded. Added to
	// under s.mu while s is not gone, so before Unload waits.
	resolving sync.WaitGroup
	ready     *stagedItem
	file      fileMark // the file Watch last saw the script come from (watch.go)
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

// Load reads the script at path and loads it. Its kind comes from the extension:
// .wasm and .lua, and .wat, which is built with wat2wasm (it must be on PATH). The
// path is the script's name, and what Reload re-reads when given nil bytes. opts may
// be nil. The outcome is also an Event: Loaded, or Rejected with the error (except
// for ErrExists and ErrClosed, where nothing was attempted, and for a load that ctx
// stopped, which says nothing of the script). A load stops when ctx ends or the
// Host closes (ErrClosed), as far as its engine can stop: a Lua compile or chunk,
// not a WASM compile. Safe for concurrent use.
func (h *Host) Load(ctx context.Context, path string, opts *ScriptOptions) (*Script, error) {
	code, err := fsread.File(path)
	if err != nil {
		err = opErr("load", path, err)
		h.reportLoad(path, 0, err)
		return nil, err
	}
	return h.load(ctx, path, path, code, maphash.Bytes(markSeed, code), opts)
}

// LoadBytes loads code as a script named name; the name's extension gives its kind
// as for Load. Such a script has no file: Reload must be given bytes. opts may be
// nil. Its outcome is an Event, as for Load. Safe for concurrent use.
func (h *Host) LoadBytes(ctx context.Context, name string, code []byte, opts *ScriptOptions) (*Script, error) {
	return h.load(ctx, name, "", code, 0, opts)
}

// load loads code; readSum is the hash of the bytes the caller read from path
// just now (a .wat's text, which code is built from), 0 if it read none: what
// the script's file held (see Script.readSum) is known as it is published.
func (h *Host) load(ctx context.Context, name, path string, code []byte, readSum uint64, opts *ScriptOptions) (*Script, error) {
	s, compile, reserved, err := h.loadScript(ctx, name, path, code, readSum, opts)
	if err != nil {
		if !namesScript(err) {
			err = opErr("load", name, err)
		}
		s = nil
	} else {
		s.markFile(s.file0()) // for Watch, which may run already, to tell a rename
	}
	if err != nil && (ctx.Err() == nil || !errors.Is(err, ctx.Err())) { // not stopped by the caller
		h.reportLoad(name, compile, err)
	}
	if reserved { // after the event: a save that waits for this load follows it
		h.loaded(name)
	}
	return s, err
}

// reportLoad emits the event of a failed load: Rejected with From and To 0 (a
// load that succeeds is Loaded as it is published, by loadScript). A load
// refused because the name is taken or the Host is closed changed nothing and
// is not reported.
func (h *Host) reportLoad(name string, compile time.Duration, err error) {
	if !errors.Is(err, ErrExists) && !errors.Is(err, ErrClosed) {
		h.ev.emit(Event{Script: name, Kind: Rejected, CompileTime: compile, Err: err})
	}
}

// loadScript does the work of a load; compile is the time the engine spent, in
// inspecting the code for a Contract and in loading it.
//
// reserved says that it reserved the name (see reserve), which the caller ends
// with loaded once it has reported the load.
func (h *Host) loadScript(ctx context.Context, name, path string, code []byte, readSum uint64, opts *ScriptOptions) (s *Script, compile time.Duration, reserved bool, err error) {
	if opts == nil {
		opts = &ScriptOptions{}
	}
	if !h.enter() { // Close waits for loads in progress before closing the engines
		return nil, 0, false, ErrClosed
	}
	defer h.wg.Done()
	// Close ends the load as it ends a reload: the engines give up what they can
	// (a Lua compile, a chunk that runs long) when this context ends.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	defer context.AfterFunc(h.base, func() { cancel(ErrClosed) })()
	defer func() {
		if cause := context.Cause(ctx); err != nil && cause != nil && !errors.Is(err, cause) {
			err = fmt.Errorf("%w: %w", cause, err) // the engine saw a cancelled context, not why
		}
	}()
	kind, needsWAT, err := kindOf(name)
	if err != nil {
		return nil, 0, false, err
	}
	contract, err := compileContract(opts.Contract)
	if err != nil {
		return nil, 0, false, err
	}
	if opts.Limits != nil {
		if err := opts.Limits.validate("ScriptOptions.Limits"); err != nil {
			return nil, 0, false, err
		}
	}
	s = &Script{h: h, name: name, path: path, kind: kind, needsWAT: needsWAT, contract: contract,
		migrate: cmpOr(opts.Migration, h.cfg.Migration)}
	s.readSum.Store(readSum)
	if code, err = s.prepare(ctx, code); err != nil {
		return nil, 0, false, err
	}
	if err := h.reserve(name); err != nil {
		return nil, 0, false, err
	}
	start := time.Now()
	var iface Interface
	if s.u, iface, err = h.engineLoad(ctx, s, code, opts); err != nil {
		return nil, time.Since(start), true, err
	}
	compile = time.Since(start)
	s.hist = newHistory(h.cfg.History, code)
	s.live.Store(&liveVersion{n: 1, iface: iface})
	// Loaded is sent as the script is published, so that its events (a reload
	// asked by whoever finds it published) follow it.
	ev := Event{Script: name, Kind: Loaded, To: 1, CompileTime: compile, Diff: diffInterfaces(Interface{}, iface)}
	h.ev.logEvent(ev)
	h.mu.Lock()
	h.scripts[name] = s
	h.ev.send(ev)
	h.mu.Unlock()
	return s, compile, true, nil
}

// engineLoad holds code to s's Contract, loads it into s's engine and returns
// the loaded unit with its interface. The contract is checked before the load
// when the engine can tell the interface without running the code (WASM), after
// it otherwise (Lua), unloading it again if it breaks the contract.
func (h *Host) engineLoad(ctx context.Context, s *Script, code []byte, opts *ScriptOptions) (unit, Interface, error) {
	eng := h.engineFor(s.kind)
	checked := len(s.contract) == 0
	if !checked {
		in, ok, err := eng.inspect(ctx, s.name, code)
		if err != nil {
			return nil, Interface{}, err
		}
		if checked = ok; ok {
			if v := s.contract.violations(nil, in); len(v) > 0 {
				return nil, Interface{}, &ContractError{Script: s.name, Violations: v}
			}
		}
	}
	limits := opts.Limits
	if limits == nil && h.cfg.Limits != (Limits{}) {
		limits = &h.cfg.Limits
	}
	u, err := eng.load(ctx, s.name, code, limits)
	if err != nil {
		return nil, Interface{}, err
	}
	in, err := u.iface(ctx)
	if err == nil && !checked {
		if v := s.contract.violations(nil, in); len(v) > 0 {
			err = &ContractError{Script: s.name, Violations: v}
		}
	}
	if err != nil {
		_ = u.unload(ctx)
		return nil, Interface{}, err
	}
	return u, in, nil
}

func cmpOr(a, b MigrationFunc) MigrationFunc {
	if a != nil {
		return a
	}
	return b
}

func (h *Host) engineFor(k Kind) engine { return h.engines[k] }

// reserve claims name for a load in progress (an entry of h.loads, closed when
// the load ends), so two concurrent loads of one name cannot both reach the
// engine, and a save of the file can wait for the load (Host.loading).
func (h *Host) reserve(name string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed.Load() {
		return ErrClosed
	}
	_, loaded := h.scripts[name]
	if _, loading := h.loads[name]; loaded || loading {
		return ErrExists
	}
	h.loads[name] = make(chan struct{})
	return nil
}

// loaded ends the load of name, which reserved it: the name holds its script
// now, or nothing.
func (h *Host) loaded(name string) {
	h.mu.Lock()
	close(h.loads[name])
	delete(h.loads, name)
	h.mu.Unlock()
}

// loading returns a channel closed when the load in progress of name ends, or
// nil if none runs.
func (h *Host) loading(name string) <-chan struct{} {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.loads[name]
}

// Unload removes script s from the Host and its engine, once the calls in progress
// on it have returned (however long they take: ctx serves to recognize calls back,
// below) and a commit in progress has ended. Its reloads are rejected with
// ErrUnloaded, the one being staged included, before Unload emits the Unloaded
// event and frees the name for a new Load: a Load of the name that races Unload
// reports Loaded after Unloaded, and a program that receives Unloaded finds the
// name free. Calls, reloads and reverts of s after it fail with ErrUnloaded. A
// second Unload of s waits for the first, then returns ErrUnloaded. A script
// that Watch loaded from a file comes back, as a new script, with the file's next
// save, or any activity that leaves the file there (a rename away and back).
//
// Called from a host function, a migration or a reload being staged of s itself,
// with the context it received, Unload fails at once with an error matching the
// engines' ErrReentrant, changing nothing: it would wait for itself. So does an
// Unload from what a new version of any script runs as it is staged, which
// could wait for a staging that waits for it. Safe for
// concurrent use.
func (h *Host) Unload(ctx context.Context, s *Script) error {
	if err := h.notOurs(s, "unload", ""); err != nil {
		return err
	}
	if h.reloading(ctx, committingKey{}) == s {
		return opErr("unload", s.name, reentrant("a reload of "+s.name))
	}
	if err := h.waitsFromStaging(ctx, s, "unload"); err != nil {
		return err
	}
	if !h.enter() {
		return opErr("unload", s.name, ErrClosed)
	}
	defer h.wg.Done()
	s.unloadMu.Lock()
	defer s.unloadMu.Unlock()
	if s.gone.Load() {
		return opErr("unload", s.name, ErrUnloaded)
	}
	// The engine first: it waits for calls in progress, and refuses a call
	// back from s's own host function before anything has changed. Calls that
	// find s gone from it meanwhile report ErrUnloaded (see failed).
	s.unloading.Store(true)
	if err := s.u.unload(ctx); err != nil && !engineNotFound(err) {
		s.unloading.Store(false)
		return opErr("unload", s.name, err)
	}
	s.swapMu.Lock() // a commit in progress ends first
	s.mu.Lock()
	s.gone.Store(true)
	req, it := s.queued, s.ready
	s.queued, s.ready = nil, nil
	if s.staging != nil {
		s.staging.cancel(ErrUnloaded)
	}
	var idle chan struct{}
	if s.running {
		idle = s.idle
	}
	s.mu.Unlock()
	s.swapMu.Unlock()
	s.reject(ctx, req, it, ErrUnloaded)
	if idle != nil {
		<-idle // the worker resolves what it was staging, and finds nothing more
	}
	s.resolving.Wait()
	// The event is logged before the name is free and sent as it is freed: a
	// load of the name that races this one reports Loaded after Unloaded, and a
	// program that receives Unloaded finds the name free.
	ev := Event{Script: s.name, Kind: Unloaded, From: s.Version()}
	h.ev.logEvent(ev)
	h.mu.Lock()
	if h.scripts[s.name] == s {
		delete(h.scripts, s.name)
	}
	h.ev.send(ev)
	h.mu.Unlock()
	s.mu.Lock()
	mark := s.file.path
	s.mu.Unlock()
	h.forgetFiles(s.file0(), mark) // Watch loads the file again on its next activity, whatever it is
	return nil
}

// engineNotFound reports whether err is an engine's ErrNotFound.
func engineNotFound(err error) bool {
	return errors.Is(err, wasm.ErrNotFound) || errors.Is(err, lua.ErrNotFound)
}

// unloaded reports whether err, from s's engine, is due to Unload: s is gone, or
// being unloaded and its engine says it no longer has it. (An engine's
// ErrNotFound can come from elsewhere too: a host function's call to another
// script, a migration's error.)
func (s *Script) unloaded(err error) bool {
	return s.gone.Load() || (s.unloading.Load() && engineNotFound(err))
}

// Call calls fn in script s with args, one parameter each, and returns the result as
// JSON. The conversion rules are those of the script's engine (wasm.Runtime.CallJSON,
// lua.Runtime.CallJSON). A call never sees a half-swapped script: it runs entirely on
// the version live when it starts, and is blocked only while a swap is in progress.
// Calls to one script are serialized: a call that finds s busy waits its turn
// until ctx ends. Errors name the script and the function. Safe for concurrent
// use.
//
// Call adds to the engine's own call only an atomic counter and a few branches; the
// call's duration is measured on a sample of calls (see Stats.CallTime).
func (h *Host) Call(ctx context.Context, s *Script, fn string, args ...any) (json.RawMessage, error) {
	if s == nil || s.h != h || h.closed.Load() {
		return nil, h.refuse(s, fn)
	}
	if n := s.stats.calls.Add(1); sampled(n) {
		return h.timedCall(ctx, s, n, fn, args)
	}
	out, err := s.call(ctx, fn, args)
	if err != nil {
		err = h.failed(s, fn, err)
	}
	return out, err
}

// timedCall is Call for call number n of s, sampled for Stats.CallTime.
func (h *Host) timedCall(ctx context.Context, s *Script, n uint64, fn string, args []any) (json.RawMessage, error) {
	start := monoclock.Now()
	out, err := s.call(ctx, fn, args)
	s.stats.timed(n, monoclock.Now()-start)
	if err != nil {
		err = h.failed(s, fn, err)
	}
	return out, err
}

// call calls the live version through the engines' concrete types, which lets
// escape analysis keep args on the caller's stack; a call through the unit
// interface would move it to the heap.
func (s *Script) call(ctx context.Context, fn string, args []any) (json.RawMessage, error) {
	switch u := s.u.(type) {
	case *wasmUnit:
		return u.rt.CallJSON(ctx, u.id, fn, args...)
	case *luaUnit:
		return u.rt.CallJSON(ctx, u.id, fn, args...)
	}
	return s.u.call(ctx, fn, slices.Clone(args))
}

// refuse is the error of a call Call does not make.
func (h *Host) refuse(s *Script, fn string) error {
	if err := h.notOurs(s, "call", fn); err != nil {
		return err
	}
	return opErr("call", s.name+"."+fn, ErrClosed)
}

// notOurs is the ErrInvalid error of operation op (on function fn, if any) when
// s is nil or another Host's script, and nil for a script of h.
func (h *Host) notOurs(s *Script, op, fn string) error {
	if s != nil && s.h == h {
		return nil
	}
	what, why := fn, "nil Script"
	if s != nil {
		what, why = s.name, "a script of another Host"
		if fn != "" {
			what += "." + fn
		}
	}
	return opErr(op, what, fmt.Errorf("%w: %s", ErrInvalid, why))
}

// opError is the error of the Host's operation op on what (a script, a
// script's function; "" for none), caused by err: "hotscript: revert
// enemy.wasm: no earlier version to revert to". The package's prefix is said
// once: err's own, which the sentinel errors have, is left out of the text;
// errors.Is and errors.As still see err.
type opError struct {
	op, what string
	err      error
}

func opErr(op, what string, err error) error { return &opError{op, what, err} }

func (e *opError) Error() string {
	head := "hotscript: " + e.op
	if e.what != "" {
		head += " " + e.what
	}
	return head + ": " + strings.TrimPrefix(e.err.Error(), "hotscript: ")
}

func (e *opError) Unwrap() error { return e.err }

// failed counts a failed call and returns its error.
func (h *Host) failed(s *Script, fn string, err error) error {
	s.stats.errors.Add(1)
	switch {
	case h.closed.Load():
		// The runtime was closed under the call: say so, whatever the engine said.
		return opErr("call", s.name+"."+fn, fmt.Errorf("%w: %w", ErrClosed, err))
	case s.unloaded(err):
		return opErr("call", s.name+"."+fn, ErrUnloaded)
	}
	return err
}
