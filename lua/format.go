package lua

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
)

// capFormat is string.format. gopher-lua's hands the format to fmt.Sprintf, which
// took every Go verb and flag (%v, %T, %[1]d), printed the contents of a table given
// to %d, and added arguments left over after a "%%" as "%!(EXTRA ...)", none of which
// an upper bound of the result could foresee. capFormat accepts Lua 5.1's formats
// only, checks them and their arguments as Lua does, bounds the result before
// building it (see parseFormat), and charges the real size.
func capFormat(L *glua.LState) int {
	f := L.CheckString(1)
	items, _ := parseFormat(L, f) // which checked the bound against the limits
	b := budgetOf(L)
	var w strings.Builder
	lit := 0 // f[lit:] is the text not yet written
	for _, it := range items {
		w.WriteString(f[lit:it.start])
		lit = it.end
		it.write(&w)
	}
	w.WriteString(f[lit:])
	b.alloc(L, uint64(w.Len()))
	L.Push(glua.LString(w.String()))
	return 1
}

// formatFlags are Lua 5.1's (and C's) conversion flags.
const formatFlags = "-+ #0"

// conversion is one '%' item of a format, f[start:end], with its argument.
type conversion struct {
	start, end                      int
	minus, plus, space, sharp, zero bool
	width, prec                     int // prec is -1 when the item has none
	conv                            byte
	num                             float64 // the argument of a numeric conversion
	str                             string  // the argument of %s, %q and %c
}

// parseFormat checks the format f of string.format as Lua 5.1's scanformat does:
// each item is a '%', at most five flag characters ("-+ #0"), a width and a
// precision of at most two digits each, and one of the conversions
// "cdiouxXeEfgGqs", or "%%". It checks each item's argument as Lua does: a numeric
// conversion takes a number or a string that reads as one, %s and %q a string or
// a number (a table is an error, as in Lua 5.1, whatever its __tostring). And it
// returns an upper bound of the output: the format itself, plus for each item
// what it writes, within a few bytes (see conversion.size), which it checks
// against the call's limits item by item, raising their error as soon as it
// passes one.
func parseFormat(L *glua.LState, f string) (items []conversion, bound uint64) {
	b := budgetOf(L)
	digits := func(i *int) int {
		n := 0
		for k := 0; k < 2 && *i < len(f) && '0' <= f[*i] && f[*i] <= '9'; k++ {
			n = n*10 + int(f[*i]-'0')
			*i++
		}
		return n
	}
	bound = uint64(len(f))
	arg := 0 // the conversions so far that take an argument
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		c := conversion{start: i, prec: -1}
		if i++; i < len(f) && f[i] == '%' {
			items = append(items, conversion{start: i - 1, end: i + 1, conv: '%'})
			continue
		}
		flags := i
		for ; i < len(f) && strings.IndexByte(formatFlags, f[i]) >= 0; i++ {
			switch f[i] {
			case '-':
				c.minus = true
			case '+':
				c.plus = true
			case ' ':
				c.space = true
			case '#':
				c.sharp = true
			case '0':
				c.zero = true
			}
		}
		if i-flags > len(formatFlags) {
			L.RaiseError("invalid format (repeated flags)")
		}
		c.width = digits(&i)
		if i < len(f) && f[i] == '.' {
			i++
			c.prec = digits(&i)
		}
		if i < len(f) && '0' <= f[i] && f[i] <= '9' {
			L.RaiseError("invalid format (width or precision too long)")
		}
		if i == len(f) || strings.IndexByte("cdiouxXeEfgGqs", f[i]) < 0 {
			L.RaiseError("invalid option '%s' to 'format'", f[c.start:min(i+1, len(f))])
		}
		c.conv, c.end = f[i], i+1
		arg++
		n := arg + 1 // the argument's index: the format is the first
		L.CheckAny(n)
		switch c.conv {
		case 's', 'q':
			c.str = L.CheckString(n)
		case 'c':
			c.str = string([]byte{byte(truncate(float64(L.CheckNumber(n))))})
		default:
			c.num = float64(L.CheckNumber(n))
		}
		// Checked item by item: sizing a %q reads its string, and a format of
		// many large ones must stop at the limit, not after reading them all.
		bound += c.size()
		b.reserve(L, bound)
		checkSize(L, bound)
		items = append(items, c)
	}
	return items, bound
}

// size is an upper bound of what write writes, within a few bytes of it: %q's
// exact length (a pass over the string, much cheaper than writing it), a
// string's length or precision, and a number's digits, sign, prefix, point and
// exponent, each at least the width. A bound far above the output, such as four
// bytes a byte for %q, made formats whose result fits fail the memory and
// instruction limits.
func (c *conversion) size() uint64 {
	var n int
	switch c.conv {
	case 'q':
		return uint64(quotedLen(c.str))
	case 's':
		n = len(c.str)
		if c.prec >= 0 {
			n = min(n, c.prec)
		}
	case 'c':
		n = 1
	case 'd', 'i':
		n = max(c.prec, digits(absInt(truncate(c.num)), 10)) + 1 // the sign
	case 'o', 'u', 'x', 'X':
		base := uint64(16)
		switch c.conv {
		case 'o':
			base = 8
		case 'u':
			base = 10
		}
		n = max(c.prec, digits(unsigned(c.num), base)) + 2 // 0x, or the 0 of %#o
	default: // eEfgG
		p := c.prec
		if p < 0 {
			p = 6
		}
		switch c.conv {
		case 'e', 'E': // -d.ddde+308
			n = p + 8
		case 'f':
			whole := 1
			if a := math.Abs(c.num); a >= 1 && !math.IsInf(a, 0) {
				whole = int(math.Log10(a)) + 2 // a digit more, for rounding up and Log10's error
			}
			n = 2 + whole + p // sign, digits, point, fraction
		default: // gG: -0.0000ddd, or -d.ddde+308
			n = max(p, 1) + 8
		}
	}
	return uint64(max(c.width, n))
}

// digits is the number of digits of u in base.
func digits(u, base uint64) int {
	n := 1
	for ; u >= base; u /= base {
		n++
	}
	return n
}

// absInt is the magnitude of i, -2^63 included.
func absInt(i int64) uint64 {
	if i < 0 {
		return uint64(-(i + 1)) + 1
	}
	return uint64(i)
}

// quotedLen is the length of what writeQuoted writes for s.
func quotedLen(s string) int {
	n := len(s) + 2
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"', '\\', '\n', '\r':
			n++
		case 0:
			n += 3
		}
	}
	return n
}

// write writes the item to w as Lua 5.1 (C's sprintf) prints it; a number
// given to %s or %q has become its string as gopher-lua's tostring writes it.
func (c *conversion) write(w *strings.Builder) {
	switch c.conv {
	case '%':
		w.WriteByte('%')
	case 'q':
		writeQuoted(w, c.str)
	case 's', 'c':
		s := c.str
		if c.conv == 's' && c.prec >= 0 && c.prec < len(s) {
			s = s[:c.prec] // bytes, not runes
		}
		c.pad(w, s)
	case 'd', 'i':
		n := truncate(c.num)
		if n == 0 && c.prec == 0 { // fmt writes nothing, C the sign the flags ask for
			sign := ""
			if c.plus {
				sign = "+"
			} else if c.space {
				sign = " "
			}
			c.pad(w, sign)
			return
		}
		fmt.Fprintf(w, c.spec("-+ 0", 'd'), n)
	case 'o', 'u', 'x', 'X':
		u, flags := unsigned(c.num), "-#0"
		if u == 0 && c.prec == 0 { // fmt writes nothing; C too, but the 0 that # asks of %o
			zero := ""
			if c.conv == 'o' && c.sharp {
				zero = "0"
			}
			c.pad(w, zero)
			return
		}
		if u == 0 && c.conv != 'o' {
			flags = "-0" // C writes no 0x before a zero
		}
		verb := c.conv
		if verb == 'u' {
			verb = 'd'
		}
		if (verb == 'x' || verb == 'X') && u != 0 && c.sharp && c.zero && !c.minus && c.prec < 0 {
			c.width = max(c.width-2, 0) // C counts the 0x in the width, fmt does not
		}
		fmt.Fprintf(w, c.spec(flags, verb), u)
	default: // eEfgG
		if math.IsInf(c.num, 0) || math.IsNaN(c.num) {
			c.writeNonFinite(w)
			return
		}
		if c.prec < 0 {
			c.prec = 6 // C's default, where Go's %g prints the shortest form
		}
		fmt.Fprintf(w, c.spec("-+ #0", c.conv), c.num)
	}
}

// spec is the fmt format for the item, with only the flags in allowed: C ignores
// '+' and ' ' on unsigned conversions, where fmt would print them.
func (c *conversion) spec(allowed string, verb byte) string {
	var b []byte
	b = append(b, '%')
	for _, fl := range []struct {
		on bool
		ch byte
	}{{c.minus, '-'}, {c.plus, '+'}, {c.space, ' '}, {c.sharp, '#'}, {c.zero, '0'}} {
		if fl.on && strings.IndexByte(allowed, fl.ch) >= 0 {
			b = append(b, fl.ch)
		}
	}
	if c.width > 0 {
		b = strconv.AppendInt(b, int64(c.width), 10)
	}
	if c.prec >= 0 {
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(c.prec), 10)
	}
	return string(append(b, verb))
}

// pad writes s padded with spaces to the item's width in bytes, on the left unless
// the '-' flag is set: fmt counts runes, and pads with zeros under the '0' flag,
// which glibc ignores for strings and for inf and nan.
func (c *conversion) pad(w *strings.Builder, s string) {
	fill := strings.Repeat(" ", max(c.width-len(s), 0))
	if c.minus {
		w.WriteString(s)
		w.WriteString(fill)
		return
	}
	w.WriteString(fill)
	w.WriteString(s)
}

// writeNonFinite writes an infinity or a NaN as C does: inf, -inf, nan or -nan
// (the sign bit of a NaN shows), upper-case for %E and %G, after '+' or ' ' when
// those flags ask for a sign.
func (c *conversion) writeNonFinite(w *strings.Builder) {
	s := "inf"
	if math.IsNaN(c.num) {
		s = "nan"
	}
	switch {
	case math.Signbit(c.num):
		s = "-" + s
	case c.plus:
		s = "+" + s
	case c.space:
		s = " " + s
	}
	if c.conv == 'E' || c.conv == 'G' {
		s = strings.ToUpper(s)
	}
	c.pad(w, s)
}

// truncate converts a number to an integer as Lua 5.1 does on amd64 (a C cast, the
// cvttsd2si instruction): toward zero, and -2^63 for a NaN or a number out of
// range. Go leaves the out-of-range conversion to the platform, and 386 differs.
func truncate(f float64) int64 {
	if !(f >= -(1<<63) && f < 1<<63) {
		return math.MinInt64
	}
	return int64(f)
}

// unsigned converts a number as Lua 5.1's %o, %u, %x and %X do (a C cast to an
// unsigned 64-bit integer, as gcc compiles it for amd64): -1 is
// 0xffffffffffffffff, a NaN or -inf 0x8000000000000000, and numbers from 2^63
// on (+inf included) are offset by 2^63 first.
func unsigned(f float64) uint64 {
	if !(f >= 1<<63) { // a NaN too, as gcc's comparison sends it this way
		return uint64(truncate(f))
	}
	return uint64(truncate(f-(1<<63))) ^ 1<<63
}

// writeQuoted writes s as Lua 5.1's %q does: between double quotes, with '"', '\\'
// and a newline escaped by a backslash, a carriage return as \r and a zero byte
// as \000, every other byte as it is.
func writeQuoted(w *strings.Builder, s string) {
	w.WriteByte('"')
	start := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '"':
			esc = `\"`
		case '\\':
			esc = `\\`
		case '\n':
			esc = "\\\n"
		case '\r':
			esc = `\r`
		case 0:
			esc = `\000`
		default:
			continue
		}
		w.WriteString(s[start:i])
		w.WriteString(esc)
		start = i + 1
	}
	w.WriteString(s[start:])
	w.WriteByte('"')
}
