package meter

import "fmt"

// Instrument returns a copy of the WebAssembly module wasm that meters its
// own execution, as the package documentation describes, together with a
// summary of the rewrite. The output depends only on wasm: the same input
// gives the same bytes.
//
// Errors wrap one of the sentinel errors of this package (test with
// errors.Is) in an *Error that names the function at fault. Malformed
// input is an error, never a panic.
//
// Instrument is safe for concurrent use; it does not modify wasm.
func Instrument(wasm []byte) (out []byte, info Info, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, errorf(ErrMalformed, "internal error on this input: %v", p)
		}
	}()
	rw := &rewriter{info: &info, saveIndex: map[byte][]uint32{}}
	out, err = rw.run(wasm)
	if err != nil {
		return nil, Info{}, err
	}
	info.BytesIn, info.BytesOut = len(wasm), len(out)
	return out, info, nil
}

func (rw *rewriter) run(wasm []byte) ([]byte, error) {
	secs, err := splitSections(wasm)
	if err != nil {
		return nil, err
	}
	var known [secTag + 1]*section
	for i := range secs {
		s := &secs[i]
		if s.id != secCustom {
			known[s.id] = s
		} else if s.name == "name" {
			rw.funcNames = readFuncNames(*s)
		}
	}
	rw.types.init(nil)
	rw.lines = readLineTable(secs)
	steps := []struct {
		id    byte
		parse func(section) error
	}{
		{secType, rw.parseTypes},
		{secImport, rw.parseImports},
		{secFunction, rw.parseFunctions},
		{secMemory, checkMemories},
		{secGlobal, rw.countGlobals},
		{secExport, func(s section) error { return checkExports(s) }},
	}
	for _, st := range steps {
		if s := known[st.id]; s != nil {
			if err := st.parse(*s); err != nil {
				return nil, err
			}
		}
	}
	rw.numFuncs = rw.numImportFuncs + rw.numDefined
	rw.fuelGlobal = rw.numGlobals
	rw.refuelType = rw.types.intern(funcType{})
	rw.info.ImportedFunctions = int(rw.numImportFuncs)
	rw.info.RefuelFunc = rw.numImportFuncs
	rw.info.FuelGlobal = rw.fuelGlobal

	// The code goes first: it decides which types and globals are added.
	var code []byte
	if s := known[secCode]; s != nil {
		if code, err = rw.code(*s); err != nil {
			return nil, err
		}
	} else if rw.numDefined != 0 {
		return nil, errorf(ErrMalformed, "%d functions declared but no code section", rw.numDefined)
	}
	rw.info.SaveGlobals = len(rw.saveTypes)

	out := make([]byte, 0, len(wasm)+len(code)+128)
	out = append(out, header...)
	// Sections the module lacks but the output needs, in section order.
	pending := []byte{secType, secImport, secGlobal, secExport}
	flush := func(rank int) {
		for len(pending) > 0 && sectionRank[pending[0]] < rank {
			id := pending[0]
			pending = pending[1:]
			if known[id] != nil {
				continue
			}
			var body []byte
			switch id {
			case secType:
				body = rw.typeSection(nil)
			case secImport:
				body = rw.imports(nil)
			case secGlobal:
				body, _ = rw.globals(nil)
			case secExport:
				body, _ = rw.exports(nil)
			}
			out = appendSection(out, id, body)
		}
	}
	for i := range secs {
		s := &secs[i]
		if s.id == secCustom {
			out = rw.custom(out, s)
			continue
		}
		flush(sectionRank[s.id])
		var body []byte
		switch s.id {
		case secType:
			body = rw.typeSection(s)
		case secImport:
			body = rw.imports(s)
		case secGlobal:
			body, err = rw.globals(s)
		case secExport:
			body, err = rw.exports(s)
		case secStart:
			body, err = rw.start(*s)
		case secElement:
			body, err = rw.elements(*s)
		case secCode:
			body = code
		default: // table, memory, data count, data
			body = s.body
		}
		if err != nil {
			return nil, err
		}
		out = appendSection(out, s.id, body)
	}
	flush(len(sectionRank) + 1)
	if rw.lines != nil {
		out, rw.info.LineRows = appendLineSections(out, rw.lines, rw.rows, len(code))
	}
	return out, nil
}

// custom copies a custom section, rewriting the name section and dropping
// sections that locate code by offset.
func (rw *rewriter) custom(out []byte, s *section) []byte {
	switch {
	case s.name == "name":
		if nb := rw.names(*s); nb != nil {
			return appendSection(out, secCustom, nb)
		}
	case !droppedCustom(s.name):
		return appendSection(out, secCustom, s.body)
	}
	rw.info.DroppedSections = append(rw.info.DroppedSections, s.name)
	return out
}

// String summarizes the rewrite on one line.
func (i Info) String() string {
	return fmt.Sprintf("%d functions, %d loops, %d checks, %d charge points, %d save globals, %d -> %d bytes",
		i.Functions, i.Loops, i.Checks, i.ChargePoints, i.SaveGlobals, i.BytesIn, i.BytesOut)
}
