package lua

import (
	"fmt"
	"io"
	"strings"

	glua "github.com/yuin/gopher-lua"
)

// capFormat is string.format. gopher-lua's hands the format to fmt.Sprintf, which
// took every Go verb and flag (%v, %T, %[1]d), printed the contents of a table given
// to %d, and added arguments left over after a "%%" as "%!(EXTRA ...)", none of which
// an upper bound of the result could foresee. capFormat accepts Lua 5.1's formats
// only, checks them and their arguments as Lua does, bounds the result before
// building it (see formatArgs), and charges the real size.
func capFormat(L *glua.LState) int {
	f, args, bound := formatArgs(L, L.CheckString(1))
	b := budgetOf(L)
	b.reserve(L, bound)
	checkSize(L, bound)
	out := fmt.Sprintf(f, args...)
	b.alloc(L, uint64(len(out)))
	L.Push(glua.LString(out))
	return 1
}

// formatArgs checks the format f of string.format as Lua 5.1 does: each conversion
// is a '%', any of the flags "-+ #0", a width, a precision, and one of the
// conversions "cdiouxXeEfgGqs" (or "%%"). It returns the format for fmt.Sprintf
// and the arguments the conversions consume, converted as Lua converts them: a
// numeric conversion takes a number or a string that reads as one (%u is %d, %c one
// byte), %q a string or number, quoted as Lua quotes it, %s any value. And it
// returns an upper bound of the output: the format itself, plus for each conversion
// its width and precision (fmt refuses more than 1e6) and its argument as that
// conversion prints it at most, four bytes per byte and the quotes for %q, one per
// byte for %s, at least 400 bytes (a %f of a large number).
func formatArgs(L *glua.LState, f string) (gof string, args []any, bound uint64) {
	number := func(i *int) uint64 {
		n := uint64(0)
		for ; *i < len(f) && '0' <= f[*i] && f[*i] <= '9'; *i++ {
			n = min(n*10+uint64(f[*i]-'0'), 1e6)
		}
		return n
	}
	var g strings.Builder
	bound = uint64(len(f))
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			g.WriteByte(f[i])
			continue
		}
		start := i
		if i++; i < len(f) && f[i] == '%' {
			g.WriteString("%%")
			continue
		}
		for i < len(f) && strings.IndexByte("-+ #0", f[i]) >= 0 {
			i++
		}
		width, precision := number(&i), uint64(0)
		if i < len(f) && f[i] == '.' {
			i++
			precision = number(&i)
		}
		if i == len(f) || strings.IndexByte("cdiouxXeEfgGqs", f[i]) < 0 {
			L.RaiseError("invalid option '%s' to 'format'", f[start:min(i+1, len(f))])
		}
		spec, conv := f[start:i], f[i] // spec: '%', flags, width, precision
		n := len(args) + 2             // the argument's index
		var arg any
		size := uint64(0)
		switch conv {
		case 's':
			v := L.CheckAny(n)
			if s, ok := v.(glua.LString); ok {
				size = uint64(len(s))
			}
			arg = v
		case 'q':
			s := L.CheckString(n)
			arg, size, spec, conv = quoted(s), 4*uint64(len(s))+2, "%", 's'
		case 'c':
			arg, conv = string([]byte{byte(int64(L.CheckNumber(n)))}), 's'
		case 'u', 'i':
			arg, conv = L.CheckNumber(n), 'd'
		default:
			arg = L.CheckNumber(n)
		}
		g.WriteString(spec)
		g.WriteByte(conv)
		bound += width + precision + max(size, 400) + 64
		args = append(args, arg)
	}
	return g.String(), args, bound
}

// quoted is a string that fmt prints as Lua 5.1's %q does: between double quotes,
// with '"', '\\' and a newline escaped by a backslash, a carriage return as \r
// and a zero byte as \000, every other byte as it is. It is written while fmt
// builds the result, after string.format checked the result's size.
type quoted string

func (q quoted) Format(f fmt.State, _ rune) {
	s := string(q)
	io.WriteString(f, `"`)
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
		io.WriteString(f, s[start:i])
		io.WriteString(f, esc)
		start = i + 1
	}
	io.WriteString(f, s[start:])
	io.WriteString(f, `"`)
}
