package meter

// ExportGlobal returns wasm, a module Scan accepted, with one more export: the
// global of index global under name, so that the host can read and set a
// global the module keeps to itself (see Interface.StackPointer). The other
// sections are copied as they are.
func ExportGlobal(wasm []byte, global uint32, name string) ([]byte, error) {
	secs, err := splitSections(wasm)
	if err != nil {
		return nil, err
	}
	entry := appendName(nil, name)
	entry = append(entry, byte(KindGlobal))
	entry = AppendULEB(entry, uint64(global))
	out := append(make([]byte, 0, len(wasm)+len(entry)+8), header...)
	done := false
	for _, s := range secs {
		switch {
		case s.id == secExport:
			r := newReader(s.body, s.base)
			n := r.count(3)
			if r.err != nil {
				return nil, r.err
			}
			body := AppendULEB(nil, uint64(n)+1)
			body = append(body, s.body[r.pos:]...)
			out = appendSection(out, secExport, append(body, entry...))
			done = true
			continue
		case !done && s.id != secCustom && sectionRank[s.id] > sectionRank[secExport]:
			out = appendSection(out, secExport, append(AppendULEB(nil, 1), entry...))
			done = true
		}
		out = appendSection(out, s.id, s.body)
	}
	if !done {
		out = appendSection(out, secExport, append(AppendULEB(nil, 1), entry...))
	}
	return out, nil
}
