// Package monoclock reads the monotonic clock alone, for the deadlines of calls
// into scripts, which both engines check often: time.Since of a fixed time reads
// one clock, where time.Now reads two (wall and monotonic), which halves the cost
// of a check (about 25 ns instead of 50 on the machines we measure on).
package monoclock

import "time"

var epoch = time.Now()

// Now returns the time elapsed since the package was initialized.
func Now() time.Duration { return time.Since(epoch) }

// Time returns the wall-clock time of a value Now returned.
func Time(d time.Duration) time.Time { return epoch.Add(d) }
