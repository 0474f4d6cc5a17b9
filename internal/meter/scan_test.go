package meter

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hotscript/hotscript/internal/guest"
	"github.com/tetratelabs/wazero"
)

func TestScan(t *testing.T) {
	funcType := sec(secType, vec(fnType(nil, nil)))
	tests := []struct {
		name string
		wasm []byte
		want Interface
	}{
		{"empty module", module(), Interface{}},
		{"imports of every kind", module(funcType, sec(secImport, vec(
			cat(str("host"), str("log"), []byte{0x00}, leb(0)),
			cat(str("env"), str("table"), []byte{0x01, valFuncref, 0x00}, leb(1)),
			cat(str("env"), str("mem"), []byte{0x02, 0x01}, leb(1), leb(4)),
			cat(str("env"), str("g"), []byte{0x03, valI32, 0x00}),
		))), Interface{
			Imports:  []Import{{"host", "log", KindFunc}, {"env", "table", KindTable}, {"env", "mem", KindMemory}, {"env", "g", KindGlobal}},
			Memories: []Memory{{Min: 1, Max: 4, HasMax: true, Imported: true}},
		}},
		{"defined memory and exports", module(funcType,
			sec(secFunction, vec(leb(0))),
			sec(secMemory, vec(cat([]byte{0x00}, leb(2)))),
			sec(secExport, vec(cat(str("run"), []byte{0x00}, leb(0)), cat(str("memory"), []byte{0x02}, leb(0)))),
			sec(secCode, vec(codeEntry(nil))),
		), Interface{
			Exports:  []Export{{"run", KindFunc, 0}, {"memory", KindMemory, 0}},
			Memories: []Memory{{Min: 2}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Scan(tt.wasm)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Scan = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// Scan sees the names Instrument adds.
func TestScanInstrumented(t *testing.T) {
	out, _, err := Instrument(oneFunc())
	if err != nil {
		t.Fatal(err)
	}
	m, err := Scan(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Import{{ImportModule, ImportName, KindFunc}}; !reflect.DeepEqual(m.Imports, want) {
		t.Errorf("imports = %v, want %v", m.Imports, want)
	}
	if want := []Export{{FuelExport, KindGlobal, 0}}; !reflect.DeepEqual(m.Exports, want) {
		t.Errorf("exports = %v, want %v", m.Exports, want)
	}
}

func TestScanMalformed(t *testing.T) {
	tests := []struct {
		name string
		wasm []byte
		want error
		text string
	}{
		{"empty", nil, ErrMalformed, "truncated header"},
		{"not wasm", []byte("this is not wasm at all"), ErrMalformed, "header"},
		{"section too long", cat(header, []byte{secImport, 10, 0}), ErrMalformed, "at byte"},
		{"import name past the section", module(sec(secImport, []byte{1, 9, 'a'})), ErrMalformed, "at byte"},
		{"unknown import kind", module(sec(secImport, vec(cat(str("a"), str("b"), []byte{0x09, 0})))), ErrMalformed, "import kind"},
		{"tag import", module(sec(secImport, vec(cat(str("a"), str("b"), []byte{0x04, 0, 0})))), ErrUnsupported, "exception"},
		{"export kind", module(sec(secExport, vec(cat(str("x"), []byte{0x09, 0x00})))), ErrMalformed, "kind"},
		{"trailing bytes", module(sec(secExport, vec(), []byte{0})), ErrMalformed, "trailing"},
		{"64-bit memory", module(sec(secMemory, vec([]byte{0x04, 0x01}))), ErrUnsupported, "64-bit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Scan(tt.wasm)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("Scan = %v, want %v mentioning %q", err, tt.want, tt.text)
			}
		})
	}
}

// FuzzScan checks that Scan never panics, and that wazero decodes whatever
// it accepts without crashing: Scan is what stands between wazero's
// decoder, which allocates for the counts it reads, and untrusted bytes.
func FuzzScan(f *testing.F) {
	f.Add(oneFunc())
	f.Add(module(sec(secImport, vec(cat(str("a"), str("b"), []byte{0x02, 0x00, 0x01})))))
	for _, tt := range hostileCounts {
		f.Add(tt.wasm)
	}
	for _, tt := range wazeroEncodings {
		f.Add(tt.wasm)
	}
	f.Add(module(sec(secType, vec(fnType(nil, nil))), sec(secFunction, vec(leb(0), leb(0))),
		sec(secCode, vec(codeEntry(vec(cat(leb(3), []byte{valI32}))), codeEntry(nil, 0x41, 0x01, 0x1a))),
		sec(secData, vec(cat([]byte{0x01}, str("abc")))),
		nameSection(nameSub(nameFunctions, nameMap(0, "f", 1, "g")), nameSub(nameLocals, vec(cat(leb(0), nameMap(0, "x")))))))
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	f.Cleanup(func() { r.Close(ctx) })
	f.Fuzz(func(t *testing.T, wasm []byte) {
		if _, err := Scan(wasm); err != nil {
			return
		}
		if m, err := r.CompileModule(ctx, wasm); err == nil {
			m.Close(ctx)
		}
	})
}

// Modules whose counts claim more than their bytes hold, or that declare
// more than the limits allow, each a few bytes long: wazero would allocate
// gigabytes for most of them, or take seconds to compile the others.
var hostileCounts = []struct {
	name string
	wasm []byte
	want error
	text string
}{
	{"types", module(sec(secType, leb(1<<32-1))), ErrMalformed, "type section: 4294967295 types"},
	{"rec group", module(sec(secType, vec(cat([]byte{formRec}, leb(1<<32-1))))), ErrMalformed, "recursion group at type 0: 4294967295 types"},
	{"params", module(sec(secType, leb(1), []byte{formFunc}, leb(1<<32-1))), ErrMalformed, "type 0: 4294967295 parameters"},
	{"results of the second type", module(sec(secType, leb(2), fnType(nil, nil), []byte{formFunc, 0}, leb(1<<32-1))), ErrMalformed, "type 1: 4294967295 results"},
	{"imports", module(sec(secImport, leb(1<<32-1))), ErrMalformed, "import section: 4294967295 imports"},
	{"import module name", module(sec(secImport, leb(1), leb(1<<32-1))), ErrMalformed, "import section: module name of 4294967295 bytes"},
	{"functions", module(sec(secFunction, leb(1<<32-1))), ErrMalformed, "function section: 4294967295 functions"},
	{"tables", module(sec(secTable, leb(1<<32-1))), ErrMalformed, "table section: 4294967295 tables"},
	{"memories", module(sec(secMemory, leb(1<<32-1))), ErrMalformed, "memory section: 4294967295 memories"},
	{"globals", module(sec(secGlobal, leb(1<<32-1))), ErrMalformed, "global section: 4294967295 globals"},
	{"exports", module(sec(secExport, leb(1<<32-1))), ErrMalformed, "export section: 4294967295 exports"},
	{"export name", module(sec(secExport, leb(1), leb(1<<32-1))), ErrMalformed, "export section: name of 4294967295 bytes"},
	{"element segments", module(sec(secElement, leb(1<<32-1))), ErrMalformed, "element section: 4294967295 segments"},
	{"element indices after a table index", module(sec(secElement, leb(1), []byte{0x02, 0x00, 0x41, 0x00, opEnd, 0x00}, leb(1<<32-1))),
		ErrMalformed, "element segment 0: 4294967295 function indices"},
	{"element expressions", module(sec(secElement, leb(2), []byte{0x01, 0x00, 0x00}, []byte{0x07, valFuncref}, leb(1<<32-1))),
		ErrMalformed, "element segment 1: 4294967295 expressions"},
	{"bodies", module(sec(secCode, leb(1<<32-1))), ErrMalformed, "code section: 4294967295 bodies"},
	{"body size", module(sec(secCode, leb(1), leb(1<<32-1), []byte{0, opEnd})), ErrMalformed, "function 0: body of 4294967295 bytes"},
	{"local declarations", module(sec(secCode, leb(1), leb(6), leb(1<<32-1), []byte{opEnd})), ErrMalformed, "function 0: 4294967295 local declarations"},
	{"data segments", module(sec(secData, leb(1<<32-1))), ErrMalformed, "data section: 4294967295 segments"},
	{"data bytes after a memory index", module(sec(secData, leb(1), []byte{0x02, 0x00, 0x41, 0x00, opEnd}, leb(1<<32-1))),
		ErrMalformed, "data segment 0: contents of 4294967295 bytes"},
	{"name subsection", module(nameSection([]byte{nameFunctions}, leb(1<<32-1))), ErrMalformed, "name section: subsection of 4294967295 bytes"},
	{"function names", module(nameSection(nameSub(nameFunctions, leb(1<<32-1)))), ErrMalformed, "name section: 4294967295 function names"},
	{"functions with local names", module(nameSection(nameSub(nameLocals, leb(1<<32-1)))), ErrMalformed, "name section: 4294967295 functions with local names"},
	{"local names", module(nameSection(nameSub(nameLocals, cat(leb(1), leb(0), leb(1<<32-1))))), ErrMalformed, "name section: 4294967295 local names"},
	{"a local name", module(nameSection(nameSub(nameLocals, cat(leb(1), leb(0), leb(1), leb(0), leb(1<<32-1))))), ErrMalformed, "name section: name of 4294967295 bytes"},
	{"module name", module(nameSection(nameSub(nameModule, leb(1<<32-1)))), ErrMalformed, "name section: module name of 4294967295 bytes"},
	{"a subsection longer than its names", module(nameSection(nameSub(nameFunctions, cat(nameMap(0, "f"), []byte{0})))), ErrMalformed, "trailing bytes in subsection 1"},
	{"a function's locals", localsModule(1, 1<<32-1), ErrUnsupported, "function 0: declares 4294967295 locals, more than the 50000"},
	{"locals one over", localsModule(1, MaxFunctionLocals+1), ErrUnsupported, "function 0: declares 50001 locals"},
	{"locals in all", localsModule(MaxModuleLocals/MaxFunctionLocals+1, MaxFunctionLocals), ErrUnsupported, "function 20: brings the locals in all to 1050000, more than the 1048576"},
	{"parameters as locals", paramsModule(MaxModuleLocals/MaxParams+1, MaxParams), ErrUnsupported, "the parameters of its functions are 1049000 locals in all, more than the 1048576"},
	{"params one over", module(sec(secType, vec(fnType(bytes.Repeat([]byte{valI32}, MaxParams+1), nil)))), ErrUnsupported, "type 0: 1001 parameters, more than the 1000"},
	{"results one over", module(sec(secType, vec(fnType(nil, bytes.Repeat([]byte{valI32}, MaxResults+1))))), ErrUnsupported, "type 0: 1001 results, more than the 1000"},
}

func TestScanCounts(t *testing.T) {
	for _, tt := range hostileCounts {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Scan(tt.wasm)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("Scan = %v, want %v mentioning %q", err, tt.want, tt.text)
			}
		})
	}
}

// localsModule is a module of n functions of type [] -> [] that declare
// locals i32 locals each.
func localsModule(n int, locals uint64) []byte {
	entry := codeEntry(vec(cat(leb(locals), []byte{valI32})))
	return module(
		sec(secType, vec(fnType(nil, nil))),
		sec(secFunction, leb(uint64(n)), make([]byte, n)),
		sec(secCode, leb(uint64(n)), bytes.Repeat(entry, n)),
	)
}

// paramsModule is a module of n functions of one type of params i32
// parameters, with empty bodies: 1,000 parameters each made 60,000 of them,
// 240 KB, take wazero 6 s to load, 15 s metered.
func paramsModule(n, params int) []byte {
	return module(
		sec(secType, vec(fnType(bytes.Repeat([]byte{valI32}, params), nil))),
		sec(secFunction, leb(uint64(n)), make([]byte, n)),
		sec(secCode, leb(uint64(n)), bytes.Repeat(codeEntry(nil), n)),
	)
}

// Encodings wazero decodes that the instrumenter does not: Scan must read
// them as wazero does, neither refusing them nor losing its place.
var wazeroEncodings = []struct {
	name string
	wasm []byte
}{
	{"typed reference parameters", module(sec(secType, vec(cat([]byte{formFunc}, leb(2), []byte{refNull, valFuncref, refNonNull, valExternref}, leb(0)))))},
	{"recursion group", module(sec(secType, vec(cat([]byte{formRec}, vec(fnType(nil, nil), fnType([]byte{valI32}, nil))))),
		sec(secFunction, vec(leb(1))), sec(secCode, vec(codeEntry(nil))))},
	{"exnref parameter", module(sec(secType, vec(fnType([]byte{valExnref}, nil))))},
	{"table with an initializer", module(sec(secTable, vec([]byte{tableInit, 0x00, valFuncref, 0x00, 0x01, 0xd0, valFuncref, opEnd})))},
	{"typed null global", module(sec(secType, vec(fnType(nil, nil))), sec(secGlobal, vec([]byte{refNull, 0x00, 0x00, 0xd0, 0x00, opEnd})))},
	{"typed reference local", module(sec(secType, vec(fnType(nil, nil))), sec(secFunction, vec(leb(0))),
		sec(secCode, vec(codeEntry(vec([]byte{0x02, refNull, valFuncref})))))},
	{"typed element segment", module(sec(secElement, vec([]byte{0x05, refNull, valFuncref, 0x00})))},
	{"every constant", module(sec(secImport, vec(cat(str("env"), str("g"), []byte{0x03, valI32, 0x00}))), sec(secGlobal, vec(
		[]byte{valI32, 0x00, 0x41, 0x80, 0x01, opEnd},
		[]byte{valI64, 0x00, 0x42, 0x7f, opEnd},
		cat([]byte{valF32, 0x00, 0x43}, make([]byte, 4), []byte{opEnd}),
		cat([]byte{valF64, 0x00, 0x44}, make([]byte, 8), []byte{opEnd}),
		cat([]byte{valV128, 0x00, 0xfd, 0x0c}, make([]byte, 16), []byte{opEnd}),
		[]byte{valExternref, 0x00, 0xd0, valExternref, opEnd},
		[]byte{valI32, 0x00, 0x23, 0x00, opEnd},
	)))},
	{"every data segment form", module(sec(secMemory, vec([]byte{0x00, 0x01})), sec(secDataCount, leb(3)), sec(secData, vec(
		cat([]byte{0x00, 0x41, 0x00, opEnd}, str("a")),
		cat([]byte{0x01}, str("b")),
		cat([]byte{0x02, 0x00, 0x41, 0x01, opEnd}, str("c")),
	)))},
	{"names engines skip", module(nameSection(nameSub(nameLabels, []byte{0xff}), nameSub(nameGlobals, []byte{0x05})))},
}

func TestScanAcceptsWhatWazeroDecodes(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	for _, tt := range wazeroEncodings {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := r.CompileModule(ctx, tt.wasm); err != nil {
				t.Fatalf("wazero refuses the module: %v", err)
			}
			if _, err := Scan(tt.wasm); err != nil {
				t.Errorf("Scan = %v", err)
			}
		})
	}
}

// Every module of the corpus passes Scan, and so does its instrumented
// version, which declares up to two more locals per function: Scan allows
// them to a module that imports ImportModule.ImportName.
func TestScanCorpus(t *testing.T) {
	mods := corpus(t)
	mods["at the limits"] = localsModule(MaxModuleLocals/MaxFunctionLocals, MaxFunctionLocals)
	mods["one function at the limit, with a bulk instruction"] = module(
		sec(secType, vec(fnType(nil, nil))),
		sec(secFunction, vec(leb(0))),
		sec(secMemory, vec([]byte{0x00, 0x01})),
		sec(secCode, vec(codeEntry(vec(cat(leb(MaxFunctionLocals), []byte{valI32})),
			0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xfc, 0x0b, 0x00))), // memory.fill
	)
	for name, wasm := range mods {
		if _, err := Scan(wasm); err != nil {
			t.Errorf("%s: Scan = %v", name, err)
			continue
		}
		out, _, err := Instrument(wasm)
		if err != nil {
			t.Errorf("%s: Instrument = %v", name, err)
			continue
		}
		if _, err := Scan(out); err != nil {
			t.Errorf("%s, instrumented: Scan = %v", name, err)
		}
	}
	// Without the import, the two locals are over the limit.
	if _, err := Scan(localsModule(1, MaxFunctionLocals+instrumentLocals)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Scan of %d locals = %v, want ErrUnsupported", MaxFunctionLocals+instrumentLocals, err)
	}
}

// BenchmarkScan reads a module of about 4 MB of code (see syntheticModule)
// and reports the time per megabyte; it allocates a few dozen times per module
// (the Interface, the flow check's tables), not per function. See
// BenchmarkScanVersusCompile in package wasm for the cost against wazero's
// compile.
func BenchmarkScan(b *testing.B) {
	wasm := syntheticModule(1000, 64)
	b.SetBytes(int64(len(wasm)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Scan(wasm); err != nil {
			b.Fatal(err)
		}
	}
}

// DWARF whose units name overlapping abbreviation tables is refused: Go's
// debug/dwarf, which wazero runs on any module with DWARF, parses the table
// at each offset a unit names, so n units naming offsets into one table of n
// entries cost n² (5,000 of them, 95 KB: 2.8 s and 1.9 GB). Each variant
// below is read one way by a check that approximates debug/dwarf and another
// by debug/dwarf; each passed such a check. Real DWARF, tables of their own
// or shared, passes.
func TestScanOverlappingAbbrevs(t *testing.T) {
	abbrevModule := func(n int, variant string, overlap bool) []byte {
		var abbrev, info []byte
		offs := make([]int, n)
		zero := append(bytes.Repeat([]byte{0x80}, 9), 0x02) // 0 to debug/dwarf: its bit lies past 64
		for i := range n {
			offs[i] = len(abbrev)
			switch variant {
			case "long codes": // an 11-byte code, which a strict reader refuses
				abbrev = append(abbrev, byte(i%127+1)|0x80)
				abbrev = append(abbrev, bytes.Repeat([]byte{0x80}, 9)...)
				abbrev = append(abbrev, 0)
			default:
				abbrev = AppendULEB(abbrev, uint64(i+1))
			}
			switch variant {
			case "implicit_const in two bytes": // a name of form implicit_const (a1 00), value 0
				abbrev = append(abbrev, 0x11, 0, 0x03, 0xa1, 0x00, 0x00, 0, 0)
			case "numbers past 64 bits": // an end of attributes, then an entry the check took for the table's end
				abbrev = append(abbrev, 0x11, 0)
				abbrev = append(append(abbrev, zero...), zero...)
				abbrev = AppendULEB(abbrev, uint64(n+i+1))
				abbrev = append(abbrev, 0, 0, 0, 0)
			default:
				abbrev = append(abbrev, 0x11, 0, 0, 0) // a compile unit, no children, no attributes
			}
			if !overlap {
				abbrev = append(abbrev, 0) // each its own table
			}
		}
		abbrev = append(abbrev, 0)
		for i := range n {
			switch variant {
			case "64-bit big-endian", "64-bit little-endian", "64-bit length past 32 bits":
				var order binary.AppendByteOrder = binary.BigEndian
				length, pad := uint64(2+8+1+1), uint64(0)
				switch {
				case variant == "64-bit little-endian":
					order = binary.LittleEndian
					if i == 0 {
						length = 0x100 // a zero low byte, where a sniff at 4 finds a version 0x??00
						pad = length - 12
					}
				case variant == "64-bit length past 32 bits":
					order = binary.LittleEndian
					if i == 0 {
						length |= 1 << 32 // debug/dwarf keeps 32 bits of it: 12
					}
				}
				info = append(info, 0xff, 0xff, 0xff, 0xff)
				info = order.AppendUint64(info, length)
				info = order.AppendUint16(info, 4)
				info = order.AppendUint64(info, uint64(offs[i]))
				info = append(info, 4, 1)
				info = append(info, make([]byte, pad)...)
			default:
				var order binary.AppendByteOrder = binary.LittleEndian
				if variant == "big-endian" {
					order = binary.BigEndian
				}
				info = order.AppendUint32(info, 2+4+1+1)
				info = order.AppendUint16(info, 4)
				info = order.AppendUint32(info, uint32(offs[i]))
				info = append(info, 4, 1) // the address size, a unit of abbreviation 1
			}
		}
		m := append([]byte{}, header...)
		for _, s := range []struct {
			name string
			body []byte
		}{{".debug_abbrev", abbrev}, {".debug_info", info}, {".debug_line", []byte{0}}} {
			m = appendSection(m, secCustom, append(appendName(nil, s.name), s.body...))
		}
		return m
	}
	for _, variant := range []string{"plain", "long codes", "big-endian", "implicit_const in two bytes",
		"numbers past 64 bits", "64-bit big-endian", "64-bit little-endian", "64-bit length past 32 bits"} {
		if _, err := Scan(abbrevModule(5000, variant, true)); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "overlap") {
			t.Errorf("%s, overlapping: Scan = %v, want ErrUnsupported", variant, err)
		}
		if _, err := Scan(abbrevModule(5000, variant, false)); err != nil {
			t.Errorf("%s, a table per unit: Scan = %v", variant, err)
		}
	}
	if _, err := Scan(guest.Bytes("lines_debug")); err != nil {
		t.Errorf("clang's DWARF: Scan = %v", err)
	}
}
