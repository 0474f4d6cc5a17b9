package meter

import (
	"math"
)

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
// Its SSA builder also does work that grows with the square of what a
// block joins: each predecessor added to a block is compared with those it
// has; a local read after a join is looked up in every join back to its
// definition, leaving a value and a map entry in each (about 100 bytes),
// and from each of its predecessors back through their chains of blocks;
// a local read in nested loops leaves a placeholder in every loop's
// header; and eliminating the parameters these become resolves every
// argument of every branch into a block once per parameter. Nothing
// interrupts it, neither a context nor closing the runtime. Code in which
// each block, loop, if or branch follows or nests in the one before makes
// the tree as deep as the function is long, and takes it seconds to
// minutes: 16,000 ifs in a row (80 KB) 23 s, 10,000 nested ifs (50 KB)
// 10 s, 4,000 br_ifs followed by 50,000 local.gets 7 s; so does code that
// joins much: a br_table of 150,000 targets to one block (150 KB) 11 s,
// 5,000 locals read in 200 nested loops (20 KB) 7.5 to 14 s, 5,000 locals
// live across 1,000 nested loops (77 KB) 8.5 min, 8,000 locals live across
// a switch of 8,000 cases that fall through (200 KB) more than 4 GB.
// MaxFlowCost is about a second at worst on the machine this was measured
// on (a 2-core x86-64; 10 to 70 ns per unit; see BenchmarkCompileAtFlowLimit
// and BenchmarkCompileFlowShapes), and 130 MB. Compilers' code
// stays below it: a C switch of 2,000 cases, dispatched by one br_table into
// 2,500 nested blocks, costs little, since every case hangs off the
// dispatch; the functions of the C, Rust and TinyGo modules of wazero's
// tests cost under 3.5% of it, of Zig's under 10%, and their modules under
// 120 units per byte (the Zig module compiles in 100 ms, 2.2 µs a byte).
const MaxFlowCost = 1 << 25

// flowPerByte is the budget of a module's control flow per byte of its code:
// about 4 µs a byte, twice what wazero takes on Zig's C.
const flowPerByte = 128

// The weights, in units of flow cost, of the work wazero's SSA builder and
// its passes do per local, per predecessor and per block parameter, measured
// with BenchmarkCompileFlowShapes (see TestFlowShapeLimits).
const (
	// joinCost is finding a local's value at a block with several
	// predecessors, per local and block: a temporary value, an entry in the
	// block's map of definitions (about 100 bytes, which stay) and a look-up
	// in each predecessor, which costs one unit more each.
	joinCost = 32
	// placeholderCost is a local read in a loop whose header is not sealed
	// yet, per local and open loop: a placeholder value and map entry in the
	// header, which becomes a parameter when the loop ends.
	placeholderCost = 32
	// predShift: adding a predecessor to a block compares it with every one
	// the block has (about 1 ns each), 1/16 of a unit.
	predShift = 4
	// phiShift: eliminating redundant block parameters resolves every
	// argument of every branch into a block once per parameter, k*k*p for a
	// block of k parameters and p predecessors, 1/4 of a unit each: 2 ns,
	// up to 5 ns in metered code, whose aliases chain longer.
	phiShift = 2
	// valueShift: a block of k parameters (the values a block, if or loop of
	// a multi-value type passes on) costs the phi elimination k*k for each
	// of its predecessors, 1/16 of a unit each (about 2 ns): 2,000 nested
	// blocks of 1,000 results took wazero 3.7 s.
	valueShift = 4
)

// arity is what a function type takes and gives, for a block of that type.
type arity struct{ params, results uint16 }

// flowFrame is an open block, loop or if of the body flow.walk walks.
type flowFrame struct {
	kind    kind     // kindBlock, kindLoop, kindIf or kindElse
	at      int64    // if: the depth of the block holding the if
	chainAt int64    // if: the chain of the block holding the if
	in      int64    // least depth of a block that branches to the end, or noFlow
	preds   int      // branches to the end (counted up to 2)
	chainIn int64    // the chain of the block of the last of them
	live    bool     // if: the if is reachable, and so is its else arm
	n       int64    // every branch to its label (a loop's header), fall-through included
	id      int32    // unique in the body; an else arm gets a new one
	loops   int32    // loops open from the function's frame to this one
	params  int64    // placeholders in the headers of the loops from this frame up, less those below
	defs    int64    // locals first written since they opened, of the frames from this one up, less those below
	openPos int32    // flow.pos when it opened
	open    flowPath // the path of the block it opened in
	all     flowPath // flow.all when it opened
	edges   flowPath // the paths of the branches to its label, less open, summed
	chains  int64    // the chains of the blocks of the branches to its label, summed
	values  int64    // the values its label takes: a loop's parameters, else its results
}

const noFlow = math.MaxInt64

// initCall is a function the module exports as CtorsName or InitializeName,
// and whether the module calls it itself.
type initCall struct {
	name   string
	index  uint32
	called bool
}

// flow follows the basic blocks wazero's compiler builds for a body, with
// an upper bound on the depth of each in the dominator tree.
type flow struct {
	// inits are the functions whose direct calls walk notes: Scan's look for
	// a module running its initialization itself.
	inits []initCall

	stack   []flowFrame
	depth   int64    // of the current block
	chain   int64    // blocks with one predecessor leading to the current one
	path    flowPath // of the current block
	live    bool     // the current code is reachable
	cost    uint64
	deepest int64

	pos     int32    // instructions walked
	ids     int32    // frame ids given
	all     flowPath // every join so far
	acc     []flowAccess
	locals  []flowLocal
	touched []uint32 // locals whose flowLocal is set

	joinedCost uint64 // the part of cost for predecessors, locals and parameters
	maxPreds   int64  // the most branches to one block
	valueCost  uint64 // the part of cost for the values blocks pass on
	maxValues  int64  // the most values a block passes on

	// types are the arities of the module's function types, for blocks
	// typed by index; a block of a type not in it passes on nothing.
	types []arity
}

// block is a new basic block at depth d and chain c, which becomes the
// current one.
func (f *flow) block(d, c int64) {
	f.cost += uint64(d)
	f.depth, f.chain, f.live = d, c, true
	f.deepest = max(f.deepest, d)
}

// push opens a frame.
func (f *flow) push(fr flowFrame) {
	f.ids++
	fr.id, fr.open, fr.all, fr.openPos = f.ids, f.path, f.all, f.pos
	if fr.loops = 0; len(f.stack) > 0 {
		fr.loops = f.stack[len(f.stack)-1].loops
	}
	if fr.kind == kindLoop {
		fr.loops++
	}
	f.stack = append(f.stack, fr)
}

// walk walks the instructions of a body (code, at offset base in the
// module) as wazero's decoder reads them, and sets f.cost to an upper bound
// on the work its compiler spends on the body's basic blocks and locals,
// and f.deepest to the deepest block. The cost is the sum of:
//
//   - the depth in the dominator tree of every basic block the compiler
//     makes and of every branch's source;
//   - for every instruction, the length of the chain of one-predecessor
//     blocks that leads to its block (a local is looked up back through
//     them);
//   - for every branch, the predecessors its target already has;
//   - for every local.get, the joins it is looked up through, the headers
//     of the open loops it gets a placeholder in, and what the parameters
//     it may become add to their elimination (see read);
//   - for every loop, the look-ups of its placeholders when its header is
//     sealed, and the elimination of the parameters they become (see seal).
//
// Each is meant as an upper bound on the work, in weights measured on
// wazero's compiler (joinCost to phiShift), but the elimination of
// parameters, which wazero repeats over every block until nothing changes,
// is charged for a pass or two: what the shapes measured took.
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
	f.stack, f.ids, f.pos, f.path, f.all = f.stack[:0], 0, 0, flowPath{}, flowPath{}
	f.push(flowFrame{kind: kindBlock, in: noFlow})
	f.depth, f.chain, f.live, f.cost, f.deepest, f.joinedCost, f.maxPreds = 0, 0, true, 0, 0, 0, 0
	f.valueCost, f.maxValues = 0, 0
	for _, i := range f.touched {
		f.locals[i] = flowLocal{}
	}
	f.touched, f.acc = f.touched[:0], f.acc[:0]
	d := decoder{numTypes: math.MaxUint32, numFuncs: math.MaxUint32, numGlobals: math.MaxUint32, numLocals: math.MaxUint64, asWazero: true}
	r := newReader(code, base)
	for len(f.stack) > 0 && f.cost <= limit {
		in := d.next(r)
		if r.err != nil {
			return
		}
		if in.op == opCall && !in.prefixed {
			for i := range f.inits {
				if f.inits[i].index == in.a {
					f.inits[i].called = true
				}
			}
		}
		f.pos++
		f.step(&in, code[in.start:in.end])
	}
}

func (f *flow) step(in *instr, raw []byte) {
	if f.live {
		// Reading a local (or the memory's base) looks for its definition
		// back through every block of the chain that has one predecessor.
		f.cost += uint64(f.chain)
		switch {
		case in.info.kind == kindLocalSet:
			f.write(f.local(in.a))
		case in.op == 0x20 && !in.prefixed: // local.get
			f.read(f.local(in.a))
		}
	}
	top := len(f.stack) - 1
	target := func(depth uint32) int { // -1 if out of range: wazero refuses the body
		return top - int(min(depth, uint32(top+1)))
	}
	switch in.info.kind {
	case kindBlock:
		f.push(flowFrame{kind: kindBlock, in: noFlow, values: f.values(in.bt, false)})
	case kindLoop:
		f.push(flowFrame{kind: kindLoop, in: noFlow, values: f.values(in.bt, true)})
		if f.live {
			f.cost += uint64(f.depth) // the jump to the header
			f.pred(top+1, f.path, f.chain)
			f.block(f.depth+1, 0) // the header has the back branches too
		}
	case kindIf:
		f.push(flowFrame{kind: kindIf, at: f.depth, chainAt: f.chain, in: noFlow, live: f.live, values: f.values(in.bt, false)})
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
		f.ids++
		fr.kind, fr.id = kindElse, f.ids // the then arm dominates nothing in the else arm
		if f.live = fr.live; f.live {
			f.depth, f.chain, f.path = fr.at+1, fr.chainAt+1, fr.open
		}
	case kindEnd:
		fr := &f.stack[top]
		var src *flowPath // a loop's fall through
		if f.live {
			if fr.kind == kindLoop { // the fall through is the only way out of a loop
				f.cost += uint64(f.depth)
				fr.in, fr.preds, fr.chainIn = f.depth, 1, f.chain
				src = &f.path
			} else {
				f.edge(top, f.depth, f.chain)
			}
		}
		if fr.kind == kindIf && fr.live { // the else arm falls through
			f.cost += uint64(fr.at + 1)
			f.pred(top, fr.open, fr.chainAt+1)
			fr.in, fr.preds, fr.chainIn = min(fr.in, fr.at+1), min(fr.preds+1, 2), fr.chainAt+1
		}
		if top > 0 {
			f.stack[top-1].params += fr.params
			f.stack[top-1].defs += fr.defs
		}
		if fr.kind == kindLoop {
			f.path = f.seal(fr, src)
		} else {
			f.path = f.joined(fr, nil, fr.n, false)
		}
		ended := *fr
		f.passValues(&ended)
		f.stack = f.stack[:top]
		f.live = false
		switch {
		case ended.preds == 1:
			f.block(ended.in+1, ended.chainIn+1)
		case ended.preds > 1:
			f.block(ended.in+1, 0)
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
	case c.cost > MaxFlowCost && c.valueCost > c.cost/2:
		return errorf(ErrUnsupported, "its blocks pass on so many values (up to %d to one block) that wazero "+
			"cannot compile it in about a second (cost over %d)", c.maxValues, MaxFlowCost)
	case c.cost > MaxFlowCost && c.joinedCost > c.cost/2:
		return errorf(ErrUnsupported, "its blocks, loops, ifs and branches join so much (up to %d branches to one block, "+
			"%d locals used) that wazero cannot compile it in about a second (cost over %d)",
			c.maxPreds, len(c.touched), MaxFlowCost)
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
