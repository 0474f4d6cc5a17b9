package monoclock

import (
	"testing"
	"time"
)

func TestNow(t *testing.T) {
	before := time.Now()
	d := Now()
	after := time.Now()
	if got := Time(d); got.Before(before.Add(-time.Millisecond)) || got.After(after.Add(time.Millisecond)) {
		t.Fatalf("Time(Now()) = %v, want between %v and %v", got, before, after)
	}
	if later := Now(); later < d {
		t.Fatalf("Now went back: %v then %v", d, later)
	}
}
