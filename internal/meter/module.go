package meter

import "bytes"

// Section ids.
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secTable     = 4
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
	secTag       = 13
)

// sectionRank orders the known sections as the binary format requires.
var sectionRank = [...]int{
	secType: 1, secImport: 2, secFunction: 3, secTable: 4, secMemory: 5, secTag: 6,
	secGlobal: 7, secExport: 8, secStart: 9, secElement: 10, secDataCount: 11, secCode: 12, secData: 13,
}

var header = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}

// section is one section of the input; body excludes the id and size.
type section struct {
	id   byte
	name string // custom sections
	data []byte // custom sections: the body after the name
	body []byte
	base int // offset of body in the module
}

// splitSections checks the header and the order of sections and returns
// them in order.
func splitSections(wasm []byte) ([]section, error) {
	if len(wasm) < len(header) {
		return nil, errorf(ErrMalformed, "truncated header: %d bytes, where a module starts with 8 (\\0asm and version 1)", len(wasm))
	}
	if !bytes.Equal(wasm[:4], header[:4]) {
		return nil, errorf(ErrMalformed, "not a WebAssembly binary: bad magic in the header % x", wasm[:4])
	}
	if !bytes.Equal(wasm[4:8], header[4:]) {
		return nil, errorf(ErrMalformed, "unsupported binary version % x", wasm[4:8])
	}
	r := newReader(wasm, 0)
	r.pos = len(header)
	var secs []section
	last := 0
	for !r.done() {
		at := r.offset()
		id := r.byte()
		size := r.count(1)
		body := r.bytes(size)
		if r.err != nil {
			return nil, r.err
		}
		s := section{id: id, body: body, base: r.pos - size}
		switch {
		case id == secCustom:
			nr := newReader(body, s.base)
			s.name = nr.name()
			if nr.err != nil {
				return nil, nr.err
			}
			s.data = body[nr.pos:]
		case int(id) >= len(sectionRank):
			return nil, errorf(ErrMalformed, "unknown section id %d at byte %d", id, at)
		case id == secTag:
			return nil, errorf(ErrUnsupported, "tag section at byte %d: exception handling is not supported", at)
		case sectionRank[id] <= last:
			return nil, errorf(ErrMalformed, "section %d at byte %d is out of order or repeated", id, at)
		default:
			last = sectionRank[id]
		}
		secs = append(secs, s)
	}
	return secs, nil
}

// readLimits reads table or memory limits and reports them.
func readLimits(r *reader, memory bool) (flags byte, min, max uint64, hasMax bool) {
	at := r.offset()
	flags = r.byte()
	if r.err != nil {
		return
	}
	if flags > 0x03 || (!memory && flags > 0x01) {
		if memory && flags <= 0x07 {
			r.err = errorf(ErrUnsupported, "memory limits %#x at byte %d: 64-bit memories are not supported", flags, at)
		} else {
			r.err = errorf(ErrMalformed, "invalid limits flags %#x at byte %d", flags, at)
		}
		return
	}
	min = uint64(r.u32())
	if flags&0x01 != 0 {
		max, hasMax = uint64(r.u32()), true
	}
	return
}

// readTableType reads a table's element type and limits and reports them.
func readTableType(r *reader) (typ byte, min, max uint64, hasMax bool) {
	at := r.offset()
	if typ = r.byte(); r.err == nil && typ != valFuncref && typ != valExternref {
		if typ == 0x40 || (typ >= 0x60 && typ < 0x70) {
			r.err = errorf(ErrUnsupported, "table type %#x at byte %d: typed function references are not supported", typ, at)
		} else {
			r.err = errorf(ErrMalformed, "invalid table element type %#x at byte %d", typ, at)
		}
		return
	}
	_, min, max, hasMax = readLimits(r, false)
	return
}

func (rw *rewriter) parseTypes(s section) error {
	r := newReader(s.body, s.base)
	n := r.count(3)
	types := make([]funcType, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		at := r.offset()
		if form := r.byte(); r.err == nil && form != 0x60 {
			if form == 0x4e || form == 0x50 || form == 0x4f || form == 0x5e || form == 0x5f {
				return errorf(ErrUnsupported, "type form %#x at byte %d: GC types are not supported", form, at)
			}
			return errorf(ErrMalformed, "invalid type form %#x at byte %d", form, at)
		}
		var t funcType
		np := r.count(1)
		for j := 0; j < np && r.err == nil; j++ {
			t.params = append(t.params, readValType(r))
		}
		nr := r.count(1)
		for j := 0; j < nr && r.err == nil; j++ {
			t.results = append(t.results, readValType(r))
		}
		types = append(types, t)
	}
	r.end("trailing bytes in the type section")
	rw.types.init(types)
	return r.err
}

func (rw *rewriter) parseImports(s section) error {
	r := newReader(s.body, s.base)
	n := r.count(4)
	for i := 0; i < n && r.err == nil; i++ {
		mod, name := r.name(), r.name()
		at := r.offset()
		switch kind := r.byte(); kind {
		case 0x00:
			t := r.u32()
			if r.err == nil && uint64(t) >= uint64(len(rw.types.types)) {
				return errorf(ErrMalformed, "imported function %s.%s has type index %d out of range", mod, name, t)
			}
			if mod == ImportModule && name == ImportName {
				return errorf(ErrReservedName, "the module already imports %s.%s; was it instrumented already?", mod, name)
			}
			rw.funcTypes = append(rw.funcTypes, t)
			rw.numImportFuncs++
		case 0x01:
			readTableType(r)
		case 0x02:
			readLimits(r, true)
		case 0x03:
			readValType(r)
			r.byte()
			rw.numGlobals++
		case 0x04:
			return errorf(ErrUnsupported, "tag import at byte %d: exception handling is not supported", at)
		default:
			if r.err == nil {
				return errorf(ErrMalformed, "invalid import kind %#x at byte %d", kind, at)
			}
		}
	}
	r.end("trailing bytes in the import section")
	return r.err
}

func (rw *rewriter) parseFunctions(s section) error {
	r := newReader(s.body, s.base)
	n := r.count(1)
	for i := 0; i < n && r.err == nil; i++ {
		t := r.u32()
		if r.err == nil && uint64(t) >= uint64(len(rw.types.types)) {
			return errorf(ErrMalformed, "function %d has type index %d out of range", len(rw.funcTypes), t)
		}
		rw.funcTypes = append(rw.funcTypes, t)
	}
	r.end("trailing bytes in the function section")
	rw.numDefined = uint32(n)
	return r.err
}

// checkMemories reads the memory section, which is copied as it is, so that
// a 64-bit memory is ErrUnsupported (the decoder and the bulk charges assume
// 32-bit addresses) and malformed limits are ErrMalformed.
func checkMemories(s section) error {
	r := newReader(s.body, s.base)
	n := r.count(2)
	for i := 0; i < n && r.err == nil; i++ {
		readLimits(r, true)
	}
	r.end("trailing bytes in the memory section")
	return r.err
}

// countGlobals counts the defined globals; their initializers are rewritten
// later with the other constant expressions.
func (rw *rewriter) countGlobals(s section) error {
	r := newReader(s.body, s.base)
	n := r.u32()
	rw.numGlobals += n
	return r.err
}

// checkExports rejects a module that already exports FuelExport.
func checkExports(s section) error {
	r := newReader(s.body, s.base)
	n := r.count(3)
	for i := 0; i < n && r.err == nil; i++ {
		if r.name() == FuelExport && r.err == nil {
			return errorf(ErrReservedName, "the module already exports %q; was it instrumented already?", FuelExport)
		}
		r.byte()
		r.u32()
	}
	return r.err
}
