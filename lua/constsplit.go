package lua

import (
	"math"
	"slices"
	"strconv"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
	"github.com/hotscript/hotscript/internal/gopherlua/ast"
)

// gopher-lua's compiler finds a function's constants (its numbers and strings, the
// names of the globals and fields it reads) in a list it searches from the start
// for each one, so a function compiles in time quadratic in its distinct constants:
// a data file of one table of 40,000 numbers, or of 20,000 statements
// L["key"] = "text", compiles in 4 s, 100,000 numbers in 24 s, and the compile
// cannot be interrupted. Data is what has that many constants, so splitConstants
// moves a function's large constructors of literals, and then its runs of
// assignments and calls, into functions of their own, each with about
// splitChunk constants. A function with at most splitAbove distinct constants
// is left as written.
const (
	splitAbove = 2048 // distinct constants a function may have before it is split
	splitChunk = 64   // constants in each function a split table or run moves to, about
	splitLeast = 32   // constants a table needs to be worth splitting
	splitDepth = 32   // tables in a split table that are built apart, one in another
)

// splitName is the name of the table a split constructor builds in the functions
// that build it. It is not a Lua identifier: what the constructor held cannot
// name it.
const splitName = "(table)"

// splitConstants splits each function of chunk that has more than splitAbove
// distinct constants (see splitAbove), and returns the chunk.
//
// A constructor split so builds the same table: it holds only literals, tables
// of them and names read (which cannot see the table), and those whose order
// could show (a position also given as a key, a nil in the list part, whose
// length would tell) are left whole. A run of statements moved into a function
// does what it did: only assignments and calls move, which declare no local and
// cannot return, break or jump, and not those that assign a local of the
// function (a caught error closes the upvalues it would be reached through) or
// use its ... . (An assignment of several targets is a block by then: see
// assignInOrder.) A function whose constants include both 0 and -0 is left whole:
// gopher-lua takes the first of the two for both, and a piece moved apart would
// have its own first.
//
// What a script can tell is the traceback of an error in what moved (one more
// function, at the same lines), an error's level counted from it (error(msg,
// 3)), the calls the moved code adds to the call stack (of CallStackSize's
// 1,024: one for a run, two for a table and for each table built apart in it,
// up to 2*splitDepth), and the instructions split code takes under
// MaxInstructions (one call more per piece). Tables nested more than splitDepth
// deep in a split table are built whole, however many constants they hold.
func splitConstants(chunk []ast.Stmt) []ast.Stmt {
	s := splitter{pure: map[*ast.TableExpr]int{}}
	s.function(&chunk, nil)
	return chunk
}

type splitter struct {
	// pure holds the constants of each constructor of literals looked at, or
	// -1 for a constructor that holds something else.
	pure map[*ast.TableExpr]int
}

// constants is a set of a function's distinct constants, as gopher-lua keeps
// them: strings (the names of fields among them) and numbers, and the names
// used bare, which are constants (strings) where they are globals.
type constants struct {
	strs, nums, names map[string]bool
	zero, negZero     bool // 0 is a constant; -0 is (a literal, or what the compiler folds)
	n                 int  // the constants added, distinct or not
}

func newConstants() *constants {
	return &constants{strs: map[string]bool{}, nums: map[string]bool{}, names: map[string]bool{}}
}

// count returns how many distinct constants c holds, given the function's
// locals: the names that are not globals.
func (c *constants) count(locals map[string]bool) int {
	n := len(c.strs) + len(c.nums)
	for name := range c.names {
		if !locals[name] && !c.strs[name] {
			n++
		}
	}
	return n
}

// number adds the number constant v.
func (c *constants) number(v float64) {
	c.n++
	c.nums[strconv.FormatFloat(v, 'g', -1, 64)] = true
	if v == 0 {
		c.zero = c.zero || !math.Signbit(v)
		c.negZero = c.negZero || math.Signbit(v)
	}
}

// add adds e's own constant, if it has one, and reports whether e is a number
// the compiler folds into one constant (whose operands are then none).
func (c *constants) add(e ast.Expr) (folded bool) {
	switch e := e.(type) {
	case *ast.StringExpr:
		c.strs[e.Value] = true
		c.n++
	case *ast.IdentExpr:
		c.names[e.Value] = true
		c.n++
	case *ast.FuncCallExpr:
		if e.Method != "" {
			c.strs[e.Method] = true
			c.n++
		}
	case *ast.NumberExpr, *ast.UnaryMinusOpExpr, *ast.ArithmeticOpExpr:
		if v, ok := constValue(e); ok {
			c.number(v)
			return true
		}
	}
	return false
}

// constValue returns the number e is, if gopher-lua's compiler folds it into a
// constant: a numeric literal, or the negation or arithmetic of such numbers.
func constValue(e ast.Expr) (float64, bool) {
	switch e := e.(type) {
	case *ast.NumberExpr: // written as its numeral (see concatRewriter): decimal
		v, err := strconv.ParseFloat(e.Value, 64)
		return v, err == nil
	case *ast.UnaryMinusOpExpr:
		v, ok := constValue(e.Expr)
		return -v, ok
	case *ast.ArithmeticOpExpr:
		a, ok1 := constValue(e.Lhs)
		b, ok2 := constValue(e.Rhs)
		if !ok1 || !ok2 {
			return 0, false
		}
		switch e.Operator {
		case "+":
			return a + b, true
		case "-":
			return a - b, true
		case "*":
			return a * b, true
		case "/":
			return a / b, true
		case "%":
			return float64(glua.Mod(glua.LNumber(a), glua.LNumber(b))), true
		case "^":
			return glua.Pow(a, b), true
		}
	}
	return 0, false
}

// function splits the tables of the function whose body is *body and whose
// parameters are params, then, if it still has too many constants, its runs
// of statements (see runs), and then what the functions defined in it have.
func (sp *splitter) function(body *[]ast.Stmt, params []string) {
	var (
		all, kept = newConstants(), newConstants() // kept: outside the tables to split
		locals    = map[string]bool{}
		tables    []*ast.Expr // where each table to split is
		blocks    []*[]ast.Stmt
		nested    []nestedFunc
		inTable   bool                      // visit is inside a table to split
		varargs   int                       // the uses of the function's ... seen so far
		cost      = map[ast.Stmt]int{}      // the constants of each statement that can move
		assigned  = map[ast.Stmt][]string{} // the names each one assigns
	)
	for _, p := range params {
		locals[p] = true
	}
	var visit func(slot *ast.Expr)
	visit = func(slot *ast.Expr) {
		e := *slot
		if e == nil { // a for without a step, a method's name without a function
			return
		}
		folded := all.add(e)
		if !inTable {
			kept.add(e)
		}
		switch e := e.(type) {
		case *ast.FunctionExpr:
			nested = append(nested, nestedFunc{e, false})
			return
		case *ast.TableExpr:
			if n := sp.literals(e); n >= splitLeast && !inTable {
				tables = append(tables, slot)
				inTable = true
				exprSlots(e, visit)
				inTable = false
				return
			}
		case *ast.Comma3Expr:
			varargs++
		}
		if !folded {
			exprSlots(e, visit)
		}
	}
	var block func(list *[]ast.Stmt)
	block = func(list *[]ast.Stmt) {
		blocks = append(blocks, list)
		for _, s := range *list {
			uses, before := varargs, kept.n
			stmtSlots(s, visit, block, func(f *ast.FunctionExpr, method bool) { nested = append(nested, nestedFunc{f, method}) })
			switch s := s.(type) {
			case *ast.LocalAssignStmt:
				for _, n := range s.Names {
					locals[n] = true
				}
			case *ast.NumberForStmt:
				locals[s.Name] = true
			case *ast.GenericForStmt:
				for _, n := range s.Names {
					locals[n] = true
				}
			}
			if names, ok := movable(s); ok && varargs == uses {
				cost[s] = kept.n - before
				assigned[s] = names
			}
		}
	}
	block(body)
	if all.count(locals) > splitAbove && !(all.zero && all.negZero) {
		for _, slot := range tables {
			*slot = sp.build((*slot).(*ast.TableExpr), 1)
		}
		if kept.count(locals) > splitAbove {
			for s, names := range assigned {
				if slices.ContainsFunc(names, func(n string) bool { return locals[n] }) {
					delete(cost, s) // it assigns a local of the function
				}
			}
			for _, list := range blocks {
				*list = runs(*list, cost)
			}
		}
	}
	for _, n := range nested {
		sp.function(&n.f.Stmts, n.locals())
	}
}

// nestedFunc is a function defined in the one being split; method says it is
// defined as function a:m(), with the parameter self.
type nestedFunc struct {
	f      *ast.FunctionExpr
	method bool
}

// locals returns the locals the function starts with: its parameters, self
// for a method, and arg for a function of ... (gopher-lua's CompatVarArg).
func (n nestedFunc) locals() []string {
	locals := slices.Clone(n.f.ParList.Names)
	if n.method {
		locals = append(locals, "self")
	}
	if n.f.ParList.HasVargs {
		locals = append(locals, "arg")
	}
	return locals
}

// movable reports whether s means the same moved into a function of its own,
// called where it was, given that it does not use the function's ... and
// assigns none of its locals: an assignment (one of several targets is a
// block of its own locals and assignments: see assignInOrder), a call or a
// function statement (function M.f() ... end, an assignment too), which
// declare no local, and do not return, break or jump. It returns the names s
// assigns bare, which must not be the function's locals.
func movable(s ast.Stmt) (assigns []string, ok bool) {
	if each, ok := assignedInOrder(s); ok {
		for _, a := range each {
			names, _ := movable(a)
			assigns = append(assigns, names...)
		}
		return assigns, true
	}
	switch s := s.(type) {
	case *ast.AssignStmt:
		for _, e := range s.Lhs {
			if id, ok := e.(*ast.IdentExpr); ok {
				assigns = append(assigns, id.Value)
			}
		}
		return assigns, true
	case *ast.FuncDefStmt:
		if id, ok := s.Name.Func.(*ast.IdentExpr); ok && s.Name.Receiver == nil {
			assigns = append(assigns, id.Value)
		}
		return assigns, true
	case *ast.FuncCallStmt:
		return nil, true
	}
	return nil, false
}

// runs returns list with its runs of statements that can move (those in cost,
// with the constants they have) moved into functions called where they were,
// (function() ... end)(), each with about splitChunk constants.
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

// literals returns the constants of t (as many as it holds, not the distinct
// ones) if it holds only literals, names read and tables of them, under keys
// that are strings or numbers none of which is a position of its list part; -1
// if it does not, or if its list holds a nil.
func (sp *splitter) literals(t *ast.TableExpr) int {
	if n, ok := sp.pure[t]; ok {
		return n
	}
	n, list := 0, 0
	var numKeys []float64
	for _, f := range t.Fields {
		if f.Key == nil {
			list++
			if _, isNil := f.Value.(*ast.NilExpr); isNil {
				n = -1
				break
			}
		} else if _, ok := f.Key.(*ast.StringExpr); ok {
			n++
		} else if v, ok := constValue(f.Key); ok {
			numKeys = append(numKeys, v)
			n++
		} else {
			n = -1
			break
		}
		v := sp.literal(f.Value)
		if v < 0 {
			n = -1
			break
		}
		n += v
	}
	for _, k := range numKeys {
		if k >= 1 && k <= float64(list) && k == math.Trunc(k) {
			n = -1 // where the value lands depends on the order of the building
		}
	}
	sp.pure[t] = n
	return n
}

// literal returns the constants of e if it is a literal, a name read or a table
// of them, and -1 if it is not.
func (sp *splitter) literal(e ast.Expr) int {
	switch e := e.(type) {
	case *ast.StringExpr, *ast.IdentExpr:
		return 1
	case *ast.TrueExpr, *ast.FalseExpr, *ast.NilExpr:
		return 0
	case *ast.TableExpr:
		return sp.literals(e)
	}
	if _, ok := constValue(e); ok {
		return 1
	}
	return -1
}

// build returns a call that builds the table t of literals, as
//
//	(function() local T = {}; (function(T) T[1] = ...; T.k = ... end)(T); ...; return T end)()
//
// each inner function setting fields of fewer than splitChunk constants, in
// the constructor's order, and a field's own table of more built the same way,
// unless depth tables are built so one in another: each takes two calls, of
// a script's 1,024 (see splitConstants).
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
