package hotscript

import "bytes"

// version is one committed version of a script.
type version struct {
	n    int    // version number, counted from 1 per script
	code []byte // the bytes the engine was given (built bytes for .wat)
}

// history keeps the last versions of a script, oldest first; the last entry is the
// live one. Its methods are called with the script's mu held.
type history struct {
	limit int
	vs    []version
	next  int // the number the next new version gets
}

// newHistory starts a history at version 1, first, which it copies: the caller
// may reuse its buffer, and the history must keep what the engine was given.
func newHistory(limit int, first []byte) history {
	return history{limit: limit, vs: []version{{n: 1, code: bytes.Clone(first)}}, next: 2}
}

func (h *history) live() version { return h.vs[len(h.vs)-1] }

// previous returns the version Revert goes back to.
func (h *history) previous() (version, bool) {
	if len(h.vs) < 2 {
		return version{}, false
	}
	return h.vs[len(h.vs)-2], true
}

// number allocates the number of a new version. Numbers are never reused, so a
// reload after a revert gets a number above every earlier one.
func (h *history) number() int {
	n := h.next
	h.next++
	return n
}

// push records a committed reload, dropping the oldest version past the limit.
func (h *history) push(v version) {
	h.vs = append(h.vs, v)
	if len(h.vs) > h.limit {
		h.vs = append(h.vs[:0:0], h.vs[len(h.vs)-h.limit:]...)
	}
}

// pop records a committed revert: the live version is forgotten.
func (h *history) pop() { h.vs = h.vs[:len(h.vs)-1] }

// forget drops the code of the versions kept, once their script is unloaded: a
// program may keep an unloaded Script for its Stats (hotscript run does, for
// its summary), and the code, megabytes for a big script, would stay with it.
func (h *history) forget() {
	for i := range h.vs {
		h.vs[i].code = nil
	}
}

// versions returns the number of versions kept.
func (h *history) versions() int { return len(h.vs) }
