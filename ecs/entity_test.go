package ecs_test

import (
	"errors"
	"math"
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
