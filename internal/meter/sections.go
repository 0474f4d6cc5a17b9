package meter

// This file rewrites the sections that name functions by index: every index
// at or above the new import moves up by one.

// constExpr copies a constant expression from r to out, shifting ref.func.
// It accepts the instructions of the extended-const proposal.
func (rw *rewriter) constExpr(r *reader, out []byte) []byte {
	for r.err == nil {
		start, at := r.pos, r.offset()
		switch op, f := constInstr(r, false); {
		case r.err != nil:
		case op == opEnd:
			return append(out, opEnd)
		case op == opRefFunc:
			if f >= rw.numFuncs {
				r.err = errorf(ErrMalformed, "ref.func %d out of range (%d functions) at byte %d", f, rw.numFuncs, at)
			}
			out = append(out, opRefFunc)
			out = AppendULEB(out, uint64(rw.shift(f)))
			continue
		}
		out = append(out, r.buf[start:r.pos]...)
	}
	return out
}

// funcIndex copies one function index, shifted.
func (rw *rewriter) funcIndex(r *reader, out []byte) []byte {
	at := r.offset()
	f := r.u32()
	if r.err == nil && f >= rw.numFuncs {
		r.err = errorf(ErrMalformed, "function index %d out of range (%d functions) at byte %d", f, rw.numFuncs, at)
	}
	return AppendULEB(out, uint64(rw.shift(f)))
}

// globals rewrites the global section, appending the fuel global (a mutable
// i64 starting at zero) and the save globals after every existing global, so
// no index moves.
func (rw *rewriter) globals(s *section) ([]byte, error) {
	var out []byte
	var n int
	var r *reader
	if s != nil {
		r = newReader(s.body, s.base)
		n = r.count(3)
	}
	out = AppendULEB(out, uint64(n)+1+uint64(len(rw.saveTypes)))
	for i := 0; i < n && r.err == nil; i++ {
		start := r.pos
		readValType(r)
		if m := r.byte(); r.err == nil && m > 1 {
			r.fail("invalid global mutability %#x", m)
		}
		if r.err == nil {
			out = append(out, r.buf[start:r.pos]...)
			out = rw.constExpr(r, out)
		}
	}
	if r != nil {
		r.end("trailing bytes in the global section")
		if r.err != nil {
			return nil, r.err
		}
	}
	out = append(out, valI64, 0x01, opI64Const, 0x00, opEnd)
	for _, t := range rw.saveTypes {
		out = append(out, t, 0x01)
		out = append(out, zeroInit(t)...)
	}
	return out, nil
}

// exports rewrites the export section, shifting function exports and
// appending the export of the fuel global.
func (rw *rewriter) exports(s *section) ([]byte, error) {
	var out []byte
	var n int
	var r *reader
	if s != nil {
		r = newReader(s.body, s.base)
		n = r.count(3)
	}
	out = AppendULEB(out, uint64(n)+1)
	for i := 0; i < n && r.err == nil; i++ {
		out = appendName(out, r.name())
		at := r.offset()
		kind := r.byte()
		out = append(out, kind)
		switch kind {
		case 0x00:
			out = rw.funcIndex(r, out)
		case 0x01, 0x02, 0x03:
			out = AppendULEB(out, uint64(r.u32()))
		default:
			if r.err == nil {
				r.err = errorf(ErrMalformed, "invalid export kind %#x at byte %d", kind, at)
			}
		}
	}
	if r != nil {
		r.end("trailing bytes in the export section")
		if r.err != nil {
			return nil, r.err
		}
	}
	out = appendName(out, FuelExport)
	out = append(out, 0x03)
	return AppendULEB(out, uint64(rw.fuelGlobal)), nil
}

func (rw *rewriter) start(s section) ([]byte, error) {
	r := newReader(s.body, s.base)
	out := rw.funcIndex(r, nil)
	r.end("trailing bytes in the start section")
	return out, r.err
}

// elements rewrites all eight forms of element segment. Bit 0 of the flags
// marks a passive or declarative segment, bit 1 an explicit table index (for
// active ones) or declarative (for the others), bit 2 elements given as
// expressions instead of function indices.
func (rw *rewriter) elements(s section) ([]byte, error) {
	r := newReader(s.body, s.base)
	n := r.count(2)
	out := AppendULEB(nil, uint64(n))
	for i := 0; i < n && r.err == nil; i++ {
		at := r.offset()
		flags := r.u32()
		if r.err == nil && flags > 7 {
			return nil, errorf(ErrMalformed, "invalid element segment flags %d at byte %d", flags, at)
		}
		out = AppendULEB(out, uint64(flags))
		active := flags&1 == 0
		if active && flags&2 != 0 {
			out = AppendULEB(out, uint64(r.u32())) // table index
		}
		if active {
			out = rw.constExpr(r, out) // offset
		}
		if flags&3 != 0 { // an element kind or reference type is present
			kat := r.offset()
			b := r.byte()
			switch {
			case r.err != nil:
			case flags&4 == 0 && b != 0x00:
				return nil, errorf(ErrMalformed, "invalid element kind %#x at byte %d", b, kat)
			case flags&4 != 0 && b != valFuncref && b != valExternref:
				return nil, errorf(ErrUnsupported, "element type %#x at byte %d: typed function references are not supported", b, kat)
			}
			out = append(out, b)
		}
		m := r.count(1)
		out = AppendULEB(out, uint64(m))
		for j := 0; j < m && r.err == nil; j++ {
			if flags&4 == 0 {
				out = rw.funcIndex(r, out)
			} else {
				out = rw.constExpr(r, out)
			}
		}
	}
	r.end("trailing bytes in the element section")
	return out, r.err
}
