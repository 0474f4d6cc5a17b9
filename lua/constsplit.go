package lua

import (
	"strconv"

	"github.com/yuin/gopher-lua/ast"
)

// gopher-lua's compiler finds a function's constants (its numbers and strings, the
// names of the globals and fields it reads) in a list it searches from the start
// for each one, so a function compiles in time quadratic in its distinct constants:
// a data file of one table of 40,000 numbers, or 20,000 names and texts, compiles
// in 4 s, 100,000 numbers in 24 s, and the compile cannot be interrupted. Data is
// what has that many constants, so splitConstants moves a function's large
// constructors of literals into functions of their own, each building a share of
// the table with fewer than splitChunk constants. A function with fewer than
// splitAbove is left as written.
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

// splitConstants splits the large constructors of literals of each function of
// chunk that has more than splitAbove constants (see splitAbove). A constructor
// split so builds the same table: a literal cannot fail or see the table, and
// those whose order could show (a position also given as a key, a nil in the
// list part, whose length would tell) are left whole. What a script can tell is a
// traceback through a split table's functions (a memory limit passed while it is
// built) and the instructions its building takes under MaxInstructions (one
// per item, and one call per share).
func splitConstants(chunk []ast.Stmt) {
	s := splitter{pure: map[*ast.TableExpr]int{}}
	s.function(chunk)
}

type splitter struct {
	// pure holds the constants of each constructor of literals looked at, or
	// -1 for a constructor that holds something else.
	pure map[*ast.TableExpr]int
}

// function splits the tables of the function whose body is body, and then those
// of the functions defined in it.
func (sp *splitter) function(body []ast.Stmt) {
	var (
		consts int
		tables []*ast.Expr // where each large constructor of literals is
		nested []*ast.FunctionExpr
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
				}
				return
			}
		case *ast.NumberExpr, *ast.StringExpr, *ast.IdentExpr: // a global's name is one
			consts++
		case *ast.FuncCallExpr:
			if e.Method != "" {
				consts++
			}
		}
		exprSlots(*slot, visit)
	}
	stmtSlots(body, visit, func(f *ast.FunctionExpr) { nested = append(nested, f) })
	if consts > splitAbove {
		for _, slot := range tables {
			*slot = sp.build((*slot).(*ast.TableExpr), 1)
		}
	}
	for _, f := range nested {
		sp.function(f.Stmts)
	}
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

// stmtSlots calls visit with where each expression of the statements list (and of
// the blocks in them) is held (some hold nil), and fn with each function a
// statement defines.
func stmtSlots(list []ast.Stmt, visit func(*ast.Expr), fn func(*ast.FunctionExpr)) {
	each := func(exprs []ast.Expr) {
		for i := range exprs {
			visit(&exprs[i])
		}
	}
	for _, s := range list {
		switch s := s.(type) {
		case *ast.AssignStmt:
			each(s.Lhs)
			each(s.Rhs)
		case *ast.LocalAssignStmt:
			each(s.Exprs)
		case *ast.FuncCallStmt:
			visit(&s.Expr)
		case *ast.DoBlockStmt:
			stmtSlots(s.Stmts, visit, fn)
		case *ast.WhileStmt:
			visit(&s.Condition)
			stmtSlots(s.Stmts, visit, fn)
		case *ast.RepeatStmt:
			visit(&s.Condition)
			stmtSlots(s.Stmts, visit, fn)
		case *ast.IfStmt:
			visit(&s.Condition)
			stmtSlots(s.Then, visit, fn)
			stmtSlots(s.Else, visit, fn)
		case *ast.NumberForStmt:
			visit(&s.Init)
			visit(&s.Limit)
			visit(&s.Step)
			stmtSlots(s.Stmts, visit, fn)
		case *ast.GenericForStmt:
			each(s.Exprs)
			stmtSlots(s.Stmts, visit, fn)
		case *ast.FuncDefStmt:
			visit(&s.Name.Func)
			visit(&s.Name.Receiver)
			fn(s.Func)
		case *ast.ReturnStmt:
			each(s.Exprs)
		}
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
