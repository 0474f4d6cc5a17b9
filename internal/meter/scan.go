package meter

import "fmt"

// Kind is the kind of an import or export, as the binary format encodes it.
type Kind byte

// The kinds of imports and exports.
const (
	KindFunc   Kind = 0x00
	KindTable  Kind = 0x01
	KindMemory Kind = 0x02
	KindGlobal Kind = 0x03
)

// String names the kind: "function", "table", "memory" or "global".
func (k Kind) String() string {
	switch k {
	case KindFunc:
		return "function"
	case KindTable:
		return "table"
	case KindMemory:
		return "memory"
	case KindGlobal:
		return "global"
	}
	return fmt.Sprintf("kind %#x", byte(k))
}

// Import is one import of a module.
type Import struct {
	Module, Name string
	Kind         Kind
}

// Export is one export of a module.
type Export struct {
	Name  string
	Kind  Kind
	Index uint32 // in the index space of its kind
}

// Memory is the declared size of a linear memory, in 64 KiB pages.
type Memory struct {
	Min, Max uint32 // Max is meaningful only if HasMax
	HasMax   bool
	Imported bool
}

// Interface is what Scan reads of a module: what it imports, what it
// exports and the memories it has, which a host checks before it compiles
// or instruments the module.
type Interface struct {
	Imports  []Import // in import order
	Exports  []Export // in export order
	Memories []Memory // imported memories first, as in the index space
}

// Scan reads the imports, exports and memories of a module, with the
// decoder Instrument uses, and checks the framing of every section and
// the entries it reads; it does not decode code, so a module Scan accepts
// may still be invalid. Errors are those of Instrument for the same
// problems (ErrMalformed, ErrUnsupported). Scan is safe for concurrent use.
func Scan(wasm []byte) (Interface, error) {
	secs, err := splitSections(wasm)
	if err != nil {
		return Interface{}, err
	}
	var m Interface
	for _, s := range secs {
		r := newReader(s.body, s.base)
		switch s.id {
		case secImport:
			m.scanImports(r)
		case secMemory:
			n := r.count(2)
			for i := 0; i < n && r.err == nil; i++ {
				m.Memories = append(m.Memories, memoryOf(r, false))
			}
		case secExport:
			n := r.count(3)
			for i := 0; i < n && r.err == nil; i++ {
				e := Export{Name: r.name(), Kind: Kind(r.byte()), Index: r.u32()}
				if r.err == nil && e.Kind > KindGlobal {
					r.err = errorf(ErrMalformed, "export %q has the invalid kind %#x", e.Name, byte(e.Kind))
				}
				m.Exports = append(m.Exports, e)
			}
		default:
			continue
		}
		r.end("trailing bytes in section %d", s.id)
		if r.err != nil {
			return Interface{}, r.err
		}
	}
	return m, nil
}

func (m *Interface) scanImports(r *reader) {
	n := r.count(4)
	for i := 0; i < n && r.err == nil; i++ {
		imp := Import{Module: r.name(), Name: r.name()}
		at := r.offset()
		imp.Kind = Kind(r.byte())
		switch imp.Kind {
		case KindFunc:
			r.u32()
		case KindTable:
			readTableType(r)
		case KindMemory:
			m.Memories = append(m.Memories, memoryOf(r, true))
		case KindGlobal:
			readValType(r)
			r.byte()
		case 0x04:
			r.err = errorf(ErrUnsupported, "tag import at byte %d: exception handling is not supported", at)
		default:
			if r.err == nil {
				r.err = errorf(ErrMalformed, "invalid import kind %#x at byte %d", byte(imp.Kind), at)
			}
		}
		m.Imports = append(m.Imports, imp)
	}
}

func memoryOf(r *reader, imported bool) Memory {
	_, min, max, hasMax := readLimits(r, true)
	return Memory{Min: uint32(min), Max: uint32(max), HasMax: hasMax, Imported: imported}
}
