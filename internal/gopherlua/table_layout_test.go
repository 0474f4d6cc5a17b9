package lua

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// checkTable fails t unless tb holds exactly want, keeps the layout setInt
// describes (the keys past the array part's end in the hash part, none of them
// just past it; live and sparse counted right), iterates over each key once,
// and has a border for its length.
func checkTable(t *testing.T, step string, tb *LTable, want map[LValue]LValue) {
	t.Helper()
	for k, v := range want {
		if got := tb.RawGet(k); got != v {
			t.Fatalf("%s: t[%v] = %v, want %v", step, k, got, v)
		}
		if n, ok := k.(LNumber); ok && float64(n) == float64(int(n)) {
			if got := tb.RawGetInt(int(n)); got != v {
				t.Fatalf("%s: RawGetInt(%v) = %v, want %v", step, k, got, v)
			}
		}
	}
	live, sparse := 0, 0
	for _, v := range tb.array {
		if v != LNil {
			live++
		}
	}
	for k := range tb.dict {
		if n, ok := k.(LNumber); ok && isArrayKey(n) {
			sparse++
			if int(n) <= len(tb.array)+1 {
				t.Fatalf("%s: key %v in the hash part, array part %d long", step, n, len(tb.array))
			}
		}
	}
	dead := 0
	for _, k := range tb.keys {
		if k == LNil || tb.RawGetH(k) == LNil {
			dead++
		}
	}
	if dead != tb.dead {
		t.Fatalf("%s: %d removed keys' places counted as %d", step, dead, tb.dead)
	}
	placed := 0
	for k, i := range tb.k2i {
		if tb.keys[i] != k {
			t.Fatalf("%s: key %v placed at %d, which holds %v", step, k, i, tb.keys[i])
		}
		if n, ok := k.(LNumber); ok && isArrayKey(n) {
			placed++
			if int(n) <= len(tb.array) {
				t.Fatalf("%s: key %v in the array part (%d slots) has a place", step, n, len(tb.array))
			}
		}
	}
	if live != tb.live || sparse != tb.sparse || placed != tb.placed {
		t.Fatalf("%s: live %d sparse %d placed %d counted as %d %d %d", step, live, sparse, placed, tb.live, tb.sparse, tb.placed)
	}
	seen := map[LValue]bool{}
	for k, v := tb.Next(LNil); k != LNil; k, v = tb.Next(k) {
		if seen[k] || want[k] != v {
			t.Fatalf("%s: next gave %v = %v (seen %v, want %v)", step, k, v, seen[k], want[k])
		}
		seen[k] = true
	}
	if len(seen) != len(want) {
		t.Fatalf("%s: next gave %d keys, want %d", step, len(seen), len(want))
	}
	n := tb.Len()
	if (n > 0 && tb.RawGetInt(n) == LNil) || tb.RawGetInt(n+1) != LNil {
		t.Fatalf("%s: #t = %d is not a border", step, n)
	}
}

// TestTableAgainstMap puts random integer keys (dense, sparse, past the
// array range), other keys and nils into tables through every way of setting
// one, and checks each against a map.
func TestTableAgainstMap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	key := func() LValue {
		switch r.IntN(10) {
		case 0, 1, 2, 3:
			return LNumber(r.IntN(24) + 1)
		case 4:
			return LNumber(r.IntN(1 << 20))
		case 5:
			return LNumber(MaxArrayIndex - 2 + r.IntN(4))
		case 6:
			return LNumber(float64(r.IntN(8)) + 0.5)
		case 7:
			return LBool(r.IntN(2) == 0)
		case 8:
			return LString("k" + itoa(r.IntN(100)))
		default:
			return LString(string(rune('a' + r.IntN(8))))
		}
	}
	for round := range 3000 {
		tb := newLTable(r.IntN(3)*4, r.IntN(3)*4)
		want := map[LValue]LValue{}
		set := func(k, v LValue) {
			if v == LNil {
				delete(want, k)
			} else {
				want[k] = v
			}
		}
		ops := 40
		if round%10 == 0 {
			ops = 400 // enough removed keys to compact
		}
		for op := range ops {
			k, v := key(), LValue(LNumber(r.IntN(100)))
			if r.IntN(4) == 0 {
				v = LNil
			}
			n, isInt := k.(LNumber)
			isInt = isInt && float64(n) == float64(int(n))
			kind := r.IntN(8)
			switch kind {
			case 0:
				tb.RawSetH(k, v)
				set(k, v)
			case 1:
				if isInt {
					tb.RawSetInt(int(n), v)
					set(k, v)
				}
			case 2:
				if v != LNil {
					at := tb.Len() + 1
					tb.Append(v)
					set(LNumber(at), v)
				}
			case 3:
				l := tb.Len()
				if pos := r.IntN(l+2) + 1; pos <= l {
					// table.insert(t, pos, v) within 1..#t: the keys from pos
					// to the array part's end move up one.
					moved := map[LValue]LValue{}
					for i := pos; i <= len(tb.array); i++ {
						if x := tb.array[i-1]; x != LNil {
							moved[LNumber(i+1)] = x
						}
						delete(want, LNumber(i))
					}
					tb.Insert(pos, v)
					for mk, mv := range moved {
						want[mk] = mv
					}
					set(LNumber(pos), v)
				}
			case 4:
				if l := tb.Len(); l > 0 {
					pos := r.IntN(l) + 1
					for i := pos; i <= len(tb.array); i++ {
						delete(want, LNumber(i))
						if i < len(tb.array) {
							if x := tb.array[i]; x != LNil {
								want[LNumber(i)] = x
							}
						}
					}
					tb.Remove(pos)
				}
			case 5:
				if r.IntN(2) == 0 {
					tb.SetArrayLen(r.IntN(30))
				} else {
					tb.SetPairsOrder(tb.PairsOrder())
				}
			default:
				tb.RawSet(k, v)
				set(k, v)
			}
			checkTable(t, "round "+itoa(round)+" op "+itoa(op)+" kind "+itoa(kind)+" key "+k.String()+" value "+v.String(), tb, want)
		}
		// A copy laid out as the table is iterates in its order, and takes
		// the same next key where the table does.
		cp := newLTable(0, 0)
		cp.SetArrayLen(tb.ArrayLen())
		for k, v := tb.Next(LNil); k != LNil; k, v = tb.Next(k) {
			cp.RawSetLaidOut(k, v)
		}
		var order, copied []string
		for k, _ := tb.Next(LNil); k != LNil; k, _ = tb.Next(k) {
			order = append(order, k.String())
		}
		for k, _ := cp.Next(LNil); k != LNil; k, _ = cp.Next(k) {
			copied = append(copied, k.String())
		}
		if fmt.Sprint(order) != fmt.Sprint(copied) || cp.ArrayLen() != tb.ArrayLen() {
			t.Fatalf("round %d: copy iterates %v (array %d), the table %v (array %d)", round, copied, cp.ArrayLen(), order, tb.ArrayLen())
		}
		k := key()
		tb.RawSet(k, LTrue)
		cp.RawSet(k, LTrue)
		if tb.ArrayLen() != cp.ArrayLen() || tb.Len() != cp.Len() {
			t.Fatalf("round %d: after t[%v] = true, array %d #%d, copy's %d #%d", round, k, tb.ArrayLen(), tb.Len(), cp.ArrayLen(), cp.Len())
		}
		want[k] = LTrue
		// A traversal that changes and clears the keys it visits, as Lua
		// allows, visits each key once.
		seen := map[LValue]bool{}
		for k, v := tb.Next(LNil); k != LNil; k, v = tb.Next(k) {
			if seen[k] || want[k] != v {
				t.Fatalf("round %d: traversal gave %v = %v again or wrong (want %v)", round, k, v, want[k])
			}
			seen[k] = true
			if r.IntN(2) == 0 {
				tb.RawSet(k, LNil)
				delete(want, k)
			} else {
				tb.RawSet(k, LString("changed"))
				want[k] = LString("changed")
			}
		}
		checkTable(t, "round "+itoa(round)+" after a traversal", tb, want)
		// Clearing every key during a traversal visits each once.
		visited := 0
		for k, _ := tb.Next(LNil); k != LNil; k, _ = tb.Next(k) {
			tb.RawSet(k, LNil)
			visited++
		}
		if visited != len(want) || tb.Len() != 0 {
			t.Fatalf("round %d: cleared %d of %d keys while iterating, #t = %d", round, visited, len(want), tb.Len())
		}
	}
}

func itoa(i int) string { return LNumber(i).String() }

// TestSparseKeysStayInTheHashPart: a far integer key takes a hash slot, not an
// array padded up to it.
func TestSparseKeysStayInTheHashPart(t *testing.T) {
	tb := newLTable(0, 0)
	tb.RawSet(LNumber(MaxArrayIndex-1), LTrue)
	tb.RawSetInt(5_001_234, LTrue)
	for i := 1; i <= 10; i++ {
		tb.RawSetInt(i*1000, LTrue) // ids, each far past the last
	}
	if tb.ArrayLen() != 0 || tb.Len() != 0 {
		t.Errorf("array part %d slots, #t = %d; want 0, 0", tb.ArrayLen(), tb.Len())
	}
	// Filled from the end down, the keys move into the array part as its
	// end reaches them.
	tb = newLTable(0, 0)
	for i := 100; i >= 1; i-- {
		tb.RawSetInt(i, LNumber(i))
	}
	if tb.ArrayLen() != 100 || tb.HashLen() != 0 || tb.Len() != 100 {
		t.Errorf("filled from 100 down: array %d, hash %d, #t = %d; want 100, 0, 100", tb.ArrayLen(), tb.HashLen(), tb.Len())
	}
	// A gap in a dense list is padded with nil slots, as 5.1 does.
	tb.RawSetInt(103, LTrue)
	if tb.ArrayLen() != 103 || tb.Len() != 103 {
		t.Errorf("t[103] after 1..100: array %d, #t = %d; want 103, 103", tb.ArrayLen(), tb.Len())
	}
}

// TestNextSlotsCountsRemovedKeys: Next steps over removed keys' places in
// one call, and NextSlots says how many.
func TestNextSlotsCountsRemovedKeys(t *testing.T) {
	tb := newLTable(0, 0)
	for i := range 1000 {
		tb.RawSetString(string(rune(0x4e00+i)), LTrue)
	}
	for i := range 999 {
		tb.RawSetString(string(rune(0x4e00+i)), LNil)
	}
	if k, _, looked, _ := tb.NextSlots(LNil); k != LString(string(rune(0x4e00+999))) || looked != 1000 {
		t.Errorf("next over 999 removed keys = %v, looked at %d slots, want the last key, 1000", k, looked)
	}
}

// TestSetPairsOrder: a table given back its pairs order iterates in it, a key
// set since taking a place after those; an integer key the array part holds
// has none.
func TestSetPairsOrder(t *testing.T) {
	tb := newLTable(0, 0)
	tb.RawSetString("a", LTrue)
	tb.RawSetInt(100, LTrue)
	tb.RawSetString("b", LTrue)
	order := tb.PairsOrder()
	tb.RawSetString("c", LTrue)
	tb.RawSetString("b", LNil)
	tb.RawSetString("a", LNil)
	tb.RawSetString("a", LTrue)
	tb.SetPairsOrder(order)
	tb.RawSetString("b", LTrue)
	var got []string
	for k, _ := tb.Next(LNil); k != LNil; k, _ = tb.Next(k) {
		got = append(got, k.String())
	}
	if want := "[a 100 b c]"; fmt.Sprint(got) != want {
		t.Errorf("pairs order %v, want %s", got, want)
	}
	for i := 1; i < 100; i++ {
		tb.RawSetInt(i, LTrue)
	}
	tb.SetPairsOrder(order)
	if _, placed := tb.k2i[LNumber(100)]; placed || tb.placed != 0 || tb.ArrayLen() != 100 {
		t.Errorf("key 100 in the array part (%d slots) placed %v (%d)", tb.ArrayLen(), placed, tb.placed)
	}
}

// TestChurningKeysAreForgotten: a table whose keys churn, one set and an old
// one cleared each frame, keeps room for about its live keys, and next walks
// over few removed ones (gopher-lua kept every key it ever had).
func TestChurningKeysAreForgotten(t *testing.T) {
	for _, key := range []func(int) LValue{
		func(i int) LValue { return LString("e" + itoa(i)) },
		func(i int) LValue { return LNumber(float64(i) + 0.5) },
		func(i int) LValue { return LNumber(i * 1000) },
	} {
		tb := newLTable(0, 0)
		for i := range 100_000 {
			tb.RawSet(key(i), LTrue)
			if i >= 10 {
				tb.RawSet(key(i-10), LNil)
			}
		}
		n := 0
		for k, _ := tb.Next(LNil); k != LNil; k, _ = tb.Next(k) {
			n++
		}
		_, _, looked, _ := tb.NextSlots(LNil)
		if n != 10 || len(tb.keys) > 100 || looked > 100 {
			t.Errorf("%v: %d live keys, %d places, first next looked at %d slots; want 10, at most 100, 100", key(0), n, len(tb.keys), looked)
		}
	}
}
