package meter

// defaultUnrollCopies is how many copies of a small loop's body run per
// check, and unrollMaxBody the largest instrumented body, in bytes, that is
// copied.
const (
	defaultUnrollCopies = 4
	unrollMaxBody       = 160
)

// unrollCopies is defaultUnrollCopies; tests set it to 1 to compare.
var unrollCopies = defaultUnrollCopies

// unroll copies the body of a small innermost loop that ends in an
// unconditional branch back to its header, so that the loop checks its fuel
// once per unrollCopies iterations instead of every time.
//
//	loop                          loop
//	  fuel -= c; check              fuel -= c; check
//	  body                          body
//	  br 0                          fuel -= c; body
//	end                             ...
//	                                fuel -= c; body
//	                                br 0
//	                              end
//
// The final br 0 of each copy but the last becomes a fall-through into the
// next copy, which charges the header's cost c as the header would have;
// every other branch in a copy is unchanged and means what it meant, since
// the copies sit at the same depth in the same loop: a branch to the loop
// goes to its header, where the check is. So each iteration charges exactly
// what it did, and the count is the same; only the checks are fewer, which
// lets the fuel go further below zero before a check sees it (by the cost of
// unrollCopies-1 iterations, which Info.MaxFunctionCost includes). A br 0
// carries the loop's parameters, which is what a fall-through leaves for the
// next copy, so any block type works.
//
// regions is the number of regions opened so far: the loop's are those from
// its header on.
func (e *emitter) unroll(l ctl, regions int) {
	end := len(e.out) - 2 // the br 0
	if unrollCopies < 2 || l.inner || l.backEnd != len(e.out) || end-l.bodyAt > unrollMaxBody {
		return
	}
	body := append([]byte(nil), e.out[l.bodyAt:end]...)
	e.out = e.out[:end]
	c := e.costs[l.header]
	for range unrollCopies - 1 {
		e.charge(c)
		e.out = append(e.out, body...)
	}
	e.op(opBr, 0)
	e.rw.info.UnrolledLoops++
	var cost int64
	for _, c := range e.costs[l.header:regions] {
		cost += c
	}
	e.rw.unrolledCost += int64(unrollCopies-1) * cost
}
