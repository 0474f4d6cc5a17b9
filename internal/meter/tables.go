package meter

import "math"

// CapTables returns wasm with the maximum of every table it defines lowered so
// that its tables together can never hold more than maxElems elements: each
// may grow to its declared minimum plus an equal share of what the minimums
// leave of maxElems, or to its own maximum if that is smaller, and
// table.grow past it returns -1 as the specification allows. A host uses it
// to hold tables to a memory budget: a table without a maximum could
// otherwise grow to 2^32 elements (32 GiB) in one instruction. Minimums that
// add up to more than maxElems are ErrMemoryTooLarge. Imported tables are the
// host's to limit and are left alone.
//
// A module whose tables already fit is returned as it is; otherwise only the
// table section changes, and the other sections are copied unchanged. Errors
// wrap the package's sentinels; malformed input is an error, never a panic.
func CapTables(wasm []byte, maxElems uint64) (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, errorf(ErrMalformed, "internal error on this input: %v", p)
		}
	}()
	secs, err := splitSections(wasm)
	if err != nil {
		return nil, err
	}
	at := -1
	for i := range secs {
		if secs[i].id == secTable {
			at = i
		}
	}
	if at < 0 {
		return wasm, nil
	}
	type table struct {
		typ      byte
		min, max uint64
		hasMax   bool
	}
	r := newReader(secs[at].body, secs[at].base)
	tables := make([]table, r.count(3))
	sumMin := uint64(0)
	for i := 0; i < len(tables) && r.err == nil; i++ {
		t := &tables[i]
		t.typ, t.min, t.max, t.hasMax = readTableType(r)
		sumMin += t.min
	}
	r.end("trailing bytes in the table section")
	if r.err != nil {
		return nil, r.err
	}
	if sumMin > maxElems {
		return nil, errorf(ErrMemoryTooLarge, "the tables declare %d elements (%d bytes) at start, over the cap of %d elements",
			sumMin, sumMin*8, maxElems)
	}
	if len(tables) == 0 {
		return wasm, nil
	}
	share := (maxElems - sumMin) / uint64(len(tables))
	body, changed := AppendULEB(nil, uint64(len(tables))), false
	for _, t := range tables {
		if limit := min(t.min+share, math.MaxUint32); !t.hasMax || t.max > limit {
			t.max, t.hasMax, changed = limit, true, true
		}
		body = append(body, t.typ, 0x01)
		body = AppendULEB(body, t.min)
		body = AppendULEB(body, t.max)
	}
	if !changed {
		return wasm, nil
	}
	out = append(make([]byte, 0, len(wasm)+len(body)), header...)
	for i, s := range secs {
		if i == at {
			out = appendSection(out, secTable, body)
		} else {
			out = appendSection(out, s.id, s.body)
		}
	}
	return out, nil
}
