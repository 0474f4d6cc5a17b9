package meter

// Helpers that assemble small modules byte by byte, for inputs the corpus
// cannot express: malformed binaries, unknown opcodes, limits, names.

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func leb(v uint64) []byte { return AppendULEB(nil, v) }

func str(s string) []byte { return appendName(nil, s) }

func vec(items ...[]byte) []byte { return cat(leb(uint64(len(items))), cat(items...)) }

func sec(id byte, parts ...[]byte) []byte { return appendSection(nil, id, cat(parts...)) }

func module(sections ...[]byte) []byte { return cat(header, cat(sections...)) }

// codeEntry is a code entry: size, no locals unless given, the code, end.
func codeEntry(locals []byte, code ...byte) []byte {
	if locals == nil {
		locals = leb(0)
	}
	b := cat(locals, code, []byte{opEnd})
	return cat(leb(uint64(len(b))), b)
}

// funcType encodes a function type.
func fnType(params, results []byte) []byte {
	return cat([]byte{0x60}, leb(uint64(len(params))), params, leb(uint64(len(results))), results)
}

// oneFunc is a module with a single function of type [] -> [] and code.
func oneFunc(code ...byte) []byte {
	return module(
		sec(secType, vec(fnType(nil, nil))),
		sec(secFunction, vec(leb(0))),
		sec(secCode, vec(codeEntry(nil, code...))),
	)
}

// nameSection builds a name section from subsections (id, contents).
func nameSection(subs ...[]byte) []byte {
	return sec(secCustom, str("name"), cat(subs...))
}

func nameSub(id byte, contents []byte) []byte {
	return cat([]byte{id}, leb(uint64(len(contents))), contents)
}

// nameMap encodes (index, name) pairs.
func nameMap(pairs ...any) []byte {
	var items [][]byte
	for i := 0; i < len(pairs); i += 2 {
		items = append(items, cat(leb(uint64(pairs[i].(int))), str(pairs[i+1].(string))))
	}
	return vec(items...)
}
