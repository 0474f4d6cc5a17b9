package lua

import (
	glua "github.com/hotscript/hotscript/internal/gopherlua"
)

// This file is Lua 5.1's pattern matcher (lstrlib.c), ported so that it counts its
// steps: gopher-lua's own matcher (package pm) runs inside one Go call that nothing
// can interrupt, and a pathological pattern kept it busy for over 100 s. Here every
// step is charged to the call's budget in batches, so such a pattern ends with
// ErrInstructionLimit or ErrTimeout like a Lua loop would.

const (
	maxCaptures   = 32
	maxMatchDepth = 200 // recursion depth, as LUAI_MAXCCALLS in Lua 5.2
	capUnfinished = -1
	capPosition   = -2
	stepBatch     = 256 // steps counted locally before charging the budget
)

type capture struct{ init, len int }

// matcher matches one pattern against one subject. Errors in the pattern and
// exhausted budgets raise Lua errors (they panic through the matcher, which holds
// nothing that needs releasing).
type matcher struct {
	L       *glua.LState
	b       *budget
	src     string
	pat     string
	level   int
	depth   int
	steps   uint64
	capture [maxCaptures]capture
}

func newMatcher(L *glua.LState, src, pat string) *matcher {
	return &matcher{L: L, b: budgetOf(L), src: src, pat: pat}
}

func (m *matcher) step() { m.work(1) }

// work counts n steps: a bracket class such as [a-z_] costs one per byte of the
// class each time it is scanned (its end looked for, or a byte tested against
// it), or a class of 8 MB tested at 300 positions would run for seconds on 300
// steps.
func (m *matcher) work(n int) {
	m.steps += uint64(n)
	if m.steps >= stepBatch {
		m.b.charge(m.L, m.steps)
		m.steps = 0
	}
}

// flush charges the steps not yet charged; the functions using a matcher call it
// when they are done with it.
func (m *matcher) flush() {
	m.b.charge(m.L, m.steps)
	m.steps = 0
}

// pc returns the pattern byte at p, or -1 past the end (C Lua's '\0').
func (m *matcher) pc(p int) int {
	if p < len(m.pat) {
		return int(m.pat[p])
	}
	return -1
}

func (m *matcher) classEnd(p int) int {
	c := m.pc(p)
	p++
	switch c {
	case '%':
		if p >= len(m.pat) {
			m.L.RaiseError("%s", "malformed pattern (ends with '%')")
		}
		return p + 1
	case '[':
		start := p
		if m.pc(p) == '^' {
			p++
		}
		for { // look for a ']'
			if p >= len(m.pat) {
				m.work(p - start) // scanned to the end, as far as to a ']'
				m.L.RaiseError("malformed pattern (missing ']')")
			}
			c := m.pat[p]
			p++
			if c == '%' && p < len(m.pat) {
				p++ // skip escapes such as %]
			}
			if m.pc(p) == ']' {
				m.work(p - start)
				return p + 1
			}
		}
	}
	return p
}

func matchClass(c byte, cl byte) bool {
	var res bool
	switch cl | 0x20 {
	case 'a':
		res = isAlpha(c)
	case 'c':
		res = c < 0x20 || c == 0x7f
	case 'd':
		res = '0' <= c && c <= '9'
	case 'l':
		res = 'a' <= c && c <= 'z'
	case 'p':
		res = c > 0x20 && c < 0x7f && !isAlpha(c) && !('0' <= c && c <= '9')
	case 's':
		res = c == ' ' || ('\t' <= c && c <= '\r')
	case 'u':
		res = 'A' <= c && c <= 'Z'
	case 'w':
		res = isAlpha(c) || ('0' <= c && c <= '9')
	case 'x':
		res = ('0' <= c && c <= '9') || ('a' <= c|0x20 && c|0x20 <= 'f')
	case 'z':
		res = c == 0
	default:
		return cl == c
	}
	if isAlpha(cl) && cl < 'a' { // upper-case class: complement
		return !res
	}
	return res
}

func isAlpha(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// matchBracketClass matches c against the set [ ... ] spanning pat[p:ec+1].
func (m *matcher) matchBracketClass(c byte, p, ec int) bool {
	m.work(ec - p)
	sig := true
	if m.pc(p+1) == '^' {
		sig = false
		p++
	}
	for p++; p < ec; p++ {
		switch {
		case m.pat[p] == '%':
			p++
			if matchClass(c, m.pat[p]) {
				return sig
			}
		case m.pc(p+1) == '-' && p+2 < ec:
			p += 2
			if m.pat[p-2] <= c && c <= m.pat[p] {
				return sig
			}
		case m.pat[p] == c:
			return sig
		}
	}
	return !sig
}

func (m *matcher) singleMatch(s, p, ep int) bool {
	m.step()
	if s >= len(m.src) {
		return false
	}
	c := m.src[s]
	switch m.pat[p] {
	case '.':
		return true
	case '%':
		return matchClass(c, m.pat[p+1])
	case '[':
		return m.matchBracketClass(c, p, ep-1)
	}
	return m.pat[p] == c
}

// match returns the end of the match of pat[p:] at src[s:], or -1.
func (m *matcher) match(s, p int) int {
	m.depth++
	if m.depth > maxMatchDepth {
		m.L.RaiseError("pattern too complex")
	}
	defer func() { m.depth-- }()
	for {
		m.step()
		switch m.pc(p) {
		case -1: // end of pattern
			return s
		case '(':
			if m.pc(p+1) == ')' {
				return m.startCapture(s, p+2, capPosition)
			}
			return m.startCapture(s, p+1, capUnfinished)
		case ')':
			return m.endCapture(s, p+1)
		case '$':
			if p+1 == len(m.pat) {
				if s == len(m.src) {
					return s
				}
				return -1
			}
		case '%':
			switch next := m.pc(p + 1); {
			case next == 'b':
				if s = m.matchBalance(s, p+2); s < 0 {
					return -1
				}
				p += 4
				continue
			case next == 'f':
				p += 2
				if m.pc(p) != '[' {
					m.L.RaiseError("%s", "missing '[' after '%f' in pattern")
				}
				ep := m.classEnd(p)
				var prev, cur byte
				if s > 0 {
					prev = m.src[s-1]
				}
				if s < len(m.src) {
					cur = m.src[s]
				}
				if m.matchBracketClass(prev, p, ep-1) || !m.matchBracketClass(cur, p, ep-1) {
					return -1
				}
				p = ep
				continue
			case '0' <= next && next <= '9':
				if s = m.matchCapture(s, next); s < 0 {
					return -1
				}
				p += 2
				continue
			}
		}
		// a single-character item, possibly followed by a repetition
		ep := m.classEnd(p)
		ok := s < len(m.src) && m.singleMatch(s, p, ep)
		switch m.pc(ep) {
		case '?':
			if ok {
				if res := m.match(s+1, ep+1); res >= 0 {
					return res
				}
			}
			p = ep + 1
			continue
		case '*':
			return m.maxExpand(s, p, ep)
		case '+':
			if !ok {
				return -1
			}
			return m.maxExpand(s+1, p, ep)
		case '-':
			return m.minExpand(s, p, ep)
		}
		if !ok {
			return -1
		}
		s, p = s+1, ep
	}
}

func (m *matcher) maxExpand(s, p, ep int) int {
	i := 0
	for m.singleMatch(s+i, p, ep) {
		i++
	}
	for ; i >= 0; i-- { // try the longest repetition first
		if res := m.match(s+i, ep+1); res >= 0 {
			return res
		}
	}
	return -1
}

func (m *matcher) minExpand(s, p, ep int) int {
	for {
		if res := m.match(s, ep+1); res >= 0 {
			return res
		}
		if !m.singleMatch(s, p, ep) {
			return -1
		}
		s++
	}
}

func (m *matcher) startCapture(s, p, what int) int {
	if m.level >= maxCaptures {
		m.L.RaiseError("too many captures")
	}
	m.capture[m.level] = capture{s, what}
	m.level++
	res := m.match(s, p)
	if res < 0 {
		m.level--
	}
	return res
}

func (m *matcher) endCapture(s, p int) int {
	l := -1
	for i := m.level - 1; i >= 0; i-- {
		if m.capture[i].len == capUnfinished {
			l = i
			break
		}
	}
	if l < 0 {
		m.L.RaiseError("invalid pattern capture")
	}
	m.capture[l].len = s - m.capture[l].init
	res := m.match(s, p)
	if res < 0 {
		m.capture[l].len = capUnfinished
	}
	return res
}

func (m *matcher) matchBalance(s, p int) int {
	if p+1 >= len(m.pat) {
		m.L.RaiseError("unbalanced pattern")
	}
	if s >= len(m.src) || m.src[s] != m.pat[p] {
		return -1
	}
	open, close, depth := m.src[s], m.pat[p+1], 1
	for s++; s < len(m.src); s++ {
		m.step()
		switch m.src[s] {
		case close:
			if depth--; depth == 0 {
				return s + 1
			}
		case open:
			depth++
		}
	}
	return -1
}

func (m *matcher) matchCapture(s, digit int) int {
	l := digit - '1'
	if l < 0 || l >= m.level || m.capture[l].len == capUnfinished {
		m.L.RaiseError("invalid capture index")
	}
	// A position capture never matches, as in Lua 5.1: there its length,
	// CAP_POSITION (-2), is compared as a size_t, larger than any subject.
	c := m.capture[l]
	if c.len >= 0 && len(m.src)-s >= c.len && m.src[c.init:c.init+c.len] == m.src[s:s+c.len] {
		m.b.charge(m.L, uint64(c.len/bytesPerUnit))
		return s + c.len
	}
	return -1
}

// find runs the pattern from each position in src[init:] (only init when anchored)
// and returns the first match's start and end, or -1, -1.
func (m *matcher) find(init int) (start, end int) {
	p := 0
	anchor := m.pc(0) == '^'
	if anchor {
		p = 1
	}
	for s := init; s <= len(m.src); s++ {
		m.level = 0
		if e := m.match(s, p); e >= 0 {
			return s, e
		}
		if anchor {
			break
		}
	}
	return -1, -1
}

// capture i of the match src[s:e] as a Lua value; capture 0 with no captures in the
// pattern is the whole match.
func (m *matcher) captureValue(i, s, e int) glua.LValue {
	if i >= m.level {
		if i != 0 {
			m.L.RaiseError("invalid capture index")
		}
		return glua.LString(m.src[s:e])
	}
	switch c := m.capture[i]; c.len {
	case capUnfinished:
		m.L.RaiseError("unfinished capture")
	case capPosition:
		return glua.LNumber(c.init + 1)
	default:
		return glua.LString(m.src[c.init : c.init+c.len])
	}
	return glua.LNil
}

// captureString is capture i of the match src[s:e] as a string, as gsub's
// replacement string puts it: captureValue without boxing a string capture in
// an interface, which the 1,000,000 "%1" of a replacement would allocate one
// by one at every match.
func (m *matcher) captureString(i, s, e int) string {
	if i < m.level && m.capture[i].len >= 0 {
		c := m.capture[i]
		return m.src[c.init : c.init+c.len]
	}
	return glua.LVAsString(m.captureValue(i, s, e))
}

// pushCaptures pushes the captures of the match src[s:e] (the whole match if the
// pattern has none, when whole is set) and returns how many it pushed.
func (m *matcher) pushCaptures(s, e int, whole bool) int {
	n := m.level
	if n == 0 && whole {
		n = 1
	}
	for i := 0; i < n; i++ {
		m.L.Push(m.captureValue(i, s, e))
	}
	return n
}
