package lua

import (
	"strings"

	glua "github.com/yuin/gopher-lua"
)

// installPatterns replaces string.find, match, gmatch (and its alias gfind) and gsub
// with versions on the step-counting matcher of pattern.go. They follow Lua 5.1:
// gmatch is lazy (one match per call of the iterator, where gopher-lua computed all of
// them up front) and '^' anchors find, match and gsub but not gmatch.
func installPatterns(L *glua.LState) {
	str := L.GetGlobal("string").(*glua.LTable)
	gmatch := L.NewFunction(strGmatch)
	for name, fn := range map[string]glua.LValue{
		"find":   L.NewFunction(func(L *glua.LState) int { return strFind(L, true) }),
		"match":  L.NewFunction(func(L *glua.LState) int { return strFind(L, false) }),
		"gmatch": gmatch,
		"gfind":  gmatch,
		"gsub":   L.NewFunction(strGsub),
	} {
		str.RawSetString(name, fn)
	}
}

const patternSpecials = "^$*+?.([%-"

// posRelative turns a Lua string position (negative counts from the end) into a
// 1-based position that is at least 0.
func posRelative(pos, n int) int {
	if pos < 0 {
		pos += n + 1
	}
	return max(pos, 0)
}

// strFind is string.find (find) and string.match (!find).
func strFind(L *glua.LState, find bool) int {
	s, p := L.CheckString(1), L.CheckString(2)
	init := min(max(posRelative(L.OptInt(3, 1), len(s))-1, 0), len(s))
	if find && (glua.LVAsBool(L.Get(4)) || !strings.ContainsAny(p, patternSpecials)) {
		budgetOf(L).charge(L, uint64((len(s)-init)/bytesPerUnit))
		if i := strings.Index(s[init:], p); i >= 0 {
			L.Push(glua.LNumber(init + i + 1))
			L.Push(glua.LNumber(init + i + len(p)))
			return 2
		}
		L.Push(glua.LNil)
		return 1
	}
	m := newMatcher(L, s, p)
	start, end := m.find(init)
	m.flush()
	if start < 0 {
		L.Push(glua.LNil)
		return 1
	}
	if !find {
		return m.pushCaptures(start, end, true)
	}
	L.Push(glua.LNumber(start + 1))
	L.Push(glua.LNumber(end))
	return m.pushCaptures(start, end, false) + 2
}

func strGmatch(L *glua.LState) int {
	s, p := L.CheckString(1), L.CheckString(2)
	pos := 0
	L.Push(L.NewFunction(func(L *glua.LState) int {
		m := newMatcher(L, s, p)
		for src := pos; src <= len(s); src++ {
			m.level = 0
			if e := m.match(src, 0); e >= 0 {
				pos = e
				if e == src { // empty match: move on at least one position
					pos++
				}
				m.flush()
				return m.pushCaptures(src, e, true)
			}
		}
		m.flush()
		pos = len(s) + 1
		return 0
	}))
	return 1
}

func strGsub(L *glua.LState) int {
	src, p := L.CheckString(1), L.CheckString(2)
	repl := L.Get(3)
	switch repl.Type() {
	case glua.LTNumber, glua.LTString, glua.LTFunction, glua.LTTable:
	default:
		L.ArgError(3, "string/function/table expected")
	}
	limit := L.OptInt(4, len(src)+1)
	anchor := strings.HasPrefix(p, "^")
	if anchor {
		p = p[1:]
	}
	m := newMatcher(L, src, p)
	var w strings.Builder
	grow := func(n int) { // charges and checks n bytes about to be written
		m.b.alloc(L, uint64(n))
		checkSize(L, uint64(w.Len()+n))
	}
	add := func(s string) {
		grow(len(s))
		w.WriteString(s)
	}
	n, s, kept := 0, 0, 0 // src[kept:s] is unmatched text not yet written
	for n < limit {
		m.level = 0
		e := m.match(s, 0)
		if e >= 0 {
			n++
			add(src[kept:s])
			if repl.Type() == glua.LTString || repl.Type() == glua.LTNumber {
				news := glua.LVAsString(repl)
				grow(m.expand(nil, news, s, e))
				m.expand(&w, news, s, e)
			} else {
				add(m.replacement(repl, s, e))
			}
			kept = e
		}
		if e > s {
			s = e
		} else if s < len(src) {
			s++
		} else {
			break
		}
		if anchor {
			break
		}
	}
	add(src[kept:])
	m.flush()
	L.Push(glua.LString(w.String()))
	L.Push(glua.LNumber(n))
	return 2
}

// replacement is the text gsub puts in place of the match src[s:e] when repl is a
// function or a table.
func (m *matcher) replacement(repl glua.LValue, s, e int) string {
	L := m.L
	var v glua.LValue
	switch r := repl.(type) {
	case *glua.LFunction:
		L.Push(r)
		L.Call(m.pushCaptures(s, e, true), 1)
		v = L.Get(-1)
		L.Pop(1)
	case *glua.LTable:
		v = L.GetTable(r, m.captureValue(0, s, e))
	}
	if !glua.LVAsBool(v) {
		return m.src[s:e] // nil or false keeps the original text
	}
	if !glua.LVCanConvToString(v) {
		L.RaiseError("invalid replacement value (a %s)", v.Type().String())
	}
	return glua.LVAsString(v)
}

// expand writes the gsub replacement string news for the match src[s:e] to w, with
// %0-%9 and %% substituted, and returns its length; with a nil w it only measures.
// gsub measures first and charges and checks the size before it writes: ("%0"):rep(4096)
// is a short replacement that makes 4,096 copies of each match.
func (m *matcher) expand(w *strings.Builder, news string, s, e int) int {
	n := 0
	put := func(piece string) {
		n += len(piece)
		if w != nil {
			w.WriteString(piece)
		}
	}
	for i := 0; i < len(news); i++ {
		start := i
		for i < len(news) && news[i] != '%' {
			i++
		}
		put(news[start:i])
		if i == len(news) {
			break
		}
		if i++; i == len(news) {
			m.L.RaiseError("%s", "invalid use of '%' in replacement string")
		}
		switch c := news[i]; {
		case c == '0':
			put(m.src[s:e])
		case '1' <= c && c <= '9':
			put(glua.LVAsString(m.captureValue(int(c-'1'), s, e)))
		default:
			put(news[i : i+1])
		}
	}
	return n
}
