package lua

// Lua values written as JSON: the walker's appendJSON, and the numbers and
// strings in the forms encoding/json writes them.

import (
	"math"
	"strconv"
	"unicode/utf8"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
)

// appendJSON appends the JSON form of v to buf.
func (w *walker) appendJSON(buf []byte, v glua.LValue) ([]byte, error) {
	switch v := v.(type) {
	case *glua.LNilType, nil: // nil: no Lua value, but what a gopher-lua bug may leave in a slot
		return append(buf, "null"...), nil
	case glua.LBool:
		return strconv.AppendBool(buf, bool(v)), nil
	case glua.LNumber:
		if out, ok := appendNumber(buf, float64(v)); ok {
			return out, nil
		}
		return buf, w.fail("cannot convert %v to JSON", v)
	case glua.LString:
		return w.appendString(buf, string(v))
	case *glua.LTable:
		if w.pastBound(len(buf)) {
			return buf, w.tooLarge()
		}
		n, keys, err := w.enter(v)
		if err != nil {
			return buf, err
		}
		defer w.leave()
		buf = w.grow(buf, 4<<10)
		if n > 0 {
			buf = append(buf, '[')
			for i := 1; i <= n; i++ {
				if i > 1 {
					buf = append(buf, ',')
				}
				w.path = append(w.path, pathStep{index: i})
				if buf, err = w.appendJSON(buf, v.RawGetInt(i)); err != nil {
					return buf, err
				}
				w.path = w.path[:len(w.path)-1]
			}
			return append(buf, ']'), nil
		}
		buf = append(buf, '{')
		for i, k := range keys {
			if i > 0 {
				buf = append(buf, ',')
			}
			w.path = append(w.path, pathStep{key: k.key})
			if !utf8.ValidString(k.name) {
				// Written with U+FFFD for its bad bytes, it could repeat another key.
				return buf, w.fail("key is not valid UTF-8, which JSON cannot hold")
			}
			if buf, err = w.appendString(buf, k.name); err != nil {
				return buf, err
			}
			buf = append(buf, ':')
			if buf, err = w.appendJSON(buf, v.RawGet(k.key)); err != nil {
				return buf, err
			}
			w.path = w.path[:len(w.path)-1]
		}
		return append(buf, '}'), nil
	}
	return buf, w.fail("cannot convert %s", v.Type())
}

// grow makes room for need more bytes in a large buf by doubling its capacity,
// up to a little past the bound: append grows a large slice by a quarter at a
// time, which allocates about five times the final size of a large JSON in all.
func (w *walker) grow(buf []byte, need int) []byte {
	const small = 64 << 10 // append's growth is fine below
	if len(buf) < small || cap(buf)-len(buf) >= need {
		return buf
	}
	out := make([]byte, len(buf), max(len(buf)+need, min(2*cap(buf), w.bound()+need)))
	copy(out, buf)
	return out
}

// appendString appends s as a JSON string, unless that passes w's bound: checked
// before, so that one huge string is not copied only to be refused, and after, as
// escapes can make the string up to six times longer.
func (w *walker) appendString(buf []byte, s string) ([]byte, error) {
	if w.pastBound(len(buf) + len(s)) {
		return buf, w.tooLarge()
	}
	if len(s) >= bytesPerUnit {
		if err := w.charge(len(s) / bytesPerUnit); err != nil {
			return buf, err
		}
		buf = w.grow(buf, len(s)+2)
	}
	if buf = appendJSONString(buf, s); w.pastBound(len(buf)) {
		return buf, w.tooLarge()
	}
	return buf, nil
}

// appendNumber appends the JSON form of f to buf: integers below 1e21 in
// magnitude with all their digits, as encoding/json writes a float64 (so that
// 2^60, which an argument may bring, decodes back into an int64), and -0 as
// -0, as it does too; other numbers in the shortest form that reads back
// exactly. It reports false for NaN and the infinities, which JSON cannot hold.
func appendNumber(buf []byte, f float64) ([]byte, bool) {
	if i := int64(f); float64(i) == f && -1<<53 <= i && i <= 1<<53 { // isInteger(f)
		if i == 0 && math.Signbit(f) {
			return append(buf, "-0"...), true
		}
		return strconv.AppendInt(buf, i, 10), true
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.AppendFloat(buf, f, 'f', 0, 64), true
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return buf, false
	}
	// As encoding/json writes a float64: plain below 1e21 and from 1e-6, an
	// exponent of one digit without a leading zero (1e-7, not 1e-07).
	format := byte('f')
	if abs := math.Abs(f); abs < 1e-6 || abs >= 1e21 {
		format = 'e'
	}
	buf = strconv.AppendFloat(buf, f, format, -1, 64)
	if n := len(buf); format == 'e' && n >= 4 && buf[n-4] == 'e' && buf[n-3] == '-' && buf[n-2] == '0' {
		buf[n-2] = buf[n-1]
		buf = buf[:n-1]
	}
	return buf, true
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does.
func appendJSONString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				buf = append(buf, '\\', c)
			case c == '\n':
				buf = append(buf, '\\', 'n')
			case c == '\r':
				buf = append(buf, '\\', 'r')
			case c == '\t':
				buf = append(buf, '\\', 't')
			case c < 0x20:
				buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				buf = append(buf, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, `\ufffd`...)
		} else {
			buf = append(buf, s[i:i+size]...)
		}
		i += size
	}
	return append(buf, '"')
}
