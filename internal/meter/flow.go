package meter

import "math"

// MaxFlowCost bounds the work wazero's compiler does on the control flow of
// one function body, as flow.walk estimates it, and of all the bodies of a
// module together, or flowPerByte per byte of its code section if that is
// more.
//
// wazero's compiler finds the loops of a function by walking, from every
// basic block and every branch, up the dominator tree (to the entry, or to
// the nearest loop header), and finds the value of a local by walking back
// through the blocks that have one predecessor: work in the blocks (or the
// locals read) times the depth of that tree (or the length of that chain).
// Nothing interrupts it, neither a context nor closing the runtime. Code in
// which each block, loop, if or branch follows or nests in the one before
// makes the tree as deep as the function is long, and takes it seconds to
// minutes: 16,000 ifs in a row (80 KB) 23 s, 10,000 nested ifs (50 KB) 10 s,
// 4,000 br_ifs followed by 50,000 local.gets 7 s. MaxFlowCost is about a
// second at worst on the machine this was measured on (a 2-core x86-64;
// 10 to 70 ns per unit). Compilers' code stays far below it: a C switch of
// 2,000 cases, dispatched by one br_table into 2,500 nested blocks, costs
// little, since every case hangs off the dispatch, and the functions of the
// C, Rust, Zig and TinyGo modules of wazero's tests cost under 1% of it and
// a few units per byte.
const MaxFlowCost = 1 << 25

// flowPerByte is the budget of a module's control flow per byte of its code.
const flowPerByte = 16

// flowFrame is an open block, loop or if of the body flow.walk walks.
type flowFrame struct {
	kind    kind  // kindBlock, kindLoop, kindIf or kindElse
	at      int64 // if: the depth of the block holding the if
	chainAt int64 // if: the chain of the block holding the if
	in      int64 // least depth of a block that branches to the end, or noFlow
	preds   int   // branches to the end (counted up to 2)
	chainIn int64 // the chain of the block of the last of them
	live    bool  // if: the if is reachable, and so is its else arm
}

const noFlow = math.MaxInt64

// flow follows the basic blocks wazero's compiler builds for a body, with
// an upper bound on the depth of each in the dominator tree.
type flow struct {
	stack   []flowFrame
	depth   int64 // of the current block
	chain   int64 // blocks with one predecessor leading to the current one
	live    bool  // the current code is reachable
	cost    uint64
	deepest int64
}

// block is a new basic block at depth d and chain c, which becomes the
// current one.
func (f *flow) block(d, c int64) {
	f.cost += uint64(d)
	f.depth, f.chain, f.live = d, c, true
	f.deepest = max(f.deepest, d)
}

// edge is a branch from a block at depth from to the label of frame k (the
// function's own frame included): its end, or a loop's header.
func (f *flow) edge(k int, from, chain int64) {
	f.cost += uint64(from)
	if fr := &f.stack[k]; fr.kind != kindLoop { // a loop's label is its header
		fr.in, fr.preds, fr.chainIn = min(fr.in, from), min(fr.preds+1, 2), chain
	}
}

// walk walks the instructions of a body (code, at offset base in the
// module) as wazero's decoder reads them, and sets f.cost to an upper bound
// on the work its compiler spends walking the body's basic blocks: the sum
// of the depths in the dominator tree of every basic block the compiler
// makes and of every branch's source, plus, for every instruction, the
// length of the chain of one-predecessor blocks that leads to its block
// (a local is looked up back through them); and f.deepest to the deepest
// block.
//
// A block's depth is at most one more than the least depth of the blocks
// that branch to it, its immediate dominator dominating them all: so the
// code after a br_if is one deeper than the br_if, and the code after the
// end of a block one deeper than the shallowest of the blocks that branch
// to it or fall through. Blocks, loops and ifs make the blocks wazero's
// frontend makes: the code after a block; a loop header and the code after
// the loop; the then and else arms of an if and the code after it; the code
// after a br_if; one block per target of a br_table; three for the loop of
// memory.fill and table.fill. Unreachable code makes none.
//
// It stops early, with a cost over limit, once the cost passes limit, so
// its time is linear in the body whatever the limit. It stops without error
// at an instruction it cannot read: wazero refuses the module then, having
// read no more of the body than the walk has.
func (f *flow) walk(code []byte, base int, limit uint64) {
	f.stack = append(f.stack[:0], flowFrame{kind: kindBlock, in: noFlow})
	f.depth, f.chain, f.live, f.cost, f.deepest = 0, 0, true, 0, 0
	d := decoder{numTypes: math.MaxUint32, numFuncs: math.MaxUint32, numLocals: math.MaxUint64, asWazero: true}
	r := newReader(code, base)
	for len(f.stack) > 0 && f.cost <= limit {
		in := d.next(r)
		if r.err != nil {
			return
		}
		f.step(&in, code[in.start:in.end])
	}
}

func (f *flow) step(in *instr, raw []byte) {
	if f.live {
		// Reading a local (or the memory's base) looks for its definition
		// back through every block of the chain that has one predecessor.
		f.cost += uint64(f.chain)
	}
	top := len(f.stack) - 1
	target := func(depth uint32) int { // -1 if out of range: wazero refuses the body
		return top - int(min(depth, uint32(top+1)))
	}
	switch in.info.kind {
	case kindBlock:
		f.stack = append(f.stack, flowFrame{kind: kindBlock, in: noFlow})
	case kindLoop:
		f.stack = append(f.stack, flowFrame{kind: kindLoop, in: noFlow})
		if f.live {
			f.cost += uint64(f.depth) // the jump to the header
			f.block(f.depth+1, 0)     // the header has the back branches too
		}
	case kindIf:
		f.stack = append(f.stack, flowFrame{kind: kindIf, at: f.depth, chainAt: f.chain, in: noFlow, live: f.live})
		if f.live {
			f.cost += 2*uint64(f.depth) + uint64(f.depth+1) // two branches, the else arm
			f.block(f.depth+1, f.chain+1)                   // the then arm
		}
	case kindElse:
		fr := &f.stack[top]
		if fr.kind != kindIf {
			f.stack = f.stack[:0] // wazero refuses the body
			return
		}
		if f.live {
			f.edge(top, f.depth, f.chain)
		}
		fr.kind = kindElse
		if f.live = fr.live; f.live {
			f.depth, f.chain = fr.at+1, fr.chainAt+1
		}
	case kindEnd:
		if f.live {
			f.edge(top, f.depth, f.chain)
			if f.stack[top].kind == kindLoop { // the fall through is the only way out of a loop
				fr := &f.stack[top]
				fr.in, fr.preds, fr.chainIn = f.depth, 1, f.chain
			}
		}
		fr := f.stack[top]
		f.stack = f.stack[:top]
		if fr.kind == kindIf && fr.live { // the else arm falls through
			f.cost += uint64(fr.at + 1)
			fr.in, fr.preds, fr.chainIn = min(fr.in, fr.at+1), min(fr.preds+1, 2), fr.chainAt+1
		}
		f.live = false
		switch {
		case fr.preds == 1:
			f.block(fr.in+1, fr.chainIn+1)
		case fr.preds > 1:
			f.block(fr.in+1, 0)
		}
	case kindBr:
		if k := target(in.a); k >= 0 && f.live {
			f.edge(k, f.depth, f.chain)
		}
		f.live = false
	case kindBrIf:
		if k := target(in.a); k >= 0 && f.live {
			f.edge(k, f.depth, f.chain)
			f.cost += uint64(f.depth)
			f.block(f.depth+1, f.chain+1)
		}
	case kindBrTable:
		if f.live {
			r := newReader(raw, 0)
			r.byte()
			n := r.u32()
			for i := uint64(0); i <= uint64(n) && r.err == nil; i++ {
				if k := target(r.u32()); k >= 0 {
					f.cost += uint64(f.depth) + uint64(f.depth+1) // into the target's block, and out
					f.edge(k, f.depth+1, f.chain+1)
					f.deepest = max(f.deepest, f.depth+1)
				}
			}
		}
		f.live = false
	case kindReturn, kindUnreachable, kindReturnCall, kindReturnCallIndirect:
		if f.live {
			f.cost += uint64(f.depth)
		}
		f.live = false
	case kindBulk:
		if f.live && in.prefixed && (in.sub == 0x0b || in.sub == 0x11) { // memory.fill, table.fill: a loop
			f.cost += 4 * uint64(f.depth+3) // its four branches
			f.block(f.depth+1, 0)
			f.block(f.depth+1, 0)
			f.block(f.depth+1, 0)
		}
	}
}

// flowCheck holds the bodies of one module to MaxFlowCost each and to a
// budget in all.
type flowCheck struct {
	flow
	total, budget uint64
}

// flowBudget is the budget of a module whose code section has codeBytes.
func flowBudget(codeBytes int) uint64 {
	return max(MaxFlowCost, flowPerByte*uint64(codeBytes))
}

func (c *flowCheck) reset(budget uint64) { c.total, c.budget = 0, budget }

// body checks the instructions of one body, code at offset base.
func (c *flowCheck) body(code []byte, base int) error {
	c.walk(code, base, MaxFlowCost)
	c.total += c.cost
	switch {
	case c.cost > MaxFlowCost:
		return errorf(ErrUnsupported, "its blocks, loops, ifs and branches follow or nest in one another %d deep or more, "+
			"more than wazero can compile in a function in about a second (cost over %d)", c.deepest, MaxFlowCost)
	case c.total > c.budget:
		return c.overBudget()
	}
	return nil
}

func (c *flowCheck) overBudget() *Error {
	return errorf(ErrUnsupported, "the control flow of its functions costs %d to compile in all, more than the %d of this module "+
		"(%d, or %d per byte of the code section if that is more)", c.total, c.budget, MaxFlowCost, flowPerByte)
}

// entryCode returns the instructions of a code entry the instrumenter wrote
// (its locals' types are one byte each).
func entryCode(entry []byte) []byte {
	r := newReader(entry, 0)
	for n := r.u32(); n > 0 && r.err == nil; n-- {
		r.u32()
		r.byte()
	}
	return entry[r.pos:]
}
