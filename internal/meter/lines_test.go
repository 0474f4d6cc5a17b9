package meter

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/hotscript/hotscript/internal/guest"
)

// The output's line table gives every input instruction, wherever the rewrite
// put it (the copies of an unrolled loop included), the input's source
// position, and wazero's lookup (the last row at or before an offset) finds
// it there.
func TestLinesCarried(t *testing.T) {
	in := guest.Bytes("lines_debug")
	secs, err := splitSections(in)
	if err != nil {
		t.Fatal(err)
	}
	want := readLineTable(secs)
	if want == nil {
		t.Fatal("lines_debug has no line table")
	}
	var info Info
	rw := &rewriter{info: &info, saveIndex: map[byte][]uint32{}}
	out, err := rw.run(in)
	if err != nil {
		t.Fatal(err)
	}
	osecs, err := splitSections(out)
	if err != nil {
		t.Fatal(err)
	}
	got := readLineTable(osecs)
	if got == nil || info.LineRows == 0 {
		t.Fatalf("no line table in the output (%d rows)", info.LineRows)
	}
	code := func(secs []section) []byte {
		for _, s := range secs {
			if s.id == secCode {
				return s.body
			}
		}
		t.Fatal("no code section")
		return nil
	}
	inCode, outCode := code(secs), code(osecs)
	placed, seen, copies := 0, map[uint32]bool{}, 0
	for _, r := range rw.rows {
		// Each row is where its instruction's code begins: its opcode, the
		// block the rewrite puts before a loop, or for the instructions
		// that hand the fuel over first (branches, calls, returns, the
		// ends of loops and functions, bulk memory), a local.get or
		// local.tee of the fuel.
		op, at := inCode[r.old], outCode[r.at]
		handsOver := (op >= opEnd && op <= 0x13) || op == 0xfc
		if !r.entry && op != at && (op != opLoop || at != opBlock) &&
			(!handsOver || (at != opLocalGet && at != opLocalTee)) {
			t.Errorf("input offset %#x (opcode %#x) noted at %#x, where the output has opcode %#x", r.old, op, r.at, at)
		}
		wp, wok := want.find(r.old)
		gp, gok := got.find(uint32(r.at))
		if wok && (!gok || gp != wp) {
			t.Errorf("input offset %#x at %#x: %v %v in the output, want %v", r.old, r.at, gp, gok, wp)
		}
		if wok {
			placed++
		}
		if seen[r.old] {
			copies++
		}
		seen[r.old] = true
	}
	if placed == 0 || copies == 0 || info.UnrolledLoops == 0 {
		t.Errorf("%d instructions with a source, %d copies in %d unrolled loops: the test covers too little", placed, copies, info.UnrolledLoops)
	}
}

// Debug information that cannot be read leaves the output without lines, and
// the rewrite succeeds as for a module without any.
func TestLinesBroken(t *testing.T) {
	in := bytes.Clone(guest.Bytes("lines_debug"))
	secs, err := splitSections(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secs {
		if s.name == ".debug_line" || s.name == ".debug_abbrev" {
			body := in[s.base+len(s.name)+1 : s.base+len(s.body)]
			for i := range body {
				body[i] = 0xff
			}
		}
	}
	out, info, err := Instrument(in)
	if err != nil {
		t.Fatal(err)
	}
	if info.LineRows != 0 || bytes.Contains(out, []byte(".debug_line")) {
		t.Errorf("%d rows from broken debug information", info.LineRows)
	}
}

// A line program that many units name is read once: 1,000 units naming one
// program of 10,000 rows (26 KB) took Instrument 5.9 s and 4.4 GB.
func TestLinesProgramReadOnce(t *testing.T) {
	const units, rows = 1000, 10000
	m := append([]byte{}, header...)
	m = appendSection(m, secType, []byte{1, 0x60, 0, 0})
	m = appendSection(m, secFunction, []byte{1, 0})
	m = appendSection(m, secCode, []byte{1, 2, 0, opEnd})
	abbrev := []byte{1, dwTagCompileUnit, 0, dwAtStmtList, dwFormSecOffset, 0, 0, 0}
	var info []byte
	for range units { // each names the program at offset 0
		info = appendU32(info, 2+4+1+1+4)
		info = append(info, 4, 0)
		info = appendU32(info, 0)
		info = append(info, 4, 1)
		info = appendU32(info, 0)
	}
	hdr := []byte{1, 1, 1, byte(0x100 - 5), 14, lineOpcodeBase, 0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1, 0}
	hdr = append(append(hdr, "a.c"...), 0, 0, 0, 0, 0)
	prog := appendU32([]byte{0, 5, dwLneSetAddress}, 1)
	prog = append(prog, bytes.Repeat([]byte{dwLnsCopy}, rows)...)
	prog = append(prog, 0, 1, dwLneEndSequence)
	var line []byte
	line = appendU32(line, uint32(2+4+len(hdr)+len(prog)))
	line = append(line, 4, 0)
	line = appendU32(line, uint32(len(hdr)))
	line = append(append(line, hdr...), prog...)
	for _, s := range []struct {
		name string
		body []byte
	}{{".debug_abbrev", abbrev}, {".debug_info", info}, {".debug_line", line}} {
		m = appendSection(m, secCustom, append(appendName(nil, s.name), s.body...))
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, info2, err := Instrument(m)
	runtime.ReadMemStats(&after)
	if err != nil || info2.LineRows != 1 {
		t.Fatalf("Instrument: %v, %d rows", err, info2.LineRows)
	}
	if mib := (after.TotalAlloc - before.TotalAlloc) >> 20; mib > 64 {
		t.Errorf("Instrument allocated %d MiB for a %d-byte module", mib, len(m))
	}
}
