package ecs

import (
	"reflect"
	"unsafe"
)

// A World keeps one storage per component type, found by a key that
// identifies the type. The key is the address of the Go runtime's type
// descriptor for *T: the linker emits exactly one descriptor per type in a
// program, so equal keys mean equal types. Reading it costs a generic
// dictionary load and no call into reflect, which measured three times
// faster than keying the map by reflect.Type (see BenchmarkTypeKey).

// eface mirrors the runtime layout of an empty interface: its first word is
// the dynamic type's descriptor. That layout has not changed since Go 1.0
// and packages such as the runtime's own reflectlite depend on it.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

// typeKey returns the key of T. Converting a nil *T to an interface never
// allocates, and *T is a distinct type for every T, interfaces included.
func typeKey[T any]() unsafe.Pointer {
	var k any = (*T)(nil)
	return (*eface)(unsafe.Pointer(&k)).typ
}

// typeName names T in error messages; it is only used off the hot path.
func typeName[T any]() string { return reflect.TypeFor[T]().String() }

// storage is the part of a component storage that the World drives without
// knowing the component type.
type storage interface {
	// remove deletes e's component, reporting whether it had one.
	remove(e Entity) bool
	// compact fills the holes that removals left while a query ran.
	compact()
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
		w.types = make(map[unsafe.Pointer]storage)
	}
	w.types[typeKey[T]()] = s
	w.stores = append(w.stores, s)
	return s
}
