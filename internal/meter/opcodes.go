package meter

import "fmt"

// kind classifies an instruction by what the instrumenter must do with it.
// Most instructions are kindPlain: copied verbatim and charged one unit.
type kind uint8

const (
	kindPlain kind = iota
	kindBlock
	kindLoop
	kindIf
	kindElse
	kindEnd
	kindBr
	kindBrIf
	kindBrTable
	kindReturn
	kindUnreachable
	kindCall         // call f
	kindCallIndirect // call_indirect t x
	kindReturnCall   // return_call f
	kindReturnCallIndirect
	kindRefFunc  // ref.func f
	kindLocalSet // local.set x, local.tee x
	kindBulk     // memory.{init,copy,fill}, table.{init,copy,fill,grow}: length on top of the stack
)

// imm names the shape of an instruction's immediates.
type imm uint8

const (
	immNone        imm = iota
	immBlockType       // block type: 0x40, a value type, or an s33 type index
	immU32             // one u32 (index or depth)
	immU32x2           // two u32
	immBrTable         // vec(u32) u32
	immMemarg          // align (with memory index when bit 6 is set), offset
	immMemargLane      // memarg, then one lane byte
	immLane            // one lane byte
	immI32             // s32
	immI64             // s64
	immBytes4          // f32
	immBytes8          // f64
	immBytes16         // v128.const, i8x16.shuffle
	immSelectT         // vec(value type)
	immRefNull         // heap type byte
	immZeroByte        // atomic.fence's reserved 0x00
	immPrefix          // 0xfc, 0xfd, 0xfe: a u32 sub-opcode follows
	immUnsupported     // known, deliberately rejected
	immUnknown         // not an instruction
)

type opInfo struct {
	kind kind
	imm  imm
}

// mvp describes every single-byte opcode.
var mvp = func() (t [256]opInfo) {
	for i := range t {
		t[i] = opInfo{kindPlain, immUnknown}
	}
	set := func(lo, hi int, k kind, m imm) {
		for i := lo; i <= hi; i++ {
			t[i] = opInfo{k, m}
		}
	}
	set(0x00, 0x00, kindUnreachable, immNone)
	set(0x01, 0x01, kindPlain, immNone) // nop
	set(0x02, 0x02, kindBlock, immBlockType)
	set(0x03, 0x03, kindLoop, immBlockType)
	set(0x04, 0x04, kindIf, immBlockType)
	set(0x05, 0x05, kindElse, immNone)
	set(0x06, 0x0a, kindPlain, immUnsupported) // try, catch, throw, rethrow, throw_ref
	set(0x0b, 0x0b, kindEnd, immNone)
	set(0x0c, 0x0c, kindBr, immU32)
	set(0x0d, 0x0d, kindBrIf, immU32)
	set(0x0e, 0x0e, kindBrTable, immBrTable)
	set(0x0f, 0x0f, kindReturn, immNone)
	set(0x10, 0x10, kindCall, immU32)
	set(0x11, 0x11, kindCallIndirect, immU32x2)
	set(0x12, 0x12, kindReturnCall, immU32)
	set(0x13, 0x13, kindReturnCallIndirect, immU32x2)
	set(0x14, 0x15, kindPlain, immUnsupported) // call_ref, return_call_ref
	set(0x18, 0x19, kindPlain, immUnsupported) // delegate, catch_all
	set(0x1a, 0x1b, kindPlain, immNone)        // drop, select
	set(0x1c, 0x1c, kindPlain, immSelectT)
	set(0x1f, 0x1f, kindPlain, immUnsupported) // try_table
	set(0x20, 0x20, kindPlain, immU32)         // local.get
	set(0x21, 0x22, kindLocalSet, immU32)      // local.set, local.tee
	set(0x23, 0x26, kindPlain, immU32)         // global.get/set, table.get/set
	set(0x28, 0x3e, kindPlain, immMemarg)      // loads and stores
	set(0x3f, 0x40, kindPlain, immU32)         // memory.size, memory.grow
	set(0x41, 0x41, kindPlain, immI32)
	set(0x42, 0x42, kindPlain, immI64)
	set(0x43, 0x43, kindPlain, immBytes4)
	set(0x44, 0x44, kindPlain, immBytes8)
	set(0x45, 0xc4, kindPlain, immNone) // numeric, sign extension
	set(0xd0, 0xd0, kindPlain, immRefNull)
	set(0xd1, 0xd1, kindPlain, immNone) // ref.is_null
	set(0xd2, 0xd2, kindRefFunc, immU32)
	set(0xd3, 0xd6, kindPlain, immUnsupported) // ref.eq, ref.as_non_null, br_on_null, br_on_non_null
	set(0xfb, 0xfb, kindPlain, immUnsupported) // GC prefix
	set(0xfc, 0xfe, kindPlain, immPrefix)
	return t
}()

// miscOp describes 0xfc sub-opcodes: saturating truncation and bulk memory.
func miscOp(sub uint32) opInfo {
	switch {
	case sub <= 0x07: // i32/i64.trunc_sat_f32/f64_s/u
		return opInfo{kindPlain, immNone}
	case sub == 0x08: // memory.init data mem
		return opInfo{kindBulk, immU32x2}
	case sub == 0x09: // data.drop
		return opInfo{kindPlain, immU32}
	case sub == 0x0a: // memory.copy mem mem
		return opInfo{kindBulk, immU32x2}
	case sub == 0x0b: // memory.fill mem
		return opInfo{kindBulk, immU32}
	case sub == 0x0c: // table.init elem table
		return opInfo{kindBulk, immU32x2}
	case sub == 0x0d: // elem.drop
		return opInfo{kindPlain, immU32}
	case sub == 0x0e: // table.copy table table
		return opInfo{kindBulk, immU32x2}
	case sub == 0x0f: // table.grow table: fills its new elements, as table.fill does
		return opInfo{kindBulk, immU32}
	case sub == 0x10: // table.size table
		return opInfo{kindPlain, immU32}
	case sub == 0x11: // table.fill
		return opInfo{kindBulk, immU32}
	}
	return opInfo{kindPlain, immUnknown}
}

// simdUnassigned marks the holes in the 0xfd 0x5e..0xff range of the final
// SIMD proposal.
var simdUnassigned = map[uint32]bool{
	0x9a: true, 0xa2: true, 0xa5: true, 0xa6: true, 0xaf: true, 0xb0: true,
	0xb2: true, 0xb3: true, 0xb4: true, 0xbb: true, 0xc2: true, 0xc5: true,
	0xc6: true, 0xcf: true, 0xd0: true, 0xd2: true, 0xd3: true, 0xd4: true,
	0xe2: true, 0xee: true,
}

// simdOp describes 0xfd sub-opcodes: fixed-width SIMD and relaxed SIMD.
func simdOp(sub uint32) opInfo {
	switch {
	case sub <= 0x0b: // v128.load*, v128.store
		return opInfo{kindPlain, immMemarg}
	case sub == 0x0c || sub == 0x0d: // v128.const, i8x16.shuffle
		return opInfo{kindPlain, immBytes16}
	case sub <= 0x14: // swizzle, splats
		return opInfo{kindPlain, immNone}
	case sub <= 0x22: // extract_lane, replace_lane
		return opInfo{kindPlain, immLane}
	case sub <= 0x53: // comparisons, bitwise, any_true
		return opInfo{kindPlain, immNone}
	case sub <= 0x5b: // v128.load*_lane, v128.store*_lane
		return opInfo{kindPlain, immMemargLane}
	case sub <= 0x5d: // v128.load32_zero, v128.load64_zero
		return opInfo{kindPlain, immMemarg}
	case sub <= 0xff:
		if simdUnassigned[sub] {
			return opInfo{kindPlain, immUnknown}
		}
		return opInfo{kindPlain, immNone}
	case sub <= 0x113: // relaxed SIMD
		return opInfo{kindPlain, immNone}
	}
	return opInfo{kindPlain, immUnknown}
}

// atomicOp describes 0xfe sub-opcodes of the threads proposal.
func atomicOp(sub uint32) opInfo {
	switch {
	case sub <= 0x02: // memory.atomic.notify, wait32, wait64
		return opInfo{kindPlain, immMemarg}
	case sub == 0x03: // atomic.fence
		return opInfo{kindPlain, immZeroByte}
	case sub >= 0x10 && sub <= 0x4e: // loads, stores, read-modify-write
		return opInfo{kindPlain, immMemarg}
	}
	return opInfo{kindPlain, immUnknown}
}

// opName renders an opcode for error messages: "0x28" or "0xfd 0x1ff".
func opName(op byte, sub uint32, prefixed bool) string {
	if prefixed {
		return fmt.Sprintf("%#x %#x", op, sub)
	}
	return fmt.Sprintf("%#x", op)
}

// unsupportedWhat explains why a known opcode is rejected.
func unsupportedWhat(op byte) string {
	switch op {
	case 0x06, 0x07, 0x08, 0x09, 0x0a, 0x18, 0x19, 0x1f:
		return "exception handling"
	default:
		return "typed function references and GC"
	}
}
