package lua

import (
	"slices"

	glua "github.com/yuin/gopher-lua"
)

// copier deep-copies values from an old version's LState into a new one. Tables
// become new tables, and a table reached twice is copied once, so shared subtables
// stay shared and cycles stay cycles. Metatables are not copied. Functions and
// userdata are copied by reference: a function kept in a data field keeps running
// the old version's code. Coroutines and channels are not copied at all (they are
// tied to the old LState); the new version keeps its own value for that field.
type copier struct {
	L    *glua.LState // the new version's, to make tables
	seen map[*glua.LTable]*glua.LTable
}

func newCopier(L *glua.LState) *copier {
	return &copier{L: L, seen: map[*glua.LTable]*glua.LTable{}}
}

func (c *copier) value(v glua.LValue) (glua.LValue, bool) {
	switch v := v.(type) {
	case *glua.LTable:
		return c.table(v), true
	case *glua.LState, glua.LChannel:
		return glua.LNil, false
	}
	return v, true
}

func (c *copier) table(t *glua.LTable) *glua.LTable {
	if n, ok := c.seen[t]; ok {
		return n
	}
	entries := 0
	t.ForEach(func(glua.LValue, glua.LValue) { entries++ })
	array := t.Len()
	n := c.L.CreateTable(array, entries-array) // NewTable would reserve 32 of each
	c.seen[t] = n
	t.ForEach(func(k, v glua.LValue) {
		ck, okk := c.value(k)
		cv, okv := c.value(v)
		if okk && okv {
			n.RawSet(ck, cv)
		}
	})
	return n
}

// carry copies every field of from whose value is not a function into to, where the
// old value replaces the new one (step 3 of a reload), and returns the names of the
// fields carried, sorted. A nested table is replaced as a whole, not merged. A field
// that is a function in the new module keeps it: functions always come from the new
// source, even where the old version had data.
func (c *copier) carry(from, to *glua.LTable) []string {
	names := []string{}
	from.ForEach(func(k, v glua.LValue) {
		if v.Type() == glua.LTFunction || to.RawGet(k).Type() == glua.LTFunction {
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

// snapshot records the contents and metatables of every table reachable from a
// module, so that what an on_save hook changes in them can be undone if the reload
// then fails. Changes to globals and upvalues are not recorded.
type snapshot map[*glua.LTable]tableRecord

type tableRecord struct {
	keys, values []glua.LValue
	meta         glua.LValue
}

func takeSnapshot(t *glua.LTable) snapshot {
	s := snapshot{}
	s.add(t)
	return s
}

func (s snapshot) add(t *glua.LTable) {
	if _, ok := s[t]; ok {
		return
	}
	rec := tableRecord{meta: t.Metatable}
	s[t] = rec
	t.ForEach(func(k, v glua.LValue) {
		rec.keys = append(rec.keys, k)
		rec.values = append(rec.values, v)
	})
	s[t] = rec
	for i := range rec.keys {
		for _, x := range []glua.LValue{rec.keys[i], rec.values[i]} {
			if sub, ok := x.(*glua.LTable); ok {
				s.add(sub)
			}
		}
	}
}

// restore puts every recorded table back as it was recorded.
func (s snapshot) restore() {
	for t, rec := range s {
		var keys []glua.LValue
		t.ForEach(func(k, _ glua.LValue) { keys = append(keys, k) })
		for _, k := range keys {
			t.RawSet(k, glua.LNil)
		}
		for i, k := range rec.keys {
			t.RawSet(k, rec.values[i])
		}
		t.Metatable = rec.meta
	}
}
