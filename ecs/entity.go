package ecs

import (
	"errors"
	"math"
	"slices"
	"strconv"
)

// ErrNoEntity is returned, wrapped, by operations that need a live entity
// when the entity given was never spawned by this World or has been
// despawned.
var ErrNoEntity = errors.New("ecs: no such entity")

// Entity identifies one entity of a World. It packs a 32-bit index (low
// bits) and a generation (high bits). Generations stay below 2^21, so every
// Entity a World hands out is below 2^53 and survives a round trip through
// a float64: a script can keep it as a Lua number or a JSON number. Indices of despawned entities
// are reused, but each reuse gets a new generation, so an Entity kept after
// Despawn never refers to a later entity: the World reports it dead and
// every operation on it fails or returns false.
//
// Generations start at 1, so the zero Entity is never alive and can be used
// as "no entity". An Entity is a plain value: compare it with ==, use it as a
// map key, store it anywhere, use its methods from any goroutine. It is
// only meaningful to the World that spawned it.
type Entity uint64

// Index returns the slot index of e. Live entities have distinct indices;
// a despawned entity's index may be reused by a later one.
func (e Entity) Index() uint32 { return uint32(e) }

// Generation returns how many times e's index had been handed out when e
// was spawned, counting from 1.
func (e Entity) Generation() uint32 { return uint32(e >> 32) }

// String returns e as "<index>v<generation>", for example "3v1".
func (e Entity) String() string {
	var buf [24]byte
	b := strconv.AppendUint(buf[:0], uint64(e.Index()), 10)
	b = append(b, 'v')
	b = strconv.AppendUint(b, uint64(e.Generation()), 10)
	return string(b)
}

// maxGeneration is the last generation an index is handed out with; see
// Entity for why it is not 2^32-1.
const maxGeneration = 1<<21 - 1

func makeEntity(index, gen uint32) Entity { return Entity(gen)<<32 | Entity(index) }

// slot is the World's record of one index: the generation of the entity
// that holds it now (or held it last), and whether that entity is alive.
type slot struct {
	gen   uint32
	alive bool
}

// World holds entities and their components.
//
// A World is not safe for concurrent use, like a Go map: a goroutine that
// changes it (Spawn, Despawn, Unspawn, Insert, Remove, StoreOf, the function
// Snapshot returns, or ranging over a Query) must not overlap with any other use. Pure reads (Alive, Len, Get,
// Has, Ref and the same methods of Store) may run concurrently with each
// other while nothing changes the World. Iterating a Query counts as a
// change, because it tracks its own progress in the World.
//
// A World must not be copied after first use (go vet reports a copy): the
// copy's Stores would still belong to the original. The zero World is empty
// and ready to use; NewWorld returns a pointer to one.
type World struct {
	_     noCopy
	slots []slot
	free  []uint32 // despawned indices ready for reuse, most recent last
	live  int

	types  map[any]storage // component type key -> storage
	stores []storage       // every storage, in registration order

	querying int       // depth of running queries; removals leave holes while > 0
	dirty    []storage // storages with holes to compact when querying drops to 0
}

// noCopy makes go vet's copylocks check report a World copied by value.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// NewWorld returns an empty World.
func NewWorld() *World { return &World{} }

// Spawn creates an entity with no components and returns it. It panics if
// all 2^32 indices are live or retired, which needs far more memory than a
// program has.
//
// Spawn may be called while ranging over a Query; see Query for what the
// loop then sees. It changes the World and is not safe for concurrent use.
func (w *World) Spawn() Entity {
	if n := len(w.free); n > 0 {
		w.live++
		idx := w.free[n-1]
		w.free = w.free[:n-1]
		w.slots[idx].alive = true
		return makeEntity(idx, w.slots[idx].gen)
	}
	if uint64(len(w.slots)) > math.MaxUint32 {
		panic("ecs: more than 2^32 entity indices in use")
	}
	idx := uint32(len(w.slots))
	w.slots = append(w.slots, slot{gen: 1, alive: true})
	w.live++
	return makeEntity(idx, 1)
}

// Alive reports whether e was spawned by this World and not yet despawned.
// It reads the World only; see World for when reads may run concurrently.
func (w *World) Alive(e Entity) bool {
	idx := e.Index()
	if uint(idx) >= uint(len(w.slots)) { // uint: on 32-bit systems int(idx) can be negative
		return false
	}
	s := w.slots[idx]
	return s.alive && s.gen == e.Generation()
}

// Despawn removes e and all of its components, and reports whether e was
// alive. Despawning a dead entity does nothing and returns false.
//
// The index of e is reused by a later Spawn with the next generation. An
// index that has reached the last generation (about two million reuses) is
// retired instead, so an old Entity can never alias a new one.
//
// Despawn may be called while ranging over a Query, including on the entity
// the loop is visiting; see Query. It changes the World and is not safe for
// concurrent use.
func (w *World) Despawn(e Entity) bool {
	if !w.Alive(e) {
		return false
	}
	w.removeComponents(e)
	idx := e.Index()
	s := &w.slots[idx]
	s.alive = false
	if s.gen < maxGeneration {
		s.gen++
		w.free = append(w.free, idx)
	}
	w.live--
	return true
}

// removeComponents removes every component of e, alive.
func (w *World) removeComponents(e Entity) {
	for _, s := range w.stores {
		s.remove(e)
	}
}

// Unspawn undoes the Spawn that returned e, in an undo function (a reload's
// rollback: hotscript.OnRollback, Migration.Undo): e and its components go,
// and e's index is free again with e's own generation, so that the Entities
// spawned next are those they would have been had e's Spawn not happened,
// when spawns are undone most recent first, as undo functions run. It reports
// whether e was alive. A later Spawn may return e itself again: Unspawn only
// an entity nothing keeps, else Despawn it.
//
// Unspawn changes the World and is not safe for concurrent use.
func (w *World) Unspawn(e Entity) bool {
	if !w.Alive(e) {
		return false
	}
	w.removeComponents(e)
	idx := e.Index()
	w.slots[idx].alive = false
	if int(idx) == len(w.slots)-1 && e.Generation() == 1 { // its Spawn made the slot
		w.slots = w.slots[:idx]
	} else {
		w.free = append(w.free, idx)
	}
	w.live--
	return true
}

// Snapshot returns a function that puts e back as it is now: alive, with
// the components it has now, of the values they have now, and no others. It
// can while e is alive, and after e is despawned while its index has not been
// handed out again; else it does nothing (Alive(e) tells, after it ran). It
// is the undo function of a host function or a migration that despawns e or
// changes its components during a reload's commit, as it is:
// hotscript.OnRollback(ctx, w.Snapshot(e)), m.Undo(m.World.Snapshot(e)), so
// that a rolled-back reload leaves the old version the entity it had. The values are shallow copies:
// a component holding a slice, map or pointer that the commit changes must
// be replaced (Insert), not changed in place, to be put back. A component e
// still has is written in place (pointers from Ref stay valid), one it lost
// goes last in its type's iteration order, and one it gained is removed.
// Snapshot returns nil if e is not alive, which OnRollback and Undo take and
// register nothing for.
//
// Snapshot reads the World; the function it returns changes it. Neither is
// safe for concurrent use.
func (w *World) Snapshot(e Entity) func() {
	if !w.Alive(e) {
		return nil
	}
	puts := map[storage]func(){}
	for _, s := range w.stores {
		if put := s.save(e); put != nil {
			puts[s] = put
		}
	}
	return func() {
		if !w.Alive(e) && !w.revive(e) {
			return
		}
		for _, s := range w.stores {
			if put := puts[s]; put != nil {
				put()
			} else {
				s.remove(e)
			}
		}
	}
}

// revive makes despawned e alive again, if its index has not been handed
// out since: the slot, not alive, holds the next generation (Despawn) or e's
// (Unspawn), and the index is free, or e was the index's last generation,
// retired by Despawn.
func (w *World) revive(e Entity) bool {
	idx, gen := e.Index(), e.Generation()
	if uint(idx) >= uint(len(w.slots)) || w.slots[idx].alive {
		return false
	}
	s := &w.slots[idx]
	if s.gen != gen+1 && s.gen != gen {
		return false
	}
	i := len(w.free) - 1 // last, as undo functions run
	for i >= 0 && w.free[i] != idx {
		i--
	}
	if i >= 0 {
		w.free = slices.Delete(w.free, i, i+1)
	} else if s.gen != maxGeneration || gen != maxGeneration {
		return false
	}
	s.gen, s.alive = gen, true
	w.live++
	return true
}

// Len returns the number of live entities. It reads the World only; see
// World for when reads may run concurrently.
func (w *World) Len() int { return w.live }
