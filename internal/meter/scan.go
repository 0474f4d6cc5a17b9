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
}

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
	var s scanner
	for i := range secs {
		if err := s.section(&secs[i]); err != nil {
			return Interface{}, withName(err, secs)
		}
	}
	if err := checkAbbrevs(secs); err != nil {
		return Interface{}, err
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
		scanNames(r)
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
			skipValType(r)
			r.byte() // mutability
			skipConstExpr(r)
		}
	case secExport:
		s.scanExports(r, where)
	case secStart, secDataCount:
		r.u32()
	case secElement:
		scanElements(r, where)
	case secCode:
		s.scanCode(r, where)
	case secData:
		scanData(r, where)
	}
	if r.err == nil && !r.done() {
		r.fail("trailing bytes in the %s", where) // formatted only on failure
	}
	return r.err
}

// part names a part of a module in errors: format, with index in place of
// its %d unless index is negative. It is formatted only on failure, so that
// a scan that succeeds allocates nothing for it.
type part struct {
	format string
	index  int
}

func (p part) String() string {
	if p.index < 0 {
		return p.format
	}
	return fmt.Sprintf(p.format, p.index)
}

func (p part) prefix() string {
	if p.format == "" {
		return ""
	}
	return p.String() + ": "
}

// vecLen reads the length of a vector of what, found in where, whose
// entries take at least minSize bytes each, and fails if the bytes left
// cannot hold that many.
func vecLen(r *reader, minSize int, what string, where part) int {
	at := r.offset()
	n := r.u32()
	if r.err != nil {
		return 0
	}
	if left := len(r.buf) - r.pos; uint64(n)*uint64(minSize) > uint64(left) {
		r.err = errorf(ErrMalformed, "%s%d %s at byte %d, more than the %d bytes left can hold",
			where.prefix(), n, what, at, left)
		return 0
	}
	return int(n)
}

// span reads a length-prefixed run of bytes (a name, a body, a segment's
// contents), what in where, and fails if it runs past the bytes left.
func span(r *reader, what string, where part) []byte {
	at := r.offset()
	n := r.u32()
	if r.err != nil {
		return nil
	}
	if left := len(r.buf) - r.pos; uint64(n) > uint64(left) {
		r.err = errorf(ErrMalformed, "%s%s of %d bytes at byte %d, more than the %d bytes left",
			where.prefix(), what, n, at, left)
		return nil
	}
	return r.bytes(int(n))
}

// Encodings wazero reads that the instrumenter rejects.
const (
	refNull    = 0x63 // (ref null ht), ht a signed 33-bit heap type
	refNonNull = 0x64 // (ref ht)
	valExnref  = 0x69
	formFunc   = 0x60
	formRec    = 0x4e
	tableInit  = 0x40 // a table type with an initializer follows
)

// skipValType reads a value type as wazero does: one byte, or a reference
// type prefix and its heap type. wazero checks what it means.
func skipValType(r *reader) {
	if b := r.byte(); b == refNull || b == refNonNull {
		r.sleb(33)
	}
}

// skipConstExpr reads a constant expression with the instructions wazero
// accepts in one, through its end.
func skipConstExpr(r *reader) {
	for r.err == nil {
		if op, _ := constInstr(r, true); op == opEnd {
			return
		}
	}
}

func (s *scanner) scanTypes(r *reader, where part) {
	n := vecLen(r, 2, "types", where)
	t := 0 // index of the next type; a recursion group holds several
	for i := 0; i < n && r.err == nil; i++ {
		at := r.offset()
		switch form := r.byte(); {
		case r.err != nil:
		case form == formFunc:
			s.params = append(s.params, scanFuncType(r, t))
			t++
		case form == formRec:
			k := vecLen(r, 3, "types", part{"recursion group at type %d", t})
			for j := 0; j < k && r.err == nil; j++ {
				at := r.offset()
				if f := r.byte(); r.err == nil && f != formFunc {
					r.err = errorf(ErrUnsupported, "type %d: type form %#x at byte %d: GC types are not supported", t, f, at)
				}
				s.params = append(s.params, scanFuncType(r, t))
				t++
			}
		case form == 0x50 || form == 0x4f || form == 0x5e || form == 0x5f:
			r.err = errorf(ErrUnsupported, "type %d: type form %#x at byte %d: GC types are not supported", t, form, at)
		default:
			r.err = errorf(ErrMalformed, "type %d: invalid type form %#x at byte %d", t, form, at)
		}
	}
}

// scanFuncType reads function type t and returns its number of parameters.
func scanFuncType(r *reader, t int) (params uint16) {
	where := part{"type %d", t}
	for k, v := range [2]struct {
		what string
		max  int
	}{{"parameters", MaxParams}, {"results", MaxResults}} {
		n := vecLen(r, 1, v.what, where)
		if n > v.max {
			r.err = errorf(ErrUnsupported, "type %d: %d %s, more than the %d a function type may have", t, n, v.what, v.max)
		}
		for i := 0; i < n && r.err == nil; i++ {
			skipValType(r)
		}
		if k == 0 && r.err == nil {
			params = uint16(n)
		}
	}
	return params
}

func (s *scanner) scanImports(r *reader, where part) {
	n := vecLen(r, 4, "imports", where)
	for i := 0; i < n && r.err == nil; i++ {
		imp := Import{Module: string(span(r, "module name", where)), Name: string(span(r, "name", where))}
		at := r.offset()
		imp.Kind = Kind(r.byte())
		switch imp.Kind {
		case KindFunc:
			r.u32()
			s.importedFuncs++
			s.instrumented = s.instrumented || imp.Module == ImportModule && imp.Name == ImportName
		case KindTable:
			readTableType(r)
		case KindMemory:
			s.m.Memories = append(s.m.Memories, memoryOf(r, true))
		case KindGlobal:
			readValType(r)
			r.byte()
		case 0x04:
			r.err = errorf(ErrUnsupported, "tag import at byte %d: exception handling is not supported", at)
		default:
			if r.err == nil {
				r.err = errorf(ErrMalformed, "invalid import kind %#x at byte %d", byte(imp.Kind), at)
			}
		}
		s.m.Imports = append(s.m.Imports, imp)
	}
}

func (s *scanner) scanExports(r *reader, where part) {
	n := vecLen(r, 3, "exports", where)
	for i := 0; i < n && r.err == nil; i++ {
		e := Export{Name: string(span(r, "name", where)), Kind: Kind(r.byte()), Index: r.u32()}
		if r.err == nil && e.Kind > KindGlobal {
			r.err = errorf(ErrMalformed, "export %q has the invalid kind %#x", e.Name, byte(e.Kind))
		}
		s.m.Exports = append(s.m.Exports, e)
	}
}

// scanTable reads a table type as wazero does, which accepts an
// initializer and typed references.
func scanTable(r *reader) {
	at := r.offset()
	b := r.byte()
	init := b == tableInit
	if init {
		if z := r.byte(); r.err == nil && z != 0 {
			r.err = errorf(ErrMalformed, "invalid table type %#x %#x at byte %d", b, z, at)
		}
		b = r.byte()
	}
	if b == refNull || b == refNonNull {
		r.sleb(33)
	}
	readLimits(r, false)
	if init {
		skipConstExpr(r)
	}
}

// scanElements reads the element section's eight forms of segment (see
// rewriter.elements).
func scanElements(r *reader, where part) {
	n := vecLen(r, 3, "segments", where)
	for i := 0; i < n && r.err == nil; i++ {
		seg := part{"element segment %d", i}
		at := r.offset()
		flags := r.u32()
		if r.err == nil && flags > 7 {
			r.err = errorf(ErrMalformed, "element segment %d: invalid flags %d at byte %d", i, flags, at)
		}
		if flags&1 == 0 { // active
			if flags&2 != 0 {
				r.u32() // table index
			}
			skipConstExpr(r)
		}
		if flags&3 != 0 { // an element kind or reference type is present
			if flags&4 == 0 {
				r.byte()
			} else {
				skipValType(r)
			}
		}
		if flags&4 == 0 {
			m := vecLen(r, 1, "function indices", seg)
			for j := 0; j < m && r.err == nil; j++ {
				r.u32()
			}
		} else {
			m := vecLen(r, 1, "expressions", seg)
			for j := 0; j < m && r.err == nil; j++ {
				skipConstExpr(r)
			}
		}
	}
}

func scanData(r *reader, where part) {
	n := vecLen(r, 2, "segments", where)
	for i := 0; i < n && r.err == nil; i++ {
		at := r.offset()
		switch flags := r.u32(); {
		case r.err != nil:
		case flags == 0: // active, memory 0
			skipConstExpr(r)
		case flags == 1: // passive
		case flags == 2: // active, memory given
			r.u32()
			skipConstExpr(r)
		default:
			r.err = errorf(ErrMalformed, "data segment %d: invalid flags %d at byte %d", i, flags, at)
		}
		span(r, "contents", part{"data segment %d", i})
	}
}

// scanCode reads the bodies' sizes and local declarations, and holds the
// locals to the limits.
func (s *scanner) scanCode(r *reader, where part) {
	n := vecLen(r, 2, "bodies", where)
	perFunc, inAll := uint64(MaxFunctionLocals), max(uint64(MaxModuleLocals), uint64(len(r.buf))/2)
	if s.instrumented {
		perFunc += instrumentLocals
		inAll += instrumentLocals * uint64(n)
	}
	s.flow.reset(flowBudget(len(r.buf)))
	total := s.defParams // parameters are locals, which a compiler keeps state for
	if total > inAll {
		r.err = errorf(ErrUnsupported, "the parameters of its functions are %d locals in all, more than the %d this module may have "+
			"(%d, or one per two bytes of the code section if that is more)", total, inAll, MaxModuleLocals)
		return
	}
	for i := 0; i < n && r.err == nil; i++ {
		fn, at := s.importedFuncs+i, r.offset()
		b := span(r, "body", part{})
		body := newReader(b, r.offset()-len(b))
		if r.err != nil {
			r.err = inFunc(r.err, fn, "", at)
			return
		}
		k := vecLen(body, 2, "local declarations", part{})
		var locals uint64
		for j := 0; j < k && body.err == nil; j++ {
			locals += uint64(body.u32())
			skipValType(body)
		}
		total += locals
		switch {
		case body.err != nil:
		case locals > perFunc:
			body.err = errorf(ErrUnsupported, "declares %d locals, more than the %d a function may have", locals, MaxFunctionLocals)
		case total > inAll:
			body.err = errorf(ErrUnsupported, "brings the locals in all to %d, more than the %d this module may declare "+
				"(%d, or one per two bytes of the code section if that is more)", total, inAll, MaxModuleLocals)
		default:
			body.err = s.flow.body(b[body.pos:], body.offset())
		}
		if body.err != nil {
			r.err = inFunc(body.err, fn, "", at)
		}
	}
}

// scanNames reads the name section after its name: the subsections that
// wazero decodes entry by entry, and the framing of the others.
func scanNames(r *reader) {
	where := part{"name section", -1}
	for !r.done() && r.err == nil {
		id := r.byte()
		b := span(r, "subsection", where)
		sub := newReader(b, r.offset()-len(b))
		switch id {
		case nameModule:
			span(sub, "module name", where)
		case nameFunctions:
			scanNameMap(sub, "function names", where)
		case nameLocals:
			n := vecLen(sub, 2, "functions with local names", where)
			for i := 0; i < n && sub.err == nil; i++ {
				sub.u32()
				scanNameMap(sub, "local names", where)
			}
		default:
			continue
		}
		sub.end("trailing bytes in subsection %d of the name section", id)
		if r.err == nil {
			r.err = sub.err
		}
	}
}

// scanNameMap reads a name map: what, as index and name pairs.
func scanNameMap(r *reader, what string, where part) {
	n := vecLen(r, 2, what, where)
	for i := 0; i < n && r.err == nil; i++ {
		r.u32()
		span(r, "name", where)
	}
}

func memoryOf(r *reader, imported bool) Memory {
	_, min, max, hasMax := readLimits(r, true)
	return Memory{Min: uint32(min), Max: uint32(max), HasMax: hasMax, Imported: imported}
}
