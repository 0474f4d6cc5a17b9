package wasm

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/tetratelabs/wazero"
)

// Inspect validates a module and describes it: imported and exported functions with
// their signatures, and its memory. It instantiates nothing and runs no guest code;
// ctx bounds the validation. Inspect is safe for concurrent use.
//
// An invalid module returns an *Error matching ErrCompile.
func Inspect(ctx context.Context, wasmBytes []byte) (ModuleInfo, error) {
	fail := func(err error) (ModuleInfo, error) {
		return ModuleInfo{}, &Error{Op: "inspect", Kind: ErrCompile, Err: err}
	}
	scan, err := scanModule(wasmBytes)
	if err != nil {
		return fail(err)
	}
	// The interpreter validates as the compiler does, without generating code.
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	compiled, err := r.CompileModule(ctx, wasmBytes)
	if err != nil {
		return fail(err)
	}
	return ModuleInfo{
		Imports: publicImports(compiled.ImportedFunctions()),
		Exports: publicExports(compiled.ExportedFunctions()),
		Memory:  scan.memory,
	}, nil
}

// External kinds in the binary format.
const (
	kindFunc   byte = 0
	kindTable  byte = 1
	kindMemory byte = 2
	kindGlobal byte = 3
	kindTag    byte = 4
)

var kindNames = [...]string{"function", "table", "memory", "global", "tag"}

func kindName(k byte) string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind 0x%x", k)
}

type scanImport struct {
	module, name string
	kind         byte
}

// moduleScan is what the runtime needs before compiling and what wazero's
// CompiledModule does not show: every import and export with its kind, and the
// memory's limits even when the memory is not exported.
type moduleScan struct {
	imports []scanImport
	exports map[string]byte // name -> kind
	memory  *MemoryInfo
}

// metered reports whether internal/meter instrumented the module: it imports
// hotscript.refuel and exports the fuel global.
func (m *moduleScan) metered() bool {
	for _, imp := range m.imports {
		if imp.module == reservedModule && imp.name == refuelName && imp.kind == kindFunc {
			return m.exports[fuelGlobal] == kindGlobal
		}
	}
	return false
}

var wasmHeader = []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}

// scanModule reads the import, export and memory sections. It checks only what it
// reads; wazero validates the rest when compiling.
func scanModule(b []byte) (*moduleScan, error) {
	if len(b) < len(wasmHeader) {
		return nil, errors.New("truncated header: a module starts with 8 bytes (\\0asm and version 1)")
	}
	if !bytes.Equal(b[:len(wasmHeader)], wasmHeader) {
		return nil, fmt.Errorf("invalid header % x: not a WebAssembly 1.0 binary", b[:len(wasmHeader)])
	}
	m := &moduleScan{exports: map[string]byte{}}
	r := &reader{b: b, pos: len(wasmHeader)}
	for r.err == nil && r.pos < len(b) {
		id := r.byte()
		size := int(r.u32())
		if r.err != nil || size > len(b)-r.pos {
			return nil, fmt.Errorf("section %d at offset %d is truncated", id, r.pos)
		}
		sec := &reader{b: b[:r.pos+size], pos: r.pos}
		switch id {
		case 2:
			m.readImports(sec)
		case 5:
			if n := sec.u32(); n > 0 && m.memory == nil {
				m.memory = sec.limits()
			}
		case 7:
			m.readExports(sec)
		}
		if sec.err != nil {
			return nil, fmt.Errorf("section %d: %w", id, sec.err)
		}
		r.pos += size
	}
	return m, r.err
}

func (m *moduleScan) readImports(r *reader) {
	for n := r.u32(); n > 0 && r.err == nil; n-- {
		imp := scanImport{module: r.name(), name: r.name(), kind: r.byte()}
		switch imp.kind {
		case kindFunc:
			r.u32()
		case kindTable:
			r.valueType()
			r.limits()
		case kindMemory:
			if mem := r.limits(); m.memory == nil {
				m.memory = mem
			}
		case kindGlobal:
			r.valueType()
			r.byte()
		case kindTag:
			r.byte()
			r.u32()
		default:
			r.fail("unknown import kind 0x%x", imp.kind)
		}
		m.imports = append(m.imports, imp)
	}
}

func (m *moduleScan) readExports(r *reader) {
	for n := r.u32(); n > 0 && r.err == nil; n-- {
		name, kind := r.name(), r.byte()
		r.u32()
		m.exports[name] = kind
	}
}

// reader decodes the binary format; the first error sticks and later reads
// return zero values.
type reader struct {
	b   []byte
	pos int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("offset %d: "+format, append([]any{r.pos}, args...)...)
	}
}

func (r *reader) byte() byte {
	if r.err != nil || r.pos >= len(r.b) {
		r.fail("unexpected end")
		return 0
	}
	r.pos++
	return r.b[r.pos-1]
}

// leb reads an unsigned LEB128 number of at most bits bits.
func (r *reader) leb(bits uint) uint64 {
	var v uint64
	for shift := uint(0); shift < bits; shift += 7 {
		c := r.byte()
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	r.fail("integer too long")
	return 0
}

func (r *reader) u32() uint32 { return uint32(r.leb(32)) }

func (r *reader) name() string {
	n := int(r.u32())
	if r.err != nil || n > len(r.b)-r.pos {
		r.fail("name runs past the section")
		return ""
	}
	r.pos += n
	return string(r.b[r.pos-n : r.pos])
}

// valueType skips a value or reference type, including (ref null? heaptype).
func (r *reader) valueType() {
	if t := r.byte(); t == 0x63 || t == 0x64 {
		r.leb(33)
	}
}

func (r *reader) limits() *MemoryInfo {
	flags := r.byte()
	bits := uint(32)
	if flags&0x04 != 0 {
		bits = 64
	}
	lim := &MemoryInfo{Min: clampPages(r.leb(bits))}
	if flags&0x01 != 0 {
		lim.Max, lim.HasMax = clampPages(r.leb(bits)), true
	}
	return lim
}

func clampPages(n uint64) uint32 { return uint32(min(n, 1<<32-1)) }
