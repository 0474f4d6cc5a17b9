package meter

// defaultUnrollCopies is how many copies of a small loop's body run per
// check, at most; unrollBytes is how many bytes of instrumented code the
// copies of one body may take (a body of 24 bytes gets 8 copies, one of 64
// bytes 3, one over 96 bytes none, its check being a small share of its
// work); and a function may grow by unrollGrowth bytes or half its size,
// whichever is more, so that no module's compile time more than about
// doubles for it.
const (
	defaultUnrollCopies = 8
	unrollBytes         = 192
	unrollGrowth        = 256
)

// unrollCopies is defaultUnrollCopies; tests set it to 1 to compare.
var unrollCopies = defaultUnrollCopies

// noteBranch records, for unroll, a branch to frame k emitted at out[at:end]
// (a br_table: at and end 0), in the innermost loop around it.
func noteBranch(t *tracker, k int, op byte, at, end int) {
	top := len(t.stack) - 1
	p := t.stack[top].loop
	if p < 0 || k > p { // no loop, or a branch within the loop's body
		return
	}
	l := &t.stack[p]
	l.outs++
	switch {
	case top != p: // from inside a block in the body
	case k == p && op == opBr:
		l.backEnd = end
	case k < p && op == opBrIf && l.exitAt == 0:
		f := t.stack[k]
		l.exitAt, l.exitOK = at, !f.fn && f.kind != kindLoop && f.bt.kind == btEmpty
	}
}

// noteLeave records, for unroll, a call or a return in the innermost loop
// around it.
func noteLeave(t *tracker) {
	if p := t.stack[len(t.stack)-1].loop; p >= 0 {
		t.stack[p].leaves = true
	}
}

// unroll copies the body of a small innermost loop that ends in a branch
// back to its header, so that the loop checks its fuel once per few
// iterations instead of every time. Two shapes qualify: a loop whose body
// ends in br 0 at its own level (a while loop, as written by hand), and a
// loop whose body ends in br_if 0, taken to repeat and falling out of the
// loop otherwise (a do-while loop, as compilers write them; see doWhile).
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
// every other branch in a copy means what it meant, since the copies sit at
// the same depth in the same loop: a branch to the loop goes to its header,
// where the check is. So each iteration charges exactly what it did, and
// the count is the same; only the checks are fewer, which lets the fuel go
// further below zero before a check sees it (by the cost of one iteration
// per extra copy, which Info.MaxFunctionCost includes). A br 0 carries the
// loop's parameters, which is what a fall-through leaves for the next copy,
// so any block type works.
//
// A while loop, whose only ways out are one br_if at its own level and the
// br 0 at its end, is laid out with landing blocks instead (see landings).
//
// regions is the number of regions opened so far: the loop's are those from
// its header on; doWhile says the body's last instruction is br_if 0.
// unroll returns the header's cost and the part of it charged ahead for
// later copies, for the loop's refuel path.
func (e *emitter) unroll(l ctl, regions int, doWhile bool) (c, ahead int64) {
	c = e.costs[l.header]
	end := len(e.out) // where the copied body ends
	switch {
	case l.inner:
		return c, 0
	case l.backEnd == len(e.out):
		end -= 2 // the br 0
	case !doWhile || l.outs != 1 || l.bt.kind != btEmpty:
		return c, 0
	}
	size := max(1, end-l.bodyAt)
	k := min(unrollCopies, unrollBytes/size, 1+e.growth/size)
	if k < 2 {
		return c, 0
	}
	e.growth -= (k - 1) * size
	body := e.copyOut(l.bodyAt, end)
	exit := l.exitAt - l.bodyAt
	switch {
	case end == len(e.out):
		ahead = e.doWhile(l, body, k)
	case l.outs == 2 && l.exitOK && len(e.rw.types.blockParams(l.bt)) == 0 &&
		int(body[exit+1])+k < 0x80: // one-byte depths before and after
		ahead = e.landings(l, body, exit+1, k)
	default:
		e.cut(end)
		for range k - 1 {
			e.charge(c)
			e.paste()
		}
		e.op(opBr, 0)
	}
	e.rw.info.UnrolledLoops++
	var cost int64
	for _, c := range e.costs[l.header:regions] {
		cost += c
	}
	e.rw.unrolledCost += int64(k-1) * cost
	return c, ahead
}

// doWhile lays out k copies of the body of loop l, a loop of empty type
// whose only branch to itself or out of it is the br_if 0 that ends body
// (followed in body by the charge of the code after the loop, which runs
// when the loop falls out):
//
//	block body (br_if 0: on to the next copy) br $exit end
//	fuel -= c
//	block body (br_if 0) br $exit end
//	...
//	fuel -= c
//	body (br_if 0: to the loop's header)
//
// Each copy but the last sits in a block, so its br_if 0, unchanged, goes on
// to the next copy, and its fall-through, the loop's exit, branches out of
// the loop. Every edge out of a copy leads to code with one way in, and each
// compare stays next to its branch. When the body neither calls nor
// returns, the header charges for all k copies and each exit gives back what
// the copies after it did not use, as in landings. doWhile returns the fuel
// charged ahead.
func (e *emitter) doWhile(l ctl, body []byte, k int) (ahead int64) {
	c := e.costs[l.header]
	prepay := e.prepay(l, c, k)
	if prepay {
		ahead = int64(k-1) * c
	}
	for j := range k {
		if j > 0 && !prepay {
			e.charge(c)
		}
		if j == k-1 {
			e.paste()
			break
		}
		e.op(opBlock, blockEmpty)
		e.paste()
		if prepay {
			e.giveBack(int64(k-1-j) * c)
		}
		e.op(opBr, 4, opEnd) // past the loop, its refuel block and retry loop, to its exit block
	}
	return ahead
}

// prepay starts the copies of loop l's body: if nothing in the body can see
// the fuel between copies (it neither calls nor returns), it emits the
// loop's check again to charge k copies' cost c at once and reports true;
// otherwise it keeps the check, which charges one.
func (e *emitter) prepay(l ctl, c int64, k int) bool {
	if l.leaves {
		e.cut(l.bodyAt)
		return false
	}
	e.cut(l.checkAt) // the header's check, emitted again
	e.rw.info.Checks--
	if c != 0 {
		e.rw.info.ChargePoints--
	}
	ahead := int64(k-1) * c
	e.check(c+ahead, ahead, 1)
	return true
}

// giveBack returns fuel charged ahead and not used.
func (e *emitter) giveBack(f int64) {
	if f != 0 {
		e.opIdx(opLocalGet, e.fuel)
		e.i64(f)
		e.op(opI64Add)
		e.opIdx(opLocalSet, e.fuel)
	}
}

// landings lays out k copies of the body of while loop l, whose only exit
// is the br_if whose depth byte is body[depthAt], so that each copy's exit
// branches to a block of its own:
//
//	block $x3 block $x2 block $x1 block $x0     ;; for 4 copies
//	  body (br_if $x0), fuel -= c, body (br_if $x1), ..., body (br_if $x3)
//	  br $loop
//	end br $out end br $out end br $out end br $out
//
// Every exit edge then leads to a block with one way in. All copies leaving
// through one block makes wazero v1.12 split each of those edges, and a
// split edge loses the fusion of its compare and branch (see check), which
// cost each copy three instructions more.
//
// When the body neither calls nor returns, nothing can see the fuel between
// two copies, so the header charges all k copies at once and each landing
// gives back what the copies after its exit did not use; the check branches
// when the fuel before it could not pay one iteration, and the refuel path
// gives back the copies' part before calling the host, so refuel is called
// when, and sees the fuel that, a check of one iteration would. That saves a
// subtraction per copy, a dependency chain through the fuel register. A trap
// in a copy then leaves the later copies charged, as a trap in a region
// leaves the rest of the region charged. landings returns the fuel charged
// ahead: (k-1)·c, or 0 when each copy charges its own.
func (e *emitter) landings(l ctl, body []byte, depthAt, k int) (ahead int64) {
	c := e.costs[l.header]
	d := int(body[depthAt]) // from the loop's level
	prepay := e.prepay(l, c, k)
	if prepay {
		ahead = int64(k-1) * c
	}
	for range k {
		e.op(opBlock, blockEmpty)
	}
	for j := range k {
		if j > 0 && !prepay {
			e.charge(c)
		}
		at := len(e.out)
		e.paste()
		e.out[at+depthAt] = byte(j)
	}
	e.op(opBr, byte(k))
	for j := range k {
		e.op(opEnd)
		if prepay {
			e.giveBack(int64(k-1-j) * c)
		}
		e.op(opBr, byte(d+k-1-j))
	}
	return ahead
}
