// Package benchpair compares a call of ours with the same call made on the raw
// dependency (wazero, gopher-lua) inside one benchmark.
//
// These machines are noisy: two benchmarks run a second apart can differ by half.
// Running raw and ours in alternating blocks within the same iterations exposes
// both to the same noise, so their ratio, reported as x-raw, is what to compare
// against a target.
package benchpair

import (
	"testing"
	"time"
)

// Run calls raw and ours alternately, block calls of each per iteration, and
// reports ours/raw as x-raw, each side's time per call, and the allocations of one
// call of ours (averaged over about 10 ms of calls).
func Run(b *testing.B, block int, raw, ours func()) {
	b.Helper()
	var tr, to time.Duration
	for b.Loop() {
		t0 := time.Now()
		for range block {
			raw()
		}
		t1 := time.Now()
		for range block {
			ours()
		}
		to += time.Since(t1)
		tr += t1.Sub(t0)
	}
	calls := float64(block * b.N)
	b.ReportMetric(float64(to)/float64(tr), "x-raw")
	b.ReportMetric(float64(tr.Nanoseconds())/calls, "raw-ns/call")
	b.ReportMetric(float64(to.Nanoseconds())/calls, "ours-ns/call")
	// Count allocations over about 10 ms of calls (at least one, at most 1000).
	runs := int(min(1000, max(1, 10*float64(time.Millisecond)/(float64(to)/calls))))
	b.ReportMetric(testing.AllocsPerRun(runs, ours), "allocs/call")
}
