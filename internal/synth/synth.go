// Package synth generates large, valid WebAssembly modules for benchmarks.
//
// hotscript's central promise is that a reload never stalls the goroutine that calls a
// script, and that promise only means something for modules whose compile takes frames:
// a hand-written .wat of a few hundred bytes compiles in microseconds. Real game modules
// (TinyGo, Zig, Rust) weigh hundreds of kilobytes and take wazero's optimizing compiler
// about 25 ms. Committing such binaries would bloat the repository and tie the benchmark
// to one toolchain, so this package writes an equivalent module directly in the binary
// format: many functions of straight-line integer arithmetic (which the compiler has to
// work through instruction by instruction) plus a few small exported functions that a
// benchmark can call every frame.
//
// The output is deterministic for a given Config. Two configs that differ only in
// Version produce modules of the same shape whose bytes differ, so each reload in a
// benchmark is a genuine compile rather than a compiled-code cache hit.
//
// Every module exports:
//
//	version() -> i32       returns Config.Version
//	add(i32, i32) -> i32   returns the sum of its arguments
//	work(i32) -> i32       runs the first generated function (straight-line arithmetic)
//	memory                 holds the data segment
package synth

import "github.com/hotscript/hotscript/internal/meter"

// Config describes a generated module. Its zero value is the Default size.
type Config struct {
	// Funcs is the number of generated arithmetic functions; 0 means 250.
	Funcs int
	// Ops is the number of arithmetic steps in each generated function; 0 means 53.
	// Each step encodes to 10 bytes.
	Ops int
	// DataBytes is the size of the pseudo-random data segment copied into the module's
	// exported memory at instantiation; 0 means 650,000, negative means none. Real
	// modules carry most of their weight as data (strings, tables, assets), which costs
	// nothing to compile; the default keeps the compile time near 25 ms.
	DataBytes int
	// Version is returned by the exported version function and seeds the constants,
	// so different versions have different bytes.
	Version int32
}

// The zero Config describes a module of about 800 KB (135 KB of code, 650 KB of data)
// whose wazero compile takes about 25 ms on the project's 2-core reference machines;
// TestDefaultCompileTime logs the figure.
const (
	defaultFuncs = 250
	defaultOps   = 53
	defaultData  = 650_000
	pageSize     = 65536
)

// Module returns the binary of the module described by c. It never fails: every Config
// describes a valid module.
func Module(c Config) []byte {
	if c.Funcs <= 0 {
		c.Funcs = defaultFuncs
	}
	if c.Ops <= 0 {
		c.Ops = defaultOps
	}
	if c.DataBytes == 0 {
		c.DataBytes = defaultData
	}
	data := max(c.DataBytes, 0)
	var b []byte
	b = append(b, 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00)

	// Types: 0 = (i32, i32) -> i32, 1 = () -> i32, 2 = (i32) -> i32.
	b = section(b, 1, vec(3, func(s []byte) []byte {
		s = append(s, 0x60, 2, i32, i32, 1, i32)
		s = append(s, 0x60, 0, 1, i32)
		s = append(s, 0x60, 1, i32, 1, i32)
		return s
	}))

	// Functions: version, add, work, then the generated ones (all of type 0).
	const fixed = 3
	n := fixed + c.Funcs
	b = section(b, 3, vec(n, func(s []byte) []byte {
		s = append(s, 1, 0, 2)
		for range c.Funcs {
			s = append(s, 0)
		}
		return s
	}))

	pages := uint64(data+pageSize-1)/pageSize + 1
	b = section(b, 5, vec(1, func(s []byte) []byte {
		s = append(s, 0x00)
		return meter.AppendULEB(s, pages)
	}))

	b = section(b, 7, vec(4, func(s []byte) []byte {
		s = export(s, "version", 0)
		s = export(s, "add", 1)
		s = export(s, "work", 2)
		s = meter.AppendULEB(s, uint64(len("memory")))
		s = append(s, "memory"...)
		return append(s, 0x02, 0)
	}))

	rng := uint32(c.Version)*2654435761 + 12345
	b = section(b, 10, vec(n, func(s []byte) []byte {
		s = body(s, func(f []byte) []byte { // version
			f = append(f, 0x41)
			return meter.AppendSLEB(f, int64(c.Version))
		})
		s = body(s, func(f []byte) []byte { // add
			return append(f, 0x20, 0, 0x20, 1, 0x6a)
		})
		s = body(s, func(f []byte) []byte { // work: f0(x, x+1)
			f = append(f, 0x20, 0, 0x20, 0, 0x41, 1, 0x6a, 0x10)
			return meter.AppendULEB(f, fixed)
		})
		for range c.Funcs {
			s = body(s, func(f []byte) []byte {
				return arithmetic(f, c.Ops, &rng)
			})
		}
		return s
	}))

	if data > 0 {
		b = section(b, 11, vec(1, func(s []byte) []byte {
			s = append(s, 0x00, 0x41, 0x00, 0x0b) // memory 0, offset i32.const 0
			s = meter.AppendULEB(s, uint64(data))
			for range data {
				rng = rng*1664525 + 1013904223
				s = append(s, byte(rng>>24))
			}
			return s
		}))
	}
	return b
}

const i32 = 0x7f

// arithmetic writes Ops steps of straight-line code over the two parameters:
// p0 = (p0 op const) op p1, then returns p0.
func arithmetic(f []byte, ops int, rng *uint32) []byte {
	binops := [...]byte{0x6a, 0x6b, 0x6c, 0x71, 0x72, 0x73} // add sub mul and or xor
	for range ops {
		*rng = *rng*1664525 + 1013904223
		k := int64(*rng>>20) & 0x3f
		op1 := binops[(*rng>>8)%uint32(len(binops))]
		op2 := binops[(*rng>>12)%uint32(len(binops))]
		f = append(f, 0x20, 0, 0x41)
		f = meter.AppendSLEB(f, k)
		f = append(f, op1, 0x20, 1, op2, 0x21, 0)
	}
	return append(f, 0x20, 0)
}

func export(s []byte, name string, fn int) []byte {
	s = meter.AppendULEB(s, uint64(len(name)))
	s = append(s, name...)
	s = append(s, 0x00)
	return meter.AppendULEB(s, uint64(fn))
}

// body writes one code entry: size, no locals, the instructions, end.
func body(s []byte, code func([]byte) []byte) []byte {
	f := code([]byte{0})
	f = append(f, 0x0b)
	s = meter.AppendULEB(s, uint64(len(f)))
	return append(s, f...)
}

func vec(n int, items func([]byte) []byte) []byte {
	return items(meter.AppendULEB(nil, uint64(n)))
}

func section(b []byte, id byte, content []byte) []byte {
	b = append(b, id)
	b = meter.AppendULEB(b, uint64(len(content)))
	return append(b, content...)
}
