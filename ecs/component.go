package ecs

import "fmt"

// Len returns the number of entities that have a T. It reads the World only;
// see World for when reads may run concurrently.
func (s *Store[T]) Len() int { return s.length }

// Insert sets e's T to v, replacing any T that e already has. Replacing
// writes in place, so pointers to e's T stay valid and see the new value.
// It returns an error wrapping ErrNoEntity if e is not alive.
//
// Insert may be called while ranging over a Query; see Query for what the
// loop then sees. It changes the World and is not safe for concurrent use.
func (s *Store[T]) Insert(e Entity, v T) error {
	if !s.world().Alive(e) {
		return fmt.Errorf("insert %s on entity %v: %w", typeName[T](), e, ErrNoEntity)
	}
	s.put(e, v)
	return nil
}

// Get returns a copy of e's T and true, or the zero T and false if e is dead
// or has no T. It reads the World only; see World for when reads may run
// concurrently.
func (s *Store[T]) Get(e Entity) (T, bool) {
	if p := s.find(e); p >= 0 {
		return *s.at(p), true
	}
	var zero T
	return zero, false
}

// Ref returns a pointer to e's T for updating it in place, or nil if e is
// dead or has no T.
//
// The pointer stays valid until a T is removed from some entity of the
// World (by Remove, Despawn, Unspawn, or a World.Snapshot's function removing
// one the entity gained since) while no Query is running: that removal
// moves the last T into the freed place. Inserting components never moves
// existing ones, and while a Query runs nothing moves, so pointers taken
// before or during a loop stay valid until the outermost loop ends and
// compacts what the loop removed. A stale pointer is still memory-safe, but
// what it reads and writes is no longer e's T: it may be another entity's.
//
// Ref reads the World only; see World for when reads may run concurrently.
func (s *Store[T]) Ref(e Entity) *T {
	if p := s.find(e); p >= 0 {
		return s.at(p)
	}
	return nil
}

// Has reports whether e is alive and has a T. It reads the World only; see
// World for when reads may run concurrently.
func (s *Store[T]) Has(e Entity) bool { return s.find(e) >= 0 }

// Remove deletes e's T and reports whether e had one. Removing from a dead
// entity, or one without a T, does nothing and returns false.
//
// Remove may be called while ranging over a Query; see Query for what the
// loop then sees, and Ref for which pointers it invalidates. It changes the
// World and is not safe for concurrent use.
func (s *Store[T]) Remove(e Entity) bool { return s.remove(e) }

// Insert sets e's component of type T to v, replacing any T that e already
// has. It returns an error wrapping ErrNoEntity if e is not alive. It is
// shorthand for StoreOf[T](w).Insert(e, v). It changes the World and is
// not safe for concurrent use.
func Insert[T any](w *World, e Entity, v T) error {
	return StoreOf[T](w).Insert(e, v)
}

// Get returns a copy of e's component of type T and true, or the zero T and
// false if e is dead or has no T. It reads the World only; see World for
// when reads may run concurrently.
func Get[T any](w *World, e Entity) (T, bool) {
	if s := lookup[T](w); s != nil {
		return s.Get(e)
	}
	var zero T
	return zero, false
}

// Ref returns a pointer to e's component of type T for updating it in place,
// or nil if e is dead or has no T. See Store.Ref for how long the pointer
// stays valid. It reads the World only; see World for when reads may run
// concurrently.
func Ref[T any](w *World, e Entity) *T {
	if s := lookup[T](w); s != nil {
		return s.Ref(e)
	}
	return nil
}

// Has reports whether e is alive and has a component of type T. It
// reads the World only; see World for when reads may run concurrently.
func Has[T any](w *World, e Entity) bool {
	s := lookup[T](w)
	return s != nil && s.Has(e)
}

// Remove deletes e's component of type T and reports whether e had one.
// It changes the World and is not safe for concurrent use.
func Remove[T any](w *World, e Entity) bool {
	s := lookup[T](w)
	return s != nil && s.Remove(e)
}
