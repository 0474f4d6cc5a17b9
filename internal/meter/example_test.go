package meter_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/hotscript/hotscript/internal/meter"
)

// errOutOfFuel is what the example host's refuel stops a guest with.
var errOutOfFuel = errors.New("out of fuel")

// budget is a host's side of the refuel protocol: it grants fuel in slices
// until its budget is spent, then makes refuel fail, which stops the guest.
type budget struct {
	left, slice, granted int64
}

func (b *budget) refuel(_ context.Context, m api.Module) {
	if b.left <= 0 {
		panic(errOutOfFuel) // wazero turns this into the error Call returns
	}
	grant := min(b.left, b.slice)
	b.left -= grant
	b.granted += grant
	fuel := m.ExportedGlobal(meter.FuelExport).(api.MutableGlobal)
	fuel.Set(uint64(int64(fuel.Get()) + grant)) // add: the global may be below zero
}

// instantiate instruments wasm and instantiates it with b as its refuel.
func instantiate(ctx context.Context, r wazero.Runtime, wasm []byte, b *budget) api.Module {
	out, _, err := meter.Instrument(wasm)
	if err != nil {
		log.Fatal(err)
	}
	_, err = r.NewHostModuleBuilder(meter.ImportModule).NewFunctionBuilder().
		WithFunc(b.refuel).Export(meter.ImportName).Instantiate(ctx)
	if err != nil {
		log.Fatal(err)
	}
	mod, err := r.Instantiate(ctx, out)
	if err != nil {
		log.Fatal(err)
	}
	return mod
}

// Instrument a module, run it, and read how much fuel the call used: the
// fuel granted minus what is left in the global.
func Example() {
	ctx := context.Background()
	wasm, err := os.ReadFile("testdata/sum.wasm")
	if err != nil {
		log.Fatal(err)
	}
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	b := &budget{left: 1_000_000, slice: 10_000}
	mod := instantiate(ctx, r, wasm, b)

	// The global starts at zero, so the first check calls refuel at once.
	res, err := mod.ExportedFunction("sum").Call(ctx, 1000)
	if err != nil {
		log.Fatal(err)
	}
	left := int64(mod.ExportedGlobal(meter.FuelExport).Get())
	fmt.Println("sum:", res[0])
	fmt.Println("fuel used:", b.granted-left)
	// Output:
	// sum: 499500
	// fuel used: 14009
}

// An infinite loop runs until refuel refuses to grant more.
func Example_runaway() {
	ctx := context.Background()
	wasm, err := os.ReadFile("testdata/runaway.wasm")
	if err != nil {
		log.Fatal(err)
	}
	// The module also holds a tail-call loop, so enable tail calls.
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().
		WithCoreFeatures(api.CoreFeaturesV2|experimental.CoreFeaturesTailCall))
	defer r.Close(ctx)
	b := &budget{left: 50_000, slice: 10_000}
	mod := instantiate(ctx, r, wasm, b)

	_, err = mod.ExportedFunction("spin").Call(ctx)
	fmt.Println("stopped:", errors.Is(err, errOutOfFuel))
	fmt.Println("fuel granted:", b.granted)
	// Output:
	// stopped: true
	// fuel granted: 50000
}

// Errors name the function and say what is wrong; test them with
// errors.Is.
func ExampleError() {
	wasm := []byte{
		0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // header
		0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: [] -> []
		0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
		0x0a, 0x07, 0x01, 0x05, 0x00, 0xfd, 0xff, 0x03, 0x0b, // code: 0xfd 0x1ff, end
	}
	_, _, err := meter.Instrument(wasm)
	fmt.Println(err)
	fmt.Println(errors.Is(err, meter.ErrUnknownOpcode))
	// Output:
	// meter: function 0: unknown opcode 0xfd 0x1ff
	// true
}
