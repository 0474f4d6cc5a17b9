package lua

import (
	"fmt"
	"math"
	"time"

	"github.com/hotscript/hotscript/internal/monoclock"
)

// setupTime bounds a chunk run (at load and reload) and a reload's hooks and
// check, for a script that has no MaxExecutionTime of its own. Without it, an
// edit whose chunk never returns would keep its reload's goroutine spinning
// forever, and an on_restore that never returns would hold the script's
// callers for good. A variable so that tests can shorten it.
var setupTime = 10 * time.Second

// forSetup puts b under setupTime, if its script has no time limit, for the
// chunk run or reload hooks about to run, and returns what undoes it.
func (b *budget) forSetup() (undo func()) {
	if b.limits.MaxExecutionTime > 0 {
		return func() {}
	}
	free := b.free
	b.limits.MaxExecutionTime, b.free, b.setup = setupTime, false, true
	return func() { b.limits.MaxExecutionTime, b.free, b.setup = 0, free, false }
}

// startClock starts the call's clock if it has a time limit and has not started.
// The clock starts lazily, at the first check (after checkEvery instructions, or
// earlier if a builtin charges work) or before the first host function call, not when
// the call begins: reading the clock costs as much as a short call (60 ns on some
// virtual machines), and most calls never reach a check. The time a call spends before
// its clock starts, at most checkEvery instructions, is not counted.
func (b *budget) startClock() {
	if b.limits.MaxExecutionTime > 0 && b.due == 0 {
		b.seen, b.seenAt = monoclock.Now(), b.count
		// Saturated: a limit near math.MaxInt64 (no limit, in effect) would
		// otherwise wrap the deadline into the past and time the call out at once.
		b.due = b.seen + min(b.limits.MaxExecutionTime, math.MaxInt64-b.seen)
		b.every = minCheckEvery // until pace has seen how fast instructions run
	}
}

// timeUp reports whether the call's time is up, starting its clock if needed.
func (b *budget) timeUp() bool {
	if b.due == 0 {
		b.startClock()
		return false
	}
	now := monoclock.Now()
	b.pace(now)
	return now >= b.due
}

const (
	minCheckEvery = 16                   // the fewest instructions between checks
	slowUnit      = 1 * time.Microsecond // an instruction this slow on average makes checks more frequent
)

// pace sets how many instructions run until the next look at the clock, from
// how long those since the last look took: minCheckEvery when the clock starts,
// doubling up to checkEvery while they are fast, back to minCheckEvery at the
// first look that finds they averaged slowUnit or more since the last (slow
// instructions that follow fast ones all run until that look, up to checkEvery
// of them). Some instructions take long, and no budget
// sees inside them (comparing or hashing a long string, see Limits): 1,024
// comparisons of two equal strings of 50 MB take about 9 seconds, which a call
// past its MaxExecutionTime would otherwise run before it stopped. Only the
// time between checks changes, so the instruction count stays deterministic.
func (b *budget) pace(now time.Duration) {
	if units := b.count - b.seenAt; now-b.seen > time.Duration(units)*slowUnit {
		b.every = minCheckEvery
	} else {
		b.every = min(2*b.every, checkEvery)
	}
	b.seen, b.seenAt = now, b.count
}

// timeError is the error of a call past its MaxExecutionTime.
func (b *budget) timeError() error {
	if b.setup {
		return &limitError{what: fmt.Sprintf("execution time limit exceeded: a chunk or a reload hook ran past the %v "+
			"allowed to a script without MaxExecutionTime", setupTime), also: ErrTimeout}
	}
	return ErrTimeout
}
