package meter

import (
	"debug/dwarf"
	"errors"
	"io"
	"sort"
	"strings"
)

// Source lines through the rewrite. DWARF locates code by its offset in the
// code section, which the rewrite moves, so the input's DWARF is dropped.
// When it has a line table, the output gets one of its own instead: the
// emitter notes where each input instruction lands (lineRow), and the output's
// table gives each such place the file, line and column the input's table
// gives the instruction. wazero reads it as it reads a compiler's, so a trap
// in an instrumented module still names its source line. Only lines are
// carried: variables, types, inlining and the rest of the input's DWARF are
// not.

// lineRow is one input instruction in the output: at is where it begins in the
// output's code section (in the emitter, in the bodies written so far), old
// where it began in the input's. A row of code the rewrite added to a
// function's entry is an entry row, with the position of the function's
// first instruction.
type lineRow struct {
	at    int
	old   uint32
	entry bool
}

// place is a position in the source.
type place struct {
	file      string
	line, col int
}

// lineTable is the input's line table: its rows by address, an end row
// meaning no source from there on (the end of a sequence).
type lineTable struct {
	addrs  []uint64
	places []place
	ends   []bool
}

// readLineTable reads the line table of the input's DWARF sections. It returns
// nil when there is none, or when it cannot be read: the output then has no
// source lines, as an input without DWARF. Broken debug information never
// fails the rewrite.
func readLineTable(secs []section) (lt *lineTable) {
	defer func() {
		if recover() != nil { // debug/dwarf on hostile input
			lt = nil
		}
	}()
	data := debugSections(secs)
	if data[".debug_info"] == nil || data[".debug_line"] == nil {
		return nil
	}
	d, err := dwarf.New(data[".debug_abbrev"], nil, nil, data[".debug_info"], data[".debug_line"], nil,
		data[".debug_ranges"], data[".debug_str"])
	if err != nil {
		return nil
	}
	for _, name := range []string{".debug_addr", ".debug_line_str", ".debug_str_offsets", ".debug_rnglists"} {
		if b := data[name]; b != nil && d.AddSection(name, b) != nil {
			return nil
		}
	}
	lt = &lineTable{}
	if lt.read(d, len(data[".debug_line"])) != nil {
		return nil
	}
	return lt
}

// debugSections returns the contents of the DWARF sections (.debug_*) by
// name; of a name given twice, the last, as wazero takes it.
func debugSections(secs []section) map[string][]byte {
	data := map[string][]byte{}
	for i := range secs {
		if s := &secs[i]; s.id == secCustom && strings.HasPrefix(s.name, ".debug_") {
			data[s.name] = s.data
		}
	}
	return data
}

// read reads the rows of the line programs of the compile units of d, each
// program once however many units name it. A row takes at least a byte of a
// program, so more rows than lineBytes, the size of the section that holds
// them, means programs that overlap: read fails rather than read them over
// and over.
func (lt *lineTable) read(d *dwarf.Data, lineBytes int) error {
	type row struct {
		addr uint64
		p    place
		end  bool
	}
	var rows []row
	programs := map[int64]bool{} // by offset
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			return err
		}
		if e == nil {
			break
		}
		r.SkipChildren()
		if e.Tag != dwarf.TagCompileUnit {
			continue
		}
		off, ok := e.Val(dwarf.AttrStmtList).(int64)
		if !ok || programs[off] {
			continue // no line program, or one read already
		}
		programs[off] = true
		lr, err := d.LineReader(e)
		if err != nil {
			return err
		}
		if lr == nil {
			continue
		}
		var le dwarf.LineEntry
		dead := false // a sequence of code the linker removed
		for start := true; ; start = le.EndSequence {
			if err := lr.Next(&le); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return err
			}
			if start {
				// Tombstones: lld marks a removed function's sequence with
				// an address of -1 or -2, older tools with 0, where no
				// function can begin (the section starts with a count).
				dead = le.Address == 0 || int32(le.Address) == -1 || int32(le.Address) == -2
			}
			if dead {
				continue
			}
			var p place
			if le.File != nil {
				p = place{file: le.File.Name, line: le.Line, col: le.Column}
			}
			if rows = append(rows, row{le.Address, p, le.EndSequence}); len(rows) > lineBytes {
				return errors.New("line programs overlap")
			}
		}
	}
	// By address; the end of one sequence before the start of the next at
	// the same address, which then counts.
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].addr != rows[j].addr {
			return rows[i].addr < rows[j].addr
		}
		return rows[i].end && !rows[j].end
	})
	for _, r := range rows {
		lt.addrs = append(lt.addrs, r.addr)
		lt.places = append(lt.places, r.p)
		lt.ends = append(lt.ends, r.end)
	}
	return nil
}

// find returns the source of the input instruction at offset old of the
// input's code section.
func (lt *lineTable) find(old uint32) (place, bool) {
	i := sort.Search(len(lt.addrs), func(i int) bool { return lt.addrs[i] > uint64(old) }) - 1
	if i < 0 || lt.ends[i] || lt.places[i].line == 0 {
		return place{}, false
	}
	return lt.places[i], true
}

// DWARF constants the output's tables use.
const (
	dwTagCompileUnit  = 0x11
	dwAtName          = 0x03
	dwAtStmtList      = 0x10
	dwAtLowPC         = 0x11
	dwAtRanges        = 0x55
	dwFormAddr        = 0x01
	dwFormString      = 0x08
	dwFormSecOffset   = 0x17
	dwLnsCopy         = 0x01
	dwLnsAdvancePC    = 0x02
	dwLnsAdvanceLine  = 0x03
	dwLnsSetFile      = 0x04
	dwLnsSetColumn    = 0x05
	dwLneEndSequence  = 0x01
	dwLneSetAddress   = 0x02
	lineOpcodeBase    = 13
	lineUnitName      = "hotscript-metered"
	dwarfVersion      = 4
	dwarfAddrSize     = 4
	lineDefaultIsStmt = 1
)

// appendLineSections appends to out the DWARF sections of the output (abbrev,
// info, ranges and line, as custom sections) for rows, the input's
// instructions in the output's code section, sorted by where they are, in an
// output code section of codeLen bytes. It appends nothing if no row has a
// source, and returns the number of rows of the table it wrote.
//
// The unit covers only the code that has a source: its ranges end where an
// instruction without one begins (a function compiled without debug
// information, or outside the input's units), so that no line is given to it,
// as in the input, where no unit covers it; wazero gives an address the last
// row at or before it within the unit that covers it.
func appendLineSections(out []byte, lt *lineTable, rows []lineRow, codeLen int) ([]byte, int) {
	files := map[string]uint64{}
	var names []string
	var prog, ranges []byte
	var addr, file, line, col uint64 = 0, 1, 1, 0
	var last place
	n, open := 0, -1 // open: where the range being written began, or -1
	closeRange := func(at int) {
		if open >= 0 && at > open {
			ranges = appendU32(appendU32(ranges, uint32(open)), uint32(at))
		}
		open = -1
	}
	for _, r := range rows {
		if n > 0 && uint64(r.at) < addr { // rows only go forward
			continue
		}
		p, ok := lt.find(r.old)
		if !ok {
			closeRange(r.at)
			continue
		}
		if open < 0 {
			open = r.at // never 0, where no code begins: wazero takes a range from 0 for a removed function's
		} else if p == last {
			continue
		}
		if n == 0 {
			addr = uint64(r.at)
			prog = append(prog, 0, 1+dwarfAddrSize, dwLneSetAddress)
			prog = appendU32(prog, uint32(addr))
		}
		f, known := files[p.file]
		if !known {
			names = append(names, p.file)
			f = uint64(len(names)) // file numbers start at 1 in DWARF 4
			files[p.file] = f
		}
		if d := uint64(r.at) - addr; d != 0 {
			prog = append(prog, dwLnsAdvancePC)
			prog = AppendULEB(prog, d)
		}
		if f != file {
			prog = append(prog, dwLnsSetFile)
			prog = AppendULEB(prog, f)
		}
		if l := uint64(p.line); l != line {
			prog = append(prog, dwLnsAdvanceLine)
			prog = AppendSLEB(prog, int64(l)-int64(line))
		}
		if c := uint64(p.col); c != col {
			prog = append(prog, dwLnsSetColumn)
			prog = AppendULEB(prog, c)
		}
		prog = append(prog, dwLnsCopy)
		addr, file, line, col, last = uint64(r.at), f, uint64(p.line), uint64(p.col), p
		n++
	}
	if n == 0 {
		return out, 0
	}
	closeRange(codeLen)
	ranges = appendU32(appendU32(ranges, 0), 0) // the list's end
	if d := uint64(codeLen) - addr; d != 0 {
		prog = append(prog, dwLnsAdvancePC)
		prog = AppendULEB(prog, d)
	}
	prog = append(prog, 0, 1, dwLneEndSequence)

	// .debug_line: a version 4 header, then the program.
	var hdr []byte
	hdr = append(hdr, 1, 1, lineDefaultIsStmt, byte(0x100-5), 14, lineOpcodeBase) // min_inst_length, max_ops, default_is_stmt, line_base -5, line_range, opcode_base
	hdr = append(hdr, 0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1)                         // the standard opcodes' operand counts
	hdr = append(hdr, 0)                                                          // no include directories
	for _, name := range names {
		hdr = append(hdr, name...)
		hdr = append(hdr, 0, 0, 0, 0) // the terminator, directory 0, no time, no length
	}
	hdr = append(hdr, 0)
	var line4 []byte
	line4 = appendU32(line4, uint32(2+4+len(hdr)+len(prog)))
	line4 = append(line4, dwarfVersion, 0)
	line4 = appendU32(line4, uint32(len(hdr)))
	line4 = append(append(line4, hdr...), prog...)

	// .debug_abbrev: one compile unit without children.
	abbrev := []byte{1, dwTagCompileUnit, 0,
		dwAtName, dwFormString, dwAtStmtList, dwFormSecOffset,
		dwAtLowPC, dwFormAddr, dwAtRanges, dwFormSecOffset, 0, 0, 0}

	// .debug_info: that unit, over the ranges of code with a source.
	die := append([]byte{1}, lineUnitName...)
	die = append(die, 0)
	die = appendU32(die, 0) // the line table's offset
	die = appendU32(die, 0) // the base address of the ranges
	die = appendU32(die, 0) // the ranges' offset
	var info []byte
	info = appendU32(info, uint32(2+4+1+len(die)))
	info = append(info, dwarfVersion, 0)
	info = appendU32(info, 0) // the abbreviations' offset
	info = append(info, dwarfAddrSize)
	info = append(info, die...)

	for _, s := range []struct {
		name string
		body []byte
	}{{".debug_abbrev", abbrev}, {".debug_info", info}, {".debug_ranges", ranges}, {".debug_line", line4}} {
		out = appendSection(out, secCustom, append(appendName(nil, s.name), s.body...))
	}
	return out, n
}

func appendU32(b []byte, v uint32) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}
