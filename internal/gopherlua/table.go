package lua

import "math/bits"

const defaultArrayCap = 32
const defaultHashCap = 32

type lValueArraySorter struct {
	L      *LState
	Fn     *LFunction
	Values []LValue
}

func (lv lValueArraySorter) Len() int {
	return len(lv.Values)
}

func (lv lValueArraySorter) Swap(i, j int) {
	lv.Values[i], lv.Values[j] = lv.Values[j], lv.Values[i]
}

func (lv lValueArraySorter) Less(i, j int) bool {
	if lv.Fn != nil {
		lv.L.Push(lv.Fn)
		lv.L.Push(lv.Values[i])
		lv.L.Push(lv.Values[j])
		lv.L.Call(2, 1)
		return LVAsBool(lv.L.reg.Pop())
	}
	return lessThan(lv.L, lv.Values[i], lv.Values[j])
}

func newLTable(acap int, hcap int) *LTable {
	if acap < 0 {
		acap = 0
	}
	if hcap < 0 {
		hcap = 0
	}
	tb := &LTable{}
	tb.Metatable = LNil
	if acap != 0 {
		tb.array = make([]LValue, 0, acap)
	}
	if hcap != 0 {
		tb.strdict = make(map[string]LValue, hcap)
	}
	return tb
}

// Len returns length of this LTable without using __len: a border, as Lua
// 5.1's luaH_getn finds it, by binary search when the array part ends with a
// nil (upstream walked back over every nil slot it ended with, so that popping
// a stack by t[#t] = nil took time growing with the square of its size). The
// hash part never holds the key just past the array part's end (see setInt).
func (tb *LTable) Len() int {
	j := len(tb.array)
	if j == 0 || tb.array[j-1] != LNil {
		return j
	}
	i := 0
	for j-i > 1 {
		m := (i + j) / 2
		if tb.array[m-1] == LNil {
			j = m
		} else {
			i = m
		}
	}
	return i
}

// Append appends a given LValue to this LTable.
func (tb *LTable) Append(value LValue) {
	if value == LNil {
		return
	}
	tb.RawSetInt(tb.Len()+1, value)
}

// Insert inserts a given LValue at position `i` in this table.
func (tb *LTable) Insert(i int, value LValue) {
	if tb.array == nil {
		tb.array = make([]LValue, 0, defaultArrayCap)
	}
	if i > len(tb.array) {
		tb.RawSetInt(i, value)
		return
	}
	if i <= 0 {
		tb.RawSet(LNumber(i), value)
		return
	}
	i -= 1
	tb.array = append(tb.array, LNil)
	copy(tb.array[i+1:], tb.array[i:])
	tb.array[i] = value
	if value != LNil {
		tb.live++
	}
	tb.unplace(len(tb.array))
	tb.pull()
}

// MaxN returns a maximum number key that nil value does not exist before it.
func (tb *LTable) MaxN() int {
	if tb.array == nil {
		return 0
	}
	for i := len(tb.array) - 1; i >= 0; i-- {
		if tb.array[i] != LNil {
			return i + 1
		}
	}
	return 0
}

// Remove removes from this table the element at a given position.
func (tb *LTable) Remove(pos int) LValue {
	if tb.array == nil {
		return LNil
	}
	larray := len(tb.array)
	if larray == 0 {
		return LNil
	}
	i := pos - 1
	oldval := LNil
	switch {
	case i >= larray:
		// nothing to do
	case i == larray-1 || i < 0:
		oldval = tb.array[larray-1]
		tb.array = tb.array[:larray-1]
	default:
		oldval = tb.array[i]
		copy(tb.array[i:], tb.array[i+1:])
		tb.array[larray-1] = nil
		tb.array = tb.array[:larray-1]
	}
	if oldval != LNil {
		tb.live--
	}
	return oldval
}

// RawSet sets a given LValue to a given index without the __newindex metamethod.
// It is recommended to use `RawSetString` or `RawSetInt` for performance
// if you already know the given LValue is a string or number.
func (tb *LTable) RawSet(key LValue, value LValue) {
	switch v := key.(type) {
	case LNumber:
		if isArrayKey(v) {
			tb.setInt(int(v), value)
			return
		}
	case LString:
		tb.RawSetString(string(v), value)
		return
	}

	tb.RawSetH(key, value)
}

// RawSetInt sets a given LValue at a position `key` without the __newindex metamethod.
func (tb *LTable) RawSetInt(key int, value LValue) {
	if key < 1 || key >= MaxArrayIndex {
		tb.setHash(LNumber(key), value)
		return
	}
	if key == len(tb.array)+1 && value == LNil { // a nil slot, as a list's constructor leaves
		tb.appendSlot(value)
		tb.pull()
		return
	}
	tb.setInt(key, value)
}

// setInt sets the integer key in the array part's range (1 to MaxArrayIndex-1).
// The array part holds the keys from 1 to its length, nil slots included, and
// the hash part the keys past it: a key just past the end extends the array,
// with the keys after it that the hash part held; a key further on goes to the
// hash part, and the array part grows over such keys as Lua 5.1's rehash
// sizes it (see grow). A key the hash part holds stays there when set.
// (gopher-lua padded the array with nils up to any such key: t[2^26-1] = 1 made
// a 1 GiB array in one instruction.)
func (tb *LTable) setInt(key int, value LValue) {
	index := key - 1
	alen := len(tb.array)
	switch {
	case index < alen:
		old := tb.array[index]
		tb.array[index] = value
		if old == LNil && value != LNil {
			tb.live++
		} else if old != LNil && value == LNil {
			tb.live--
		}
	case value == LNil:
		tb.setHash(LNumber(key), value) // if the hash part holds it
	case tb.hashHolds(key):
		tb.dict[LNumber(key)] = value // a key held stays where it is
	case index == alen:
		tb.appendSlot(value)
		tb.pull()
	default:
		if tb.setHash(LNumber(key), value) && tb.sparse&(tb.sparse-1) == 0 {
			tb.grow() // only for a new key, which a traversal may not set
		}
	}
}

// grow extends the array part over the hash part's integer keys, as Lua 5.1's
// rehash would, to the largest power of two n for which more than half the
// keys from 1 to n would have a value (but to the last key below n it holds),
// each time the count of such keys in the hash part reaches a power of two (a
// count, not a history, so that a table put back as it was grows as it would
// have). The keys it passes over that a traversal cleared become nil slots,
// which next still takes (helper-269: a slot padded and cut again had lost
// its key's place).
func (tb *LTable) grow() {
	size, used := 0, tb.live
	for i, twotoi := 0, 1; twotoi < MaxArrayIndex; i, twotoi = i+1, 2*twotoi {
		used += int(tb.slices[i])
		if twotoi > len(tb.array) && used > twotoi/2 {
			size = twotoi
		}
	}
	if size <= len(tb.array) {
		return
	}
	last := 0 // the last key to take: no nil slot is padded past it, to be cut
	for k := range tb.dict {
		if n, ok := k.(LNumber); ok && isArrayKey(n) && int(n) <= size {
			last = max(last, int(n))
		}
	}
	for len(tb.array) < last {
		tb.appendSlot(tb.takeHash(len(tb.array) + 1))
	}
	tb.pull()
}

// countSparse counts d more of the hash part's keys in the array part's
// range (sparse), and in its slice: slices[i] counts the keys from 2^(i-1)+1
// to 2^i.
func (tb *LTable) countSparse(k LNumber, d int) {
	tb.sparse += d
	if tb.slices == nil {
		tb.slices = new([27]int32) // 2^26 = MaxArrayIndex
	}
	tb.slices[bits.Len(uint(k)-1)] += int32(d)
}

// appendSlot appends v to the array part.
func (tb *LTable) appendSlot(v LValue) {
	if tb.array == nil {
		tb.array = make([]LValue, 0, defaultArrayCap)
	}
	tb.array = append(tb.array, v)
	if v != LNil {
		tb.live++
	}
	tb.unplace(len(tb.array))
}

// unplace empties the place in pairs order of the integer key, which the
// array part now holds: an integer key in the array part's range has a place
// only while it is in the hash part, or was until a traversal cleared it (see
// NextSlots). Only a new key moves keys into the array part, which a
// traversal may not set.
func (tb *LTable) unplace(key int) {
	if tb.placed == 0 {
		return
	}
	k := LNumber(key)
	if i, ok := tb.k2i[k]; ok {
		tb.keys[i] = LNil
		delete(tb.k2i, k)
		tb.placed--
	}
}

// pull moves into the array part the keys just past its end that the hash
// part holds.
func (tb *LTable) pull() {
	for tb.sparse > 0 && len(tb.array)+1 < MaxArrayIndex {
		v := tb.takeHash(len(tb.array) + 1)
		if v == LNil {
			return
		}
		tb.appendSlot(v)
	}
}

// hashHolds reports whether the hash part holds the integer key.
func (tb *LTable) hashHolds(key int) bool {
	if tb.sparse == 0 {
		return false
	}
	_, ok := tb.dict[LNumber(key)]
	return ok
}

// takeHash removes the integer key from the hash part, returning its value
// (LNil if it held none), for the array part to take it (see unplace).
func (tb *LTable) takeHash(key int) LValue {
	if tb.sparse == 0 {
		return LNil
	}
	k := LNumber(key)
	v, ok := tb.dict[k]
	if !ok {
		return LNil
	}
	delete(tb.dict, k)
	tb.countSparse(k, -1)
	tb.dead++ // until unplace empties its place
	return v
}

// RawSetString sets a given LValue to a given string index without the __newindex metamethod.
func (tb *LTable) RawSetString(key string, value LValue) {
	if value == LNil {
		if _, ok := tb.strdict[key]; ok {
			delete(tb.strdict, key)
			tb.dead++
		}
		return
	}
	if tb.strdict == nil {
		tb.strdict = make(map[string]LValue, defaultHashCap)
	}
	if _, ok := tb.strdict[key]; !ok {
		tb.place(LString(key))
	}
	tb.strdict[key] = value
}

// RawSetH sets a given LValue to a given index without the __newindex metamethod.
func (tb *LTable) RawSetH(key LValue, value LValue) {
	switch k := key.(type) {
	case LString:
		tb.RawSetString(string(k), value)
		return
	case LNumber:
		if isArrayKey(k) {
			tb.setInt(int(k), value)
			return
		}
	}
	tb.setHash(key, value)
}

// setHash sets a key that is not a string in the hash part: a number in the
// array part's range only if it is past the array part's end (see setInt). It
// reports whether it added such a number.
func (tb *LTable) setHash(key LValue, value LValue) (added bool) {
	n, ok := key.(LNumber)
	ranged := ok && isArrayKey(n)
	_, had := tb.dict[key]
	if value == LNil {
		if had {
			delete(tb.dict, key)
			tb.dead++
			if ranged {
				tb.countSparse(n, -1)
			}
		}
		return false
	}
	if !had {
		if tb.dict == nil {
			tb.dict = make(map[LValue]LValue)
		}
		tb.place(key)
		if ranged {
			tb.countSparse(n, 1)
			added = true
		}
	}
	tb.dict[key] = value
	return added
}

// place gives a key the hash part is about to hold its place in pairs order:
// the one it had if it was removed, else the next one, after those of the
// removed keys are dropped if they outnumber the others (see compact).
func (tb *LTable) place(key LValue) {
	if _, ok := tb.k2i[key]; ok {
		tb.dead--
		return
	}
	if tb.dead >= 32 && 2*tb.dead > len(tb.keys) {
		tb.compact()
	}
	if tb.k2i == nil {
		tb.k2i = map[LValue]int{}
	}
	tb.k2i[key] = len(tb.keys)
	tb.keys = append(tb.keys, key)
	if n, ok := key.(LNumber); ok && isArrayKey(n) {
		tb.placed++
	}
}

// compact drops the places in pairs order of the keys the hash part no longer
// holds, and moves the keys it holds into maps of their size, which Go's maps
// do not shrink to. gopher-lua kept every key a table ever had: a table whose
// keys churn (an entity's id set and an old one's cleared each frame) grew for
// good, and next stepped over every removed key. Only a new key compacts, which
// a traversal may not set: next after a key a traversal cleared finds its place.
func (tb *LTable) compact() {
	keys := make([]LValue, 0, len(tb.keys)-tb.dead+1)
	k2i := make(map[LValue]int, cap(keys))
	tb.placed = 0
	for _, k := range tb.keys {
		if k == LNil || tb.RawGetH(k) == LNil {
			continue
		}
		k2i[k] = len(keys)
		keys = append(keys, k)
		if n, ok := k.(LNumber); ok && isArrayKey(n) {
			tb.placed++
		}
	}
	tb.keys, tb.k2i, tb.dead = keys, k2i, 0
	if tb.strdict != nil {
		tb.strdict = resized(tb.strdict)
	}
	if tb.dict != nil {
		tb.dict = resized(tb.dict)
	}
}

// resized returns a copy of m made for its size (maps.Clone keeps m's room).
func resized[K comparable](m map[K]LValue) map[K]LValue {
	n := make(map[K]LValue, len(m))
	for k, v := range m {
		n[k] = v
	}
	return n
}

// RawGet returns an LValue associated with a given key without __index metamethod.
func (tb *LTable) RawGet(key LValue) LValue {
	switch v := key.(type) {
	case LNumber:
		if isArrayKey(v) {
			index := int(v) - 1
			if index < len(tb.array) {
				return tb.array[index]
			}
			if tb.sparse == 0 {
				return LNil
			}
		}
	case LString:
		if tb.strdict == nil {
			return LNil
		}
		if ret, ok := tb.strdict[string(v)]; ok {
			return ret
		}
		return LNil
	}
	if tb.dict == nil {
		return LNil
	}
	if v, ok := tb.dict[key]; ok {
		return v
	}
	return LNil
}

// RawGetInt returns an LValue at position `key` without __index metamethod.
func (tb *LTable) RawGetInt(key int) LValue {
	index := key - 1
	if index >= 0 && index < len(tb.array) {
		return tb.array[index]
	}
	if tb.dict == nil || (tb.sparse == 0 && key >= 1 && key < MaxArrayIndex) {
		return LNil
	}
	if v, ok := tb.dict[LNumber(key)]; ok {
		return v
	}
	return LNil
}

// RawGet returns an LValue associated with a given key without __index metamethod.
func (tb *LTable) RawGetH(key LValue) LValue {
	if s, sok := key.(LString); sok {
		if tb.strdict == nil {
			return LNil
		}
		if v, vok := tb.strdict[string(s)]; vok {
			return v
		}
		return LNil
	}
	if tb.dict == nil {
		return LNil
	}
	if v, ok := tb.dict[key]; ok {
		return v
	}
	return LNil
}

// RawGetString returns an LValue associated with a given key without __index metamethod.
func (tb *LTable) RawGetString(key string) LValue {
	if tb.strdict == nil {
		return LNil
	}
	if v, vok := tb.strdict[string(key)]; vok {
		return v
	}
	return LNil
}

// ForEach iterates over this table of elements, yielding each in turn to a given function.
func (tb *LTable) ForEach(cb func(LValue, LValue)) {
	if tb.array != nil {
		for i, v := range tb.array {
			if v != LNil {
				cb(LNumber(i+1), v)
			}
		}
	}
	if tb.strdict != nil {
		for k, v := range tb.strdict {
			if v != LNil {
				cb(LString(k), v)
			}
		}
	}
	if tb.dict != nil {
		for k, v := range tb.dict {
			if v != LNil {
				cb(k, v)
			}
		}
	}
}

// This function is equivalent to lua_next ( http://www.lua.org/manual/5.1/manual.html#lua_next ).
// For a key the table does not have, it returns LNil, LNil.
func (tb *LTable) Next(key LValue) (LValue, LValue) {
	k, v, _, _ := tb.NextSlots(key)
	return k, v
}

// NextSlots is Next, also returning how many slots of the table it looked at
// (Next steps over the nil slots of the array part and over the places that
// removed keys keep in pairs order, all in one call), and whether the table
// has key: a key the hash part holds or held until a traversal cleared it (it
// keeps its place), an integer key up to the array part's length (its nil
// slots included), or LNil. (Upstream went on from the second key in pairs
// order for a key the table did not have.)
func (tb *LTable) NextSlots(key LValue) (next, value LValue, looked int, ok bool) {
	index := 0 // in the array part, unless place is set
	place := -1
	if key != LNil {
		index = -1
		if kv, ok := key.(LNumber); ok && isArrayKey(kv) && int(kv) <= len(tb.array) {
			index = int(kv)
		}
		if index < 0 {
			i, ok := tb.k2i[key]
			if !ok {
				return LNil, LNil, 0, false
			}
			place = i + 1
		}
	}
	if place < 0 {
		for ; index < len(tb.array); index++ {
			looked++
			if v := tb.array[index]; v != LNil {
				return LNumber(index + 1), v, looked, true
			}
		}
		if len(tb.dict) == 0 && len(tb.strdict) == 0 {
			return LNil, LNil, looked, true
		}
		place = 0
	}
	for ; place < len(tb.keys); place++ {
		looked++
		key := tb.keys[place]
		if v := tb.RawGetH(key); v != LNil {
			return key, v, looked, true
		}
	}
	return LNil, LNil, looked, true
}
