// Package reentry recognizes a host function calling back into the script that
// is running it. Calls into a script are serialized, so such a call would wait
// for the very call it is part of: a deadlock. Go has no goroutine identity to
// tell that waiter from any other, so the engines recognize it by its context:
// host functions run under a context marked with their script version's Guard,
// and a call that finds the version busy fails instead of waiting when the
// version is inside a host function and the call's context carries that host
// function's mark.
//
// A version reuses its mark while its calls come with the same context (a
// game's frames all do), so that a host call costs no allocation. The price: a
// host function's context handed to another goroutine, which then calls the
// script while it is inside a host function under the same call context, is
// refused too, although it would only have waited. A host function should hand
// its context only to work it waits for; Detach hides the mark from work it
// does not.
package reentry

import (
	"context"
	"sync/atomic"
	"unsafe"
)

// A Guard belongs to one version of a script: a WebAssembly instance, a Lua
// state. The zero value is ready to use.
type Guard struct {
	// running is the mark of the host function the version is running, nil
	// when it runs none. Written by the calling goroutine under the script's
	// lock, read by any goroutine that finds the version busy.
	running atomic.Pointer[mark]
	// last is the mark made last, reused while calls come with its context.
	// Used only under the script's lock.
	last *mark
	// waiting is what a call made from inside the version's running host
	// function (directly or through the calls it made) waits to lock: the
	// guards of a busy script's versions (see Wait); nil while it waits for
	// none.
	waiting atomic.Pointer[[2]*Guard]
}

// mark is a host function's context: its parent, the context of the call into
// the script, with the Guard of the version that called it.
type mark struct {
	context.Context
	g *Guard
}

type key struct{}

func (m *mark) Value(k any) any {
	if k == (key{}) {
		return m
	}
	return m.Context.Value(k)
}

// Enter records that the version is running a host function under ctx, the
// context of the call into the script, and returns the context to give that
// function. Leave(prev), with prev what Enter returned, ends it. A version's
// host calls are serialized, as its calls are.
func (g *Guard) Enter(ctx context.Context) (hostCtx context.Context, prev *mark) {
	m := g.last
	if m == nil || !sameContext(m.Context, ctx) {
		m = &mark{ctx, g}
		g.last = m
	}
	return m, g.running.Swap(m)
}

// Leave ends the host function that Enter began; prev is what Enter returned.
func (g *Guard) Leave(prev *mark) { g.running.Store(prev) }

// InHost reports whether the version is inside a host function. Only the
// holder of the script's lock runs the version, so a call that skips that lock
// (a lease's) while the version is inside a host function would run the
// version inside its own call.
func (g *Guard) InHost() bool { return g.running.Load() != nil }

// Reentered reports whether a call under ctx that finds the version busy would
// wait for itself: the version is inside a host function, and ctx is, or
// derives from, that host function's context.
func (g *Guard) Reentered(ctx context.Context) bool {
	return g.running.Load() != nil && inside(ctx, g)
}

// Inside reports whether ctx is, or derives from, the context of a host
// function that has not returned, of any script: work that waits for every
// script to be idle would wait for itself.
func Inside(ctx context.Context) bool { return inside(ctx, nil) }

// inside reports whether ctx carries the mark of a host function that is still
// running, of g's version or, for a nil g, of any.
func inside(ctx context.Context, g *Guard) bool {
	if ctx == nil {
		return false
	}
	return walk(ctx.Value(key{}), func(m *mark) bool {
		return (g == nil || m.g == g) && m.g.running.Load() == m
	})
}

// walk calls f with each mark of the chain that v, a context's value for key,
// begins (both chains of a context made by OnBehalfOf), until f returns true,
// and reports whether it did.
func walk(v any, f func(*mark) bool) bool {
	for v != nil {
		switch x := v.(type) {
		case *mark:
			if f(x) {
				return true
			}
			v = x.Context.Value(key{})
		case both:
			return walk(x[0].Value(key{}), f) || walk(x[1].Value(key{}), f)
		default:
			return false
		}
	}
	return false
}

// Wait records that a call under ctx is about to wait for a busy script, whose
// live version (and the version a commit is moving it to, if any) targets
// guard, and reports whether the wait would never end: the call comes from host
// functions (ctx's marks) of versions that the script's holder waits for,
// directly or through the holders of other scripts. Two goroutines whose
// scripts call each other's through host functions would otherwise wait for
// each other for good. Unless Wait reports a cycle, the caller must call
// Done(ctx) once its wait is over.
//
// Each side records its wait before it looks for a cycle, so of two waits that
// close one, the second to look sees the first.
func Wait(ctx context.Context, targets [2]*Guard) (cycle bool) {
	w := &targets
	held := false
	eachHeld(ctx, func(g *Guard) { g.waiting.Store(w); held = true })
	if !held {
		return false // the call holds no script: nothing can wait for it
	}
	todo := append(make([]*Guard, 0, 8), targets[:]...)
	for steps := 0; len(todo) > 0 && steps < maxChain; steps++ {
		g := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if g == nil {
			continue
		}
		if inside(ctx, g) {
			Done(ctx)
			return true
		}
		if next := g.waiting.Load(); next != nil {
			todo = append(todo, next[:]...)
		}
	}
	return false
}

// maxChain bounds the versions Wait looks at, which other scripts' cycles
// (not the caller's) could otherwise keep it following.
const maxChain = 1024

// Done ends the wait that Wait recorded for ctx.
func Done(ctx context.Context) {
	eachHeld(ctx, func(g *Guard) { g.waiting.Store(nil) })
}

// eachHeld calls f with the guard of each version whose running host function
// ctx carries the mark of: the versions the caller holds.
func eachHeld(ctx context.Context, f func(*Guard)) {
	walk(ctx.Value(key{}), func(m *mark) bool {
		if m.g.running.Load() == m {
			f(m.g)
		}
		return false
	})
}

// Detach returns ctx with its marks hidden, for work started from a host
// function that it does not wait for: such work may wait for the script.
func Detach(ctx context.Context) context.Context {
	if ctx.Value(key{}) == nil {
		return ctx
	}
	return detached{ctx}
}

type detached struct{ context.Context }

func (d detached) Value(k any) any {
	if k == (key{}) {
		return nil
	}
	return d.Context.Value(k)
}

// OnBehalfOf returns ctx carrying the marks of waiter besides its own, if
// waiter carries any: for work that runs under ctx (its deadline, its values)
// while waiter's caller waits for it, such as a commit that Host.Apply runs for
// a Reload called from a host function. The work then tells a wait on either
// caller's own script for what it is.
func OnBehalfOf(ctx, waiter context.Context) context.Context {
	if waiter.Value(key{}) == nil {
		return ctx
	}
	return onBehalf{ctx, waiter}
}

// onBehalf is OnBehalfOf's context.
type onBehalf struct {
	context.Context
	waiter context.Context
}

// both holds the two contexts whose marks a context made by OnBehalfOf carries.
type both [2]context.Context

func (o onBehalf) Value(k any) any {
	if k != (key{}) {
		return o.Context.Value(k)
	}
	if o.Context.Value(key{}) == nil {
		return o.waiter.Value(key{})
	}
	return both{o.waiter, o.Context}
}

// sameContext reports whether a and b are the same context: the same dynamic
// type and the same data word, so the same pointer, or the same boxed copy of a
// value (an interface's contents never change). It costs two comparisons where
// reflect's check of comparability took 10 ns, and == itself could panic on two
// values of an uncomparable type. Equal values boxed apart count as different,
// which costs only a new mark.
func sameContext(a, b context.Context) bool {
	return *(*[2]unsafe.Pointer)(unsafe.Pointer(&a)) == *(*[2]unsafe.Pointer)(unsafe.Pointer(&b))
}
