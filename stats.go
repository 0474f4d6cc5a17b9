package hotscript

import (
	"sync/atomic"
	"time"
)

// Stats are a script's counters since it was loaded.
type Stats struct {
	// Version is the live version number; Versions how many are kept for Revert,
	// the live one included.
	Version, Versions int
	// Calls counts Host.Call on the script, Errors those that failed.
	Calls, Errors uint64
	// CallTime estimates the total time spent in those calls. Call reads the
	// clock for the first 8 calls of a script and then for about one call in 64,
	// picked evenly whatever the mix of functions called; CallTime is the average
	// of the timed calls times Calls. Timing every call would slow each small call
	// by about a quarter.
	CallTime time.Duration
	// Reloads counts committed reloads, Reverts committed reverts, FailedReloads
	// rejected reloads and reverts, Superseded reloads replaced before commit.
	Reloads, Reverts, FailedReloads, Superseded uint64
}

type counters struct {
	calls, errors, timedCalls, timedNanos       atomic.Uint64
	reloads, reverts, failedReloads, superseded atomic.Uint64
}

func (c *counters) timed(d time.Duration) {
	c.timedNanos.Add(uint64(d))
	c.timedCalls.Add(1)
}

// callTime scales the timed calls' duration to all calls.
func (c *counters) callTime() time.Duration {
	timed := c.timedCalls.Load()
	if timed == 0 {
		return 0
	}
	return time.Duration(float64(c.timedNanos.Load()) / float64(timed) * float64(c.calls.Load()))
}

// Stats returns s's counters. Counters are read one by one while calls go on, so
// they need not be mutually consistent to the call. A nil Script, or one of another
// Host, has zero Stats. Safe for concurrent use.
func (h *Host) Stats(s *Script) Stats {
	if s == nil || s.h != h {
		return Stats{}
	}
	s.mu.Lock()
	versions := s.hist.versions()
	s.mu.Unlock()
	return Stats{
		Version: s.Version(), Versions: versions,
		Calls: s.stats.calls.Load(), Errors: s.stats.errors.Load(),
		CallTime: s.stats.callTime(),
		Reloads:  s.stats.reloads.Load(), Reverts: s.stats.reverts.Load(),
		FailedReloads: s.stats.failedReloads.Load(), Superseded: s.stats.superseded.Load(),
	}
}

// Call times a sample of calls: reading the clock twice costs about 60 ns, a
// quarter of a small call. It times the first timedWarmup calls of each script and
// then one in 1<<sampleShift, picked by a multiplicative (Fibonacci) hash of the
// call's number: unlike every 64th call, that picks evenly among functions called
// in a fixed rotation (update then draw, frame after frame).
const (
	timedWarmup = 8
	sampleShift = 6
)

// sampled reports whether call number n (counted from 1) is timed.
func sampled(n uint64) bool {
	return n <= timedWarmup || (n*0x9E3779B97F4A7C15)>>(64-sampleShift) == 0
}
