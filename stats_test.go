package hotscript

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestCallSampling: the calls Call times are the first few, then about one in 64,
// spread evenly over functions called in a fixed rotation of any length.
func TestCallSampling(t *testing.T) {
	for n := uint64(1); n <= timedWarmup; n++ {
		if !sampled(n) {
			t.Errorf("call %d is not timed; the first %d all are", n, timedWarmup)
		}
	}
	const calls = 1 << 20
	want := float64(calls) / (1 << sampleShift)
	for _, period := range []uint64{1, 2, 3, 4, 7, 16, 60, 64} {
		t.Run(fmt.Sprint("rotation of ", period), func(t *testing.T) {
			perSlot := make([]float64, period)
			for n := uint64(timedWarmup + 1); n <= calls; n++ {
				if sampled(n) {
					perSlot[n%period]++
				}
			}
			for slot, got := range perSlot {
				if w := want / float64(period); got < 0.95*w || got > 1.05*w {
					t.Errorf("function %d of %d: %v calls timed, want %.0f ± 5%%", slot, period, got, w)
				}
			}
		})
	}
}

func TestCallTimeEstimate(t *testing.T) {
	tests := []struct {
		name                          string
		calls, timedCalls, timedNanos uint64
		want                          time.Duration
	}{
		{"no calls", 0, 0, 0, 0},
		{"every call timed", 5, 5, 500, 500},
		{"sampled", 640, 10, 1000, 64000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c counters
			c.calls.Store(tt.calls)
			c.timedCalls.Store(tt.timedCalls)
			c.timedNanos.Store(tt.timedNanos)
			if got := c.callTime(); got != tt.want {
				t.Errorf("callTime() = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestHammerCallStats: 4 goroutines calling one script; every call is counted once,
// and exactly the sampled call numbers were timed.
func TestHammerCallStats(t *testing.T) {
	h, _ := newFakeHost(t, Config{})
	s := mustLoad(t, h, "s.wasm", "v1", nil)
	const goroutines, each = 4, 2000
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for i := range each {
				fn := "version"
				if i%10 == 0 {
					fn = "fail"
				}
				h.Call(context.Background(), s, fn)
			}
		})
	}
	wg.Wait()
	var timed uint64
	for n := uint64(1); n <= goroutines*each; n++ {
		if sampled(n) {
			timed++
		}
	}
	st := h.Stats(s)
	if st.Calls != goroutines*each || st.Errors != goroutines*each/10 || s.stats.timedCalls.Load() != timed || st.CallTime <= 0 {
		t.Errorf("stats %+v, %d calls timed; want %d calls, %d errors, %d timed", st, s.stats.timedCalls.Load(),
			goroutines*each, goroutines*each/10, timed)
	}
}
