// Package ctxlock provides the lock that serializes the calls into a script: a
// mutex whose waiters stop waiting when their context ends.
//
// A sync.Mutex cannot be given up on, so a call with a deadline that found its
// script busy in a long call waited past that deadline, for good if the call
// never ended. Mutex costs what sync.Mutex costs where nobody waits (TryLock and
// Unlock are one compare-and-swap each, and inline) and keeps its fairness where
// somebody does: waiters queue in order, the oldest is woken to try again at each
// Unlock, and once it has waited more than starveAfter, Unlock hands the lock
// straight to the queue until the queue is empty, so that a goroutine calling in
// a loop cannot keep another out for good.
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

// The bits of Mutex.state.
const (
	locked      = 1 << iota // held
	handover                // Unlock hands the lock to the head of the queue
	waiterShift = iota      // the number of queued waiters, above the flags
)

// Mutex is a mutual exclusion lock whose Lock gives up when its context ends.
// The zero value is an unlocked Mutex. As with sync.Mutex, a Mutex is not tied
// to a goroutine: one may lock it and another unlock it.
type Mutex struct {
	// state holds the flags and, shifted by waiterShift, the number of queued
	// waiters. The locked bit is set by TryLock (compare-and-swap) and cleared
	// by Unlock (compare-and-swap where nobody waits, else under q); the rest
	// changes only under q.
	state atomic.Int32

	q     sync.Mutex // guards queue and each waiter's owned
	queue []*waiter  // oldest first
}

type waiter struct {
	// wake is signalled (without blocking; one pending signal is enough) when
	// the lock was unlocked or handed to this waiter.
	wake  chan struct{}
	owned bool // Unlock handed the lock to this waiter; set under q
}

// TryLock locks m if it is free, and nobody is being handed it, and reports
// whether it did.
func (m *Mutex) TryLock() bool {
	s := m.state.Load()
	return s&(locked|handover) == 0 && m.state.CompareAndSwap(s, s|locked)
}

// Lock locks m, waiting while it is held, unless ctx ends first: then it
// returns ctx.Err() without the lock. A ctx that is already done does not stop
// a Lock that finds m free.
func (m *Mutex) Lock(ctx context.Context) error {
	if m.TryLock() {
		return nil
	}
	return m.lockSlow(ctx)
}

// take locks m if it is free, retrying while only the waiter count changes
// under it (TryLock gives up then, which its callers may).
func (m *Mutex) take() bool {
	for {
		s := m.state.Load()
		if s&(locked|handover) != 0 {
			return false
		}
		if m.state.CompareAndSwap(s, s|locked) {
			return true
		}
	}
}

func (m *Mutex) lockSlow(ctx context.Context) error {
	w := &waiter{wake: make(chan struct{}, 1)}
	m.q.Lock()
	m.queue = append(m.queue, w)
	m.state.Add(1 << waiterShift)
	m.q.Unlock()
	start := time.Now()
	for {
		// Counted, this waiter makes every Unlock take the slow path, which
		// signals the queue: an Unlock that did not see it came before this try.
		if m.take() {
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
			m.startHandover()
		}
		m.q.Unlock()
		if owned {
			return nil
		}
	}
}

// startHandover makes Unlock hand the lock to the queue, if the lock is held:
// a free lock would never be unlocked, and so never handed over. The caller
// holds q, under which the holder's Unlock (there are waiters) clears locked.
func (m *Mutex) startHandover() {
	for {
		s := m.state.Load()
		if s&locked == 0 || m.state.CompareAndSwap(s, s|handover) {
			return
		}
	}
}

// Unlock unlocks m, or hands it to the oldest waiter (see the package doc).
// Unlocking an unlocked Mutex panics, as it is a fatal error for sync.Mutex.
func (m *Mutex) Unlock() {
	if !m.state.CompareAndSwap(locked, 0) {
		m.unlockSlow()
	}
}

// unlockSlow is Unlock when waiters are queued or the lock is being handed
// over.
func (m *Mutex) unlockSlow() {
	m.q.Lock()
	defer m.q.Unlock()
	s := m.state.Load()
	if s&locked == 0 {
		panic("ctxlock: unlock of unlocked Mutex")
	}
	if s&handover != 0 && len(m.queue) > 0 {
		w := m.queue[0]
		m.remove(w)
		w.owned = true // m stays locked, now w's
		signal(w)
		return
	}
	m.state.Add(-locked)
	m.signalHead()
}

// remove takes w off the queue; the last waiter gone ends the handovers. The
// caller holds q.
func (m *Mutex) remove(w *waiter) {
	i := slices.Index(m.queue, w)
	if i < 0 {
		return
	}
	m.queue = slices.Delete(m.queue, i, i+1)
	m.state.Add(-1 << waiterShift)
	if len(m.queue) == 0 {
		m.state.And(^int32(handover))
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
