package meter

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"testing"

	"github.com/hotscript/hotscript/internal/guest"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// TestFuelPinned pins the cost model on functions whose cost is derived by
// hand from testdata/sum.wat: every instruction costs 1 except block, loop,
// else and end, which cost 0.
func TestFuelPinned(t *testing.T) {
	wasm := readTestdata(t, "sum.wasm")
	tests := []struct {
		name string
		fn   string
		arg  uint64
		want int64
	}{
		// local.get, i32.const, i32.add
		{"add3", "add3", 41, 3},
		// Entry: 4 (the mask). Loop header up to br_if: 4, run n+1 times.
		// Rest of the body up to br: 5, run n times. After the block: 1.
		// Total 9n + 9.
		{"count 0", "count", 0, 9},
		{"count 1", "count", 1, 18},
		{"count 10", "count", 10, 99},
		{"count 1000", "count", 1000, 9009},
		// As count, with a body of 10 after br_if: 14n + 9.
		{"sum 0", "sum", 0, 9},
		{"sum 1000", "sum", 1000, 14009},
		// A do-while body of 4 + 7 per iteration, then 1 after the loop.
		{"work5 1", "work5", 1, 12},
		{"work5 100", "work5", 100, 1101},
		// A body of 53 + 7 per iteration, then 1.
		{"work50 1", "work50", 1, 61},
		{"work50 100", "work50", 100, 6001},
	}
	m := instantiateMetered(t, wasm, &tank{slice: 1 << 30, left: 1 << 40})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, used, err := m.call(tt.fn, tt.arg)
			if err != nil {
				t.Fatal(err)
			}
			if used != tt.want {
				t.Errorf("%s(%d) used %d fuel, want %d", tt.fn, tt.arg, used, tt.want)
			}
		})
	}
}

// TestFuelDeterministic runs the same calls on fresh instances, with refuel
// slices from 1 to 2^30, and requires the same count every time: the count
// depends on the module and the input only.
func TestFuelDeterministic(t *testing.T) {
	wasm := readTestdata(t, "loops.wasm")
	calls := []struct {
		fn  string
		arg uint64
	}{{"fill", 7}, {"sort", 40}, {"fib", 12}, {"collatz", 27}, {"matmul", 5}, {"sum_array", 200}}
	var want []int64
	for _, slice := range []int64{1, 3, 100, 10_000, 1 << 30} {
		m := instantiateMetered(t, wasm, &tank{slice: slice, left: 1 << 40})
		var got []int64
		for _, c := range calls {
			_, used, err := m.call(c.fn, c.arg)
			if err != nil {
				t.Fatalf("%s(%d): %v", c.fn, c.arg, err)
			}
			got = append(got, used)
		}
		if want == nil {
			want = got
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("slice %d: %s(%d) used %d fuel, %d with another slice", slice, calls[i].fn, calls[i].arg, got[i], want[i])
			}
		}
	}
	for i, w := range want {
		if w <= 0 {
			t.Errorf("%s used %d fuel", calls[i].fn, w)
		}
	}
}

// TestFuelReflectsWork compares the fuel per iteration of a loop with a
// 5-instruction body and one with a 50-instruction body.
func TestFuelReflectsWork(t *testing.T) {
	m := instantiateMetered(t, readTestdata(t, "sum.wasm"), &tank{slice: 1 << 30, left: 1 << 40})
	perIteration := func(fn string) int64 {
		_, short, err1 := m.call(fn, 10)
		_, long, err2 := m.call(fn, 1010)
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		return (long - short) / 1000
	}
	small, big := perIteration("work5"), perIteration("work50")
	if small != 11 || big != 60 {
		t.Errorf("fuel per iteration: work5 %d, work50 %d; want 11 and 60", small, big)
	}
}

// TestRunawayStops runs code that never ends under a budget: refuel must be
// called again and again until the budget is spent, and the instance must
// stay usable afterwards.
func TestRunawayStops(t *testing.T) {
	tests := []struct {
		name string
		fn   string
		args []uint64
	}{
		{"empty loop", "spin", nil},
		{"loop with a branch inside an if", "spin_nested", []uint64{1}},
		{"loop with parameters", "spin_params", nil},
		{"recursion", "recurse", []uint64{0}},
		{"mutual recursion through call_indirect", "ping", nil},
		{"tail calls", "tail", []uint64{0}},
	}
	// Where wazero interprets (386, arm), small enough for recursion to spend it
	// before the call stack (2,000 frames) overflows.
	slice, budget := int64(1000), int64(20_000)
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		slice, budget = 100, 2_000
	}
	tk := &tank{slice: slice}
	m := instantiateMetered(t, readTestdata(t, "runaway.wasm"), tk)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for round := range 2 { // the second round shows the instance survived
				tk.left, tk.refuels = budget, 0
				_, used, err := m.call(tt.fn, tt.args...)
				if !errors.Is(err, errOutOfFuel) {
					t.Fatalf("round %d: err = %v, want out of fuel", round, err)
				}
				if int64(tk.refuels) != budget/slice+1 {
					t.Errorf("round %d: %d refuels, want %d", round, tk.refuels, budget/slice+1)
				}
				if used < budget {
					t.Errorf("round %d: stopped after %d fuel, before the budget of %d", round, used, budget)
				}
			}
		})
	}
}

// TestHostSeesFuel checks the protocol around host calls: the global holds
// the exact fuel when the guest calls out, and a host function may charge
// for its own work by lowering it.
func TestHostSeesFuel(t *testing.T) {
	ctx := context.Background()
	out, _, err := Instrument(readTestdata(t, "probe.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	tk := &tank{slice: 1000, left: 1000}
	r := newRuntime(t, tk)
	var seen int64
	_, err = r.NewHostModuleBuilder("host").NewFunctionBuilder().
		WithFunc(func(_ context.Context, m api.Module) {
			g := m.ExportedGlobal(FuelExport).(api.MutableGlobal)
			seen = int64(g.Get())
			g.Set(uint64(seen - 100))
		}).Export("probe").Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := r.InstantiateWithConfig(ctx, out, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		t.Fatal(err)
	}
	m := &metered{mod: mod, tank: tk, fuel: mod.ExportedGlobal(FuelExport).(api.MutableGlobal)}
	res, used, err := m.call("probed")
	if err != nil || res[0] != 7 {
		t.Fatalf("probed() = %v, %v", res, err)
	}
	// The body is one region of 4 instructions, charged on entry.
	if seen != 1000-4 {
		t.Errorf("the host saw %d fuel, want %d", seen, 1000-4)
	}
	if used != 4+100 {
		t.Errorf("used %d fuel, want %d (4 for the guest, 100 charged by the host)", used, 4+100)
	}
}

// table.grow fills its new elements with its operand, as table.fill does, so it
// is charged like it: one unit per 64 elements asked for, granted or not.
func TestTableGrowCharge(t *testing.T) {
	m := instantiateMetered(t, guest.Bytes("tables"), &tank{slice: 1 << 30, left: 1 << 40})
	_, base, err := m.call("grow", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []uint64{63, 64, 6400} {
		if _, used, err := m.call("grow", n); err != nil || used != base+int64(n/64) {
			t.Errorf("grow(%d) used %d fuel (%v), want %d", n, used, err, base+int64(n/64))
		}
	}
}

// TestBulkCharge pins the dynamic charge of bulk memory instructions: one
// unit per 64 bytes on top of the static cost. big_copy in
// testdata/memory.wat is i32.const, i32.const, local.get, i32.const,
// i32.and, memory.copy: 6 units, plus length/64.
func TestBulkCharge(t *testing.T) {
	m := instantiateMetered(t, readTestdata(t, "memory.wasm"), &tank{slice: 1 << 30, left: 1 << 40})
	tests := []struct {
		length uint64
		want   int64
	}{{0, 6}, {63, 6}, {64, 7}, {6400, 106}, {32767, 6 + 511}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.length), func(t *testing.T) {
			_, used, err := m.call("big_copy", tt.length)
			if err != nil {
				t.Fatal(err)
			}
			if used != tt.want {
				t.Errorf("big_copy(%d) used %d fuel, want %d", tt.length, used, tt.want)
			}
		})
	}
}

// TestBulkChecksFirst: a bulk instruction whose length charge runs the fuel
// out refuels before it runs, so a budget it breaks stops it unrun (a fill
// of all memory is one uninterruptible instruction), and the host sees the
// fuel with that charge in it.
func TestBulkChecksFirst(t *testing.T) {
	tk := &tank{slice: 100, left: 100, seen: []int64{}}
	m := instantiateMetered(t, readTestdata(t, "memory.wasm"), tk)
	_, _, err := m.call("big_copy", 32767) // copies "hello, world" from 16 to 4112
	if !errors.Is(err, errOutOfFuel) {
		t.Fatalf("big_copy over the budget: %v, want out of fuel", err)
	}
	if got, _ := m.mod.Memory().Read(4112, 5); string(got) == "hello" {
		t.Error("the copy ran past the budget it broke")
	}
	if want := []int64{-6, 100 - 6 - 511}; !slices.Equal(tk.seen, want) {
		t.Errorf("refuel saw the fuel at %v, want %v (the entry with its 6, then the copy with its 511)", tk.seen, want)
	}

	tk.left = 1 << 20 // with fuel to spare, the copy runs
	if _, used, err := m.call("big_copy", 32767); err != nil || used != 6+511 {
		t.Fatalf("big_copy with fuel: used %d, %v", used, err)
	}
	if got, _ := m.mod.Memory().Read(4112, 5); string(got) != "hello" {
		t.Errorf("memory at 4112 = %q after the copy, want hello", got)
	}
}
