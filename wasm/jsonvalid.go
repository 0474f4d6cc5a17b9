package wasm

// validJSON reports whether b is one JSON value, exactly as json.Valid does, in a
// single pass without allocating. CallJSON checks every document a guest returns
// and every json.RawMessage it is given, and json.Valid's general scanner costs
// more than the rest of a small JSON call.
//
// It is a hand-written scanner: a loop over values and the separators after
// them, with tight inner loops for strings, numbers and spaces, and one bit per
// open bracket (on the Go stack up to 256 levels) to tell objects from arrays.
// Its state is where the code is, so no step waits for a table load that the
// previous step chose, as a table-driven automaton does on every byte.
func validJSON(b []byte) bool {
	var small [4]uint64
	nest := small[:] // bit set: the level is an object
	depth := 0
	i := 0
	n := len(b)
value:
	for {
		for i < n && isSpace[b[i]] {
			i++
		}
		if i >= n {
			return false
		}
		switch c := b[i]; c {
		case '"':
			i++
			for {
				for i < n && !stringSpecial[b[i]] {
					i++
				}
				if i >= n || b[i] < 0x20 {
					return false
				}
				if b[i] == '"' {
					break
				}
				if i = skipEscape(b, i); i < 0 {
					return false
				}
			}
			i++
		case '{', '[':
			if depth == maxDepth {
				return false
			}
			if depth>>6 == len(nest) {
				nest = append(nest, 0)
			}
			obj := c == '{'
			if obj {
				nest[depth>>6] |= 1 << (depth & 63)
			} else {
				nest[depth>>6] &^= 1 << (depth & 63)
			}
			depth++
			for i++; i < n && isSpace[b[i]]; i++ {
			}
			if i < n && b[i] == c+2 { // '}' and ']' follow '{' and '[' by two
				depth--
				i++
				break // an empty object or array is a value
			}
			if obj {
				if i = skipKey(b, i); i < 0 {
					return false
				}
			}
			continue value
		case 't':
			if n-i < 4 || string(b[i:i+4]) != "true" {
				return false
			}
			i += 4
		case 'f':
			if n-i < 5 || string(b[i:i+5]) != "false" {
				return false
			}
			i += 5
		case 'n':
			if n-i < 4 || string(b[i:i+4]) != "null" {
				return false
			}
			i += 4
		default:
			if c != '-' && (c < '0' || c > '9') {
				return false
			}
			if i = skipNumber(b, i); i < 0 {
				return false
			}
		}
		// After a value: the end, a comma, or the closing bracket of its level.
		for {
			for i < n && isSpace[b[i]] {
				i++
			}
			if i == n {
				return depth == 0
			}
			if depth == 0 {
				return false
			}
			obj := nest[(depth-1)>>6]&(1<<((depth-1)&63)) != 0
			switch c := b[i]; {
			case c == ',':
				i++
				if obj {
					if i = skipKey(b, i); i < 0 {
						return false
					}
				}
				continue value
			case obj && c == '}', !obj && c == ']':
				depth--
				i++
			default:
				return false
			}
		}
	}
}

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// skipKey checks `"key" :` and the space around it, from i, and returns the
// index after it, or -1.
func skipKey(b []byte, i int) int {
	for i < len(b) && isSpace[b[i]] {
		i++
	}
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	for i++; ; {
		for i < len(b) && !stringSpecial[b[i]] {
			i++
		}
		if i >= len(b) || b[i] < 0x20 {
			return -1
		}
		if b[i] == '"' {
			break
		}
		if i = skipEscape(b, i); i < 0 {
			return -1
		}
	}
	for i++; i < len(b) && isSpace[b[i]]; i++ {
	}
	if i >= len(b) || b[i] != ':' {
		return -1
	}
	return i + 1
}

// skipEscape checks the escape at b[i], a backslash, and returns the index after
// it, or -1.
func skipEscape(b []byte, i int) int {
	if i+1 >= len(b) {
		return -1
	}
	switch b[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 2
	case 'u':
		if len(b)-i < 6 || !isHex[b[i+2]] || !isHex[b[i+3]] || !isHex[b[i+4]] || !isHex[b[i+5]] {
			return -1
		}
		return i + 6
	}
	return -1
}

// skipNumber checks a number starting at i and returns the index after it, or -1.
func skipNumber(b []byte, i int) int {
	if b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return -1
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		i = skipDigits(b, i+1)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		j := skipDigits(b, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := skipDigits(b, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// validNumber reports whether b is exactly one JSON number.
func validNumber(b []byte) bool { return len(b) > 0 && skipNumber(b, 0) == len(b) }

// stringSpecial marks the bytes a string cannot hold as they are, isHex the
// digits of a \u escape, and isSpace JSON's white space.
var stringSpecial, isHex, isSpace [256]bool

func init() {
	isSpace[' '], isSpace['\t'], isSpace['\n'], isSpace['\r'] = true, true, true, true
	for c := 0; c < 0x20; c++ {
		stringSpecial[c] = true
	}
	stringSpecial['"'], stringSpecial['\\'] = true, true
	for _, c := range "0123456789abcdefABCDEF" {
		isHex[c] = true
	}
}
