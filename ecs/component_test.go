package ecs_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hotscript/hotscript/ecs"
)

// fixture is a World with a live entity that has a Position, a live entity
// without one, a despawned entity that had one, and the zero Entity.
type fixture struct {
	w                   *ecs.World
	with, without, dead ecs.Entity
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	w := ecs.NewWorld()
	f := fixture{w: w, with: w.Spawn(), without: w.Spawn(), dead: w.Spawn()}
	for _, e := range []ecs.Entity{f.with, f.dead} {
		if err := ecs.Insert(w, e, Position{X: float64(e.Index())}); err != nil {
			t.Fatal(err)
		}
	}
	w.Despawn(f.dead)
	return f
}

func (f fixture) pick(which string) ecs.Entity {
	switch which {
	case "with":
		return f.with
	case "without":
		return f.without
	case "dead":
		return f.dead
	case "forged": // never spawned: a garbage number a script handed back
		return ecs.Entity(1<<32 | 1<<31) // index 2^31, negative as a 32-bit int
	}
	return 0
}

func TestInsert(t *testing.T) {
	tests := []struct {
		name    string
		target  string
		v       Position
		wantErr bool
		wantLen int // Positions stored afterwards
	}{
		{"adds to entity without", "without", Position{Y: 2}, false, 2},
		{"replaces existing", "with", Position{Y: 3}, false, 1},
		{"dead entity", "dead", Position{Y: 4}, true, 1},
		{"zero entity", "zero", Position{Y: 5}, true, 1},
		{"forged entity", "forged", Position{Y: 6}, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			e := f.pick(tt.target)
			err := ecs.Insert(f.w, e, tt.v)
			if tt.wantErr {
				if !errors.Is(err, ecs.ErrNoEntity) {
					t.Fatalf("Insert = %v, want ErrNoEntity", err)
				}
				for _, part := range []string{"insert", "ecs_test.Position", e.String()} {
					if !strings.Contains(err.Error(), part) {
						t.Errorf("error %q does not name %q", err, part)
					}
				}
				if ecs.Has[Position](f.w, e) {
					t.Errorf("failed Insert stored a value")
				}
			} else {
				if err != nil {
					t.Fatalf("Insert = %v", err)
				}
				if got, ok := ecs.Get[Position](f.w, e); !ok || got != tt.v {
					t.Errorf("Get after Insert = %v, %v; want %v", got, ok, tt.v)
				}
			}
			if got := ecs.StoreOf[Position](f.w).Len(); got != tt.wantLen {
				t.Errorf("Store.Len() = %d, want %d", got, tt.wantLen)
			}
		})
	}
}

func TestReadOperations(t *testing.T) {
	tests := []struct {
		name    string
		target  string
		wantHas bool
	}{
		{"entity with", "with", true},
		{"entity without", "without", false},
		{"dead entity", "dead", false},
		{"zero entity", "zero", false},
		{"forged entity", "forged", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			e := f.pick(tt.target)
			want := Position{}
			if tt.wantHas {
				want = Position{X: float64(e.Index())}
			}
			if alive := tt.target == "with" || tt.target == "without"; f.w.Alive(e) != alive {
				t.Errorf("Alive = %v, want %v", !alive, alive)
			}
			if got := ecs.Has[Position](f.w, e); got != tt.wantHas {
				t.Errorf("Has = %v, want %v", got, tt.wantHas)
			}
			if got, ok := ecs.Get[Position](f.w, e); ok != tt.wantHas || got != want {
				t.Errorf("Get = %v, %v; want %v, %v", got, ok, want, tt.wantHas)
			}
			if p := ecs.Ref[Position](f.w, e); (p != nil) != tt.wantHas || (p != nil && *p != want) {
				t.Errorf("Ref = %v, want value %v present=%v", p, want, tt.wantHas)
			}
			// A type never stored answers the same way for every entity.
			if _, ok := ecs.Get[Velocity](f.w, e); ok || ecs.Has[Velocity](f.w, e) || ecs.Ref[Velocity](f.w, e) != nil {
				t.Errorf("unregistered type reported present")
			}
		})
	}
}

func TestRemove(t *testing.T) {
	tests := []struct {
		name    string
		target  string
		want    bool
		wantLen int
	}{
		{"entity with", "with", true, 0},
		{"entity without", "without", false, 1},
		{"dead entity", "dead", false, 1},
		{"zero entity", "zero", false, 1},
		{"forged entity", "forged", false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			e := f.pick(tt.target)
			if got := ecs.Remove[Position](f.w, e); got != tt.want {
				t.Errorf("Remove = %v, want %v", got, tt.want)
			}
			if ecs.Has[Position](f.w, e) {
				t.Errorf("Has after Remove")
			}
			if got := ecs.StoreOf[Position](f.w).Len(); got != tt.wantLen {
				t.Errorf("Store.Len() = %d, want %d", got, tt.wantLen)
			}
			if ecs.Remove[Position](f.w, e) {
				t.Errorf("second Remove = true")
			}
			if ecs.Remove[Velocity](f.w, e) {
				t.Errorf("Remove of an unregistered type = true")
			}
		})
	}
}

func TestDespawnRemovesAllComponents(t *testing.T) {
	w := ecs.NewWorld()
	e, keep := w.Spawn(), w.Spawn()
	for _, x := range []ecs.Entity{e, keep} {
		must(t, ecs.Insert(w, x, Position{X: 1}))
		must(t, ecs.Insert(w, x, Health(2)))
		must(t, ecs.Insert(w, x, Name("n")))
		must(t, ecs.Insert(w, x, Tag{}))
	}
	w.Despawn(e)
	// The reused index must start with no components.
	reused := w.Spawn()
	if reused.Index() != e.Index() {
		t.Fatalf("index not reused: %v then %v", e, reused)
	}
	for _, x := range []ecs.Entity{e, reused} {
		if ecs.Has[Position](w, x) || ecs.Has[Health](w, x) || ecs.Has[Name](w, x) || ecs.Has[Tag](w, x) {
			t.Errorf("%v has a component after its index was despawned", x)
		}
	}
	if !ecs.Has[Position](w, keep) || !ecs.Has[Health](w, keep) || !ecs.Has[Name](w, keep) || !ecs.Has[Tag](w, keep) {
		t.Errorf("other entity lost components")
	}
	if n := ecs.StoreOf[Name](w).Len(); n != 1 {
		t.Errorf("Store[Name].Len() = %d, want 1", n)
	}
}

// Distinct named types are distinct components even with one underlying type.
func TestComponentTypesAreDistinct(t *testing.T) {
	type Mana float64
	type local struct{ v int }
	w := ecs.NewWorld()
	e := w.Spawn()
	must(t, ecs.Insert(w, e, Health(1)))
	must(t, ecs.Insert(w, e, Mana(2)))
	must(t, ecs.Insert(w, e, 3.0))
	must(t, ecs.Insert(w, e, local{4}))
	must(t, ecs.Insert(w, e, &local{5}))
	must(t, ecs.Insert[any](w, e, "six"))
	must(t, ecs.Insert[error](w, e, errors.New("seven")))
	if h, _ := ecs.Get[Health](w, e); h != 1 {
		t.Errorf("Health = %v", h)
	}
	if m, _ := ecs.Get[Mana](w, e); m != 2 {
		t.Errorf("Mana = %v", m)
	}
	if f, _ := ecs.Get[float64](w, e); f != 3 {
		t.Errorf("float64 = %v", f)
	}
	if l, _ := ecs.Get[local](w, e); l.v != 4 {
		t.Errorf("local = %v", l)
	}
	if p, _ := ecs.Get[*local](w, e); p == nil || p.v != 5 {
		t.Errorf("*local = %v", p)
	}
	if a, _ := ecs.Get[any](w, e); a != "six" {
		t.Errorf("any = %v", a)
	}
	if err, _ := ecs.Get[error](w, e); err == nil || err.Error() != "seven" {
		t.Errorf("error = %v", err)
	}
}

// Pointers survive inserts, including ones that add pages; a removal outside
// a query moves the last value into the hole.
func TestRefStability(t *testing.T) {
	w := ecs.NewWorld()
	first := w.Spawn()
	must(t, ecs.Insert(w, first, Position{X: 1}))
	p := ecs.Ref[Position](w, first)
	var last ecs.Entity
	for i := range 5000 { // several pages of 24-byte values
		last = w.Spawn()
		must(t, ecs.Insert(w, last, Position{X: float64(i)}))
	}
	p.Y = 42
	if got, _ := ecs.Get[Position](w, first); got.Y != 42 {
		t.Fatalf("write through pointer lost after inserts: %v", got)
	}
	must(t, ecs.Insert(w, first, Position{X: 7}))
	if p.X != 7 {
		t.Fatalf("replacing Insert did not write in place: %v", *p)
	}

	ecs.Remove[Position](w, first)
	if got := ecs.Ref[Position](w, last); got != p {
		t.Fatalf("last value not moved into the freed slot")
	}
}

func TestStoreMatchesFunctions(t *testing.T) {
	w := ecs.NewWorld()
	s := ecs.StoreOf[Health](w)
	if ecs.StoreOf[Health](w) != s {
		t.Fatal("StoreOf returned a different Store for the same type")
	}
	e := w.Spawn()
	must(t, s.Insert(e, 5))
	if h, ok := ecs.Get[Health](w, e); !ok || h != 5 {
		t.Errorf("Get after Store.Insert = %v, %v", h, ok)
	}
	*ecs.Ref[Health](w, e) = 6
	if h, ok := s.Get(e); !ok || h != 6 || !s.Has(e) || *s.Ref(e) != 6 {
		t.Errorf("Store.Get after Ref write = %v, %v", h, ok)
	}
	if !s.Remove(e) || ecs.Has[Health](w, e) || s.Len() != 0 {
		t.Errorf("Store.Remove not seen by Has")
	}
	dead := w.Spawn()
	w.Despawn(dead)
	if err := s.Insert(dead, 1); !errors.Is(err, ecs.ErrNoEntity) {
		t.Errorf("Store.Insert on dead = %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestZeroStore: the zero Store reads as empty, and the methods that change it
// panic with a message saying how to get a Store, not a nil dereference.
func TestZeroStore(t *testing.T) {
	e := ecs.NewWorld().Spawn()
	var s ecs.Store[int]
	if s.Len() != 0 || s.Has(e) || s.Ref(e) != nil || s.Remove(e) {
		t.Error("the zero Store is not empty")
	}
	if _, ok := s.Get(e); ok {
		t.Error("the zero Store's Get found a value")
	}
	for name, use := range map[string]func(){
		"Insert": func() { _ = s.Insert(e, 1) },
		"All": func() {
			for range s.All() {
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := fmt.Sprint(recover()); !strings.Contains(r, "zero Store[int] belongs to no World: get one with StoreOf") {
					t.Errorf("panic %q", r)
				}
			}()
			use()
		})
	}
}
