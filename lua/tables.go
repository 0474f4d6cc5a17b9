package lua

import (
	"reflect"
	"unsafe"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
)

// gopher-lua's LTable keeps what a reload and the budget need in fields it does
// not export: its array part, its two hash maps and its pairs order. The
// functions here reach them by the layout reflect finds at start, and fall back
// to the exported API (or do nothing) if a gopher-lua version lays the table out
// differently; TestTableLayoutKnown fails then.

// pairsOrder returns t's pairs order for the keys of its hash part, which
// gopher-lua does not export: the keys in the order they were first set
// (removed ones too), and each one's index in that list. It returns nils if
// gopher-lua's LTable has no such fields (another version).
func pairsOrder(t *glua.LTable) (*[]glua.LValue, *map[glua.LValue]int) {
	if orderField.keys == nil {
		return nil, nil
	}
	p := unsafe.Pointer(t)
	return (*[]glua.LValue)(unsafe.Add(p, orderField.keys.Offset)), (*map[glua.LValue]int)(unsafe.Add(p, orderField.index.Offset))
}

// arrayPart returns t's array part, which gopher-lua does not export, or nil
// (another version). gopher-lua never shortens it but in table.remove: a key
// set to nil leaves a nil slot, which table.remove(t) then pops as the last
// element. A reload that empties a table (into the new chunk's, or its list
// entries before a merge) or puts one back as it was sets its length with it.
func arrayPart(t *glua.LTable) *[]glua.LValue {
	if arrayField == nil {
		return nil
	}
	return (*[]glua.LValue)(unsafe.Add(unsafe.Pointer(t), arrayField.Offset))
}

// arrayField is where LTable keeps its array part, if it has the type
// arrayPart takes it for.
var arrayField = func() *reflect.StructField {
	f, ok := reflect.TypeFor[glua.LTable]().FieldByName("array")
	if !ok || f.Type != reflect.TypeFor[[]glua.LValue]() {
		return nil
	}
	return &f
}()

// sizeHint returns how many entries t has in its array part (its nil slots
// too) and its live keys in its hash part, for a copy of t made by
// CreateTable: not the keys removed, which its pairs order keeps.
func sizeHint(t *glua.LTable) (array, hash int) {
	if t == nil { // a Go nil a gopher-lua flaw left (see orNil): what uses it panics, recoverably
		return 0, 0
	}
	a := arrayPart(t)
	if a == nil || !hashField.ok { // another gopher-lua: count
		entries := 0
		t.ForEach(func(glua.LValue, glua.LValue) { entries++ })
		return t.Len(), entries - t.Len()
	}
	return len(*a), hashLen(t)
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
	setArrayLen(t, 0)
}

// cutOrder forgets the places in t's pairs order of the keys of its hash part
// past the first n (see pairsOrder): a key set again takes a place after them.
func cutOrder(t *glua.LTable, n int) {
	order, index := pairsOrder(t)
	if order == nil || len(*order) <= n {
		return
	}
	for _, k := range (*order)[n:] {
		delete(*index, k)
	}
	clear((*order)[n:])
	*order = (*order)[:n]
}

// setArrayLen cuts t's array part to n slots (or pads it with nils), as it
// was when it had n.
func setArrayLen(t *glua.LTable, n int) {
	a := arrayPart(t)
	if a == nil {
		return
	}
	for len(*a) < n {
		*a = append(*a, glua.LNil)
	}
	clear((*a)[n:])
	*a = (*a)[:n]
}

// orderField holds where LTable keeps its pairs order: its fields keys and k2i,
// if they have the types pairsOrder takes them for.
var orderField = func() (f struct{ keys, index *reflect.StructField }) {
	lt := reflect.TypeFor[glua.LTable]()
	keys, ok1 := lt.FieldByName("keys")
	index, ok2 := lt.FieldByName("k2i")
	if ok1 && ok2 && keys.Type == reflect.TypeFor[[]glua.LValue]() && index.Type == reflect.TypeFor[map[glua.LValue]int]() {
		f.keys, f.index = &keys, &index
	}
	return f
}()

// nextCounted is tb.Next(key), the step of next and of pairs' iterator, also
// returning how many slots of the table it looked at. gopher-lua keeps the slot
// of a removed key, in the array part (a nil) and in the hash part's pairs
// order (a key whose value is gone), and Next steps over those until it finds a
// live one, all inside one instruction: next(t) on a table that once had 200,000
// keys and now has one walks all of them, each time. It follows gopher-lua's
// Next step by step, so that it returns what Next returns; where the layout is
// not known it calls Next and says it looked at one slot.
func nextCounted(tb *glua.LTable, key glua.LValue) (glua.LValue, glua.LValue, int) {
	ap := arrayPart(tb)
	keysp, k2ip := pairsOrder(tb)
	if ap == nil || keysp == nil || !hashField.ok {
		k, v := tb.Next(key)
		return k, v, 1
	}
	array, keys, k2i := *ap, *keysp, *k2ip
	looked := 0
	init := key == glua.LNil
	if init {
		key = glua.LNumber(0)
	}
	if kv, ok := key.(glua.LNumber); (init || key != glua.LNumber(0)) && ok &&
		float64(kv) == float64(int64(kv)) && int(kv) >= 0 && kv < glua.LNumber(glua.MaxArrayIndex) {
		index := int(kv)
		for ; index < len(array); index++ {
			looked++
			if v := array[index]; v != glua.LNil {
				return glua.LNumber(index + 1), v, looked
			}
		}
		if array == nil || index == len(array) {
			if hashEmpty(tb) {
				return glua.LNil, glua.LNil, looked
			}
			key = keys[0]
			looked++
			if v := tb.RawGetH(key); v != glua.LNil {
				return key, v, looked
			}
		}
	}
	for i := k2i[key] + 1; i < len(keys); i++ {
		looked++
		if v := tb.RawGetH(keys[i]); v != glua.LNil {
			return keys[i], v, looked
		}
	}
	return glua.LNil, glua.LNil, looked
}

// arrayOnly reports whether tb, whose array part ends with its element n (see
// LTable.MaxN), has no keys besides: none in its hash maps, which hold live
// keys only. Where the layout is not known, it asks Next for the key after n,
// which steps over every removed key's slot.
func arrayOnly(tb *glua.LTable, n int) bool {
	if !hashField.ok {
		k, _ := tb.Next(glua.LNumber(n))
		return k == glua.LNil
	}
	return hashEmpty(tb)
}

// hashEmpty reports whether tb's hash maps hold no key; only when hashField.ok.
func hashEmpty(tb *glua.LTable) bool { return hashLen(tb) == 0 }

// hashLen returns how many live keys tb's hash maps hold; only when
// hashField.ok.
func hashLen(tb *glua.LTable) int {
	p := unsafe.Pointer(tb)
	return len(*(*map[glua.LValue]glua.LValue)(unsafe.Add(p, hashField.dict))) +
		len(*(*map[string]glua.LValue)(unsafe.Add(p, hashField.strdict)))
}

// hashField is where LTable keeps its hash maps, dict and strdict.
var hashField = func() (f struct {
	dict, strdict uintptr
	ok            bool
}) {
	lt := reflect.TypeFor[glua.LTable]()
	dict, ok1 := lt.FieldByName("dict")
	strdict, ok2 := lt.FieldByName("strdict")
	if ok1 && ok2 && dict.Type == reflect.TypeFor[map[glua.LValue]glua.LValue]() && strdict.Type == reflect.TypeFor[map[string]glua.LValue]() {
		f.dict, f.strdict, f.ok = dict.Offset, strdict.Offset, true
	}
	return f
}()
