package meter

import (
	"math"
	"strings"
)

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

// Info describes what Instrument did, for logs and for tuning budgets.
type Info struct {
	// Functions is the number of function bodies instrumented.
	Functions int
	// ImportedFunctions is the number of functions the input imports.
	ImportedFunctions int
	// SaveGlobals is the number of mutable globals added, after the fuel
	// global, that carry a loop's locals across the call to refuel, one per
	// value type and position among the locals a refuel path saves.
	SaveGlobals int
	// Loops is the number of loops, each of which got a fuel check.
	Loops int
	// UnrolledLoops is the number of small loops whose body was copied so
	// that they check their fuel once per few iterations.
	UnrolledLoops int
	// Checks is the number of fuel checks: one per function entry and one
	// per loop header. Only checks call refuel.
	Checks int
	// ChargePoints is the number of places that subtract a static cost.
	ChargePoints int
	// MaxFunctionCost is the largest static cost of one function body: the
	// sum of the costs of all its regions, each unrolled loop's counted once
	// per copy of its body. Between two checks, one frame
	// can run at most this far, so fuel may end up below zero by about this
	// much per frame on the call stack when refuel is called, plus, when a
	// bulk instruction's check calls it, that instruction's length charge
	// (not a static cost: up to 2^26 for a 4 GiB fill).
	MaxFunctionCost int64
	// RefuelFunc is the function index of the refuel import in the output.
	RefuelFunc uint32
	// FuelGlobal is the global index of the fuel global in the output.
	FuelGlobal uint32
	// DroppedSections lists custom sections left out of the output because
	// they describe code by byte offset (DWARF, code metadata, source maps)
	// and would be wrong for the rewritten code, and "name" if the name
	// section was malformed.
	DroppedSections []string
	// LineRows is the number of rows of the line table the output carries
	// in place of the input's DWARF, 0 if the input has none: it gives the
	// instructions of the output the input's source lines.
	LineRows int
	// BytesIn and BytesOut are the sizes of the input and output modules.
	BytesIn, BytesOut int
}

// rewriter holds the state of one Instrument call.
type rewriter struct {
	info *Info
	flow flowCheck // the output's control flow, which wazero compiles

	types          typeTable
	funcTypes      []uint32 // type index of each function of the input
	numImportFuncs uint32
	numDefined     uint32
	numFuncs       uint32 // functions in the input, imported and defined
	numGlobals     uint32
	fuelGlobal     uint32
	refuelType     uint32

	saveTypes []byte            // value type of each save global, in index order
	saveIndex map[byte][]uint32 // value type -> its save globals, in order

	funcNames map[uint32]string
	track     tracker
	instrs    []instr // the body being rewritten, decoded by analyze
	costs     []int64
	credits   []int64 // by region: fuel a loop header charges ahead, credited on entry
	scratch   []uint32
	scratch2  []uint32
	scratchB  []byte

	unrolledCost int64 // fuel the current body's unrolled loops may run past a check
	body         body

	// Source lines (see lines.go): the input's line table, nil without one,
	// and where its instructions land in the output.
	lines     *lineTable
	rows      []lineRow
	scratchR  []lineRow
	codeStart int // offset of the input's code section in the input
}

// shift maps a function index of the input to the output, where the refuel
// import sits after the other imported functions.
func (rw *rewriter) shift(f uint32) uint32 {
	if f >= rw.numImportFuncs {
		return f + 1
	}
	return f
}

// saveGlobal returns the index of the n-th global of type t that refuel
// paths save locals in, adding it on first use. Save globals follow the fuel
// global, so no existing global index moves.
func (rw *rewriter) saveGlobal(t byte, n int) uint32 {
	gs := rw.saveIndex[t]
	for len(gs) <= n {
		gs = append(gs, rw.fuelGlobal+1+uint32(len(rw.saveTypes)))
		rw.saveTypes = append(rw.saveTypes, t)
	}
	rw.saveIndex[t] = gs
	return gs[n]
}

// zeroInit is the constant expression of a global's zero value.
func zeroInit(t byte) []byte {
	switch t {
	case valI32:
		return []byte{0x41, 0x00, opEnd}
	case valI64:
		return []byte{opI64Const, 0x00, opEnd}
	case valF32:
		return []byte{0x43, 0, 0, 0, 0, opEnd}
	case valF64:
		return []byte{0x44, 0, 0, 0, 0, 0, 0, 0, 0, opEnd}
	case valV128:
		return append(append([]byte{0xfd, 0x0c}, make([]byte, 16)...), opEnd)
	}
	return []byte{0xd0, t, opEnd} // ref.null of a reference type
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
	rw.codeStart = s.base
	rw.flow.reset(math.MaxUint64)
	rw.flow.types = rw.flow.types[:0]
	for _, t := range rw.types.types {
		rw.flow.types = append(rw.flow.types, arity{uint16(len(t.params)), uint16(len(t.results))})
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
		rw.unrolledCost = 0
		if err == nil {
			costs, err = rw.analyze(b)
		}
		if err == nil {
			start, firstRow := len(bodies), len(rw.rows)
			bodies, err = rw.emit(b, costs, bodies)
			if err == nil {
				err = rw.flow.body(entryCode(bodies[start:]), -1)
			}
			if err != nil {
				if e, ok := err.(*Error); ok && e.Err == ErrUnsupported {
					e.Detail = "instrumented, " + e.Detail
				}
			} else {
				end := len(bodies)
				bodies = spliceSize(bodies, start)
				for j := firstRow; j < len(rw.rows); j++ {
					rw.rows[j].at += len(bodies) - end // the size before the body
				}
			}
		}
		if err != nil {
			return nil, inFunc(err, int(idx), rw.funcNames[idx], at)
		}
		total := rw.unrolledCost
		for _, c := range costs {
			total += c
		}
		rw.info.MaxFunctionCost = max(rw.info.MaxFunctionCost, total)
		rw.info.Functions++
	}
	r.end("trailing bytes in the code section")
	if r.err != nil {
		return nil, r.err
	}
	if rw.flow.budget = flowBudget(len(bodies)); rw.flow.total > rw.flow.budget {
		err := rw.flow.overBudget()
		err.Detail = "instrumented, " + err.Detail
		return nil, err
	}
	out := AppendULEB(make([]byte, 0, len(bodies)+5), uint64(n))
	for j := range rw.rows {
		rw.rows[j].at += len(out)
	}
	return append(out, bodies...), nil
}

// spliceSize inserts before b[start:] its length as a LEB128 prefix.
func spliceSize(b []byte, start int) []byte {
	size := AppendULEB(nil, uint64(len(b)-start))
	b = append(b, size...)
	copy(b[start+len(size):], b[start:len(b)-len(size)])
	copy(b[start:], size)
	return b
}

// typeSection re-encodes the types, the added ones appended.
func (rw *rewriter) typeSection(s *section) []byte {
	out := AppendULEB(nil, uint64(len(rw.types.types)))
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
	out := AppendULEB(nil, n+1)
	out = append(out, entries...)
	out = appendName(out, ImportModule)
	out = appendName(out, ImportName)
	out = append(out, 0x00)
	return AppendULEB(out, uint64(rw.refuelType))
}
