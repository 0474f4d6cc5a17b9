package lua

import (
	"context"
	"maps"
	"math"
	"slices"
	"strings"
	"weak"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
)

// sites records where a version's chunk left its code, so that a reload can
// tell which of the new version's classes and functions stand for which of the
// old one's: the class an object's metatable is, the function a data field
// holds. A version's sites are found once, as its chunk returns, before
// anything else runs in it.
//
// Code is every Lua function, and every code table: the module table, the
// globals table, a table that holds a function, a class (a table that is
// another's metatable, or has fields named __..., made to be one), and a
// table that holds a class (a class object of a class library, holding the
// metatable of its instances). Each is placed by the paths that reach it,
// first from the module, then from the globals, then from the chunk's
// top-level locals (see returnLocals), breadth first in pairs order:
// through a table's entries by key (strings and booleans: a list's places are
// data, not names), its metatable, and a Lua function's upvalues by name (a
// local class that the module's functions use). A piece of code keeps its
// first maxPaths paths, and its first path from the module without an
// upvalue if they do not hold one. Paths are followed maxSiteDepth steps
// deep at most; code deeper than that has no site.
//
// Sites hold the code weakly: code the script drops later is collected, as it
// would be without them.
type sites struct {
	nodes []siteNode // the code, in the order found; the module first
	// placed are the tables the chunk left in the entries of the tables
	// the module reaches through such entries, by string and boolean keys
	// (M.stats, M.inventory.items; not a list's entries), as a graph from
	// the module, placed[0], maxSiteDepth entries deep, with every entry of
	// a placed table that holds a placed table: where a reload may carry
	// the old data into the new chunk's table at the same place (see
	// copier.intoChunk).
	placed []placedTable
}

// placedTable is a table the chunk left where the module reaches it, and the
// entries of it in which the chunk left a table.
type placedTable struct {
	t      weak.Pointer[glua.LTable]
	in     []placedEntry
	places int                 // the entries that hold it
	byKey  map[glua.LValue]int // in's index by key, for a table of many entries
}

// manyEntries is the most entries a placedTable looks through by key without
// a map (see child).
const manyEntries = 8

// child returns the index in sites.placed of the table the chunk left at
// p[key], or -1.
func (p *placedTable) child(key glua.LValue) int {
	if p.byKey != nil {
		if i, ok := p.byKey[key]; ok {
			return p.in[i].at
		}
		return -1
	}
	for _, e := range p.in {
		if e.key == key {
			return e.at
		}
	}
	return -1
}

// placedEntry is an entry of a placedTable: its key, and the table the chunk
// left there, by its index in sites.placed.
type placedEntry struct {
	key glua.LValue
	at  int
}

// siteNode is one piece of code.
type siteNode struct {
	table weak.Pointer[glua.LTable]
	fn    weak.Pointer[glua.LFunction]
	paths []path
	// stateless says that a table held only functions and tables as the chunk
	// left it, or is a root: of its entries, its wiring is all a reload needs
	// (the script may give it data as it runs, which a reload carries as a
	// class's: see codeMatch.classes). mergeable says that a path from the
	// module without an upvalue reaches it: the module holds it, and a reload
	// merges it.
	stateless, mergeable bool
	// placed is its index in sites.placed, or -1 (a function, or a table no
	// entry of a placed table holds).
	placed int
	// container says that it is code only as it holds tables of code (a
	// table of states), which may take old data (see codeMatch.newCode).
	container bool
	// fields are the module's fields that held data as the chunk left it
	// (its list entries too), none of a kind of which there are more than
	// maxFields: a reload keeps out of the new module those the script
	// removed.
	fields []glua.LValue
	// A table's metatable as the chunk left it, and its entries: for one a
	// reload may merge into (see codeMatch.merges), all but those of number
	// keys (a list is carried whole), nil if there are more than maxEntries
	// of them (the reload copies it whole instead); for another, those
	// named __... (its wiring: see codeMatch.wired).
	meta    heldValue
	entries []heldEntry
	// list is, for one a reload may merge into, its entries of number keys as
	// the chunk left them, if they hold only functions, numbers, strings and
	// booleans, up to maxEntries (a pipeline of steps, a list of handlers);
	// else nil: a list the script left as the chunk made it follows the new
	// chunk (see copier.mergeCode).
	list []heldEntry
}

// heldEntry is an entry of a table as its chunk left it.
type heldEntry struct {
	key glua.LValue
	val heldValue
}

// heldValue is a value as a chunk left it: a table or function weakly, other
// values as they are. Go values (userdata, channels) are not held: no value
// is the same as one of them.
type heldValue struct {
	plain glua.LValue // a number, string, boolean or LNil
	table weak.Pointer[glua.LTable]
	fn    weak.Pointer[glua.LFunction]
}

func holdValue(v glua.LValue) heldValue {
	switch v := v.(type) {
	case *glua.LTable:
		return heldValue{table: weak.Make(v)}
	case *glua.LFunction:
		return heldValue{fn: weak.Make(v)}
	case glua.LNumber, glua.LString, glua.LBool, *glua.LNilType:
		return heldValue{plain: v}
	}
	return heldValue{}
}

// is reports whether v is the value h holds: the same table or function (one
// collected since is no value's), or an equal number, string or boolean.
func (h heldValue) is(v glua.LValue) bool {
	switch v := v.(type) {
	case *glua.LTable:
		return h.table.Value() == v
	case *glua.LFunction:
		return h.fn.Value() == v
	case glua.LNumber:
		n, ok := h.plain.(glua.LNumber)
		return ok && math.Float64bits(float64(n)) == math.Float64bits(float64(v)) // NaN is NaN, -0 is not 0
	case glua.LString, glua.LBool, *glua.LNilType:
		return h.plain == v
	}
	return false
}

type path struct {
	root  int // 0 the module, 1 the globals, 2 the chunk's locals (see returnLocals)
	from  int // the code node the last step is from (its index in nodes), or -1
	steps []step
}

type stepKind uint8

const (
	entry   stepKind = iota // a table's entry, by key
	meta                    // a table's metatable
	upvalue                 // a Lua function's upvalue, by name
)

type step struct {
	kind  stepKind
	key   glua.LValue // the entry's key, or the upvalue's name
	index int         // the upvalue's index where the path was found
}

const (
	// maxSiteDepth bounds the paths sites follow: classes and functions sit a
	// few steps from the module, and a bound keeps the walk linear in what it
	// visits, however deep a chunk nests its tables.
	maxSiteDepth = 12
	// maxPaths bounds the paths kept for one piece of code.
	maxPaths = 4
	// maxEntries bounds the entries recorded of a code table a reload may
	// merge into: classes and tables of functions are small.
	maxEntries = 1024
	// maxFields bounds the module's data fields recorded (see siteNode.fields).
	maxFields = 1 << 16
)

// findSites walks the code reachable from module and globals. It reads raw
// (no metamethod runs), through a queue rather than recursion. It gives up when
// ctx ends, returning ctx's error.
func findSites(ctx context.Context, module, globals, locals *glua.LTable) (*sites, error) {
	type via struct {
		from int // the node reached from, by its first path
		st   step
	}
	type reached struct {
		v      glua.LValue
		root   int
		depth  int
		vias   []via // the first is the node's first path's last step
		direct bool  // reached from the module without an upvalue (some via)
		// firstDirect: the first path is such a path; paths through a node
		// are its first path and a step.
		firstDirect bool
		code        bool
		isMeta      bool          // another's metatable, or made to be one (fields named __...)
		container   bool          // code only as it holds tables of code (see below)
		data        bool          // holds a value other than a function or table
		holds       []placedEntry // the tables its entries of string and boolean keys hold, by index in order
		meta        int           // its metatable's index in order, or -1
	}
	var order []reached
	index := map[glua.LValue]int{}
	visit := func(v glua.LValue, from int, st step) int {
		switch x := v.(type) {
		case *glua.LFunction:
			if x.IsG || x.Proto == nil { // a Go function: nothing to place by
				return -1
			}
		case *glua.LTable:
		default:
			return -1
		}
		// direct: this path comes from the module without an upvalue; a
		// node's first direct path is kept past maxPaths, to match it by.
		direct := from < 0 && v == module || from >= 0 && order[from].firstDirect && st.kind != upvalue
		if i, ok := index[v]; ok {
			if r := &order[i]; r.depth > 0 && (len(r.vias) < maxPaths || direct && !r.direct) {
				for j := from; j != i; j = order[j].vias[0].from {
					if j < 0 { // not through v itself (Enemy.__index = Enemy)
						r.vias = append(r.vias, via{from, st})
						r.direct = r.direct || direct
						break
					}
				}
			}
			return i
		}
		r := reached{v: v, vias: []via{{from, st}}, direct: direct, firstDirect: direct, meta: -1}
		if from >= 0 {
			r.depth, r.root = order[from].depth+1, order[from].root
		}
		_, r.code = v.(*glua.LFunction)
		index[v] = len(order)
		order = append(order, r)
		return len(order) - 1
	}
	expand := func(i int) {
		if order[i].depth >= maxSiteDepth {
			return
		}
		switch v := order[i].v.(type) {
		case *glua.LTable:
			inOrder(v, func(k, x glua.LValue) {
				switch x.Type() {
				case glua.LTFunction:
					order[i].code = true
				case glua.LTTable:
				default:
					order[i].data = true
				}
				if isWiring(k) {
					order[i].code, order[i].isMeta = true, true // made to be a metatable
				}
				switch k.(type) {
				case glua.LString, glua.LBool:
					if j := visit(x, i, step{kind: entry, key: k}); j >= 0 && x.Type() == glua.LTTable {
						order[i].holds = append(order[i].holds, placedEntry{key: k, at: j})
					}
				}
			})
			if mt, ok := v.Metatable.(*glua.LTable); ok {
				j := visit(mt, i, step{kind: meta})
				order[i].meta = j
				order[j].code, order[j].isMeta = true, true
				order[i].code = true // an instance, perhaps a prototype (Programming in Lua's Fast = Enemy:new{})
			}
		case *glua.LFunction:
			for n, uv := range v.Upvalues {
				if uv != nil && n < len(v.Proto.DbgUpvalues) {
					visit(orNil(uv.Value()), i, step{kind: upvalue, key: glua.LString(v.Proto.DbgUpvalues[n]), index: n})
				}
			}
		}
	}
	walk := func(from int) (int, error) {
		for i := from; i < len(order); i++ {
			if i%4096 == 4095 && ctx.Err() != nil {
				return i, ctx.Err()
			}
			expand(i)
		}
		return len(order), nil
	}
	// The module's reach first, whole, so that code the module reaches is
	// placed by its paths from the module before any from the globals.
	visit(module, -1, step{})
	order[0].code = true
	i, err := walk(0)
	if err != nil {
		return nil, err
	}
	if globals != nil {
		if _, ok := index[globals]; !ok {
			visit(globals, -1, step{})
			order[len(order)-1].root = 1
		}
		order[index[globals]].code = true
		if i, err = walk(i); err != nil {
			return nil, err
		}
	}
	if locals != nil { // the chunk's locals last: code no other path reaches
		if _, ok := index[locals]; !ok {
			visit(locals, -1, step{})
			order[len(order)-1].root = 2
			order[len(order)-1].code = true
			if _, err := walk(i); err != nil {
				return nil, err
			}
		}
	}
	for i := range order { // a class object holds its instances' metatable
		for _, e := range order[i].holds {
			if order[e.at].isMeta {
				order[i].code = true
			}
		}
	}
	// A table that holds by name tables of code without data and no data
	// itself (an FSM's states, handlers by event, M.classes) is code too, a
	// container, so that a reload merges it and states the edit adds are
	// there (helper-215: carried as data, it lost them): not one of objects
	// (tables with a metatable) or of tables with data (entities with
	// methods), which are data that moves. Tables of such tables too.
	for changed := true; changed; {
		changed = false
		for i := range order {
			r := &order[i]
			if r.code || r.data || i == 0 || r.meta >= 0 {
				continue
			}
			for _, e := range r.holds {
				if h := &order[e.at]; h.code && !h.data && (h.meta < 0 || h.isMeta) {
					r.code, r.container, changed = true, true, true
					break
				}
			}
		}
	}

	// firstPath returns node i's first path, of depth steps.
	firstPath := func(i int) []step {
		steps := make([]step, order[i].depth)
		for at, j := len(steps)-1, i; at >= 0; at, j = at-1, order[j].vias[0].from {
			steps[at] = order[j].vias[0].st
		}
		return steps
	}
	nodeOf := make([]int, len(order)) // each code node's index in s.nodes, -1 for the rest
	count := 0
	for i, r := range order {
		nodeOf[i] = -1
		if r.code {
			nodeOf[i] = count
			count++
		}
	}
	s := &sites{nodes: make([]siteNode, 0, count)}
	placedAt := map[int]int{} // order's index -> placed's
	placedOf := func(i int) int {
		j, ok := placedAt[i]
		if !ok {
			j = len(s.placed)
			placedAt[i] = j
			s.placed = append(s.placed, placedTable{t: weak.Make(order[i].v.(*glua.LTable))})
		}
		return j
	}
	placedOf(0) // the module
	// A table is placed if entries and metatables lead to it from the
	// module, whatever path found it first (an upvalue's, perhaps), at most
	// maxSiteDepth steps: a table of code so placed is mergeable. It is
	// found breadth first, over every such entry, not only the paths a node
	// keeps: a table has as many places as entries of placed tables hold it
	// (a metatable is no place, but what its entries hold has places).
	placeable := func() []int {
		dist := make([]int, len(order))
		for i := range dist {
			dist[i] = -1
		}
		dist[0] = 0
		queue := []int{0}
		for len(queue) > 0 {
			i := queue[0]
			queue = queue[1:]
			if dist[i] >= maxSiteDepth {
				continue
			}
			next := order[i].holds
			if order[i].meta >= 0 {
				next = append(slices.Clip(next), placedEntry{at: order[i].meta})
			}
			for _, e := range next {
				if dist[e.at] < 0 && order[e.at].v != globals { // globals are not carried, nor placed
					dist[e.at] = dist[i] + 1
					queue = append(queue, e.at)
				}
			}
		}
		return dist
	}()
	for i := range order {
		if placeable[i] < 0 {
			continue
		}
		for _, e := range order[i].holds {
			if placeable[e.at] >= 0 {
				from, at := placedOf(i), placedOf(e.at)
				s.placed[from].in = append(s.placed[from].in, placedEntry{key: e.key, at: at})
				s.placed[at].places++
			}
		}
	}
	for i := range s.placed {
		if p := &s.placed[i]; len(p.in) > manyEntries {
			p.byKey = make(map[glua.LValue]int, len(p.in))
			for j, e := range p.in {
				p.byKey[e.key] = j
			}
		}
	}
	for i, r := range order {
		if !r.code {
			continue
		}
		n := siteNode{stateless: !r.data || r.depth == 0, mergeable: placeable[i] > 0 && r.depth > 0, placed: -1, container: r.container}
		if at, ok := placedAt[i]; ok {
			n.placed = at
		}
		switch v := r.v.(type) {
		case *glua.LTable:
			n.table, n.meta = weak.Make(v), holdValue(orNil(v.Metatable))
			switch {
			case n.mergeable:
				n.entries, n.list = heldEntries(v, false), heldList(v)
			case r.depth > 0:
				// Its wiring, which a reload carries (see codeMatch.wired),
				// and for one with data of its own all of them (see
				// copier.adopt).
				n.entries = heldEntries(v, n.stateless)
			case v == module:
				n.fields = dataFields(v)
			}
		case *glua.LFunction:
			n.fn = weak.Make(v)
		}
		if r.depth > 0 {
			for k, w := range r.vias {
				steps := firstPath(i)
				if k > 0 {
					steps = append(firstPath(w.from), w.st)
				}
				n.paths = append(n.paths, path{root: order[w.from].root, from: nodeOf[w.from], steps: steps})
			}
		}
		s.nodes = append(s.nodes, n)
	}
	return s, nil
}

// heldEntries returns t's entries but those of number keys (only those named
// __..., if wiring), or nil if there are more than maxEntries of them.
func heldEntries(t *glua.LTable, wiring bool) []heldEntry {
	entries := []heldEntry{}
	inOrder(t, func(k, v glua.LValue) {
		if wiring && !isWiring(k) {
			return
		}
		if entries != nil && k.Type() != glua.LTNumber {
			if entries = append(entries, heldEntry{k, holdValue(v)}); len(entries) > maxEntries {
				entries = nil
			}
		}
	})
	return entries
}

// heldList returns t's entries of number keys, or nil if one holds a table
// or a Go value, or there are more than maxEntries of them.
func heldList(t *glua.LTable) []heldEntry {
	list := []heldEntry{}
	inOrder(t, func(k, v glua.LValue) {
		if list == nil || k.Type() != glua.LTNumber {
			return
		}
		switch v.(type) {
		case *glua.LFunction, glua.LNumber, glua.LString, glua.LBool:
			if len(list) < maxEntries {
				list = append(list, heldEntry{k, holdValue(v)})
				return
			}
		}
		list = nil
	})
	return list
}

// dataFields returns the keys of t's fields whose values are not functions,
// those of number keys (its list entries) after the others: each kind nil if
// there are more than maxFields of them.
func dataFields(t *glua.LTable) []glua.LValue {
	keys, list := []glua.LValue{}, []glua.LValue{}
	inOrder(t, func(k, v glua.LValue) {
		if v.Type() == glua.LTFunction {
			return
		}
		to := &keys
		if k.Type() == glua.LTNumber {
			to = &list
		}
		if *to != nil {
			if *to = append(*to, k); len(*to) > maxFields {
				*to = nil
			}
		}
	})
	return append(keys, list...)
}

// isWiring reports whether k names a metamethod or the like: a string
// beginning with "__".
func isWiring(k glua.LValue) bool {
	s, ok := k.(glua.LString)
	return ok && strings.HasPrefix(string(s), "__")
}

// value returns n's table or function, or nil if it was collected.
func (n *siteNode) value() glua.LValue {
	if t := n.table.Value(); t != nil {
		return t
	}
	if f := n.fn.Value(); f != nil {
		return f
	}
	return nil
}

// codeMatch says which code of an old version stands for which of a new one:
// for each piece of old code, the piece of new code that its paths reach in
// the new version, if they agree enough (see matchCode).
type codeMatch struct {
	old    *version
	tables map[*glua.LTable]*glua.LTable
	// classes are the matched tables that stand for the new ones only as
	// metatables (see matchCode), classSites their sites.
	classes    map[*glua.LTable]*glua.LTable
	classSites map[*glua.LTable]*siteNode
	funcs      map[*glua.LFunction]*glua.LFunction
	// merges are the matched tables placed from the module without an upvalue
	// on the way (classes, tables of functions the module holds), in the old
	// version's order, each with its metatable as the old chunk left it:
	// carried into as the module is. wired are the other matched tables (a
	// local's, a global's), which keep the new chunk's data, but into which
	// the wiring the old version's code gave the old ones as it ran is
	// carried: metamethods (a class's self.__index = self in its first new())
	// and a metatable.
	merges, wired []merged
	// gone are the tables of code the module held that would be merged but
	// that the collector took (see goneTable).
	gone []goneTable
	// newCode is the new version's code (see sites), which a carry never
	// fills with old data (see copier.into), but for its containers (a table
	// of states): one takes the old table of data at its place (helper-216: a
	// registry the edit gave its first entry at load, or one too big to merge,
	// split from its local), as a table of data would, and an old container
	// matched with it is merged into it, wherever it is (helper-217).
	newCode    map[glua.LValue]bool
	containers map[*glua.LTable]bool
	// contested says that a piece of old code had two candidates, or two
	// claimed one piece of new code, in a match made without the old
	// version's tables (not held) and without knowing which of its paths
	// hold it still (live): the commit matches again, with them (see
	// matchCode). needs are those pieces of code, by index in the old sites'
	// nodes, and live what the match knew of them, which the commit checks.
	contested bool
	needs     []int
	live      pathsLive
}

// pathsLive is, by old code node (its index in sites.nodes), a bit for each
// of its paths that reaches it in the old version (see matchCode).
type pathsLive map[int]uint8

// livePaths returns which paths of ov's nodes in need, and of those known
// already, reach their node in ov now. The caller holds the script.
func livePaths(ov *version, need []int, known pathsLive) pathsLive {
	out := make(pathsLive, len(need)+len(known))
	for _, i := range need {
		out[i] = liveBits(ov, i)
	}
	for i := range known {
		out[i] = liveBits(ov, i)
	}
	return out
}

// liveBits returns a bit for each path of ov's node i that reaches it in ov
// now (a version's locals, dropped as it went live, reach nothing). The
// caller holds the script.
func liveBits(ov *version, i int) uint8 {
	roots := [3]*glua.LTable{ov.module, ov.L.G.Global, ov.locals}
	n := &ov.sites.nodes[i]
	o := n.value()
	var bits uint8
	for k, p := range n.paths {
		if o != nil && follow(roots, p.root, p.steps) == o {
			bits |= 1 << k
		}
	}
	return bits
}

// same reports whether l and m say the same of each node.
func (l pathsLive) same(m pathsLive) bool { return maps.Equal(l, m) }

// goneTable is an old table of code the module held that nothing reached as
// the reload began, so that the collector took it (sites hold code weakly: an
// FSM's state the script moved M.fsm.current off), by its index in the old
// version's sites.placed, and its counterpart. matchCode matches such code as
// it matches the rest, by its paths: whether the collector took it before
// the reload or not, it claims what it would, and its places count for the
// tables below it (see walkStarts), so that what the reload carries does not
// depend on the collector. It is taken as its chunk left it: what the
// script did to it before it let go of it no longer matters.
type goneTable struct {
	at  int
	new *glua.LTable
}

type merged struct {
	old, new *glua.LTable
	at       *siteNode // the old table's, with its metatable and functions as its chunk left them
}

// matchCode matches the code of ov with that of nv. Each piece of old code
// follows its paths in nv; of the new code they reach, its candidate is the
// one a path reaches from a place that holds the old code still (live: an
// FSM's state the script moved off is no longer at M.fsm.current, where it
// was found first), then the one its first path reaches (where it was found
// first), else the one an upvalue's name reaches (a local's name is where it
// is declared), else the one most of them reach. A piece of new code is the
// counterpart of at most one piece of old code, the candidate with the best
// claim in the same terms; the others have none (M.default = Enemy in the old
// version and M.default = Boss in the new do not make the old Enemy the new
// Boss, whose own paths claim it; the old state of an FSM that the script
// moved off, or let go of, does not take the new state at its place from the
// one the script moved there, helper-210). The modules and the globals match
// each other.
//
// A path's last step is taken from the counterpart of the code it leaves
// from, once there is one: the methods of the old Enemy above, which has
// none, are matched with none of the new Boss's. So the matching repeats
// until it no longer changes (a few rounds at most; paths from code are
// followed from the roots in the first).
//
// It reads ov's sites, which do not change, and nv's tables, which nothing
// else touches before nv is committed; so it runs as a reload stages, without
// holding the script. Only where a piece of old code has two candidates, or
// two claim one piece of new code, does it need ov's tables, to tell which
// claim is live: held (the commit holds the script) it reads them; else it
// takes what live says (see livePaths, which Stage reads holding the script
// a moment, and Commit checks), and where live says nothing it leaves the
// match to the commit (codeMatch.contested). It stops when ctx ends,
// returning nil.
func matchCode(ctx context.Context, ov, nv *version, live pathsLive, held bool) *codeMatch {
	m := &codeMatch{old: ov, tables: map[*glua.LTable]*glua.LTable{}, classes: map[*glua.LTable]*glua.LTable{},
		classSites: map[*glua.LTable]*siteNode{},
		funcs:      map[*glua.LFunction]*glua.LFunction{}}
	m.tables[ov.module] = nv.module
	m.tables[ov.L.G.Global] = nv.L.G.Global
	if ov.sites == nil || nv.sites == nil {
		return m
	}
	code := map[glua.LValue]bool{}
	for i := range nv.sites.nodes {
		if v := nv.sites.nodes[i].value(); v != nil {
			code[v] = true
			if nv.sites.nodes[i].container {
				if m.containers == nil {
					m.containers = map[*glua.LTable]bool{}
				}
				m.containers[v.(*glua.LTable)] = true
			}
		}
	}
	m.newCode = code
	roots := [3]*glua.LTable{nv.module, nv.L.G.Global, nv.locals}
	if held { // what holds the old code still, read once for all rounds
		live = pathsLive{}
	}
	liveAt := func(i int) uint8 {
		bits, ok := live[i]
		if !ok && held {
			bits = liveBits(ov, i)
			live[i] = bits
		}
		return bits
	}
	nodes := ov.sites.nodes
	olds := make([]glua.LValue, len(nodes))
	kinds := make([]glua.LValueType, len(nodes)) // a table's or a function's, there or collected
	for i := range nodes {
		olds[i] = nodes[i].value()
		kinds[i] = glua.LTFunction
		if nodes[i].table != (weak.Pointer[glua.LTable]{}) {
			kinds[i] = glua.LTTable
		}
	}
	type claim struct {
		old      int // index in nodes
		votes    int
		first    bool // reached by the old code's first path: where it was found first
		declared bool // reached by a path ending in an upvalue
		// kept counts the old table's entries (as its chunk left them)
		// whose keys a table of data in its place has too: of two tables
		// of code whose places the edit gave one table of data, the one
		// whose last function it removed (its data kept) stands for it,
		// not the other (helper-193), whatever order they were found in.
		kept int
		// live: the old code is at the place one of these paths names
		// still, as the reload commits (held), where it was found.
		live bool
	}
	better := func(a, b claim) bool {
		if a.live != b.live {
			return a.live
		}
		if a.first != b.first {
			return a.first
		}
		if a.declared != b.declared {
			return a.declared
		}
		if a.votes != b.votes {
			return a.votes > b.votes
		}
		if a.kept != b.kept {
			return a.kept > b.kept
		}
		return a.old < b.old
	}
	type candidate struct {
		v glua.LValue
		claim
	}
	type home struct {
		candidate
		lost glua.LValue // the candidate it lost, perhaps
	}
	var homes []home
	var (
		matched  []glua.LValue // each node's counterpart in the last round
		best     map[glua.LValue]claim
		involved = map[int]bool{} // pieces of old code with two candidates, or claiming one piece of new code with another
		cands    []candidate
		work     int
	)
	for round := 0; round < 4; round++ {
		best = map[glua.LValue]claim{}
		for i, o := range olds {
			if i == 0 || o == ov.L.G.Global { // the module, the globals: matched above
				continue
			}
			cands = cands[:0]
			for k, p := range nodes[i].paths {
				if work++; work%1024 == 0 && ctx != nil && ctx.Err() != nil {
					return nil
				}
				var v glua.LValue
				switch from := p.from; {
				case matched == nil || from < 0:
					v = follow(roots, p.root, p.steps)
				case len(nodes[from].paths) == 0: // from a root: the module, the globals, the chunk's locals
					v = follow(roots, p.root, p.steps)
				case matched[from] != nil:
					v = take(matched[from], p.steps[len(p.steps)-1])
				}
				// Code, or for a table of code the module holds, any table
				// in its place: one whose last function the edit removed is
				// merged too, and loses it.
				if _, table := v.(*glua.LTable); !code[v] && !(table && nodes[i].mergeable) {
					continue
				}
				if v == nil || v == roots[0] || v == roots[1] || v.Type() != kinds[i] {
					continue
				}
				at := slices.IndexFunc(cands, func(c candidate) bool { return c.v == v })
				if at < 0 {
					at = len(cands)
					cands = append(cands, candidate{v: v, claim: claim{old: i, kept: keptIn(nodes[i].entries, v, code)}})
				}
				c := &cands[at].claim
				c.votes++
				c.first = c.first || k == 0
				c.declared = c.declared || p.steps[len(p.steps)-1].kind == upvalue || p.root == 2 && len(p.steps) == 1
				c.live = c.live || liveAt(i)&(1<<k) != 0
			}
			if len(cands) == 0 {
				continue
			}
			top := slices.MinFunc(cands, func(a, b candidate) int {
				if better(a.claim, b.claim) {
					return -1
				}
				return 1
			})
			prev, ok := best[top.v]
			if len(cands) > 1 {
				involved[i] = true
			}
			if ok {
				involved[i], involved[prev.old] = true, true
			}
			if !ok || better(top.claim, prev) {
				best[top.v] = top.claim
			}
			// Its home, the candidate its first place reaches, where a place
			// that holds it still reaches other code (an alias the edit
			// re-pointed, helper-214): its counterpart if that one goes to
			// other old code and no old code claims the home.
			if h := slices.IndexFunc(cands, func(c candidate) bool { return c.first }); h >= 0 && cands[h].v != top.v {
				homes = append(homes, home{cands[h], top.v})
			}
		}
		for _, h := range homes {
			if _, taken := best[h.v]; !taken && best[h.lost].old != h.old {
				best[h.v] = h.claim
			}
		}
		homes = homes[:0]
		next := make([]glua.LValue, len(nodes))
		for v, c := range best {
			next[c.old] = v
		}
		if matched != nil && slices.Equal(next, matched) {
			break
		}
		matched = next
	}
	if !held {
		for i := range involved {
			if _, known := live[i]; !known {
				m.contested = true
			}
		}
		m.needs = slices.Sorted(maps.Keys(involved))
	}
	for i, v := range matched {
		if t, ok := v.(*glua.LTable); ok && olds[i] == nil && nodes[i].mergeable && nodes[i].entries != nil && nodes[i].placed >= 0 {
			m.gone = append(m.gone, goneTable{at: nodes[i].placed, new: t})
		}
		switch o := olds[i].(type) {
		case *glua.LTable:
			if t, ok := v.(*glua.LTable); ok {
				switch n := &nodes[i]; {
				case n.mergeable && n.entries != nil:
					m.merges = append(m.merges, merged{old: o, new: t, at: n})
				case n.mergeable:
					continue // too big to merge: copied as data, as before classes were carried
				default:
					// A local's or global's table (a class, an object with
					// methods, a table of handlers): the new one where the
					// old one is an object's metatable, its data starting
					// over as locals do; but where the module's data holds
					// it (a class in a list of the module, a registry), the
					// new one with the old one's data (see copier.adopt),
					// the chunk's or what the script gave it as it ran.
					m.classes[o] = t
					m.classSites[o] = n
					m.wired = append(m.wired, merged{old: o, new: t, at: n})
					continue
				}
				m.tables[o] = t
			}
		case *glua.LFunction:
			if f, ok := v.(*glua.LFunction); ok {
				m.funcs[o] = f
			}
		}
	}
	return m
}

// keptIn returns how many of entries' keys v has, if v is a table of data (see
// claim.kept), else 0.
func keptIn(entries []heldEntry, v glua.LValue, code map[glua.LValue]bool) int {
	t, ok := v.(*glua.LTable)
	if !ok || code[v] {
		return 0
	}
	n := 0
	for _, e := range entries {
		if t.RawGet(e.key) != glua.LNil {
			n++
		}
	}
	return n
}

// follow returns what steps reach from roots[root], or nil.
func follow(roots [3]*glua.LTable, root int, steps []step) glua.LValue {
	if roots[root] == nil { // a version's locals, dropped
		return nil
	}
	var at glua.LValue = roots[root]
	for _, st := range steps {
		if at = take(at, st); at == nil {
			return nil
		}
	}
	return at
}

// take returns what st reaches from at, or nil if nothing does.
func take(at glua.LValue, st step) glua.LValue {
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
		at = upvalueNamed(f, st)
	}
	if at == glua.LNil {
		return nil
	}
	return at
}

// upvalueNamed returns f's upvalue of st's name: the one at st's index, if
// it has that name, else the first of that name.
func upvalueNamed(f *glua.LFunction, st step) glua.LValue {
	names, name := f.Proto.DbgUpvalues, string(st.key.(glua.LString))
	n := st.index
	if n >= len(names) || names[n] != name {
		n = slices.Index(names, name)
	}
	if n < 0 || n >= len(f.Upvalues) || f.Upvalues[n] == nil {
		return glua.LNil
	}
	return orNil(f.Upvalues[n].Value())
}
