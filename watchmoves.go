package hotscript

// Files that go: a script's file deleted (reported once, however many of its
// files go), renamed or moved onto another script's name.

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/hotscript/hotscript/lua"
	"github.com/hotscript/hotscript/wasm"
)

// sayRemoved reports whether a Removed event of s is due, for a deletion of a
// file it comes from, and records it said: a .wasm and its source deleted
// together (git rm) are one deletion, and so is a deletion reported by the
// watcher and by the catch-up as a Watch begins (see deletion), or by two
// Watches.
func (s *Script) sayRemoved() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	said := s.file.removed
	s.file.removed = true
	return !said
}

// removedSaid reports whether a Removed event of s was sent since its file was
// last seen there (see sayRemoved).
func (s *Script) removedSaid() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.file.removed
}

// unsayRemoved records that a file of s was reported saved, or found there as
// a Watch began: a later deletion is reported again, and is the one a rename
// is timed from (see movedTo), not one before the file came back.
func (s *Script) unsayRemoved() {
	s.mu.Lock()
	s.file.removed = false
	s.file.gone = time.Time{}
	s.mu.Unlock()
}

// fileBack reports whether there is a file again at the path Watch last saw s
// come from, after it found it deleted.
func (s *Script) fileBack() bool {
	s.mu.Lock()
	path := s.file.path
	s.mu.Unlock()
	return path != "" && lexists(path)
}

// fileGone records that Watch found path, s's file, deleted.
func (s *Script) fileGone(path string, at time.Time) {
	s.mu.Lock()
	if s.file.gone.IsZero() && samePath(s.file.path, path) {
		s.file.gone = at
	}
	s.mu.Unlock()
}

// movedTo returns the scripts whose file was renamed or moved to the path of
// a's save, which gave its bytes (other than to, the script the path belongs to,
// if any): their file is gone, its deletion reported within renameWindow before
// the save, and the path is that same file (identity and modification time: a
// new file the system gave the deleted one's number has a time of its own) with
// the same bytes, and its own file, if it is not that file (a .wasm, whose source
// moved), is gone too. Such a script would run on beside the one the path now
// is, so Watch unloads it once that script has loaded or reloaded.
func (wd *watchedDir) movedTo(a arrival, to *Script) []*Script {
	path, sum, info := a.ev.Path, a.sum, a.info
	if info == nil || sum == 0 {
		return nil
	}
	var out []*Script
	for _, s := range wd.h.Scripts() {
		if s == to {
			continue
		}
		s.mu.Lock()
		f := s.file
		s.mu.Unlock()
		if f.sum != sum || !sameStamp(f.info, info) ||
			(!f.gone.IsZero() && a.at.Sub(f.gone) > renameWindow) || lexists(f.path) ||
			samePath(f.path, path) || !wd.contains(f.path) {
			continue
		}
		if own := s.file0(); !samePath(own, f.path) && lexists(own) {
			continue // a .wasm whose source moved: it stays, and runs on
		}
		out = append(out, s)
	}
	return out
}

// keepMoved keeps moved, scripts whose file was renamed to the file of the
// script name that did not load or reload (a broken save came after the
// rename): the next save of that file that does unloads them (movedAlso).
func (wd *watchedDir) keepMoved(name string, moved []*Script) {
	if len(moved) == 0 {
		return
	}
	wd.mu.Lock()
	defer wd.mu.Unlock()
	if wd.moved == nil {
		wd.moved = map[string][]*Script{}
	}
	for _, s := range moved {
		if !slices.Contains(wd.moved[name], s) && !s.gone.Load() { // unloaded meanwhile: forgetMoved came first
			wd.moved[name] = append(wd.moved[name], s)
		}
	}
}

// movedAlso returns moved with the scripts kept for name (keepMoved), which it
// forgets.
func (wd *watchedDir) movedAlso(name string, moved []*Script) []*Script {
	wd.mu.Lock()
	kept := wd.moved[name]
	delete(wd.moved, name)
	wd.mu.Unlock()
	for _, s := range kept {
		if !slices.Contains(moved, s) {
			moved = append(moved, s)
		}
	}
	return moved
}

// unloadMoved unloads the scripts moved to to's file (see movedTo), once
// reload p of to, if any, has committed, their Unloaded events naming to: a
// reload that fails leaves them running, as the only copy of their code, until
// a save of to's file that reloads it. If p is superseded or rejected, the
// newest save of to's file since decides in its place (a broken save after
// the rename must not unload them), not a Revert or a program's Reload (see
// fate). Under SwapAtApply, Apply does it, after the commits
// it makes (see applyMoves): the scripts a frame calls change between frames,
// as their versions do. Else it does so on a goroutine of its own: Unload waits
// for calls in progress, however long, and the watcher must go on. Close ends
// the wait.
func (wd *watchedDir) unloadMoved(ctx context.Context, to *Script, p *Pending, moved []*Script) {
	h := wd.h
	if len(moved) == 0 {
		return
	}
	if h.cfg.Swap == SwapAtApply {
		h.parkMoves(&movedWait{wd: wd, to: to, p: p, moved: moved})
		return
	}
	if !h.enter() {
		return
	}
	go func() {
		defer h.wg.Done()
		for p != nil {
			select {
			case <-p.Done():
			case <-h.base.Done(): // Close resolves p only after waiting for this
				return
			}
			var unload bool
			if p, unload = wd.fate(to, p, moved); p == nil && !unload {
				return
			}
		}
		wd.unloadAll(ctx, to, moved)
	}()
}

// fate reads the outcome of p, a resolved reload of to that scripts moved to
// its file wait for: unload them (it committed), keep them for the save that
// fixes to's file (it was rejected: see keepMoved), or wait for next, the
// newer request for to that superseded p and decides in its place.
func (wd *watchedDir) fate(to *Script, p *Pending, moved []*Script) (next *Pending, unload bool) {
	if p.Err() == nil {
		return nil, true
	}
	if to == nil || p.ev.Kind != Superseded && p.ev.Kind != Rejected { // resolved: ev is set
		return nil, false
	}
	// The newest save's reload decides in p's place (pending or resolved
	// already: a fix saved before the Apply that read p was rejected), but
	// not a Revert or the program's Reload, which run other code than the
	// file's: the moved scripts wait for the next save of it (helper-229).
	if next = to.newestSave(); next == nil || next == p {
		wd.keepMoved(to.name, moved)
		return nil, false
	}
	return next, false
}

// unloadAll unloads moved, the scripts moved to to's file, and returns those
// whose unload a host function of theirs asked for (an Apply with its
// context): it would wait for that very call.
func (wd *watchedDir) unloadAll(ctx context.Context, to *Script, moved []*Script) (left []*Script) {
	for _, old := range moved {
		if old.fileBack() {
			continue // a new file at its path (saved while the rename's load ran): it stays
		}
		// Its event says so; another failure leaves it running.
		err := wd.h.unload(ctx, old, to.name)
		if errors.Is(err, wasm.ErrReentrant) || errors.Is(err, lua.ErrReentrant) {
			left = append(left, old)
		}
	}
	return left
}

// movedWait is an unloadMoved parked for Apply (SwapAtApply).
type movedWait struct {
	wd    *watchedDir
	to    *Script
	p     *Pending // to's reload the unload waits for; nil: none
	moved []*Script
}

// parkMoves parks mvs for the next Apply.
func (h *Host) parkMoves(mvs ...*movedWait) {
	h.readyMu.Lock()
	h.moves = append(h.moves, mvs...)
	h.readyMu.Unlock()
	h.readyHint.Store(true) // after, as parked says
}

// applyMoves does, in Apply, the unloads mvs waited for: those whose reload
// committed (in this Apply, or before), or that waited for none; those whose
// reload is still to come wait for the next Apply. An unload waits for the
// calls in progress on its script, however long (a worker's job): it runs on
// a goroutine of its own, which Apply waits for only until ctx ends. One
// that a host function of the script asked for (it called Apply with its
// context) would wait for that very call: it waits for the next Apply.
func (h *Host) applyMoves(ctx context.Context, mvs []*movedWait) {
	var later, now []*movedWait
	for _, mv := range mvs {
		p, unload := mv.p, mv.p == nil
		for p != nil && resolved(p) {
			p, unload = mv.wd.fate(mv.to, p, mv.moved)
		}
		switch {
		case p != nil:
			mv.p = p
			later = append(later, mv)
		case unload:
			now = append(now, mv)
		}
	}
	if len(later) > 0 {
		h.parkMoves(later...)
	}
	if len(now) == 0 || !h.enter() {
		return
	}
	done := make(chan struct{})
	go func() {
		defer h.wg.Done()
		defer close(done)
		for _, mv := range now {
			if left := mv.wd.unloadAll(ctx, mv.to, mv.moved); len(left) > 0 {
				h.parkMoves(&movedWait{wd: mv.wd, to: mv.to, moved: left})
			}
		}
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// resolved reports whether p is, without waiting.
func resolved(p *Pending) bool {
	select {
	case <-p.Done():
		return true
	default:
		return false
	}
}
