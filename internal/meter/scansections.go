package meter

// The scanner's readers of each section of the binary format: the counts and
// shapes Scan checks, and the names it keeps for errors.

import "fmt"

// part names a part of a module in errors: format, with index in place of
// its %d unless index is negative. It is formatted only on failure, so that
// a scan that succeeds allocates nothing for it.
type part struct {
	format string
	index  int
}

func (p part) String() string {
	if p.index < 0 {
		return p.format
	}
	return fmt.Sprintf(p.format, p.index)
}

func (p part) prefix() string {
	if p.format == "" {
		return ""
	}
	return p.String() + ": "
}

// vecLen reads the length of a vector of what, found in where, whose
// entries take at least minSize bytes each, and fails if the bytes left
// cannot hold that many.
func vecLen(r *reader, minSize int, what string, where part) int {
	at := r.offset()
	n := r.u32()
	if r.err != nil {
		return 0
	}
	if left := len(r.buf) - r.pos; uint64(n)*uint64(minSize) > uint64(left) {
		r.err = errorf(ErrMalformed, "%s%d %s at byte %d, more than the %d bytes left can hold",
			where.prefix(), n, what, at, left)
		return 0
	}
	return int(n)
}

// span reads a length-prefixed run of bytes (a name, a body, a segment's
// contents), what in where, and fails if it runs past the bytes left.
func span(r *reader, what string, where part) []byte {
	at := r.offset()
	n := r.u32()
	if r.err != nil {
		return nil
	}
	if left := len(r.buf) - r.pos; uint64(n) > uint64(left) {
		r.err = errorf(ErrMalformed, "%s%s of %d bytes at byte %d, more than the %d bytes left",
			where.prefix(), what, n, at, left)
		return nil
	}
	return r.bytes(int(n))
}

// Encodings wazero reads that the instrumenter rejects.
const (
	refNull    = 0x63 // (ref null ht), ht a signed 33-bit heap type
	refNonNull = 0x64 // (ref ht)
	valExnref  = 0x69
	formFunc   = 0x60
	formRec    = 0x4e
	tableInit  = 0x40 // a table type with an initializer follows
)

// skipValType reads a value type as wazero does: one byte, or a reference
// type prefix and its heap type. wazero checks what it means.
func skipValType(r *reader) byte {
	b := r.byte()
	if b == refNull || b == refNonNull {
		r.sleb(33)
	}
	return b
}

// skipConstExpr reads a constant expression with the instructions wazero
// accepts in one, through its end.
func skipConstExpr(r *reader) {
	for r.err == nil {
		if op, _ := constInstr(r, true); op == opEnd {
			return
		}
	}
}

func (s *scanner) scanTypes(r *reader, where part) {
	n := vecLen(r, 2, "types", where)
	t := 0 // index of the next type; a recursion group holds several
	for i := 0; i < n && r.err == nil; i++ {
		at := r.offset()
		switch form := r.byte(); {
		case r.err != nil:
		case form == formFunc:
			s.funcType(scanFuncType(r, t))
			t++
		case form == formRec:
			k := vecLen(r, 3, "types", part{"recursion group at type %d", t})
			for j := 0; j < k && r.err == nil; j++ {
				at := r.offset()
				if f := r.byte(); r.err == nil && f != formFunc {
					r.err = errorf(ErrUnsupported, "type %d: type form %#x at byte %d: GC types are not supported", t, f, at)
				}
				s.funcType(scanFuncType(r, t))
				t++
			}
		case form == 0x50 || form == 0x4f || form == 0x5e || form == 0x5f:
			r.err = errorf(ErrUnsupported, "type %d: type form %#x at byte %d: GC types are not supported", t, form, at)
		default:
			r.err = errorf(ErrMalformed, "type %d: invalid type form %#x at byte %d", t, form, at)
		}
	}
}

// funcType records the next function type's arity.
func (s *scanner) funcType(a arity) {
	s.params = append(s.params, a.params)
	s.flow.types = append(s.flow.types, a)
}

// scanFuncType reads function type t and returns its numbers of parameters
// and results.
func scanFuncType(r *reader, t int) (a arity) {
	where := part{"type %d", t}
	for k, v := range [2]struct {
		what string
		max  int
	}{{"parameters", MaxParams}, {"results", MaxResults}} {
		n := vecLen(r, 1, v.what, where)
		if n > v.max {
			r.err = errorf(ErrUnsupported, "type %d: %d %s, more than the %d a function type may have", t, n, v.what, v.max)
		}
		for i := 0; i < n && r.err == nil; i++ {
			skipValType(r)
		}
		if r.err == nil {
			if k == 0 {
				a.params = uint16(n)
			} else {
				a.results = uint16(n)
			}
		}
	}
	return a
}

func (s *scanner) scanImports(r *reader, where part) {
	n := vecLen(r, 4, "imports", where)
	for i := 0; i < n && r.err == nil; i++ {
		imp := Import{Module: string(span(r, "module name", where)), Name: string(span(r, "name", where))}
		at := r.offset()
		imp.Kind = Kind(r.byte())
		switch imp.Kind {
		case KindFunc:
			r.u32()
			s.importedFuncs++
			s.instrumented = s.instrumented || imp.Module == ImportModule && imp.Name == ImportName
		case KindTable:
			readTableType(r)
		case KindMemory:
			s.m.Memories = append(s.m.Memories, memoryOf(r, true))
		case KindGlobal:
			readValType(r)
			r.byte()
			s.importedGlobals++
		case 0x04:
			r.err = errorf(ErrUnsupported, "tag import at byte %d: exception handling is not supported", at)
		default:
			if r.err == nil {
				r.err = errorf(ErrMalformed, "invalid import kind %#x at byte %d", byte(imp.Kind), at)
			}
		}
		s.m.Imports = append(s.m.Imports, imp)
	}
}

func (s *scanner) scanExports(r *reader, where part) {
	n := vecLen(r, 3, "exports", where)
	for i := 0; i < n && r.err == nil; i++ {
		e := Export{Name: string(span(r, "name", where)), Kind: Kind(r.byte()), Index: r.u32()}
		if r.err == nil && e.Kind > KindGlobal {
			r.err = errorf(ErrMalformed, "export %q has the invalid kind %#x", e.Name, byte(e.Kind))
		}
		s.m.Exports = append(s.m.Exports, e)
	}
}

// scanTable reads a table type as wazero does, which accepts an
// initializer and typed references.
func scanTable(r *reader) {
	at := r.offset()
	b := r.byte()
	init := b == tableInit
	if init {
		if z := r.byte(); r.err == nil && z != 0 {
			r.err = errorf(ErrMalformed, "invalid table type %#x %#x at byte %d", b, z, at)
		}
		b = r.byte()
	}
	if b == refNull || b == refNonNull {
		r.sleb(33)
	}
	readLimits(r, false)
	if init {
		skipConstExpr(r)
	}
}

// scanElements reads the element section's eight forms of segment (see
// rewriter.elements).
func scanElements(r *reader, where part) {
	n := vecLen(r, 3, "segments", where)
	for i := 0; i < n && r.err == nil; i++ {
		seg := part{"element segment %d", i}
		at := r.offset()
		flags := r.u32()
		if r.err == nil && flags > 7 {
			r.err = errorf(ErrMalformed, "element segment %d: invalid flags %d at byte %d", i, flags, at)
		}
		if flags&1 == 0 { // active
			if flags&2 != 0 {
				r.u32() // table index
			}
			skipConstExpr(r)
		}
		if flags&3 != 0 { // an element kind or reference type is present
			if flags&4 == 0 {
				r.byte()
			} else {
				skipValType(r)
			}
		}
		if flags&4 == 0 {
			m := vecLen(r, 1, "function indices", seg)
			for j := 0; j < m && r.err == nil; j++ {
				r.u32()
			}
		} else {
			m := vecLen(r, 1, "expressions", seg)
			for j := 0; j < m && r.err == nil; j++ {
				skipConstExpr(r)
			}
		}
	}
}

func scanData(r *reader, where part) {
	n := vecLen(r, 2, "segments", where)
	for i := 0; i < n && r.err == nil; i++ {
		at := r.offset()
		switch flags := r.u32(); {
		case r.err != nil:
		case flags == 0: // active, memory 0
			skipConstExpr(r)
		case flags == 1: // passive
		case flags == 2: // active, memory given
			r.u32()
			skipConstExpr(r)
		default:
			r.err = errorf(ErrMalformed, "data segment %d: invalid flags %d at byte %d", i, flags, at)
		}
		span(r, "contents", part{"data segment %d", i})
	}
}

// scanCode reads the bodies' sizes and local declarations, and holds the
// locals to the limits.
func (s *scanner) scanCode(r *reader, where part) {
	n := vecLen(r, 2, "bodies", where)
	perFunc, inAll := uint64(MaxFunctionLocals), max(uint64(MaxModuleLocals), uint64(len(r.buf))/2)
	if s.instrumented {
		perFunc += instrumentLocals
		inAll += instrumentLocals * uint64(n)
	}
	s.flow.reset(flowBudget(len(r.buf)))
	total := s.defParams // parameters are locals, which a compiler keeps state for
	if total > inAll {
		r.err = errorf(ErrUnsupported, "the parameters of its functions are %d locals in all, more than the %d this module may have "+
			"(%d, or one per two bytes of the code section if that is more)", total, inAll, MaxModuleLocals)
		return
	}
	for i := 0; i < n && r.err == nil; i++ {
		fn, at := s.importedFuncs+i, r.offset()
		b := span(r, "body", part{})
		body := newReader(b, r.offset()-len(b))
		if r.err != nil {
			r.err = inFunc(r.err, fn, "", at)
			return
		}
		k := vecLen(body, 2, "local declarations", part{})
		var locals uint64
		for j := 0; j < k && body.err == nil; j++ {
			locals += uint64(body.u32())
			skipValType(body)
		}
		total += locals
		switch {
		case body.err != nil:
		case locals > perFunc:
			body.err = errorf(ErrUnsupported, "declares %d locals, more than the %d a function may have", locals, MaxFunctionLocals)
		case total > inAll:
			body.err = errorf(ErrUnsupported, "brings the locals in all to %d, more than the %d this module may declare "+
				"(%d, or one per two bytes of the code section if that is more)", total, inAll, MaxModuleLocals)
		default:
			body.err = s.flow.body(b[body.pos:], body.offset())
		}
		if body.err != nil {
			r.err = inFunc(body.err, fn, "", at)
		}
	}
}

// scanNames reads the name section after its name: the subsections that
// wazero decodes entry by entry, and the framing of the others, and calls
// global with each global name it can read (wazero skips their subsection:
// a malformed one is not refused), and traced with the module name and each
// function name.
func scanNames(r *reader, global func(index uint32, name []byte), traced func(name []byte)) {
	where := part{"name section", -1}
	for !r.done() && r.err == nil {
		id := r.byte()
		b := span(r, "subsection", where)
		sub := newReader(b, r.offset()-len(b))
		switch id {
		case nameModule:
			traced(span(sub, "module name", where))
		case nameFunctions:
			scanNameMap(sub, "function names", where, func(_ uint32, name []byte) { traced(name) })
		case nameLocals:
			n := vecLen(sub, 2, "functions with local names", where)
			for i := 0; i < n && sub.err == nil; i++ {
				sub.u32()
				scanNameMap(sub, "local names", where, nil)
			}
		case nameGlobals:
			scanNameMap(sub, "global names", where, global)
			continue
		default:
			continue
		}
		sub.end("trailing bytes in subsection %d of the name section", id)
		if r.err == nil {
			r.err = sub.err
		}
	}
}

// scanNameMap reads a name map: what, as index and name pairs, each given to
// each if it is not nil.
func scanNameMap(r *reader, what string, where part, each func(index uint32, name []byte)) {
	n := vecLen(r, 2, what, where)
	for i := 0; i < n && r.err == nil; i++ {
		idx, name := r.u32(), span(r, "name", where)
		if each != nil && r.err == nil {
			each(idx, name)
		}
	}
}

func memoryOf(r *reader, imported bool) Memory {
	_, min, max, hasMax := readLimits(r, true)
	return Memory{Min: uint32(min), Max: uint32(max), HasMax: hasMax, Imported: imported}
}
