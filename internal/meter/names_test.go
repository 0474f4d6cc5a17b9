package meter

import (
	"context"
	"slices"
	"testing"

	"github.com/tetratelabs/wazero"
)

// nameSubsections parses the name section of wasm into subsection bodies.
func nameSubsections(t *testing.T, wasm []byte) map[byte][]byte {
	t.Helper()
	secs, err := splitSections(wasm)
	if err != nil {
		t.Fatal(err)
	}
	subs := map[byte][]byte{}
	for _, s := range secs {
		if s.id != secCustom || s.name != "name" {
			continue
		}
		r := newReader(s.body, 0)
		r.name()
		for !r.done() && r.err == nil {
			id := r.byte()
			subs[id] = r.bytes(r.count(1))
		}
		if r.err != nil {
			t.Fatal(r.err)
		}
	}
	return subs
}

// TestNamesShifted instruments a module clang built, whose name section
// names every function, and checks each name moved with its function.
func TestNamesShifted(t *testing.T) {
	wasm := readTestdata(t, "loops.wasm")
	out, info, err := Instrument(wasm)
	if err != nil {
		t.Fatal(err)
	}
	before, after := funcNamesOf(t, wasm), funcNamesOf(t, out)
	if len(before) == 0 {
		t.Fatal("the corpus module has no function names")
	}
	for idx, name := range before {
		if after[idx+1] != name { // no imports: every function moves up by one
			t.Errorf("function %d: name %q in the output, want %q", idx+1, after[idx+1], name)
		}
	}
	if got := after[info.RefuelFunc]; got != "hotscript.refuel" {
		t.Errorf("the import is named %q", got)
	}
	if len(after) != len(before)+1 {
		t.Errorf("%d names in the output for %d functions and the import", len(after), len(before))
	}

	// wazero reads the same names.
	r := newRuntime(t, &tank{slice: 1 << 20, left: 1 << 30})
	mod, err := r.InstantiateWithConfig(context.Background(), out, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range []string{"fib", "sort", "collatz"} {
		if got := mod.ExportedFunction(fn).Definition().Name(); got != fn {
			t.Errorf("export %s is named %q", fn, got)
		}
	}
}

// funcNamesOf returns the function names of wasm's name section.
func funcNamesOf(t *testing.T, wasm []byte) map[uint32]string {
	t.Helper()
	secs, err := splitSections(wasm)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secs {
		if s.id == secCustom && s.name == "name" {
			return readFuncNames(s)
		}
	}
	return nil
}

// TestNameSubsections checks every subsection keyed by function index, on a
// module with an imported function so the shift starts after it.
func TestNameSubsections(t *testing.T) {
	wasm := cat(module(
		sec(secType, vec(fnType(nil, nil))),
		sec(secImport, vec(cat(str("env"), str("f"), []byte{0x00, 0x00}))),
		sec(secFunction, vec(leb(0), leb(0))),
		sec(secGlobal, vec([]byte{valI32, 0, 0x41, 0, opEnd})),
		sec(secCode, vec(codeEntry(nil), codeEntry(vec(cat(leb(1), []byte{valI32})),
			0x03, 0x40, 0x41, 0x01, 0x21, 0x00, opEnd))), // a loop that sets its local: a save global
	), nameSection(
		nameSub(nameModule, str("m")),
		nameSub(nameFunctions, nameMap(0, "imported", 1, "first", 2, "second")),
		nameSub(nameLocals, vec(cat(leb(2), nameMap(0, "tmp")))),
		nameSub(nameLabels, vec(cat(leb(1), nameMap(0, "l")))),
		nameSub(nameGlobals, nameMap(0, "g")),
		nameSub(9, nameMap(0, "data")),
	))
	out, info, err := Instrument(wasm)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.DroppedSections) != 0 {
		t.Fatalf("dropped %v", info.DroppedSections)
	}
	subs := nameSubsections(t, out)
	tests := []struct {
		name string
		id   byte
		want []byte
	}{
		{"module name", nameModule, str("m")},
		{"functions", nameFunctions, nameMap(0, "imported", 1, "hotscript.refuel", 2, "first", 3, "second")},
		{"locals", nameLocals, vec(cat(leb(3), nameMap(0, "tmp")))},
		{"labels", nameLabels, vec(cat(leb(2), nameMap(0, "l")))},
		{"globals", nameGlobals, nameMap(0, "g", 1, FuelExport, 2, "hotscript.save.0")},
		{"data segments", 9, nameMap(0, "data")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !slices.Equal(subs[tt.id], tt.want) {
				t.Errorf("subsection %d = % x, want % x", tt.id, subs[tt.id], tt.want)
			}
		})
	}
}

func TestCustomSections(t *testing.T) {
	base := oneFunc()
	tests := []struct {
		name    string
		custom  []byte
		kept    bool
		dropped []string
	}{
		{"producers kept", sec(secCustom, str("producers"), []byte{0}), true, nil},
		{"DWARF dropped", sec(secCustom, str(".debug_info"), []byte{1, 2}), false, []string{".debug_info"}},
		{"code metadata dropped", sec(secCustom, str("metadata.code.branch_hint"), []byte{0}), false, []string{"metadata.code.branch_hint"}},
		{"malformed names dropped", sec(secCustom, str("name"), []byte{nameFunctions, 0x05, 0x01}), false, []string{"name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, info, err := Instrument(cat(base, tt.custom))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(info.DroppedSections, tt.dropped) {
				t.Errorf("DroppedSections = %q, want %q", info.DroppedSections, tt.dropped)
			}
			secs, _ := splitSections(out)
			kept := secs[len(secs)-1].id == secCustom
			if kept != tt.kept {
				t.Errorf("kept = %v, want %v", kept, tt.kept)
			}
		})
	}
}
