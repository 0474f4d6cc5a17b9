package lua

import (
	glua "github.com/yuin/gopher-lua"
)

// sites records where a version's chunk left its code, so that a reload can
// tell which of the new version's classes and functions stand for which of the
// old one's: the class an object's metatable is, the method or state function a
// data field holds. A version's sites are found once, as its chunk returns,
// before anything else runs in it.
//
// Code is every function, and every code table: the module table, the globals
// table, a table that holds a function, and a table that is another's
// metatable (a class, whose methods may sit behind __index). Each is placed by
// the first path that reaches it from the module, else from the globals,
// breadth first in pairs order: through a table's entries by key (strings,
// numbers, booleans), its metatable, and a Lua function's upvalues by name
// (a local class that the module's functions use). Paths are followed
// maxSiteDepth steps deep at most; code deeper than that has no site.
type sites struct {
	tables []placed                   // the code tables, breadth first
	funcs  map[*glua.LFunction]placed // the functions
	code   map[*glua.LTable]bool      // the code tables
	held   map[slot]*glua.LFunction   // each function a code table held
	roots  [2]*glua.LTable            // the module, the globals
}

// placed is a piece of code and its path.
type placed struct {
	v     glua.LValue // a *glua.LTable or *glua.LFunction
	root  int         // where path starts: 0 the module, 1 the globals
	steps []step
}

type stepKind uint8

const (
	entry   stepKind = iota // a table's entry, by key
	meta                    // a table's metatable
	upvalue                 // a Lua function's upvalue, by name
)

type step struct {
	kind stepKind
	key  glua.LValue // the entry's key, or the upvalue's name
}

// slot is an entry of a table.
type slot struct {
	t *glua.LTable
	k glua.LValue
}

// maxSiteDepth bounds the paths sites follow: classes and functions sit a few
// steps from the module, and a bound keeps the walk linear in what it visits,
// however deep a chunk nests its tables.
const maxSiteDepth = 12

// findSites walks the code reachable from module and globals. It reads raw
// (no metamethod runs), through a queue rather than recursion.
func findSites(module, globals *glua.LTable) *sites {
	type reached struct {
		v      glua.LValue
		parent int // index in seen's order, -1 for a root
		st     step
		depth  int
		root   int
	}
	var order []reached
	index := map[glua.LValue]int{}
	s := &sites{funcs: map[*glua.LFunction]placed{}, code: map[*glua.LTable]bool{},
		held: map[slot]*glua.LFunction{}, roots: [2]*glua.LTable{module, globals}}
	visit := func(v glua.LValue, from int, st step) {
		switch x := v.(type) {
		case *glua.LFunction:
			if x.IsG || x.Proto == nil { // a Go function: nothing to place by
				return
			}
		case *glua.LTable:
		default:
			return
		}
		if _, ok := index[v]; ok {
			return
		}
		r := reached{v: v, parent: from, st: st}
		if from >= 0 {
			r.depth, r.root = order[from].depth+1, order[from].root
		}
		index[v] = len(order)
		order = append(order, r)
	}
	visit(module, -1, step{})
	s.code[module] = true
	if globals != nil {
		visit(globals, -1, step{})
		order[len(order)-1].root = 1
		s.code[globals] = true
	}
	for i := 0; i < len(order); i++ {
		r := order[i]
		if r.depth >= maxSiteDepth {
			continue
		}
		switch v := r.v.(type) {
		case *glua.LTable:
			code := false
			inOrder(v, func(k, x glua.LValue) {
				if f, ok := x.(*glua.LFunction); ok {
					code = true
					if !f.IsG {
						s.held[slot{v, k}] = f
					}
				}
				switch k.(type) {
				case glua.LString, glua.LNumber, glua.LBool:
					visit(x, i, step{entry, k})
				}
			})
			if code {
				s.code[v] = true
			}
			if mt, ok := v.Metatable.(*glua.LTable); ok {
				s.code[mt] = true
				visit(mt, i, step{kind: meta})
			}
		case *glua.LFunction:
			for n, uv := range v.Upvalues {
				if uv != nil && n < len(v.Proto.DbgUpvalues) {
					visit(orNil(uv.Value()), i, step{upvalue, glua.LString(v.Proto.DbgUpvalues[n])})
				}
			}
		}
	}
	for _, r := range order {
		if t, ok := r.v.(*glua.LTable); ok && !s.code[t] {
			continue
		}
		steps := make([]step, r.depth)
		for at, j := r.depth-1, index[r.v]; at >= 0; at, j = at-1, order[j].parent {
			steps[at] = order[j].st
		}
		p := placed{v: r.v, root: r.root, steps: steps}
		if f, ok := r.v.(*glua.LFunction); ok {
			s.funcs[f] = p
		} else {
			s.tables = append(s.tables, p)
		}
	}
	return s
}

// follow returns what p's path reaches in the code of s, a table or function
// only if it is code there, or nil.
func (s *sites) follow(p placed) glua.LValue {
	root := s.roots[p.root]
	if root == nil {
		return nil
	}
	var at glua.LValue = root
	for _, st := range p.steps {
		switch st.kind {
		case entry:
			t, ok := at.(*glua.LTable)
			if !ok {
				return nil
			}
			at = orNil(t.RawGet(st.key))
		case meta:
			t, ok := at.(*glua.LTable)
			if !ok {
				return nil
			}
			at = orNil(t.Metatable)
		case upvalue:
			f, ok := at.(*glua.LFunction)
			if !ok || f.IsG || f.Proto == nil {
				return nil
			}
			at = glua.LNil
			for n, name := range f.Proto.DbgUpvalues {
				if glua.LString(name) == st.key && n < len(f.Upvalues) && f.Upvalues[n] != nil {
					at = orNil(f.Upvalues[n].Value())
					break
				}
			}
		}
	}
	switch v := at.(type) {
	case *glua.LTable:
		if s.code[v] {
			return v
		}
	case *glua.LFunction:
		return v
	}
	return nil
}
