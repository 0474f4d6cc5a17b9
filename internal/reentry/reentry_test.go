package reentry

import (
	"context"
	"testing"
)

// uncomparable is a context whose type == panics on.
type uncomparable struct {
	context.Context
	tags []string
}

func TestReentered(t *testing.T) {
	var a, b Guard
	base := context.Background()
	if a.Reentered(base) {
		t.Fatal("a Guard running no host function refuses a call")
	}

	hctx, prev := a.Enter(base)
	if prev != nil {
		t.Fatalf("Enter on an idle Guard returned prev %v", prev)
	}
	derived, cancel := context.WithCancel(context.WithValue(hctx, "k", 1))
	defer cancel()
	switch {
	case !a.Reentered(hctx), !a.Reentered(derived):
		t.Fatal("the host function's context (or one derived from it) is not refused")
	case a.Reentered(base):
		t.Fatal("a context without the mark is refused")
	case b.Reentered(hctx):
		t.Fatal("another version's Guard refuses a's mark")
	case a.Reentered(Detach(derived)):
		t.Fatal("a detached context is refused")
	case Detach(derived).Value("k") != 1:
		t.Fatal("Detach hides other values")
	}

	// a's host function calls b, whose host function runs under a context that
	// carries both marks.
	bctx, _ := b.Enter(derived)
	if !a.Reentered(bctx) || !b.Reentered(bctx) {
		t.Fatal("a nested host function's context is not refused by both versions")
	}
	b.Leave(nil)

	a.Leave(prev)
	if a.Reentered(hctx) {
		t.Fatal("the context of a host function that returned is refused")
	}
	if again, _ := a.Enter(base); again != hctx {
		t.Fatal("Enter with the same context made a new mark")
	}
	a.Leave(nil)
}

func TestSameContext(t *testing.T) {
	x := uncomparable{context.Background(), []string{"a"}}
	var g Guard
	g.Enter(x)
	g.Leave(nil)
	hctx, _ := g.Enter(uncomparable{context.Background(), []string{"a"}}) // must not panic
	g.Leave(nil)
	if hctx.(*mark).Context.(uncomparable).tags[0] != "a" {
		t.Fatal("the mark lost its parent")
	}
	if !sameContext(context.Background(), context.Background()) || sameContext(x, context.TODO()) {
		t.Fatal("sameContext is wrong on comparable contexts")
	}
}

func TestInside(t *testing.T) {
	var g Guard
	base := context.Background()
	hctx, prev := g.Enter(base)
	derived := context.WithValue(hctx, "k", 1)
	if !Inside(hctx) || !Inside(derived) || Inside(base) || Inside(Detach(derived)) {
		t.Fatal("Inside is wrong while the host function runs")
	}
	g.Leave(prev)
	if Inside(hctx) {
		t.Fatal("Inside after the host function returned")
	}
}
