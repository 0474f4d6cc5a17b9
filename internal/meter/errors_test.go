package meter

import (
	"errors"
	"strings"
	"testing"
)

func TestUnknownOpcode(t *testing.T) {
	withImport := func(code ...byte) []byte {
		return module(
			sec(secType, vec(fnType(nil, nil))),
			sec(secImport, vec(cat(str("env"), str("f"), []byte{0x00}, leb(0)))),
			sec(secFunction, vec(leb(0), leb(0))),
			sec(secCode, vec(codeEntry(nil), codeEntry(nil, code...))),
		)
	}
	tests := []struct {
		name string
		wasm []byte
		want string
	}{
		{"SIMD past the relaxed range", oneFunc(0xfd, 0xff, 0x03), "meter: function 0: unknown opcode 0xfd 0x1ff"},
		{"SIMD hole", oneFunc(0xfd, 0x9a, 0x01), "meter: function 0: unknown opcode 0xfd 0x9a"},
		{"single byte", oneFunc(0x27), "meter: function 0: unknown opcode 0x27"},
		{"after the numeric range", oneFunc(0xc5), "meter: function 0: unknown opcode 0xc5"},
		{"bulk memory past table.fill", oneFunc(0xfc, 0x12), "meter: function 0: unknown opcode 0xfc 0x12"},
		{"atomics hole", oneFunc(0xfe, 0x04), "meter: function 0: unknown opcode 0xfe 0x4"},
		{"atomics past the end", oneFunc(0xfe, 0x4f), "meter: function 0: unknown opcode 0xfe 0x4f"},
		{"index counts imports", withImport(0x01, 0xff), "meter: function 2: unknown opcode 0xff"},
		{"named function", cat(oneFunc(0x01, 0xc6), nameSection(nameSub(nameFunctions, nameMap(0, "update")))),
			`meter: function 0 "update": unknown opcode 0xc6`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Instrument(tt.wasm)
			if !errors.Is(err, ErrUnknownOpcode) {
				t.Fatalf("err = %v, want ErrUnknownOpcode", err)
			}
			if err.Error() != tt.want {
				t.Errorf("err = %q, want %q", err, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.Offset <= 0 {
				t.Errorf("want an *Error with the byte offset, got %#v", e)
			}
		})
	}
}

func TestUnsupported(t *testing.T) {
	tests := []struct {
		name string
		wasm []byte
		want string
	}{
		{"try", oneFunc(0x06, 0x40, opEnd), "exception handling"},
		{"try_table", oneFunc(0x1f, 0x40, 0x00, opEnd), "exception handling"},
		{"throw", oneFunc(0x08, 0x00), "exception handling"},
		{"call_ref", oneFunc(0x14, 0x00), "typed function references"},
		{"GC prefix", oneFunc(0xfb, 0x00), "typed function references and GC"},
		{"typed reference block type", oneFunc(0x02, 0x63, 0x70, opEnd), "typed function references"},
		{"tag section", module(sec(secType, vec(fnType(nil, nil))), sec(secTag, vec(cat([]byte{0}, leb(0))))), "exception handling"},
		{"64-bit memory", module(sec(secMemory, vec([]byte{0x04, 0x01}))), "64-bit memories"},
		{"GC type", module(sec(secType, vec([]byte{0x4e, 0x01, 0x60, 0x00, 0x00}))), "GC types"},
		{"typed reference local", module(
			sec(secType, vec(fnType(nil, nil))), sec(secFunction, vec(leb(0))),
			sec(secCode, vec(codeEntry(vec(cat(leb(1), []byte{0x64, 0x70}))))),
		), "typed function references"},
		{"loops nested too deep", nestedLoops(maxLoopNesting + 1), "loops nested more than 1000 deep"},
		{"blocks nested too deep", nestedBlocks(maxNesting + 1), "blocks, loops and ifs nested more than 10000 deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Instrument(tt.wasm)
			if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("err = %v, want ErrUnsupported", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	valid := oneFunc()
	tests := []struct {
		name string
		wasm []byte
	}{
		{"empty", nil},
		{"short header", header[:6]},
		{"bad magic", cat([]byte("\x00wsm"), header[4:])},
		{"bad version", cat(header[:4], []byte{2, 0, 0, 0})},
		{"section longer than the module", cat(header, []byte{secType, 0x10, 0x01})},
		{"unterminated size", cat(header, []byte{secType, 0x80})},
		{"size over 32 bits", cat(header, []byte{secType, 0xff, 0xff, 0xff, 0xff, 0x7f})},
		{"unknown section", cat(header, sec(14))},
		{"sections out of order", module(sec(secFunction, vec(leb(0))), sec(secType, vec(fnType(nil, nil))))},
		{"repeated section", module(sec(secType, vec()), sec(secType, vec()))},
		{"vector longer than its section", module(sec(secType, leb(1000)))},
		{"bad type form", module(sec(secType, vec([]byte{0x61, 0, 0})))},
		{"bad value type", module(sec(secType, vec(fnType([]byte{0x01}, nil))))},
		{"type index out of range", module(sec(secType, vec(fnType(nil, nil))), sec(secFunction, vec(leb(3))))},
		{"functions without code", module(sec(secType, vec(fnType(nil, nil))), sec(secFunction, vec(leb(0))))},
		{"more bodies than functions", module(sec(secType, vec(fnType(nil, nil))), sec(secFunction, vec(leb(0))), sec(secCode, vec(codeEntry(nil), codeEntry(nil))))},
		{"body without end", module(sec(secType, vec(fnType(nil, nil))), sec(secFunction, vec(leb(0))), sec(secCode, vec([]byte{3, 0, 0x41, 0x00})))},
		{"code after the end", oneFunc(opEnd, 0x01)},
		{"unclosed block", oneFunc(0x02, 0x40)},
		{"branch too deep", oneFunc(0x0c, 0x01)},
		{"br_table too deep", oneFunc(0x41, 0x00, 0x0e, 0x01, 0x00, 0x05)},
		{"else without if", oneFunc(0x02, 0x40, 0x05, opEnd)},
		{"call out of range", oneFunc(0x10, 0x01)},
		{"ref.func out of range", oneFunc(0xd2, 0x05, 0x1a)},
		{"local.set out of range", oneFunc(0x41, 0x00, 0x21, 0x00)},
		{"block type out of range", oneFunc(0x02, 0x05, opEnd)},
		// Out of range before the rewrite, in range after it: the fuel global, the
		// refuel function's type.
		{"global.get out of range", oneFunc(0x23, 0x00, 0x1a)},
		{"global.set out of range", oneFunc(0x42, 0x00, 0x24, 0x00)},
		{"call_indirect type out of range", oneFunc(0x41, 0x00, 0x11, 0x01, 0x00)},
		{"i32.const too long", oneFunc(0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00)},
		{"i32.const bits beyond 32", oneFunc(0x41, 0x80, 0x80, 0x80, 0x80, 0x70)},
		{"i64.const truncated", oneFunc(0x42, 0x80)},
		{"memarg truncated", oneFunc(0x41, 0x00, 0x28, 0x02)},
		{"v128.const truncated", oneFunc(0xfd, 0x0c, 0x01, 0x02)},
		{"atomic.fence without zero", oneFunc(0xfe, 0x03, 0x01)},
		{"locals overflow", module(sec(secType, vec(fnType(nil, nil))), sec(secFunction, vec(leb(0))),
			sec(secCode, vec(codeEntry(vec(cat(leb(0xffffffff), []byte{valI32}), cat(leb(0xffffffff), []byte{valI32}))))))},
		{"element flags", module(sec(secElement, vec(leb(8))))},
		{"element kind", module(sec(secElement, vec(cat(leb(1), []byte{0x01}, vec()))))},
		{"constant expression with a call", module(sec(secType, vec(fnType(nil, nil))), sec(secFunction, vec(leb(0))),
			sec(secGlobal, vec([]byte{valI32, 0, 0x10, 0x00, opEnd})), sec(secCode, vec(codeEntry(nil))))},
		{"export kind", module(sec(secExport, vec(cat(str("x"), []byte{0x09, 0x00}))))},
		{"start out of range", module(sec(secStart, leb(4)))},
		{"import kind", module(sec(secImport, vec(cat(str("a"), str("b"), []byte{0x07}))))},
		{"trailing garbage in a section", module(sec(secType, vec(fnType(nil, nil)), []byte{0x00}))},
		{"custom section name too long", cat(header, []byte{0, 2, 5, 'a'})},
		{"truncated valid module", valid[:len(valid)-1]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := Instrument(tt.wasm)
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if out != nil {
				t.Errorf("output %d bytes with an error", len(out))
			}
			if !strings.HasPrefix(err.Error(), "meter: ") || strings.Contains(err.Error(), "internal error") {
				t.Errorf("err = %q", err)
			}
		})
	}
	if _, _, err := Instrument(valid); err != nil {
		t.Fatalf("the valid base module fails: %v", err)
	}
}

func TestReservedNames(t *testing.T) {
	once, _, err := Instrument(readTestdata(t, "sum.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		wasm []byte
	}{
		{"instrumented twice", once},
		{"exports the fuel name", module(sec(secGlobal, vec([]byte{valI32, 0, 0x41, 0, opEnd})),
			sec(secExport, vec(cat(str(FuelExport), []byte{0x03, 0x00}))))},
		{"imports refuel", module(sec(secType, vec(fnType(nil, nil))),
			sec(secImport, vec(cat(str(ImportModule), str(ImportName), []byte{0x00, 0x00}))))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := Instrument(tt.wasm); !errors.Is(err, ErrReservedName) {
				t.Fatalf("err = %v, want ErrReservedName", err)
			}
		})
	}
}

// nestedLoops is a module whose one function nests n loops, each in a block,
// and returns from the innermost: no code follows the ends, which keeps the
// control flow cheap to compile (see TestFlowLimits).
func nestedLoops(n int) []byte {
	var code []byte
	for range n {
		code = append(code, 0x02, 0x40, 0x03, 0x40) // block loop
	}
	code = append(code, 0x0f)
	for range n {
		code = append(code, opEnd, opEnd)
	}
	return oneFunc(code...)
}

// nestedBlocks is a module whose one function nests n blocks and returns
// from the innermost.
func nestedBlocks(n int) []byte {
	var code []byte
	for range n {
		code = append(code, 0x02, 0x40)
	}
	code = append(code, 0x0f)
	for range n {
		code = append(code, opEnd)
	}
	return oneFunc(code...)
}

// Loops and blocks nested as deep as the limits allow are metered.
func TestNestingLimits(t *testing.T) {
	if _, _, err := Instrument(nestedLoops(maxLoopNesting)); err != nil {
		t.Errorf("%d nested loops: %v", maxLoopNesting, err)
	}
	if _, _, err := Instrument(nestedBlocks(maxNesting)); err != nil {
		t.Errorf("%d nested blocks: %v", maxNesting, err)
	}
}
