package ecs

import (
	"math/bits"
	"slices"
	"unsafe"
)

// Storage layout. Each component type has a sparse set:
//
//   - sparse maps an entity index to 1 + the position of its component in
//     the dense arrays, or 0 when the entity has none. It is as long as the
//     largest index that ever held the component.
//   - ents lists the entity at each dense position. Entity 0 (never alive)
//     marks a hole: a component removed while a query was running.
//   - pages hold the values at the same positions, in fixed-size pages.
//
// Values live in pages rather than one growing slice so that adding a
// component never moves existing ones: a *T from Ref stays valid across any
// number of inserts. Only removal outside a query moves a value (the last
// one fills the gap), and during a query removal leaves a hole instead, so
// nothing moves at all while a loop runs. Holes are compacted when the
// outermost query ends.

// pageBytes is the target size of one page of component values. Pages hold
// a power of two of values, at most maxPageLen, and one value of a type
// larger than pageBytes: a store's memory follows what it holds, not a page
// of 16 values of a 64 KiB type for its first one.
const (
	pageBytes  = 16 << 10
	maxPageLen = 1024
)

// pageShift returns log2 of the number of values of the given size per page.
func pageShift(size uintptr) uint {
	n := uintptr(maxPageLen)
	if size > 0 {
		n = max(1, min(maxPageLen, pageBytes/size))
	}
	return uint(bits.Len(uint(n)) - 1) // round down to a power of two
}

// Store holds every component of type T in one World. Get one with StoreOf:
// the zero Store belongs to no World, and its methods that change it (Insert,
// All) panic.
// The package-level functions (Insert, Get, Ref, ...) are shorthands for
// the methods of the Store their type parameter selects.
//
// A Store shares its World's concurrency rules: the read methods (Len, Get,
// Has, Ref) may run concurrently with each other and with reads of the World
// while nothing changes the World; everything else must not overlap with any
// other use.
type Store[T any] struct {
	w      *World
	sparse []uint32
	ents   []Entity
	pages  [][]T
	shift  uint
	holes  []uint32 // dense positions emptied during a query
	dirty  bool     // listed in w.dirty
	length int      // live components (len(ents) minus holes)
}

// world returns the Store's World, panicking on the zero Store, which has none.
func (s *Store[T]) world() *World {
	if s.w == nil {
		panic("ecs: a zero Store[" + typeName[T]() + "] belongs to no World: get one with StoreOf")
	}
	return s.w
}

func newStore[T any](w *World) *Store[T] {
	return &Store[T]{w: w, shift: pageShift(unsafe.Sizeof(*new(T)))}
}

// at returns the value at dense position pos.
func (s *Store[T]) at(pos int) *T {
	return &s.pages[pos>>s.shift][pos&(1<<s.shift-1)]
}

// find returns e's dense position, or -1. Comparing the stored entity, not
// just the index, is what rejects a stale Entity whose index now belongs to
// a newer entity.
func (s *Store[T]) find(e Entity) int {
	idx := e.Index()
	if uint(idx) < uint(len(s.sparse)) { // as in World.Alive
		if p := int(s.sparse[idx]) - 1; p >= 0 && s.ents[p] == e {
			return p
		}
	}
	return -1
}

// put stores v as e's component, in place if e has one. e must be alive.
func (s *Store[T]) put(e Entity, v T) *T {
	if p := s.find(e); p >= 0 {
		ptr := s.at(p)
		*ptr = v
		return ptr
	}
	pos := len(s.ents)
	if pos>>s.shift == len(s.pages) {
		s.pages = append(s.pages, make([]T, 1<<s.shift))
	}
	s.ents = append(s.ents, e)
	ptr := s.at(pos)
	*ptr = v
	idx := int(e.Index())
	if n := len(s.sparse); idx >= n {
		s.sparse = slices.Grow(s.sparse, idx+1-n)[:idx+1]
		clear(s.sparse[n:idx])
	}
	s.sparse[idx] = uint32(pos + 1)
	s.length++
	return ptr
}

// remove deletes e's component. During a query it leaves a hole so that no
// value moves under the running loop; otherwise the last value fills the
// gap.
func (s *Store[T]) remove(e Entity) bool {
	p := s.find(e)
	if p < 0 {
		return false
	}
	s.sparse[e.Index()] = 0
	s.length--
	if s.w.querying == 0 {
		s.swapRemove(p)
		return true
	}
	s.ents[p] = 0
	s.holes = append(s.holes, uint32(p))
	if !s.dirty {
		s.dirty = true
		s.w.dirty = append(s.w.dirty, s)
	}
	return true
}

func (s *Store[T]) save(e Entity) func() {
	p := s.find(e)
	if p < 0 {
		return nil
	}
	v := *s.at(p)
	return func() { s.put(e, v) }
}

// swapRemove moves the last value into position p and shrinks the arrays.
// The caller has already cleared p's sparse entry; the last entry must not
// be a hole unless it is p itself.
func (s *Store[T]) swapRemove(p int) {
	last := len(s.ents) - 1
	if p != last {
		moved := s.ents[last]
		s.ents[p] = moved
		*s.at(p) = *s.at(last)
		s.sparse[moved.Index()] = uint32(p + 1)
	}
	var zero T
	*s.at(last) = zero // drop references held by the vacated slot
	s.ents = s.ents[:last]
	// Free the pages past the one the next insert fills, which is kept
	// (perhaps empty) so that a store hovering at a page boundary does not
	// allocate a page each time it crosses it.
	if keep := last>>s.shift + 1; len(s.pages) > keep {
		clear(s.pages[keep:])
		s.pages = s.pages[:keep]
	}
}

// compact removes the holes left by a query. Going from the highest hole
// down, every position above the current hole is live, so the value
// swapRemove moves in is never itself a hole.
func (s *Store[T]) compact() {
	slices.Sort(s.holes)
	for i := len(s.holes) - 1; i >= 0; i-- {
		s.swapRemove(int(s.holes[i]))
	}
	s.holes = s.holes[:0]
	s.dirty = false
}
