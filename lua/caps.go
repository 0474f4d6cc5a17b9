package lua

import (
	"math"
	"strings"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
)

// installCaps replaces the string and table builtins that can build big strings, and
// sets the function the compiler routes the .. operator through (see compile.go).
func installCaps(L *glua.LState) {
	str := L.GetGlobal("string").(*glua.LTable)
	for name, fn := range map[string]glua.LGFunction{
		"rep":     capRep,
		"upper":   func(L *glua.LState) int { return mapBytes(L, upperByte) },
		"lower":   func(L *glua.LState) int { return mapBytes(L, lowerByte) },
		"reverse": capReverse,
		"format":  capFormat,
	} {
		str.RawSetString(name, L.NewFunction(fn))
	}
	tbl := L.GetGlobal("table").(*glua.LTable)
	tbl.RawSetString("concat", L.NewFunction(capTableConcat))
	tbl.RawSetString("insert", L.NewFunction(tableInsert))
	tbl.RawSetString("remove", L.NewFunction(tableRemove))
	tbl.RawSetString("sort", L.NewFunction(tableSort))
	tbl.RawSetString("maxn", L.NewFunction(tableMaxN))
	installNext(L)
	L.SetGlobal("unpack", L.NewFunction(baseUnpack))
	installProtected(L)
	chargeMessage(L, "error", func(L *glua.LState) int {
		if optIntArg(L, 2, 1) > 0 {
			return 1
		}
		return 0 // level 0: the message is raised as it is
	})
	assert := L.G.Global.RawGetString("assert").(*glua.LFunction).GFunction
	L.G.Global.RawSetString("assert", L.NewFunction(func(L *glua.LState) int {
		if n, ok := L.Get(2).(glua.LNumber); ok && !glua.LVAsBool(L.Get(1)) {
			L.Replace(2, glua.LString(n.String())) // a message, as 5.1 takes it (helper-260)
		}
		return assert(L)
	}))
	chargeMessage(L, "assert", func(L *glua.LState) int {
		if glua.LVAsBool(L.Get(1)) {
			return 0
		}
		return 2
	})
}

// chargeMessage replaces the base function name, which raises a string argument
// as an error message with the position where it was raised in front ("x.lua:3:
// boom"), with one that charges that new string first, when argument msg (or 0
// for none) is a string, and notes that the error it raises is charged (see
// holdError).
func chargeMessage(L *glua.LState, name string, msg func(*glua.LState) int) {
	fn := L.G.Global.RawGetString(name).(*glua.LFunction).GFunction
	L.G.Global.RawSetString(name, L.NewFunction(func(L *glua.LState) int {
		b := budgetOf(L)
		if b == nil {
			return fn(L)
		}
		if n := msg(L); n > 0 {
			if s, ok := L.Get(n).(glua.LString); ok {
				b.alloc(L, uint64(len(s))+maxChunkName+32) // the position: chunk name, line, separators
			}
		}
		b.raised = true
		n := fn(L) // returns only if an assert holds
		b.raised = false
		return n
	}))
}

// holdError counts the bytes of an error message that pcall, xpcall or
// coroutine.resume caught against MaxMemoryBytes, where the script can keep it,
// unless error or assert raised it (they charged it). gopher-lua's own errors
// copy what they name: 60 pcalls of nothing[key] with a 4 MB key, their errors
// kept, held 232 MiB under a 16 MiB limit.
func holdError(L *glua.LState, v glua.LValue) {
	b := budgetOf(L)
	if b == nil {
		return
	}
	if b.raised {
		b.raised = false
		return
	}
	if s, ok := v.(glua.LString); ok {
		b.hold(uint64(len(s)))
	}
}

// charged is the builtin fn with the work it does inside its one instruction charged
// first, as units reckons it from the call's arguments (tonumber: the bytes it
// reads), not one instruction.
func charged(fn glua.LGFunction, units func(*glua.LState) uint64) glua.LGFunction {
	return func(L *glua.LState) int {
		if b := budgetOf(L); b != nil {
			b.charge(L, units(L))
		}
		return fn(L)
	}
}

// span is the number of integers in [i, j].
func span(i, j int) uint64 {
	if j < i {
		return 0
	}
	return uint64(j) - uint64(i) + 1
}

// tableInsert is table.insert(t, [pos,] v) as Lua 5.1's: the elements from
// pos to #t move up one, each charged; a pos past #t + 1 is set alone; two or
// three arguments only. gopher-lua's set t[pos] for a pos below 1 without
// moving anything; 5.1 moves every element from there up, as many as pos is
// far below 1, which Lua 5.2 refuses, as this does ("position out of
// bounds"). Like table.remove, it moves the elements up to #t only, one by
// one as ltablib.c does: gopher-lua's Insert moved the whole array part, past
// #t too, which # no longer always ends (see LTable.Len).
func tableInsert(L *glua.LState) int {
	t := L.CheckTable(1)
	switch L.GetTop() {
	case 2:
		t.Append(L.Get(2)) // at #t + 1; nothing for nil, as t[#t + 1] = nil
	case 3:
		pos := intArg(L, 2)
		if pos < 1 {
			L.ArgError(2, "position out of bounds")
		}
		e := max(t.Len()+1, pos)
		budgetOf(L).charge(L, span(pos, e))
		for i := e; i > pos; i-- {
			t.RawSet(glua.LNumber(i), t.RawGetInt(i-1))
		}
		t.RawSet(glua.LNumber(pos), L.Get(3))
	default:
		L.RaiseError("wrong number of arguments to 'insert'")
	}
	return 0
}

// tableRemove is table.remove(t [, pos]) as Lua 5.1's: it removes and
// returns t[pos] (t[#t] by default), the elements after it moving down one,
// each charged, and does nothing and returns nothing for a pos outside 1 to
// #t. gopher-lua's removed the last element for a pos below 1 (table.remove(t,
// 0)), and by default the last slot of the table's array part, which a
// t[#t] = nil had left holding nil, so that it returned nil and removed
// nothing.
func tableRemove(L *glua.LState) int {
	t := L.CheckTable(1)
	n := t.Len()
	pos := optIntArg(L, 2, n)
	if pos < 1 || pos > n {
		return 0
	}
	budgetOf(L).charge(L, span(pos+1, n))
	L.Push(t.RawGetInt(pos))
	for i := pos; i < n; i++ {
		t.RawSet(glua.LNumber(i), t.RawGetInt(i+1))
	}
	t.RawSet(glua.LNumber(n), glua.LNil)
	return 1
}

// tableMaxN is table.maxn(t) as Lua 5.1's: the largest positive number key,
// or 0, charged one unit for each slot it looks at. gopher-lua's looked only at
// the table's array part.
func tableMaxN(L *glua.LState) int {
	t := L.CheckTable(1)
	budgetOf(L).charge(L, uint64(t.ArrayLen()+t.HashLen()))
	n := glua.LNumber(t.MaxN())
	t.ForEachHashNumber(func(k glua.LNumber, _ glua.LValue) {
		if k > n { // not a NaN key, which gopher-lua lets a table hold
			n = k
		}
	})
	L.Push(n)
	return 1
}

// tableSort is table.sort(t [, comp]) as Lua 5.1's: its quicksort (ltablib.c's
// auxsort), so that elements comp does not order (ties) end in the order 5.1
// leaves them in, and the same comparisons are made in the same order
// (gopher-lua's sort.Sort ordered ties otherwise: a leaderboard sorted by
// score alone listed equal scores differently; helper-263), over t[1] to
// t[#t]. Each comparison is charged one unit, as the quicksort can make about
// n*n of them, and one of two strings without comp is charged for what it
// reads besides (see strLess).
func tableSort(L *glua.LState) int {
	s := &tableSorter{L: L, b: budgetOf(L), t: L.CheckTable(1)}
	if L.Get(2) != glua.LNil {
		s.fn = L.CheckFunction(2)
	}
	s.sort(1, s.t.Len())
	return 0
}

type tableSorter struct {
	L  *glua.LState
	b  *budget
	t  *glua.LTable
	fn *glua.LFunction
}

func (s *tableSorter) get(i int) glua.LValue    { return s.t.RawGetInt(i) }
func (s *tableSorter) set(i int, v glua.LValue) { s.t.RawSetInt(i, v) }

// swap exchanges a[i] and a[j].
func (s *tableSorter) swap(i, j int) {
	a, b := s.get(i), s.get(j)
	s.set(i, b)
	s.set(j, a)
}

// sort is auxsort: it sorts a[l..u].
func (s *tableSorter) sort(l, u int) {
	for l < u { // the larger part loops, the smaller recurses
		if s.less(s.get(u), s.get(l)) { // a[l], a[(l+u)/2] and a[u] in order
			s.swap(l, u)
		}
		if u-l == 1 {
			break
		}
		i := (l + u) / 2
		if s.less(s.get(i), s.get(l)) {
			s.swap(i, l)
		} else if s.less(s.get(u), s.get(i)) {
			s.swap(i, u)
		}
		if u-l == 2 {
			break
		}
		p := s.get(i) // the pivot, to a[u-1]: a[l] <= p == a[u-1] <= a[u]
		s.swap(i, u-1)
		i, j := l, u-1
		for { // a[l..i] <= p <= a[j..u]
			for i++; s.less(s.get(i), p); i++ {
				if i > u {
					s.L.RaiseError("invalid order function for sorting")
				}
			}
			for j--; s.less(p, s.get(j)); j-- {
				if j < l {
					s.L.RaiseError("invalid order function for sorting")
				}
			}
			if j < i {
				break
			}
			s.swap(i, j)
		}
		s.swap(u-1, i) // a[l..i-1] <= a[i] == p <= a[i+1..u]
		if i-l < u-i {
			j, i, l = l, i-1, i+1
		} else {
			j, i, u = i+1, u, i-1
		}
		s.sort(j, i)
	}
}

// less is a < b as comp or Lua's < says, charged one unit.
func (s *tableSorter) less(a, b glua.LValue) bool {
	s.b.charge(s.L, 1)
	if s.fn != nil {
		s.L.Push(s.fn)
		s.L.Push(a)
		s.L.Push(b)
		s.L.Call(2, 1)
		less := glua.LVAsBool(s.L.Get(-1))
		s.L.Pop(1)
		return less
	}
	if x, ok := a.(glua.LString); ok {
		if y, ok := b.(glua.LString); ok {
			return s.strLess(string(x), string(y))
		}
	}
	return s.L.LessThan(a, b)
}

// sortChunk is the most bytes of two strings' common prefix that a comparison
// in table.sort reads before it charges them.
const sortChunk = 1 << 10

// strLess is x < y, one unit charged per bytesPerUnit bytes of the common prefix
// that it reads, sortChunk bytes at a time, so that the limits stop it between
// chunks: the n*log2(n) comparisons charged up front are one unit each, and
// sorting 1,000 suffixes of a string of 8 MB of one byte compared gigabytes
// and ran for 32 s under a MaxExecutionTime of 100 ms. Strings that differ within
// their first sortChunk bytes cost nothing more.
func (s *tableSorter) strLess(x, y string) bool {
	if s.b == nil {
		return x < y
	}
	i, n := 0, min(len(x), len(y))
	for n-i > sortChunk && x[i:i+sortChunk] == y[i:i+sortChunk] {
		i += sortChunk
		s.b.charge(s.L, sortChunk/bytesPerUnit)
	}
	return x[i:] < y[i:]
}

// baseUnpack is unpack(t [, i [, j]]) as Lua 5.1's: it returns t[i] to t[j]
// (j is #t by default), charged one unit each, up to what the value stack
// holds (pushing more fails with gopher-lua's registry overflow). gopher-lua's
// read only the table's array part, so that t[0] and negative keys were nil
// (unpack({[0] = "zero", "one"}, 0, 1); helper-260), and refused positions
// given as strings.
func baseUnpack(L *glua.LState) int {
	t := L.CheckTable(1)
	i, j := optIntArg(L, 2, 1), optIntArg(L, 3, t.Len())
	if i > j {
		return 0
	}
	n := min(span(i, j), uint64(stateOptions.RegistryMaxSize))
	budgetOf(L).charge(L, n)
	for k := range n {
		L.Push(t.RawGet(glua.LNumber(i + int(k))))
	}
	return int(n)
}

// tonumberWork is tonumber(s [, base]): it reads all of s, one unit per
// bytesPerUnit bytes.
func tonumberWork(L *glua.LState) uint64 {
	if s, ok := L.Get(1).(glua.LString); ok {
		return uint64(len(s)) / bytesPerUnit
	}
	return 0
}

func capRep(L *glua.LState) int {
	// The count is checked as the number it is: CheckInt would wrap 2^62 to 0
	// where int has 32 bits, and rep would return "" instead of failing.
	s, f := L.CheckString(1), float64(L.CheckNumber(2))
	if !(f >= 1) || s == "" { // NaN too
		L.Push(glua.LString(""))
		return 1
	}
	if f >= float64(math.MaxInt/len(s))+1 {
		L.RaiseError("resulting string too large")
	}
	total := len(s) * int(f)
	b := budgetOf(L)
	b.reserve(L, uint64(total))
	checkSize(L, uint64(total))
	var w strings.Builder
	w.Grow(total)
	w.WriteString(s)
	b.alloc(L, uint64(len(s)))
	// Doubling, charged and checked per chunk of about 1 MiB. Each chunk is a whole
	// number of copies of s, so that what is copied from the start lands in phase:
	// a chunk of exactly 1 MiB shifted the rest of string.rep("abc", 1e6).
	step := max(1<<20/len(s), 1) * len(s)
	for w.Len() < total {
		chunk := min(w.Len(), total-w.Len(), step)
		b.alloc(L, uint64(chunk))
		w.WriteString(w.String()[:chunk])
	}
	L.Push(glua.LString(w.String()))
	return 1
}

func upperByte(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c - 'A' + 'a'
	}
	return c
}

// mapBytes is string.upper and string.lower: byte-wise ASCII, as in C Lua, so the
// result is exactly as long as the input.
func mapBytes(L *glua.LState, f func(byte) byte) int {
	s := L.CheckString(1)
	budgetOf(L).alloc(L, uint64(len(s)))
	out := make([]byte, len(s))
	for i := 0; i < len(s); i++ {
		out[i] = f(s[i])
	}
	L.Push(glua.LString(out))
	return 1
}

func capReverse(L *glua.LState) int {
	s := L.CheckString(1)
	budgetOf(L).alloc(L, uint64(len(s)))
	out := make([]byte, len(s))
	for i := 0; i < len(s); i++ {
		out[len(s)-1-i] = s[i]
	}
	L.Push(glua.LString(out))
	return 1
}

// capTableConcat is table.concat(t [, sep [, i [, j]]]) with the result's size
// charged before it is built.
func capTableConcat(L *glua.LState) int {
	t := L.CheckTable(1)
	sep := optStringArg(L, 2, "")
	i, j := optIntArg(L, 3, 1), optIntArg(L, 4, t.Len())
	if i > j {
		L.Push(glua.LString(""))
		return 1
	}
	// The loops count the elements rather than compare k with j, which could be
	// the largest int: k <= j would then hold forever.
	n := span(i, j)
	total := (n - 1) * uint64(len(sep))
	b := budgetOf(L)
	for c, k := uint64(0), i; c < n; c, k = c+1, k+1 {
		b.charge(L, 1) // the walk, which empty strings would make free
		v := t.RawGetInt(k)
		if !glua.LVCanConvToString(v) {
			L.RaiseError("invalid value (at index %d) in table for 'concat'", k)
		}
		total += uint64(len(glua.LVAsString(v)))
	}
	b.alloc(L, total)
	checkSize(L, total)
	var w strings.Builder
	w.Grow(int(total))
	for c, k := uint64(0), i; c < n; c, k = c+1, k+1 {
		if c > 0 {
			w.WriteString(sep)
		}
		w.WriteString(glua.LVAsString(t.RawGetInt(k)))
	}
	L.Push(glua.LString(w.String()))
	return 1
}

// capVarargs passes its arguments through, one unit charged per value: the
// compiler routes through it each ... that expands to all its values (see
// varargsName), which the VM copies in one instruction.
func capVarargs(L *glua.LState) int {
	n := L.GetTop()
	budgetOf(L).charge(L, uint64(n))
	return n
}

// appendValues is appendName(t, n, ...): it stores its values after the
// first n items of t, the constructor it ends (see appendLast), as the VM's
// OP_SETLIST stores them, and returns t.
func appendValues(L *glua.LState) int {
	t, n := L.CheckTable(1), L.CheckInt(2)
	for i := 3; i <= L.GetTop(); i++ {
		t.RawSetInt(n+i-2, L.Get(i))
	}
	L.SetTop(1)
	return 1
}

// capConcat is the .. operator: concat(a, b, c) is a .. b .. c. It keeps Lua's
// semantics (right to left, strings and numbers joined, __concat otherwise) and charges
// the bytes it builds.
func capConcat(L *glua.LState) int {
	top := L.GetTop()
	rhs := L.Get(top)
	for i := top - 1; i >= 1; {
		lhs := L.Get(i)
		if glua.LVCanConvToString(lhs) && glua.LVCanConvToString(rhs) {
			first := i // join the longest run of strings and numbers at once
			for first > 1 && glua.LVCanConvToString(L.Get(first-1)) {
				first--
			}
			total := uint64(len(glua.LVAsString(rhs)))
			for k := first; k <= i; k++ {
				total += uint64(len(glua.LVAsString(L.Get(k))))
			}
			budgetOf(L).alloc(L, total)
			checkSize(L, total)
			var w strings.Builder
			w.Grow(int(total))
			for k := first; k <= i; k++ {
				w.WriteString(glua.LVAsString(L.Get(k)))
			}
			w.WriteString(glua.LVAsString(rhs))
			rhs, i = glua.LString(w.String()), first-1
			continue
		}
		op := L.GetMetaField(lhs, "__concat")
		if op == glua.LNil {
			op = L.GetMetaField(rhs, "__concat")
		}
		if op == glua.LNil {
			bad := lhs
			if glua.LVCanConvToString(lhs) {
				bad = rhs
			}
			L.RaiseError("attempt to concatenate a %s value", bad.Type().String())
		}
		L.Push(op)
		L.Push(lhs)
		L.Push(rhs)
		L.Call(2, 1)
		rhs = L.Get(-1)
		L.Pop(1)
		i--
	}
	L.Push(rhs)
	return 1
}

// installNext replaces next and pairs (whose iterator is gopher-lua's own, not
// next) with ones that charge the call's budget one unit for each slot a step
// looks at past the first (LTable.NextSlots): a loop of next(t) == nil over a
// table whose keys churned, or pairs over one that once was large, costs what it
// walks. A table whose slots are all live costs what it did, an instruction a
// step. A key the table does not have is an error, as in 5.1.
func installNext(L *glua.LState) {
	step := func(L *glua.LState) (glua.LValue, glua.LValue) {
		tb, key := L.CheckTable(1), L.Get(2)
		k, v, looked, ok := tb.NextSlots(key)
		if !ok {
			L.RaiseError("invalid key to 'next'") // as 5.1 (gopher-lua went on from another key)
		}
		if looked > 1 {
			budgetOf(L).charge(L, uint64(looked-1))
		}
		return k, v
	}
	L.SetGlobal("next", L.NewFunction(func(L *glua.LState) int {
		k, v := step(L)
		if k == glua.LNil {
			L.Push(glua.LNil)
			return 1
		}
		L.Push(k)
		L.Push(v)
		return 2
	}))
	iter := L.NewFunction(func(L *glua.LState) int {
		k, v := step(L)
		if k == glua.LNil {
			return 0
		}
		L.Push(k)
		L.Push(v)
		return 2
	})
	L.SetGlobal("pairs", L.NewFunction(func(L *glua.LState) int {
		L.Push(iter)
		L.Push(L.CheckTable(1))
		L.Push(glua.LNil)
		return 3
	}))
}
