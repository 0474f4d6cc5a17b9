package meter

// A while loop, as written by hand and by some compilers,
//
//	loop $l
//	  <H: the test>  br_if $exit   ;; leaves the loop
//	  <T: the body>  br $l
//	end
//
// has two regions per iteration, H and T, and so two charges: two
// subtractions on the fuel register in a loop that may be only a few
// instructions long. Instead, the header charges H+T and the loop's entry
// credits T once: after k visits of the header the fuel charged is
// -T + k(H+T) = kH + (k-1)T, exactly the instructions run before it plus the
// region starting, as with two charges; the last visit leaves through the
// br_if without running T, which the entry credit paid for. Every check
// therefore sees the same fuel as it would with two charges, and a call uses
// the same fuel. This holds because T's only exit is the back edge and H's
// only branch leaves the loop, so every visit of the header after the first
// follows a T, and nothing in either calls out (a host function would see
// T charged early).

// mergeLoops turns the merge on; tests turn it off to compare.
var mergeLoops = true

// Merge states of a loop frame, as analyze reads it.
const (
	mergeHeader = 0  // in H, the region the loop's header opened
	mergeTail   = 1  // in T, after H's br_if out of the loop
	mergeDone   = 2  // T ended with br to the loop: mergeable
	mergeNo     = -1 // not a while loop of that shape
)

// trackMerge follows the shape of the loops around in after step applied
// it, and merges the tail of a while loop into its header when the loop
// ends.
func (rw *rewriter) trackMerge(t *tracker, in *instr, opened int, closed ctl, costs []int64) {
	if !mergeLoops {
		return
	}
	top := len(t.stack) - 1
	switch in.info.kind {
	case kindLoop:
		if p := t.stack[top-1].loop; p >= 0 {
			t.stack[p].merge = mergeNo // a loop inside H or T
		}
		return
	case kindEnd:
		if closed.kind == kindLoop {
			if closed.merge == mergeDone {
				tail := costs[closed.tail]
				costs[closed.header] += tail
				costs[closed.tail] = 0
				rw.credits[closed.header] = tail
			}
			return
		}
	}
	if top < 0 { // the function's end
		return
	}
	p := t.stack[top].loop
	if p < 0 || t.stack[p].merge == mergeNo {
		return
	}
	l := &t.stack[p]
	if l.merge == mergeDone { // what follows the back edge is dead unless a region opens
		if opened >= 0 {
			l.merge = mergeNo
		}
		return
	}
	switch in.info.kind {
	case kindBrIf:
		if k, _ := t.target(in.a); l.merge == mergeHeader && k < p && opened >= 0 {
			l.merge, l.tail = mergeTail, opened
			return
		}
	case kindBr:
		if k, _ := t.target(in.a); l.merge == mergeTail && k == p {
			l.merge = mergeDone
			return
		}
	case kindPlain, kindLocalSet, kindRefFunc, kindBlock, kindEnd:
		if opened < 0 {
			return
		}
	}
	l.merge = mergeNo
}

// credit gives back fuel charged ahead of time, on a loop's entry.
func (e *emitter) credit(c int64) {
	e.opIdx(opLocalGet, e.fuel)
	e.i64(c)
	e.op(opI64Add)
	e.opIdx(opLocalSet, e.fuel)
}
