package meter

import (
	"slices"
	"testing"
)

// TestStackPointer checks which global Scan takes for the C stack pointer: the
// one the name section names __stack_pointer, if the module defines it as a
// mutable i32; and that ExportGlobal exports it, leaving the module valid.
func TestStackPointer(t *testing.T) {
	global := func(t byte, mutable byte) []byte { return []byte{t, mutable, 0x41, 0x10, opEnd} } // i32.const 16
	globalImport := cat(str("env"), str("g"), []byte{byte(KindGlobal), valI32, 0x01})
	names := func(pairs ...any) []byte { return nameSection(nameSub(nameGlobals, nameMap(pairs...))) }
	for _, c := range []struct {
		name string
		wasm []byte
		want int // the index, or -1 for none
	}{
		{"named, second", module(sec(secGlobal, vec(global(valI32, 1), global(valI32, 1))), names(0, "counter", 1, "__stack_pointer")), 1},
		{"after an imported global", module(sec(secImport, vec(globalImport)), sec(secGlobal, vec(global(valI32, 1))),
			names(1, "__stack_pointer")), 1},
		{"names first", module(sec(secCustom, str("name"), nameSub(nameGlobals, nameMap(0, "__stack_pointer"))),
			sec(secGlobal, vec(global(valI32, 1)))), 0},
		{"with exports", module(sec(secGlobal, vec(global(valI32, 1))), sec(secExport, vec(cat(str("g"), []byte{byte(KindGlobal)}, leb(0)))),
			names(0, "__stack_pointer")), 0},
		{"with code after", module(sec(secType, vec(fnType(nil, nil))), sec(secFunction, vec(leb(0))), sec(secGlobal, vec(global(valI32, 1))),
			sec(secCode, vec(codeEntry(nil))), names(0, "__stack_pointer")), 0},
		{"no names", module(sec(secGlobal, vec(global(valI32, 1)))), -1},
		{"immutable", module(sec(secGlobal, vec(global(valI32, 0))), names(0, "__stack_pointer")), -1},
		{"i64", module(sec(secGlobal, vec([]byte{valI64, 1, opI64Const, 0, opEnd})), names(0, "__stack_pointer")), -1},
		{"imported", module(sec(secImport, vec(globalImport)), names(0, "__stack_pointer")), -1},
		{"beyond the globals", module(sec(secGlobal, vec(global(valI32, 1))), names(3, "__stack_pointer")), -1},
		{"malformed global names", module(sec(secGlobal, vec(global(valI32, 1))),
			sec(secCustom, str("name"), nameSub(nameGlobals, []byte{5, 0}))), -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := Scan(c.wasm)
			if err != nil {
				t.Fatal(err)
			}
			got := -1
			if m.HasStackPointer {
				got = int(m.StackPointer)
			}
			if got != c.want {
				t.Fatalf("stack pointer %d, want %d", got, c.want)
			}
			if got < 0 {
				return
			}
			out, err := ExportGlobal(c.wasm, m.StackPointer, StackPointerExport)
			if err != nil {
				t.Fatal(err)
			}
			m2, err := Scan(out)
			if err != nil {
				t.Fatalf("the module with the export: %v", err)
			}
			want := Export{Name: StackPointerExport, Kind: KindGlobal, Index: m.StackPointer}
			if !slices.Contains(m2.Exports, want) || len(m2.Exports) != len(m.Exports)+1 {
				t.Errorf("exports %v, want %v added to %v", m2.Exports, want, m.Exports)
			}
		})
	}
}
