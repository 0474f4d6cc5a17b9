package meter

import "strings"

// Names the instrumented module uses to talk to its host.
const (
	// ImportModule and ImportName name the function the instrumented module
	// imports, of type [] -> []. The guest calls it when its fuel runs below
	// zero; the host adds fuel to the FuelExport global and returns, or makes
	// the call fail to stop the guest.
	ImportModule = "hotscript"
	ImportName   = "refuel"

	// FuelExport names the exported mutable i64 global that holds the fuel.
	// It starts at zero.
	FuelExport = "hotscript.fuel"
)

// Config tunes Instrument. The zero value meters code and leaves memories
// as declared.
type Config struct {
	// MaxMemoryPages caps every memory the module defines, in 64 KiB pages:
	// its maximum becomes the smaller of the declared maximum and this cap,
	// or the cap when none is declared, so memory.grow past it returns -1.
	// A declared minimum above the cap is ErrMemoryTooLarge. Imported
	// memories are left as they are. Zero means no cap.
	MaxMemoryPages uint32
}

// Info describes what Instrument did, for logs and for tuning budgets.
type Info struct {
	// Functions is the number of function bodies instrumented.
	Functions int
	// ImportedFunctions is the number of functions the input imports.
	ImportedFunctions int
	// Helpers is the number of small functions added for the refuel paths,
	// one per distinct set of value types a refuel path carries.
	Helpers int
	// Loops is the number of loops, each of which got a fuel check.
	Loops int
	// Checks is the number of fuel checks: one per function entry and one
	// per loop header. Only checks call refuel.
	Checks int
	// ChargePoints is the number of places that subtract a static cost.
	ChargePoints int
	// MaxFunctionCost is the largest static cost of one function body: the
	// sum of the costs of all its regions. Between two checks, one frame
	// can run at most this far, so fuel may end up below zero by about this
	// much per frame on the call stack when refuel is called.
	MaxFunctionCost int64
	// RefuelFunc is the function index of the refuel import in the output.
	RefuelFunc uint32
	// FuelGlobal is the global index of the fuel global in the output.
	FuelGlobal uint32
	// CappedMemories is the number of memories whose maximum was lowered or
	// set by Config.MaxMemoryPages.
	CappedMemories int
	// DroppedSections lists custom sections left out of the output because
	// they describe code by byte offset (DWARF, code metadata, source maps)
	// and would be wrong for the rewritten code, and "name" if the name
	// section was malformed.
	DroppedSections []string
	// BytesIn and BytesOut are the sizes of the input and output modules.
	BytesIn, BytesOut int
}

// rewriter holds the state of one Instrument call.
type rewriter struct {
	cfg  Config
	info *Info

	types          typeTable
	funcTypes      []uint32 // type index of each function of the input
	numImportFuncs uint32
	numImportMems  uint32
	numDefined     uint32
	numFuncs       uint32 // functions in the input, imported and defined
	numGlobals     uint32
	fuelGlobal     uint32
	refuelType     uint32

	helperBase  uint32 // function index of the first helper in the output
	helperTypes []uint32
	helperSigs  []funcType
	helperIndex map[string]uint32

	funcNames map[uint32]string
	track     tracker
	instrs    []instr // the body being rewritten, decoded by analyze
	costs     []int64
	scratch   []uint32
	sigBuf    []byte
	body      body
}

// shift maps a function index of the input to the output, where the refuel
// import sits after the other imported functions.
func (rw *rewriter) shift(f uint32) uint32 {
	if f >= rw.numImportFuncs {
		return f + 1
	}
	return f
}

// helper returns the function index of the refuel helper that passes
// values of the given types through, adding it on first use.
func (rw *rewriter) helper(types []byte) uint32 {
	if i, ok := rw.helperIndex[string(types)]; ok {
		return rw.helperBase + i
	}
	i := uint32(len(rw.helperTypes))
	sig := funcType{params: append([]byte(nil), types...)}
	sig.results = sig.params
	rw.helperTypes = append(rw.helperTypes, rw.types.intern(sig))
	rw.helperSigs = append(rw.helperSigs, sig)
	rw.helperIndex[string(types)] = i
	return rw.helperBase + i
}

// helperBody is the code of a refuel helper: store the fuel passed in, call
// the host, return the new fuel and the other arguments unchanged.
func (rw *rewriter) helperBody(sig funcType) []byte {
	b := []byte{0x00} // no locals
	b = append(b, opLocalGet, 0x00, opGlobalSet)
	b = appendULEB(b, uint64(rw.fuelGlobal))
	b = append(b, opCall)
	b = appendULEB(b, uint64(rw.numImportFuncs))
	b = append(b, opGlobalGet)
	b = appendULEB(b, uint64(rw.fuelGlobal))
	for i := 1; i < len(sig.params); i++ {
		b = append(b, opLocalGet)
		b = appendULEB(b, uint64(i))
	}
	return append(b, opEnd)
}

// droppedCustom reports custom sections that locate code by byte offset.
func droppedCustom(name string) bool {
	return strings.HasPrefix(name, ".debug_") || strings.HasPrefix(name, "metadata.code.") ||
		name == "sourceMappingURL" || name == "external_debug_info"
}

// code instruments every function body.
func (rw *rewriter) code(s section) ([]byte, error) {
	r := newReader(s.body, s.base)
	n := r.count(2)
	if r.err != nil {
		return nil, r.err
	}
	if uint32(n) != rw.numDefined {
		return nil, errorf(ErrMalformed, "the code section has %d bodies for %d functions", n, rw.numDefined)
	}
	bodies := make([]byte, 0, 2*len(s.body)+64)
	b := &rw.body
	for i := 0; i < n; i++ {
		size := r.count(1)
		at := r.offset()
		entry := r.bytes(size)
		if r.err != nil {
			return nil, r.err
		}
		idx := rw.numImportFuncs + uint32(i)
		b.idx = idx
		b.params = rw.types.types[rw.funcTypes[idx]].params
		err := parseBody(b, entry, at)
		var costs []int64
		if err == nil {
			costs, err = rw.analyze(b)
		}
		if err == nil {
			start := len(bodies)
			bodies, err = rw.emit(b, costs, bodies)
			if err == nil {
				bodies = spliceSize(bodies, start)
			}
		}
		if err != nil {
			return nil, inFunc(err, int(idx), rw.funcNames[idx], at)
		}
		var total int64
		for _, c := range costs {
			total += c
		}
		rw.info.MaxFunctionCost = max(rw.info.MaxFunctionCost, total)
		rw.info.Functions++
	}
	if !r.done() {
		return nil, errorf(ErrMalformed, "trailing bytes in the code section")
	}
	for _, sig := range rw.helperSigs {
		start := len(bodies)
		bodies = append(bodies, rw.helperBody(sig)...)
		bodies = spliceSize(bodies, start)
	}
	out := appendULEB(make([]byte, 0, len(bodies)+5), uint64(n+len(rw.helperSigs)))
	return append(out, bodies...), nil
}

// spliceSize inserts before b[start:] its length as a LEB128 prefix.
func spliceSize(b []byte, start int) []byte {
	size := appendULEB(nil, uint64(len(b)-start))
	b = append(b, size...)
	copy(b[start+len(size):], b[start:len(b)-len(size)])
	copy(b[start:], size)
	return b
}

// functions rewrites the function section, adding the helpers' types.
func (rw *rewriter) functions(s *section) []byte {
	var entries []byte
	if s != nil {
		r := newReader(s.body, s.base)
		r.count(1)
		entries = s.body[r.pos:]
	}
	out := appendULEB(nil, uint64(rw.numDefined)+uint64(len(rw.helperTypes)))
	out = append(out, entries...)
	for _, t := range rw.helperTypes {
		out = appendULEB(out, uint64(t))
	}
	return out
}

// typeSection re-encodes the types, the added ones appended.
func (rw *rewriter) typeSection(s *section) []byte {
	out := appendULEB(nil, uint64(len(rw.types.types)))
	if s != nil {
		r := newReader(s.body, s.base)
		r.count(3)
		out = append(out, s.body[r.pos:]...)
	}
	for _, t := range rw.types.types[rw.types.orig:] {
		out = t.appendTo(out)
	}
	return out
}

// imports appends the refuel import after the existing imports.
func (rw *rewriter) imports(s *section) []byte {
	var n uint64
	var entries []byte
	if s != nil {
		r := newReader(s.body, s.base)
		n = uint64(r.count(4))
		entries = s.body[r.pos:]
	}
	out := appendULEB(nil, n+1)
	out = append(out, entries...)
	out = appendName(out, ImportModule)
	out = appendName(out, ImportName)
	out = append(out, 0x00)
	return appendULEB(out, uint64(rw.refuelType))
}
