package ecs

import "reflect"

// A World keeps one storage per component type, found by a key that
// identifies the type. The key is a nil *T held in an interface: two such
// interfaces are equal exactly when their dynamic types are, *T is a
// distinct type for every T (interfaces included), and converting a nil
// pointer to an interface never allocates. A lookup costs about as much as
// one keyed by reflect.Type (BenchmarkTypeKey); a hot path skips it by
// keeping a Store from StoreOf.

// typeKey returns the key of T.
func typeKey[T any]() any { return (*T)(nil) }

// typeName names T in error messages; it is only used off the hot path.
func typeName[T any]() string { return reflect.TypeFor[T]().String() }

// storage is the part of a component storage that the World drives without
// knowing the component type.
type storage interface {
	// remove deletes e's component, reporting whether it had one.
	remove(e Entity) bool
	// compact fills the holes that removals left while a query ran.
	compact()
	// save returns a function that gives e (alive then) back the
	// component it has now, a copy, or nil if it has none.
	save(e Entity) func()
}

// lookup returns T's storage in w, or nil if no T was ever stored. It never
// changes w, so it is safe for concurrent readers.
func lookup[T any](w *World) *Store[T] {
	s, _ := w.types[typeKey[T]()].(*Store[T])
	return s
}

// StoreOf returns the World's storage of component type T, creating it on
// first use. The Store is a typed handle on the same data the package-level
// functions use: keep it to skip the per-call type lookup in a hot path, for
// example in a host function that a script calls every frame. It stays
// valid for the life of the World.
//
// StoreOf changes the World the first time it is called for a type and is
// then a pure read; it is not safe for concurrent use with changes.
func StoreOf[T any](w *World) *Store[T] {
	if s := lookup[T](w); s != nil {
		return s
	}
	s := newStore[T](w)
	if w.types == nil {
		w.types = make(map[any]storage)
	}
	w.types[typeKey[T]()] = s
	w.stores = append(w.stores, s)
	return s
}
