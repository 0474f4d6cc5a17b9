package meter

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Kind is the kind of an import or export, as the binary format encodes it.
type Kind byte

// The kinds of imports and exports.
const (
	KindFunc   Kind = 0x00
	KindTable  Kind = 0x01
	KindMemory Kind = 0x02
	KindGlobal Kind = 0x03
)

// String names the kind: "function", "table", "memory" or "global".
func (k Kind) String() string {
	switch k {
	case KindFunc:
		return "function"
	case KindTable:
		return "table"
	case KindMemory:
		return "memory"
	case KindGlobal:
		return "global"
	}
	return fmt.Sprintf("kind %#x", byte(k))
}

// Import is one import of a module.
type Import struct {
	Module, Name string
	Kind         Kind
}

// Export is one export of a module.
type Export struct {
	Name  string
	Kind  Kind
	Index uint32 // in the index space of its kind
}

// Memory is the declared size of a linear memory, in 64 KiB pages.
type Memory struct {
	Min, Max uint32 // Max is meaningful only if HasMax
	HasMax   bool
	Imported bool
}

// Interface is what Scan reads of a module: what it imports, what it
// exports and the memories it has, which a host checks before it compiles
// or instruments the module.
type Interface struct {
	Imports  []Import // in import order
	Exports  []Export // in export order
	Memories []Memory // imported memories first, as in the index space
	// StackPointer is the index of the global that the module's name section
	// names __stack_pointer, if it is a mutable i32 the module defines: the
	// C stack pointer of clang's output (and Rust's, Zig's), which a call
	// that breaks off leaves where the call had moved it. HasStackPointer
	// says whether there is one.
	StackPointer    uint32
	HasStackPointer bool
	// RunsItself lists those of the functions the module exports as
	// CtorsName and InitializeName that it runs itself: its start function,
	// or called directly by a function of the module (a C module that runs
	// its constructors from an init function of its own).
	RunsItself []string
	// LongestName is the length in bytes of the longest module or function
	// name in the module's name section: the names an engine writes in every
	// frame of a stack trace (see CutNames).
	LongestName int
}

// CtorsName is the name under which wasm-ld can export a C module's
// constructors (-Wl,--export=__wasm_call_ctors).
const CtorsName = "__wasm_call_ctors"

// InitializeName is the name under which a WASI reactor exports its
// initialization, for the runtime to run once before any other export.
const InitializeName = "_initialize"

// StackPointerName is the name LLVM gives the C stack pointer's global.
const StackPointerName = "__stack_pointer"

// StackPointerExport is the name under which ExportGlobal exports the stack
// pointer for the runtime.
const StackPointerExport = "hotscript.stack_pointer"

// Limits Scan enforces on what a module declares. wazero has none of its
// own, and its costs grow with each of these numbers; no module a real
// compiler writes comes near them.
const (
	// MaxParams and MaxResults bound the parameters and the results of
	// one function type, and MaxFunctionLocals the locals one function
	// body declares, parameters aside. They are the limits of the
	// JavaScript embedding API (https://webassembly.github.io/spec/js-api/#limits),
	// which browsers enforce, so toolchains stay under them. wazero builds
	// a type's name by concatenation, in time and garbage quadratic in its
	// parameters (100,000 of them: 4.5 s and 14 GB allocated), and its
	// compilers keep state for every local of every function.
	MaxParams         = 1000
	MaxResults        = 1000
	MaxFunctionLocals = 50_000

	// MaxModuleLocals bounds the locals of all the functions a module
	// defines, their parameters included (a parameter is a local), or,
	// if the module's code section is larger than twice that many bytes,
	// one local per two bytes of it. A local that code
	// uses takes at least one local.get or local.set of two bytes, and
	// compilers declare far fewer: 10 to 50 per KiB of code in the TinyGo,
	// Rust and Zig modules of wazero's tests, 100 to 125 in clang's -O0
	// output. Without a bound in all, the bound per function is no bound:
	// 4,000 functions of 50,000 locals fit in 32 KB and take wazero's
	// compiler 4.6 s and 1.6 GB of memory. Up to this bound, its compiler
	// spends about 8 bytes and 50 ns per local, its interpreter about 64
	// bytes: 8 MB and 64 MB at 2^20.
	MaxModuleLocals = 1 << 20
)

// instrumentLocals is how many locals Instrument adds to a body at most:
// the fuel counter and a length for bulk instructions.
const instrumentLocals = 2

// Scan reads the imports, exports and memories of a module, with the
// decoder Instrument uses, and checks the structure of every section down
// to its entries, and the control flow of every function body.
//
// It exists so that a host can refuse a module before an engine decodes
// it: wazero's decoder trusts the counts it reads, allocating for a vector
// before it reads the entries, so a few bytes that claim 2^32 of them would
// end the process. Scan checks every count (of types and their parameters
// and results, imports, functions, tables, memories, globals, exports,
// element segments and their entries, bodies and their locals, data
// segments and their bytes, and the names of the name section) against the
// bytes left for it, and refuses more locals or parameters than the limits
// above; a module that imports ImportModule.ImportName, as Instrument's
// output does, may have the locals Instrument adds on top of them. What
// it does not refuse (typed references outside imports, tables with
// initializers, recursion groups) it reads byte for byte as wazero does,
// so that wazero meets only counts Scan has checked.
// Of the name section it reads the subsections wazero decodes (the module,
// function and local names); engines skip the others by their size. Of the
// DWARF sections it checks that opening them takes work in proportion to
// their size (see checkAbbrevs). Of the code it walks the instructions of
// every body as wazero reads them, and refuses a function whose blocks,
// loops, ifs and branches would take wazero's compiler more than about a
// second, or a module whose functions would in all (see MaxFlowCost): its
// compiler spends time superlinear in how deep they follow or nest in one
// another, and nothing stops it. It does not validate the instructions:
// where one cannot be read, wazero refuses the body, and the walk stops.
// A refused function is named by index, and by name if the name section
// has one.
//
// Scan reads the module once and allocates nothing in proportion to the
// counts it reads (the walk of a body keeps a frame per open block, at most
// one per two bytes). A module it accepts may still be invalid. Errors are those of Instrument
// for the same problems: ErrMalformed for input that is not a module, or
// whose counts exceed its bytes; ErrUnsupported for a module over a limit
// or using a feature the decoder does not read. Scan is safe for
// concurrent use.
func Scan(wasm []byte) (Interface, error) {
	secs, err := splitSections(wasm)
	if err != nil {
		return Interface{}, err
	}
	s := scanner{namedSP: -1}
	for i := range secs {
		if err := s.section(&secs[i]); err != nil {
			return Interface{}, withName(err, secs)
		}
	}
	if err := checkAbbrevs(secs); err != nil {
		return Interface{}, err
	}
	if sp := s.namedSP; sp >= 0 && sp >= s.importedGlobals && sp-s.importedGlobals < len(s.mutableI32) {
		s.m.StackPointer, s.m.HasStackPointer = uint32(sp), s.mutableI32[sp-s.importedGlobals]
	}
	return s.m, nil
}

// withName names the function an error of Scan is about, if the module's
// name section does: Scan reads the code before the names.
func withName(err error, secs []section) error {
	var e *Error
	if !errors.As(err, &e) || e.Func < 0 || e.FuncName != "" {
		return err
	}
	for _, s := range secs {
		if s.id == secCustom && s.name == "name" {
			e.FuncName = readFuncNames(s)[uint32(e.Func)]
		}
	}
	return err
}

// checkAbbrevs refuses DWARF that would take quadratic work to open. Go's
// debug/dwarf, which wazero runs on every module with DWARF sections (and
// Instrument, to carry the line table), parses the abbreviation table at the
// offset each unit of .debug_info names, once per distinct offset, each up to
// its terminator. Compilers give each unit a table of its own, or share one:
// the tables parsed then add up to at most the section. Units naming
// thousands of offsets into one long table add up to its square: 95 KB took
// 2.8 s and 1.9 GB to open, 228 KB ran the process out of memory.
//
// The check must read what debug/dwarf reads, byte for byte, or a module
// written to read one way to it and another to debug/dwarf passes: it follows
// debug/dwarf's New and parseUnits (the byte order from the first unit's
// version; 64-bit lengths cut to 32 bits; no table parsed unless every unit's
// length fits) and its parseAbbrev (numbers of any length, their bits past 64
// dropped), as of Go 1.26.
func checkAbbrevs(secs []section) error {
	dwarf := debugSections(secs)
	info, abbrev := dwarf[".debug_info"], dwarf[".debug_abbrev"]
	if len(info) < 6 || abbrev == nil {
		return nil // debug/dwarf refuses it at once, or parses no table
	}
	at := 4 // the first unit's version
	if info[0] == 0xff && info[1] == 0xff && info[2] == 0xff && info[3] == 0xff {
		if len(info) < 14 {
			return nil
		}
		at = 12
	}
	var order binary.ByteOrder
	switch x, y := info[at], info[at+1]; {
	case x == 0 && y != 0:
		order = binary.BigEndian
	case y == 0 && x != 0:
		order = binary.LittleEndian
	default:
		return nil // debug/dwarf refuses it
	}
	unit := func(off int) (length uint64, hdr int, ok bool) { // as buf.unitLength
		if off+4 > len(info) {
			return 0, 0, false
		}
		if l := order.Uint32(info[off:]); l == 0xffffffff {
			if off+12 > len(info) {
				return 0, 0, false
			}
			// debug/dwarf keeps a 64-bit length in its Offset, 32 bits
			return uint64(uint32(order.Uint64(info[off+4:]))), 12, true
		} else if l >= 0xfffffff0 {
			return 0, 0, false
		} else {
			return uint64(l), 4, true
		}
	}
	for off := 0; off < len(info); { // parseUnits' first pass: a length that does not fit stops all
		length, hdr, ok := unit(off)
		if !ok || length > uint64(len(info)-off-hdr) {
			return nil
		}
		off += hdr + int(length)
	}
	budget := 2*len(abbrev) + 64<<10
	seen := map[uint64]bool{}
	for off := 0; off < len(info); {
		length, hdr, _ := unit(off)
		off += hdr
		if length == 0 {
			continue // parseUnits reads the next length
		}
		next := off + int(length)
		if off+2 > len(info) {
			break
		}
		vers := order.Uint16(info[off:])
		if vers < 2 || vers > 5 {
			break // parseUnits stops
		}
		p := off + 2
		if vers >= 5 {
			p += 2 // the unit type and the address size
		}
		var table uint64
		switch {
		case hdr == 12 && p+8 <= len(info):
			table = order.Uint64(info[p:])
		case hdr == 4 && p+4 <= len(info):
			table = uint64(order.Uint32(info[p:]))
		default:
			return nil
		}
		if !seen[table] && table < uint64(len(abbrev)) {
			seen[table] = true
			if budget -= abbrevTableLen(abbrev[table:]); budget < 0 {
				return errorf(ErrUnsupported, ".debug_abbrev: %d units name abbreviation tables that overlap, "+
					"more than twice the section's %d bytes to parse", len(seen), len(abbrev))
			}
		}
		off = next
	}
	return nil
}

// abbrevTableLen returns the bytes debug/dwarf's parseAbbrev reads of the
// abbreviation table b starts with.
func abbrevTableLen(b []byte) int {
	pos := 0
	number := func() uint64 { // as buf.varint
		var c uint64
		var bits uint
		for i := pos; i < len(b); i++ {
			c |= uint64(b[i]&0x7f) << bits // past 64 bits, shifted out
			bits += 7
			if b[i]&0x80 == 0 {
				pos = i + 1
				return c
			}
		}
		return 0 // one that runs off the end reads 0, consuming nothing
	}
	for uint32(number()) != 0 { // an entry; 0 ends the table
		number() // tag
		if pos >= len(b) {
			break // the children byte underflows: an error, which ends the parse
		}
		pos++
		for {
			attr, form := number(), number()
			if attr == 0 && form == 0 {
				break
			}
			if uint32(form) == 0x21 { // DW_FORM_implicit_const
				number()
			}
		}
	}
	return pos
}

// scanner is the state of Scan across sections.
type scanner struct {
	m             Interface
	importedFuncs int
	instrumented  bool     // imports ImportModule.ImportName
	params        []uint16 // of each type (at most MaxParams)
	defParams     uint64   // of the defined functions in all: locals too
	flow          flowCheck
	// importedGlobals counts the imported globals; mutableI32 says of each
	// defined global whether it is a mutable i32; namedSP is the index of
	// the global the name section names StackPointerName, or -1.
	importedGlobals int
	mutableI32      []bool
	namedSP         int
	// start is the index of the start function, if hasStart.
	start    uint32
	hasStart bool
}

var sectionNames = [...]string{
	secCustom: "custom section", secType: "type section", secImport: "import section",
	secFunction: "function section", secTable: "table section", secMemory: "memory section",
	secGlobal: "global section", secExport: "export section", secStart: "start section",
	secElement: "element section", secCode: "code section", secData: "data section",
	secDataCount: "data count section", secTag: "tag section",
}

func (s *scanner) section(sec *section) error {
	r := newReader(sec.body, sec.base)
	where := part{sectionNames[sec.id], -1}
	switch sec.id {
	case secCustom:
		if sec.name != "name" {
			return nil // engines do not decode it, or only copy it
		}
		r.bytes(r.count(1)) // the name, "name"
		scanNames(r, func(global uint32, name []byte) {
			if string(name) == StackPointerName {
				s.namedSP = int(global)
			}
		}, func(name []byte) { s.m.LongestName = max(s.m.LongestName, len(name)) })
	case secType:
		s.scanTypes(r, where)
	case secImport:
		s.scanImports(r, where)
	case secFunction:
		n := vecLen(r, 1, "functions", where)
		for i := 0; i < n && r.err == nil; i++ {
			if t := r.u32(); int(t) < len(s.params) {
				s.defParams += uint64(s.params[t])
			}
		}
	case secTable:
		n := vecLen(r, 3, "tables", where)
		for i := 0; i < n && r.err == nil; i++ {
			scanTable(r)
		}
	case secMemory:
		n := vecLen(r, 2, "memories", where)
		for i := 0; i < n && r.err == nil; i++ {
			s.m.Memories = append(s.m.Memories, memoryOf(r, false))
		}
	case secGlobal:
		n := vecLen(r, 3, "globals", where)
		for i := 0; i < n && r.err == nil; i++ {
			t := skipValType(r)
			mutable := r.byte() == 1
			skipConstExpr(r)
			s.mutableI32 = append(s.mutableI32, t == valI32 && mutable)
		}
	case secExport:
		s.scanExports(r, where)
	case secStart:
		s.start, s.hasStart = r.u32(), true
	case secDataCount:
		r.u32()
	case secElement:
		scanElements(r, where)
	case secCode:
		inits := s.flow.inits[:0]
		for _, e := range s.m.Exports {
			if (e.Name == CtorsName || e.Name == InitializeName) && e.Kind == KindFunc {
				inits = append(inits, initCall{name: e.Name, index: e.Index, called: s.hasStart && s.start == e.Index})
			}
		}
		s.flow.inits = inits
		s.scanCode(r, where)
		for _, c := range s.flow.inits {
			if c.called {
				s.m.RunsItself = append(s.m.RunsItself, c.name)
			}
		}
	case secData:
		scanData(r, where)
	}
	if r.err == nil && !r.done() {
		r.fail("trailing bytes in the %s", where) // formatted only on failure
	}
	return r.err
}
