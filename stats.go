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
	// picked evenly whatever the mix of functions called; CallTime is the time of
	// the first 8 plus the average of the sampled calls times the calls after
	// them (so a slow first call, a setup, counts once). Timing every call would
	// slow each small call by about a quarter.
	CallTime time.Duration
	// Reloads counts committed reloads, Reverts committed reverts, FailedReloads
	// rejected reloads and reverts, Superseded reloads replaced before commit.
	Reloads, Reverts, FailedReloads, Superseded uint64
}

type counters struct {
	calls, errors                               atomic.Uint64
	warmCalls, warmNanos                        atomic.Uint64 // the first timedWarmup calls
	sampledCalls, sampledNanos                  atomic.Uint64 // the calls timed after them
	reloads, reverts, failedReloads, superseded atomic.Uint64
}

// timed records the duration d of call number n, a sampled one.
func (c *counters) timed(n uint64, d time.Duration) {
	if n <= timedWarmup {
		c.warmNanos.Add(uint64(d))
		c.warmCalls.Add(1)
		return
	}
	c.sampledNanos.Add(uint64(d))
	c.sampledCalls.Add(1)
}

// callTime is the first calls' time plus the sampled calls' average scaled to
// the calls after the first ones (the first ones' average until a call after
// them is sampled).
func (c *counters) callTime() time.Duration {
	warm, warmNanos := c.warmCalls.Load(), c.warmNanos.Load()
	sampled, sampledNanos := c.sampledCalls.Load(), c.sampledNanos.Load()
	rest := c.calls.Load()
	rest -= min(rest, warm)
	switch {
	case sampled > 0:
		return time.Duration(float64(warmNanos) + float64(sampledNanos)/float64(sampled)*float64(rest))
	case warm > 0:
		return time.Duration(float64(warmNanos) + float64(warmNanos)/float64(warm)*float64(rest))
	}
	return 0
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
