package lua

// What package hotscript/lua reads and restores of a table's layout, which
// decides its pairs order: a reload copies a script's tables into the new
// version, and a failed one puts them back, each iterating as before.

// ArrayLen returns the length of the array part, its nil slots included.
func (tb *LTable) ArrayLen() int { return len(tb.array) }

// HashLen returns how many keys the hash part holds.
func (tb *LTable) HashLen() int { return len(tb.dict) + len(tb.strdict) }

// SetArrayLen makes the array part n slots long: the keys up to n that the
// hash part holds move into it and the slots added hold nil, or the values of
// the slots past n move to the hash part (and the keys just past the end move
// into the array part, as always).
func (tb *LTable) SetArrayLen(n int) {
	n = max(0, min(n, MaxArrayIndex-1))
	for len(tb.array) < n {
		tb.appendSlot(tb.takeHash(len(tb.array) + 1))
	}
	for len(tb.array) > n {
		last := len(tb.array)
		v := tb.array[last-1]
		tb.array[last-1] = nil
		tb.array = tb.array[:last-1]
		if v != LNil {
			tb.live--
			tb.setHash(LNumber(last), v)
		}
	}
	tb.pull()
}

// PairsOrder returns the hash part's pairs order: every key it has held, in
// the order they were first set, removed ones too, which keep their place (an
// LNil for a place left empty).
func (tb *LTable) PairsOrder() []LValue { return append([]LValue(nil), tb.keys...) }

// SetPairsOrder gives the hash part the pairs order keys, as PairsOrder
// returned it: the places of removed keys and the empty ones kept (so that
// the table compacts when it would have), those of integer keys the array
// part holds left empty (see unplace); keys the hash part holds that it lacks
// follow it.
func (tb *LTable) SetPairsOrder(keys []LValue) {
	tb.keys, tb.k2i, tb.placed, tb.dead = make([]LValue, 0, len(keys)), make(map[LValue]int, len(keys)), 0, 0
	add := func(k LValue) {
		if _, ok := tb.k2i[k]; ok {
			return
		}
		if n, ok := k.(LNumber); ok && isArrayKey(n) && int(n) <= len(tb.array) {
			k = LNil
		}
		if k == LNil {
			tb.keys = append(tb.keys, LNil)
			tb.dead++
			return
		}
		if n, ok := k.(LNumber); ok && isArrayKey(n) {
			tb.placed++
		}
		tb.k2i[k] = len(tb.keys)
		tb.keys = append(tb.keys, k)
		if tb.RawGetH(k) == LNil {
			tb.dead++
		}
	}
	for _, k := range keys {
		add(k)
	}
	for k := range tb.strdict {
		add(LString(k))
	}
	for k := range tb.dict {
		add(k)
	}
}

// RemovedPlaces returns how many places of the hash part's pairs order are of
// keys it no longer holds, or empty.
func (tb *LTable) RemovedPlaces() int { return tb.dead }

// ForEachHashNumber calls cb for each number key of the hash part and its
// value: the keys past the array part, and those that are not integers.
func (tb *LTable) ForEachHashNumber(cb func(LNumber, LValue)) {
	for k, v := range tb.dict {
		if n, ok := k.(LNumber); ok {
			cb(n, v)
		}
	}
}

// RawSetLaidOut sets key as RawSet does, but puts an integer key past the
// array part's end in the hash part, whatever the array part's density: after
// SetArrayLen, setting a table's keys so, in its pairs order, lays out a copy
// as the table is laid out, where RawSet would lay it out as setting the keys
// in that order would.
func (tb *LTable) RawSetLaidOut(key, value LValue) {
	if n, ok := key.(LNumber); ok && isArrayKey(n) && int(n) > len(tb.array)+1 && value != LNil {
		tb.setHash(key, value)
		return
	}
	tb.RawSet(key, value)
}
