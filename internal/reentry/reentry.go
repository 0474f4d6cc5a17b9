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
	for m, _ := ctx.Value(key{}).(*mark); m != nil; m, _ = m.Context.Value(key{}).(*mark) {
		if (g == nil || m.g == g) && m.g.running.Load() == m {
			return true
		}
	}
	return false
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

// sameContext reports whether a and b are the same context: the same dynamic
// type and the same data word, so the same pointer, or the same boxed copy of a
// value (an interface's contents never change). It costs two comparisons where
// reflect's check of comparability took 10 ns, and == itself could panic on two
// values of an uncomparable type. Equal values boxed apart count as different,
// which costs only a new mark.
func sameContext(a, b context.Context) bool {
	return *(*[2]unsafe.Pointer)(unsafe.Pointer(&a)) == *(*[2]unsafe.Pointer)(unsafe.Pointer(&b))
}
