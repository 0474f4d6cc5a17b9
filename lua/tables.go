package lua

import (
	glua "github.com/hotscript/hotscript/internal/gopherlua"
)

// A table's layout decides its pairs order: its array part (the keys from 1
// to its length, nil slots included) iterates first, then its hash part in
// the order its keys were first set, removed keys keeping their places (see
// internal/gopherlua's LTable.ArrayLen, SetArrayLen, PairsOrder and
// SetPairsOrder).
// A reload copies a script's tables with their layouts, and a failed one puts
// them back with theirs, so that each iterates as before.

// sizeHint returns how many entries t has in its array part (its nil slots
// too) and its live keys in its hash part, for a copy of t made by
// CreateTable: not the keys removed, which its pairs order keeps.
func sizeHint(t *glua.LTable) (array, hash int) {
	if t == nil { // a Go nil a gopher-lua flaw left (see orNil): what uses it panics, recoverably
		return 0, 0
	}
	return t.ArrayLen(), t.HashLen()
}

// emptyTable removes t's entries, or only those of number keys, with the nil
// slots of its array part.
func emptyTable(t *glua.LTable, numbersOnly bool) {
	var keys []glua.LValue
	t.ForEach(func(k, _ glua.LValue) {
		if !numbersOnly || k.Type() == glua.LTNumber {
			keys = append(keys, k)
		}
	})
	for _, k := range keys {
		t.RawSet(k, glua.LNil)
	}
	t.SetArrayLen(0)
}
