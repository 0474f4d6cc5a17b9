package ecs_test

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/hotscript/hotscript/ecs"
)

// Component types shared by the tests in this package.
type (
	Position struct{ X, Y, Z float64 }
	Velocity struct{ X, Y, Z float64 }
	Health   float64
	Name     string
	Tag      struct{} // zero-size
)

func TestEntityString(t *testing.T) {
	tests := []struct {
		name  string
		e     ecs.Entity
		index uint32
		gen   uint32
		want  string
	}{
		{"zero", 0, 0, 0, "0v0"},
		{"first", ecs.Entity(1<<32 | 0), 0, 1, "0v1"},
		{"index3gen1", ecs.Entity(1<<32 | 3), 3, 1, "3v1"},
		{"reused", ecs.Entity(7<<32 | 12), 12, 7, "12v7"},
		{"max", ecs.Entity(math.MaxUint64), math.MaxUint32, math.MaxUint32, "4294967295v4294967295"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.Index(); got != tt.index {
				t.Errorf("Index() = %d, want %d", got, tt.index)
			}
			if got := tt.e.Generation(); got != tt.gen {
				t.Errorf("Generation() = %d, want %d", got, tt.gen)
			}
			if got := tt.e.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSpawnDespawn(t *testing.T) {
	// ops: positive n spawns n entities; -i despawns the i-th spawned (1-based).
	tests := []struct {
		name      string
		ops       []int
		wantLen   int
		wantAlive []bool // per spawned entity, in spawn order
		wantStr   []string
	}{
		{"empty", nil, 0, nil, nil},
		{"spawn three", []int{3}, 3, []bool{true, true, true}, []string{"0v1", "1v1", "2v1"}},
		{"despawn middle", []int{3, -2}, 2, []bool{true, false, true}, []string{"0v1", "1v1", "2v1"}},
		{"reuse index with new generation", []int{3, -2, 1}, 3,
			[]bool{true, false, true, true}, []string{"0v1", "1v1", "2v1", "1v2"}},
		{"reuse most recently freed first", []int{3, -1, -3, 2}, 3,
			[]bool{false, true, false, true, true}, []string{"0v1", "1v1", "2v1", "2v2", "0v2"}},
		{"double despawn is a no-op", []int{2, -1, -1}, 1, []bool{false, true}, []string{"0v1", "1v1"}},
		{"despawn all", []int{2, -1, -2}, 0, []bool{false, false}, []string{"0v1", "1v1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := ecs.NewWorld()
			var spawned []ecs.Entity
			for _, op := range tt.ops {
				for range op {
					spawned = append(spawned, w.Spawn())
				}
				if op < 0 {
					w.Despawn(spawned[-op-1])
				}
			}
			if got := w.Len(); got != tt.wantLen {
				t.Errorf("Len() = %d, want %d", got, tt.wantLen)
			}
			if len(spawned) != len(tt.wantAlive) {
				t.Fatalf("spawned %d entities, want %d", len(spawned), len(tt.wantAlive))
			}
			for i, e := range spawned {
				if got := w.Alive(e); got != tt.wantAlive[i] {
					t.Errorf("Alive(%v) = %v, want %v", e, got, tt.wantAlive[i])
				}
				if got := e.String(); got != tt.wantStr[i] {
					t.Errorf("entity %d = %s, want %s", i, got, tt.wantStr[i])
				}
			}
		})
	}
}

func TestDespawnReportsLiveness(t *testing.T) {
	w := ecs.NewWorld()
	e := w.Spawn()
	tests := []struct {
		name string
		e    ecs.Entity
		want bool
	}{
		{"zero entity", 0, false},
		{"never spawned index", ecs.Entity(1<<32 | 99), false},
		{"wrong generation", ecs.Entity(2<<32 | uint64(e.Index())), false},
		{"live", e, true},
		{"already despawned", e, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := w.Despawn(tt.e); got != tt.want {
				t.Errorf("Despawn(%v) = %v, want %v", tt.e, got, tt.want)
			}
			if w.Alive(tt.e) {
				t.Errorf("Alive(%v) after Despawn", tt.e)
			}
		})
	}
}

// A despawned Entity must never reach the entity that reuses its index.
func TestGenerationAliasing(t *testing.T) {
	w := ecs.NewWorld()
	old := w.Spawn()
	if err := ecs.Insert(w, old, Health(10)); err != nil {
		t.Fatal(err)
	}
	w.Despawn(old)
	cur := w.Spawn()
	if cur.Index() != old.Index() || cur.Generation() == old.Generation() {
		t.Fatalf("reuse: old %v, new %v; want same index, new generation", old, cur)
	}
	if err := ecs.Insert(w, cur, Health(20)); err != nil {
		t.Fatal(err)
	}

	checks := []struct {
		name string
		do   func() bool // reports whether the stale handle reached anything
	}{
		{"Alive", func() bool { return w.Alive(old) }},
		{"Get", func() bool { _, ok := ecs.Get[Health](w, old); return ok }},
		{"Has", func() bool { return ecs.Has[Health](w, old) }},
		{"Ref", func() bool { return ecs.Ref[Health](w, old) != nil }},
		{"Remove", func() bool { return ecs.Remove[Health](w, old) }},
		{"Insert", func() bool { return !errors.Is(ecs.Insert(w, old, Health(-1)), ecs.ErrNoEntity) }},
		{"Despawn", func() bool { return w.Despawn(old) }},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.do() {
				t.Errorf("%s on stale %v reached live %v", c.name, old, cur)
			}
			if h, ok := ecs.Get[Health](w, cur); !ok || h != 20 || !w.Alive(cur) {
				t.Errorf("live entity changed: alive=%v health=%v,%v", w.Alive(cur), h, ok)
			}
		})
	}
}

// spawns returns the next n Entities w spawns, and despawns them.
func spawns(w *ecs.World, n int) []ecs.Entity {
	var out []ecs.Entity
	for range n {
		out = append(out, w.Spawn())
	}
	for _, e := range out {
		w.Despawn(e)
	}
	return out
}

// A rolled-back commit's spawns, Unspawned most recent first, leave the World
// spawning what a World where they never ran spawns (helper-179: undone by
// Despawn, the next Spawn's generation differed).
func TestUnspawn(t *testing.T) {
	build := func() *ecs.World {
		w := ecs.NewWorld()
		a, _ := w.Spawn(), w.Spawn()
		w.Despawn(a) // one index free, one appended next
		return w
	}
	undone, untouched := build(), build()
	x, y := undone.Spawn(), undone.Spawn() // from the free list, then a new index
	ecs.Insert(undone, y, Position{X: 1})
	if !undone.Unspawn(y) || !undone.Unspawn(x) {
		t.Fatal("Unspawn of live entities reported false")
	}
	if undone.Unspawn(x) || undone.Alive(y) || ecs.StoreOf[Position](undone).Len() != 0 {
		t.Fatal("an unspawned entity is still there")
	}
	if undone.Len() != untouched.Len() {
		t.Fatalf("Len %d, want %d", undone.Len(), untouched.Len())
	}
	if got, want := spawns(undone, 3), spawns(untouched, 3); !slices.Equal(got, want) {
		t.Errorf("spawned after the undo %v, want %v as if nothing had run", got, want)
	}
}

// Snapshot puts an entity back as it was: despawned (helper-179: a rolled-back
// reload left the old version a dead entity), or changed.
func TestSnapshot(t *testing.T) {
	w := ecs.NewWorld()
	other := w.Spawn()
	e := w.Spawn()
	ecs.Insert(w, e, Position{X: 1})
	ecs.Insert(w, e, Health(10))
	ecs.Insert(w, other, Health(3))
	restore := w.Snapshot(e)

	ecs.Insert(w, e, Health(99))
	ecs.Remove[Position](w, e)
	ecs.Insert(w, e, Name("added since"))
	restore()
	check := func(when string) {
		t.Helper()
		p, okp := ecs.Get[Position](w, e)
		h, _ := ecs.Get[Health](w, e)
		if !w.Alive(e) || !okp || p.X != 1 || h != 10 || ecs.Has[Name](w, e) {
			t.Errorf("%s: alive %v, %v %v, has a Name %v; want alive, {1 0 0} 10, no Name",
				when, w.Alive(e), p, h, ecs.Has[Name](w, e))
		}
		if h, _ := ecs.Get[Health](w, other); h != 3 {
			t.Errorf("%s: the other entity's Health is %v, want 3", when, h)
		}
	}
	check("changed, restored")

	w.Despawn(e)
	restore()
	check("despawned, restored")
	if w.Len() != 2 {
		t.Errorf("Len %d, want 2", w.Len())
	}
	if next := w.Spawn(); next.Index() == e.Index() {
		t.Errorf("Spawn after the restore returned %v, the restored entity's index", next)
	}

	w.Despawn(e)
	reused := w.Spawn() // takes e's index
	if restore(); w.Alive(e) || !w.Alive(reused) {
		t.Error("restore after e's index was handed out again brought e back")
	}
	if w.Snapshot(e) != nil {
		t.Error("Snapshot of a dead entity is not nil")
	}
}

// TestSnapshotKeepsPointers: a restore writes the components the entity kept
// in place, so a pointer from Ref the program keeps still names its own
// (helper-182: every component was removed and put back, moving another
// entity's into its place).
func TestSnapshotKeepsPointers(t *testing.T) {
	w := ecs.NewWorld()
	e, other := w.Spawn(), w.Spawn()
	ecs.Insert(w, e, Position{X: 1})
	ecs.Insert(w, other, Position{X: 2})
	ecs.Insert(w, e, Health(10))
	pos := ecs.Ref[Position](w, e)
	restore := w.Snapshot(e)
	ecs.Insert(w, e, Health(99)) // a commit changes Health only
	restore()
	pos.X = 100
	if p, _ := ecs.Get[Position](w, e); p.X != 100 {
		t.Errorf("e's Position %v, want X 100, written through the kept pointer", p)
	}
	if p, _ := ecs.Get[Position](w, other); p.X != 2 {
		t.Errorf("the other entity's Position %v, want X 2", p)
	}
}

// TestSnapshotAtLastGeneration: an entity of an index's last generation,
// Unspawned and restored, is alive once (helper-182: its index stayed free,
// so the next Spawn returned it again), and Despawned retires the index.
func TestSnapshotAtLastGeneration(t *testing.T) {
	w := ecs.NewWorld()
	e := w.Spawn()
	for e.Generation() < 1<<21-1 {
		w.Despawn(e)
		e = w.Spawn()
	}
	restore := w.Snapshot(e)
	if !w.Unspawn(e) {
		t.Fatal("Unspawn failed")
	}
	if restore(); !w.Alive(e) || w.Len() != 1 {
		t.Fatalf("Unspawn then restore: alive %v, Len %d; want alive, 1", w.Alive(e), w.Len())
	}
	if next := w.Spawn(); next == e {
		t.Fatalf("Spawn returned %v, alive already", next)
	}
	w.Despawn(e)
	if next := w.Spawn(); next == e || w.Alive(e) {
		t.Errorf("after Despawn(%v) at the last generation, Spawn returned %v", e, next)
	}
}
