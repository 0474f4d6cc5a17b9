package synth

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
)

func call(t *testing.T, r wazero.Runtime, bin []byte, fn string, args ...uint64) uint64 {
	t.Helper()
	ctx := context.Background()
	m, err := r.Instantiate(ctx, bin)
	if err != nil {
		t.Fatalf("instantiate: %v", err)
	}
	defer m.Close(ctx)
	out, err := m.ExportedFunction(fn).Call(ctx, args...)
	if err != nil {
		t.Fatalf("%s: %v", fn, err)
	}
	return out[0]
}

// reference computes what the generated function 0 returns for (x, x+1), by
// interpreting the same generator stream in Go.
func reference(c Config, x int32) int32 {
	rng := uint32(c.Version)*2654435761 + 12345
	p0, p1 := x, x+1
	for range c.Ops {
		rng = rng*1664525 + 1013904223
		k := int32(rng>>20) & 0x3f
		apply := func(op byte, a, b int32) int32 {
			switch op {
			case 0x6a:
				return a + b
			case 0x6b:
				return a - b
			case 0x6c:
				return a * b
			case 0x71:
				return a & b
			case 0x72:
				return a | b
			default:
				return a ^ b
			}
		}
		binops := [...]byte{0x6a, 0x6b, 0x6c, 0x71, 0x72, 0x73}
		op1 := binops[(rng>>8)%uint32(len(binops))]
		op2 := binops[(rng>>12)%uint32(len(binops))]
		p0 = apply(op2, apply(op1, p0, k), p1)
	}
	return p0
}

func TestModule(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"default", Config{}},
		{"tiny", Config{Funcs: 1, Ops: 1, DataBytes: -1, Version: 7}},
		{"negative version", Config{Funcs: 3, Ops: 40, DataBytes: 10, Version: -5}},
		{"many small funcs", Config{Funcs: 2000, Ops: 2, DataBytes: 70000, Version: 3}},
	}
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig())
	defer r.Close(ctx)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := Module(tt.cfg)
			if !bytes.Equal(bin, Module(tt.cfg)) {
				t.Fatal("Module is not deterministic")
			}
			if got := int32(call(t, r, bin, "version")); got != tt.cfg.Version {
				t.Errorf("version() = %d, want %d", got, tt.cfg.Version)
			}
			if got := int32(call(t, r, bin, "add", 40, 2)); got != 42 {
				t.Errorf("add(40, 2) = %d, want 42", got)
			}
			ops := tt.cfg.Ops
			if ops == 0 {
				ops = defaultOps
			}
			want := reference(Config{Ops: ops, Version: tt.cfg.Version}, 9)
			if got := int32(call(t, r, bin, "work", 9)); got != want {
				t.Errorf("work(9) = %d, want %d", got, want)
			}
		})
	}
}

func TestDefaultSize(t *testing.T) {
	bin := Module(Config{})
	if n := len(bin); n < 700_000 || n > 900_000 {
		t.Errorf("default module is %d bytes, want about 800 KB", n)
	}
	if bytes.Equal(bin, Module(Config{Version: 1})) {
		t.Error("versions 0 and 1 have identical bytes; reloads would hit the compile cache")
	}
}

// TestDefaultCompileTime logs (never asserts: timings belong to benchmarks) how long
// wazero's compiler takes on the default module, the figure the host's stall
// benchmark depends on.
func TestDefaultCompileTime(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig())
	defer r.Close(ctx)
	bin := Module(Config{Version: 11})
	start := time.Now()
	cm, err := r.CompileModule(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("default module: %d bytes, compiled in %v", len(bin), time.Since(start))
	cm.Close(ctx)
}

func BenchmarkCompileDefault(b *testing.B) {
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig())
	defer r.Close(ctx)
	b.ReportAllocs()
	v := int32(0)
	for b.Loop() {
		v++
		bin := Module(Config{Version: v}) // new bytes each time: no cache hit
		cm, err := r.CompileModule(ctx, bin)
		if err != nil {
			b.Fatal(err)
		}
		cm.Close(ctx)
	}
}

func ExampleModule() {
	bin := Module(Config{Version: 2})
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	m, err := r.Instantiate(ctx, bin)
	if err != nil {
		fmt.Println(err)
		return
	}
	v, _ := m.ExportedFunction("version").Call(ctx)
	sum, _ := m.ExportedFunction("add").Call(ctx, 2, 3)
	fmt.Printf("%d KB, version %d, add(2, 3) = %d\n", len(bin)/1000, v[0], sum[0])
	// Output: 784 KB, version 2, add(2, 3) = 5
}
