package meter

import "slices"

// ctl is one open control frame of the input function: the function body
// itself, a block, a loop, or an if (kindElse once its else was seen).
type ctl struct {
	kind     kind
	fn       bool      // the function body
	targeted bool      // a live branch targets this label
	thenLive bool      // if/else: the then arm falls through to the end
	pos      int       // label index of this frame in the output
	bt       blockType // its block type
	header   int       // loop: the region that starts the body
	loop     int       // stack index of the innermost loop at or below this frame, or -1
	loops    int       // loops at or below this frame
	written  []uint32  // loop: locals set inside it, nested loops included
	merge    int8      // loop: where analyze is in its shape (see merge.go)
	tail     int       // loop: the region after the header's exit, if any

	// Set by the emitter, for unrolling (unroll.go), on loops.
	checkAt int  // output offset of the header's check
	bodyAt  int  // output offset of the body, after the header's check
	backEnd int  // output length right after a br 0 back to the header
	exitAt  int  // output offset of the first br_if at the loop's level that leaves it
	exitOK  bool // that br_if carries no values
	outs    int  // branches to the loop or out of it, from anywhere inside
	inner   bool // another loop opens inside it
	leaves  bool // a call or a return inside it
}

// tracker follows the control structure of a body and splits it into
// regions: maximal runs of instructions that always execute together, so
// charging a region's whole cost on entry charges exactly the instructions
// that run (up to a trap). A region starts at the function entry, at each
// loop header, after if, else and br_if, and after the end of an if or of a
// block that a branch targets. It ends at every branch, and code after an
// unconditional branch belongs to no region until the next merge point.
//
// Both passes over a body drive the same tracker, so region numbers agree.
type tracker struct {
	stack       []ctl
	cur         int // current region, -1 in unreachable code
	regions     int
	trackWrites bool
}

func (t *tracker) reset(trackWrites bool) {
	t.stack = t.stack[:0]
	t.cur, t.regions, t.trackWrites = -1, 0, trackWrites
	t.open()
	t.stack = append(t.stack, ctl{kind: kindBlock, fn: true, loop: -1})
}

func (t *tracker) open() int {
	t.cur = t.regions
	t.regions++
	return t.cur
}

func (t *tracker) live() bool { return t.cur >= 0 }

// target returns the stack index of the frame that a branch of depth d
// leaves to.
func (t *tracker) target(d uint32) (int, error) {
	if uint64(d) >= uint64(len(t.stack)) {
		return 0, errorf(ErrMalformed, "branch depth %d out of range (%d enclosing labels)", d, len(t.stack))
	}
	return len(t.stack) - 1 - int(d), nil
}

func (t *tracker) mark(d uint32) error {
	k, err := t.target(d)
	if err == nil && t.live() {
		t.stack[k].targeted = true
	}
	return err
}

func (t *tracker) push(c ctl) {
	c.loop, c.loops = t.stack[len(t.stack)-1].loop, t.stack[len(t.stack)-1].loops
	if c.kind == kindLoop {
		c.loop = len(t.stack)
		c.loops++
		if len(t.stack) < cap(t.stack) {
			// Reuse the written list a closed frame left in this slot.
			c.written = t.stack[:len(t.stack)+1][len(t.stack)].written[:0]
		}
	}
	t.stack = append(t.stack, c)
}

// tooDeep is the error of opening one more block, loop (if loop) or if past
// maxNesting or maxLoopNesting, or nil.
func (t *tracker) tooDeep(loop bool) error {
	switch {
	case len(t.stack) > maxNesting: // the function body is a frame too
		return errorf(ErrUnsupported, "blocks, loops and ifs nested more than %d deep", maxNesting)
	case loop && t.stack[len(t.stack)-1].loops == maxLoopNesting:
		return errorf(ErrUnsupported, "loops nested more than %d deep", maxLoopNesting)
	}
	return nil
}

// step applies the control effect of in, whose cost the caller has already
// charged to the current region. It returns the region that starts right
// after in (or -1) and, for end, the frame that closed.
func (t *tracker) step(in *instr, code []byte, scratch []uint32) (opened int, closed ctl, err error) {
	opened = -1
	switch in.info.kind {
	case kindBlock:
		if err = t.tooDeep(false); err == nil {
			t.push(ctl{kind: kindBlock, bt: in.bt})
		}
	case kindLoop:
		if err = t.tooDeep(true); err == nil {
			opened = t.open()
			t.push(ctl{kind: kindLoop, bt: in.bt, header: opened})
		}
	case kindIf:
		if err = t.tooDeep(false); err == nil {
			t.push(ctl{kind: kindIf, bt: in.bt})
			opened = t.open()
		}
	case kindElse:
		top := &t.stack[len(t.stack)-1]
		if top.kind != kindIf {
			return -1, closed, errorf(ErrMalformed, "else without if")
		}
		top.kind, top.thenLive = kindElse, t.live()
		opened = t.open()
	case kindEnd:
		closed = t.stack[len(t.stack)-1]
		t.stack = t.stack[:len(t.stack)-1]
		switch {
		case closed.fn:
			t.cur = -1
		case closed.kind == kindBlock && closed.targeted, closed.kind == kindIf:
			opened = t.open()
		case closed.kind == kindElse:
			if closed.targeted || closed.thenLive || t.live() {
				opened = t.open()
			} else {
				t.cur = -1
			}
		case closed.kind == kindLoop && t.trackWrites:
			closed.written = trimWritten(closed.written)
			if p := t.stack[len(t.stack)-1].loop; p >= 0 {
				t.stack[p].written = append(t.stack[p].written, closed.written...)
			}
		}
	case kindBr:
		err = t.mark(in.a)
		t.cur = -1
	case kindBrIf:
		err = t.mark(in.a)
		opened = t.open()
	case kindBrTable:
		for _, d := range branchTargets(code, in, scratch[:0]) {
			if err = t.mark(d); err != nil {
				break
			}
		}
		t.cur = -1
	case kindReturn, kindUnreachable, kindReturnCall, kindReturnCallIndirect:
		t.cur = -1
	case kindLocalSet:
		if p := t.stack[len(t.stack)-1].loop; t.trackWrites && p >= 0 {
			w := append(t.stack[p].written, in.a)
			if len(w) > 4*maxSaved {
				w = trimWritten(w)
			}
			t.stack[p].written = w
		}
	}
	return opened, closed, err
}

// trimWritten sorts a loop's written locals and keeps the first maxSaved
// distinct ones: the locals its refuel path saves. Trimming as the list
// grows keeps the work linear in the body size however deep loops nest,
// and loses nothing, since the smallest maxSaved of a union are among the
// smallest maxSaved of its parts.
func trimWritten(written []uint32) []uint32 {
	slices.Sort(written)
	written = slices.Compact(written)
	return written[:min(len(written), maxSaved)]
}

// cost is the fuel one instruction costs statically. Markers of structure
// (block, loop, else, end) compile to no work and cost nothing; every other
// instruction costs one unit.
func cost(in *instr) int64 {
	switch in.info.kind {
	case kindBlock, kindLoop, kindElse, kindEnd:
		return 0
	}
	return 1
}
