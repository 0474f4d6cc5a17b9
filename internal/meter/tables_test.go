package meter

import (
	"errors"
	"testing"
)

// tableLimits reads back the limits of the tables a module defines.
func tableLimits(t *testing.T, wasm []byte) (mins, maxes []uint64) {
	t.Helper()
	secs, err := splitSections(wasm)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secs {
		if s.id != secTable {
			continue
		}
		r := newReader(s.body, s.base)
		for range r.count(3) {
			_, min, max, hasMax := readTableType(r)
			if !hasMax {
				max = 1 << 40 // none
			}
			mins, maxes = append(mins, min), append(maxes, max)
		}
		if r.err != nil {
			t.Fatal(r.err)
		}
	}
	return mins, maxes
}

func TestCapTables(t *testing.T) {
	table := func(typ byte, limits ...byte) []byte { return append([]byte{typ}, limits...) }
	withTables := func(tables ...[]byte) []byte {
		return module(sec(secType, vec(fnType(nil, nil))), sec(secTable, vec(tables...)),
			sec(secCustom, str("after"), []byte("kept")))
	}
	tests := []struct {
		name      string
		wasm      []byte
		cap       uint64
		wantMaxes []uint64
		same      bool // returned as it is
	}{
		{"no table section", oneFunc(), 10, nil, true},
		{"no maximum", withTables(table(valFuncref, 0x00, 1)), 1000, []uint64{1000}, false},
		{"shared out", withTables(table(valFuncref, 0x00, 2), table(valExternref, 0x01, 3, 5)), 100, []uint64{2 + 47, 5}, false},
		{"maximum over the share", withTables(table(valFuncref, 0x01, 0, 0xe8, 0x07)), 100, []uint64{100}, false}, // max 1000
		{"already within", withTables(table(valFuncref, 0x01, 1, 1), table(valFuncref, 0x01, 0, 10)), 100, []uint64{1, 10}, true},
		{"capped at 32 bits", withTables(table(valFuncref, 0x00, 0)), 1 << 40, []uint64{1<<32 - 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := CapTables(tt.wasm, tt.cap)
			if err != nil {
				t.Fatal(err)
			}
			if same := len(out) > 0 && &out[0] == &tt.wasm[0]; same != tt.same {
				t.Fatalf("returned the input as it is: %v, want %v", same, tt.same)
			}
			wantMins, _ := tableLimits(t, tt.wasm)
			mins, maxes := tableLimits(t, out)
			for i := range maxes {
				if mins[i] != wantMins[i] || maxes[i] != tt.wantMaxes[i] {
					t.Errorf("table %d: limits %d..%d, want %d..%d", i, mins[i], maxes[i], wantMins[i], tt.wantMaxes[i])
				}
			}
			if _, err := Scan(out); err != nil {
				t.Errorf("the output does not scan: %v", err)
			}
			secs, _ := splitSections(out)
			if last := secs[len(secs)-1]; last.id == secCustom && last.name != "after" {
				t.Errorf("the custom section after the tables was lost")
			}
		})
	}
}

func TestCapTablesRefuses(t *testing.T) {
	two := module(sec(secTable, vec([]byte{valFuncref, 0x00, 6}, []byte{valFuncref, 0x00, 5})))
	if _, err := CapTables(two, 10); !errors.Is(err, ErrMemoryTooLarge) {
		t.Errorf("tables starting at 11 elements under a cap of 10: %v, want ErrMemoryTooLarge", err)
	}
	if _, err := CapTables(two, 11); err != nil {
		t.Errorf("tables starting at exactly the cap: %v", err)
	}
	for name, bad := range map[string][]byte{
		"element type": module(sec(secTable, vec([]byte{0x7f, 0x00, 1}))),
		"limits flags": module(sec(secTable, vec([]byte{valFuncref, 0x05, 1}))),
		"truncated":    module(sec(secTable, vec([]byte{valFuncref, 0x01, 1}))),
		"trailing":     module(sec(secTable, vec([]byte{valFuncref, 0x00, 1}), []byte{0})),
	} {
		if _, err := CapTables(bad, 100); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}
