package ecs_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/hotscript/hotscript/ecs"
)

// populate spawns n entities; entity i gets a Position if i%2 == 0, a
// Velocity if i%3 == 0 and a Health if i%5 == 0, each holding i.
func populate(t *testing.T, n int) (*ecs.World, []ecs.Entity) {
	t.Helper()
	w := ecs.NewWorld()
	es := make([]ecs.Entity, n)
	for i := range es {
		e := w.Spawn()
		es[i] = e
		if i%2 == 0 {
			must(t, ecs.Insert(w, e, Position{X: float64(i)}))
		}
		if i%3 == 0 {
			must(t, ecs.Insert(w, e, Velocity{X: float64(i)}))
		}
		if i%5 == 0 {
			must(t, ecs.Insert(w, e, Health(i)))
		}
	}
	return w, es
}

// expect returns the entities whose spawn number i satisfies keep.
func expect(es []ecs.Entity, keep func(i int) bool) []ecs.Entity {
	var out []ecs.Entity
	for i, e := range es {
		if keep(i) {
			out = append(out, e)
		}
	}
	return out
}

func sorted(es []ecs.Entity) []ecs.Entity { return slices.Sorted(slices.Values(es)) }

func TestQueryMembership(t *testing.T) {
	const n = 3000 // spans several pages
	w, es := populate(t, n)
	// Remove a few so storage order differs from spawn order.
	for i := 0; i < n; i += 14 {
		ecs.Remove[Position](w, es[i])
	}
	hasPos := func(i int) bool { return i%2 == 0 && i%14 != 0 }
	tests := []struct {
		name string
		run  func() ([]ecs.Entity, bool) // visited; false if a value was wrong
		want []ecs.Entity
	}{
		{"Query Position", func() ([]ecs.Entity, bool) {
			var got []ecs.Entity
			ok := true
			for e, p := range ecs.Query[Position](w) {
				got = append(got, e)
				ok = ok && p.X == float64(slices.Index(es, e))
			}
			return got, ok
		}, expect(es, hasPos)},
		{"Store.All Health", func() ([]ecs.Entity, bool) {
			var got []ecs.Entity
			for e := range ecs.StoreOf[Health](w).All() {
				got = append(got, e)
			}
			return got, true
		}, expect(es, func(i int) bool { return i%5 == 0 })},
		{"Query2 larger first", func() ([]ecs.Entity, bool) {
			var got []ecs.Entity
			ok := true
			for e, c := range ecs.Query2[Position, Health](w) {
				got = append(got, e)
				ok = ok && c.A.X == float64(*c.B)
			}
			return got, ok
		}, expect(es, func(i int) bool { return hasPos(i) && i%5 == 0 })},
		{"Query2 smaller first", func() ([]ecs.Entity, bool) {
			var got []ecs.Entity
			ok := true
			for e, c := range ecs.Query2[Health, Position](w) {
				got = append(got, e)
				ok = ok && c.B.X == float64(*c.A)
			}
			return got, ok
		}, expect(es, func(i int) bool { return hasPos(i) && i%5 == 0 })},
		{"Query3", func() ([]ecs.Entity, bool) {
			var got []ecs.Entity
			ok := true
			for e, c := range ecs.Query3[Velocity, Position, Health](w) {
				got = append(got, e)
				ok = ok && c.A.X == c.B.X && c.B.X == float64(*c.C)
			}
			return got, ok
		}, expect(es, func(i int) bool { return hasPos(i) && i%3 == 0 && i%5 == 0 })},
		{"Query of unregistered type", func() ([]ecs.Entity, bool) {
			return slices.Collect(keys(ecs.Query[Name](w))), true
		}, nil},
		{"Query2 with an unregistered type", func() ([]ecs.Entity, bool) {
			return slices.Collect(keys(ecs.Query2[Position, Name](w))), true
		}, nil},
		{"Query3 with an unregistered type", func() ([]ecs.Entity, bool) {
			return slices.Collect(keys(ecs.Query3[Position, Velocity, Name](w))), true
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.run()
			if !ok {
				t.Errorf("a yielded value did not belong to its entity")
			}
			if !slices.Equal(sorted(got), sorted(tt.want)) {
				t.Errorf("visited %d entities, want %d", len(got), len(tt.want))
			}
		})
	}
}

func keys[K, V any](seq func(func(K, V) bool)) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range seq {
			if !yield(k) {
				return
			}
		}
	}
}

// Updates through yielded pointers are stored, and an early break or a
// panic in the body leaves the World consistent.
func TestQueryUpdateBreakPanic(t *testing.T) {
	w, es := populate(t, 100)
	for _, c := range ecs.Query2[Position, Velocity](w) {
		c.A.Y = c.B.X * 2
	}
	for i, e := range es {
		if p, ok := ecs.Get[Position](w, e); ok && i%3 == 0 && p.Y != float64(2*i) {
			t.Fatalf("entity %d: update lost: %v", i, p)
		}
	}

	seen := 0
	for e := range ecs.Query[Position](w) {
		w.Despawn(e)
		if seen++; seen == 10 {
			break
		}
	}
	func() {
		defer func() { _ = recover() }()
		for e := range ecs.Query[Position](w) {
			w.Despawn(e)
			panic("body panics")
		}
	}()
	// Both loops ended: their holes must be compacted, so Len matches a count.
	count := 0
	for range ecs.Query[Position](w) {
		count++
	}
	if want := 50 - 11; count != want || ecs.StoreOf[Position](w).Len() != want {
		t.Errorf("after break and panic: %d visited, Len %d, want %d", count, ecs.StoreOf[Position](w).Len(), want)
	}
}

// TestQueryMutation checks the rules documented at Query for each kind of
// change made by the loop body.
func TestQueryMutation(t *testing.T) {
	const n = 2100 // several pages
	tests := []struct {
		name string
		// body runs for each visited entity, given its spawn number and all entities.
		body    func(t *testing.T, w *ecs.World, es []ecs.Entity, i int)
		wantLen func(visited int) int // Position count after the loop
	}{
		{"despawn current", func(t *testing.T, w *ecs.World, es []ecs.Entity, i int) {
			w.Despawn(es[i])
			if w.Alive(es[i]) || ecs.Has[Position](w, es[i]) {
				t.Errorf("entity %d still alive inside the loop", i)
			}
		}, func(int) int { return 0 }},
		{"remove current", func(t *testing.T, w *ecs.World, es []ecs.Entity, i int) {
			ecs.Remove[Position](w, es[i])
		}, func(int) int { return 0 }},
		{"despawn the next three", func(t *testing.T, w *ecs.World, es []ecs.Entity, i int) {
			for j := i + 1; j < min(i+4, n); j++ {
				w.Despawn(es[j])
			}
		}, func(visited int) int { return visited }},
		{"despawn everything else", func(t *testing.T, w *ecs.World, es []ecs.Entity, i int) {
			for j, e := range es {
				if j != i {
					w.Despawn(e)
				}
			}
		}, func(int) int { return 1 }},
		{"spawn and insert", func(t *testing.T, w *ecs.World, es []ecs.Entity, i int) {
			must(t, ecs.Insert(w, w.Spawn(), Position{X: -1}))
		}, func(visited int) int { return 2 * visited }},
		{"despawn current and reuse its index", func(t *testing.T, w *ecs.World, es []ecs.Entity, i int) {
			w.Despawn(es[i])
			e := w.Spawn()
			if e.Index() != es[i].Index() {
				t.Errorf("index not reused")
			}
			must(t, ecs.Insert(w, e, Position{X: -1}))
		}, func(visited int) int { return visited }},
		{"remove and re-insert current", func(t *testing.T, w *ecs.World, es []ecs.Entity, i int) {
			ecs.Remove[Position](w, es[i])
			must(t, ecs.Insert(w, es[i], Position{X: -1}))
		}, func(visited int) int { return visited }},
		{"nested query despawns", func(t *testing.T, w *ecs.World, es []ecs.Entity, i int) {
			for e := range ecs.Query[Position](w) {
				if e != es[i] {
					w.Despawn(e)
					break
				}
			}
		}, func(visited int) int { return n - visited }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := ecs.NewWorld()
			es := make([]ecs.Entity, n)
			index := map[ecs.Entity]int{}
			for i := range es {
				es[i] = w.Spawn()
				index[es[i]] = i
				must(t, ecs.Insert(w, es[i], Position{X: float64(i)}))
			}
			visits := map[ecs.Entity]int{}
			for e, p := range ecs.Query[Position](w) {
				i, original := index[e]
				if !original {
					t.Fatalf("visited %v, spawned during the loop", e)
				}
				if visits[e]++; visits[e] > 1 {
					t.Fatalf("visited %v twice", e)
				}
				if !w.Alive(e) || !ecs.Has[Position](w, e) || p.X != float64(i) {
					t.Fatalf("visited %v while dead or without its Position (%v)", e, *p)
				}
				tt.body(t, w, es, i)
				p.Y = 1 // writing after a despawn must be harmless
			}
			// Entities never touched by another iteration's body must all be visited.
			for i, e := range es {
				if w.Alive(e) && ecs.Has[Position](w, e) && visits[e] == 0 {
					if got, _ := ecs.Get[Position](w, e); got.X == float64(i) {
						t.Errorf("entity %d kept its Position but was not visited", i)
					}
				}
			}
			got := slices.Collect(maps.Keys(collect(ecs.Query[Position](w))))
			if want := tt.wantLen(len(visits)); len(got) != want || ecs.StoreOf[Position](w).Len() != want {
				t.Errorf("after the loop: %d Positions (Len %d), want %d", len(got), ecs.StoreOf[Position](w).Len(), want)
			}
			for _, e := range got {
				if !w.Alive(e) {
					t.Errorf("dead %v still has a Position", e)
				}
			}
		})
	}
}

func collect[T any](seq func(func(ecs.Entity, *T) bool)) map[ecs.Entity]T {
	m := map[ecs.Entity]T{}
	for e, p := range seq {
		m[e] = *p
	}
	return m
}
