package lua

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
	"github.com/hotscript/hotscript/internal/undo"
)

// ReloadReport describes a committed reload.
type ReloadReport struct {
	// Script is the script's name.
	Script string
	// Carried are the top-level fields copied from the old module, sorted.
	Carried []string
	// Saved reports whether the old version's on_save ran.
	Saved bool
	// Restored reports whether the new version's on_restore ran.
	Restored bool
	// SaveFailed is the error of the live version's on_save, when it failed
	// and the reload went on past it (Config.ReloadPastFailingOnSave): the
	// fields were carried, what on_save would have returned was not.
	SaveFailed error
	// Blocked is how long the script's callers were held: carrying the state,
	// running the hooks and swapping.
	Blocked time.Duration
}

// Staged is a new version of a script, compiled and run but not yet live. Staging
// does the slow part of a reload (compiling and running the chunk) without holding
// the script, so callers keep calling the old version meanwhile; Commit then holds
// them only for the state copy, the hooks and the swap. A Staged is safe for
// concurrent use; it is spent by its first Commit or Discard, unless that
// Commit's context ended while it waited for the script (see Commit): then it
// may be committed again, or must be discarded.
type Staged struct {
	mu sync.Mutex
	s  *script
	v  *version // nil once spent
}

// Stage compiles src and runs it as the next version of script id, in a fresh LState
// with the script's limits. The live version is not touched and its callers are not
// blocked, but for a moment where an edit moved code (which places of the old
// code hold it still is read with the script held: Stage waits 20 ms at most
// for it, and leaves that to Commit past them); nothing the new chunk does (its
// globals included) reaches it. A syntax
// error, a runtime error, a limit or a chunk that returns a non-table fails Stage.
// Stage is safe for concurrent use.
func (rt *Runtime) Stage(ctx context.Context, id ScriptID, src []byte) (*Staged, error) {
	s, err := rt.script("reload", "", id)
	if err != nil {
		return nil, err
	}
	v, err := rt.build(ctx, "reload", s, src)
	if err != nil {
		return nil, err
	}
	if ov := s.latest.Load(); ov != nil { // ahead of Commit, which holds the callers
		v.match = s.stageMatch(ctx, ov, v)
	}
	return &Staged{s: s, v: v}, nil
}

// stageMatch matches ov's code with nv's (see matchCode), without holding the
// script but to read, a moment, which paths of the code whose match depends
// on it reach it still (livePaths), twice at most: the commit then only
// checks that they still do, instead of matching again with the callers held
// (helper-212: callers held 3 to 4 times as long). It waits for the script
// stageWait at most (the caller may hold it, through a Lease: helper-214).
func (s *script) stageMatch(ctx context.Context, ov, nv *version) *codeMatch {
	m := matchCode(ctx, ov, nv, nil, false)
	for range 2 {
		if m == nil || !m.contested {
			break
		}
		wait, cancel := context.WithTimeout(ctx, stageWait)
		err := s.lock(wait, "reload", "")
		cancel()
		if err != nil {
			break // the commit matches with the callers held
		}
		var live pathsLive
		if s.cur == ov {
			live = livePaths(ov, m.needs, m.live)
		}
		s.mu.Unlock()
		if live == nil {
			break // a commit came first: this one matches again
		}
		next := matchCode(ctx, ov, nv, live, false)
		if next == nil {
			break
		}
		next.live, m = live, next
	}
	return m
}

// stageWait is how long Stage waits for the script to read which paths of its
// code reach it still (see stageMatch).
const stageWait = 20 * time.Millisecond

// Fields returns the sorted data fields of the staged module, as its chunk left it.
func (st *Staged) Fields() []string {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.v == nil {
		return nil
	}
	fields, _ := moduleNames(st.v.module)
	return fields
}

// Functions returns the sorted function names of the staged module.
func (st *Staged) Functions() []string {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.v == nil {
		return nil
	}
	_, funcs := moduleNames(st.v.module)
	return funcs
}

// Commit makes the staged version live, with the script's callers held meanwhile:
//
//  1. every non-function field of the old module is deep-copied into the new one,
//     the old value winning, tables of code the module holds are merged (what
//     the script changed in them as it ran wins), and math.random's generator
//     is carried (the package documentation lists what is copied);
//  2. if the new module has on_save and on_restore, or the old one has on_save, the
//     old on_save() runs, then the new on_restore(saved) with a copy of its result,
//     made in the same copy as the fields; saved is nil when the old version has
//     no on_save (the reload that adds the hooks);
//  3. the new version replaces the old, whose LState is closed.
//
// If a hook fails or hits a limit, the old version stays live with its state as it
// was (what the hooks changed in its tables reachable from its module or its
// globals, in the local variables its functions close over and the tables they
// reach, and in its math.random generator, is undone) and
// Commit returns an *Error naming the hook. So it is, with an *Error of
// ErrRuntime, if the Go code of the commit itself panics (a gopher-lua flaw
// might make it): the script is never left held. Either way the Staged is spent.
//
// Commit first waits for the call or lease in progress on the script, if any,
// until ctx ends. If ctx ends first, Commit returns an *Error of op "commit"
// matching ctx's error, nothing has run, and the Staged is not spent: commit it
// again (at the next frame, say) or discard it, or its LState stays open. So
// it is when the wait would never end, ctx coming from a host function of the
// script itself (ErrReentrant): commit it once that call has returned.
func (st *Staged) Commit(ctx context.Context) (ReloadReport, error) {
	return st.CommitCheck(ctx, nil)
}

// CheckFunc decides whether a staged version may go live: it runs after the
// version got the old one's fields and hooks, before it replaces it, and can call
// its functions. Returning an error rolls the reload back, and so does a call
// through next that fails as it runs, even if the CheckFunc returns nil (see
// Version.Err).
type CheckFunc func(ctx context.Context, next *Version) error

// CommitCheck is Commit with a last step before the swap: check, when not nil,
// runs with the script's callers still held, and an error from it (or a panic,
// reported as an error) leaves the old version live exactly as Commit's failed
// hooks do. The error returned matches ErrCheck and wraps check's. check must reach the script only
// through next: a call, Field, reload, Unload or Close of it through the Runtime,
// made with the context check was given, fails with ErrReentrant (made with
// another context, it would wait forever).
func (st *Staged) CommitCheck(ctx context.Context, check CheckFunc) (ReloadReport, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	rep := ReloadReport{Script: st.s.name}
	nv := st.v
	if nv == nil {
		return rep, newError("commit", st.s.name, "", ErrClosed, "already committed or discarded")
	}
	st.v = nil
	s := st.s
	if err := s.lock(ctx, "commit", ""); err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) || errors.Is(err, ErrReentrant) { // nothing ran
			st.v = nv
		} else {
			nv.L.Close()
		}
		return rep, err
	}
	ov, err := s.commit(ctx, nv, &rep, check)
	if err != nil {
		nv.L.Close()
		return rep, err
	}
	ov.L.Close()
	return rep, nil
}

// commit makes nv live in place of the version it returns, the old one, with
// s.mu held by the caller, which it unlocks on every path: a panic in swap is
// an error, but one anywhere else must not leave the script locked for good.
// It does not close either version.
func (s *script) commit(ctx context.Context, nv *version, rep *ReloadReport, check CheckFunc) (ov *version, err error) {
	start := time.Now()
	defer func() {
		rep.Blocked = time.Since(start)
		s.mu.Unlock()
	}()
	if ov = s.cur; ov == nil {
		return nil, s.gone("commit", "") // ErrNotFound, or ErrClosed after Close
	}
	s.next.Store(&nv.budget.guard)
	defer s.next.Store(nil)
	undoOld, undoNew := ov.budget.forSetup(), nv.budget.forSetup()
	err = swap(ctx, s, ov, nv, rep, check)
	undoOld()
	undoNew()
	if err != nil {
		return nil, err
	}
	s.setCur(nv)
	s.gen++
	return ov, nil
}

// swap carries the state of ov into nv, runs the hooks and check; the caller
// swaps.
//
// math.random's generator is carried with the fields, before on_save runs, and
// like them replaces what the new chunk made of its own: the new version draws
// next what the old one would have. Old code run by the hooks or check (on_save,
// or an old function carried in a data field) draws from the old generator,
// which a failure puts back as the reload found it, like the old tables.
//
// A Go panic in it (the Lua code it runs is protected; this is for the Go code
// around it, which a gopher-lua flaw could trip as the Go nils of orNil once
// did) fails the reload like a hook's error: an *Error of ErrRuntime naming the
// script, with the old version's state put back.
func swap(ctx context.Context, s *script, ov, nv *version, rep *ReloadReport, check CheckFunc) (err error) {
	name := s.name
	random := *ov.random
	var snap snapshot
	log := &undo.Log{} // what host functions the hooks and check call register (OnRollback)
	ctx = undo.With(ctx, log)
	// rollback puts back what the commit changed so far, outside the script and
	// in the old version, and returns err, the failure, with what the undoing
	// met.
	rollback := func(err error) error {
		err = log.Run(err)
		snap.restore()
		*ov.random = random
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			err = newError("reload", name, "", ErrRuntime, fmt.Sprintf("commit panicked: %v", r))
		}
		if err != nil {
			err = rollback(err)
			if up, ok := errors.AsType[*undo.Panicked](rep.SaveFailed); ok {
				// Gone on past on_save, whose undoing panicked: said with
				// the reload's error, as SaveFailed goes.
				err = undo.WithPanics(err, up.Panics)
			}
			rep.Saved, rep.Restored, rep.SaveFailed = false, false, nil
		}
		log.Close()
	}()
	*nv.random = random
	m := nv.match
	// Matched again if the live version changed since nv staged, or the match
	// needs its tables and had not read them, or what it read changed since.
	if m == nil || m.old != ov || m.contested || m.live != nil && !m.live.same(livePaths(ov, nil, m.live)) {
		m = matchCode(nil, ov, nv, nil, true)
	}
	nv.match = nil
	c := newCopier(ov, nv, m)
	rep.Carried = c.carry(m, ov, nv)
	h := hooksOf(ov, nv)
	if h.save != nil || c.shared && (h.restore != nil || check != nil) {
		// What runs from here can change the old version's tables: on_save
		// through its module, on_restore and check through old functions (or
		// userdata) carried in data fields. A failure must leave them as they
		// were. New code reaches them no other way: a carry of plain data
		// needs no snapshot.
		snap = takeSnapshot(ov.module, ov.L.G.Global)
	}
	// Gone on past on_save, rollback puts back what it changed before it failed,
	// before on_restore runs, for the old code the new version still reaches
	// (closures carried in data fields) to see the state as step 3 carried it,
	// and what the host functions it called changed.
	err = h.call(ctx, s, ov, nv, c, rep, rollback)
	if err == nil && check != nil {
		err = runCheck(ctx, name, ov, nv, check)
	}
	nv.oldCode = c.shared || len(c.closures) > 0
	return err
}

// LiveOnSave is the Function of the *Error of a reload whose live version's
// on_save failed (see Config.ReloadPastFailingOnSave): on_save is that of the
// version the reload replaces.
const LiveOnSave = "on_save of the live version"

// OnRollback registers f to run if the commit ctx comes from fails, and
// reports whether ctx comes from one: a HostFunc called by on_save, on_restore
// or a CheckFunc (through Version.CallJSON) changes what the program owns and
// registers how to put it back. The functions run, most recent first, as the
// old version's state is put back: when the commit fails, before the script's
// callers go on with the old version, and, under
// Config.ReloadPastFailingOnSave, those registered while a failing on_save ran,
// before on_restore runs. A panic in f is recovered and reported with the
// commit's error (or ReloadReport.SaveFailed). f runs with the script's
// callers held: it must not call, reload or unload the script, nor wait for
// what does. Outside a commit (in a chunk a HostFunc of the commit loads or
// stages: that script's load or reload is its own), or once it is over,
// OnRollback registers nothing and returns false. It is safe for
// concurrent use. (hotscript.OnRollback is the same, for every script of a
// Host.)
func OnRollback(ctx context.Context, f func()) bool { return undo.Add(ctx, f) }

// Committing reports whether ctx comes from a commit that is going on, where
// OnRollback registers: a HostFunc called on every frame can ask it first,
// and make its undo function (an allocation) only when it is true. Safe for
// concurrent use; hotscript.Committing is the same.
func Committing(ctx context.Context) bool { return undo.Open(ctx) }

// call runs the old on_save, copies what it returns in the copy c made of the
// fields (a table both reach is one table in the new version, holding what was
// carried; a reference to the old module is one to the new), then runs the new
// on_restore with it: step 2 of Commit (step 4 of the package doc's reload).
// An on_save that fails fails the reload, unless s goes on past it
// (Config.ReloadPastFailingOnSave) and ctx has not ended: undoSave then undoes
// what it did (and returns its error with what the undoing met), and on_restore
// gets nil.
func (h hookSet) call(ctx context.Context, s *script, ov, nv *version, c *copier, rep *ReloadReport, undoSave func(error) error) error {
	name := s.name
	var saved glua.LValue = glua.LNil
	if h.save != nil {
		ov.L.Push(h.save)
		if err := ov.pcall(ctx, 0, 1); err != nil {
			err := ov.fail(err, "reload", name, LiveOnSave)
			if !s.pastOnSave || ctx.Err() != nil {
				return err
			}
			rep.SaveFailed = undoSave(err)
		} else {
			saved, _ = c.value(ov.L.Get(-1))
			c.adopt()
			ov.L.Pop(1)
			rep.Saved = true
		}
	}
	c.protect()
	c.setPairsOrders() // of the tables on_save's result brought (see copier.pairsOrder)
	if h.restore == nil {
		return nil
	}
	nv.L.Push(h.restore)
	nv.L.Push(saved)
	if err := nv.pcall(ctx, 1, 0); err != nil {
		return nv.fail(err, "reload", name, "on_restore")
	}
	rep.Restored = true
	return nil
}

// Version is a staged version of a script as a CheckFunc sees it: its module
// already holds what the old version carried over. It is valid only until the
// CheckFunc returns, and only on that goroutine.
type Version struct {
	v      *version
	script string
	valid  bool
	err    error // the first call that failed as it ran (see Err)
}

// Script returns the script's name.
func (n *Version) Script() string { return n.script }

// Functions returns the sorted names of the version's functions.
func (n *Version) Functions() []string {
	_, funcs := moduleNames(n.v.module)
	return funcs
}

// CallJSON calls the version's function fn as Runtime.CallJSON calls the live
// one's, under the script's limits. After the CheckFunc returned it fails with
// ErrClosed.
func (n *Version) CallJSON(ctx context.Context, fn string, args ...any) (json.RawMessage, error) {
	if !n.valid {
		return nil, newError("call", n.script, fn, ErrClosed, "closed: the check it was given to has returned")
	}
	out, err := n.v.callJSON(ctx, n.script, fn, args)
	if err != nil && n.err == nil && failedRunning(err) {
		n.err = err
	}
	return out, err
}

// Err returns the error of the first call through this version, since the
// CheckFunc began or since ClearErr, that failed as it ran (a runtime error, a
// limit, its context's end), or nil. Such a call fails the commit even if the
// CheckFunc returns nil: it may have left the version's state half-changed. A
// call that did not run (no such function, arguments that do not convert) is
// not counted. As wasm.Instance.Err.
func (n *Version) Err() error { return n.err }

// ClearErr forgets the failed calls through this version so far, so that they
// do not fail the commit: for a CheckFunc that expects a call to fail, and whose
// version's state does not depend on what that call did.
func (n *Version) ClearErr() { n.err = nil }

// failedRunning reports whether err, a call's, says that it failed as it ran.
func failedRunning(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	return errors.Is(e.Kind, ErrRuntime) || errors.Is(e.Kind, ErrLimit) ||
		errors.Is(e.Kind, context.Canceled) || errors.Is(e.Kind, context.DeadlineExceeded)
}

// runCheck runs check on nv, turning a panic into an error. check's context is
// marked as the live version ov's host functions' are, so that what it does
// through the Runtime to the script it holds fails instead of waiting for it.
func runCheck(ctx context.Context, name string, ov, nv *version, check CheckFunc) (err error) {
	next := &Version{v: nv, script: name, valid: true}
	ctx, prev := ov.budget.guard.Enter(ctx)
	defer func() {
		ov.budget.guard.Leave(prev)
		next.valid = false
		if r := recover(); r != nil {
			err = &checkError{name, fmt.Errorf("panicked: %v", r)}
		}
	}()
	if err := check(ctx, next); err != nil {
		return &checkError{name, err}
	}
	if next.err != nil { // a call that failed, its error dropped
		return &checkError{name, fmt.Errorf("a call failed: %w", next.err)}
	}
	return nil
}

// hookSet is the hooks a reload from one version to the next runs: the old
// module's on_save and the new one's on_restore, each nil unless it is a
// function and the pair runs.
type hookSet struct {
	save, restore glua.LValue
}

// hooksOf finds the hooks of a reload from ov to nv: they run if the new module
// has on_save and on_restore, or the old one has on_save.
func hooksOf(ov, nv *version) hookSet {
	fn := func(m *glua.LTable, name string) glua.LValue {
		if v := orNil(m.RawGetString(name)); v.Type() == glua.LTFunction {
			return v
		}
		return nil
	}
	h := hookSet{save: fn(ov.module, "on_save"), restore: fn(nv.module, "on_restore")}
	if run := h.save != nil || fn(nv.module, "on_save") != nil && h.restore != nil; !run {
		h.restore = nil
	}
	return h
}

// Discard drops the staged version. It is idempotent, and a no-op after a
// Commit that took the version (one whose context ended waiting left it staged).
func (st *Staged) Discard(ctx context.Context) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.v != nil {
		st.v.L.Close()
		st.v = nil
	}
}

// ReloadScript replaces script id with src, carrying its state: Stage, then Commit.
// On any error (syntax, runtime error in the chunk or a hook, a limit, a chunk that
// returns a non-table) the old version stays live with exactly its state, and the
// error names the script and the line. A reload gone on past a failing on_save
// (Config.ReloadPastFailingOnSave) is logged on Config.Logger, at level Warn;
// Stage and Commit give its ReloadReport. ReloadScript is safe for concurrent use.
func (rt *Runtime) ReloadScript(ctx context.Context, id ScriptID, src []byte) error {
	st, err := rt.Stage(ctx, id, src)
	if err != nil {
		return err
	}
	rep, err := st.Commit(ctx)
	st.Discard(ctx) // a Commit whose wait ended keeps the version staged
	// The caller has no report to read it from: the log says it.
	if rep.SaveFailed != nil {
		rt.logger.Warn("reload went on past the live version's failing on_save", "script", rep.Script, "err", rep.SaveFailed)
	}
	return err
}
