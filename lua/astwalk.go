package lua

import "github.com/hotscript/hotscript/internal/gopherlua/ast"

// The syntax tree walk that the chunk's rewrites share (concatRewriter,
// splitConstants): each is handed where every expression is held, so that it can
// replace it.

// stmtSlots calls visit with where each expression of s is held (some hold nil),
// block with each block of statements in s, and fn with the function s defines,
// if it does, and whether it is a method (function a:m()).
func stmtSlots(s ast.Stmt, visit func(*ast.Expr), block func(*[]ast.Stmt), fn func(f *ast.FunctionExpr, method bool)) {
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
		fn(s.Func, s.Name.Method != "")
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
