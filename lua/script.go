package lua

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"

	"github.com/hotscript/hotscript/internal/clip"
	"github.com/hotscript/hotscript/internal/ctxlock"
	glua "github.com/hotscript/hotscript/internal/gopherlua"
	"github.com/hotscript/hotscript/internal/reentry"
	"github.com/hotscript/hotscript/internal/undo"
)

// script is one loaded script: its current version behind a mutex that serializes
// every use of that version's LState.
type script struct {
	id     ScriptID
	name   string
	limits Limits

	mu  ctxlock.Mutex
	cur *version // nil once unloaded
	// gen numbers the value of cur: 1 at load, one more at every commit and at unload.
	// A Func bound under one gen re-resolves its function when gen moves on.
	gen uint64
	// why is what ended the script once cur is nil: ErrNotFound for Unload,
	// ErrClosed for the runtime's Close.
	why error
	// guard is cur's, readable without mu by a call that finds the script busy
	// (see lock); nil once unloaded. next is that of the version a commit is
	// moving the state into while it holds mu (its hooks and check run host
	// functions too); nil otherwise.
	guard, next atomic.Pointer[reentry.Guard]
	// latest is cur, readable without mu by Stage, which matches the code of
	// the version it stages with it (see matchCode).
	latest atomic.Pointer[version]
	// compiles bounds the compiles of new versions of the script running on
	// goroutines of their own (see compileUntil): the one a reload waits for,
	// and one a newer reload gave up; a third waits for a place.
	compiles chan struct{}
	// pastOnSave is Config.ReloadPastFailingOnSave.
	pastOnSave bool
}

// setCur makes v the live version (nil: none). The caller holds s.mu, or is
// the only one to know s.
func (s *script) setCur(v *version) {
	if v != nil {
		v.locals = nil // live: see version.locals; before Stage can read v
	}
	s.cur = v
	s.latest.Store(v)
	if v == nil {
		s.guard.Store(nil)
	} else {
		s.guard.Store(&v.budget.guard)
	}
}

// lock locks s.mu for op (on function fn, if any), waiting for the call in
// progress until ctx ends (failing with ctx's error), unless ctx comes from a
// host function that call is running: then waiting would never end, and lock
// fails with ErrReentrant.
func (s *script) lock(ctx context.Context, op, fn string) error {
	if s.mu.TryLock() {
		return nil
	}
	return s.lockSlow(ctx, op, fn)
}

func (s *script) lockSlow(ctx context.Context, op, fn string) error {
	if err := s.reentered(ctx, op, fn); err != nil {
		return err
	}
	if reentry.Wait(ctx, [2]*reentry.Guard{s.guard.Load(), s.next.Load()}) {
		return s.failure(op, fn, ErrReentrant, "the script's call waits, through host functions, for this one")
	}
	err := s.mu.Lock(ctx)
	reentry.Done(ctx)
	if err != nil {
		return s.failure(op, fn, err, "")
	}
	return nil
}

// reentered is the error of op under ctx if ctx comes from a host function that
// the live version, or the version a commit is moving into, is running: op
// would wait for itself. Else nil.
func (s *script) reentered(ctx context.Context, op, fn string) error {
	for _, g := range [2]*reentry.Guard{s.guard.Load(), s.next.Load()} {
		if g != nil && g.Reentered(ctx) {
			return s.failure(op, fn, ErrReentrant, "")
		}
	}
	return nil
}

// failure is the error of op (on function fn, if any) on s; see newError.
func (s *script) failure(op, fn string, kind error, msg string) *Error {
	return newError(op, s.name, fn, kind, msg)
}

// version is one version of a script: a chunk run in its own LState, the module table
// it returned, and the budget installed on the LState during calls.
type version struct {
	L       *glua.LState
	module  *glua.LTable
	budget  *budget
	random  *rand.PCG   // math.random's generator, which a reload carries
	numbers numberBoxes // for Func.Call's arguments
	results resultBytes // for CallJSON's results

	installed bool // budget is the LState's context

	sites *sites     // where the chunk left the version's code
	match *codeMatch // a staged version's code matched with the live one's as it staged
	// locals are the chunk's top-level locals, by name (see returnLocals):
	// a root of its sites, held until it is committed, by which a reload
	// matches the old code with it. Then dropped: held, they would keep
	// code the script lets go of from the collector.
	locals *glua.LTable
	proto  *glua.FunctionProto // the chunk's, which names what a failed call called (see calledAt)
	// oldCode says that a reload carried code of an older version into this
	// one (closures in data, copied; Go functions and userdata, by
	// reference): code whose lines are not proto's, which calledAt could
	// not name from it.
	oldCode bool
}

// unload closes the script's live version; why (ErrNotFound or ErrClosed) is
// what later calls that already hold the script report.
func (s *script) unload(why error) {
	s.mu.Lock(context.Background())
	defer s.mu.Unlock()
	if s.cur != nil {
		s.cur.L.Close()
		s.setCur(nil)
		s.gen++
		s.why = why
	}
}

// live returns the current version; the caller holds s.mu.
func (s *script) live(op, fn string) (*version, error) {
	if s.cur == nil {
		return nil, s.gone(op, fn)
	}
	return s.cur, nil
}

// gone is the error of op (on function fn, if any) on a script that was
// unloaded, or whose runtime was closed. The caller holds s.mu.
func (s *script) gone(op, fn string) error {
	why := s.why
	if why == nil {
		why = ErrNotFound
	}
	return s.failure(op, fn, why, "")
}

// LoadScript compiles src, runs it in a new sandboxed LState and keeps the module
// table it returns, with the Runtime's default limits. It is Load with nil options,
// and safe for concurrent use.
func (rt *Runtime) LoadScript(ctx context.Context, name string, src []byte) (ScriptID, error) {
	return rt.Load(ctx, name, src, nil)
}

// Load compiles src as a script named name (the name errors and tracebacks show),
// runs the chunk under the script's limits, and keeps the table it returns as the
// script's module. The chunk must return a table (ErrNotTable). A UTF-8 byte
// order mark that src begins with is skipped, as Lua's loadfile skips it, and so
// is a first line starting with # (#!/usr/bin/env lua), its line number kept. A chunk whose
// statements and expressions nest more than 5,000 levels deep fails to compile
// (ErrCompile; redundant parentheses, which the parser drops, do not count). Load stops when ctx ends, with an error matching ctx's, even
// while gopher-lua compiles, which it cannot interrupt and which takes time that
// grows with the square of the distinct constants in one function (Load builds
// large tables of literals, and runs long runs of assignments and calls, in
// pieces, so that data files compile in time that grows with their size, but an
// if-elseif chain of thousands of cases takes seconds): the compile is then left
// to finish on a goroutine of its own, where it holds up the next loads of the
// same name (two compiles of a name run at a time), not those of other names.
// The same holds for Stage and ReloadScript, per script. Load is safe
// for concurrent use; it fixes the host functions (see Define).
func (rt *Runtime) Load(ctx context.Context, name string, src []byte, opts *ScriptOptions) (ScriptID, error) {
	s := &script{name: name, limits: rt.cfg.Limits, gen: 1, compiles: make(chan struct{}, 2),
		pastOnSave: rt.cfg.ReloadPastFailingOnSave}
	if opts != nil && opts.Limits != nil {
		s.limits = *opts.Limits
	}
	v, err := rt.build(ctx, "load", s, src)
	if err != nil {
		return 0, err
	}
	s.setCur(v)
	if err := rt.add(s); err != nil {
		v.L.Close()
		return 0, newError("load", name, "", err, "")
	}
	return s.id, nil
}

// utf8BOM is the UTF-8 encoding of U+FEFF, the byte order mark.
var utf8BOM = []byte("\xEF\xBB\xBF")

// build compiles src and runs it in a new version of s. Nothing it does touches the
// script's current version.
func (rt *Runtime) build(ctx context.Context, op string, s *script, src []byte) (_ *version, err error) {
	// From a commit (a HostFunc of its hooks loading or staging a script): the
	// chunk's host functions are not the commit's (see OnRollback).
	ctx = undo.Without(ctx)
	hosts, err := rt.hostFuncs(op != "inspect")
	if err != nil {
		return nil, s.failure(op, "", err, "")
	}
	// Bounded, so that reloads given up as newer ones come (each save of a
	// file that compiles for seconds) do not pile up compiles: per script for
	// reloads, per name for loads and inspections, whose script is new each
	// time.
	sl := slot{places: s.compiles}
	if op == "load" || op == "inspect" {
		sl = rt.loads.get(s.name)
	}
	// A byte order mark (an editor's "UTF-8 with BOM") is no Lua, nor is a
	// first line starting with # (#!/usr/bin/env lua): skipped, as Lua's own
	// loadfile skips them (the mark since 5.2), the line's newline kept so
	// that lines keep their numbers.
	src = bytes.TrimPrefix(src, utf8BOM)
	if bytes.HasPrefix(src, []byte("#")) {
		line, _, _ := bytes.Cut(src, []byte("\n"))
		src = src[len(line):]
	}
	proto, err := compileUntil(ctx, s.name, string(src), chunkKind{varargs: s.limits.MaxInstructions > 0, module: true}, sl)
	if err != nil {
		err.(*Error).Op = op
		return nil, err
	}
	b := &budget{limits: s.limits, free: !s.limits.set(), closing: &rt.closing}
	v := &version{budget: b}
	defer func() { // library setup runs Lua calls outside a pcall
		if r := recover(); r != nil {
			err = &Error{Op: op, Script: s.name, Message: fmt.Sprint(r), Kind: ErrRuntime}
		}
		if err != nil && v.L != nil {
			v.L.Close()
		}
	}()
	v.L, v.random = rt.newState(s.name, b, hosts)
	b.L = v.L
	v.L.Push(chunkFunction(v.L, proto))
	v.proto = proto
	undo := b.forSetup()
	nret := 1
	if returnsLocals(proto) {
		nret = 2
	}
	err = v.pcall(ctx, 0, nret)
	undo()
	if err != nil {
		return nil, v.fail(err, op, s.name, "main chunk")
	}
	if nret == 2 {
		v.locals, _ = v.L.Get(-1).(*glua.LTable)
		v.L.Pop(1)
	}
	ret := orNil(v.L.Get(-1))
	v.L.Pop(1)
	t, ok := ret.(*glua.LTable)
	if !ok {
		return nil, &Error{Op: op, Script: s.name, Function: "main chunk", Kind: ErrNotTable,
			Message: fmt.Sprintf("%s: the chunk returned %s, want the module table", s.name, ret.Type())}
	}
	v.module = t
	if op != "inspect" { // a version a reload may carry from or into
		if v.sites, err = findSites(ctx, t, v.L.G.Global, v.locals); err != nil {
			return nil, &Error{Op: op, Script: s.name, Kind: err, Message: fmt.Sprintf("%s: stopped: %v", s.name, err)}
		}
	}
	return v, nil
}

// pcall calls the function below the nargs arguments on top of v's stack, under a
// fresh budget for ctx. Results are left on the stack as PCall leaves them. The
// budget is the LState's context only while a call needs it (see budget.begin).
//
// A call during which a limit was hit fails even if Lua code caught the error: a
// tail call such as "return pcall(f)" or "return coroutine.resume(co)" returns
// without another instruction that would raise it again.
func (v *version) pcall(ctx context.Context, nargs, nret int) error {
	b := v.budget
	if !b.begin(ctx) { // no budget to enforce, so none can trip
		if v.installed {
			v.L.RemoveContext()
			v.installed = false
		}
		err := v.L.PCall(nargs, nret, nil)
		b.end()
		return err
	}
	base := v.L.GetTop() - nargs - 1
	if !v.installed {
		v.L.SetContext(b)
		v.installed = true
	}
	err := v.L.PCall(nargs, nret, nil)
	b.end()
	if err == nil && b.tripped != nil {
		v.L.SetTop(base)
		err = fmt.Errorf("%s (raised, then caught by the script)", b.Err())
	}
	return err
}

// fail turns an error from pcall into an *Error: its kind is the limit that ended the
// call, if one did, else ErrRuntime.
func (v *version) fail(err error, op, script, function string) *Error {
	var api *glua.ApiError
	if errors.As(err, &api) {
		api.Object = orNil(api.Object) // error() of a Go nil, which has no String
	}
	e := &Error{Op: op, Script: script, Function: function, Kind: ErrRuntime, Message: err.Error()}
	if v.budget.tripped != nil {
		e.Kind = v.budget.tripped
	}
	if api != nil {
		e.Message = errorText(api.Object)
		e.Traceback = api.StackTrace
		if function != "main chunk" { // gopher-lua names the bottom frame so whatever it is
			if i := strings.LastIndex(e.Traceback, "in main chunk"); i >= 0 {
				e.Traceback = e.Traceback[:i] + "in function '" + function + "'" + e.Traceback[i+len("in main chunk"):]
			}
		}
	}
	if e.Line = lineOf(script, e.Message); e.Line == 0 {
		e.Line = lineInTrace(script, e.Traceback) // error({...}), error(msg, 0): where it was raised
	}
	if e.Line > 0 && v.proto != nil && !v.oldCode && strings.HasSuffix(e.Message, callFailure) {
		if what := calledAt(v.proto, e.Line, v.L.G.Global); what != "" {
			e.Message += " (" + what + ")"
		}
	}
	e.Message = clip.String(e.Message, maxMessage)
	return e
}

// errorText is the message of a Lua error value: a string or number as Lua
// prints it, a table of data as its JSON (error({code = 5}) says
// {"code":5}, where its address would say nothing), anything else (a table
// holding functions or cycles, or one too large) as Lua prints it, with what
// it is. A __tostring metamethod is not run: the call that raised the value
// is over, and formatting its error runs no more of the script.
func errorText(lv glua.LValue) string {
	t, ok := lv.(*glua.LTable)
	if !ok {
		return lv.String()
	}
	entries := maxMessage / 4 // each takes 4 bytes of JSON at least ("1,2,", "[{},")
	if fewEntries(t, &entries) {
		w := walker{limit: maxMessage}
		if buf, err := w.appendJSON(nil, t); err == nil {
			return string(buf)
		}
	}
	return t.String() + " (an error value that is a table, not of data, or too large to show)"
}

// fewEntries reports whether the tables t holds, t included, have no more than
// *n entries together, counting them down in *n and stopping as it runs out:
// a script raising a table of a million entries does not have the walker list
// and sort its keys at every failing call.
func fewEntries(t *glua.LTable, n *int) bool {
	for k, v := t.Next(glua.LNil); k != glua.LNil; k, v = t.Next(k) {
		if *n--; *n < 0 {
			return false
		}
		if sub, ok := v.(*glua.LTable); ok && !fewEntries(sub, n) {
			return false
		}
	}
	return true
}

// maxMessage is the longest message of an error fail makes, in bytes: a
// script's error value, or gopher-lua's message quoting a key of megabytes
// ("attempt to index a non-table object(nil) with key '...'"), is cut.
const maxMessage = 4 << 10

// get reads module[key] like Lua would, __index included. A metamethod runs
// protected, under a budget for ctx.
func (v *version) get(ctx context.Context, op, script, key string) (glua.LValue, error) {
	if lv := orNil(v.module.RawGetString(key)); lv != glua.LNil || v.module.Metatable == glua.LNil {
		return lv, nil
	}
	L := v.L
	L.Push(L.NewFunction(func(L *glua.LState) int {
		L.Push(L.GetField(v.module, key))
		return 1
	}))
	if err := v.pcall(ctx, 0, 1); err != nil {
		return glua.LNil, v.fail(err, op, script, key)
	}
	lv := L.Get(-1)
	L.Pop(1)
	return lv, nil
}
