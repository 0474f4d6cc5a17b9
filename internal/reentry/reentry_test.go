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

// TestWait: a call that would close a cycle of scripts waiting for each other
// through host functions is recognized, whichever of the waits looks last, over
// two scripts and over three, and from a nested host function, whose caller
// holds its script too; a wait that closes no cycle is not, nor one from a
// context that holds no script.
func TestWait(t *testing.T) {
	base := context.Background()
	var a, b, c Guard
	actx, _ := a.Enter(base) // goroutine 1 is in a's host function
	bctx, _ := b.Enter(base) // goroutine 2 in b's
	cctx, _ := c.Enter(base) // goroutine 3 in c's

	if Wait(base, [2]*Guard{&a}) {
		t.Fatal("a call holding no script closes a cycle")
	}
	if Wait(actx, [2]*Guard{&b}) { // 1 waits for b: no cycle yet
		t.Fatal("a wait for an idle chain closes a cycle")
	}
	if !Wait(bctx, [2]*Guard{nil, &a}) { // 2 waits for a, whose holder waits for b
		t.Fatal("b waiting for a, which waits for b, is not a cycle")
	}
	if a.waiting.Load() == nil || b.waiting.Load() != nil {
		t.Fatal("Wait that found a cycle left its wait recorded, or the other's was dropped")
	}
	Done(actx)

	// Three scripts: 1 waits for b, 2 for c, 3 for a.
	if Wait(actx, [2]*Guard{&b}) || Wait(bctx, [2]*Guard{&c}) {
		t.Fatal("an open chain closes a cycle")
	}
	if !Wait(cctx, [2]*Guard{&a}) {
		t.Fatal("a cycle over three scripts is not recognized")
	}
	Done(actx)
	Done(bctx)

	// 1 is in a's host function, which called b, now in its own host function
	// (nested: the context holds a and b). 3, holding c, waits for a; then 1
	// waits for c.
	a.Leave(nil)
	b.Leave(nil)
	actx, _ = a.Enter(base)
	nested, _ := b.Enter(actx)
	if Wait(cctx, [2]*Guard{&a}) {
		t.Fatal("an open chain closes a cycle")
	}
	if !Wait(nested, [2]*Guard{&c}) {
		t.Fatal("a nested host function's wait for a script that waits for its caller is not a cycle")
	}
	Done(cctx)
	if Wait(nested, [2]*Guard{&c}) {
		t.Fatal("a wait still closes a cycle once the other wait is over")
	}
	Done(nested)
	if a.waiting.Load() != nil || b.waiting.Load() != nil {
		t.Fatal("Done left a wait recorded on a guard the context holds")
	}
}

// TestOnBehalfOf: work under a context made by OnBehalfOf carries the marks of
// both its contexts: a wait on either caller's own version is recognized, and
// a cycle through either is found; without marks on the waiter, it is ctx.
func TestOnBehalfOf(t *testing.T) {
	var a, b, c Guard
	base := context.Background()
	actx, aprev := a.Enter(base)
	bctx, bprev := b.Enter(context.WithValue(base, "k", "v"))
	both := OnBehalfOf(bctx, actx)
	if !a.Reentered(both) || !b.Reentered(both) || c.Reentered(both) {
		t.Fatal("a context made on behalf of another does not carry both marks")
	}
	if both.Value("k") != "v" {
		t.Fatal("OnBehalfOf lost ctx's values")
	}
	if OnBehalfOf(bctx, base) != bctx {
		t.Fatal("OnBehalfOf of a waiter without marks is not ctx")
	}
	if only := OnBehalfOf(base, actx); !a.Reentered(only) || b.Reentered(only) {
		t.Fatal("OnBehalfOf of an unmarked ctx carries not just the waiter's mark")
	}
	// c's holder waits for b's version: a wait from both on c closes a cycle.
	c.waiting.Store(&[2]*Guard{&b})
	if !Wait(both, [2]*Guard{&c}) {
		t.Fatal("a cycle through the ctx side of OnBehalfOf is not found")
	}
	c.waiting.Store(&[2]*Guard{&a})
	if !Wait(both, [2]*Guard{&c}) {
		t.Fatal("a cycle through the waiter side of OnBehalfOf is not found")
	}
	c.waiting.Store(nil)
	if Wait(both, [2]*Guard{&c}) {
		t.Fatal("a wait that closes no cycle was taken for one")
	}
	Done(both)
	b.Leave(bprev)
	a.Leave(aprev)
	if Inside(both) {
		t.Fatal("Inside after both host functions returned")
	}
}
