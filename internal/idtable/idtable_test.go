package idtable

import (
	"slices"
	"strconv"
	"sync"
	"testing"
)

func TestTable(t *testing.T) {
	var tab Table[int]
	if tab.Get(1) != nil || tab.All() != nil || tab.Clear(3) != nil {
		t.Fatal("an empty table holds something")
	}
	vals := make([]int, 100)
	for i := range vals {
		vals[i] = i
		tab.Put(uint64(i+1), &vals[i]) // grows several times
	}
	for i := range vals {
		if got := tab.Get(uint64(i + 1)); got != &vals[i] {
			t.Fatalf("Get(%d) = %v, want the value put", i+1, got)
		}
	}
	if tab.Get(0) != nil || tab.Get(101) != nil || tab.Get(1<<40) != nil {
		t.Error("Get of an id never put found something")
	}
	if got := tab.Clear(50); got != &vals[49] || tab.Get(50) != nil || tab.Clear(50) != nil {
		t.Errorf("Clear(50) = %v, then Get(50) = %v", got, tab.Get(50))
	}
	if all := tab.All(); len(all) != 99 || !slices.Contains(all, &vals[0]) || slices.Contains(all, &vals[49]) {
		t.Errorf("All after a Clear: %d values", len(all))
	}
	if all := tab.Reset(); len(all) != 99 || tab.Get(1) != nil || tab.All() != nil {
		t.Errorf("Reset returned %d values and left %d", len(all), len(tab.All()))
	}
}

// Putting a new id while the slice has room and clearing one cost nothing,
// however many ids came before: the registries copied themselves whole on
// every load and unload, a cost that grew with every script ever loaded.
func TestPutAndClearInPlace(t *testing.T) {
	var tab Table[int]
	v := 7
	const n = 10_000
	for id := uint64(1); id <= n; id++ {
		tab.Put(id, &v)
	}
	next := uint64(n + 1) // the slice has room for it: capacity doubles
	if allocs := testing.AllocsPerRun(100, func() {
		tab.Put(next, &v)
		tab.Clear(next)
		next++
	}); allocs != 0 {
		t.Errorf("Put and Clear of a new id after %d ids: %v allocations, want 0", n, allocs)
	}
}

// Readers never lock and see every value put before they look, while writers
// put, clear and grow the table (run with -race).
func TestConcurrentReaders(t *testing.T) {
	var tab Table[int]
	v := 1
	tab.Put(1, &v)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if tab.Get(1) != &v {
					t.Error("lost id 1 while the table grew")
					return
				}
				_ = tab.All()
			}
		}()
	}
	for id := uint64(2); id < 2000; id++ {
		tab.Put(id, &v)
		if id%3 == 0 {
			tab.Clear(id - 1)
		}
	}
	close(stop)
	wg.Wait()
}

func TestNames(t *testing.T) {
	var n Names
	if _, ok := n.Get(1); ok {
		t.Fatal("an empty Names knows id 1")
	}
	for i := range uint64(maxNames + 10) {
		n.Add(i, "s"+strconv.FormatUint(i, 10))
	}
	if _, ok := n.Get(9); ok {
		t.Error("the oldest names are not forgotten past the capacity")
	}
	if name, ok := n.Get(10); !ok || name != "s10" {
		t.Errorf("Get(10) = %q, %v", name, ok)
	}
	if name, ok := n.Get(maxNames + 9); !ok || name != "s"+strconv.Itoa(maxNames+9) {
		t.Errorf("Get(newest) = %q, %v", name, ok)
	}
	n.Add(10, "again")
	if name, _ := n.Get(10); name != "again" || len(n.order) != maxNames {
		t.Errorf("a second Add of an id: %q, %d remembered", name, len(n.order))
	}
}
