// Package ctxlock provides the lock that serializes the calls into a script: a
// mutex whose waiters stop waiting when their context ends.
//
// A sync.Mutex cannot be given up on, so a call with a deadline that found its
// script busy in a long call waited past that deadline, for good if the call
// never ended. Mutex keeps sync.Mutex's costs where nobody waits (TryLock, and an
// atomic load more in Unlock) and its fairness where somebody does: waiters
// queue in order, the oldest is woken to try again at each Unlock, and once it
// has waited more than starveAfter, Unlock hands the lock straight to the queue
// until the queue is empty, so that a goroutine calling in a loop cannot keep
// another out for good.
package ctxlock

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// starveAfter is how long a waiter waits before Unlock hands over the lock
// instead of letting whoever comes first take it; sync.Mutex uses the same.
const starveAfter = time.Millisecond

// Mutex is a mutual exclusion lock whose Lock gives up when its context ends.
// The zero value is an unlocked Mutex. As with sync.Mutex, a Mutex is not tied
// to a goroutine: one may lock it and another unlock it.
type Mutex struct {
	mu sync.Mutex // the lock itself; held by the owner, and across handovers
	// waiters counts the queue, so that Unlock can tell without q that nobody
	// waits.
	waiters atomic.Int32
	// handover is set once the oldest waiter has waited starveAfter: Unlock then
	// hands the lock to the head of the queue rather than unlocking mu.
	handover atomic.Bool

	q     sync.Mutex // guards queue and each waiter's owned
	queue []*waiter  // oldest first
}

type waiter struct {
	// wake is signalled (without blocking; one pending signal is enough) when
	// the lock was unlocked or handed to this waiter.
	wake  chan struct{}
	owned bool // Unlock handed the lock to this waiter; set under q
}

// TryLock locks m if it is free and reports whether it did.
func (m *Mutex) TryLock() bool { return m.mu.TryLock() }

// Lock locks m, waiting while it is held, unless ctx ends first: then it
// returns ctx.Err() without the lock. A ctx that is already
// done does not stop a Lock that finds m free.
func (m *Mutex) Lock(ctx context.Context) error {
	if m.mu.TryLock() {
		return nil
	}
	return m.lockSlow(ctx)
}

func (m *Mutex) lockSlow(ctx context.Context) error {
	w := &waiter{wake: make(chan struct{}, 1)}
	m.q.Lock()
	m.queue = append(m.queue, w)
	m.waiters.Add(1)
	m.q.Unlock()
	start := time.Now()
	for {
		// An Unlock that read waiters before this waiter counted itself
		// unlocked mu before this try.
		if m.mu.TryLock() {
			m.q.Lock()
			m.remove(w)
			m.q.Unlock()
			return nil
		}
		select {
		case <-w.wake:
		case <-ctx.Done():
			m.q.Lock()
			owned := w.owned
			if !owned {
				m.remove(w)
				m.signalHead() // the wake this waiter may have taken was the next one's
			}
			m.q.Unlock()
			if owned {
				m.Unlock() // handed over as ctx ended: pass it on
			}
			return ctx.Err()
		}
		m.q.Lock()
		owned := w.owned
		if !owned && time.Since(start) >= starveAfter {
			m.handover.Store(true)
		}
		m.q.Unlock()
		if owned {
			return nil
		}
	}
}

// Unlock unlocks m, or hands it to the oldest waiter (see the package doc).
// Unlocking an unlocked Mutex is a run-time error, as for sync.Mutex.
func (m *Mutex) Unlock() {
	if m.handover.Load() && m.handOver() {
		return
	}
	m.mu.Unlock()
	// A waiter counts itself before it tries the lock (lockSlow): if it is not
	// counted yet, its try comes after this Unlock.
	if m.waiters.Load() > 0 {
		m.q.Lock()
		m.signalHead()
		m.q.Unlock()
	}
}

// handOver gives the held lock to the head of the queue and reports whether
// there was one to take it; the last waiter served ends the handovers.
func (m *Mutex) handOver() bool {
	m.q.Lock()
	defer m.q.Unlock()
	if len(m.queue) == 0 {
		m.handover.Store(false)
		return false
	}
	w := m.queue[0]
	m.remove(w)
	w.owned = true
	if len(m.queue) == 0 {
		m.handover.Store(false)
	}
	signal(w)
	return true
}

// remove takes w off the queue; the caller holds q.
func (m *Mutex) remove(w *waiter) {
	if i := slices.Index(m.queue, w); i >= 0 {
		m.queue = slices.Delete(m.queue, i, i+1)
		m.waiters.Add(-1)
	}
}

// signalHead wakes the oldest waiter, if any; the caller holds q.
func (m *Mutex) signalHead() {
	if len(m.queue) > 0 {
		signal(m.queue[0])
	}
}

func signal(w *waiter) {
	select {
	case w.wake <- struct{}{}:
	default: // a wake is pending already
	}
}
