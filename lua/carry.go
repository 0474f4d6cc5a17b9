package lua

import (
	"maps"
	"slices"
	"weak"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
)

// copier deep-copies values from an old version's LState into a new one. Tables
// become new tables, and a table reached twice is copied once, so shared subtables
// stay shared and cycles stay cycles. A copy is filled in the order pairs walks the
// original (see inOrder), so it iterates as the original did, and has the
// original's metatable, copied the same way. Code the new version has in the
// place of the old (see matchCode) is not copied but stands for the old: a class
// or a function the old version's data refers to is the new version's. Another
// Lua function of the old version (a closure made as the script ran) is copied
// as a closure: the old code on copies of its upvalues, which hold the copies
// of their values, and the new version's globals (see closure). Go functions,
// and userdata, are copied by reference. Coroutines and channels are not
// copied at all (they are tied to the old LState); the new version keeps its
// own value for that field.
//
// The copy works through a list of tables to fill, not by recursion: a script can
// nest tables millions deep (a long linked list), and recursing that deep would
// overflow the Go stack, which kills the process.
type copier struct {
	L    *glua.LState // the new version's, to make tables
	seen map[*glua.LTable]*glua.LTable
	todo []*glua.LTable // tables of the old version whose copies are still empty
	fns  map[*glua.LFunction]*glua.LFunction
	// closures are the copies of the old version's closures that no new code
	// stands for, upvalues the copies of their upvalues (two closures that
	// share a local share its copy), closing the closures whose copies'
	// upvalues are still to fill; env the two versions' globals.
	closures map[*glua.LFunction]*glua.LFunction
	upvalues map[*glua.Upvalue]*glua.Upvalue
	closing  []*glua.LFunction
	env      [2]*glua.LTable
	// hidden are the old tables first met through a closure's upvalue, or
	// through such a table, as the copy fills them; hiding says that the
	// copies ref makes now are hidden. openly are the hidden ones met since
	// from data, which on_restore may reach. Those with a protected
	// metatable (shielded) get it once all is copied, if on_restore cannot
	// reach their copies to set it again (see protect).
	hidden   map[*glua.LTable]bool
	hiding   bool
	openly   map[*glua.LTable]bool
	shielded []*glua.LTable
	// classes stand for the new tables as metatables (codeMatch.classes);
	// where data refers to one, the new table adopts its data (adopted,
	// filled by adopt). code are the tables matched as code (codeMatch.tables).
	classes, code map[*glua.LTable]*glua.LTable
	adopted       [][2]*glua.LTable
	// deferred are the classes wiring met, not adopted for that (see carry):
	// one that data met later (what on_save returns) is adopted then.
	deferred   map[*glua.LTable]*glua.LTable
	classSites map[*glua.LTable]*siteNode
	newCode    map[glua.LValue]bool // the new version's (codeMatch.newCode)
	// newLists are the merged tables whose lists are the new chunk's (see
	// pairLists).
	newLists map[*glua.LTable]bool
	// removed are the old tables of code no new code stands for (the edit
	// removed them), but those too big to merge, objects and those holding
	// data (state), which a merged table does not keep where its chunk left
	// them and the new chunk left nothing: a state an edit removed from a
	// table of states, which must not come back running its old code
	// (helper-218; see mergeCode).
	removed map[*glua.LTable]bool

	// shared is set once a function or userdata is copied by reference: through
	// it, code of the new version can reach the old version's tables.
	shared bool

	// ordered are the copies whose tables' pairs orders had removed keys'
	// places, with those orders as they were when copied (see setPairsOrders).
	ordered []orderedCopy
}

// newCopier returns a copier from ov into nv that starts from m: each old
// table and function m matched is its counterpart.
func newCopier(ov, nv *version, m *codeMatch) *copier {
	c := &copier{L: nv.L, seen: map[*glua.LTable]*glua.LTable{}, fns: m.funcs, classes: m.classes, code: m.tables,
		classSites: m.classSites, newCode: m.newCode, env: [2]*glua.LTable{ov.L.G.Global, nv.L.G.Global}}
	for o, n := range m.tables {
		c.seen[o] = n
	}
	return c
}

// value returns the copy of v, complete, and false if v is not copied.
func (c *copier) value(v glua.LValue) (glua.LValue, bool) {
	cv, ok := c.ref(v)
	c.fill()
	return cv, ok
}

// fill fills the copies on the todo and closing lists, and those their
// filling begins.
func (c *copier) fill() {
	for len(c.todo) > 0 || len(c.closing) > 0 {
		if n := len(c.closing); n > 0 {
			f := c.closing[n-1]
			c.closing = c.closing[:n-1]
			g := c.closures[f]
			c.hiding = true
			for i, uv := range f.Upvalues {
				g.Upvalues[i] = c.upvalue(uv)
			}
			c.hiding = false
			continue
		}
		t := c.todo[len(c.todo)-1]
		c.todo = c.todo[:len(c.todo)-1]
		n := c.seen[t]
		c.hiding = c.hidden[t]
		n.SetArrayLen(t.ArrayLen()) // its nil slots too: laid out as t is
		inOrder(t, func(k, v glua.LValue) {
			ck, okk := c.ref(k)
			cv, okv := c.ref(v)
			if okk && okv {
				n.RawSetLaidOut(ck, cv)
			}
		})
		if t.RemovedPlaces() > 0 {
			c.ordered = append(c.ordered, orderedCopy{n, t.PairsOrder()}) // see setPairsOrders
		}
		if mt, ok := t.Metatable.(*glua.LTable); ok && !protected(mt) {
			n.Metatable = c.meta(mt)
		} else if ok && c.hiding {
			c.shielded = append(c.shielded, t)
		}
		c.hiding = false
	}
}

// pairsOrder returns order, a table's pairs order when it was copied, for its
// copy: a key that is a string, number or boolean as it is, one that is a
// table or function as its copy if the reload copied it (copied: every key the
// table held, and a removed one held elsewhere), and an empty place for
// others, which the copy does not hold. A
// traversal that cleared the key it stood on (a sweep spread over frames)
// goes on after a reload where it was, as it would have without the reload
// (helper-266: next raised "invalid key to 'next'"), and the copy compacts
// when t would have.
func (c *copier) pairsOrder(order []glua.LValue) []glua.LValue {
	mapped := make([]glua.LValue, len(order))
	for i, k := range order {
		switch k.(type) {
		case glua.LString, glua.LNumber, glua.LBool:
			mapped[i] = k
			continue
		}
		mapped[i] = glua.LNil
		if ck := c.copied(k); ck != nil {
			mapped[i] = ck
		}
	}
	return mapped
}

// orderedCopy is a copy and its table's pairs order when it was copied
// (LTable.PairsOrder): on_save may change the table, not the copy
// (helper-270: a compaction or a key moved into the array part by on_save
// took places the copy needed).
type orderedCopy struct {
	copy  *glua.LTable
	order []glua.LValue
}

// copied returns what k, a table, function or userdata key, is in the new
// version, as ref gives it but without copying anything: a table's copy if
// the reload has made one, a function's counterpart or copy, or else the
// function or userdata itself, which a reload carries by reference; nil for
// a table not copied.
func (c *copier) copied(k glua.LValue) glua.LValue {
	switch k := k.(type) {
	case *glua.LTable:
		if n := c.seen[k]; n != nil {
			return n
		}
	case *glua.LFunction:
		if n := c.fns[k]; n != nil {
			return n
		}
		if n := c.closures[k]; n != nil {
			return n
		}
		return k
	case *glua.LUserData:
		return k
	}
	return nil
}

// meta returns the copy of mt as a metatable: a class's counterpart, if it has
// one, else ref's copy.
func (c *copier) meta(mt *glua.LTable) glua.LValue {
	if n, ok := c.classes[mt]; ok {
		return n
	}
	v, _ := c.ref(mt)
	return v
}

// ref returns the copy of v, a table's copy perhaps still empty (on the todo list).
func (c *copier) ref(v glua.LValue) (glua.LValue, bool) {
	switch v := v.(type) {
	case *glua.LTable:
		if n, ok := c.seen[v]; ok {
			if c.hidden[v] && !c.hiding {
				if c.openly == nil {
					c.openly = map[*glua.LTable]bool{}
				}
				c.openly[v] = true
			}
			if d, ok := c.deferred[v]; ok { // met as data at last
				delete(c.deferred, v)
				c.adopted = append(c.adopted, [2]*glua.LTable{v, d})
			}
			return n, true
		}
		if n, ok := c.classes[v]; ok {
			c.seen[v] = n
			c.adopted = append(c.adopted, [2]*glua.LTable{v, n})
			return n, true
		}
		n := c.L.CreateTable(sizeHint(v)) // NewTable would reserve 32 of each
		c.seen[v] = n
		c.todo = append(c.todo, v)
		if c.hiding {
			if c.hidden == nil {
				c.hidden = map[*glua.LTable]bool{}
			}
			c.hidden[v] = true
		}
		return n, true
	case *glua.LState, glua.LChannel:
		return glua.LNil, false
	case *glua.LFunction:
		if g, ok := c.fns[v]; ok {
			return g, true
		}
		if g := c.closure(v); g != nil {
			return g, true
		}
		c.shared = true
	case *glua.LUserData:
		c.shared = true
	}
	return v, true
}

// closure returns the copy of f, a Lua function of the old version that no
// new code stands for (a closure made as the script ran, a function literal
// in a list), its upvalues perhaps still to fill (on the closing list): f's
// code on the new version's state, so that what it reads and writes through
// its locals (M, self, a table of the module's) is what the new version
// has, not tables no longer live. nil for a Go function, or one whose
// environment is not the old version's globals: copied by reference.
func (c *copier) closure(f *glua.LFunction) *glua.LFunction {
	if g, ok := c.closures[f]; ok {
		return g
	}
	if f.IsG || f.Env != c.env[0] {
		return nil
	}
	g := &glua.LFunction{Env: c.env[1], Proto: f.Proto, Upvalues: make([]*glua.Upvalue, len(f.Upvalues))}
	if c.closures == nil {
		c.closures, c.upvalues = map[*glua.LFunction]*glua.LFunction{}, map[*glua.Upvalue]*glua.Upvalue{}
	}
	c.closures[f] = g
	c.closing = append(c.closing, f)
	return g
}

// protect gives the shielded tables' copies their protected metatables, but
// those on_restore may reach: met from data, or below a hidden table that
// was, through tables (a closure's locals are out of its reach), for
// on_restore to set again, which it could not once set (helper-229,
// helper-230). It runs once all is copied, what on_save returned included,
// before on_restore, in time linear in the hidden tables.
func (c *copier) protect() {
	if len(c.shielded) == 0 {
		return
	}
	open := make(map[*glua.LTable]bool, len(c.openly))
	var q []*glua.LTable
	for t := range c.openly {
		open[t] = true
		q = append(q, t)
	}
	visit := func(v glua.LValue) {
		if t, ok := v.(*glua.LTable); ok && c.hidden[t] && !open[t] {
			open[t] = true
			q = append(q, t)
		}
	}
	for len(q) > 0 {
		t := q[len(q)-1]
		q = q[:len(q)-1]
		inOrder(t, func(k, v glua.LValue) { visit(k); visit(v) })
		visit(orNil(t.Metatable))
	}
	for _, t := range c.shielded {
		if !open[t] {
			c.seen[t].Metatable = c.meta(t.Metatable.(*glua.LTable))
		}
	}
	c.shielded = nil
	c.fill()
}

// upvalue returns the copy of uv, closed, holding the copy of its value (a
// coroutine's, which is not copied, the old one).
func (c *copier) upvalue(uv *glua.Upvalue) *glua.Upvalue {
	if uv == nil {
		return nil
	}
	if n, ok := c.upvalues[uv]; ok {
		return n
	}
	n := &glua.Upvalue{} // closed: no register holds its value
	c.upvalues[uv] = n
	v := orNil(uv.Value())
	if cv, ok := c.ref(v); ok {
		v = cv
	} else {
		c.shared = true
	}
	n.SetValue(v)
	return n
}

// carry copies the state of the old version into the new one, as m matched
// their code (step 1 of Commit, 3 of the package doc's reload), and returns the
// names of the module's fields carried, sorted.
//
// Every field of the old module whose value is not a function is copied into
// the new module, where the old value replaces the new one: functions always
// come from the new source, and a field that is a function in the new version
// keeps it even where the old version had data. A data field the old chunk
// set that the script removed as it ran stays removed.
//
// A table m merges (a class, a table of functions the module holds) keeps
// what the old version's code changed in it as it ran, and follows the new
// chunk for the rest (see mergeCode). A table m wires (a local or global
// class) is the new chunk's, with the wiring the old code gave the old one:
// metamethods (fields named __...) it lacks, as the self.__index = self of a
// class's first new(), and a metatable changed as the script ran. Any other
// table is copied whole.
//
// The fields are set in from's pairs order. A field the new chunk set keeps the
// place in to's pairs order that the chunk gave it (gopher-lua places a key where
// it was first set); the others follow, in from's order.
func (c *copier) carry(m *codeMatch, ov, nv *version) []string {
	var loaded []glua.LValue
	if ov.sites != nil && len(ov.sites.nodes) > 0 {
		loaded = ov.sites.nodes[0].fields // the module's
	}
	c.pairLists(m)
	c.intoChunk(m, ov, nv)
	c.removed = unmatchedCode(m, ov, false)
	for t := range c.removed { // an object, or what holds data, is state: not a state removed (helper-219)
		if orNil(t.Metatable) != glua.LNil || !onlyCode(t) {
			delete(c.removed, t)
		}
	}
	names := c.carryFields(ov.module, nv.module, loaded, nil)
	for _, mg := range m.merges {
		c.mergeCode(mg)
	}
	c.adopt()
	for _, w := range m.wired {
		loaded := heldByKey(w.at.entries)
		inOrder(w.old, func(k, v glua.LValue) {
			if h, ok := loaded[k]; ok && h.is(v) {
				return // as the old chunk left it: the new chunk decides
			}
			if isWiring(k) && orNil(w.new.RawGet(k)) == glua.LNil {
				if t, ok := v.(*glua.LTable); ok {
					w.new.RawSet(k, c.meta(t)) // self.__index = self: the class
					c.fill()
				} else if cv, ok := c.value(v); ok {
					w.new.RawSet(k, cv)
				}
			}
		})
		c.rewire(w)
	}
	// What wiring met is not adopted: a class reached only that way (a local
	// class a global's metatable reaches) starts over, as the package doc
	// says, unless data meets it after all (what on_save returns).
	for _, a := range c.adopted {
		if c.deferred == nil {
			c.deferred = map[*glua.LTable]*glua.LTable{}
		}
		c.deferred[a[0]] = a[1]
	}
	c.adopted = nil
	c.setPairsOrders()
	return names
}

// setPairsOrders gives the copies of the tables in c.ordered their tables'
// pairs orders, once everything is copied, at the end of carry and again
// once on_save's result is: a removed key that is a table or function has its
// place only if it was copied, held elsewhere (a sweep's cursor kept in a
// field or returned by on_save; helpers 268, 269), which may come after the
// table it was a key of. Nothing runs on the copies before on_restore.
func (c *copier) setPairsOrders() {
	for _, o := range c.ordered {
		o.copy.SetPairsOrder(c.pairsOrder(o.order))
	}
}

// intoChunk makes the module's tables of data the new chunk's tables: where
// the old chunk left a table of data at a place (a field of the module, a
// field of such a table or of a table of code merged into its counterpart,
// up to 12 steps from the module, as sites follow them: M.stats,
// M.inventory.items, M.Enemy.made; not a list's entries) and the old module
// holds it there still, and the new chunk's module holds one of its own at
// the same place, the old one is copied into the new one, so that a local of
// the new chunk that holds it too (local enemies = {}; M.enemies = enemies,
// or local items = M.inventory.items) holds the carried state. The new table
// is emptied first, and filled in the old one's pairs order. A table the new
// version holds as code, or at two places that do not both hold the same
// old table (or at places findSites did not record), is left alone (the old one is
// copied into a table of its own, as any other), as are the new tables at
// the places of an old table that meets more than one, and so is a place the
// script gave another table as it ran, and what is below it (the new
// chunk's table there stays its own: a constant). The walk goes through a
// list of tables, not by recursion (see copier), each place once, in time
// linear in the places.
func (c *copier) intoChunk(m *codeMatch, ov, nv *version) {
	if m.newCode == nil || ov.sites == nil || nv.sites == nil || len(ov.sites.placed) == 0 { // nothing known of the tables
		return
	}
	from, to, placed := ov.module, nv.module, ov.sites.placed
	mergedTo := make(map[*glua.LTable]*glua.LTable, len(m.merges))
	into := make(map[*glua.LTable]bool, len(m.merges))
	for _, mg := range m.merges {
		mergedTo[mg.old] = mg.new
		into[mg.new] = true
	}
	passBy := passedBy(unmatchedCode(m, ov, true), into)
	npl := nv.sites.placed
	reached := make([]int, len(npl))            // at how many of its places the walk reached each new table
	claimedBy := make([]*glua.LTable, len(npl)) // the old table the walk found at its places (they agree unless alone)
	alone := make([]bool, len(npl))
	walked := make([]bool, len(npl))      // walked below: paired, or a table of code merged
	merges := make([]bool, len(npl))      // a table of code merged: never left alone
	below := make([][2]int, len(npl))     // the new tables walking below each reached: a span of reach
	var reach []int                       // each walk's, one after the other
	newFor := make([]int, len(placed))    // the new table each old one went to, +1
	met := make([]*glua.LTable, len(npl)) // the first old table the walk met at each new one's places
	twice := make([]bool, len(npl))       // and another one there too
	var paired []int                      // the new tables paired, in the order found
	var walk []place
	// leave leaves new table j alone, and takes back the walk below it: the
	// tables it reached there are reached at fewer places than they have,
	// or none, and left alone in turn. A table is walked below once at
	// most, and taken back once, so that all of it is linear in the places.
	var back []int
	leave := func(j int) {
		if merges[j] {
			return
		}
		if !alone[j] {
			alone[j] = true
			back = append(back, j)
		}
		for len(back) > 0 {
			k := back[len(back)-1]
			back = back[:len(back)-1]
			if !walked[k] {
				continue
			}
			walked[k] = false
			for _, c := range reach[below[k][0]:below[k][1]] {
				if reached[c]--; !alone[c] && !merges[c] {
					alone[c] = true
					back = append(back, c)
				}
			}
		}
	}
	newAt := placedIndex(npl)
	starts := walkStarts(m, placed, npl, newAt, from, to)
	for i, p := range starts {
		if !walked[p.nat] {
			walked[p.nat], merges[p.nat] = true, i > 0
			walk = append(walk, p)
		}
	}
	for len(walk) > 0 {
		p := walk[len(walk)-1]
		walk = walk[:len(walk)-1]
		if !walked[p.nat] { // taken back meanwhile
			continue
		}
		below[p.nat] = [2]int{len(reach), len(reach)}
		for _, e := range placed[p.at].in {
			if !walked[p.nat] { // taken back as it was walked (a table below it reaches it)
				break
			}
			old := p.holds(e.key, placed[e.at].t.Value())
			if old == nil { // not the table the old chunk left there
				continue
			}
			j := npl[p.nat].child(e.key)
			if j < 0 {
				continue
			}
			n, ok := p.new.RawGet(e.key).(*glua.LTable)
			if !ok || n != npl[j].t.Value() || n == to || m.newCode[n] && !m.containers[n] && mergedTo[old] != n || passBy(old, n) {
				continue
			}
			reached[j]++
			reach = append(reach, j)
			below[p.nat][1] = len(reach)
			if met[j] == nil {
				met[j] = old
			} else if met[j] != old {
				twice[j] = true
			}
			code := c.code[old] != nil || c.classes[old] != nil
			if !code { // one old table of data, two new ones: neither
				if k := newFor[e.at] - 1; k >= 0 && k != j {
					leave(k)
					leave(j)
					continue
				}
				newFor[e.at] = j + 1
			}
			switch {
			case alone[j]:
				continue
			case claimedBy[j] != nil && claimedBy[j] != old: // two old tables would go into it
				leave(j)
				continue
			}
			claimedBy[j] = old
			if walked[j] {
				continue // at another place too, which walked below it
			}
			if code {
				if mergedTo[old] == n { // a table of code merged into its counterpart: its tables of data
					walked[j], merges[j] = true, true
					walk = append(walk, place{e.at, j, old, n})
				}
				continue
			}
			if _, seen := c.seen[old]; seen {
				continue
			}
			paired = append(paired, j)
			walked[j] = true
			walk = append(walk, place{e.at, j, old, n}) // before n is emptied
		}
	}
	for j, r := range reached { // reached at other places than the new chunk left it at
		if r != 0 && r != npl[j].places && !merges[j] {
			leave(j)
		}
	}
	// A table of code the edit made data that is at no such place is not
	// merged: the script gave its place another table as it ran, and the
	// new chunk's table there is a constant of its own, not its
	// counterpart; the old one, if data still holds it, is copied as data.
	// Nor is one whose new table the walk met other old tables at too (a
	// table of data, another made data): two old tables would go into it,
	// and one be lost (helper-192); each is copied, and the new table stays
	// its own, as a table of data's would.
	held := madeDataHeld(m, mergedTo, passBy, placed, npl, starts, to)
	m.merges = slices.DeleteFunc(m.merges, func(mg merged) bool {
		if j, ok := newAt[mg.new]; m.newCode[mg.new] || held[mg.old] && !(ok && (twice[j] || met[j] != nil && met[j] != mg.old)) {
			return false
		}
		delete(m.tables, mg.old) // c.code
		delete(c.seen, mg.old)
		return true
	})
	var pairs [][2]*glua.LTable // old, new: emptied once all are found
	for _, j := range paired {
		if !alone[j] && reached[j] > 0 && walked[j] {
			pairs = append(pairs, [2]*glua.LTable{claimedBy[j], npl[j].t.Value()})
		}
	}
	for _, p := range pairs {
		c.seen[p[0]] = p[1]
	}
	for _, p := range pairs {
		// Emptied, without its metatable, sized for old's entries; the
		// same table for what holds it (the new version's functions).
		*p[1] = *c.L.CreateTable(sizeHint(p[0]))
		c.todo = append(c.todo, p[0]) // filled as carryFields copies the field
	}
}

// madeDataHeld returns the old tables of code that the edit made data (the
// merges whose new table holds no code) found at a place where both chunks
// left them, the old one there still, with its counterpart in the new one:
// through the places of both versions at once, by key, from the module and
// from the merged tables of code (wherever they are now), where the old
// chunk's table is there still and the new one is no other old table's
// merged code (as intoChunk walks), each pair of places once, whatever
// intoChunk leaves alone (so that its order does not decide). A pair looks
// through the entries of the smaller of its two tables, so that one table at
// many places of other tables costs what they hold, not its size each time.
func madeDataHeld(m *codeMatch, mergedTo map[*glua.LTable]*glua.LTable, passBy func(old, n *glua.LTable) bool, placed, npl []placedTable, starts []place, to *glua.LTable) map[*glua.LTable]bool {
	want := map[*glua.LTable]*glua.LTable{}
	for _, mg := range m.merges {
		if !m.newCode[mg.new] {
			want[mg.old] = mg.new
		}
	}
	if len(want) == 0 {
		return nil
	}
	walk := slices.Clone(starts)
	seen := map[[2]int]bool{}
	for _, p := range walk {
		seen[[2]int{p.at, p.nat}] = true
	}
	held := map[*glua.LTable]bool{}
	// Places that reach one another in cycles of different lengths in the
	// two versions (a ring of entities that the edit made longer) pair
	// every place of one with every place of the other: past this many
	// pairs the walk stops, and what it has not found held is copied as
	// data, as a table of data (helper-190: 4,000 entities held callers
	// 16 s and took 1 GB).
	budget := 4*(len(placed)+len(npl)) + 1024
	step := func(p place, key glua.LValue, at, j int) {
		if at < 0 || j < 0 {
			return
		}
		old := p.holds(key, placed[at].t.Value())
		if old == nil {
			return
		}
		n, ok := p.new.RawGet(key).(*glua.LTable)
		if !ok || n != npl[j].t.Value() || n == to || m.newCode[n] && !m.containers[n] && mergedTo[old] != n || passBy(old, n) {
			return
		}
		if want[old] == n {
			held[old] = true
		}
		if k := [2]int{at, j}; !seen[k] && len(seen) < budget {
			seen[k] = true
			walk = append(walk, place{at, j, old, n})
		}
	}
	for len(walk) > 0 {
		p := walk[len(walk)-1]
		walk = walk[:len(walk)-1]
		if olds, news := placed[p.at].in, npl[p.nat].in; len(olds) <= len(news) {
			for _, e := range olds {
				step(p, e.key, e.at, npl[p.nat].child(e.key))
			}
		} else {
			for _, e := range news {
				step(p, e.key, placed[p.at].child(e.key), e.at)
			}
		}
	}
	return held
}

// unmatchedCode returns the old version's tables of code that the match gave
// no counterpart (a table whose first place the edit gave other code, one too
// big to merge, one whose place's new table another old table stands for;
// not one too big to merge, if !tooBig).
func unmatchedCode(m *codeMatch, ov *version, tooBig bool) map[*glua.LTable]bool {
	var out map[*glua.LTable]bool
	if ov.sites == nil {
		return nil
	}
	for i := range ov.sites.nodes {
		n := &ov.sites.nodes[i]
		t := n.table.Value()
		if t == nil || t == ov.module || !tooBig && n.mergeable && n.entries == nil {
			continue
		}
		if _, ok := m.tables[t]; ok {
			continue
		}
		if _, ok := m.classes[t]; ok {
			continue
		}
		if out == nil {
			out = map[*glua.LTable]bool{}
		}
		out[t] = true
	}
	return out
}

// onlyCode reports whether t holds only functions and tables.
func onlyCode(t *glua.LTable) bool {
	only := true
	t.ForEach(func(_, v glua.LValue) {
		if t := v.Type(); t != glua.LTFunction && t != glua.LTTable {
			only = false
		}
	})
	return only
}

// passedBy returns whether the walks pass by old at a place whose new table is
// n: old is a table of code no new code stands for (see unmatchedCode), and
// another old table is merged into n (into holds the tables merged into), which
// old must not go into, nor count as a second old table met there (helper-193:
// a handler table made data, its place shared with such a table, was copied
// whole, its removed handler running on). Anywhere else such a table is walked
// as data.
func passedBy(unmatched, into map[*glua.LTable]bool) func(old, n *glua.LTable) bool {
	return func(old, n *glua.LTable) bool { return unmatched[old] && into[n] }
}

// place is a place of both versions at once, the walks of intoChunk and
// madeDataHeld going through them by key: at is its index in the old
// version's sites.placed, nat in the new one's, old and new their tables
// (old nil for a table of code the collector took: see goneTable).
type place struct {
	at, nat  int
	old, new *glua.LTable
}

// holds returns chunk, the table the old chunk left at key of p's old table,
// if it is there still, else nil. In a table the collector took, it is.
func (p place) holds(key glua.LValue, chunk *glua.LTable) *glua.LTable {
	if chunk == nil || p.old != nil && p.old.RawGet(key) != chunk {
		return nil
	}
	return chunk
}

// walkStarts returns where the walks over both versions' places start: the
// modules, then every merged table of code that both chunks placed and that
// stays code, wherever it is now (a state of an FSM the script moved
// M.fsm.current off, a class only objects' metatables reach), whose places
// count for the tables below it, and one the collector took, as its chunk
// left it (see goneTable). One the edit made data (its last function
// removed) is merged only if it is at a place of both chunks still (see
// madeDataHeld).
func walkStarts(m *codeMatch, placed, npl []placedTable, newAt map[*glua.LTable]int, from, to *glua.LTable) []place {
	starts := []place{{0, 0, from, to}}
	oldAt := placedIndex(placed)
	for _, mg := range m.merges {
		a, oka := oldAt[mg.old]
		j, okj := newAt[mg.new]
		if oka && okj && m.newCode[mg.new] {
			starts = append(starts, place{a, j, mg.old, mg.new})
		}
	}
	for _, g := range m.gone {
		if j, ok := newAt[g.new]; ok && m.newCode[g.new] {
			starts = append(starts, place{g.at, j, nil, g.new})
		}
	}
	return starts
}

// placedIndex returns the index of each table of placed.
func placedIndex(placed []placedTable) map[*glua.LTable]int {
	at := make(map[*glua.LTable]int, len(placed))
	for i := range placed {
		if t := placed[i].t.Value(); t != nil {
			at[t] = i
		}
	}
	return at
}

// adopt carries into each class the copy met as data (a class with data of its
// own that the module's data holds, or a local or global object with methods)
// the old one's data, as carryFields carries the module's, so that it is one
// table with the old one's state, wherever it is used.
func (c *copier) adopt() {
	for len(c.adopted) > 0 {
		a := c.adopted[0]
		c.adopted = c.adopted[1:]
		var loaded []glua.LValue // its data fields as its chunk left them
		var unchanged map[glua.LValue]bool
		if at := c.classSites[a[0]]; at != nil {
			for _, e := range at.entries {
				if e.val.fn == (weak.Pointer[glua.LFunction]{}) {
					loaded = append(loaded, e.key)
				}
				if e.val.plain != nil && e.val.plain != glua.LNil && e.val.is(a[0].RawGet(e.key)) {
					if unchanged == nil {
						unchanged = map[glua.LValue]bool{}
					}
					unchanged[e.key] = true
				}
			}
		}
		c.carryFields(a[0], a[1], loaded, unchanged)
	}
}

// carryFields copies from's fields into to, the module's, as carry says, and
// returns their names, sorted. loaded are the fields that held data as the old
// chunk left from: one the script removed as it ran stays out of to (a target
// gone must not come back), unless to holds code there (a function, a table
// of code: the new source's). unchanged are the fields that still hold the
// number, string or boolean the old chunk left there (a class's constants):
// they follow the new chunk, as in a merged table.
func (c *copier) carryFields(from, to *glua.LTable, loaded []glua.LValue, unchanged map[glua.LValue]bool) []string {
	for _, k := range loaded {
		if v := orNil(to.RawGet(k)); orNil(from.RawGet(k)) == glua.LNil && v.Type() != glua.LTFunction && !c.newCode[v] {
			to.RawSet(k, glua.LNil)
		}
	}
	names := []string{}
	inOrder(from, func(k, v glua.LValue) {
		if v.Type() == glua.LTFunction || orNil(to.RawGet(k)).Type() == glua.LTFunction || unchanged[k] {
			return
		}
		ck, okk := c.value(k)
		cv, okv := c.value(v)
		if !okk || !okv {
			return
		}
		to.RawSet(ck, cv)
		if s, ok := k.(glua.LString); ok {
			names = append(names, string(s))
		} else {
			names = append(names, "["+k.String()+"]")
		}
	})
	slices.Sort(names)
	return names
}

// mergeCode carries the old table of mg into the new one, as carry says: what
// the old version's code changed in it as it ran (set, replaced, removed) is
// kept, the rest is the new chunk's, but for the list entries (number keys),
// which are the old table's whole, unless they are as the old chunk left
// them, functions and plain values only (see siteNode.list): then they are
// the new chunk's, its edits of the list included.
func (c *copier) mergeCode(mg merged) {
	from, to := mg.old, mg.new
	oldList := !c.newLists[from]
	if oldList {
		emptyTable(to, true)
		to.SetArrayLen(from.ArrayLen()) // laid out as from's (see copier.fill)
	}
	loaded := heldByKey(mg.at.entries)
	for _, e := range mg.at.entries {
		if orNil(from.RawGet(e.key)) == glua.LNil {
			to.RawSet(e.key, glua.LNil) // removed as the script ran
		}
	}
	inOrder(from, func(k, v glua.LValue) {
		if k.Type() == glua.LTNumber && !oldList {
			return
		}
		if k.Type() != glua.LTNumber {
			if h, ok := loaded[k]; ok && h.is(v) && (!c.isData(v) || c.removed[v.(*glua.LTable)] && orNil(to.RawGet(k)) == glua.LNil) {
				// As the old chunk left it: the new chunk's; a table of data,
				// though, the old one's, but for code the edit removed with
				// its key.
				return
			}
			if v.Type() != glua.LTFunction && orNil(to.RawGet(k)).Type() == glua.LTFunction {
				return // data become a function: the new source's
			}
		}
		ck, okk := c.value(k)
		cv, okv := c.value(v) // a function: its counterpart, or by reference
		if okk && okv {
			to.RawSetLaidOut(ck, cv)
		}
	})
	c.rewire(mg)
}

// pairLists finds, before anything is copied, the merged tables whose lists
// follow the new chunk (see mergeCode): those the script left as the old
// chunk made them. Each old function of such a list that no new code stands
// for (a literal) stands for the new chunk's function at its index, wherever
// the old version holds it (a step kept in M.game.phase, a handler's
// handle), as matched code does: the list and what names its entries stay
// one (helper-224).
func (c *copier) pairLists(m *codeMatch) {
	cloned := false
	for _, mg := range m.merges {
		if !sameList(mg.old, mg.at.list) {
			continue
		}
		if c.newLists == nil {
			c.newLists = map[*glua.LTable]bool{}
		}
		c.newLists[mg.old] = true
		if len(mg.at.list) == 0 {
			continue // no list: nothing to pair
		}
		inOrder(mg.old, func(k, v glua.LValue) {
			f, ok := v.(*glua.LFunction)
			if !ok || k.Type() != glua.LTNumber {
				return
			}
			g, ok := mg.new.RawGet(k).(*glua.LFunction)
			if _, matched := c.fns[f]; matched || !ok {
				return
			}
			if !cloned { // m's own stays as matchCode made it
				c.fns, cloned = maps.Clone(c.fns), true
			}
			c.fns[f] = g
		})
	}
}

// sameList reports whether t's entries of number keys are list's, in order.
// A nil list is no list's.
func sameList(t *glua.LTable, list []heldEntry) bool {
	if list == nil {
		return false
	}
	i := 0
	same := true
	inOrder(t, func(k, v glua.LValue) {
		if !same || k.Type() != glua.LTNumber {
			return
		}
		same = i < len(list) && list[i].key == k && list[i].val.is(v)
		i++
	})
	return same && i == len(list)
}

// isData reports whether v is a table of data: one matchCode did not match as
// code, whose contents the old version's code may have changed even where it
// is the table the old chunk made.
func (c *copier) isData(v glua.LValue) bool {
	t, ok := v.(*glua.LTable)
	if !ok {
		return false
	}
	_, code := c.code[t]
	return !code
}

// heldByKey returns entries by key.
func heldByKey(entries []heldEntry) map[glua.LValue]heldValue {
	m := make(map[glua.LValue]heldValue, len(entries))
	for _, e := range entries {
		m[e.key] = e.val
	}
	return m
}

// rewire gives mg's new table the old one's metatable, if the old version's
// code changed it as it ran (and it is not protected: see copier.value).
func (c *copier) rewire(mg merged) {
	mt := orNil(mg.old.Metatable)
	if mg.at.meta.is(mt) {
		return
	}
	switch t := mt.(type) {
	case *glua.LTable:
		if !protected(t) {
			mg.new.Metatable = c.meta(t)
			c.fill()
		}
	default:
		mg.new.Metatable = glua.LNil
	}
}

// protected reports whether mt, a metatable, has a __metatable field, which
// makes setmetatable fail on the tables it is the metatable of: a copy does
// not get such a metatable, so that an on_restore that reattaches one (as
// scripts did when no metatable was carried) still works; but for one only
// a closure's locals reach, which no on_restore can (copier.hidden).
func protected(mt *glua.LTable) bool {
	return orNil(mt.RawGetString("__metatable")) != glua.LNil
}

// inOrder calls fn with each entry of t in the order pairs and next give them
// (LTable.Next): the array part (keys 1 up to the last non-nil element below 2^26)
// by index, then the other keys in the order they were first set in t, a key
// removed and set again keeping its first place. That order is the same every run
// for the same script; LTable.ForEach's is not, as it ranges over Go maps, and a
// copy filled in it would make pairs order, and all that follows from it, differ
// from run to run after a reload. An entry whose key or value is a Go nil is
// absent (see orNil): fn never sees one. fn must not change t.
func inOrder(t *glua.LTable, fn func(k, v glua.LValue)) {
	for k, v := t.Next(glua.LNil); k != glua.LNil; k, v = t.Next(k) {
		if orNil(k) != glua.LNil && orNil(v) != glua.LNil {
			fn(k, v)
		}
	}
}

// orNil returns v, or LNil for a Go nil. A Go nil is no Lua value, but a
// gopher-lua flaw puts one in a script's tables: a coroutine that yields inside
// pcall leaves a closure's upvalue open on a value-stack slot that the yield
// then clears, and what the closure reads there, which the script may store as
// a key or a value, is a Go nil. (Such a yield is refused where the package can
// read gopher-lua's call frames, see yieldCrossesGo; this guards the rest, and
// any other way to the same slot.) Whatever reads a script's tables reads their
// entries through orNil (and inOrder), so that such an entry is absent, as an
// LNil one would be, rather than a panic (a Go nil has no Type) with the
// script's lock held.
func orNil(v glua.LValue) glua.LValue {
	if v == nil {
		return glua.LNil
	}
	return v
}

// snapshot records the contents and metatables of every table reachable from a
// module and from its script's globals, metatables and the upvalues of the
// functions they hold (a closure's local variables) included, and the values
// of those upvalues, so that what a reload's hooks and check change in them
// (on_save directly, on_restore and the check through old functions carried in
// data fields) can be undone if the reload then fails.
type snapshot struct {
	tables   map[*glua.LTable]tableRecord
	upvalues map[*glua.Upvalue]glua.LValue
}

type tableRecord struct {
	keys, values []glua.LValue
	meta         glua.LValue
	order        []glua.LValue // the hash part's pairs order (LTable.PairsOrder)
	array        int           // the length of the array part (LTable.ArrayLen)
}

// takeSnapshot records every table reachable from roots, through a list of
// tables to visit rather than recursion, for the reason copier gives.
func takeSnapshot(roots ...*glua.LTable) snapshot {
	s := snapshot{tables: map[*glua.LTable]tableRecord{}, upvalues: map[*glua.Upvalue]glua.LValue{}}
	todo := roots
	seen := map[*glua.LFunction]bool{}
	var reach func(x glua.LValue)
	reach = func(x glua.LValue) { // through a list as well: closures may nest deep
		fns := []glua.LValue{x}
		for len(fns) > 0 {
			x, fns = fns[len(fns)-1], fns[:len(fns)-1]
			switch x := x.(type) {
			case *glua.LTable:
				todo = append(todo, x)
			case *glua.LFunction:
				if seen[x] {
					continue
				}
				seen[x] = true
				for _, uv := range x.Upvalues {
					if _, ok := s.upvalues[uv]; !ok && uv != nil {
						v := orNil(uv.Value())
						s.upvalues[uv] = v
						fns = append(fns, v)
					}
				}
			}
		}
	}
	for len(todo) > 0 {
		t := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if _, ok := s.tables[t]; ok {
			continue
		}
		rec := tableRecord{meta: t.Metatable, order: t.PairsOrder(), array: t.ArrayLen()}
		if mt, ok := t.Metatable.(*glua.LTable); ok { // a class table behind __index
			todo = append(todo, mt)
		}
		t.ForEach(func(k, v glua.LValue) {
			rec.keys = append(rec.keys, k)
			rec.values = append(rec.values, v)
			reach(k)
			reach(v)
		})
		s.tables[t] = rec
	}
	return s
}

// restore puts every recorded table back as it was recorded: its entries, the
// length of its array part and its pairs order, so that it iterates as it did
// when recorded, and a key first set since, set again later, iterates last, not
// where the rolled-back reload set it.
func (s snapshot) restore() {
	for uv, v := range s.upvalues {
		uv.SetValue(v)
	}
	for t, rec := range s.tables {
		emptyTable(t, false)
		t.SetArrayLen(rec.array)
		for i, k := range rec.keys {
			t.RawSetLaidOut(k, rec.values[i])
		}
		t.Metatable = rec.meta
		t.SetPairsOrder(rec.order)
	}
}
