package meter

import (
	"fmt"
	"slices"
	"testing"
)

// Unrolling copies loop bodies but charges every copy as its iteration
// would be charged: every function of the corpus returns the same and uses
// the same fuel with and without it (a call that traps at most more),
// whether the budget comes in one piece or in slices small enough to refuel
// inside every loop.
func TestUnrollSameFuel(t *testing.T) {
	unrolled := 0
	for name, wasm := range corpus(t) {
		if notDifferential[name] {
			continue
		}
		plain, plainInfo := instantiateUnrolled(t, wasm, 1)
		copied, info := instantiateUnrolled(t, wasm, defaultUnrollCopies)
		unrolled += info.UnrolledLoops
		if plainInfo.UnrolledLoops != 0 {
			t.Errorf("%s: %d loops unrolled with unrolling off", name, plainInfo.UnrolledLoops)
		}
		for _, slice := range []int64{64, 1 << 30} {
			t.Run(fmt.Sprintf("%s/slice %d", name, slice), func(t *testing.T) {
				for _, fn := range exportNames(t, wasm, 0x00) {
					def := plain.mod.ExportedFunction(fn).Definition()
					for _, args := range inputs(t, def.ParamTypes()) {
						var res [2][]uint64
						var used [2]int64
						var errs [2]string
						for i, m := range []*metered{plain, copied} {
							*m.tank = tank{slice: slice, left: 1 << 40}
							r, u, err := m.call(fn, args...)
							res[i], used[i], errs[i] = r, u, firstLine(err)
						}
						// A trap inside an unrolled loop may leave later copies
						// charged (see landings).
						sameFuel := used[0] == used[1] || errs[0] != "" && used[1] > used[0]
						if !slices.Equal(res[0], res[1]) || !sameFuel || errs[0] != errs[1] {
							t.Fatalf("%s%v: %v, fuel %d, error %q unrolled; %v, fuel %d, error %q not",
								fn, args, res[1], used[1], errs[1], res[0], used[0], errs[0])
						}
					}
				}
			})
		}
	}
	if unrolled == 0 {
		t.Error("no loop of the corpus was unrolled")
	}
}

// Which loops are unrolled: small innermost loops that end in a branch back
// to their header at the loop's own level, br 0 or br_if 0. testdata/unroll.wat
// has one function per shape and says which of its loops qualify.
func TestUnrollWhichLoops(t *testing.T) {
	for _, tt := range []struct {
		module string
		want   int
	}{
		{"unroll.wasm", 6},
		{"sum.wasm", 3}, // count, sum and work5; work50's body is too long
	} {
		_, info, err := Instrument(readTestdata(t, tt.module))
		if err != nil {
			t.Fatal(err)
		}
		if info.UnrolledLoops != tt.want {
			t.Errorf("%s: %d loops unrolled, want %d", tt.module, info.UnrolledLoops, tt.want)
		}
	}
}

// A budget of exactly the fuel a call uses lets the unrolled loops finish,
// however it is sliced: the header's check of a loop charged ahead for its
// copies branches only when one iteration could not be paid, and its refuel
// path gives the copies' part back before the host sees the fuel. (One unit
// less is caught by the host after the call; package wasm tests that.)
func TestUnrollExactBudget(t *testing.T) {
	for _, mod := range []string{"sum.wasm", "unroll.wasm"} {
		wasm := readTestdata(t, mod)
		m := instantiateMetered(t, wasm, &tank{})
		for _, fn := range []string{"count", "sum", "work5", "while", "dowhile", "nest", "params"} { // not continue: it counts calls
			if m.mod.ExportedFunction(fn) == nil {
				continue
			}
			for _, n := range []uint64{1, 9, 100} {
				*m.tank = tank{slice: 1 << 30, left: 1 << 40}
				want, need, err := m.call(fn, n)
				if err != nil {
					t.Fatal(err)
				}
				for _, slice := range []int64{1, 7, 1 << 30} {
					*m.tank = tank{slice: slice, left: need}
					if got, _, err := m.call(fn, n); err != nil || !slices.Equal(got, want) {
						t.Errorf("%s %s(%d), budget %d in slices of %d: %v, %v; want %v", mod, fn, n, need, slice, got, err, want)
					}
				}
			}
		}
	}
}
