package meter

// Value types the instrumenter accepts. Reference types beyond funcref and
// externref belong to typed function references and GC, which are rejected.
const (
	valI32       byte = 0x7f
	valI64       byte = 0x7e
	valF32       byte = 0x7d
	valF64       byte = 0x7c
	valV128      byte = 0x7b
	valFuncref   byte = 0x70
	valExternref byte = 0x6f
	blockEmpty   byte = 0x40
)

func isValType(b byte) bool {
	switch b {
	case valI32, valI64, valF32, valF64, valV128, valFuncref, valExternref:
		return true
	}
	return false
}

// readValType reads one value type, telling a type of a rejected proposal
// apart from garbage.
func readValType(r *reader) byte {
	at := r.offset()
	b := r.byte()
	if r.err == nil && !isValType(b) {
		if b >= 0x60 && b < 0x7f {
			r.err = errorf(ErrUnsupported, "value type %#x at byte %d: typed function references and GC are not supported", b, at)
		} else {
			r.err = errorf(ErrMalformed, "invalid value type %#x at byte %d", b, at)
		}
	}
	return b
}

// constInstr reads one instruction of a constant expression, immediates
// included, and returns its opcode, with the function index of a ref.func.
// asWazero reads as wazero's decoder does, which Scan must accept exactly:
// v128.const's sub-opcode as one byte, ref.null of any heap type. The rewriter,
// which must understand what it copies, reads the sub-opcode as the LEB128 it
// is and refuses the heap types of typed function references.
func constInstr(r *reader, asWazero bool) (op byte, f uint32) {
	at := r.offset()
	switch op = r.byte(); op {
	case opEnd:
	case 0x41: // i32.const
		r.sleb(32)
	case 0x42: // i64.const
		r.sleb(64)
	case 0x43: // f32.const
		r.bytes(4)
	case 0x44: // f64.const
		r.bytes(8)
	case 0x23: // global.get
		r.u32()
	case opRefFunc:
		f = r.u32()
	case 0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e: // extended constants: i32/i64 add, sub, mul
	case 0xd0: // ref.null: a reference type byte, or a type index
		switch b := r.byte(); {
		case r.err != nil || b == valFuncref || b == valExternref:
		case !asWazero:
			r.err = errorf(ErrUnsupported, "ref.null heap type %#x at byte %d: typed function references are not supported", b, at)
		case b != valExnref:
			r.pos--
			r.u32()
		}
	case 0xfd: // v128.const
		var sub uint32
		if asWazero {
			sub = uint32(r.byte())
		} else {
			sub = r.u32()
		}
		if r.err == nil && sub != 0x0c {
			r.err = errorf(ErrMalformed, "opcode 0xfd %#x is not constant, at byte %d", sub, at)
		}
		r.bytes(16)
	default:
		if r.err == nil {
			r.err = errorf(ErrMalformed, "opcode %#x is not constant, at byte %d", op, at)
		}
	}
	return op, f
}

type btKind uint8

const (
	btEmpty btKind = iota
	btValue
	btIndex
)

// blockType is the type annotation of block, loop and if.
type blockType struct {
	kind  btKind
	value byte   // btValue
	index uint32 // btIndex: a function type index
}

// instr is one decoded instruction. Offsets are relative to the code being
// decoded, so in.start..in.end are its exact bytes.
type instr struct {
	op       byte
	sub      uint32 // sub-opcode after a 0xfc/0xfd/0xfe prefix
	prefixed bool
	info     opInfo
	start    int
	end      int
	a        uint32    // first immediate: depth, function, local or type index
	bt       blockType // block, loop, if
	tableAt  int       // br_table: offset of the target vector
	tableLen int       // br_table: number of targets before the default
}

// decoder reads the instructions of one function body, checking the
// indices the rewrite depends on, and those the types, functions and globals
// it adds would otherwise make valid.
type decoder struct {
	numTypes   uint32
	numFuncs   uint32
	numGlobals uint32
	numLocals  uint64
	// asWazero reads the sub-opcode after a 0xfd or 0xfe prefix as one
	// byte, as wazero does, rather than as the LEB128 it is: a sub-opcode
	// from 0x80 on then reads as two instructions, the second its LEB128's
	// last byte (0x01 for the ones defined, a nop). Scan's walk must read
	// a body as the engine will, or bytes could hide a block from it.
	asWazero bool
}

// next decodes the instruction at r's position. Errors are latched in r.err.
func (d *decoder) next(r *reader) instr {
	in := instr{start: r.pos}
	at := r.offset()
	in.op = r.byte()
	in.info = mvp[in.op]
	if in.info.imm == immPrefix {
		in.prefixed = true
		if d.asWazero && in.op != 0xfc {
			in.sub = uint32(r.byte())
		} else {
			in.sub = r.u32()
		}
		switch in.op {
		case 0xfc:
			in.info = miscOp(in.sub)
		case 0xfd:
			in.info = simdOp(in.sub)
		default:
			in.info = atomicOp(in.sub)
		}
	}
	if r.err != nil {
		return in
	}
	switch in.info.imm {
	case immNone:
	case immUnknown:
		r.err = errorf(ErrUnknownOpcode, "unknown opcode %s", opName(in.op, in.sub, in.prefixed))
		r.err.(*Error).Offset = at
	case immUnsupported:
		r.err = errorf(ErrUnsupported, "opcode %s: %s is not supported", opName(in.op, in.sub, in.prefixed), unsupportedWhat(in.op))
		r.err.(*Error).Offset = at
	case immBlockType:
		in.bt = d.blockType(r)
	case immU32:
		in.a = r.u32()
	case immU32x2:
		in.a = r.u32()
		r.u32()
	case immBrTable:
		in.tableLen = r.count(1)
		in.tableAt = r.pos
		for i := 0; i <= in.tableLen && r.err == nil; i++ {
			r.u32()
		}
	case immMemarg, immMemargLane:
		align := r.u32()
		if align&0x40 != 0 { // multi-memory: a memory index follows
			r.u32()
		}
		r.u32() // offset
		if in.info.imm == immMemargLane {
			r.byte()
		}
	case immLane:
		r.byte()
	case immI32:
		r.sleb(32)
	case immI64:
		r.sleb(64)
	case immBytes4:
		r.bytes(4)
	case immBytes8:
		r.bytes(8)
	case immBytes16:
		r.bytes(16)
	case immSelectT:
		n := r.count(1)
		for i := 0; i < n && r.err == nil; i++ {
			readValType(r)
		}
	case immRefNull:
		if b := r.byte(); r.err == nil && b != valFuncref && b != valExternref {
			r.err = errorf(ErrUnsupported, "ref.null heap type %#x at byte %d: typed function references are not supported", b, at)
		}
	case immZeroByte:
		if b := r.byte(); r.err == nil && b != 0 {
			r.err = errorf(ErrMalformed, "atomic.fence expects a zero byte at byte %d, got %#x", at, b)
		}
	}
	if r.err != nil {
		return in
	}
	switch in.info.kind {
	case kindCall, kindReturnCall, kindRefFunc:
		if in.a >= d.numFuncs {
			r.err = errorf(ErrMalformed, "function index %d out of range (%d functions) at byte %d", in.a, d.numFuncs, at)
		}
	case kindCallIndirect, kindReturnCallIndirect:
		if in.a >= d.numTypes {
			r.err = errorf(ErrMalformed, "type index %d out of range (%d types) at byte %d", in.a, d.numTypes, at)
		}
	case kindLocalSet:
		if uint64(in.a) >= d.numLocals {
			r.err = errorf(ErrMalformed, "local index %d out of range (%d locals) at byte %d", in.a, d.numLocals, at)
		}
	}
	if (in.op == 0x23 || in.op == 0x24) && !in.prefixed && in.a >= d.numGlobals { // global.get, global.set
		r.err = errorf(ErrMalformed, "global index %d out of range (%d globals) at byte %d", in.a, d.numGlobals, at)
	}
	in.end = r.pos
	return in
}

func (d *decoder) blockType(r *reader) blockType {
	at := r.offset()
	if r.pos < len(r.buf) {
		switch b := r.buf[r.pos]; {
		case b == blockEmpty:
			r.pos++
			return blockType{kind: btEmpty}
		case isValType(b):
			r.pos++
			return blockType{kind: btValue, value: b}
		}
	}
	v := r.sleb(33)
	if r.err != nil {
		return blockType{}
	}
	if v < 0 {
		r.err = errorf(ErrUnsupported, "block type %d at byte %d: typed function references and GC are not supported", v, at)
		return blockType{}
	}
	if v >= int64(d.numTypes) {
		r.err = errorf(ErrMalformed, "block type index %d out of range (%d types) at byte %d", v, d.numTypes, at)
		return blockType{}
	}
	return blockType{kind: btIndex, index: uint32(v)}
}

// branchTargets reads the depths of a br_table decoded earlier from code.
func branchTargets(code []byte, in *instr, dst []uint32) []uint32 {
	r := newReader(code[in.tableAt:in.end], 0)
	for i := 0; i <= in.tableLen; i++ {
		dst = append(dst, r.u32())
	}
	return dst
}
