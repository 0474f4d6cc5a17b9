package lua

import (
	"strconv"

	"github.com/yuin/gopher-lua/ast"
)

// gopher-lua's compiler finds a function's constants (its numbers and strings, the
// names of the globals and fields it reads) in a list it searches from the start
// for each one, so a function compiles in time quadratic in its distinct constants:
// a data file of one table of 40,000 numbers, or of 20,000 statements
// L["key"] = "text", compiles in 4 s, 100,000 numbers in 24 s, and the compile
// cannot be interrupted. Data is what has that many constants, so splitConstants
// moves a function's large constructors of literals, and then its runs of
// assignments and calls, into functions of their own, each with fewer than
// splitChunk constants. A function with fewer than splitAbove is left as written.
const (
	splitAbove = 2048 // constants a function may have before its tables are split
	splitChunk = 64   // constants at most in each function a split table is built by
	splitLeast = 32   // constants a table needs to be worth splitting
	splitDepth = 8    // tables in a split table that are built apart, one in another
)

// splitName is the name of the table a split constructor builds in the functions
// that build it. It is not a Lua identifier: what the constructor held cannot
// name it.
const splitName = "(table)"

// splitConstants splits each function of chunk that has more than splitAbove
// constants (see splitAbove), and returns the chunk. A constructor of literals
// split so builds the same table: a literal cannot fail or see the table, and
// those whose order could show (a position also given as a key, a nil in the
// list part, whose length would tell) are left whole. A run of statements moved
// into a function does what it did: only assignments and calls move, which
// declare no local and cannot return, break or jump, and not those that use the
// function's ... . What a script can tell is the traceback of an error in what
// moved (one more function, at the same lines), an error's level counted from
// it (error(msg, 3)), and the instructions split code takes under
// MaxInstructions (one call more per share).
func splitConstants(chunk []ast.Stmt) []ast.Stmt {
	s := splitter{pure: map[*ast.TableExpr]int{}}
	s.function(&chunk)
	return chunk
}

type splitter struct {
	// pure holds the constants of each constructor of literals looked at, or
	// -1 for a constructor that holds something else.
	pure map[*ast.TableExpr]int
}

// function splits the tables of the function whose body is *body, then, if it
// still has too many constants, its runs of statements (see runs), and then
// what the functions defined in it have.
func (sp *splitter) function(body *[]ast.Stmt) {
	var (
		consts   int           // the function's constants
		inTables int           // those in tables split
		tables   []*ast.Expr   // where each table to split is
		blocks   []*[]ast.Stmt // the function's blocks
		nested   []*ast.FunctionExpr
		varargs  bool                 // the statement looked at uses the function's ...
		cost     = map[ast.Stmt]int{} // the constants a statement that can move keeps
	)
	var visit func(slot *ast.Expr)
	visit = func(slot *ast.Expr) {
		switch e := (*slot).(type) {
		case nil: // a for without a step, a method's name without a function
		case *ast.FunctionExpr:
			nested = append(nested, e)
			return
		case *ast.TableExpr:
			if n := sp.literals(e); n >= 0 {
				consts += n
				if n >= splitLeast {
					tables = append(tables, slot)
					inTables += n
				}
				return
			}
		case *ast.NumberExpr, *ast.StringExpr, *ast.IdentExpr: // a global's name is one
			consts++
		case *ast.FuncCallExpr:
			if e.Method != "" {
				consts++
			}
		case *ast.Comma3Expr:
			varargs = true
		}
		exprSlots(*slot, visit)
	}
	var block func(list *[]ast.Stmt)
	block = func(list *[]ast.Stmt) {
		blocks = append(blocks, list)
		for _, s := range *list {
			before, split := consts, inTables
			varargs = false
			stmtSlots(s, visit, block, func(f *ast.FunctionExpr) { nested = append(nested, f) })
			if movable(s) && !varargs {
				cost[s] = consts - before - (inTables - split)
			}
		}
	}
	block(body)
	if consts > splitAbove {
		for _, slot := range tables {
			*slot = sp.build((*slot).(*ast.TableExpr), 1)
		}
		if consts-inTables > splitAbove {
			for _, list := range blocks {
				*list = runs(*list, cost)
			}
		}
	}
	for _, f := range nested {
		sp.function(&f.Stmts)
	}
}

// movable reports whether s means the same moved into a function of its own,
// called where it was (given that it does not use the function's ...): an
// assignment, a call or a function statement (function M.f() ... end, an
// assignment too), which declare no local, and do not return, break or jump.
// The locals it names are the function's upvalues there.
func movable(s ast.Stmt) bool {
	switch s.(type) {
	case *ast.AssignStmt, *ast.FuncCallStmt, *ast.FuncDefStmt:
		return true
	}
	return false
}

// runs returns list with its runs of statements that can move (those in cost,
// with the constants they have) moved into functions called where they were,
// (function() ... end)(), each with fewer than splitChunk constants.
func runs(list []ast.Stmt, cost map[ast.Stmt]int) []ast.Stmt {
	var out, run []ast.Stmt
	consts := 0
	flush := func() {
		if consts >= splitLeast {
			line := run[0].Line()
			fn := at(line, &ast.FunctionExpr{ParList: &ast.ParList{}, Stmts: run})
			out = append(out, atStmt(line, &ast.FuncCallStmt{Expr: at(line, &ast.FuncCallExpr{Func: fn})}))
		} else {
			out = append(out, run...)
		}
		run, consts = nil, 0
	}
	for _, s := range list {
		n, ok := cost[s]
		if !ok || consts+n > splitChunk {
			flush()
		}
		if !ok {
			out = append(out, s)
			continue
		}
		run = append(run, s)
		consts += n
	}
	flush()
	return out
}

// literals returns the constants of t if it holds only literals (numbers,
// strings, booleans, nil as a keyed value, constructors of them) under keys that
// are strings, or numbers in a table without a list part, and -1 if it does not.
func (sp *splitter) literals(t *ast.TableExpr) int {
	if n, ok := sp.pure[t]; ok {
		return n
	}
	n, list, numKeys := 0, false, false
	for _, f := range t.Fields {
		switch f.Key.(type) {
		case nil:
			list = true
			if _, isNil := f.Value.(*ast.NilExpr); isNil {
				n = -1
			}
		case *ast.StringExpr:
			n++
		case *ast.NumberExpr:
			numKeys = true
			n++
		default:
			n = -1
		}
		if n < 0 {
			break
		}
		v := sp.literal(f.Value)
		if v < 0 {
			n = -1
			break
		}
		n += v
	}
	if list && numKeys {
		n = -1
	}
	sp.pure[t] = n
	return n
}

// literal returns the constants of e if it is a literal, and -1 if it is not.
func (sp *splitter) literal(e ast.Expr) int {
	switch e := e.(type) {
	case *ast.NumberExpr, *ast.StringExpr:
		return 1
	case *ast.TrueExpr, *ast.FalseExpr, *ast.NilExpr:
		return 0
	case *ast.UnaryMinusOpExpr:
		if _, ok := e.Expr.(*ast.NumberExpr); ok {
			return 1
		}
	case *ast.TableExpr:
		return sp.literals(e)
	}
	return -1
}

// build returns a call that builds the table t of literals, as
//
//	(function() local T = {}; (function(T) T[1] = ...; T.k = ... end)(T); ...; return T end)()
//
// each inner function setting fields of fewer than splitChunk constants, in
// the constructor's order, and a field's own table of more built the same way,
// unless depth tables are built so one in another: each takes two calls, and
// gopher-lua's call stack is 256 deep.
func (sp *splitter) build(t *ast.TableExpr, depth int) ast.Expr {
	line := t.Line()
	name := func() ast.Expr { return at(line, &ast.IdentExpr{Value: splitName}) }
	body := []ast.Stmt{atStmt(line, &ast.LocalAssignStmt{Names: []string{splitName},
		Exprs: []ast.Expr{at(line, &ast.TableExpr{})}})}
	var chunk []ast.Stmt
	consts, pos := 0, 0
	flush := func() {
		if len(chunk) > 0 {
			fn := at(line, &ast.FunctionExpr{ParList: &ast.ParList{Names: []string{splitName}}, Stmts: chunk})
			call := at(line, &ast.FuncCallExpr{Func: fn, Args: []ast.Expr{name()}})
			body = append(body, atStmt(line, &ast.FuncCallStmt{Expr: call}))
		}
		chunk, consts = nil, 0
	}
	for _, f := range t.Fields {
		key, value, n := f.Key, f.Value, 1
		if key == nil {
			pos++
			key = at(f.Value.Line(), &ast.NumberExpr{Value: strconv.Itoa(pos)})
		}
		if v, ok := value.(*ast.TableExpr); ok && sp.pure[v] >= splitChunk && depth < splitDepth {
			value = sp.build(v, depth+1)
		} else {
			n += sp.literal(value)
		}
		if consts+n > splitChunk {
			flush()
		}
		consts += n
		target := at(value.Line(), &ast.AttrGetExpr{Object: name(), Key: key})
		chunk = append(chunk, atStmt(value.Line(), &ast.AssignStmt{Lhs: []ast.Expr{target}, Rhs: []ast.Expr{value}}))
	}
	flush()
	body = append(body, atStmt(t.LastLine(), &ast.ReturnStmt{Exprs: []ast.Expr{name()}}))
	fn := at(line, &ast.FunctionExpr{ParList: &ast.ParList{}, Stmts: body})
	return at(line, &ast.FuncCallExpr{Func: fn, AdjustRet: true})
}

// at gives e, made for the source at line, that line.
func at[E ast.Expr](line int, e E) E {
	e.SetLine(line)
	e.SetLastLine(line)
	return e
}

// atStmt gives s, made for the source at line, that line.
func atStmt[S ast.Stmt](line int, s S) S {
	s.SetLine(line)
	s.SetLastLine(line)
	return s
}

// stmtSlots calls visit with where each expression of s is held (some hold nil),
// block with each block of statements in s, and fn with the function s defines,
// if it does.
func stmtSlots(s ast.Stmt, visit func(*ast.Expr), block func(*[]ast.Stmt), fn func(*ast.FunctionExpr)) {
	each := func(exprs []ast.Expr) {
		for i := range exprs {
			visit(&exprs[i])
		}
	}
	switch s := s.(type) {
	case *ast.AssignStmt:
		each(s.Lhs)
		each(s.Rhs)
	case *ast.LocalAssignStmt:
		each(s.Exprs)
	case *ast.FuncCallStmt:
		visit(&s.Expr)
	case *ast.DoBlockStmt:
		block(&s.Stmts)
	case *ast.WhileStmt:
		visit(&s.Condition)
		block(&s.Stmts)
	case *ast.RepeatStmt:
		block(&s.Stmts)
		visit(&s.Condition)
	case *ast.IfStmt:
		visit(&s.Condition)
		block(&s.Then)
		block(&s.Else)
	case *ast.NumberForStmt:
		visit(&s.Init)
		visit(&s.Limit)
		visit(&s.Step)
		block(&s.Stmts)
	case *ast.GenericForStmt:
		each(s.Exprs)
		block(&s.Stmts)
	case *ast.FuncDefStmt:
		visit(&s.Name.Func)
		visit(&s.Name.Receiver)
		fn(s.Func)
	case *ast.ReturnStmt:
		each(s.Exprs)
	}
}

// exprSlots calls visit with where each operand of e is held (some hold nil).
func exprSlots(e ast.Expr, visit func(*ast.Expr)) {
	switch e := e.(type) {
	case *ast.AttrGetExpr:
		visit(&e.Object)
		visit(&e.Key)
	case *ast.TableExpr:
		for _, f := range e.Fields {
			visit(&f.Key)
			visit(&f.Value)
		}
	case *ast.FuncCallExpr:
		visit(&e.Func)
		visit(&e.Receiver)
		for i := range e.Args {
			visit(&e.Args[i])
		}
	case *ast.LogicalOpExpr:
		visit(&e.Lhs)
		visit(&e.Rhs)
	case *ast.RelationalOpExpr:
		visit(&e.Lhs)
		visit(&e.Rhs)
	case *ast.ArithmeticOpExpr:
		visit(&e.Lhs)
		visit(&e.Rhs)
	case *ast.StringConcatOpExpr:
		visit(&e.Lhs)
		visit(&e.Rhs)
	case *ast.UnaryMinusOpExpr:
		visit(&e.Expr)
	case *ast.UnaryNotOpExpr:
		visit(&e.Expr)
	case *ast.UnaryLenOpExpr:
		visit(&e.Expr)
	}
}
