package ecs

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// The rollback model (helper-182): two Worlds get the same random history. One then runs a
// random "commit" (spawns, despawns, inserts, removes), registering undo
// functions the documented way (Unspawn for a Spawn, a Snapshot taken before
// a despawn or change), and the undos run most recent first, as a reload's
// rollback runs them. Afterwards the World must be indistinguishable from the
// one that never ran the commit: same Len, same live entities and component
// values, and the same Entities handed out by the next Spawns.

type historyOp struct {
	kind int
	a, b int
}

func randomHistory(rng *rand.Rand, n int) []historyOp {
	var ops []historyOp
	for range n {
		ops = append(ops, historyOp{rng.IntN(10), rng.IntN(1 << 20), rng.IntN(1 << 20)})
	}
	return ops
}

// replay replays ops on w; live is the live entities in spawn order.
func replay(w *World, ops []historyOp, live *[]Entity, aged bool) {
	for _, op := range ops {
		switch {
		case op.kind < 4 || len(*live) == 0:
			*live = append(*live, w.Spawn())
		case op.kind < 6:
			i := op.a % len(*live)
			w.Despawn((*live)[i])
			*live = slices.Delete(*live, i, i+1)
		case op.kind < 9:
			e := (*live)[op.a%len(*live)]
			switch op.b % 3 {
			case 0:
				Insert(w, e, compA(op.b))
			case 1:
				Insert(w, e, compB(op.b))
			default:
				Insert(w, e, compC(op.b))
			}
		default:
			e := (*live)[op.a%len(*live)]
			Remove[compA](w, e)
		}
	}
	if aged { // as if every free index had been reused about 2^21 times
		for i, idx := range w.free {
			w.slots[idx].gen = maxGeneration - uint32(i%3)
		}
	}
}

type worldState struct {
	len   int
	ents  map[Entity][3]int // -1: none
	next  []Entity
	iters [3][]Entity
}

func observeWorld(w *World, seen []Entity) worldState {
	st := worldState{len: w.Len(), ents: map[Entity][3]int{}}
	for _, e := range seen {
		if !w.Alive(e) {
			continue
		}
		v := [3]int{-1, -1, -1}
		if x, ok := Get[compA](w, e); ok {
			v[0] = int(x)
		}
		if x, ok := Get[compB](w, e); ok {
			v[1] = int(x)
		}
		if x, ok := Get[compC](w, e); ok {
			v[2] = int(x)
		}
		st.ents[e] = v
	}
	for e := range Query[compA](w) {
		st.iters[0] = append(st.iters[0], e)
	}
	for e := range Query[compB](w) {
		st.iters[1] = append(st.iters[1], e)
	}
	for e := range Query[compC](w) {
		st.iters[2] = append(st.iters[2], e)
	}
	for i := range 3 {
		slices.Sort(st.iters[i])
	}
	var out []Entity
	for range 8 {
		out = append(out, w.Spawn())
	}
	for _, e := range out {
		w.Despawn(e)
	}
	st.next = out
	return st
}

func compareWorlds(t *testing.T, name string, got, want worldState) bool {
	t.Helper()
	bad := false
	if got.len != want.len {
		t.Errorf("%s: Len %d, want %d", name, got.len, want.len)
		bad = true
	}
	for e, v := range want.ents {
		if g, ok := got.ents[e]; !ok || g != v {
			t.Errorf("%s: %v = %v (alive %v), want %v", name, e, g, ok, v)
			bad = true
		}
	}
	for e, v := range got.ents {
		if _, ok := want.ents[e]; !ok {
			t.Errorf("%s: %v alive with %v, want dead", name, e, v)
			bad = true
		}
	}
	for i := range 3 {
		if !slices.Equal(got.iters[i], want.iters[i]) {
			t.Errorf("%s: query %d visits %v, want %v", name, i, got.iters[i], want.iters[i])
			bad = true
		}
	}
	if !slices.Equal(got.next, want.next) {
		t.Errorf("%s: next spawns %v, want %v", name, got.next, want.next)
		bad = true
	}
	return bad
}

func TestRollbackModel(t *testing.T) {
	fails := 0
	for seed := range uint64(3000) {
		rng := rand.New(rand.NewPCG(seed, 7))
		aged := seed%3 == 0
		inQuery := seed%4 == 1 // commit and rollback run inside a query loop
		hist := randomHistory(rng, 5+rng.IntN(30))
		var liveA, liveB []Entity
		a, b := NewWorld(), NewWorld()
		replay(a, hist, &liveA, aged)
		replay(b, hist, &liveB, aged)
		Insert(a, a.Spawn(), compB(-5)) // a query anchor in both
		Insert(b, b.Spawn(), compB(-5))
		seen := slices.Clone(liveA)
		var log []string
		commit := func() {
			var undo []func()
			live := slices.Clone(liveA)
			for range 1 + rng.IntN(12) {
				switch r := rng.IntN(10); {
				case r < 3 || len(live) == 0:
					e := a.Spawn()
					log = append(log, fmt.Sprint("spawn ", e))
					live = append(live, e)
					seen = append(seen, e)
					undo = append(undo, func() { a.Unspawn(e) })
				case r < 5:
					i := rng.IntN(len(live))
					e := live[i]
					snap := a.Snapshot(e)
					undo = append(undo, func() { snap() })
					a.Despawn(e)
					log = append(log, fmt.Sprint("despawn ", e))
					live = slices.Delete(live, i, i+1)
				case r < 8:
					e := live[rng.IntN(len(live))]
					snap := a.Snapshot(e)
					undo = append(undo, func() { snap() })
					Insert(a, e, compC(1000+r))
					log = append(log, fmt.Sprint("insert ", e))
				default:
					e := live[rng.IntN(len(live))]
					snap := a.Snapshot(e)
					undo = append(undo, func() { snap() })
					Remove[compB](a, e)
					log = append(log, fmt.Sprint("remove ", e))
				}
			}
			for _, f := range slices.Backward(undo) {
				f()
			}
		}
		if inQuery {
			for range Query[compB](a) {
				commit()
				break
			}
		} else {
			commit()
		}
		all := append(slices.Clone(seen), liveB...)
		if compareWorlds(t, fmt.Sprintf("seed %d aged %v inQuery %v %v", seed, aged, inQuery, log), observeWorld(a, all), observeWorld(b, all)) {
			fails++
			if fails > 4 {
				t.FailNow()
			}
		}
	}
}
