package meter

// What wazero's SSA builder does at joins, the blocks of several predecessors:
// adding each predecessor, looking a local up back through them, and the block
// parameters (phis) it makes and then eliminates, for locals and for the values
// blocks of multi-value types pass on.

import "sort"

// flowPath sums the joins a local's look-up may pass through, back from a
// block to the function's entry: the joins on some path there, each counted
// once (flow.all bounds what a frame adds).
type flowPath struct {
	w     int64 // joinCost plus the predecessors of each and the chains of blocks behind them
	loopP int64 // the predecessors of each loop header among them
	defW  int64 // of each other join, its predecessors times 2d+1, d the locals written in the frame it ends
}

func (p flowPath) add(q flowPath) flowPath {
	return flowPath{p.w + q.w, p.loopP + q.loopP, p.defW + q.defW}
}

func (p flowPath) sub(q flowPath) flowPath { // at least 0 each
	return flowPath{max(p.w-q.w, 0), max(p.loopP-q.loopP, 0), max(p.defW-q.defW, 0)}
}

func (p flowPath) min(q flowPath) flowPath {
	return flowPath{min(p.w, q.w), min(p.loopP, q.loopP), min(p.defW, q.defW)}
}

// joinPath is a join of p predecessors, whose chains of one-predecessor
// blocks (a look-up walks each) sum to chains, ending a frame in which d
// locals are written, a loop header if loop.
func joinPath(p, chains, d int64, loop bool) flowPath {
	jp := flowPath{w: joinCost + p + chains}
	if loop {
		jp.loopP = p
	} else {
		jp.defW = p * (2*d + 1)
	}
	return jp
}

// flowAccess is a read or write of a local, which later reads in the code
// it dominates (its frame still open) need not look up past.
type flowAccess struct {
	id, h, pos int32 // the frame, its index in the stack, flow.pos
	path       flowPath
	prev       int32 // 1 + index of the access before it, or 0
}

// flowLocal is what flow.walk knows of one local.
type flowLocal struct {
	head int32 // 1 + index in flow.acc of its last access that may dominate, or 0
	def  int32 // flow.pos of its last write
}

// maxFlowLocal is the highest local index tracked apart: no body has more
// locals (maxLocals; Scan allows fewer, MaxFunctionLocals).
const maxFlowLocal = maxLocals

// values returns what the label of a block, if or loop of type bt takes.
func (f *flow) values(bt blockType, loop bool) int64 {
	switch {
	case bt.kind == btValue && !loop:
		return 1
	case bt.kind != btIndex || uint64(bt.index) >= uint64(len(f.types)):
		return 0
	case loop:
		return int64(f.types[bt.index].params)
	}
	return int64(f.types[bt.index].results)
}

// passValues charges the end of frame fr's label, a block of fr.values
// parameters with fr.n predecessors.
func (f *flow) passValues(fr *flowFrame) {
	if fr.values < 2 {
		return
	}
	c := uint64(fr.values*fr.values) * uint64(max(fr.n, 1)) >> valueShift
	f.cost += c
	f.valueCost += c
	f.maxValues = max(f.maxValues, fr.values)
}

// joinCost adds c to the cost, for the predecessors of a block or a look-up
// of a local.
func (f *flow) joinCost(c uint64) {
	f.cost += c
	f.joinedCost += c
}

// pred adds a predecessor, from a block of path p and chain chain, to the
// block of frame k's label: wazero compares it with each the block has.
func (f *flow) pred(k int, p flowPath, chain int64) {
	fr := &f.stack[k]
	f.joinCost(uint64(fr.n) >> predShift)
	f.maxPreds = max(f.maxPreds, fr.n+1)
	fr.n++
	fr.chains += chain
	fr.edges = fr.edges.add(p.sub(fr.open))
}

// edge is a branch from a block at depth from to the label of frame k (the
// function's own frame included): its end, or a loop's header.
func (f *flow) edge(k int, from, chain int64) {
	f.cost += uint64(from)
	f.pred(k, f.path, chain)
	if fr := &f.stack[k]; fr.kind != kindLoop { // a loop's label is its header
		fr.in, fr.preds, fr.chainIn = min(fr.in, from), min(fr.preds+1, 2), chain
	}
}

// joined returns the path of the block after frame fr, whose own look-ups
// of a local start from src (nil if the block has n predecessors, which
// are fr's edges), adding a join of n predecessors if n > 1.
func (f *flow) joined(fr *flowFrame, src *flowPath, n int64, loop bool) flowPath {
	var in flowPath
	if src != nil {
		in = src.sub(fr.open)
	}
	if n < 2 {
		return fr.open.add(in.add(fr.edges))
	}
	jp := joinPath(n, fr.chains, fr.defs, loop)
	f.all = f.all.add(jp)
	return fr.open.add(in.add(fr.edges).min(f.all.sub(fr.all))).add(jp)
}

// local returns what the walk knows of local i.
func (f *flow) local(i uint32) *flowLocal {
	i = min(i, maxFlowLocal)
	if int(i) >= len(f.locals) {
		f.locals = append(f.locals, make([]flowLocal, int(i)+1-len(f.locals))...)
	}
	l := &f.locals[i]
	if *l == (flowLocal{}) {
		f.touched = append(f.touched, i)
	}
	return l
}

// anchor returns the last access of l that dominates the current code, or
// one at the function's entry (frame -1), where every local is defined.
func (f *flow) anchor(l *flowLocal) flowAccess {
	for l.head > 0 {
		a := f.acc[l.head-1]
		if int(a.h) < len(f.stack) && f.stack[a.h].id == a.id {
			return a
		}
		l.head = a.prev
	}
	return flowAccess{h: -1}
}

// access records an access of l in the current frame.
func (f *flow) access(l *flowLocal) {
	top := len(f.stack) - 1
	a := flowAccess{id: f.stack[top].id, h: int32(top), pos: f.pos, path: f.path, prev: l.head}
	if l.head > 0 {
		if last := &f.acc[l.head-1]; last.h == a.h && last.id == a.id {
			a.prev = last.prev
			*last = a
			return
		}
	}
	f.acc = append(f.acc, a)
	l.head = int32(len(f.acc))
}

// write is a local.set or local.tee of l, a local written in the frames
// opened since its last write.
func (f *flow) write(l *flowLocal) {
	f.anchor(l)
	f.access(l)
	i := sort.Search(len(f.stack), func(i int) bool { return f.stack[i].openPos > l.def })
	if top := len(f.stack) - 1; i <= top {
		f.stack[top].defs++ // the frames from i to top (as flowFrame.params)
		if i > 0 {
			f.stack[i-1].defs--
		}
	}
	l.def = f.pos
}

// read is a local.get of l. wazero looks for its value back from the
// current block: through every join on the way to the last access that
// dominates it, a temporary value and a look-up in each predecessor each,
// and up to the header of every loop opened since, which is not sealed yet
// (a placeholder, a parameter once sealed). At a loop header, and at any
// join if l was written since that access, the value may become a
// parameter, which adds 2k+1 resolutions per predecessor to the
// elimination of a block's k parameters (k at most the locals accessed).
func (f *flow) read(l *flowLocal) {
	a := f.anchor(l)
	d := f.path.sub(a.path)
	c := uint64(d.w) + phiCost(d.loopP, 2*int64(len(f.touched))+1)
	if l.def > a.pos { // written since: a parameter at other joins too
		c += phiCost(d.defW, 1)
	}
	f.joinCost(c)
	top := len(f.stack) - 1
	open := f.stack[top].loops
	if a.h >= 0 {
		open -= f.stack[a.h].loops
	}
	if open > 0 {
		f.joinCost(placeholderCost * uint64(open))
		f.stack[top].params++ // the loops from a.h+1 to top (see flowFrame.params)
		if a.h >= 0 {
			f.stack[a.h].params--
		}
	}
	f.access(l)
}

// seal ends loop frame fr, whose body falls through from a block of path
// src: wazero seals its header, looking up each placeholder in each
// predecessor, back through the joins in the loop and the chain of blocks
// behind each back branch, and eliminates the parameters. It returns the path of the block after the loop.
func (f *flow) seal(fr *flowFrame, src *flowPath) flowPath {
	if k := fr.params; k > 0 && fr.n > 0 {
		f.joinCost(phiCost(k<<phiShift, min(fr.edges.w, f.all.sub(fr.all).w)+fr.chains) + phiCost(k*fr.n, k))
	}
	if src == nil {
		return flowPath{}
	}
	return f.joined(fr, src, fr.n, true)
}

// phiCost is the cost of a*b resolutions of a block parameter's alias, at
// most 1<<62.
func phiCost(a, b int64) uint64 {
	c := float64(a) * float64(b) / (1 << phiShift)
	if c >= 1<<62 {
		return 1 << 62
	}
	return uint64(c)
}
