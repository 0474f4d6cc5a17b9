package meter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// notDifferential lists corpus modules that never terminate; fuel_test.go
// runs them under a budget instead.
var notDifferential = map[string]bool{"runaway.wasm": true}

// TestDifferential runs every exported function of every corpus module,
// original and instrumented, on the same inputs in the same order, and
// requires the same results, the same traps, the same memory and the same
// exported globals after each call.
func TestDifferential(t *testing.T) {
	mods := corpus(t)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range mods {
			if !yield(n) {
				return
			}
		}
	})
	for _, name := range names {
		if notDifferential[name] {
			continue
		}
		t.Run(name, func(t *testing.T) { differential(t, mods[name]) })
	}
}

func differential(t *testing.T, wasm []byte) {
	ctx := context.Background()
	raw := newPlainRuntime(t)
	rawMod, rawErr := raw.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithName(""))
	if rawErr != nil {
		t.Fatalf("original module does not instantiate: %v", rawErr)
	}
	tk := &tank{slice: 1 << 20, left: 1 << 40}
	out, _, err := Instrument(wasm)
	if err != nil {
		t.Fatal(err)
	}
	r := newRuntime(t, tk)
	bindTestImports(t, r)
	mod, err := r.InstantiateWithConfig(ctx, out, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		t.Fatalf("instrumented module does not instantiate: %v", err)
	}
	fuel := mod.ExportedGlobal(FuelExport).(api.MutableGlobal)
	globals := exportNames(t, wasm, 0x03)
	memories := exportNames(t, wasm, 0x02)
	compareState(t, "after instantiation", rawMod, mod, memories, globals)

	funcs := exportNames(t, wasm, 0x00)
	for _, fn := range funcs {
		def := rawMod.ExportedFunction(fn).Definition()
		for _, args := range inputs(t, def.ParamTypes()) {
			what := fmt.Sprintf("%s%v", fn, args)
			want, wantErr := rawMod.ExportedFunction(fn).Call(ctx, args...)
			fuel.Set(0)
			got, gotErr := mod.ExportedFunction(fn).Call(ctx, args...)
			if errors.Is(gotErr, errOutOfFuel) {
				t.Fatalf("%s: ran out of a generous budget", what)
			}
			if firstLine(wantErr) != firstLine(gotErr) {
				t.Fatalf("%s: error %q, want %q", what, firstLine(gotErr), firstLine(wantErr))
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s = %v, want %v", what, got, want)
			}
			compareState(t, what, rawMod, mod, memories, globals)
		}
	}
}

// newPlainRuntime returns a compiler runtime for original modules, with
// the test imports bound.
func newPlainRuntime(tb testing.TB) wazero.Runtime {
	tb.Helper()
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCoreFeatures(features))
	tb.Cleanup(func() { r.Close(ctx) })
	bindTestImports(tb, r)
	return r
}

// bindTestImports instantiates the modules the corpus imports from: "env"
// (testdata/env.wasm, uninstrumented) and "host" (a no-op probe).
func bindTestImports(tb testing.TB, r wazero.Runtime) {
	tb.Helper()
	ctx := context.Background()
	if _, err := r.InstantiateWithConfig(ctx, readTestdata(tb, "env.wasm"), wazero.NewModuleConfig().WithName("env")); err != nil {
		tb.Fatal(err)
	}
	_, err := r.NewHostModuleBuilder("host").NewFunctionBuilder().
		WithFunc(func(context.Context) {}).Export("probe").Instantiate(ctx)
	if err != nil {
		tb.Fatal(err)
	}
}

func compareState(t *testing.T, what string, want, got api.Module, memories, globals []string) {
	t.Helper()
	for _, m := range memories {
		wm, gm := want.ExportedMemory(m), got.ExportedMemory(m)
		wb, _ := wm.Read(0, wm.Size())
		gb, _ := gm.Read(0, gm.Size())
		if !bytes.Equal(wb, gb) {
			t.Fatalf("%s: memories differ (sizes %d and %d)", what, len(gb), len(wb))
		}
	}
	for _, g := range globals {
		if w, v := want.ExportedGlobal(g).Get(), got.ExportedGlobal(g).Get(); w != v {
			t.Fatalf("%s: global %s = %#x, want %#x", what, g, v, w)
		}
	}
}

func firstLine(err error) string {
	if err == nil {
		return ""
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// inputs returns up to 36 argument lists for the given parameter types,
// drawn from a few values per type that include zero, small numbers,
// negatives and out-of-bounds addresses.
func inputs(t *testing.T, params []api.ValueType) [][]uint64 {
	values := func(vt api.ValueType) []uint64 {
		switch vt {
		case api.ValueTypeI32:
			return []uint64{0, 1, 7, 100, 70000, uint64(0xfffffff9)} // -7 last
		case api.ValueTypeI64:
			return []uint64{0, 1, 7, 1 << 40, math.MaxUint64}
		case api.ValueTypeF32:
			return []uint64{0, uint64(math.Float32bits(1.5)), uint64(math.Float32bits(-2.25))}
		case api.ValueTypeF64:
			return []uint64{0, math.Float64bits(1.5), math.Float64bits(-1e300)}
		}
		t.Fatalf("the corpus exports a function with a %s parameter", api.ValueTypeName(vt))
		return nil
	}
	all := [][]uint64{{}}
	for _, p := range params {
		var next [][]uint64
		for _, prefix := range all {
			for _, v := range values(p) {
				next = append(next, append(slices.Clone(prefix), v))
			}
		}
		all = next
	}
	return all[:min(len(all), 36)]
}

// exportNames returns the names of the exports of the given kind, in order,
// read with the package's own reader.
func exportNames(tb testing.TB, wasm []byte, kind byte) []string {
	tb.Helper()
	secs, err := splitSections(wasm)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, s := range secs {
		if s.id != secExport {
			continue
		}
		r := newReader(s.body, s.base)
		n := r.count(3)
		for i := 0; i < n && r.err == nil; i++ {
			name := r.name()
			if r.byte() == kind {
				names = append(names, name)
			}
			r.u32()
		}
		if r.err != nil {
			tb.Fatal(r.err)
		}
	}
	return names
}
