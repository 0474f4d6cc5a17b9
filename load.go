package hotscript

// Loading and unloading scripts: a name is reserved while its load runs, so
// that two loads of one name do not race, and a script's engine is chosen
// by its file's extension.

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"time"

	"github.com/hotscript/hotscript/internal/fsread"
	"github.com/hotscript/hotscript/internal/undo"
	"github.com/hotscript/hotscript/lua"
	"github.com/hotscript/hotscript/wasm"
)

// Load reads the script at path and loads it. Its kind comes from the extension:
// .wasm and .lua, and .wat, which is built with wat2wasm (it must be on PATH). The
// path is the script's name, and what Reload re-reads when given nil bytes (a file
// of more than 64 MiB is refused, unread: no script is that large). A name
// loaded already, or a file a script of another name comes from (enemy.lua
// and /game/enemy.lua, or the name Watch gave it), is refused with ErrExists,
// whose text names that script. opts may be nil. The outcome is also an Event: Loaded, or Rejected with the error (except
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
	ctx = undo.Without(ctx) // from a commit: the load stays whatever the commit does
	s, compile, res, err := h.loadScript(ctx, name, path, code, readSum, opts)
	if err != nil {
		if !namesScript(err) {
			err = opErr("load", name, err)
		}
		s = nil
	} else {
		s.markFile(s.file0()) // for Watch, which may run already, to tell a rename
	}
	// Not stopped by the caller, nor by a newer save (Watch: it says nothing
	// of the file, whatever error a host function made of it).
	if err != nil && (ctx.Err() == nil || !errors.Is(err, ctx.Err())) && !errors.Is(context.Cause(ctx), ErrSuperseded) {
		h.reportLoad(name, compile, err)
	}
	if res != nil { // after the event: a save that waits for this load follows it
		h.loaded(name, res)
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
// res is its reservation of the name (see reserve), if it made one, which the
// caller ends with loaded once it has reported the load.
func (h *Host) loadScript(ctx context.Context, name, path string, code []byte, readSum uint64, opts *ScriptOptions) (s *Script, compile time.Duration, res *loadRes, err error) {
	if opts == nil {
		opts = &ScriptOptions{}
	}
	if !h.enter() { // Close waits for loads in progress before closing the engines
		return nil, 0, nil, ErrClosed
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
		return nil, 0, nil, err
	}
	contract, err := compileContract(opts.Contract)
	if err != nil {
		return nil, 0, nil, err
	}
	if opts.Limits != nil {
		if err := opts.Limits.validate("ScriptOptions.Limits"); err != nil {
			return nil, 0, nil, err
		}
	}
	s = &Script{h: h, name: name, path: path, kind: kind, needsWAT: needsWAT, contract: contract,
		migrate: cmpOr(opts.Migration, h.cfg.Migration), opts: opts.clone()}
	s.abs = absFile(s)
	s.readSum.Store(readSum)
	if code, err = s.prepare(ctx, code); err != nil {
		return nil, 0, nil, err
	}
	if res, err = h.reserve(name, s.canonFile()); err != nil {
		return nil, 0, nil, err
	}
	start := time.Now()
	var iface Interface
	if s.u, iface, err = h.engineLoad(ctx, s, code, opts); err != nil {
		return nil, time.Since(start), res, err
	}
	compile = time.Since(start)
	s.hist = newHistory(h.cfg.History, code)
	s.live.Store(&liveVersion{n: 1, iface: iface})
	// Loaded is sent as the script is published, so that its events (a reload
	// asked by whoever finds it published) follow it.
	ev := Event{Script: name, Kind: Loaded, To: 1, CompileTime: compile, Diff: diffInterfaces(Interface{}, iface)}
	h.ev.logEvent(ev)
	// What Watch kept for the file (see keepOff) goes as the file loads: before
	// the event, after which the program may unload the script, which keeps it
	// again (helper-231: dropped after, the options were lost).
	h.dropOff(s.canonFile())
	h.mu.Lock()
	h.scripts[name] = s
	res.published = true
	if f := s.canonFile(); f != "" && h.files[f] == nil {
		h.files[f] = s
	}
	h.ev.send(ev)
	h.mu.Unlock()
	return s, compile, res, nil
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
// engine, and a save of the file can wait for the load (Host.loading). file
// is the script's file (see canonFile): one a loaded script comes from
// already, under another name (enemy.lua and /game/enemy.lua; the file's name
// that Watch loaded it under), is refused too, naming that script: two
// scripts of one file would run apart, a save reloading one of them; so is a
// file being loaded under another name.
//
// A load that has published its script no longer holds the name for that: the
// script does, and once the program unloads it (having seen it Loaded), the
// name is free, though the load is still ending.
func (h *Host) reserve(name, file string) (*loadRes, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed.Load() {
		return nil, ErrClosed
	}
	_, loaded := h.scripts[name]
	if l, loading := h.loads[name]; loaded || loading && !l.published {
		return nil, ErrExists
	}
	if file != "" {
		if o := h.files[file]; o != nil {
			return nil, &fileTaken{by: o.name}
		}
		for other, f := range h.loadsOf { // the loads in progress: a few
			if f == file && !h.loads[other].published {
				return nil, &fileTaken{by: other}
			}
		}
		h.loadsOf[name] = file
	}
	res := &loadRes{done: make(chan struct{})}
	h.loads[name] = res
	return res, nil
}

// loadRes is a load's reservation of a name (see reserve).
type loadRes struct {
	done      chan struct{} // closed as the load ends
	published bool          // its script is published; under h.mu
}

// loaded ends the load of name that reserved it with res: the name holds its
// script now, or nothing (or a later load's, if the program unloaded it).
func (h *Host) loaded(name string, res *loadRes) {
	h.mu.Lock()
	close(res.done)
	if h.loads[name] == res {
		delete(h.loads, name)
		delete(h.loadsOf, name)
	}
	h.mu.Unlock()
}

// fileTaken is the error of a load of a file that a script of another name
// comes from, or is being loaded as (see reserve).
type fileTaken struct{ by string }

func (e *fileTaken) Error() string { return ErrExists.Error() + ": " + e.by + " comes from that file" }
func (e *fileTaken) Unwrap() error { return ErrExists }

// loading returns a channel closed when the load in progress of name ends, or
// nil if none runs.
func (h *Host) loading(name string) <-chan struct{} {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if l := h.loads[name]; l != nil {
		return l.done
	}
	return nil
}

// Unload removes script s from the Host and its engine, once the calls in progress
// on it have returned (however long they take: ctx serves to recognize calls back,
// below) and a commit in progress has ended. Its reloads are rejected with
// ErrUnloaded, the one being staged included, before Unload emits the Unloaded
// event and frees the name for a new Load: a Load of the name that races Unload
// reports Loaded after Unloaded, and a program that receives Unloaded finds the
// name free. Calls, reloads and reverts of s after it fail with ErrUnloaded; its
// Stats stay, but not the code of its versions, so that a program may keep s
// for its Stats. (Of an unloaded script, the Host itself keeps 16 bytes at
// most, a slot of its engine's table of script IDs, which are not reused;
// and, while a Watch of its file's directory runs, its ScriptOptions.)
// A second Unload of s waits for the first, then returns
// ErrUnloaded. A script whose file is in a directory Watch watches (whether
// Watch or the program loaded it) comes back, as a new script, with the
// file's next save, or any activity that leaves the file there (a rename
// away and back), and with the ScriptOptions s had: its Limits, Contract and
// Migration, not those of Config.WatchOptions; so does the file renamed
// within the directory, and for a .wasm its source (x.wat), as long as that
// Watch runs (one begun after Unload loads the file as any new one). To keep
// a plugin off, move its file out of the directory, or rename it to an
// extension that is no script's.
//
// Called from a host function, a migration or a reload being staged of s itself,
// with the context it received, Unload fails at once with an error matching the
// engines' ErrReentrant, changing nothing: it would wait for itself. So does an
// Unload from what a new version of any script runs as it is staged, which
// could wait for a staging that waits for it. Safe for
// concurrent use.
func (h *Host) Unload(ctx context.Context, s *Script) error { return h.unload(ctx, s, "") }

// unload is Unload, for Watch of a script whose file moved to the script
// movedTo's (see Event.MovedTo).
func (h *Host) unload(ctx context.Context, s *Script, movedTo string) error {
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
	_ = s.swapMu.Lock(context.Background()) // a commit in progress ends first
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
	s.mu.Lock()
	s.hist.forget()
	s.latestCode = nil // an unloaded Script a program keeps holds no code
	s.mu.Unlock()
	// The event is logged before the name is free and sent as it is freed: a
	// load of the name that races this one reports Loaded after Unloaded, and a
	// program that receives Unloaded finds the name free.
	s.mu.Lock()
	mark := s.file.path
	s.mu.Unlock()
	ev := Event{Script: s.name, Kind: Unloaded, From: s.Version(), MovedTo: movedTo}
	h.ev.logEvent(ev)
	h.mu.Lock()
	if h.scripts[s.name] == s {
		delete(h.scripts, s.name)
	}
	if h.files[s.canonFile()] == s {
		delete(h.files, s.canonFile())
	}
	h.ev.send(ev)
	h.mu.Unlock()
	if movedTo == "" {
		h.keepOff(s, s.file0(), mark)
	}
	h.forgetFiles(s.file0(), mark) // Watch loads the file again on its next activity, whatever it is
	h.forgetMoved(s)
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
