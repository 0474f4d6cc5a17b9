package meter

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hotscript/hotscript/internal/guest"
	"github.com/tetratelabs/wazero"
)

// FuzzInstrument feeds Instrument mutations of the corpus and of the
// hand-built modules. It must never panic, must say "meter: " in every
// error, must be deterministic, and whenever wazero accepts the input it
// must accept the output too.
func FuzzInstrument(f *testing.F) {
	for _, wasm := range corpus(f) {
		f.Add(wasm)
	}
	f.Add(refsModule())
	f.Add(guest.Bytes("lines_debug")) // DWARF: the line table carried
	f.Add(memModule(0x01, 0x01, 0x02))
	f.Add(syntheticModule(2, 2))
	f.Add(oneFunc(0xfd, 0x0c, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0x1a))

	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter().WithCoreFeatures(features))
	f.Cleanup(func() { r.Close(ctx) })

	f.Fuzz(func(t *testing.T, wasm []byte) {
		out, _, err := Instrument(wasm)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "meter: ") || strings.Contains(err.Error(), "internal error") {
				t.Fatalf("bad error: %v", err)
			}
			return
		}
		again, _, _ := Instrument(wasm)
		if !bytes.Equal(out, again) {
			t.Fatal("two runs gave different output")
		}
		orig, err := r.CompileModule(ctx, wasm)
		if err != nil {
			return
		}
		orig.Close(ctx)
		inst, err := r.CompileModule(ctx, out)
		if err != nil {
			t.Fatalf("wazero accepts the input but not the output: %v", err)
		}
		inst.Close(ctx)
	})
}
