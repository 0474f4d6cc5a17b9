package meter

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// errOutOfFuel is what the test host's refuel panics with when its budget
// is spent; wazero returns it from Call, so errors.Is finds it.
var errOutOfFuel = errors.New("test: out of fuel")

// tank is a test host for the refuel protocol: each refuel grants one slice
// of fuel until the budget is spent, then stops the guest.
type tank struct {
	slice   int64 // fuel one refuel grants
	left    int64 // fuel refuel may still grant
	issued  int64 // fuel put into the global during the current call
	refuels int
	seen    []int64 // the fuel at each refuel, when not nil
}

func (tk *tank) refuel(_ context.Context, m api.Module, _ []uint64) {
	g := m.ExportedGlobal(FuelExport).(api.MutableGlobal)
	tk.refuels++
	if tk.seen != nil {
		tk.seen = append(tk.seen, int64(g.Get()))
	}
	if tk.left <= 0 {
		panic(errOutOfFuel)
	}
	grant := min(tk.slice, tk.left)
	tk.left -= grant
	tk.issued += grant
	g.Set(uint64(int64(g.Get()) + grant))
}

// features is every feature the corpus uses.
var features = api.CoreFeaturesV2 | experimental.CoreFeaturesTailCall |
	experimental.CoreFeaturesThreads | experimental.CoreFeaturesExtendedConst

// newRuntime returns a compiler runtime with the refuel host module bound
// to tk, closed when the test ends.
func newRuntime(tb testing.TB, tk *tank) wazero.Runtime {
	tb.Helper()
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCoreFeatures(features))
	tb.Cleanup(func() { r.Close(ctx) })
	_, err := r.NewHostModuleBuilder(ImportModule).NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(tk.refuel), nil, nil).Export(ImportName).
		Instantiate(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// metered is an instance of an instrumented module with its tank.
type metered struct {
	mod  api.Module
	tank *tank
	fuel api.MutableGlobal
}

// instantiateMetered instruments wasm and instantiates it.
func instantiateMetered(tb testing.TB, wasm []byte, tk *tank) *metered {
	tb.Helper()
	out, _, err := Instrument(wasm)
	if err != nil {
		tb.Fatal(err)
	}
	r := newRuntime(tb, tk)
	mod, err := r.InstantiateWithConfig(context.Background(), out, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		tb.Fatalf("instantiate instrumented module: %v", err)
	}
	return &metered{mod: mod, tank: tk, fuel: mod.ExportedGlobal(FuelExport).(api.MutableGlobal)}
}

// call runs an export with an empty fuel global, so the entry check refuels
// at once, and returns its results and the fuel it used.
func (m *metered) call(name string, args ...uint64) ([]uint64, int64, error) {
	m.fuel.Set(0)
	m.tank.issued = 0
	res, err := m.mod.ExportedFunction(name).Call(context.Background(), args...)
	return res, m.tank.issued - int64(m.fuel.Get()), err
}

// corpus returns the built modules of testdata, by file name.
func corpus(tb testing.TB) map[string][]byte {
	tb.Helper()
	files, err := filepath.Glob("testdata/*.wasm")
	if err != nil || len(files) == 0 {
		tb.Fatalf("no corpus in testdata: %v", err)
	}
	mods := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		mods[filepath.Base(f)] = b
	}
	return mods
}

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// instantiateMeteredWithImports is instantiateMetered with the corpus's
// imports bound.
func instantiateMeteredWithImports(tb testing.TB, wasm []byte) *metered {
	tb.Helper()
	m, _ := instantiateUnrolled(tb, wasm, defaultUnrollCopies)
	return m
}

// instantiateUnrolled instruments wasm with each small loop's body copied up
// to copies times (1: no unrolling), binds the corpus's imports, and
// instantiates it with a tank that can feed a start function; it returns
// the instance and what Instrument reported.
func instantiateUnrolled(tb testing.TB, wasm []byte, copies int) (*metered, Info) {
	tb.Helper()
	unrollCopies = copies
	out, info, err := Instrument(wasm)
	unrollCopies = defaultUnrollCopies
	if err != nil {
		tb.Fatal(err)
	}
	tk := &tank{slice: 1 << 20, left: 1 << 40}
	r := newRuntime(tb, tk)
	bindTestImports(tb, r)
	mod, err := r.InstantiateWithConfig(context.Background(), out, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		tb.Fatalf("instantiate instrumented module: %v", err)
	}
	return &metered{mod: mod, tank: tk, fuel: mod.ExportedGlobal(FuelExport).(api.MutableGlobal)}, info
}
