package lua

import (
	"fmt"

	"github.com/hotscript/hotscript/internal/clip"
	glua "github.com/hotscript/hotscript/internal/gopherlua"
)

// callFailure is how gopher-lua says a call found no function, without naming
// what it called (Lua 5.1 says "attempt to call method 'descrbe' (a nil
// value)"): a typo in a live edit, the commonest broken one.
const callFailure = "attempt to call a non-function object"

// calledAt names what the call of proto's chunk at line calls, as Lua 5.1's
// message does ("method 'descrbe'", "global 'spwan'", "field 'hit'", "local
// 'f'", "upvalue 'f'"), if the chunk makes one call on that line that can
// have failed (a call of a global that globals hold a function in cannot)
// and the compiler named its callee, and no for loop there calls its
// iterator; else "".
func calledAt(proto *glua.FunctionProto, line int, globals *glua.LTable) string {
	var named []string
	for protos := []*glua.FunctionProto{proto}; len(protos) > 0; {
		p := protos[len(protos)-1]
		protos = append(protos[:len(protos)-1], p.FunctionPrototypes...)
		for pc, inst := range p.Code {
			if int(inst>>26) == glua.OP_TFORLOOP && pc < len(p.DbgSourcePositions) && p.DbgSourcePositions[pc] == line {
				return "" // a for loop calls its iterator, which has no name
			}
		}
		for _, c := range p.DbgCalls {
			if c.Pc >= len(p.DbgSourcePositions) || c.Pc >= len(p.Code) || p.DbgSourcePositions[c.Pc] != line {
				continue
			}
			kind, load := calleeKind(p, c.Pc)
			if kind == "global " && orNil(globals.RawGetString(globalName(p, load))).Type() == glua.LTFunction {
				continue
			}
			if c.Name == "" || c.Name == "?" || c.Name == "(anonymous)" {
				return "" // a call it cannot name may be the one
			}
			named = append(named, fmt.Sprintf("%s'%s'", kind, c.Name))
		}
	}
	if len(named) != 1 {
		return ""
	}
	return named[0]
}

// calleeKind says how the function register of p's call at pc was loaded:
// "method ", "global ", "field ", "upvalue ", "local ", or "" if unknown, and
// the index of the instruction that loaded it (-1 if none did). It looks back
// at the instructions before the call for the last one writing that register.
func calleeKind(p *glua.FunctionProto, pc int) (kind string, load int) {
	reg := int(p.Code[pc]>>18) & 0xff
	for i := pc - 1; i >= 0; i-- {
		inst := p.Code[i]
		op, a := int(inst>>26), int(inst>>18)&0xff
		if a != reg {
			continue
		}
		switch op {
		case glua.OP_SELF:
			return "method ", i
		case glua.OP_GETGLOBAL:
			return "global ", i
		case glua.OP_GETTABLEKS, glua.OP_GETTABLE:
			return "field ", i
		case glua.OP_GETUPVAL:
			return "upvalue ", i
		case glua.OP_MOVE:
			return "local ", i
		}
		return "", i
	}
	return "local ", -1 // a parameter or local never loaded since
}

// globalName is the name of the global that p's instruction at i, a
// GETGLOBAL, reads: the whole name, where the call records keep it cut (see
// cutCallNames).
func globalName(p *glua.FunctionProto, i int) string {
	bx := int(p.Code[i] & 0x3ffff)
	if bx < len(p.Constants) {
		if s, ok := p.Constants[bx].(glua.LString); ok {
			return string(s)
		}
	}
	return ""
}

// maxCallName is the longest name of a callee that proto's call records keep,
// in bytes (see cutCallNames).
const maxCallName = 256

// cutCallNames cuts the names of the callees in the call records of proto and
// the functions in it to maxCallName bytes. gopher-lua writes the name in each
// frame of an error's traceback, building the line of every frame (up to the
// call stack's depth) before it keeps 14: a function named with a megabyte
// (an identifier, or a string key in t["..."]()) recursing a thousand deep
// made an error cost seconds and a gigabyte, outside every limit.
func cutCallNames(proto *glua.FunctionProto) {
	eachProto(proto, func(p *glua.FunctionProto) {
		for i := range p.DbgCalls {
			p.DbgCalls[i].Name = clip.String(p.DbgCalls[i].Name, maxCallName)
		}
	})
}
