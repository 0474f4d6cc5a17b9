package ecs

import "iter"

// Pair holds pointers to two components of one entity, as yielded by
// Query2. The pointers follow the rules of Store.Ref.
type Pair[A, B any] struct {
	A *A // the first component
	B *B // the second component
}

// Triple holds pointers to three components of one entity, as yielded by
// Query3. The pointers follow the rules of Store.Ref.
type Triple[A, B, C any] struct {
	A *A // the first component
	B *B // the second component
	C *C // the third component
}

// Query returns an iterator over every entity that has a T, yielding the
// entity and a pointer to its T for reading or updating in place:
//
//	for e, pos := range ecs.Query[Position](w) {
//		pos.X += 1
//	}
//
// Entities come in storage order, which is not spawn order and changes as
// components are removed.
//
// # Changing the World inside the loop
//
// The loop body may spawn, despawn, insert and remove freely, and may start
// other queries. The rules:
//
//   - Every entity that has the queried components when the loop starts and
//     keeps them until its turn comes is visited exactly once.
//   - No entity is visited twice, and none is visited while it is dead or
//     lacks a queried component.
//   - Entities spawned during the loop, or that gained a queried component
//     during it (even one they had before), may or may not be visited.
//   - Despawning the entity being visited, or removing its components, is
//     safe. Its pointers stay usable until the outermost loop ends, but
//     writes through them are discarded.
//   - Nothing moves while any loop runs, so pointers obtained during the
//     loop stay valid until the outermost loop ends. Removals made inside
//     the loop leave holes that are compacted when it ends (including by
//     break or panic), and that compaction may move values as described at
//     Store.Ref.
//   - A query driven by hand with iter.Pull2 runs until its stop function
//     is called: call it (defer stop()), or the World stays in a query, and
//     every later removal leaves a hole that is never compacted.
//
// The iterator looks the storage up each time it is ranged over, so it can
// be built once and reused. Ranging over it changes the World (see World
// for what that means for concurrency).
func Query[T any](w *World) iter.Seq2[Entity, *T] {
	return func(yield func(Entity, *T) bool) {
		if s := lookup[T](w); s != nil {
			s.each(yield)
		}
	}
}

// All returns an iterator over every entity that has a T and a pointer to
// its T. It is Query[T] for this Store, with the same rules; ranging over
// it changes the World and is not safe for concurrent use.
func (s *Store[T]) All() iter.Seq2[Entity, *T] { return s.each }

func (s *Store[T]) each(yield func(Entity, *T) bool) {
	s.world().querying++
	defer s.w.endQuery()
	n := len(s.ents)
	for base := 0; base < n; base += 1 << s.shift {
		page := s.pages[base>>s.shift]
		for j := range min(len(page), n-base) {
			// Read s.ents afresh: the body may append to it, and a removal
			// marks its hole in the current array.
			if e := s.ents[base+j]; e != 0 {
				if !yield(e, &page[j]) {
					return
				}
			}
		}
	}
}

// Query2 returns an iterator over every entity that has both an A and a B,
// yielding the entity and pointers to both. It walks the smaller of the two
// storages and looks the other component up, so its cost follows the rarer
// component. Changes inside the loop follow the rules at Query. Ranging
// over it changes the World and is not safe for concurrent use.
func Query2[A, B any](w *World) iter.Seq2[Entity, Pair[A, B]] {
	return func(yield func(Entity, Pair[A, B]) bool) {
		sa, sb := lookup[A](w), lookup[B](w)
		if sa == nil || sb == nil {
			return
		}
		w.querying++
		defer w.endQuery()
		ents := smallest(&sa.ents, sa.length, &sb.ents, sb.length)
		n := len(*ents)
		for i := 0; i < n; i++ {
			e := (*ents)[i]
			if e == 0 {
				continue
			}
			a, b := sa.Ref(e), sb.Ref(e)
			if a == nil || b == nil {
				continue
			}
			if !yield(e, Pair[A, B]{a, b}) {
				return
			}
		}
	}
}

// Query3 returns an iterator over every entity that has an A, a B and a C,
// yielding the entity and pointers to all three. It walks the smallest of
// the three storages. Changes inside the loop follow the rules at Query.
// Ranging over it changes the World and is not safe for concurrent use.
func Query3[A, B, C any](w *World) iter.Seq2[Entity, Triple[A, B, C]] {
	return func(yield func(Entity, Triple[A, B, C]) bool) {
		sa, sb, sc := lookup[A](w), lookup[B](w), lookup[C](w)
		if sa == nil || sb == nil || sc == nil {
			return
		}
		w.querying++
		defer w.endQuery()
		ents := smallest(&sa.ents, sa.length, &sb.ents, sb.length)
		ents = smallest(ents, min(sa.length, sb.length), &sc.ents, sc.length)
		n := len(*ents)
		for i := 0; i < n; i++ {
			e := (*ents)[i]
			if e == 0 {
				continue
			}
			a, b, c := sa.Ref(e), sb.Ref(e), sc.Ref(e)
			if a == nil || b == nil || c == nil {
				continue
			}
			if !yield(e, Triple[A, B, C]{a, b, c}) {
				return
			}
		}
	}
}

// smallest returns the entity list of the storage with fewer components.
// It returns a pointer to the Store's field, not the slice, because the
// loop body may append to the list and so reallocate it.
func smallest(x *[]Entity, xn int, y *[]Entity, yn int) *[]Entity {
	if yn < xn {
		return y
	}
	return x
}

// endQuery ends one running query and, when it was the outermost, compacts
// the holes that removals left in the meantime.
func (w *World) endQuery() {
	w.querying--
	if w.querying > 0 || len(w.dirty) == 0 {
		return
	}
	for _, s := range w.dirty {
		s.compact()
	}
	clear(w.dirty)
	w.dirty = w.dirty[:0]
}
