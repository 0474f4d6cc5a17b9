package wasm

// validJSON reports whether b is one JSON value, exactly as json.Valid does, in a
// single pass without allocating. CallJSON checks every document that crosses the
// guest boundary, and json.Valid's general scanner costs more than the rest of a
// small JSON call.
func validJSON(b []byte) bool {
	var (
		small [4]uint64  // levels 0-255, on the stack
		nest  = small[:] // bit set: the level is an object
		depth int
		obj   bool
		i     = skipSpace(b, 0)
	)
value:
	if i >= len(b) {
		return false
	}
	switch b[i] {
	case '{', '[':
		open, empty := b[i], byte('}')
		if open == '[' {
			empty = ']'
		}
		if depth == maxDepth {
			return false
		}
		if depth>>6 == len(nest) {
			nest = append(nest, 0)
		}
		if i = skipSpace(b, i+1); i < len(b) && b[i] == empty {
			i++
			goto next
		}
		depth++
		if obj = open == '{'; obj {
			nest[(depth-1)>>6] |= 1 << ((depth - 1) & 63)
			goto key
		}
		nest[(depth-1)>>6] &^= 1 << ((depth - 1) & 63)
		goto value
	case '"':
		i = scanString(b, i)
	case 't':
		i = scanLiteral(b, i, "true")
	case 'f':
		i = scanLiteral(b, i, "false")
	case 'n':
		i = scanLiteral(b, i, "null")
	default:
		i = scanNumber(b, i)
	}
	if i < 0 {
		return false
	}
next:
	if i = skipSpace(b, i); depth == 0 {
		return i == len(b)
	}
	if i >= len(b) {
		return false
	}
	switch b[i] {
	case ',':
		i = skipSpace(b, i+1)
		if obj {
			goto key
		}
		goto value
	case '}', ']':
		if obj != (b[i] == '}') {
			return false
		}
		depth--
		i++
		if depth > 0 {
			obj = nest[(depth-1)>>6]&(1<<((depth-1)&63)) != 0
		}
		goto next
	}
	return false
key:
	if i >= len(b) || b[i] != '"' {
		return false
	}
	if i = scanString(b, i); i < 0 {
		return false
	}
	if i = skipSpace(b, i); i >= len(b) || b[i] != ':' {
		return false
	}
	i = skipSpace(b, i+1)
	goto value
}

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// plain marks the bytes a string may hold unescaped.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

var hex = func() (t [256]bool) {
	for _, c := range "0123456789abcdefABCDEF" {
		t[c] = true
	}
	return t
}()

// scanString returns the index after the string starting at b[i], or -1.
func scanString(b []byte, i int) int {
	for i++; i < len(b); {
		switch c := b[i]; {
		case plain[c]:
			i++
		case c == '"':
			return i + 1
		case c == '\\' && i+1 < len(b):
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !hex[b[i+2]] || !hex[b[i+3]] || !hex[b[i+4]] || !hex[b[i+5]] {
					return -1
				}
				i += 6
			default:
				return -1
			}
		default:
			return -1
		}
	}
	return -1
}

// scanNumber returns the index after the number starting at b[i], or -1.
func scanNumber(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i+1)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		if j := digits(b, i+1); j > i+1 {
			i = j
		} else {
			return -1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if j := digits(b, i); j > i {
			i = j
		} else {
			return -1
		}
	}
	return i
}

// validNumber reports whether b is exactly one JSON number.
func validNumber(b []byte) bool { return len(b) > 0 && scanNumber(b, 0) == len(b) }

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

func scanLiteral(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && b[i] <= ' ' && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
