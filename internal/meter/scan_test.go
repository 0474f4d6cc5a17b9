package meter

import (
	"errors"
	"reflect"
	"strings"
	"testing"
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

func FuzzScan(f *testing.F) {
	f.Add(oneFunc())
	f.Add(module(sec(secImport, vec(cat(str("a"), str("b"), []byte{0x02, 0x00, 0x01})))))
	f.Fuzz(func(t *testing.T, wasm []byte) {
		_, _ = Scan(wasm) // must not panic
	})
}
