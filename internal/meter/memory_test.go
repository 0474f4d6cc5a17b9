package meter

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
)

// memModule defines one memory with the given limits and exports
// grow(pages) -> old size or -1, and size() -> pages.
func memModule(limits ...byte) []byte {
	return module(
		sec(secType, vec(fnType([]byte{valI32}, []byte{valI32}), fnType(nil, []byte{valI32}))),
		sec(secFunction, vec(leb(0), leb(1))),
		sec(secMemory, vec(limits)),
		sec(secExport, vec(cat(str("grow"), []byte{0x00, 0x00}), cat(str("size"), []byte{0x00, 0x01}))),
		sec(secCode, vec(codeEntry(nil, 0x20, 0x00, 0x40, 0x00), codeEntry(nil, 0x3f, 0x00))),
	)
}

func TestMemoryCap(t *testing.T) {
	tests := []struct {
		name   string
		limits []byte // flags, min[, max]
		cap    uint32
		grows  []uint64 // successive grow arguments
		want   []int32  // their results
		size   uint64   // pages at the end
	}{
		{"no max gets the cap", []byte{0x00, 0x01}, 4, []uint64{3, 1}, []int32{1, -1}, 4},
		{"lower max kept", []byte{0x01, 0x01, 0x02}, 4, []uint64{1, 1}, []int32{1, -1}, 2},
		{"higher max lowered", []byte{0x01, 0x01, 0x0a}, 4, []uint64{2, 2, 1}, []int32{1, -1, 3}, 4},
		{"min equal to the cap", []byte{0x00, 0x04}, 4, []uint64{0, 1}, []int32{4, -1}, 4},
		{"shared memory", []byte{0x03, 0x01, 0x08}, 2, []uint64{1, 1}, []int32{1, -1}, 2},
		{"no cap", []byte{0x00, 0x01}, 0, []uint64{20}, []int32{1}, 21},
		{"cap above the 32-bit limit", []byte{0x00, 0x01}, 1 << 20, []uint64{1}, []int32{1}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, info, err := Instrument(memModule(tt.limits...), Config{MaxMemoryPages: tt.cap})
			if err != nil {
				t.Fatal(err)
			}
			if capped := tt.cap != 0 && (tt.limits[0]&1 == 0 || tt.limits[2] > byte(tt.cap)); capped != (info.CappedMemories == 1) {
				t.Errorf("CappedMemories = %d", info.CappedMemories)
			}
			r := newRuntime(t, &tank{slice: 1 << 20, left: 1 << 30})
			mod, err := r.InstantiateWithConfig(context.Background(), out, wazero.NewModuleConfig().WithName(""))
			if err != nil {
				t.Fatal(err)
			}
			for i, n := range tt.grows {
				res, err := mod.ExportedFunction("grow").Call(context.Background(), n)
				if err != nil {
					t.Fatal(err)
				}
				if got := int32(res[0]); got != tt.want[i] {
					t.Errorf("grow(%d) = %d, want %d", n, got, tt.want[i])
				}
			}
			res, err := mod.ExportedFunction("size").Call(context.Background())
			if err != nil || res[0] != tt.size {
				t.Errorf("size() = %v, %v; want %d", res, err, tt.size)
			}
		})
	}
}

func TestMemoryTooLarge(t *testing.T) {
	_, _, err := Instrument(memModule(0x01, 0x05, 0x10), Config{MaxMemoryPages: 4})
	if !errors.Is(err, ErrMemoryTooLarge) {
		t.Fatalf("err = %v, want ErrMemoryTooLarge", err)
	}
	for _, want := range []string{"5 pages (327680 bytes)", "4 pages (262144 bytes)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %q, want it to say %q", err, want)
		}
	}
}

// TestImportedMemoryUntouched shows that imported memories are left to the
// host, even when they are larger than the cap.
func TestImportedMemoryUntouched(t *testing.T) {
	imp := sec(secImport, vec(cat(str("env"), str("mem"), []byte{0x02, 0x00, 0x10})))
	out, info, err := Instrument(module(imp), Config{MaxMemoryPages: 1})
	if err != nil {
		t.Fatal(err)
	}
	if info.CappedMemories != 0 {
		t.Errorf("CappedMemories = %d", info.CappedMemories)
	}
	secs, err := splitSections(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secs {
		if s.id == secImport && !strings.Contains(string(s.body), string(cat(str("mem"), []byte{0x02, 0x00, 0x10}))) {
			t.Errorf("the imported memory changed: % x", s.body)
		}
	}
}
