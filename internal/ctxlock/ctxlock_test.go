package ctxlock

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

func TestLockGivesUpWhenContextEnds(t *testing.T) {
	var m Mutex
	if err := m.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error)
	go func() { got <- m.Lock(ctx) }()
	waitQueued(t, &m, 1)
	cancel()
	if err := <-got; err != context.Canceled {
		t.Fatalf("Lock = %v, want context.Canceled", err)
	}
	if n := m.waiters(); n != 0 {
		t.Fatalf("%d waiters left after the only one gave up", n)
	}
	if m.TryLock() {
		t.Fatal("the waiter that gave up unlocked the lock it never had")
	}
	m.Unlock()
	if !m.TryLock() {
		t.Fatal("not free after Unlock")
	}
}

func TestDoneContextTakesAFreeLock(t *testing.T) {
	var m Mutex
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Lock(ctx); err != nil {
		t.Fatalf("Lock of a free Mutex with a done context = %v", err)
	}
}

// TestWaitersAreWoken checks that every waiter gets the lock in turn when
// nobody gives up.
func TestWaitersAreWoken(t *testing.T) {
	var m Mutex
	m.Lock(context.Background())
	const n = 5
	var wg sync.WaitGroup
	inside := 0
	for range n {
		wg.Go(func() {
			if err := m.Lock(context.Background()); err != nil {
				t.Error(err)
				return
			}
			inside++
			m.Unlock()
		})
	}
	waitQueued(t, &m, n)
	m.Unlock()
	wg.Wait()
	if inside != n {
		t.Fatalf("%d of %d waiters got the lock", inside, n)
	}
}

// TestWaiterNotStarved has a goroutine take the lock again at once after each
// Unlock, holding it almost all the time, as a game loop calling a script each
// step does. Another goroutine's Lock must get in once it has waited
// starveAfter, not whenever it happens to win a race it almost always loses.
func TestWaiterNotStarved(t *testing.T) {
	var m Mutex
	m.Lock(context.Background())
	stop := make(chan struct{})
	rounds := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				m.Unlock()
				rounds <- n
				return
			default:
			}
			time.Sleep(100 * time.Microsecond) // the call
			m.Unlock()
			if err := m.Lock(context.Background()); err != nil {
				t.Error(err)
			}
			n++
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := m.Lock(ctx)
	close(stop)
	if err == nil {
		m.Unlock()
	}
	n := <-rounds
	if err != nil {
		t.Fatalf("waiter starved through %d rounds: %v", n, err)
	}
	// starveAfter is ten rounds at most; allow for a slow, busy machine.
	// Without the handover, the waiter took thousands.
	if n > 200 {
		t.Fatalf("waiter got in only after %d rounds of about 100µs", n)
	}
}

// TestHammer mixes waits that give up with waits that do not, and TryLock
// callers, with holds long enough for handovers, under -race: the count guarded
// by the lock must match the locks taken, and the lock must end free with no
// waiter and no handover left (no waiter that gave up kept or lost it).
func TestHammer(t *testing.T) {
	var m Mutex
	count := 0
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for g := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			mine := 0
			for range 1500 {
				got := false
				if g%4 == 3 {
					got = m.TryLock()
				} else {
					ctx, cancel := context.Background(), context.CancelFunc(func() {})
					if r.IntN(2) == 0 {
						ctx, cancel = context.WithTimeout(ctx, time.Duration(r.IntN(3000))*time.Microsecond)
					}
					got = m.Lock(ctx) == nil
					cancel()
				}
				if got {
					count++
					mine++
					if r.IntN(8) == 0 {
						time.Sleep(time.Duration(r.IntN(200)) * time.Microsecond)
					}
					m.Unlock()
				}
			}
			mu.Lock()
			total += mine
			mu.Unlock()
		})
	}
	wg.Wait()
	if count != total {
		t.Fatalf("count %d under the lock, %d locks taken", count, total)
	}
	if s := m.state.Load(); s != 0 || len(m.queue) != 0 {
		t.Fatalf("state %#x with %d queued at the end, want a free lock and nobody waiting", s, len(m.queue))
	}
}

// Unlocking an unlocked Mutex is a programming error, as for sync.Mutex.
func TestUnlockOfUnlockedPanics(t *testing.T) {
	var m Mutex
	defer func() {
		if recover() == nil {
			t.Fatal("Unlock of an unlocked Mutex did not panic")
		}
	}()
	m.Unlock()
}

// waiters returns the number of queued waiters.
func (m *Mutex) waiters() int32 { return m.state.Load() >> waiterShift }

// waitQueued waits until n goroutines wait for m.
func waitQueued(t *testing.T, m *Mutex, n int32) {
	t.Helper()
	for m.waiters() < n {
		time.Sleep(time.Millisecond)
	}
}

func BenchmarkUncontended(b *testing.B) {
	b.Run("sync.Mutex", func(b *testing.B) {
		var m sync.Mutex
		for b.Loop() {
			if m.TryLock() {
				m.Unlock()
			}
		}
	})
	b.Run("ctxlock.Mutex", func(b *testing.B) {
		var m Mutex
		ctx := context.Background()
		for b.Loop() {
			if m.Lock(ctx) == nil {
				m.Unlock()
			}
		}
	})
}
