package meter

import (
	"bytes"
	"context"
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

// TestMemoriesAsDeclared shows that Instrument copies the memory section as
// it is: the host limits memory where its engine allocates it (package wasm
// gives wazero an allocator), so memory.grow reaches the declared maximum.
func TestMemoriesAsDeclared(t *testing.T) {
	tests := []struct {
		name   string
		limits []byte   // flags, min[, max]
		grows  []uint64 // successive grow arguments
		want   []int32  // their results
		size   uint64   // pages at the end
	}{
		{"no max", []byte{0x00, 0x01}, []uint64{20}, []int32{1}, 21},
		{"max", []byte{0x01, 0x01, 0x02}, []uint64{1, 1}, []int32{1, -1}, 2},
		{"shared memory", []byte{0x03, 0x01, 0x08}, []uint64{7, 1}, []int32{1, -1}, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := Instrument(memModule(tt.limits...))
			if err != nil {
				t.Fatal(err)
			}
			secs, err := splitSections(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range secs {
				if s.id == secMemory && !bytes.Equal(s.body, vec(tt.limits)) {
					t.Errorf("memory section = % x, want % x", s.body, vec(tt.limits))
				}
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

// TestImportedMemoryUntouched shows that imported memories are left to the
// host.
func TestImportedMemoryUntouched(t *testing.T) {
	imp := sec(secImport, vec(cat(str("env"), str("mem"), []byte{0x02, 0x00, 0x10})))
	out, _, err := Instrument(module(imp))
	if err != nil {
		t.Fatal(err)
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
