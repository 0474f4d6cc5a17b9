package lua

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/hotscript/hotscript/internal/clip"
	glua "github.com/hotscript/hotscript/internal/gopherlua"
	"github.com/hotscript/hotscript/internal/gopherlua/ast"
	"github.com/hotscript/hotscript/internal/gopherlua/parse"
)

// concatName is the name the compiler gives the .. operator. The VM's own OP_CONCAT
// builds its string in one uninterruptible step (s = s .. s doubles a string per
// instruction: 30 instructions make 1 GiB), so every a .. b .. c in a chunk is
// rewritten to a call concat(a, b, c) of capConcat (caps.go), which charges what it
// builds. The name is not a Lua identifier: scripts cannot name it in source. A chunk
// gets capConcat as an argument (see takeCapped), into a local of that name which its
// functions share as an upvalue.
const concatName = ".."

// varargsName is the name the compiler gives the function that every ... expanding
// to all its values (the last argument of a call, the last item of a table
// constructor, the last value returned) is routed through: the VM's OP_VARARG
// copies them all in one instruction, up to 256 Ki values, and a function given
// many values once (f(unpack(t))) could copy them again at each step of a loop
// (select("#", ...)), uncounted. capVarargs (caps.go) charges one unit per
// value, as unpack does. A ... adjusted to a fixed number of values (local a, b
// = ..., or (...)) copies only those, and is left alone. The name is not a Lua
// identifier, as concatName. Only a script with MaxInstructions is compiled so:
// the extra call costs a tiny wrapper (return f(...)) half its time again, and
// MaxExecutionTime, which reads the clock more often while instructions run
// slow, bounds such copies without it.
const varargsName = "(...)"

// appendName is the name the compiler gives the function that stores the
// values of a call or ... ending a table constructor that gopher-lua's compiler
// would store wrong (see appendLast): appendValues (caps.go). The name is not
// a Lua identifier, as concatName.
const appendName = "{...}"

// compileChunk parses and compiles src as a chunk named name (the name errors and
// tracebacks show), with the .. operator routed through the capped concat and,
// if varargs, ... through the charged varargs: make its function with chunkFunction,
// which hands it those. A failure
// is an *Error of kind ErrCompile with the line and a Lua-style message
// ("enemy.lua:3: syntax error near 'end'"); its Op is left for the caller.
func compileChunk(name, src string, kind chunkKind) (proto *glua.FunctionProto, err error) {
	defer func() { // a token of megabytes is quoted whole
		if e, ok := err.(*Error); ok {
			e.Message = clip.String(e.Message, maxMessage)
		}
	}()
	chunk, perr := parse.Parse(strings.NewReader(src), name)
	if perr != nil {
		return nil, syntaxError(name, src, perr)
	}
	r := concatRewriter{chargeVarargs: kind.varargs}
	r.chunk(chunk)
	if r.deepLine > 0 {
		return nil, &Error{Script: name, Line: r.deepLine, Kind: ErrCompile,
			Message: fmt.Sprintf("%s:%d: chunk has too many syntax levels (more than %d)", name, r.deepLine, maxSyntaxDepth)}
	}
	if r.malformed {
		num, at := malformedNumber(name, src)
		return nil, malformedError(name, num, at)
	}
	chunk = splitConstants(chunk)
	if kind.module {
		chunk = returnLocals(chunk)
	}
	if r.concat || r.varargs || r.appends {
		chunk = takeCapped(chunk)
	}
	defer func() { // Compile re-panics anything that is not a *CompileError
		if r := recover(); r != nil {
			proto, err = nil, &Error{Script: name, Message: fmt.Sprint(r), Kind: ErrCompile}
		}
	}()
	proto, cerr := glua.Compile(chunk, name)
	if cerr != nil {
		if kind.module { // perhaps the locals' table, past 200 registers (helper-217): without it
			return compileChunk(name, src, chunkKind{varargs: kind.varargs})
		}
		return nil, syntaxError(name, src, cerr)
	}
	cutCallNames(proto)
	eachProto(proto, trimProto)
	return proto, nil
}

// eachProto calls fn with proto and each function prototype inside it.
func eachProto(proto *glua.FunctionProto, fn func(*glua.FunctionProto)) {
	for protos := []*glua.FunctionProto{proto}; len(protos) > 0; {
		p := protos[len(protos)-1]
		protos = append(protos[:len(protos)-1], p.FunctionPrototypes...)
		fn(p)
	}
}

// trimProto copies p's slices to their length: gopher-lua's compiler gives
// each function slices of buffers of about a thousand instructions and as
// many lines, which a loaded script would keep, about 17 KB a function
// (helper-227: 20 scripts of 200 one-line functions held 75 MB, 5 trimmed).
func trimProto(p *glua.FunctionProto) {
	p.Code, p.DbgSourcePositions = trimmed(p.Code), trimmed(p.DbgSourcePositions)
	p.Constants, p.FunctionPrototypes = trimmed(p.Constants), trimmed(p.FunctionPrototypes)
	p.DbgLocals, p.DbgCalls = trimmed(p.DbgLocals), trimmed(p.DbgCalls)
	p.DbgUpvalues = trimmed(p.DbgUpvalues)
}

// trimmed returns s, or a copy of it if its capacity is far past its length.
func trimmed[S ~[]E, E any](s S) S {
	if cap(s) > 2*len(s)+8 {
		return slices.Clone(s)
	}
	return s
}

// chunkKind says how compileChunk compiles a chunk: with ... charged (varargs:
// the script has an instruction budget), and as a script's module chunk,
// which returns its locals too (see returnLocals), or as one the script loads.
type chunkKind struct{ varargs, module bool }

// localsName names the table of a module chunk's locals (see returnLocals): no
// script can name it.
const localsName = "(locals)"

// returnLocals makes a module chunk whose last statement returns one value
// return, second, a table of the locals its top level declared before that,
// by name (local Idle = {}, local function new): the homes of the chunk's
// code, which a reload matches it by (see sites), those of code no path from
// the module reaches but through other code too. A local that names what
// another does (local Default = Sword, local Enemy = M.Enemy) is no home, and
// nor is one the chunk assigns anywhere (local current = {}, then current =
// Walk): the table says what each held as the chunk returned. A chunk that
// returns otherwise (several values, a call's, ..., or from inside a block) is
// left as it is, and so is one that the table takes past gopher-lua's 200
// registers (compileChunk compiles it again without).
func returnLocals(chunk []ast.Stmt) []ast.Stmt {
	if len(chunk) == 0 {
		return chunk
	}
	ret, ok := chunk[len(chunk)-1].(*ast.ReturnStmt)
	if !ok || len(ret.Exprs) != 1 {
		return chunk
	}
	switch ret.Exprs[0].(type) {
	case *ast.FuncCallExpr, *ast.Comma3Expr: // a tail call, and ..., stay what they are (helper-218)
		return chunk
	}
	line := ret.Line()
	home := map[string]bool{} // by name, as its last declaration
	var names []string        // in the order first declared
	for _, s := range chunk {
		l, ok := s.(*ast.LocalAssignStmt)
		if !ok {
			continue
		}
		for i, name := range l.Names {
			if _, ok := home[name]; !ok {
				names = append(names, name)
			}
			home[name] = true
			if i < len(l.Exprs) {
				switch l.Exprs[i].(type) {
				case *ast.IdentExpr, *ast.AttrGetExpr:
					home[name] = false
				}
			}
		}
	}
	assigned := assignedNames(chunk)
	locals := &ast.TableExpr{}
	for _, name := range names {
		if home[name] && !assigned[name] {
			locals.Fields = append(locals.Fields, &ast.Field{Key: at(line, &ast.StringExpr{Value: name}), Value: at(line, &ast.IdentExpr{Value: name})})
		}
	}
	take := atStmt(line, &ast.LocalAssignStmt{Names: []string{localsName}, Exprs: []ast.Expr{at(line, locals)}})
	ret.Exprs = append(ret.Exprs, at(line, &ast.IdentExpr{Value: localsName}))
	return append(chunk[:len(chunk)-1:len(chunk)-1], take, ret)
}

// assignedNames returns the names of the top level's locals (or globals)
// that an assignment anywhere in stmts, in the functions it defines too,
// gives a value to (x = 1, function x() end), not counting one to a parameter,
// a loop's variable or a local of an inner block of that name (helper-218: a
// parameter's x = x or default dropped the top level's x).
func assignedNames(stmts []ast.Stmt) map[string]bool {
	out := map[string]bool{}
	var scopes [][]string // the names inner scopes declare, innermost last
	assign := func(e ast.Expr) {
		id, ok := e.(*ast.IdentExpr)
		if !ok {
			return
		}
		for _, sc := range scopes {
			if slices.Contains(sc, id.Value) {
				return
			}
		}
		out[id.Value] = true
	}
	var stmt func(ast.Stmt)
	var expr func(*ast.Expr)
	scoped := func(names []string, list []ast.Stmt) {
		scopes = append(scopes, slices.Clip(names)) // an inner local appends a copy
		for _, s := range list {
			stmt(s)
		}
		scopes = scopes[:len(scopes)-1]
	}
	block := func(list *[]ast.Stmt) { scoped(nil, *list) }
	fn := func(f *ast.FunctionExpr, method bool) {
		var names []string
		if f.ParList != nil {
			names = f.ParList.Names
		}
		if method {
			names = append(slices.Clip(names), "self")
		}
		scoped(names, f.Stmts)
	}
	expr = func(p *ast.Expr) {
		switch e := (*p).(type) {
		case nil:
			return
		case *ast.FunctionExpr:
			fn(e, false)
			return
		}
		exprSlots(*p, expr)
	}
	stmt = func(s ast.Stmt) {
		switch s := s.(type) {
		case *ast.AssignStmt:
			for _, l := range s.Lhs {
				assign(l)
			}
		case *ast.FuncDefStmt:
			assign(s.Name.Func)
		case *ast.LocalAssignStmt:
			for i := range s.Exprs {
				expr(&s.Exprs[i])
			}
			if len(scopes) > 0 { // an inner local: shadows from here on
				scopes[len(scopes)-1] = append(scopes[len(scopes)-1], s.Names...)
			}
			return
		case *ast.NumberForStmt:
			expr(&s.Init)
			expr(&s.Limit)
			expr(&s.Step)
			scoped([]string{s.Name}, s.Stmts)
			return
		case *ast.GenericForStmt:
			for i := range s.Exprs {
				expr(&s.Exprs[i])
			}
			scoped(s.Names, s.Stmts)
			return
		}
		stmtSlots(s, expr, block, fn)
	}
	for _, s := range stmts { // the top level: its locals are what is assigned
		stmt(s)
	}
	return out
}

// returnsLocals reports whether compileChunk compiled proto with
// returnLocals: its chunk has a local named localsName.
func returnsLocals(proto *glua.FunctionProto) bool {
	if tookCapped(proto) && len(proto.FunctionPrototypes) > 0 {
		proto = proto.FunctionPrototypes[0]
	}
	return slices.ContainsFunc(proto.DbgLocals, func(l *glua.DbgLocalInfo) bool { return l.Name == localsName })
}

// takeCapped wraps a chunk that calls concatName, varargsName or appendName in
// a function that takes capConcat, capVarargs and appendValues as arguments,
// into locals of those names, and returns the chunk as a function:
// chunkFunction calls it. Were they globals the chunk reads, a script could
// replace them (_G[".."] = f, with rawset if need be) and run the chunks it
// loads uncharged.
func takeCapped(chunk []ast.Stmt) []ast.Stmt {
	first, last := 0, 0
	if len(chunk) > 0 {
		first, last = chunk[0].Line(), chunk[len(chunk)-1].LastLine()
	}
	args := &ast.Comma3Expr{}
	take := &ast.LocalAssignStmt{Names: []string{concatName, varargsName, appendName}, Exprs: []ast.Expr{args}}
	fn := &ast.FunctionExpr{ParList: &ast.ParList{HasVargs: true}, Stmts: chunk}
	ret := &ast.ReturnStmt{Exprs: []ast.Expr{fn}}
	for _, n := range []interface {
		SetLine(int)
		SetLastLine(int)
	}{args, take, fn, ret} {
		n.SetLine(first)
		n.SetLastLine(last)
	}
	fn.SetLine(0) // as gopher-lua's own chunk function: LineDefined 0
	return []ast.Stmt{take, ret}
}

// tookCapped reports whether compileChunk compiled proto with takeCapped: its
// first local is named concatName, which no script can name.
func tookCapped(proto *glua.FunctionProto) bool {
	return len(proto.DbgLocals) > 0 && proto.DbgLocals[0].Name == concatName
}

// chunkFunction makes the function of a chunk compiled by compileChunk, in L's
// environment. For a chunk that takeCapped wrapped, it runs the wrapper, which
// cannot fail but by a limit or L's context, which it raises as a Lua error.
func chunkFunction(L *glua.LState, proto *glua.FunctionProto) *glua.LFunction {
	fn := L.NewFunctionFromProto(proto)
	if !tookCapped(proto) {
		return fn
	}
	L.Push(fn)
	L.Push(L.NewFunction(capConcat))
	L.Push(L.NewFunction(capVarargs))
	L.Push(L.NewFunction(appendValues))
	L.Call(3, 1)
	fn = L.Get(-1).(*glua.LFunction)
	L.Pop(1)
	return fn
}

// compileUntil is compileChunk that gives up when ctx ends. gopher-lua's compiler
// cannot be interrupted, and its time grows with the square of the distinct
// constants in one function (it looks each constant up in a list; see
// splitConstants for the tables of data), so with a ctx that can end, a
// chunk of compileInPlace bytes or more compiles on a goroutine of its own, which,
// if ctx ends first, is left to finish in the background and its result dropped.
// A smaller chunk compiles in place (4 KiB compile in 5 ms at worst). The error of
// a compile given up is an *Error of ctx's error's kind.
//
// sl bounds the compiles of one caller on goroutines of their own to the
// capacity of its places (none if nil): a compile waits for a free place, given
// up like the compile when ctx ends first, so that a script that loads a huge
// chunk every frame under a short time limit cannot pile up goroutines that each
// compile for seconds (nor make other scripts' compiles, which have places of
// their own, wait).
func compileUntil(ctx context.Context, name, src string, kind chunkKind, sl slot) (*glua.FunctionProto, error) {
	if ctx.Done() == nil || len(src) < compileInPlace {
		sl.release()
		return compileChunk(name, src, kind)
	}
	if ctx.Err() != nil {
		sl.release()
		return nil, compileStopped(ctx, name, "compiling")
	}
	if sl.places != nil {
		select {
		case sl.places <- struct{}{}:
		case <-ctx.Done():
			sl.release()
			return nil, compileStopped(ctx, name, "waiting for an earlier compile of it to end")
		}
	}
	type compiled struct {
		proto *glua.FunctionProto
		err   error
	}
	done := make(chan compiled, 1)
	compile := backgroundCompile
	go func() {
		defer sl.release()
		if sl.places != nil {
			defer func() { <-sl.places }()
		}
		proto, err := compile(name, src, kind)
		done <- compiled{proto, err}
	}()
	select {
	case c := <-done:
		return c.proto, c.err
	case <-ctx.Done():
		return nil, compileStopped(ctx, name, "compiling")
	}
}

// slot is what bounds a caller's compiles on goroutines of their own (see
// compileUntil): a place in places for each, and done, if not nil, called once
// the compile needs it no more (its place given back, or none taken).
type slot struct {
	places chan struct{}
	done   func()
}

func (sl slot) release() {
	if sl.done != nil {
		sl.done()
	}
}

// namedSlots gives the slots of the loads (and inspections) of scripts by
// name, each with two places: a load given up while gopher-lua compiles for
// seconds, which it cannot stop, holds up the next loads of its name, not those
// of other scripts. A name's slot goes once no compile uses it.
type namedSlots struct {
	mu sync.Mutex
	m  map[string]*namedSlot
}

type namedSlot struct {
	places chan struct{}
	users  int
}

// get returns the slot of name, for one compile.
func (ns *namedSlots) get(name string) slot {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	s := ns.m[name]
	if s == nil {
		if ns.m == nil {
			ns.m = map[string]*namedSlot{}
		}
		s = &namedSlot{places: make(chan struct{}, 2)}
		ns.m[name] = s
	}
	s.users++
	var once sync.Once
	return slot{places: s.places, done: func() {
		once.Do(func() {
			ns.mu.Lock()
			defer ns.mu.Unlock()
			if s.users--; s.users == 0 {
				delete(ns.m, name)
			}
		})
	}}
}

// compileStopped is the error of a compile ctx stopped while it was doing
// what: the message says what ended the wait as the kind does (ctx.Err); a
// caller that knows why (context.Cause) says it in front.
func compileStopped(ctx context.Context, name, doing string) error {
	return &Error{Script: name, Kind: ctx.Err(), Message: fmt.Sprintf("%s: %s stopped: %v", name, doing, ctx.Err())}
}

// compileInPlace is the size from which compileUntil compiles on a goroutine of
// its own; a variable so that tests can put small chunks there.
var compileInPlace = 4 << 10

// backgroundCompile is what compileUntil runs on its goroutine: compileChunk; a
// variable so that tests can make a compile take as long as they need.
var backgroundCompile = compileChunk

func syntaxError(name, src string, err error) *Error {
	e := &Error{Script: name, Message: err.Error(), Kind: ErrCompile}
	var perr *parse.Error
	var cerr *glua.CompileError
	switch {
	case errors.As(err, &perr):
		// The lexer takes the character after a number's e (1e}), so what
		// is wrong is a malformed number before the parser sees it.
		if num, at := malformedNumber(name, src); num != "" && (perr.Pos.Line == parse.EOF || at.Line < perr.Pos.Line ||
			at.Line == perr.Pos.Line && at.Column < perr.Pos.Column) {
			return malformedError(name, num, at)
		}
		if perr.Pos.Line == parse.EOF {
			e.Line = strings.Count(strings.TrimRight(src, "\n"), "\n") + 1
			e.Message = fmt.Sprintf("%s:%d: %s at end of file", name, e.Line, perr.Message)
			break
		}
		e.Line = perr.Pos.Line
		e.Message = fmt.Sprintf("%s:%d: %s near '%s'", name, e.Line, perr.Message, perr.Token)
	case errors.As(err, &cerr) && cerr.Line > 0:
		e.Line = cerr.Line
		e.Message = fmt.Sprintf("%s:%d: %s", name, e.Line, cerr.Message)
	case errors.As(err, &cerr): // gopher-lua gave no line (a register overflow)
		e.Message = fmt.Sprintf("%s: %s", name, cerr.Message)
	}
	return e
}

// malformedNumber returns the first number of src, as gopher-lua's lexer reads
// them, that is no number (see numeral), as Lua 5.1 names it (numeralText),
// and where it is; "" if there is none before the lexer fails.
func malformedNumber(name, src string) (string, ast.Position) {
	sc := parse.NewScanner(strings.NewReader(src), name)
	for {
		tok, err := sc.Scan(&parse.Lexer{})
		if err != nil || tok.Type < 0 { // an error, or the end
			return "", ast.Position{}
		}
		if _, ok := numeral(tok.Str); tok.Type == parse.TNumber && !ok {
			return numeralText(tok.Str), tok.Pos
		}
	}
}

// malformedError is the error of the malformed number num at at in script name.
func malformedError(name, num string, at ast.Position) *Error {
	return &Error{Script: name, Line: at.Line, Kind: ErrCompile,
		Message: fmt.Sprintf("%s:%d: malformed number near '%s'", name, at.Line, num)}
}

// numeralText is the start of tok, a number gopher-lua's lexer took, that Lua
// 5.1's would take: digits and dots, an exponent's e and sign, then letters,
// digits and _. gopher-lua's takes the character after an e whatever it is
// (1e; 1e} 1e and the end of the file).
func numeralText(tok string) string {
	i := 0
	for i < len(tok) && (tok[i] >= '0' && tok[i] <= '9' || tok[i] == '.') {
		i++
	}
	if i < len(tok) && (tok[i] == 'e' || tok[i] == 'E') {
		i++
		if i < len(tok) && (tok[i] == '+' || tok[i] == '-') {
			i++
		}
	}
	for i < len(tok) && (tok[i] >= '0' && tok[i] <= '9' || tok[i] >= 'a' && tok[i] <= 'z' || tok[i] >= 'A' && tok[i] <= 'Z' || tok[i] == '_') {
		i++
	}
	return tok[:i]
}

// maxSyntaxDepth bounds how deeply statements and expressions nest in a chunk.
// gopher-lua compiles the syntax tree recursively, about a kilobyte of Go stack
// per level, and Go stops a goroutine whose stack passes 1 GB by killing the
// process, so a chunk of a million nested tables (two megabytes of "{") would
// take the host down. Lua 5.1 itself allows 200 levels; this allows far more,
// since gopher-lua's tree also nests a long a + b + c chain one level per
// operator (generated code may sum thousands of terms), but not so many that
// gopher-lua's compile time, quadratic in such a chain, passes a fraction of a
// second: 5,000 terms compile in about 0.3 s, 10,000 in 1.1 s.
const maxSyntaxDepth = 5000

// concatRewriter replaces every .. expression of a chunk with a call of
// concatName, and every ... that expands to all its values with a call of
// varargsName, mends table constructors gopher-lua's compiler would store
// wrong (see hoistKeyed, listAsKeys, appendLast), writes each number literal
// as its numeral (noting the first malformed one), and finds the first
// statement or expression that nests deeper than maxSyntaxDepth, leaving what
// is below it alone.
type concatRewriter struct {
	chargeVarargs bool // route ... through varargsName
	concat        bool // a call of concatName was made
	varargs       bool // a call of varargsName was made
	appends       bool // a call of appendName was made
	depth         int
	deepLine      int  // the line of that statement or expression; 0 if none
	malformed     bool // a number literal is no number (see numeral)

	// scopes are the locals declared in the blocks the walk is in, innermost
	// last; a function's first scope starts a function (see isLocal).
	scopes []scope
}

// scope is the locals a block declares, and whether it is a function's own.
type scope struct {
	names []string
	fn    bool
}

// chunk rewrites a chunk, the main function.
func (r *concatRewriter) chunk(list []ast.Stmt) { r.scoped(true, nil, list) }

// scoped rewrites list, a block declaring names (a function's parameters, a
// loop's variables) and then its own locals.
func (r *concatRewriter) scoped(fn bool, names []string, list []ast.Stmt) {
	r.scopes = append(r.scopes, scope{names: slices.Clone(names), fn: fn})
	r.stmts(list)
	r.scopes = r.scopes[:len(r.scopes)-1]
}

// function rewrites the body of f, a method's if method.
func (r *concatRewriter) function(f *ast.FunctionExpr, method bool) {
	var names []string
	if f.ParList != nil {
		names = slices.Clone(f.ParList.Names)
		if f.ParList.HasVargs {
			names = append(names, "arg") // gopher-lua's CompatVarArg
		}
	}
	if method {
		names = append(names, "self")
	}
	r.scoped(true, names, f.Stmts)
}

// isLocal reports whether name is a local of the function the walk is in (not
// an upvalue or a global) where it is.
func (r *concatRewriter) isLocal(name string) bool {
	for i := len(r.scopes) - 1; i >= 0; i-- {
		if slices.Contains(r.scopes[i].names, name) {
			return true
		}
		if r.scopes[i].fn {
			return false
		}
	}
	return false
}

// enter goes one level down to a node on line, or reports that it is too deep.
func (r *concatRewriter) enter(line int) bool {
	r.depth++
	if r.depth <= maxSyntaxDepth {
		return true
	}
	if r.deepLine == 0 {
		r.deepLine = max(line, 1)
	}
	return false
}

func (r *concatRewriter) stmts(list []ast.Stmt) {
	for i, s := range list {
		r.stmt(s)
		if a, ok := s.(*ast.AssignStmt); ok && len(a.Lhs) > 1 {
			list[i] = assignInOrder(a, r.isLocal)
		}
	}
}

// assignInOrder rewrites a, an assignment of several targets, into locals and
// assignments of one target each, as Lua 5.1 runs it: the tables and keys of
// the targets, then the values, are computed first, left to right (a target's
// table before its key), into locals no script can name; then each target is
// assigned its value, the last first. gopher-lua's compiler computed a value
// into a local target's register while a later value still had to read that
// local (a, b = b, a gave 2, 2; yuin/gopher-lua#440), and a field target's
// store read a key or a value from a register another target's had taken
// (local x, z = 11, 33; G, t[1] = x, z set G to 1; helper-256).
//
// A table or key that is a constant, or a local of the function (isLocal), is
// read where it is stored instead, as 5.1 reads a local: it copies one only
// when a later target assigns it, as it reads that target (lparser.c's
// check_conflict), so that in i, t[i] = f(), 20, where f changes i, t[i] is
// the new i's (helper-258), and in t[i], g().x, i = ..., where g changes i,
// t[i] is the i g left. A global or an upvalue is read first, into a local
// that the targets after it share until one computes something that may
// change it (a call), so that the locals the rewrite declares, which gopher-lua
// holds to 200 a function, are few more than the values (helper-257: 100 field
// targets). The block it returns is recognised by its first local's name,
// assignedFirst (see movable).
func assignInOrder(a *ast.AssignStmt, isLocal func(string) bool) ast.Stmt {
	line := a.Line()
	var names []string
	var exprs []ast.Expr
	local := func(e ast.Expr) *ast.IdentExpr { // a local holding e, or the next value if e is nil
		name := "(=" + strconv.Itoa(len(names)+1) + ")"
		names = append(names, name)
		if e != nil {
			exprs = append(exprs, e)
		}
		return at(line, &ast.IdentExpr{Value: name})
	}
	reads := map[string][]*ast.Expr{}   // where the targets so far read each local
	read := map[string]*ast.IdentExpr{} // the local holding each global or upvalue read so far
	operand := func(p *ast.Expr) {      // computes *p, a table or key, first if need be
		switch e := (*p).(type) {
		case *ast.StringExpr, *ast.NumberExpr, *ast.NilExpr, *ast.TrueExpr, *ast.FalseExpr:
		case *ast.IdentExpr:
			if isLocal(e.Value) {
				reads[e.Value] = append(reads[e.Value], p)
				return
			}
			if read[e.Value] == nil {
				read[e.Value] = local(e)
			}
			*p = read[e.Value]
		default:
			*p = local(e)
			clear(read) // e may have changed them
		}
	}
	targets := make([]ast.Expr, len(a.Lhs))
	for i, t := range a.Lhs {
		switch t := t.(type) {
		case *ast.AttrGetExpr:
			f := at(t.Line(), &ast.AttrGetExpr{Object: t.Object, Key: t.Key})
			operand(&f.Object)
			operand(&f.Key)
			targets[i] = f
		case *ast.IdentExpr:
			if readers := reads[t.Value]; len(readers) > 0 {
				copied := local(t)
				for _, p := range readers {
					*p = copied
				}
				delete(reads, t.Value)
			}
			targets[i] = t
		default:
			targets[i] = t
		}
	}
	values := make([]ast.Expr, len(a.Lhs))
	for i := range values {
		values[i] = local(nil)
	}
	stmts := []ast.Stmt{atStmt(line, &ast.LocalAssignStmt{Names: names, Exprs: append(exprs, a.Rhs...)})}
	for i := len(targets) - 1; i >= 0; i-- {
		stmts = append(stmts, atStmt(line, &ast.AssignStmt{Lhs: targets[i : i+1], Rhs: values[i : i+1]}))
	}
	block := atStmt(line, &ast.DoBlockStmt{Stmts: stmts})
	block.SetLastLine(a.LastLine())
	return block
}

// assignedFirst is the name of the first local of a block assignInOrder made.
const assignedFirst = "(=1)"

// assignedInOrder reports whether s is a block assignInOrder made, and returns
// its assignments.
func assignedInOrder(s ast.Stmt) ([]ast.Stmt, bool) {
	b, ok := s.(*ast.DoBlockStmt)
	if !ok || len(b.Stmts) == 0 {
		return nil, false
	}
	l, ok := b.Stmts[0].(*ast.LocalAssignStmt)
	if !ok || len(l.Names) == 0 || l.Names[0] != assignedFirst {
		return nil, false
	}
	return b.Stmts[1:], true
}

func (r *concatRewriter) stmt(s ast.Stmt) {
	defer func() { r.depth-- }()
	if !r.enter(s.Line()) {
		return
	}
	switch s := s.(type) {
	case *ast.NumberForStmt: // its variable is a local of its body
		r.slot(&s.Init)
		r.slot(&s.Limit)
		r.slot(&s.Step)
		r.scoped(false, []string{s.Name}, s.Stmts)
		return
	case *ast.GenericForStmt:
		for i := range s.Exprs {
			r.slot(&s.Exprs[i])
		}
		r.scoped(false, s.Names, s.Stmts)
		return
	}
	stmtSlots(s, r.slot, func(b *[]ast.Stmt) { r.scoped(false, nil, *b) }, r.function)
	switch s := s.(type) {
	case *ast.ReturnStmt:
		r.expandLast(s.Exprs)
	case *ast.LocalAssignStmt: // a local from the next statement on
		if n := len(r.scopes); n > 0 {
			r.scopes[n-1].names = append(r.scopes[n-1].names, s.Names...)
		}
	}
}

// slot rewrites the expression held at p.
func (r *concatRewriter) slot(p *ast.Expr) { *p = r.expr(*p) }

// expandLast routes the last expression of list through varargsName if it is a
// ... that expands to all its values: list is a call's arguments or a return's values.
func (r *concatRewriter) expandLast(list []ast.Expr) {
	if n := len(list); n > 0 {
		list[n-1] = r.expand(list[n-1])
	}
}

// expand returns e, or varargsName(e) if e is a ... that expands to all its values.
func (r *concatRewriter) expand(e ast.Expr) ast.Expr {
	if v, ok := e.(*ast.Comma3Expr); !ok || v.AdjustRet || !r.chargeVarargs {
		return e
	}
	r.varargs = true
	return r.call(varargsName, e, []ast.Expr{e})
}

// call is a call of the function name with args, at the place of e.
func (r *concatRewriter) call(name string, e ast.Expr, args []ast.Expr) *ast.FuncCallExpr {
	fn := &ast.IdentExpr{Value: name}
	fn.SetLine(e.Line())
	fn.SetLastLine(e.LastLine())
	call := &ast.FuncCallExpr{Func: fn, Args: args}
	call.SetLine(e.Line())
	call.SetLastLine(e.LastLine())
	return call
}

func (r *concatRewriter) expr(e ast.Expr) ast.Expr {
	if e == nil {
		return nil
	}
	defer func() { r.depth-- }()
	if !r.enter(e.Line()) {
		return e
	}
	switch e := e.(type) {
	case *ast.StringConcatOpExpr:
		r.concat = true
		call := r.call(concatName, e, r.operands(e))
		call.AdjustRet = true
		return call
	case *ast.FunctionExpr:
		r.function(e, false)
		return e
	case *ast.NumberExpr:
		v, ok := numeral(e.Value)
		r.malformed = r.malformed || !ok
		e.Value = v
		return e
	}
	exprSlots(e, r.slot)
	switch e := e.(type) {
	case *ast.TableExpr:
		hoistKeyed(e)
		if n := len(e.Fields); n > 0 && e.Fields[n-1].Key == nil {
			e.Fields[n-1].Value = r.expand(e.Fields[n-1].Value)
		} else if n > 0 {
			oneValue(e.Fields[n-1].Value)
		}
		call := r.appendLast(e) // first: listAsKeys leaves a constructor ending in a call alone
		listAsKeys(e)
		if call != nil {
			return call
		}
	case *ast.FuncCallExpr:
		r.expandLast(e.Args)
	}
	return e
}

// maxListItems is the most list items gopher-lua's compiler stores right in
// one constructor: 511 batches of FieldsPerFlush (50). It stored those past
// them at positions from -49 on (helper-240: 25,550 of 30,000 kept).
var maxListItems = 511 * glua.FieldsPerFlush

// listAsKeys gives list items of t their positions as keys ({a, b} becomes
// {a, [2] = b}) where gopher-lua's compiler would store them wrong: past
// maxListItems, and after a keyed field that follows a whole number of
// batches of FieldsPerFlush items, after which it stores the last batch
// again, from registers the field's value may have been computed in ({1,
// ..., 50, spawn = {x = 7}} had the spawn table at [1]; helper-241). From the
// first item so placed on (the 25,550th, or the one before such a field), every
// item gets its key, so that the items left in the list number one less than
// a whole batch and all fit. The table is the same: the items are computed in
// the same order and stored at the same positions, some sooner, which nothing
// can see but a key given twice, whose order Lua leaves undefined. A
// constructor that ends in a call or ..., whose values go after the items,
// keeps them as they are: appendLast takes those it would store wrong apart
// first.
func listAsKeys(t *ast.TableExpr) {
	items, from := listItems(t)
	for pos := from; from > 0 && pos <= len(items); pos++ {
		f := t.Fields[items[pos-1]]
		f.Key = at(f.Value.Line(), &ast.NumberExpr{Value: strconv.Itoa(pos)})
	}
}

// listItems returns the field of each list item of t, but a call or ...
// ending it, and the first of them, from 1, that listAsKeys gives its
// position as key; 0 for none.
func listItems(t *ast.TableExpr) (items []int, from int) {
	for i, f := range t.Fields {
		switch {
		case f.Key != nil:
			if n := len(items); n > 0 && n%glua.FieldsPerFlush == 0 && from == 0 {
				from = n
			}
		case i == len(t.Fields)-1 && multiValue(f.Value):
		default:
			items = append(items, i)
			if len(items) > maxListItems && from == 0 {
				from = maxListItems
			}
		}
	}
	return items, from
}

// hoistKeyed moves each run of keyed fields of t that follows a whole number
// of batches of list items before the item that ends the batch, when
// computing that item can do nothing a script could see (a literal, a
// function, a table of such): gopher-lua's compiler stored the batch again
// after each such field, from registers the field had been computed in (see
// listAsKeys), which would give the items of a long data table keys (whose
// compile time grows with the square of their number), and in a constructor
// ending in a call, a call of appendName ({1, ..., 50, x = {}, 51, g()} had
// x's table at [1]; in a main chunk a Go nil at [50]: helper-244). The table
// is the same.
func hoistKeyed(t *ast.TableExpr) {
	items := 0
	for i := 0; i < len(t.Fields); i++ {
		if t.Fields[i].Key == nil {
			items++
			continue
		}
		if items == 0 || items%glua.FieldsPerFlush != 0 || t.Fields[i-1].Key != nil || !inert(t.Fields[i-1].Value) {
			continue
		}
		end := i
		for end < len(t.Fields) && t.Fields[end].Key != nil {
			end++
		}
		item := t.Fields[i-1]
		copy(t.Fields[i-1:end-1], t.Fields[i:end])
		t.Fields[end-1] = item
		i = end - 1
	}
}

// inert reports whether computing e can do nothing a script could see, so that
// it may be computed later: a literal, a function, or a table of inert values
// under inert keys other than nil (an error). Not a zero: of 0 and -0, the
// first a function has is the constant of both (helper-245).
func inert(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.StringExpr, *ast.NilExpr, *ast.TrueExpr, *ast.FalseExpr, *ast.FunctionExpr:
		return true
	case *ast.NumberExpr, *ast.UnaryMinusOpExpr:
		v, ok := constValue(e)
		return ok && v != 0
	case *ast.TableExpr:
		for _, f := range e.Fields {
			if _, isNil := f.Key.(*ast.NilExpr); isNil || f.Key != nil && !inert(f.Key) || !inert(f.Value) {
				return false
			}
		}
		return true
	}
	return false
}

// oneValue makes e, the value of a constructor's last field, keyed, give one
// value if it is a call or ..., as Lua gives it there: gopher-lua's compiler
// stored all its values as list items too ({1, 2, x = f()} had #t == 3,
// t[3] == f(); {1, ..., 50, x = f()} had t[50] == f(); helper-243).
func oneValue(e ast.Expr) {
	if adjust := adjustRet(e); adjust != nil {
		*adjust = true
	}
}

// appendLast mends a constructor t ending in a call or ... (all its values)
// that gopher-lua's compiler would store wrong: right after a whole number of
// batches of list items, it stored the values over the last batch ({P(1),
// ..., P(51)} had P(51) at [1] and 50 items; helper-243); after a keyed field
// that follows a whole number of batches, it stored the batch again from
// registers the field may have been computed in, as listAsKeys tells, which
// leaves such a constructor alone ({g(1), ..., g(50), x = 7, g(51)} had 51 at
// [1]; with x = g(9), y = 3, a Go nil in the list); past maxListItems, it
// stored items at positions from -49 on. appendLast takes the call or ...
// out, into a call of appendName that stores its values after the items:
// {a1, ..., a50, x = v, f()} becomes appendValues({a1, ..., a50, x = v}, 50,
// f()), computed in the same order, and returns that call; nil if t is
// stored right as it is. A call or ... before the last keeps giving one value.
func (r *concatRewriter) appendLast(t *ast.TableExpr) ast.Expr {
	n := len(t.Fields)
	if n < 2 || t.Fields[n-1].Key != nil || !multiValue(t.Fields[n-1].Value) {
		return nil
	}
	items, from := listItems(t)
	if len(items) == 0 || len(items)%glua.FieldsPerFlush != 0 && from == 0 {
		return nil
	}
	values := t.Fields[n-1].Value
	t.Fields = t.Fields[:n-1]
	oneValue(t.Fields[n-2].Value) // not the last any more: one value, as it gave
	r.appends = true
	count := at(t.Line(), &ast.NumberExpr{Value: strconv.Itoa(len(items))})
	call := r.call(appendName, t, []ast.Expr{t, count, values})
	call.AdjustRet = true
	return call
}

// multiValue reports whether e, the last of a list, gives all its values: a
// call or ..., not in parentheses (as gopher-lua's compiler decides it).
func multiValue(e ast.Expr) bool {
	adjust := adjustRet(e)
	return adjust != nil && !*adjust
}

// adjustRet returns where e, a call or ..., says it gives one value (it is in
// parentheses), or nil if e is neither.
func adjustRet(e ast.Expr) *bool {
	switch e := e.(type) {
	case *ast.FuncCallExpr:
		return &e.AdjustRet
	case *ast.Comma3Expr:
		return &e.AdjustRet
	}
	return nil
}

// operands flattens a right-nested chain a .. (b .. c) into [a, b, c], the order in
// which Lua's single OP_CONCAT would take them. Each gives one value: a call
// or ... last, which as the last argument of concat would give all its values,
// gives its first ("x" .. s:gsub("_", " ") appended gsub's count; helper-256).
func (r *concatRewriter) operands(e *ast.StringConcatOpExpr) []ast.Expr {
	var out []ast.Expr
	for {
		out = append(out, r.expr(e.Lhs))
		rhs, ok := e.Rhs.(*ast.StringConcatOpExpr)
		if !ok {
			last := r.expr(e.Rhs)
			oneValue(last)
			return append(out, last)
		}
		e = rhs
	}
}
