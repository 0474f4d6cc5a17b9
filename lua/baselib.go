package lua

import (
	"math"
	"reflect"
	"strconv"
	"strings"
	"unsafe"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
)

// installBase replaces the base functions error, tonumber, rawset and
// setmetatable, math.huge and math.mod, where gopher-lua's differ from Lua
// 5.1's in ways a script notices: its math.huge was the largest float, so
// that 1/0 == math.huge was false; its math.mod was the % operator, where
// 5.1's is math.fmod, whose result takes the sign of the first argument
// (math.mod(7, -3) is 1, not -2; helper-256); its rawset returned nothing, not
// the table (rawset(t, k, v)[k] failed); and its setmetatable took any value,
// so that setmetatable("", {}) replaced the strings' metatable and every
// string method then failed (helper-259).
func installBase(L *glua.LState) {
	L.SetGlobal("error", L.NewFunction(baseError))
	L.SetGlobal("tonumber", L.NewFunction(charged(baseToNumber, tonumberWork)))
	rawset := L.GetGlobal("rawset").(*glua.LFunction).GFunction
	L.SetGlobal("rawset", L.NewFunction(func(L *glua.LState) int {
		rawset(L)
		L.SetTop(1)
		return 1
	}))
	sel := L.GetGlobal("select").(*glua.LFunction).GFunction
	L.SetGlobal("select", L.NewFunction(func(L *glua.LState) int {
		if s, ok := L.Get(1).(glua.LString); ok && s != "#" { // as 5.1 reads it (helper-260, helper-262)
			if strings.HasPrefix(string(s), "#") { // 5.1 looks at the first byte only
				L.Replace(1, glua.LString("#"))
			} else if n, ok := decimalNumber(string(s)).(glua.LNumber); ok {
				L.Replace(1, n)
			}
		}
		return sel(L)
	}))
	setmetatable := L.GetGlobal("setmetatable").(*glua.LFunction).GFunction
	L.SetGlobal("setmetatable", L.NewFunction(func(L *glua.LState) int {
		L.CheckTable(1)
		if L.GetTop() < 2 {
			L.ArgError(2, "nil or table expected")
		}
		return setmetatable(L)
	}))
	m := L.GetGlobal("math").(*glua.LTable)
	m.RawSetString("huge", glua.LNumber(math.Inf(1)))
	m.RawSetString("mod", m.RawGetString("fmod"))
	// 5.1's: gopher-lua's computed x*180/pi and x*pi/180, a bit off for 93 of
	// the integer degrees to 360 (math.rad(3) ~= 3*(math.pi/180); helper-260).
	m.RawSetString("rad", L.NewFunction(func(L *glua.LState) int {
		L.Push(L.CheckNumber(1) * (math.Pi / 180))
		return 1
	}))
	m.RawSetString("deg", L.NewFunction(func(L *glua.LState) int {
		L.Push(L.CheckNumber(1) / (math.Pi / 180))
		return 1
	}))
}

// baseError is error(message [, level]) as Lua 5.1's: a string or number
// message gets the position of the function at level in front (1, the
// default, is the function that called error, 2 its caller...), and none when
// that is a Go function (pcall, a host function), a tail call's lost frame,
// or past the bottom of the stack; error() raises nil. gopher-lua's gave level
// 2 the position of level 1, blaming the error of an argument check
// (error("expected a number", 2)) on the check instead of the bad call.
func baseError(L *glua.LState) int {
	msg := L.Get(1)
	if level := optIntArg(L, 2, 1); level > 0 {
		switch msg.(type) {
		case glua.LString, glua.LNumber:
			msg = glua.LString(where(L, level) + glua.LVAsString(msg))
		}
	}
	L.Error(msg, 0)
	return 0
}

// where is Lua 5.1's luaL_where, called from a Go function: "script:line: "
// for the Lua function level calls above it, or "" when that is a Go
// function, a tail call's lost frame or none. Frames the package puts between
// Lua functions where Lua 5.1 has none are not levels: those of the .. operator
// (capConcat, which calls __concat) and untraced, which pcall, xpcall and load
// call through (an xpcall's handler too); the trampoline a coroutine starts in (see
// trampoline) is the bottom of its stack.
func where(L *glua.LState, level int) string {
	fl := &frameLayout
	if !fl.ok { // gopher-lua's frames cannot be read: levels as it counts them
		return whereByStack(L, level)
	}
	cf := currentFrame(L) // error's own
	for ; level > 0; level-- {
		fn, parent := frameOf(cf)
		if !fn.IsG {
			if tail := *(*int)(unsafe.Add(cf, fl.tail)); level <= tail {
				return "" // a frame a tail call replaced
			} else {
				level -= tail
			}
		}
		for cf = parent; cf != nil; cf = parent {
			if fn, parent = frameOf(cf); !fn.IsG || !plumbing(fn) {
				break
			}
		}
		if cf == nil || !fn.IsG && trampolineProtos[fn.Proto] {
			return ""
		}
	}
	fn, _ := frameOf(cf)
	pc := *(*int)(unsafe.Add(cf, fl.pc))
	if fn.IsG || pc < 1 || pc > len(fn.Proto.DbgSourcePositions) {
		return ""
	}
	return fn.Proto.SourceName + ":" + strconv.Itoa(fn.Proto.DbgSourcePositions[pc-1]) + ": "
}

// plumbing reports whether fn, a Go function, is one the package calls Lua
// through where Lua 5.1 calls it directly (see where).
func plumbing(fn *glua.LFunction) bool {
	p := reflect.ValueOf(fn.GFunction).Pointer()
	return p == untracedCode || p == concatCode
}

// The code of the plumbing functions, functions declared at the package's top
// level or a method's value, which has the code of every value of the method:
// the value of one has its code, which no other function has.
var (
	untracedCode = reflect.ValueOf(glua.LGFunction((*protectors)(nil).untraced)).Pointer()
	concatCode   = reflect.ValueOf(glua.LGFunction(capConcat)).Pointer()
)

// whereByStack is where as gopher-lua's debug functions see the stack, for a
// gopher-lua whose frames the package cannot read.
func whereByStack(L *glua.LState, level int) string {
	dbg, ok := L.GetStack(level)
	if !ok {
		return ""
	}
	if _, err := L.GetInfo("Sl", dbg, glua.LNil); err != nil || dbg.Source == "" || dbg.CurrentLine <= 0 {
		return ""
	}
	return dbg.Source + ":" + strconv.Itoa(dbg.CurrentLine) + ": "
}

// baseToNumber is tonumber(e [, base]) as Lua 5.1's. In base 10 (the default) a
// string reads as the arithmetic operators read it in Lua 5.1 on Linux: a
// decimal number with an optional fraction and exponent ("1e+20", which
// tostring(1e20) gives, and ".5"), a hexadecimal one ("0x1F", "0x1.8p3"),
// "inf", "infinity" or "nan" in any case (tostring(1/0) gives "inf"), as C's
// strtod reads them, with an optional sign and between optional spaces. In another base from 2 to 36 it is an integer in
// that base (in base 16 after an optional 0x), as C's strtoul reads one,
// except that a minus sign makes it negative (5.1's wrapped it around the
// unsigned 64-bit integers). gopher-lua's read no exponent without a '.'
// ("1e2" was nil) and read a string with a '.' as decimal in any base.
func baseToNumber(L *glua.LState) int {
	base := optIntArg(L, 2, 10)
	if base == 10 {
		switch v := L.CheckAny(1).(type) {
		case glua.LNumber:
			L.Push(v)
		case glua.LString:
			L.Push(decimalNumber(string(v)))
		default:
			L.Push(glua.LNil)
		}
		return 1
	}
	s := L.CheckString(1)
	if base < 2 || base > 36 {
		L.ArgError(2, "base out of range")
	}
	digits, neg := cutSign(strings.Trim(s, cSpaces))
	if base == 16 {
		digits, _ = cutHex(digits)
	}
	L.Push(unsignedIn(digits, base, neg))
	return 1
}

// cSpaces are the bytes C's isspace reads as space, which Lua 5.1 allows
// around a number.
const cSpaces = " \t\n\v\f\r"

// decimalNumber is s read as a number in base 10, as glibc's strtod reads it
// for Lua 5.1, or nil.
func decimalNumber(s string) glua.LValue {
	s = strings.Trim(s, cSpaces)
	digits, neg := cutSign(s)
	sign := 1.0
	if neg {
		sign = -1
	}
	if hex, ok := cutHex(digits); ok {
		mant, exp, hasExp := strings.Cut(strings.Replace(hex, "P", "p", 1), "p")
		whole, frac, _ := strings.Cut(mant, ".")
		if whole+frac == "" || strings.Trim(whole+frac, "0123456789abcdefABCDEF") != "" || hasExp && !isExponent(exp) {
			return glua.LNil
		}
		if !hasExp {
			exp = "0"
		}
		f, _ := strconv.ParseFloat("0x"+mant+"p"+exp, 64) // rounded once, as strtod reads it past 2^64 too
		return glua.LNumber(sign * f)
	}
	switch word := strings.ToLower(digits); {
	case word == "inf" || word == "infinity":
		return glua.LNumber(sign * math.Inf(1))
	case word == "nan" || strings.HasPrefix(word, "nan(") && strings.HasSuffix(word, ")") &&
		strings.Trim(word[4:len(word)-1], "0123456789abcdefghijklmnopqrstuvwxyz_") == "":
		return glua.LNumber(math.Copysign(math.NaN(), sign))
	}
	if !isDecimal(digits) {
		return glua.LNil
	}
	f, _ := strconv.ParseFloat(s, 64) // beyond the floats: ±Inf, as C's strtod reads it
	return glua.LNumber(f)
}

// isExponent reports whether s is a C exponent's digits: an optional sign and
// one or more decimal digits.
func isExponent(s string) bool {
	s, _ = cutSign(s)
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// cutSign returns s without its sign, if it has one, and whether it was '-'.
func cutSign(s string) (string, bool) {
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		return rest, true
	}
	return strings.TrimPrefix(s, "+"), false
}

// cutHex returns s without its prefix 0x or 0X, and whether it had one.
func cutHex(s string) (string, bool) {
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		return s[2:], true
	}
	return s, false
}

// numeral is the number literal s, as the lexer took it, in the form
// gopher-lua's compiler reads as Lua 5.1 reads s: it read 0010 as octal (8,
// in 5.1 10) and a literal beyond the floats as NaN (1e400, in 5.1 inf).
// A literal neither reads (1e, 0x, 1e+), which gopher-lua's compiler made
// NaN, is malformed, as in 5.1: ok is false.
func numeral(s string) (_ string, ok bool) {
	if f, ok := decimalNumber(s).(glua.LNumber); ok {
		return strconv.FormatFloat(float64(f), 'g', -1, 64), true
	}
	return s, false
}

// isDecimal reports whether s is digits with an optional fraction and exponent,
// at least one digit before the exponent: 1, 1.5, .5, 5., 1e9, 1.5E-3.
func isDecimal(s string) bool {
	i, n := 0, 0
	digits := func() {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, n = i+1, n+1
		}
	}
	digits()
	if i < len(s) && s[i] == '.' {
		i++
		digits()
	}
	if n == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		n = 0
		digits()
		if n == 0 {
			return false
		}
	}
	return i == len(s)
}

// unsignedIn is digits, an integer in base, negated if neg, as a number (past
// the 64-bit integers, their largest, as C's strtoul reads it), or nil.
func unsignedIn(digits string, base int, neg bool) glua.LValue {
	n, err := strconv.ParseUint(digits, base, 64) // with a base given, no sign, prefix or _
	if err != nil && n != math.MaxUint64 {
		return glua.LNil
	}
	if neg {
		return -glua.LNumber(n)
	}
	return glua.LNumber(n)
}
