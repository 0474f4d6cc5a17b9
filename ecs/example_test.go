package ecs_test

import (
	"errors"
	"fmt"

	"github.com/hotscript/hotscript/ecs"
)

func Example() {
	type Position struct{ X, Y float64 }
	type Velocity struct{ X, Y float64 }

	w := ecs.NewWorld()
	ship := w.Spawn()
	rock := w.Spawn()
	_ = ecs.Insert(w, ship, Position{0, 0})
	_ = ecs.Insert(w, ship, Velocity{1, 2})
	_ = ecs.Insert(w, rock, Position{5, 5}) // no Velocity: the rock stays put

	for range 3 { // three frames
		for _, c := range ecs.Query2[Position, Velocity](w) {
			c.A.X += c.B.X
			c.A.Y += c.B.Y
		}
	}
	for e, p := range ecs.Query[Position](w) {
		fmt.Println(e, *p)
	}
	// Output:
	// 0v1 {3 6}
	// 1v1 {5 5}
}

func ExampleEntity_String() {
	w := ecs.NewWorld()
	a, b := w.Spawn(), w.Spawn()
	w.Despawn(a)
	c := w.Spawn() // reuses a's index with the next generation
	fmt.Println(a, b, c)
	// Output: 0v1 1v1 0v2
}

func ExampleWorld_Despawn() {
	type Health int
	w := ecs.NewWorld()
	old := w.Spawn()
	_ = ecs.Insert(w, old, Health(100))
	fmt.Println(w.Despawn(old), w.Despawn(old))

	reused := w.Spawn()
	_ = ecs.Insert(w, reused, Health(50))
	_, ok := ecs.Get[Health](w, old)
	fmt.Println("same index:", old.Index() == reused.Index(), "old alive:", w.Alive(old), "old has Health:", ok)
	err := ecs.Insert(w, old, Health(1))
	fmt.Println(errors.Is(err, ecs.ErrNoEntity))
	fmt.Println(err)
	// Output:
	// true false
	// same index: true old alive: false old has Health: false
	// true
	// insert ecs_test.Health on entity 0v1: ecs: no such entity
}

func ExampleInsert() {
	type Name string
	w := ecs.NewWorld()
	e := w.Spawn()
	_ = ecs.Insert(w, e, Name("goblin"))
	_ = ecs.Insert(w, e, Name("hobgoblin")) // replaces
	n, _ := ecs.Get[Name](w, e)
	fmt.Println(n, ecs.StoreOf[Name](w).Len())
	// Output: hobgoblin 1
}

func ExampleGet() {
	type Health int
	w := ecs.NewWorld()
	e := w.Spawn()
	h, ok := ecs.Get[Health](w, e)
	fmt.Println(h, ok)
	_ = ecs.Insert(w, e, Health(7))
	h, ok = ecs.Get[Health](w, e)
	fmt.Println(h, ok)
	// Output:
	// 0 false
	// 7 true
}

func ExampleRef() {
	type Score struct{ Points int }
	w := ecs.NewWorld()
	e := w.Spawn()
	_ = ecs.Insert(w, e, Score{})
	s := ecs.Ref[Score](w, e)
	s.Points += 10
	for range 1000 { // adding components never moves existing ones
		_ = ecs.Insert(w, w.Spawn(), Score{})
	}
	s.Points += 5
	got, _ := ecs.Get[Score](w, e)
	fmt.Println(got.Points, ecs.Ref[Score](w, w.Spawn()) == nil)
	// Output: 15 true
}

func ExampleHas() {
	type Frozen struct{} // zero-size tag component
	w := ecs.NewWorld()
	e := w.Spawn()
	_ = ecs.Insert(w, e, Frozen{})
	fmt.Println(ecs.Has[Frozen](w, e))
	ecs.Remove[Frozen](w, e)
	fmt.Println(ecs.Has[Frozen](w, e))
	// Output:
	// true
	// false
}

func ExampleRemove() {
	type Shield int
	w := ecs.NewWorld()
	e := w.Spawn()
	_ = ecs.Insert(w, e, Shield(3))
	fmt.Println(ecs.Remove[Shield](w, e), ecs.Remove[Shield](w, e), w.Alive(e))
	// Output: true false true
}

func ExampleQuery() {
	type Health int
	w := ecs.NewWorld()
	for _, h := range []Health{30, 0, 12, 0} {
		_ = ecs.Insert(w, w.Spawn(), h)
	}
	// Despawning the entity being visited is allowed: the loop goes on
	// with the others and never sees a dead entity.
	for e, h := range ecs.Query[Health](w) {
		if *h <= 0 {
			w.Despawn(e)
		}
	}
	for e, h := range ecs.Query[Health](w) {
		fmt.Println(e, *h)
	}
	fmt.Println(w.Len())
	// Output:
	// 0v1 30
	// 2v1 12
	// 2
}

func ExampleQuery3() {
	type (
		Position struct{ X float64 }
		Velocity struct{ X float64 }
		Drag     float64
	)
	w := ecs.NewWorld()
	for i := range 3 {
		e := w.Spawn()
		_ = ecs.Insert(w, e, Position{})
		_ = ecs.Insert(w, e, Velocity{10})
		if i != 1 {
			_ = ecs.Insert(w, e, Drag(0.5))
		}
	}
	for e, c := range ecs.Query3[Position, Velocity, Drag](w) {
		c.B.X *= float64(*c.C)
		c.A.X += c.B.X
		fmt.Println(e, *c.A)
	}
	// Output:
	// 0v1 {5}
	// 2v1 {5}
}

// A host function that a script calls every frame keeps the Store, so each
// call skips the type lookup.
func ExampleStoreOf() {
	type Position struct{ X, Y, Z float64 }
	w := ecs.NewWorld()
	positions := ecs.StoreOf[Position](w)

	// What a Lua binding would register as get_position and set_position.
	getPosition := func(e ecs.Entity) (x, y, z float64, ok bool) {
		p := positions.Ref(e)
		if p == nil {
			return 0, 0, 0, false
		}
		return p.X, p.Y, p.Z, true
	}
	setPosition := func(e ecs.Entity, x, y, z float64) error {
		return positions.Insert(e, Position{x, y, z})
	}

	player := w.Spawn()
	_ = setPosition(player, 1, 2, 3)
	fmt.Println(getPosition(player))
	w.Despawn(player)
	fmt.Println(getPosition(player))
	fmt.Println(setPosition(player, 0, 0, 0))
	// Output:
	// 1 2 3 true
	// 0 0 0 false
	// insert ecs_test.Position on entity 0v1: ecs: no such entity
}

func ExampleQuery2() {
	type (
		Health int
		Poison int
	)
	w := ecs.NewWorld()
	for i := range 4 {
		e := w.Spawn()
		_ = ecs.Insert(w, e, Health(10))
		if i%2 == 1 {
			_ = ecs.Insert(w, e, Poison(15))
		}
	}
	// The loop walks the smaller storage (Poison) and may despawn as it goes.
	for e, c := range ecs.Query2[Health, Poison](w) {
		if *c.A -= Health(*c.B); *c.A <= 0 {
			w.Despawn(e)
		}
	}
	for e, h := range ecs.Query[Health](w) {
		fmt.Println(e, *h)
	}
	// Output:
	// 0v1 10
	// 2v1 10
}
