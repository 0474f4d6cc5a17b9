package wasm_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/meter"
	"github.com/hotscript/hotscript/wasm"
)

// Modules of a few bytes whose counts claim far more entries than they hold, or
// far more locals than any compiler declares. wazero's decoder allocates for a
// count before it reads the entries, and its compilers allocate for every local,
// so each of these would end the process with "fatal error: runtime: out of
// memory" (or, for the last ones, take seconds and gigabytes) if it reached
// wazero. Each must fail to load with an ordinary ErrCompile.
var hostileModules = []struct {
	name string
	wasm []byte
	want []string // substrings of the error
}{
	{"data section count", []byte("\x00asm\x01\x00\x00\x00\x0b\x05\xff\xff\xff\xff\x0f"),
		[]string{"data section", "4294967295 segments"}},
	{"data segment length", moduleOf(sectionOf(11, uleb(1), []byte{0x01}, uleb(1<<32-1))),
		[]string{"data segment 0", "4294967295 bytes"}},
	{"global section count", moduleOf(sectionOf(6, uleb(1<<32-1))),
		[]string{"global section", "4294967295 globals"}},
	{"element section count", moduleOf(sectionOf(9, uleb(1<<32-1))),
		[]string{"element section", "4294967295 segments"}},
	{"element segment items", moduleOf(sectionOf(9, uleb(1), []byte{0x01, 0x00}, uleb(1<<32-1))),
		[]string{"element segment 0", "4294967295 function indices"}},
	{"element segment expressions", moduleOf(sectionOf(9, uleb(1), []byte{0x05, 0x70}, uleb(1<<32-1))),
		[]string{"element segment 0", "4294967295 expressions"}},
	{"import section count", moduleOf(sectionOf(2, uleb(1<<32-1))),
		[]string{"import section", "4294967295 imports"}},
	{"function section count", moduleOf(sectionOf(3, uleb(1<<32-1))),
		[]string{"function section", "4294967295 functions"}},
	{"table section count", moduleOf(sectionOf(4, uleb(1<<32-1))),
		[]string{"table section", "4294967295 tables"}},
	{"export section count", moduleOf(sectionOf(7, uleb(1<<32-1))),
		[]string{"export section", "4294967295 exports"}},
	{"export name length", moduleOf(sectionOf(7, uleb(1), uleb(1<<32-1))),
		[]string{"export section", "name of 4294967295 bytes"}},
	{"code section count", moduleOf(sectionOf(10, uleb(1<<32-1))),
		[]string{"code section", "4294967295 bodies"}},
	{"code body size", moduleOf(sectionOf(1, uleb(1), []byte{0x60, 0, 0}), sectionOf(3, uleb(1), uleb(0)),
		sectionOf(10, uleb(1), uleb(1<<32-1), []byte{0, 0x0b})),
		[]string{"function 0", "body of 4294967295 bytes"}},
	{"type params", moduleOf(sectionOf(1, uleb(1), []byte{0x60}, uleb(1<<32-1))),
		[]string{"type 0", "4294967295 parameters"}},
	{"type results", moduleOf(sectionOf(1, uleb(1), []byte{0x60, 0}, uleb(1<<32-1))),
		[]string{"type 0", "4294967295 results"}},
	{"name section function names", moduleOf(sectionOf(0, []byte("\x04name"),
		[]byte{1}, uleb(5), uleb(1<<32-1))),
		[]string{"name section", "4294967295 function names"}},
	{"name section local names", moduleOf(sectionOf(0, []byte("\x04name"),
		[]byte{2}, uleb(7), uleb(1), uleb(0), uleb(1<<32-1))),
		[]string{"name section", "4294967295 local names"}},
	{"name section module name", moduleOf(sectionOf(0, []byte("\x04name"),
		[]byte{0}, uleb(5), uleb(1<<32-1))),
		[]string{"name section", "name of 4294967295 bytes"}},
	{"2^32-1 locals in one function", manyLocals(1, 1<<32-1),
		[]string{"function 0", "4294967295 locals", "50000"}},
	{"100M locals in one function", manyLocals(1, 100_000_000),
		[]string{"function 0", "100000000 locals", "50000"}},
	{"1,048,000 locals in each of 4000 functions", manyLocals(4000, 1_048_000),
		[]string{"function 0", "1048000 locals", "50000"}},
	{"50,000 locals in each of 4000 functions", manyLocals(4000, 50_000),
		[]string{"locals in all", "1048576"}},
	{"1,001 parameters", moduleOf(sectionOf(1, uleb(1), []byte{0x60}, uleb(1001), bytes.Repeat([]byte{0x7f}, 1001), uleb(0))),
		[]string{"type 0", "1001 parameters", "1000"}},
}

// Every hostile module fails to load, metered or not, to reload and to
// Inspect, with an ordinary error, before wazero sees it.
func TestHostileCountsRefused(t *testing.T) {
	for _, lim := range []struct {
		name string
		lim  wasm.Limits
	}{
		{"no limits", wasm.Limits{}},
		{"memory limit", wasm.Limits{MaxMemoryBytes: 16 << 20}},
		{"metered", wasm.Limits{MaxMemoryBytes: 16 << 20, MaxInstructions: 10_000_000, MaxExecutionTime: 50 * time.Millisecond}},
	} {
		rt := newRuntime(t, lim.lim)
		for _, tt := range hostileModules {
			t.Run(lim.name+"/"+tt.name, func(t *testing.T) {
				start := time.Now()
				_, err := rt.Load(ctx, "hostile.wasm", tt.wasm, nil)
				wantErr(t, err, []error{wasm.ErrCompile}, append([]string{"hostile.wasm"}, tt.want...)...)
				if d := time.Since(start); d > time.Second {
					t.Errorf("refusing a %d-byte module took %v", len(tt.wasm), d)
				}
			})
		}
		id := load(t, rt, "add_v1", nil)
		for _, tt := range hostileModules {
			err := rt.ReloadModule(ctx, id, tt.wasm)
			wantErr(t, err, []error{wasm.ErrCompile}, tt.want...)
		}
		if got := callInt(t, rt, id, "version"); got != 1 {
			t.Errorf("%s: after the refused reloads, version() = %d, want 1", lim.name, got)
		}
	}
	for _, tt := range hostileModules {
		t.Run("inspect/"+tt.name, func(t *testing.T) {
			_, err := wasm.Inspect(ctx, tt.wasm)
			wantErr(t, err, []error{wasm.ErrCompile}, tt.want...)
		})
	}
}

// The limits on locals leave room for any real module: at the limits
// exactly, a module loads and runs, metered or not.
func TestLocalsAtTheLimits(t *testing.T) {
	atLimit := manyLocals(int(meter.MaxModuleLocals/meter.MaxFunctionLocals), meter.MaxFunctionLocals)
	for _, lim := range []wasm.Limits{{}, {MaxInstructions: 1000}} {
		rt := newRuntime(t, lim)
		id, err := rt.Load(ctx, "locals.wasm", atLimit, nil)
		if err != nil {
			t.Fatalf("limits %+v: %v", lim, err)
		}
		call(t, rt, id, "f")
	}
}

func uleb(v uint64) []byte { return meter.AppendULEB(nil, v) }

// sectionOf encodes a section with its id and size.
func sectionOf(id byte, parts ...[]byte) []byte {
	body := bytes.Join(parts, nil)
	return append(append([]byte{id}, uleb(uint64(len(body)))...), body...)
}

// moduleOf prefixes sections with the module header.
func moduleOf(sections ...[]byte) []byte {
	return append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Join(sections, nil)...)
}

// manyLocals builds a module of n functions () -> () that each declare locals
// i32 locals and do nothing; function 0 is exported as "f".
func manyLocals(n int, locals uint64) []byte {
	types := make([]byte, n)
	body := append(append(uleb(1), uleb(locals)...), 0x7f, 0x0b)
	entry := append(uleb(uint64(len(body))), body...)
	return moduleOf(
		sectionOf(1, uleb(1), []byte{0x60, 0, 0}),
		sectionOf(3, uleb(uint64(n)), types),
		sectionOf(7, uleb(1), []byte("\x01f"), []byte{0, 0}),
		sectionOf(10, uleb(uint64(n)), bytes.Repeat(entry, n)),
	)
}
