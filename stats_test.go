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

// TestCallTimeEstimate: the first calls count as timed, the sampled ones stand
// for the calls after the first ones.
func TestCallTimeEstimate(t *testing.T) {
	tests := []struct {
		name  string
		calls uint64
		times map[uint64]time.Duration // by call number
		want  time.Duration
	}{
		{"no calls", 0, nil, 0},
		{"first calls only", 5, map[uint64]time.Duration{1: 100, 2: 100, 3: 100, 4: 100, 5: 100}, 500},
		{"sampled", 648, map[uint64]time.Duration{1: 10, 2: 10, 3: 10, 4: 10, 5: 10, 6: 10, 7: 10, 8: 10, 100: 100, 200: 300}, 80 + 200*640},
		{"a slow setup counts once", 6408, map[uint64]time.Duration{1: time.Second, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1000, 99: 1000}, time.Second + 7 + 1000*6400},
		{"no sample after the first calls yet", 10, map[uint64]time.Duration{1: 10, 2: 10, 3: 10, 4: 10, 5: 10, 6: 10, 7: 10, 8: 10}, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c counters
			c.calls.Store(tt.calls)
			for n, d := range tt.times {
				c.timed(n, d)
			}
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
	got := s.stats.warmCalls.Load() + s.stats.sampledCalls.Load()
	if st.Calls != goroutines*each || st.Errors != goroutines*each/10 || got != timed || st.CallTime <= 0 {
		t.Errorf("stats %+v, %d calls timed; want %d calls, %d errors, %d timed", st, got,
			goroutines*each, goroutines*each/10, timed)
	}
}
