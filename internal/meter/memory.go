package meter

const (
	pageSize = 65536
	// maxPages is the most pages a 32-bit memory can have.
	maxPages = 65536
)

// memories rewrites the memory section under Config.MaxMemoryPages: a
// defined memory's maximum becomes the smaller of its own and the cap (the
// cap when it declares none), so memory.grow past it returns -1 as the spec
// requires. A minimum above the cap is an error. Imported memories are the
// host's to limit and are left alone.
func (rw *rewriter) memories(s section) ([]byte, error) {
	r := newReader(s.body, s.base)
	n := r.count(2)
	capPages := uint64(rw.cfg.MaxMemoryPages)
	if capPages > maxPages {
		capPages = maxPages
	}
	out := AppendULEB(nil, uint64(n))
	for i := 0; i < n && r.err == nil; i++ {
		start := r.pos
		flags, min, max, hasMax := readLimits(r, true)
		if r.err != nil {
			break
		}
		if capPages == 0 {
			out = append(out, r.buf[start:r.pos]...)
			continue
		}
		if min > capPages {
			return nil, errorf(ErrMemoryTooLarge,
				"memory %d declares a minimum of %d pages (%d bytes), over the cap of %d pages (%d bytes)",
				int(rw.numImportMems)+i, min, min*pageSize, capPages, capPages*pageSize)
		}
		if !hasMax || max > capPages {
			max = capPages
			rw.info.CappedMemories++
		}
		out = append(out, flags|0x01)
		out = AppendULEB(out, min)
		out = AppendULEB(out, max)
	}
	r.end("trailing bytes in the memory section")
	return out, r.err
}
