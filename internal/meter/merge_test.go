package meter

import (
	"fmt"
	"slices"
	"testing"
)

// A while loop's tail is charged at its header: one charge point fewer per
// loop, and every check sees the fuel it would see with two charges, so
// calls use the same fuel, refuel at the same points and stop at the same
// place. Unrolling is off: it changes where the checks are (unroll_test.go).
func TestMergeSameChecks(t *testing.T) {
	unrollCopies = 1
	defer func() { unrollCopies = defaultUnrollCopies }()
	wasm := readTestdata(t, "sum.wasm")
	build := func(merge bool) (*metered, Info) {
		mergeLoops = merge
		defer func() { mergeLoops = true }()
		_, info, err := Instrument(wasm)
		if err != nil {
			t.Fatal(err)
		}
		return instantiateMetered(t, wasm, &tank{}), info
	}
	two, twoInfo := build(false)
	one, oneInfo := build(true)
	mergeLoops = true
	// count and sum are while loops; work5 and work50 are single regions.
	if got, want := oneInfo.ChargePoints, twoInfo.ChargePoints-2; got != want {
		t.Errorf("%d charge points with merging, want %d (%d without)", got, want, twoInfo.ChargePoints)
	}
	for _, fn := range []string{"count", "sum", "work5"} {
		for _, n := range []uint64{0, 1, 7, 100} {
			for _, slice := range []int64{1, 3, 7, 64, 1 << 20} {
				t.Run(fmt.Sprintf("%s(%d)/slice %d", fn, n, slice), func(t *testing.T) {
					var used [2]int64
					var seen [2][]int64
					for i, m := range []*metered{two, one} {
						*m.tank = tank{slice: slice, left: 1 << 40, seen: []int64{}}
						res, u, err := m.call(fn, n)
						if err != nil || len(res) != 1 {
							t.Fatal(res, err)
						}
						used[i], seen[i] = u, m.tank.seen
					}
					if used[0] != used[1] || !slices.Equal(seen[0], seen[1]) {
						t.Errorf("used %d, refuels at %v without merging; used %d, refuels at %v with", used[0], seen[0], used[1], seen[1])
					}
				})
			}
		}
	}
}
