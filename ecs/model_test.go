package ecs

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// The property test drives a World and a map-based model with the same
// random operations, including changes made from inside query loops, and
// compares them after every step.

type (
	compA int
	compB int
	compC int
)

const nkinds = 3

type model struct {
	alive map[Entity]bool
	comps [nkinds]map[Entity]int
}

type harness struct {
	t   *testing.T
	rng *rand.Rand
	w   *World
	m   model
	all []Entity // every entity ever spawned, dead ones included
	seq int      // values written, so each is distinct
}

func (h *harness) spawn() {
	e := h.w.Spawn()
	if h.m.alive[e] {
		h.t.Fatalf("Spawn returned live %v", e)
	}
	for _, old := range h.all {
		if old == e {
			h.t.Fatalf("Spawn returned %v again", e)
		}
	}
	h.m.alive[e] = true
	h.all = append(h.all, e)
}

func (h *harness) pick() Entity {
	if len(h.all) == 0 || h.rng.IntN(20) == 0 {
		return Entity(h.rng.Uint64N(1 << 34)) // mostly never spawned
	}
	return h.all[h.rng.IntN(len(h.all))]
}

func (h *harness) despawn(e Entity) {
	if got, want := h.w.Despawn(e), h.m.alive[e]; got != want {
		h.t.Fatalf("Despawn(%v) = %v, model says %v", e, got, want)
	}
	delete(h.m.alive, e)
	for k := range h.m.comps {
		delete(h.m.comps[k], e)
	}
}

func (h *harness) insert(k int, e Entity) {
	h.seq++
	v := h.seq
	var err error
	switch k {
	case 0:
		err = Insert(h.w, e, compA(v))
	case 1:
		err = Insert(h.w, e, compB(v))
	case 2:
		err = Insert(h.w, e, compC(v))
	}
	if h.m.alive[e] {
		if err != nil {
			h.t.Fatalf("Insert kind %d on live %v: %v", k, e, err)
		}
		h.m.comps[k][e] = v
	} else if !errors.Is(err, ErrNoEntity) {
		h.t.Fatalf("Insert kind %d on dead %v = %v, want ErrNoEntity", k, e, err)
	}
}

func (h *harness) remove(k int, e Entity) {
	var got bool
	switch k {
	case 0:
		got = Remove[compA](h.w, e)
	case 1:
		got = Remove[compB](h.w, e)
	case 2:
		got = Remove[compC](h.w, e)
	}
	_, want := h.m.comps[k][e]
	if got != want {
		h.t.Fatalf("Remove kind %d on %v = %v, model says %v", k, e, got, want)
	}
	delete(h.m.comps[k], e)
}

// get returns e's component of kind k through Get, checking that Has and
// Ref agree with it.
func (h *harness) get(k int, e Entity) (int, bool) {
	v, ok, has, ref := 0, false, false, -1
	switch k {
	case 0:
		var x compA
		x, ok = Get[compA](h.w, e)
		v, has = int(x), Has[compA](h.w, e)
		if p := Ref[compA](h.w, e); p != nil {
			ref = int(*p)
		}
	case 1:
		var x compB
		x, ok = Get[compB](h.w, e)
		v, has = int(x), Has[compB](h.w, e)
		if p := Ref[compB](h.w, e); p != nil {
			ref = int(*p)
		}
	case 2:
		var x compC
		x, ok = Get[compC](h.w, e)
		v, has = int(x), Has[compC](h.w, e)
		if p := Ref[compC](h.w, e); p != nil {
			ref = int(*p)
		}
	}
	if has != ok || (ok && ref != v) || (!ok && ref != -1) {
		h.t.Fatalf("kind %d on %v: Get=%v,%v Has=%v Ref=%v disagree", k, e, v, ok, has, ref)
	}
	return v, ok
}

func (h *harness) check(e Entity) {
	if got, want := h.w.Alive(e), h.m.alive[e]; got != want {
		h.t.Fatalf("Alive(%v) = %v, model says %v", e, got, want)
	}
	for k := range nkinds {
		got, ok := h.get(k, e)
		want, wantOK := h.m.comps[k][e]
		if got != want || ok != wantOK {
			h.t.Fatalf("kind %d of %v = %v,%v, model says %v,%v", k, e, got, ok, want, wantOK)
		}
	}
}

// mutate applies one random change.
func (h *harness) mutate() {
	switch r := h.rng.IntN(10); {
	case r < 3:
		h.spawn()
	case r < 4:
		h.despawn(h.pick())
	case r < 8:
		h.insert(h.rng.IntN(nkinds), h.pick())
	default:
		h.remove(h.rng.IntN(nkinds), h.pick())
	}
}

// query ranges over Query, Query2 or Query3 of random kinds, changing the
// World from the body, and checks the rules documented at Query.
func (h *harness) query() {
	kinds := h.rng.Perm(nkinds)[:1+h.rng.IntN(nkinds)]
	member := func(e Entity) bool {
		for _, k := range kinds {
			if _, ok := h.m.comps[k][e]; !ok {
				return false
			}
		}
		return h.m.alive[e]
	}
	// Entities that are members at the start and are never touched by the
	// body must be visited; the body only touches what touched records.
	start := map[Entity]bool{}
	for e := range h.m.alive {
		if member(e) {
			start[e] = true
		}
	}
	touched := map[Entity]bool{}
	visited := map[Entity]bool{}
	mutateRate := h.rng.IntN(4) // 0: read-only loop
	visit := func(e Entity) bool {
		if visited[e] {
			h.t.Fatalf("query %v visited %v twice", kinds, e)
		}
		visited[e] = true
		if !member(e) {
			h.t.Fatalf("query %v visited %v, which is not a member", kinds, e)
		}
		h.check(e)
		if mutateRate > 0 && h.rng.IntN(4) < mutateRate {
			before := len(h.all)
			target := h.pick()
			if h.rng.IntN(3) == 0 {
				target = e // the entity being visited
			}
			touched[target] = true
			switch r := h.rng.IntN(5); r {
			case 0:
				h.spawn()
			case 1:
				h.despawn(target)
			case 2:
				h.insert(h.rng.IntN(nkinds), target)
			default:
				h.remove(h.rng.IntN(nkinds), target)
			}
			for _, e := range h.all[before:] {
				touched[e] = true
			}
		}
		return h.rng.IntN(200) != 0 // sometimes break early
	}
	completed := h.runQuery(kinds, visit)
	if h.w.querying != 0 {
		h.t.Fatalf("querying = %d after the loop", h.w.querying)
	}
	if completed {
		for e := range start {
			if !touched[e] && !visited[e] {
				h.t.Fatalf("query %v skipped untouched member %v", kinds, e)
			}
		}
	}
}

// runQuery ranges over the query for kinds, calling visit for each entity,
// and reports whether the loop ran to the end.
func (h *harness) runQuery(kinds []int, visit func(Entity) bool) bool {
	key := fmt.Sprint(kinds)
	switch key {
	case "[0]":
		for e := range Query[compA](h.w) {
			if !visit(e) {
				return false
			}
		}
	case "[1]":
		for e := range Query[compB](h.w) {
			if !visit(e) {
				return false
			}
		}
	case "[2]":
		for e := range Query[compC](h.w) {
			if !visit(e) {
				return false
			}
		}
	case "[0 1]", "[1 0]":
		for e := range Query2[compA, compB](h.w) {
			if !visit(e) {
				return false
			}
		}
	case "[0 2]", "[2 0]":
		for e := range Query2[compC, compA](h.w) {
			if !visit(e) {
				return false
			}
		}
	case "[1 2]", "[2 1]":
		for e := range Query2[compB, compC](h.w) {
			if !visit(e) {
				return false
			}
		}
	default:
		for e := range Query3[compA, compB, compC](h.w) {
			if !visit(e) {
				return false
			}
		}
	}
	return true
}

// invariants checks the World's internal structure against the model.
func (h *harness) invariants() {
	if got, want := h.w.Len(), len(h.m.alive); got != want {
		h.t.Fatalf("Len() = %d, model has %d", got, want)
	}
	stores := []*sparseSetView{
		viewOf(lookup[compA](h.w)), viewOf(lookup[compB](h.w)), viewOf(lookup[compC](h.w)),
	}
	for k, s := range stores {
		if s == nil {
			if len(h.m.comps[k]) != 0 {
				h.t.Fatalf("kind %d: no storage, model has %d", k, len(h.m.comps[k]))
			}
			continue
		}
		if s.length != len(h.m.comps[k]) || len(s.ents) != s.length || s.holes != 0 {
			h.t.Fatalf("kind %d: Len %d, %d dense, %d holes; model has %d",
				k, s.length, len(s.ents), s.holes, len(h.m.comps[k]))
		}
		for pos, e := range s.ents {
			if int(s.sparse[e.Index()]) != pos+1 {
				h.t.Fatalf("kind %d: sparse[%d] = %d, want %d", k, e.Index(), s.sparse[e.Index()], pos+1)
			}
		}
	}
}

type sparseSetView struct {
	sparse        []uint32
	ents          []Entity
	length, holes int
}

func viewOf[T any](s *Store[T]) *sparseSetView {
	if s == nil {
		return nil
	}
	return &sparseSetView{s.sparse, s.ents, s.length, len(s.holes)}
}

func TestModel(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			h := &harness{t: t, rng: rand.New(rand.NewPCG(seed, 0x5eed)), w: NewWorld()}
			h.m.alive = map[Entity]bool{}
			for k := range h.m.comps {
				h.m.comps[k] = map[Entity]int{}
			}
			for step := range 4000 {
				if h.rng.IntN(50) == 0 {
					h.query()
				} else {
					h.mutate()
				}
				h.check(h.pick())
				if step%100 == 0 {
					h.invariants()
				}
			}
			h.invariants()
			for _, e := range h.all {
				h.check(e)
			}
		})
	}
}
