package wasm

// validJSON reports whether b is one JSON value, exactly as json.Valid does, in a
// single pass without allocating. CallJSON checks every document that crosses the
// guest boundary, and json.Valid's general scanner costs more than the rest of a
// small JSON call.
//
// It runs a table-driven automaton: one table load per byte, with a small stack
// of object/array bits (on the Go stack up to 256 levels) for the brackets.
func validJSON(b []byte) bool {
	var (
		small [4]uint64
		nest  = small[:] // bit set: the level is an object
		depth int
		s     = sValue
	)
	for i := 0; i < len(b); i++ {
		t := jsonTable[s][b[i]]
		if t < nStates {
			s = t
			if s == sStr || s == sKeyStr {
				// Skip the plain bytes of a string without the state chain.
				for i+1 < len(b) && plainString[b[i+1]] {
					i++
				}
			}
			continue
		}
		switch t {
		case aPushObj, aPushArr:
			if depth == maxDepth {
				return false
			}
			if depth>>6 == len(nest) {
				nest = append(nest, 0)
			}
			if t == aPushObj {
				nest[depth>>6] |= 1 << (depth & 63)
				s = sObjectFirst
			} else {
				nest[depth>>6] &^= 1 << (depth & 63)
				s = sArrayFirst
			}
			depth++
		case aCloseObj, aCloseArr, aComma:
			if depth == 0 {
				return false
			}
			obj := nest[(depth-1)>>6]&(1<<((depth-1)&63)) != 0
			switch {
			case t == aComma && obj:
				s = sKey
			case t == aComma:
				s = sValue
			case obj != (t == aCloseObj):
				return false
			default:
				depth--
				s = sAfter
			}
		default:
			return false
		}
	}
	return depth == 0 && accepting[s]
}

// validNumber reports whether b is exactly one JSON number.
func validNumber(b []byte) bool {
	return len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9') &&
		b[len(b)-1] >= '0' && b[len(b)-1] <= '9' && validJSON(b)
}

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// The automaton's states.
const (
	sValue       uint8 = iota // a value is expected
	sArrayFirst               // after '[': a value or ']'
	sObjectFirst              // after '{': a key or '}'
	sKey                      // after ',' in an object: a key
	sColon                    // after a key: ':'
	sAfter                    // after a value: ',', a closing bracket, or the end
	sStr                      // in a string value
	sStrEsc
	sStrU1
	sStrU2
	sStrU3
	sStrU4
	sKeyStr // in a key
	sKeyEsc
	sKeyU1
	sKeyU2
	sKeyU3
	sKeyU4
	sMinus     // after '-'
	sZero      // a leading 0
	sInt       // integer digits
	sFracStart // after '.'
	sFrac
	sExpStart // after 'e'
	sExpSign
	sExp
	sT1 // t
	sT2 // tr
	sT3 // tru
	sF1 // f
	sF2 // fa
	sF3 // fal
	sF4 // fals
	sN1 // n
	sN2 // nu
	sN3 // nul
	nStates
)

// Actions the table returns instead of a state.
const (
	aError = nStates + iota
	aPushObj
	aPushArr
	aCloseObj
	aCloseArr
	aComma
)

// jsonTable[state][byte] is the next state or an action.
var jsonTable [nStates][256]uint8

// accepting marks the states in which a complete top-level value may end.
var accepting [nStates]bool

// plainString marks the bytes that stand for themselves inside a string.
var plainString [256]bool

func init() {
	for s := range jsonTable {
		for c := range jsonTable[s] {
			jsonTable[s][c] = aError
		}
	}
	set := func(s uint8, chars string, t uint8) {
		for i := 0; i < len(chars); i++ {
			jsonTable[s][chars[i]] = t
		}
	}
	const (
		space  = " \t\n\r"
		digits = "0123456789"
		hex    = "0123456789abcdefABCDEF"
	)
	valueStart := func(s uint8) {
		set(s, space, s)
		set(s, `"`, sStr)
		set(s, "-", sMinus)
		set(s, "0", sZero)
		set(s, digits[1:], sInt)
		set(s, "t", sT1)
		set(s, "f", sF1)
		set(s, "n", sN1)
		set(s, "{", aPushObj)
		set(s, "[", aPushArr)
	}
	valueStart(sValue)
	valueStart(sArrayFirst)
	set(sArrayFirst, "]", aCloseArr)
	set(sObjectFirst, space, sObjectFirst)
	set(sObjectFirst, `"`, sKeyStr)
	set(sObjectFirst, "}", aCloseObj)
	set(sKey, space, sKey)
	set(sKey, `"`, sKeyStr)
	set(sColon, space, sColon)
	set(sColon, ":", sValue)

	// A value ends at a separator, a closing bracket or a space; numbers end
	// there too, with no other marker.
	after := func(s uint8) {
		set(s, space, sAfter)
		set(s, ",", aComma)
		set(s, "}", aCloseObj)
		set(s, "]", aCloseArr)
		accepting[s] = true
	}
	after(sAfter)

	for c := 0x20; c < 256; c++ {
		plainString[c] = c != '"' && c != '\\'
	}
	str := func(body, esc, u1, u2, u3, u4, end uint8) {
		for c := 0x20; c < 256; c++ {
			jsonTable[body][c] = body
		}
		set(body, `"`, end)
		set(body, `\`, esc)
		set(esc, `"\/bfnrt`, body)
		set(esc, "u", u1)
		set(u1, hex, u2)
		set(u2, hex, u3)
		set(u3, hex, u4)
		set(u4, hex, body)
	}
	str(sStr, sStrEsc, sStrU1, sStrU2, sStrU3, sStrU4, sAfter)
	str(sKeyStr, sKeyEsc, sKeyU1, sKeyU2, sKeyU3, sKeyU4, sColon)

	set(sMinus, "0", sZero)
	set(sMinus, digits[1:], sInt)
	after(sZero)
	set(sZero, ".", sFracStart)
	set(sZero, "eE", sExpStart)
	after(sInt)
	set(sInt, digits, sInt)
	set(sInt, ".", sFracStart)
	set(sInt, "eE", sExpStart)
	set(sFracStart, digits, sFrac)
	after(sFrac)
	set(sFrac, digits, sFrac)
	set(sFrac, "eE", sExpStart)
	set(sExpStart, "+-", sExpSign)
	set(sExpStart, digits, sExp)
	set(sExpSign, digits, sExp)
	after(sExp)
	set(sExp, digits, sExp)

	for _, lit := range []struct {
		rest   string
		states []uint8 // the state after each letter but the last
	}{
		{"rue", []uint8{sT1, sT2, sT3}},
		{"alse", []uint8{sF1, sF2, sF3, sF4}},
		{"ull", []uint8{sN1, sN2, sN3}},
	} {
		for i, s := range lit.states {
			next := sAfter
			if i+1 < len(lit.states) {
				next = lit.states[i+1]
			}
			set(s, lit.rest[i:i+1], next)
		}
	}
}
