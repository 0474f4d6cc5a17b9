package wasm_test

import (
	"slices"
	"testing"

	"github.com/hotscript/hotscript/internal/guest"
	"github.com/hotscript/hotscript/wasm"
)

func TestInspect(t *testing.T) {
	tests := []struct {
		module  string
		imports []string
		exports []string
		memory  *wasm.MemoryInfo
	}{
		{"add_v2", nil, []string{"add(i32, i32, i32) i32", "version() i32"}, nil},
		{"log_v1", []string{"host.log(i32, i32)"}, []string{"bad_log()", "run()", "version() i32"}, &wasm.MemoryInfo{Min: 1}},
		{"json_state", nil, []string{
			"alloc(i32) i32", "bad_json() (i32, i32)", "bad_ptr() (i32, i32)", "div(i32, i32) i32",
			"echo(i32, i32) (i32, i32)", "forever()", "free(i32, i32)", "get_state() (i32, i32)",
			"init(i32, i32)", "oob() i32", "recurse(i32) i32", "reply(i32, i32) (i32, i32)", "set_state(i32, i32)",
			"trap_unreachable()", "version() i32",
		}, &wasm.MemoryInfo{Min: 2}},
		{"numbers", nil, []string{
			"add64(i64, i64) i64", "addf32(f32, f32) f32", "addf64(f64, f64) f64", "divf64(f64, f64) f64",
			"id32(i32) i32", "id64(i64) i64", "idf32(f32) f32", "mix(i32, i64, f32, f64) f64",
			"neg(i32) i32", "nothing()",
		}, &wasm.MemoryInfo{Min: 1}},
		{"multi", nil, []string{
			"inf32() f32", "multi() (i32, i64, f64)", "nan() f64", "noop()", "pair() (i32, i32)",
			"takes_externref(externref)", "tiny() f64",
		}, &wasm.MemoryInfo{Min: 1}},
		{"spin", nil, []string{"add(i32, i32) i32", "bump() i32", "count(i32) i32", "depth(i32) i32", "forever()", "get() i32",
			"recurse(i32) i32", "spin(i32) i32", "sum(i32) i64"}, &wasm.MemoryInfo{Min: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.module, func(t *testing.T) {
			info, err := wasm.Inspect(ctx, guest.Bytes(tt.module))
			if err != nil {
				t.Fatal(err)
			}
			if got := infoStrings(info.Imports); !slices.Equal(got, tt.imports) {
				t.Errorf("Imports = %q, want %q", got, tt.imports)
			}
			if got := infoStrings(info.Exports); !slices.Equal(got, tt.exports) {
				t.Errorf("Exports = %q, want %q", got, tt.exports)
			}
			if (info.Memory == nil) != (tt.memory == nil) || info.Memory != nil && *info.Memory != *tt.memory {
				t.Errorf("Memory = %+v, want %+v", info.Memory, tt.memory)
			}
		})
	}
}

func TestInspectInvalid(t *testing.T) {
	valid := guest.Bytes("counter_v1")
	for name, b := range map[string][]byte{
		"empty":            nil,
		"truncated header": valid[:4],
		"wrong magic":      []byte("\x00wasm\x01\x00\x00\x00"),
		"truncated body":   valid[:len(valid)-2],
	} {
		t.Run(name, func(t *testing.T) {
			_, err := wasm.Inspect(ctx, b)
			wantErr(t, err, []error{wasm.ErrCompile}, "inspect")
		})
	}
}

// Inspect reports the limits of a memory that is not exported.
func TestInspectMemoryMax(t *testing.T) {
	// (module (memory 1 3)) with no exports.
	b := []byte{0, 'a', 's', 'm', 1, 0, 0, 0, 5, 4, 1, 1, 1, 3}
	info, err := wasm.Inspect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if want := (wasm.MemoryInfo{Min: 1, Max: 3, HasMax: true}); info.Memory == nil || *info.Memory != want {
		t.Errorf("Memory = %+v, want %+v", info.Memory, want)
	}
}

func TestFuncInfoString(t *testing.T) {
	tests := []struct {
		info wasm.FuncInfo
		want string
	}{
		{wasm.FuncInfo{Name: "f"}, "f()"},
		{wasm.FuncInfo{Name: "add", Params: []wasm.ValueType{wasm.I32, wasm.I32}, Results: []wasm.ValueType{wasm.I32}}, "add(i32, i32) i32"},
		{wasm.FuncInfo{Name: "get_state", Results: []wasm.ValueType{wasm.I32, wasm.I32}}, "get_state() (i32, i32)"},
		{wasm.FuncInfo{Module: "host", Name: "log", Params: []wasm.ValueType{wasm.I64, wasm.F32, wasm.F64}}, "host.log(i64, f32, f64)"},
		{wasm.FuncInfo{Name: "v", Params: []wasm.ValueType{wasm.V128, wasm.FuncRef, wasm.ValueType(0x42)}}, "v(v128, funcref, 0x42)"},
	}
	for _, tt := range tests {
		if got := tt.info.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

// Imports and Exports describe the live module and follow reloads.
func TestRuntimeIntrospection(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	if err := rt.Define("host", "log", wasm.LogFunc(func(string, string) {})); err != nil {
		t.Fatal(err)
	}
	id := load(t, rt, "add_v1", nil)
	if imports, err := rt.Imports(id); err != nil || len(imports) != 0 {
		t.Errorf("Imports() = %v, %v", imports, err)
	}
	if err := rt.ReloadModule(ctx, id, guest.Bytes("log_v1")); err != nil {
		t.Fatal(err)
	}
	imports, err := rt.Imports(id)
	if got := infoStrings(imports); err != nil || !slices.Equal(got, []string{"host.log(i32, i32)"}) {
		t.Errorf("Imports() after reload = %q, %v", got, err)
	}
	imports[0].Params[0] = wasm.F64 // the caller's copy
	imports, _ = rt.Imports(id)
	if imports[0].Params[0] != wasm.I32 {
		t.Error("modifying the result of Imports changed the runtime's")
	}
}

// TestInspectUnlinkable: Inspect lists, in import order, the imports no
// Runtime provides: globals, memories, tables, and anything from the module
// reserved for the instrumentation; a host function import is not one.
func TestInspectUnlinkable(t *testing.T) {
	import1 := func(module, name string, desc ...byte) []byte {
		b := append(uleb(uint64(len(module))), module...)
		b = append(append(b, uleb(uint64(len(name)))...), name...)
		return append(b, desc...)
	}
	types := sectionOf(1, uleb(1), []byte{0x60, 0, 0})
	imports := sectionOf(2, uleb(5),
		import1("host", "log", 0x00, 0),          // function of type 0
		import1("env", "g", 0x03, 0x7f, 0),       // immutable i32 global
		import1("env", "mem", 0x02, 0x00, 1),     // memory, 1 page
		import1("hotscript", "refuel", 0x00, 0),  // reserved module
		import1("env", "t", 0x01, 0x70, 0x00, 1)) // funcref table
	info, err := wasm.Inspect(ctx, moduleOf(types, imports))
	if err != nil {
		t.Fatal(err)
	}
	want := []wasm.ImportInfo{{"global", "env", "g"}, {"memory", "env", "mem"}, {"function", "hotscript", "refuel"}, {"table", "env", "t"}}
	if !slices.Equal(info.Unlinkable, want) {
		t.Errorf("Unlinkable = %q, want %q", info.Unlinkable, want)
	}
	if len(info.Imports) != 1 || info.Imports[0].String() != "host.log()" {
		t.Errorf("Imports = %v, want host.log() alone", info.Imports)
	}
}

// TestInspectOtherExports: Inspect lists what a module exports besides
// functions, with its kind, sorted, reserved names aside.
func TestInspectOtherExports(t *testing.T) {
	name := func(s string) []byte { return append(uleb(uint64(len(s))), s...) }
	b := moduleOf(
		sectionOf(1, uleb(1), []byte{0x60, 0, 0}),
		sectionOf(3, uleb(1), []byte{0}),
		sectionOf(5, uleb(1), []byte{0, 1}),                   // memory 0: one page
		sectionOf(6, uleb(1), []byte{0x7f, 0, 0x41, 0, 0x0b}), // immutable i32 global, 0
		sectionOf(7, uleb(4),
			name("f"), []byte{0, 0},
			name("mem"), []byte{2, 0},
			name("counter"), []byte{3, 0},
			name("hotscript.g"), []byte{3, 0}),
		sectionOf(10, uleb(1), []byte{2, 0, 0x0b}))
	info, err := wasm.Inspect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"global counter", "memory mem"}; !slices.Equal(info.OtherExports, want) {
		t.Errorf("OtherExports = %q, want %q", info.OtherExports, want)
	}
}

// TestInspectReservedExports: Inspect lists, sorted, the exports of any kind
// whose names Load refuses as reserved for the instrumentation, as it lists
// the imports Load refuses, without an error.
func TestInspectReservedExports(t *testing.T) {
	name := func(s string) []byte { return append(uleb(uint64(len(s))), s...) }
	b := moduleOf(
		sectionOf(1, uleb(1), []byte{0x60, 0, 0}),
		sectionOf(3, uleb(1), []byte{0}),
		sectionOf(6, uleb(1), []byte{0x7f, 0, 0x41, 0, 0x0b}), // immutable i32 global, 0
		sectionOf(7, uleb(3),
			name("hotscript.x"), []byte{0, 0}, // function 0
			name("ok"), []byte{0, 0},
			name("hotscript.g"), []byte{3, 0}), // global 0
		sectionOf(10, uleb(1), []byte{2, 0, 0x0b}))
	info, err := wasm.Inspect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"hotscript.g", "hotscript.x"}; !slices.Equal(info.ReservedExports, want) {
		t.Errorf("ReservedExports = %q, want %q", info.ReservedExports, want)
	}
	if got := infoStrings(info.Exports); !slices.Equal(got, []string{"ok()"}) {
		t.Errorf("Exports = %q, want ok() alone", got)
	}
	rt := newRuntime(t, wasm.Limits{})
	_, err = rt.Load(ctx, "reserved", b, nil)
	wantErr(t, err, []error{wasm.ErrInstantiate}, `exports "hotscript.g": names starting with "hotscript." are reserved`)

	plain, err := wasm.Inspect(ctx, guest.Bytes("spin"))
	if err != nil || plain.ReservedExports != nil {
		t.Errorf("Inspect(spin): ReservedExports = %q, %v; want none", plain.ReservedExports, err)
	}
}
