package wasm_test

import (
	"testing"

	"github.com/hotscript/hotscript/internal/benchpair"
	"github.com/hotscript/hotscript/internal/meter"
	"github.com/hotscript/hotscript/internal/synth"
	"github.com/tetratelabs/wazero"
)

// BenchmarkScanVersusCompile prices the check every module passes before
// wazero sees it (meter.Scan, which reads every count of every section)
// against wazero's own compile of the same module, alternately in one
// benchmark: x-raw is the check's time over the compile's, for wazero's
// compiler and for its interpreter (which Inspect uses, and platforms
// without the compiler).
func BenchmarkScanVersusCompile(b *testing.B) {
	modules := []struct {
		name string
		wasm []byte
	}{
		{"synth-800KB", synth.Module(synth.Config{})}, // 135 KB of code, 650 KB of data
		{"synth-code-1.3MB", synth.Module(synth.Config{Funcs: 2500, DataBytes: -1})},
	}
	engines := []struct {
		name   string
		config wazero.RuntimeConfig
	}{
		{"compiler", wazero.NewRuntimeConfigCompiler()},
		{"interpreter", wazero.NewRuntimeConfigInterpreter()},
	}
	for _, m := range modules {
		for _, e := range engines {
			b.Run(m.name+"/"+e.name, func(b *testing.B) {
				r := wazero.NewRuntimeWithConfig(ctx, e.config)
				defer r.Close(ctx)
				b.SetBytes(int64(len(m.wasm)))
				benchpair.Run(b, 1, func() {
					c, err := r.CompileModule(ctx, m.wasm)
					if err != nil {
						b.Fatal(err)
					}
					_ = c.Close(ctx) // so that the next compile is not a cache hit
				}, func() {
					if _, err := meter.Scan(m.wasm); err != nil {
						b.Fatal(err)
					}
				})
			})
		}
	}
}
