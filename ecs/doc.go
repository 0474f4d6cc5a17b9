// Package ecs is a small entity-component store: a World of entities, each
// carrying at most one value of any number of Go types (components), with
// fast lookup by entity and fast iteration over every entity that has a
// given set of components.
//
// Programs that embed hotscript keep script state here. A WebAssembly module
// loses its globals and memory on reload, so the program's migration (a
// hotscript.MigrationFunc, which finds the World of hotscript.Config.World
// in Migration.World) reads the state out of the old module, inserts it as a
// component on the script's entity, and hands the component to the new
// module (see this package's ScriptStateAcrossReload example, and package
// hotscript's MigrationFunc example for the same through Migration.World);
// the Host itself does nothing else
// with the World. Lua scripts reach components through host functions that
// call Get, Ref and Insert. A host function or migration that changes the
// World during a reload's commit registers how to put it back if the reload
// is rolled back (hotscript.OnRollback, Migration.Undo): World.Unspawn
// undoes a Spawn, World.Snapshot puts an entity back as it was, despawned or
// changed; undo through entities, never through a pointer from Ref, which a
// later removal may have moved.
//
// # Entities
//
// An Entity is a 64-bit value packing an index and a generation. Despawned
// indices are reused with a new generation, so an Entity kept after Despawn
// stays dead forever: every operation on it returns ErrNoEntity or false
// and never panics. World.Alive tells whether an Entity still refers to a
// live entity.
//
// # Components
//
// Any Go type can be a component. The package-level generic functions
// Insert, Get, Ref, Has and Remove select the storage by their type
// parameter; StoreOf returns that storage as a typed handle (a *Store) for
// code that wants to skip the type lookup on every call. Use distinct named
// types for distinct meanings: a World stores one value per type per
// entity, so two components that are both float64 overwrite each other.
//
// # Storage
//
// Each component type has its own sparse set: a sparse array from entity
// index to a dense position, and dense arrays of entities and values.
// Lookup is four array reads; iteration walks the dense arrays, contiguous
// in memory. A multi-component query walks the smallest of its storages and
// looks the others up. Values live in fixed-size pages of at most 16 KiB and
// 1,024 values (one value each for larger types), so adding a component never
// moves the others and pointers from Ref survive inserts; see Store.Ref for
// exactly when a pointer goes stale. Removing components frees the pages they
// no longer fill. The index arrays keep the size of the World's peak, which
// they are reused up to, and never shrink: per type, 4 bytes per entity index
// up to the highest that ever held the type (the sparse array: a tag held by
// one entity of index a million costs 4 MB), 8 per component at the type's
// peak count, and 4 per component removed during a query, at the peak (the
// holes compacted as it ends); and 12 bytes per entity at the World's peak
// (slots and the free list).
//
// Despawn looks the entity up in the storage of every component type the
// World has seen, held or not: its cost grows with the number of types (about
// 30 ns with one, 870 ns with 128, on a 2-core VM).
//
// The storage of a type is found through a map keyed by the address of the
// Go runtime's type descriptor, read without calling into package reflect.
// reflect is used only to name a type in an error message.
//
// # Iteration
//
// Query, Query2 and Query3 return range-over-func iterators over the
// entities that have one, two or three given component types; for more,
// range over the three rarest and check the rest with Has or Get in the
// loop body. The loop body
// may change the World, including despawning the entity it is visiting;
// Query documents exactly which entities the loop then sees. While any
// query runs, removals leave holes instead of moving values, and the holes
// are compacted when the outermost query ends.
//
// # Concurrency
//
// A World is not safe for concurrent use, like a Go map. Reads that do not
// iterate (Alive, Len, Get, Has, Ref) may run on many goroutines at once as
// long as nothing changes the World meanwhile; a goroutine that changes it,
// or ranges over a query, must have it to itself. Give each goroutine its
// own World, or guard a shared one with a sync.RWMutex on those terms.
package ecs
