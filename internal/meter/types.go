package meter

// funcType is a function type; params and results are value type bytes.
type funcType struct {
	params, results []byte
}

// key is a map key that identifies the type by its encoding.
func (t funcType) key() string {
	b := make([]byte, 0, len(t.params)+len(t.results)+2)
	b = AppendULEB(b, uint64(len(t.params)))
	b = append(b, t.params...)
	b = AppendULEB(b, uint64(len(t.results)))
	return string(append(b, t.results...))
}

func (t funcType) appendTo(b []byte) []byte {
	b = append(b, 0x60)
	b = AppendULEB(b, uint64(len(t.params)))
	b = append(b, t.params...)
	b = AppendULEB(b, uint64(len(t.results)))
	return append(b, t.results...)
}

// typeTable is the module's type section plus the types the rewrite adds.
// Added types are appended, so no existing type index changes.
type typeTable struct {
	types []funcType
	orig  int
	index map[string]uint32 // first index of each distinct type
}

func (tt *typeTable) init(types []funcType) {
	tt.types, tt.orig = types, len(types)
	tt.index = make(map[string]uint32, len(types))
	for i, t := range types {
		if _, ok := tt.index[t.key()]; !ok {
			tt.index[t.key()] = uint32(i)
		}
	}
}

// intern returns the index of an identical type, adding one if needed.
func (tt *typeTable) intern(t funcType) uint32 {
	k := t.key()
	if i, ok := tt.index[k]; ok {
		return i
	}
	i := uint32(len(tt.types))
	tt.types = append(tt.types, t)
	tt.index[k] = i
	return i
}

// blockParams and blockResults give the value types of a block type.
func (tt *typeTable) blockParams(bt blockType) []byte {
	if bt.kind == btIndex {
		return tt.types[bt.index].params
	}
	return nil
}

// appendBlockType encodes a block type [params] -> [results], as an index
// when it is not expressible as empty or a single result.
func (tt *typeTable) appendBlockType(b []byte, params, results []byte) []byte {
	switch {
	case len(params) == 0 && len(results) == 0:
		return append(b, blockEmpty)
	case len(params) == 0 && len(results) == 1:
		return append(b, results[0])
	}
	idx := tt.intern(funcType{params: params, results: results})
	return AppendSLEB(b, int64(idx))
}
