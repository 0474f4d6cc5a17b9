package lua

import (
	"math"
	"strings"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
)

// installStrlib replaces string.find, match, gmatch (and its alias gfind) and gsub
// with versions on the step-counting matcher of pattern.go, and string.sub, byte and
// char with versions that read their positions as Lua 5.1 does (see intArg). They
// follow Lua 5.1: gmatch is lazy (one match per call of the iterator, where
// gopher-lua computed all of them up front), '^' anchors find, match and gsub but
// not gmatch, string.byte(s) returns only the first byte, and string.char refuses a
// value that is not a byte.
func installStrlib(L *glua.LState) {
	str := L.GetGlobal("string").(*glua.LTable)
	gmatch := L.NewFunction(strGmatch)
	for name, fn := range map[string]glua.LValue{
		"find":   L.NewFunction(func(L *glua.LState) int { return strFind(L, true) }),
		"match":  L.NewFunction(func(L *glua.LState) int { return strFind(L, false) }),
		"gmatch": gmatch,
		"gfind":  gmatch,
		"gsub":   L.NewFunction(strGsub),
		"sub":    L.NewFunction(strSub),
		"byte":   L.NewFunction(strByte),
		"char":   L.NewFunction(strChar),
	} {
		str.RawSetString(name, fn)
	}
}

const patternSpecials = "^$*+?.([%-"

// intArg is argument n as an integer, read as Lua 5.1's luaL_checkinteger reads
// it on amd64: a number, or a string that reads as one ("2"), truncated toward
// zero; a NaN, or a number beyond the 64-bit integers (math.huge, 2^63), is the
// lowest integer, as C's cast makes it there. Where int has 32 bits (386), a
// number between its bounds and 2^63 is clamped to them as the float it is, so
// that a position such as 2^32 means what it means on amd64 (gopher-lua's
// CheckInt wrapped it to 0): no string is as long as the bounds, so a clamped
// position falls past the same end as the real one.
func intArg(L *glua.LState, n int) int {
	const lowest = math.MinInt + 1 // room for posRelative's pos + n + 1
	return int(min(max(int64Arg(L, n), lowest), math.MaxInt))
}

// int64Arg is argument n as an int64, a number or a string that reads as one,
// truncated as C truncates it, and math.MinInt64 for one out of int64's range
// or NaN, as x86 converts those (gopher-lua's CheckInt64 refused a string:
// math.random("6"); helper-260).
func int64Arg(L *glua.LState, n int) int64 {
	f := float64(L.CheckNumber(n))
	if !(f >= -(1<<63) && f < 1<<63) {
		return math.MinInt64
	}
	return int64(f)
}

// optIntArg is intArg, or def when argument n is nil or absent.
func optIntArg(L *glua.LState, n, def int) int {
	if L.Get(n) == glua.LNil {
		return def
	}
	return intArg(L, n)
}

// optStringArg is argument n as a string, a number converted as tostring
// converts it, or def when it is nil or absent (gopher-lua's OptString refused
// a number: table.concat(t, 0), loadstring(s, 5); helper-267).
func optStringArg(L *glua.LState, n int, def string) string {
	if L.Get(n) == glua.LNil {
		return def
	}
	return L.CheckString(n)
}

// posRelative turns a Lua string position (negative counts from the end) into a
// 1-based position that is at least 0.
func posRelative(pos, n int) int {
	if pos < 0 {
		pos += n + 1
	}
	return max(pos, 0)
}

// strSub is string.sub(s, i [, j]).
func strSub(L *glua.LState) int {
	s := L.CheckString(1)
	start := max(posRelative(intArg(L, 2), len(s)), 1)
	end := min(posRelative(optIntArg(L, 3, -1), len(s)), len(s))
	if start > end {
		L.Push(glua.LString(""))
		return 1
	}
	L.Push(glua.LString(s[start-1 : end]))
	return 1
}

// strByte is string.byte(s [, i [, j]]), whose j is i by default, as in Lua 5.1
// (gopher-lua's returned every byte from i on). It is charged one unit per value
// it returns, and returns at most as many as the value stack holds, as Lua 5.1
// refuses a slice its stack cannot take.
func strByte(L *glua.LState) int {
	s := L.CheckString(1)
	i := posRelative(optIntArg(L, 2, 1), len(s))
	j := min(posRelative(optIntArg(L, 3, i), len(s)), len(s))
	i = max(i, 1)
	if i > j {
		return 0
	}
	n := j - i + 1
	budgetOf(L).charge(L, uint64(n))
	if n > stateOptions.RegistryMaxSize {
		L.RaiseError("string slice too long")
	}
	for k := i - 1; k < j; k++ {
		L.Push(glua.LNumber(s[k]))
	}
	return n
}

// strChar is string.char(...): each argument must be a byte value, 0 to 255, as in
// Lua 5.1 (gopher-lua kept the low byte of 256).
func strChar(L *glua.LState) int {
	top := L.GetTop()
	budgetOf(L).alloc(L, uint64(top))
	out := make([]byte, top)
	for i := range out {
		c := intArg(L, i+1)
		if c < 0 || c > 255 {
			L.ArgError(i+1, "invalid value")
		}
		out[i] = byte(c)
	}
	L.Push(glua.LString(out))
	return 1
}

// strFind is string.find (find) and string.match (!find).
func strFind(L *glua.LState, find bool) int {
	s, p := L.CheckString(1), L.CheckString(2)
	init := min(max(posRelative(optIntArg(L, 3, 1), len(s))-1, 0), len(s))
	// The pattern is read in full to tell a plain one, the subject at most in full.
	budgetOf(L).charge(L, uint64(len(p)/bytesPerUnit))
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
	limit := optIntArg(L, 4, len(src)+1)
	anchor := strings.HasPrefix(p, "^")
	if anchor {
		p = p[1:]
	}
	m := newMatcher(L, src, p)
	var w growing
	add := func(s string) {
		w.reserve(L, len(s))
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
				w.reserve(L, m.expand(nil, news, s, e))
				m.expand(&w.Builder, news, s, e)
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
//
// Each pass is charged as matcher steps, one per escape and one per bytesPerUnit
// bytes of text between escapes, since it may write nothing: string.gsub(("a"):rep(150),
// "(x*)", ("%1"):rep(1e6)) reads 2 MB twice per match to write 150 bytes, and ran
// for 100 s under a MaxInstructions of a million when only the bytes written were.
func (m *matcher) expand(w *strings.Builder, news string, s, e int) int {
	n := 0
	put := func(piece string) {
		n += len(piece)
		if w != nil {
			w.WriteString(piece)
		}
	}
	for len(news) > 0 {
		i := strings.IndexByte(news, '%')
		if i < 0 {
			i = len(news)
		}
		put(news[:i])
		m.work(i / bytesPerUnit)
		if i == len(news) {
			break
		}
		if i+1 == len(news) {
			m.L.RaiseError("%s", "invalid use of '%' in replacement string")
		}
		m.work(1)
		switch c := news[i+1]; {
		case c == '0':
			put(m.src[s:e])
		case '1' <= c && c <= '9':
			put(m.captureString(int(c-'1'), s, e))
		default:
			put(news[i+1 : i+2])
		}
		news = news[i+2:]
	}
	return n
}
