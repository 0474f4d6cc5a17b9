package meter

// Opcodes the rewrite emits.
const (
	opUnreachable  = 0x00
	opBlock        = 0x02
	opLoop         = 0x03
	opIf           = 0x04
	opEnd          = 0x0b
	opBr           = 0x0c
	opBrIf         = 0x0d
	opBrTable      = 0x0e
	opReturn       = 0x0f
	opCall         = 0x10
	opReturnCall   = 0x12
	opLocalGet     = 0x20
	opLocalSet     = 0x21
	opLocalTee     = 0x22
	opGlobalGet    = 0x23
	opGlobalSet    = 0x24
	opI64Const     = 0x42
	opI64LtS       = 0x53
	opI64Add       = 0x7c
	opI64Sub       = 0x7d
	opI64ShrU      = 0x88
	opI64ExtendI32 = 0xad
	opRefFunc      = 0xd2
)

// emitter is the second pass: it writes the instrumented body.
//
// The fuel counter lives in a new i64 local (fuel) for the whole call, where
// the compiler keeps it in a register. It is loaded from the fuel global on
// entry, stored back before every call and exit, and reloaded after every
// call, so callees and host functions see and may change the exact count.
type emitter struct {
	rw    *rewriter
	b     *body
	out   []byte
	h     int    // labels open in the output
	fuel  uint32 // the fuel local
	count uint32 // an i32 local for bulk-instruction lengths
	costs []int64

	growth int // bytes unroll may still add to the body
}

func (e *emitter) op(ops ...byte) { e.out = append(e.out, ops...) }

// note records that the input instruction at start in the body begins here,
// for the output's line table (see lines.go); entry says that code added at
// the function's entry begins here instead, to be given its first line.
func (e *emitter) note(start int, entry bool) {
	if e.rw.lines != nil {
		e.rw.rows = append(e.rw.rows, lineRow{len(e.out), uint32(e.b.base + start - e.rw.codeStart), entry})
	}
}

// cut truncates the output to its first n bytes, with their rows.
func (e *emitter) cut(n int) {
	e.out = e.out[:n]
	rows := e.rw.rows
	for len(rows) > 0 && rows[len(rows)-1].at >= n {
		rows = rows[:len(rows)-1]
	}
	e.rw.rows = rows
}

// copyOut copies the output from bytes from to to, with their rows, into
// rw.scratchB and rw.scratchR (at relative to from), for paste.
func (e *emitter) copyOut(from, to int) []byte {
	e.rw.scratchB = append(e.rw.scratchB[:0], e.out[from:to]...)
	e.rw.scratchR = e.rw.scratchR[:0]
	for _, r := range e.rw.rows {
		if r.at >= from && r.at < to {
			e.rw.scratchR = append(e.rw.scratchR, lineRow{r.at - from, r.old, r.entry})
		}
	}
	return e.rw.scratchB
}

// paste appends what copyOut copied, with its rows.
func (e *emitter) paste() {
	at := len(e.out)
	e.out = append(e.out, e.rw.scratchB...)
	for _, r := range e.rw.scratchR {
		e.rw.rows = append(e.rw.rows, lineRow{at + r.at, r.old, r.entry})
	}
}

func (e *emitter) opIdx(op byte, idx uint32) {
	e.out = append(e.out, op)
	e.out = AppendULEB(e.out, uint64(idx))
}

func (e *emitter) i64(v int64) {
	e.out = append(e.out, opI64Const)
	e.out = AppendSLEB(e.out, v)
}

// charge subtracts a region's cost from the fuel local.
func (e *emitter) charge(c int64) {
	if c == 0 {
		return
	}
	e.opIdx(opLocalGet, e.fuel)
	e.i64(c)
	e.op(opI64Sub)
	e.opIdx(opLocalSet, e.fuel)
	e.rw.info.ChargePoints++
}

// check charges c and branches to the refuel path, depth labels out, when
// the fuel runs below zero. The branch is forward and rarely taken, out of
// the loop, so the loop itself keeps its registers.
//
// The refuel path must have this branch as its only way in. wazero v1.12
// splits an edge from a two-exit block into a two-entry block and loses the
// compare-and-branch fusion on the new branch (its group id is not copied), so a
// second entry turns "cmp; jl" into "setl; movzx; test; jnz" on every loop
// iteration. Moving the check to the loop's back edge runs into the same split
// and measured slower (2.8-3.1x raw on the sum loop against 2.0-2.2x here).
//
// A check that charges ahead for copies of an unrolled loop body (see
// unroll) takes ahead, the part of c charged early: it branches when the
// fuel is below -ahead, that is when the fuel before it was below c-ahead,
// exactly when a check of that one iteration would.
func (e *emitter) check(c, ahead int64, depth int) {
	e.opIdx(opLocalGet, e.fuel)
	if c != 0 {
		e.i64(c)
		e.op(opI64Sub)
		e.opIdx(opLocalTee, e.fuel)
		e.rw.info.ChargePoints++
	}
	e.i64(-ahead)
	e.op(opI64LtS)
	e.opIdx(opBrIf, uint32(depth))
	e.rw.info.Checks++
}

// handOver stores the fuel for code outside the frame, a callee or the
// caller, that is about to run and may see it (when live), and tells unroll
// that the innermost loop around does that, so its copies cannot be charged
// ahead.
func (e *emitter) handOver(t *tracker, live bool) {
	if live {
		e.flush()
	}
	noteLeave(t)
}

func (e *emitter) flush() {
	e.opIdx(opLocalGet, e.fuel)
	e.opIdx(opGlobalSet, e.rw.fuelGlobal)
}

func (e *emitter) reload() {
	e.opIdx(opGlobalGet, e.rw.fuelGlobal)
	e.opIdx(opLocalSet, e.fuel)
}

// bulkCheck refuels, with the fuel on the stack, before a bulk instruction
// whose length charge ran the fuel below zero. One bulk instruction may fill
// or copy all of memory, uninterrupted: checking only at the next loop
// header or function entry would let it run past an instruction budget it
// already broke, and start a time limit's clock (or read it) only after it.
// The host sees the exact fuel, as at a call (so unroll charges no copies of
// the loop around ahead), and nothing is retried: the instruction runs once
// refuel returns, and the fuel it then holds is what is left.
func (e *emitter) bulkCheck(t *tracker) {
	e.i64(0)
	e.op(opI64LtS, opIf, blockEmpty)
	e.flush()
	e.opIdx(opCall, e.rw.numImportFuncs)
	e.reload()
	e.op(opEnd)
	e.rw.info.Checks++
	noteLeave(t)
}

// refuel emits the out-of-line path taken when a check fails. It stores
// the saved locals in save globals and the fuel in the fuel global, calls
// the host's refuel, and loads them all back. A saved local is thus not live
// across the call: the loop's value ends in a store and the value after the
// call is a new one, so the compiler has no reason to spill it on the hot
// path, and no register has to move into another (passing them as arguments
// made the register allocator break move cycles through the stack, a store
// in the loop). It then gives back the cost c of the region about to be
// retried, which will charge it again. Of that cost, ahead was charged for
// later copies of an unrolled loop body (see unroll); it is given back
// before the call, so the host sees the fuel a check of one iteration
// would have left.
func (e *emitter) refuel(saved []uint32, c, ahead int64) {
	if ahead != 0 {
		e.opIdx(opLocalGet, e.fuel)
		e.i64(ahead)
		e.op(opI64Add)
		e.opIdx(opLocalSet, e.fuel)
	}
	globals := e.rw.scratch2[:0]
	for i, l := range saved {
		t := e.b.localType(l)
		n := 0
		for _, m := range saved[:i] {
			if e.b.localType(m) == t {
				n++
			}
		}
		g := e.rw.saveGlobal(t, n)
		globals = append(globals, g)
		e.opIdx(opLocalGet, l)
		e.opIdx(opGlobalSet, g)
	}
	e.rw.scratch2 = globals
	e.flush()
	e.opIdx(opCall, e.rw.numImportFuncs)
	for i, l := range saved {
		e.opIdx(opGlobalGet, globals[i])
		e.opIdx(opLocalSet, l)
	}
	e.opIdx(opGlobalGet, e.rw.fuelGlobal)
	if c != 0 {
		e.i64(c)
		e.op(opI64Add)
	}
	e.opIdx(opLocalSet, e.fuel)
}

// emit is the second pass over b; costs come from analyze.
func (rw *rewriter) emit(b *body, costs []int64, out []byte) ([]byte, error) {
	e := &emitter{rw: rw, b: b, out: out, costs: costs}
	e.growth = max(unrollGrowth, len(b.code)/2)
	e.fuel = uint32(b.nLocals)
	e.count = e.fuel + 1

	extra := uint64(1)
	if b.hasBulk {
		extra++
	}
	e.out = AppendULEB(e.out, b.nDecls+extra)
	e.out = append(e.out, b.decls...)
	e.op(1, valI64)
	if b.hasBulk {
		e.op(1, valI32)
	}

	// Prologue: load the fuel, then wrap the body in a loop whose header is
	// the entry check, so a failed check can refuel and retry the entry.
	e.note(0, true) // the entry's code is the first instruction's
	e.reload()
	e.op(opLoop, blockEmpty, opBlock, blockEmpty)
	e.h = 3 // the function label, the retry loop, the refuel block
	e.check(costs[0], 0, 0)

	t := &rw.track
	t.reset(true)
	for i := range rw.instrs {
		in := &rw.instrs[i]
		raw := b.code[in.start:in.end]
		live := t.live()
		e.note(in.start, false)
		switch in.info.kind {
		case kindLoop:
			if c := rw.credits[t.regions]; c != 0 && live {
				e.credit(c)
			}
			params := rw.types.blockParams(in.bt)
			e.op(opBlock)
			e.out = append(e.out, raw[1:]...)
			e.op(opLoop)
			e.out = rw.types.appendBlockType(e.out, params, nil)
			e.op(opBlock)
			e.out = rw.types.appendBlockType(e.out, params, params)
			e.out = append(e.out, raw...)
			e.h += 4
			rw.info.Loops++
		case kindBlock, kindIf:
			e.out = append(e.out, raw...)
			e.h++
		case kindEnd:
			// handled after step, which says which frame closed
		case kindBr, kindBrIf:
			k, err := t.target(in.a)
			if err != nil {
				return nil, withOffset(err, b.base+in.start)
			}
			if k == 0 && live {
				e.flush()
			}
			at := len(e.out)
			e.opIdx(in.op, uint32(e.h-1-t.stack[k].pos))
			noteBranch(t, k, in.op, at, len(e.out))
		case kindBrTable:
			rw.scratch = branchTargets(b.code, in, rw.scratch[:0])
			depths := rw.scratch
			toFunc := false
			for i, dd := range depths {
				k, err := t.target(dd)
				if err != nil {
					return nil, withOffset(err, b.base+in.start)
				}
				toFunc = toFunc || k == 0
				depths[i] = uint32(e.h - 1 - t.stack[k].pos)
				noteBranch(t, k, opBrTable, 0, 0)
			}
			if toFunc && live {
				e.flush()
			}
			e.op(opBrTable)
			e.out = AppendULEB(e.out, uint64(len(depths)-1))
			for _, dd := range depths {
				e.out = AppendULEB(e.out, uint64(dd))
			}
		case kindReturn, kindReturnCallIndirect:
			e.handOver(t, live)
			e.out = append(e.out, raw...)
		case kindReturnCall:
			e.handOver(t, live)
			e.opIdx(opReturnCall, rw.shift(in.a))
		case kindCall:
			e.handOver(t, live)
			e.opIdx(opCall, rw.shift(in.a))
			if live {
				e.reload()
			}
		case kindCallIndirect:
			e.handOver(t, live)
			e.out = append(e.out, raw...)
			if live {
				e.reload()
			}
		case kindRefFunc:
			e.opIdx(opRefFunc, rw.shift(in.a))
		case kindBulk:
			if live {
				// fuel -= length >> bulkShift, the length staying on the stack
				e.opIdx(opLocalTee, e.count)
				e.opIdx(opLocalGet, e.fuel)
				e.opIdx(opLocalGet, e.count)
				e.op(opI64ExtendI32)
				e.i64(bulkShift)
				e.op(opI64ShrU, opI64Sub)
				e.opIdx(opLocalTee, e.fuel)
				e.bulkCheck(t)
			}
			e.out = append(e.out, raw...)
		default:
			e.out = append(e.out, raw...)
		}

		opened, closed, err := t.step(in, b.code, rw.scratch)
		if err != nil {
			return nil, withOffset(err, b.base+in.start)
		}
		switch in.info.kind {
		case kindLoop:
			top := &t.stack[len(t.stack)-1]
			top.pos = e.h - 1
			top.checkAt = len(e.out)
			e.check(costs[opened], 0, 1)
			top.bodyAt = len(e.out)
			if p := t.stack[len(t.stack)-2].loop; p >= 0 {
				t.stack[p].inner = true
			}
			continue
		case kindBlock, kindIf:
			t.stack[len(t.stack)-1].pos = e.h - 1
		case kindEnd:
			switch {
			case closed.fn:
				e.epilogue(b)
			case closed.kind == kindLoop:
				e.closeLoop(closed, t.regions, i > 0 && rw.instrs[i-1].info.kind == kindBrIf && rw.instrs[i-1].a == 0)
			default:
				e.op(opEnd)
				e.h--
			}
		}
		if opened >= 0 {
			e.charge(costs[opened])
		}
	}
	return e.out, nil
}

// closeLoop ends an instrumented loop: the original loop, its refuel block
// and retry loop, and the exit block that carries the loop's results out.
func (e *emitter) closeLoop(l ctl, regions int, doWhile bool) {
	c, ahead := e.unroll(l, regions, doWhile)
	e.op(opEnd)   // the loop
	e.op(opBr, 2) // to the exit block, with the loop's results
	e.op(opEnd)   // the refuel block; its branch arrives with the loop params
	e.refuel(l.written, c, ahead)
	e.op(opBr, 0) // retry the loop from its header
	e.op(opEnd)   // the retry loop
	e.op(opUnreachable)
	e.op(opEnd) // the exit block
	e.h -= 4
}

// epilogue ends the body: the fall-through stores the fuel and returns,
// then comes the refuel path of the entry check. The return is emitted even
// when no region reaches it, since the validator may still consider the
// code reachable (after a loop with results that never exits, say) and
// expect the results to leave through it.
func (e *emitter) epilogue(b *body) {
	e.flush()
	e.op(opReturn)
	e.op(opEnd) // the refuel block
	params := e.rw.scratch[:0]
	for i := range min(len(b.params), maxSaved) {
		params = append(params, uint32(i))
	}
	e.rw.scratch = params
	e.note(0, true) // the entry check's refuel path
	e.refuel(params, e.costs[0], 0)
	e.op(opBr, 0, opEnd, opUnreachable, opEnd)
	e.h = 0
}
