package watch

import (
	"context"
	"slices"
)

// load is one fired load: the read, and the build if a step applies, of one
// generation of one path, from the moment its debounce runs out until its outcome
// is applied. Only the loop's goroutine touches it; the worker gets copies of
// path and gen.
type load struct {
	path     string
	output   string // Event.Output of path: loads of one output are applied in firing order
	gen      uint64
	cancel   context.CancelFunc // stops the worker
	building bool               // the file has been read and is being built, or waits for a build slot
	res      *result            // the outcome, once the worker is done
}

// arrived records what a worker reports of its load: that the file has been read
// and the build begins, or the outcome. Reports of a superseded load are dropped.
func (l *loop) arrived(r result) {
	f := l.files[r.path]
	if f == nil || f.load == nil || f.load.gen != r.gen {
		return
	}
	if r.building {
		f.load.building = true
	} else {
		f.load.res = &r
	}
	l.applyInOrder()
}

// supersede stops the load of f in progress, if any: newer activity makes its
// outcome stale. The loads it held up may then go.
func (l *loop) supersede(f *file) {
	if f.load == nil {
		return
	}
	f.load.cancel()
	f.load = nil
	l.applyInOrder()
}

// applyInOrder applies the outcomes of fired loads in the order they fired, each as
// soon as no earlier load holds it up. Every load still reading holds up all that
// fired after it: reads are quick, so events of files without a build step keep
// their firing order. A load that is building holds up only the later loads of
// the same output (x.wat, x.c and x.wasm all stand for x.wasm), so that of a
// source and its built module the one saved last is received last, while a slow
// build delays nothing else; so does a finished load that waits for such a build.
//
// Superseded loads are dropped as the scan passes them.
func (l *loop) applyInOrder() {
	var building []string // outputs of the earlier loads not yet applied
	keep := l.fired[:0]
	i := 0
scan:
	for ; i < len(l.fired); i++ {
		ld := l.fired[i]
		f := l.files[ld.path]
		if f == nil || f.load != ld {
			continue // superseded: its result, if it comes, is dropped
		}
		switch {
		case ld.res != nil && !slices.Contains(building, ld.output):
			f.load = nil
			ld.cancel()
			l.apply(f, *ld.res)
		case ld.res == nil && !ld.building:
			break scan
		default:
			building = append(building, ld.output)
			keep = append(keep, ld)
		}
	}
	keep = append(keep, l.fired[i:]...) // keep is never longer than i: the copy is safe
	clear(l.fired[len(keep):])
	l.fired = keep
	if len(l.fired) == 0 {
		l.fired = nil
	}
}

// outbox holds events not yet received, one per path, in the order they were
// applied. A newer event for a path replaces the waiting one in its place, so
// that files saved over and over while the receiver lags are each received in
// turn; but if an event of the same Output waits behind it (a module's, behind
// its source's), the newer one goes to the end, after it: it fired after it,
// and of a source and its module the one saved last must be received last.
//
// Replaced and dropped events leave their entry in order, skipped when it comes
// to the front, and compacted away once they outnumber the events waiting.
type outbox struct {
	order  []queued
	byPath map[string]waitingEvent
	seq    uint64
	// outputs counts the waiting events of each output: a replaced event
	// whose output has no other one waiting keeps its place without a look
	// at the queue.
	outputs map[string]int
}

type queued struct {
	path string
	seq  uint64
}

type waitingEvent struct {
	ev  Event
	seq uint64
}

func (o *outbox) push(ev Event) {
	if o.byPath == nil {
		o.byPath, o.outputs = make(map[string]waitingEvent), make(map[string]int)
	}
	w, ok := o.byPath[ev.Path]
	if ok && (o.outputs[ev.Output] == 1 || !o.outputAfter(w.seq, ev.Output)) {
		o.byPath[ev.Path] = waitingEvent{ev: ev, seq: w.seq}
		return
	}
	if !ok {
		o.outputs[ev.Output]++
	}
	o.seq++
	o.byPath[ev.Path] = waitingEvent{ev: ev, seq: o.seq}
	o.order = append(o.order, queued{path: ev.Path, seq: o.seq})
	if len(o.order) > 2*len(o.byPath)+16 {
		o.order = slices.DeleteFunc(o.order, func(q queued) bool { return !o.live(q) })
	}
}

// outputAfter reports whether an event of output waits behind the entry seq.
func (o *outbox) outputAfter(seq uint64, output string) bool {
	for _, q := range o.order {
		if q.seq > seq && o.live(q) && o.byPath[q.path].ev.Output == output {
			return true
		}
	}
	return false
}

// live reports whether q is the entry of the event waiting for its path.
func (o *outbox) live(q queued) bool {
	w, ok := o.byPath[q.path]
	return ok && w.seq == q.seq
}

// waiting reports whether an event with op waits for path.
func (o *outbox) waiting(path string, op Op) bool {
	w, ok := o.byPath[path]
	return ok && w.ev.Op == op
}

// drop removes the event waiting for path if it has op.
func (o *outbox) drop(path string, op Op) {
	if o.waiting(path, op) {
		o.remove(path)
	}
}

// peek returns the event at the front, skipping the entries of replaced and
// dropped events.
func (o *outbox) peek() (Event, bool) {
	for len(o.order) > 0 && !o.live(o.order[0]) {
		o.order = o.order[1:]
	}
	if len(o.order) == 0 {
		o.order = nil
		return Event{}, false
	}
	return o.byPath[o.order[0].path].ev, true
}

// pop removes the event peek returned.
func (o *outbox) pop() {
	o.remove(o.order[0].path)
	o.order = o.order[1:]
}

// remove takes the event waiting for path out, leaving its entry in order.
func (o *outbox) remove(path string) {
	output := o.byPath[path].ev.Output
	delete(o.byPath, path)
	if o.outputs[output]--; o.outputs[output] <= 0 {
		delete(o.outputs, output)
	}
}
