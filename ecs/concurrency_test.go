package ecs_test

import (
	"sync"
	"testing"

	"github.com/hotscript/hotscript/ecs"
)

// Reads that do not iterate may run concurrently while nothing writes.
// Run with -race.
func TestConcurrentReads(t *testing.T) {
	const p, n = 8, 2000
	w, es := populate(t, 500)
	pos := ecs.StoreOf[Position](w)
	var wg sync.WaitGroup
	errs := make(chan string, p)
	for g := range p {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range n {
				i := (g*n + it) % len(es)
				e := es[i]
				_, ok := ecs.Get[Position](w, e)
				has := ecs.Has[Velocity](w, e)
				ref := ecs.Ref[Health](w, e)
				sp, sok := pos.Get(e)
				if ok != (i%2 == 0) || has != (i%3 == 0) || (ref != nil) != (i%5 == 0) ||
					sok != ok || (sok && sp.X != float64(i)) || !w.Alive(e) || w.Len() != len(es) {
					errs <- e.String()
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("concurrent read of %s saw wrong data", e)
	}
}

// The documented way to share a World: a sync.RWMutex, writers and query
// loops under Lock, plain reads under RLock. Run with -race.
func TestSharedWorldWithRWMutex(t *testing.T) {
	const p, n = 4, 500
	var mu sync.RWMutex
	w := ecs.NewWorld()
	var wg sync.WaitGroup
	for g := range p {
		wg.Add(2)
		go func() { // writer: spawn, update through a query, despawn half
			defer wg.Done()
			for it := range n {
				mu.Lock()
				e := w.Spawn()
				if err := ecs.Insert(w, e, Health(g)); err != nil {
					t.Error(err) // not Fatal: this is not the test's goroutine
				}
				for _, h := range ecs.Query[Health](w) {
					*h += 0 // a write through the yielded pointer
				}
				if it%2 == 0 {
					w.Despawn(e)
				}
				mu.Unlock()
			}
		}()
		go func() { // reader
			defer wg.Done()
			for range n {
				mu.RLock()
				total := 0
				for i := range w.Len() {
					e := ecs.Entity(1<<32 | uint64(i))
					if h, ok := ecs.Get[Health](w, e); ok && h >= 0 {
						total++
					}
				}
				_ = total
				mu.RUnlock()
			}
		}()
	}
	wg.Wait()
	if got, want := w.Len(), p*n/2; got != want {
		t.Errorf("Len() = %d, want %d", got, want)
	}
	if got := ecs.StoreOf[Health](w).Len(); got != p*n/2 {
		t.Errorf("Health count = %d, want %d", got, p*n/2)
	}
}
