package ecs

import (
	"testing"
)

// An index at the last generation is retired, not reused, so no Entity
// value is ever handed out twice and every one fits a float64 exactly.
func TestIndexRetiredOnGenerationWrap(t *testing.T) {
	w := NewWorld()
	e := w.Spawn()
	if err := Insert(w, e, compA(1)); err != nil {
		t.Fatal(err)
	}
	w.Despawn(e)
	w.slots[e.Index()].gen = maxGeneration // as if reused many more times
	last := w.Spawn()
	if last.Index() != e.Index() || last.Generation() != maxGeneration || uint64(float64(last)) != uint64(last) {
		t.Fatalf("Spawn = %v, want index %d at the last generation", last, e.Index())
	}
	if err := Insert(w, last, compA(2)); err != nil {
		t.Fatal(err)
	}
	w.Despawn(last)
	next := w.Spawn()
	if next.Index() == e.Index() {
		t.Fatalf("retired index reused: %v", next)
	}
	for _, stale := range []Entity{e, last, makeEntity(e.Index(), 0)} {
		if w.Alive(stale) || Has[compA](w, stale) || w.Despawn(stale) {
			t.Errorf("retired %v reported alive", stale)
		}
	}
	if w.Len() != 1 {
		t.Errorf("Len() = %d, want 1", w.Len())
	}
}

func TestTypeKey(t *testing.T) {
	type local int
	type generic[T any] struct{ v T }
	keys := []struct {
		name string
		key  any
	}{
		{"int", typeKey[int]()},
		{"compA", typeKey[compA]()},
		{"compB", typeKey[compB]()},
		{"local", typeKey[local]()},
		{"*int", typeKey[*int]()},
		{"[]int", typeKey[[]int]()},
		{"any", typeKey[any]()},
		{"error", typeKey[error]()},
		{"generic[int]", typeKey[generic[int]]()},
		{"generic[compA]", typeKey[generic[compA]]()},
		{"struct{}", typeKey[struct{}]()},
		{"[0]int", typeKey[[0]int]()},
	}
	seen := map[any]string{}
	for _, k := range keys {
		if k.key == nil {
			t.Errorf("%s: nil key", k.name)
		}
		if other, dup := seen[k.key]; dup {
			t.Errorf("%s and %s share a key", k.name, other)
		}
		seen[k.key] = k.name
	}
	if typeKey[compA]() != typeKey[compA]() || typeKey[generic[int]]() != typeKey[generic[int]]() {
		t.Errorf("key of one type differs between calls")
	}
}

func TestPageShift(t *testing.T) {
	tests := []struct {
		name string
		size uintptr
		want int // values per page
	}{
		{"zero size", 0, maxPageLen},
		{"byte", 1, maxPageLen},
		{"16 bytes", 16, maxPageLen},
		{"24 bytes", 24, 512},
		{"64 bytes", 64, 256},
		{"1000 bytes", 1000, 16},
		{"5000 bytes", 5000, 2},
		{"page size", pageBytes, 1},
		{"huge", 1 << 20, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := 1 << pageShift(tt.size); got != tt.want {
				t.Errorf("page of %d-byte values holds %d, want %d", tt.size, got, tt.want)
			}
		})
	}
}

// A store's pages follow what it holds: removals, and the compaction after a
// query that removed, free the pages past the one the next insert fills, and
// a value larger than a page gets a page of its own.
func TestPagesFreed(t *testing.T) {
	w := NewWorld()
	s := StoreOf[compA](w)
	perPage := 1 << s.shift
	fill := func() []Entity {
		var es []Entity
		for range 3*perPage + 1 {
			e := w.Spawn()
			es = append(es, e)
			if err := Insert(w, e, compA(1)); err != nil {
				t.Fatal(err)
			}
		}
		if len(s.pages) != 4 {
			t.Fatalf("%d values in %d pages of %d, want 4 pages", len(es), len(s.pages), perPage)
		}
		return es
	}
	for _, e := range fill() {
		Remove[compA](w, e)
		if want := s.Len()/perPage + 1; len(s.pages) > want {
			t.Fatalf("%d values left in %d pages of %d, want at most %d", s.Len(), len(s.pages), perPage, want)
		}
	}
	if len(s.pages) != 1 {
		t.Errorf("emptied store: %d pages, want 1", len(s.pages))
	}

	fill()
	for e := range Query[compA](w) {
		w.Despawn(e)
	}
	if s.Len() != 0 || len(s.pages) != 1 {
		t.Errorf("store emptied by a query: %d values in %d pages, want 0 in 1", s.Len(), len(s.pages))
	}

	type chunk [64 << 10]byte
	big := StoreOf[chunk](w)
	if err := big.Insert(w.Spawn(), chunk{1}); err != nil {
		t.Fatal(err)
	}
	if len(big.pages) != 1 || len(big.pages[0]) != 1 {
		t.Errorf("one 64 KiB value: %d pages of %d values, want 1 of 1", len(big.pages), len(big.pages[0]))
	}
}
