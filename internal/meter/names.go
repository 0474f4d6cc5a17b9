package meter

import "fmt"

// Name section subsections that are keyed by function index.
const (
	nameModule    = 0
	nameFunctions = 1
	nameLocals    = 2
	nameLabels    = 3
	nameGlobals   = 7
)

// readFuncNames reads the function names of a name section, for error
// messages. A malformed section yields what could be read.
func readFuncNames(s section) map[uint32]string {
	names := map[uint32]string{}
	r := newReader(s.body, s.base)
	r.name() // "name"
	for !r.done() && r.err == nil {
		id := r.byte()
		sub := newReader(r.bytes(r.count(1)), 0)
		if r.err != nil || id != nameFunctions {
			continue
		}
		n := sub.count(2)
		for i := 0; i < n && sub.err == nil; i++ {
			idx, name := sub.u32(), sub.name()
			if sub.err == nil {
				names[idx] = name
			}
		}
	}
	return names
}

// names rewrites the name section: function indices move up past the new
// import, which is named ImportModule.ImportName, and the fuel and save
// globals are named too when the section names globals.
// It returns nil when the section is malformed; the caller drops it, since
// engines ignore names they cannot read anyway.
func (rw *rewriter) names(s section) []byte {
	return rewriteNames(s, func(id byte, sub *reader, body []byte) []byte {
		switch id {
		case nameFunctions:
			return rw.functionNames(sub)
		case nameLocals, nameLabels:
			return rw.indirectNames(sub)
		case nameGlobals:
			return rw.globalNames(sub)
		}
		return body
	})
}

// rewriteNames returns the body of name section s with each subsection's body
// replaced by what rewrite makes of it (given its id, a reader of it and the
// body itself), or nil if the section or a rewrite's reading fails.
func rewriteNames(s section, rewrite func(id byte, sub *reader, body []byte) []byte) []byte {
	r := newReader(s.body, s.base)
	out := appendName(nil, r.name())
	for !r.done() && r.err == nil {
		id := r.byte()
		body := r.bytes(r.count(1))
		if r.err != nil {
			return nil
		}
		sub := newReader(body, 0)
		nb := rewrite(id, sub, body)
		if sub.err != nil {
			return nil
		}
		out = append(out, id)
		out = AppendULEB(out, uint64(len(nb)))
		out = append(out, nb...)
	}
	if r.err != nil {
		return nil
	}
	return out
}

func (rw *rewriter) functionNames(r *reader) []byte {
	n := r.count(2)
	var entries []byte
	count := 0
	add := func(idx uint32, name string) {
		entries = AppendULEB(entries, uint64(idx))
		entries = appendName(entries, name)
		count++
	}
	placed := false
	last := int64(-1)
	for i := 0; i < n && r.err == nil; i++ {
		idx, name := r.u32(), r.name()
		if int64(idx) <= last || idx >= rw.numFuncs {
			r.fail("function names out of order or range")
		}
		last = int64(idx)
		if !placed && idx >= rw.numImportFuncs {
			add(rw.numImportFuncs, ImportModule+"."+ImportName)
			placed = true
		}
		add(rw.shift(idx), name)
	}
	if !placed {
		add(rw.numImportFuncs, ImportModule+"."+ImportName)
	}
	r.end("trailing bytes")
	return append(AppendULEB(nil, uint64(count)), entries...)
}

func (rw *rewriter) indirectNames(r *reader) []byte {
	n := r.count(2)
	out := AppendULEB(nil, uint64(n))
	for i := 0; i < n && r.err == nil; i++ {
		idx := r.u32()
		if idx >= rw.numFuncs {
			r.fail("function index out of range")
		}
		out = AppendULEB(out, uint64(rw.shift(idx)))
		m := r.count(2)
		out = AppendULEB(out, uint64(m))
		for j := 0; j < m && r.err == nil; j++ {
			out = AppendULEB(out, uint64(r.u32()))
			out = appendName(out, r.name())
		}
	}
	r.end("trailing bytes")
	return out
}

func (rw *rewriter) globalNames(r *reader) []byte {
	n := r.count(2)
	start := r.pos
	for i := 0; i < n && r.err == nil; i++ {
		r.u32()
		r.name()
	}
	r.end("trailing bytes")
	out := AppendULEB(nil, uint64(n)+1+uint64(len(rw.saveTypes)))
	out = append(out, r.buf[start:r.pos]...)
	out = AppendULEB(out, uint64(rw.fuelGlobal))
	out = appendName(out, FuelExport)
	for i := range rw.saveTypes {
		out = AppendULEB(out, uint64(rw.fuelGlobal)+1+uint64(i))
		out = appendName(out, fmt.Sprintf("%s.save.%d", ImportModule, i))
	}
	return out
}
