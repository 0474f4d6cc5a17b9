package meter

import "sort"

const (
	// maxSaved caps how many locals a refuel path saves in globals. Locals
	// beyond it stay live across the call, which is correct but lets the
	// compiler spill them in the loop.
	maxSaved = 32
	// maxLocals bounds the locals a body may declare, so a hostile count
	// cannot make the rewrite allocate without limit.
	maxLocals = 1 << 20
	// maxLoopNesting bounds how many loops nest in one another, and
	// maxNesting how many blocks, loops and ifs, which bounds the
	// instrumenter's frames. wazero's compile time grows faster than the
	// square of the nesting; the check of MaxFlowCost, which Instrument
	// runs on its output as Scan does on every module, holds it to about a
	// second, and refuses shallower nests than these when code follows
	// each end. Real code nests loops a few deep, and blocks about as deep
	// as its largest switch has cases.
	maxLoopNesting = 1000
	maxNesting     = 10000
	// bulkShift sets the dynamic charge of bulk memory and table
	// instructions: one unit per 1<<bulkShift bytes or elements.
	bulkShift = 6
)

// localRun is one entry of a body's local declarations.
type localRun struct {
	first uint64 // index of the first local of the run
	count uint64
	typ   byte
}

// body holds what the instrumenter knows about the function being rewritten.
type body struct {
	idx     uint32 // function index in the input module
	params  []byte
	runs    []localRun
	nLocals uint64
	decls   []byte // the local declaration entries, verbatim, without their count
	nDecls  uint64
	code    []byte // the instructions, through the final end
	base    int    // offset of code in the input module
	hasBulk bool
}

func (b *body) localType(i uint32) byte {
	if int(i) < len(b.params) {
		return b.params[i]
	}
	k := sort.Search(len(b.runs), func(k int) bool { return b.runs[k].first+b.runs[k].count > uint64(i) })
	return b.runs[k].typ
}

// parseBody reads the local declarations of a code entry.
func parseBody(b *body, entry []byte, base int) error {
	r := newReader(entry, base)
	n := r.count(2)
	declStart := r.pos
	b.nLocals, b.runs = uint64(len(b.params)), b.runs[:0]
	for i := 0; i < n && r.err == nil; i++ {
		c := uint64(r.u32())
		t := readValType(r)
		if c > 0 {
			b.runs = append(b.runs, localRun{first: b.nLocals, count: c, typ: t})
		}
		b.nLocals += c
		if b.nLocals > maxLocals {
			return errorf(ErrUnsupported, "more than %d locals", maxLocals)
		}
	}
	if r.err != nil {
		return r.err
	}
	b.nDecls = uint64(n)
	b.decls = entry[declStart:r.pos]
	b.code = entry[r.pos:]
	b.base = base + r.pos
	return nil
}

// analyze is the first pass: it decodes the body into rw.instrs, checks its
// structure and returns the static cost of every region, in the order
// regions open.
func (rw *rewriter) analyze(b *body) ([]int64, error) {
	t := &rw.track
	t.reset(false)
	costs := append(rw.costs[:0], 0)
	rw.credits = append(rw.credits[:0], 0)
	instrs := rw.instrs[:0]
	d := decoder{numTypes: uint32(rw.types.orig), numFuncs: rw.numFuncs, numGlobals: rw.numGlobals, numLocals: b.nLocals}
	r := newReader(b.code, b.base)
	b.hasBulk = false
	for len(t.stack) > 0 {
		if r.done() {
			return nil, errorf(ErrMalformed, "body ends before its final end")
		}
		in := d.next(r)
		if r.err != nil {
			return nil, r.err
		}
		instrs = append(instrs, in)
		if t.live() {
			costs[t.cur] += cost(&in)
		}
		b.hasBulk = b.hasBulk || in.info.kind == kindBulk
		opened, closed, err := t.step(&in, b.code, rw.scratch)
		if err != nil {
			return nil, withOffset(err, b.base+in.start)
		}
		if opened >= 0 {
			costs = append(costs, 0)
			rw.credits = append(rw.credits, 0)
		}
		rw.trackMerge(t, &in, opened, closed, costs)
	}
	if !r.done() {
		return nil, errorf(ErrMalformed, "%d bytes after the final end of the body", len(b.code)-r.pos)
	}
	rw.costs, rw.instrs = costs, instrs
	return costs, nil
}

func withOffset(err error, off int) error {
	if e, ok := err.(*Error); ok && e.Offset < 0 {
		e.Offset = off
	}
	return err
}
