package lua

import (
	"math"
	"strconv"
	"strings"

	glua "github.com/yuin/gopher-lua"
)

// installBase replaces the base functions error and tonumber, and math.huge,
// where gopher-lua's differ from Lua 5.1's in ways a script notices: its
// math.huge was the largest float, so that 1/0 == math.huge was false.
func installBase(L *glua.LState) {
	L.SetGlobal("error", L.NewFunction(baseError))
	L.SetGlobal("tonumber", L.NewFunction(baseToNumber))
	L.GetGlobal("math").(*glua.LTable).RawSetString("huge", glua.LNumber(math.Inf(1)))
}

// baseError is error(message [, level]) as Lua 5.1's: a string message gets the
// position of the function at level (1, the default, is the function that
// called error, 2 its caller...) in front, and none when that function is a Go
// function (pcall, a host function) or there is no such level. gopher-lua's
// gave level 2 the position of level 1, blaming the error of an argument check
// (error("expected a number", 2)) on the check instead of the bad call.
func baseError(L *glua.LState) int {
	msg := L.CheckAny(1)
	if s, ok := msg.(glua.LString); ok {
		if level := L.OptInt(2, 1); level > 0 {
			msg = glua.LString(where(L, level) + string(s))
		}
	}
	L.Error(msg, 0)
	return 0
}

// where is Lua 5.1's luaL_where: "script:line: " for the Lua function running
// level calls above the current (Go) function, or "" when it is a Go function
// or there is none.
func where(L *glua.LState, level int) string {
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
// string reads as the arithmetic operators read it in Lua 5.1: a decimal number
// with an optional fraction and exponent ("1e+20", which tostring(1e20) gives,
// and ".5"), or a hexadecimal integer ("0x1F"), between optional spaces; "inf"
// and "nan" are not numbers. In another base from 2 to 36 it is an integer in
// that base, with an optional sign. gopher-lua's read no exponent without a
// '.' ("1e2" was nil) and read a string with a '.' as decimal in any base.
func baseToNumber(L *glua.LState) int {
	base := L.OptInt(2, 10)
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
	L.Push(integerIn(strings.Trim(s, cSpaces), base))
	return 1
}

// cSpaces are the bytes C's isspace reads as space, which Lua 5.1 allows
// around a number.
const cSpaces = " \t\n\v\f\r"

// decimalNumber is s read as a number in base 10, or nil.
func decimalNumber(s string) glua.LValue {
	s = strings.Trim(s, cSpaces)
	digits, neg := strings.CutPrefix(s, "-")
	if !neg {
		digits = strings.TrimPrefix(s, "+")
	}
	if hex, ok := strings.CutPrefix(strings.ToLower(digits), "0x"); ok {
		n := integerIn(hex, 16)
		if f, ok := n.(glua.LNumber); ok && neg {
			return -f
		}
		return n
	}
	if !isDecimal(digits) {
		return glua.LNil
	}
	f, _ := strconv.ParseFloat(s, 64) // beyond the floats: ±Inf, as C's strtod reads it
	return glua.LNumber(f)
}

// numeral is the number literal s, as the lexer took it, in the form
// gopher-lua's compiler reads as Lua 5.1 reads s: it read 010 as octal (8, in
// 5.1 10) and a literal beyond the floats as NaN (1e400, in 5.1 inf).
func numeral(s string) string {
	if f, ok := decimalNumber(s).(glua.LNumber); ok {
		return strconv.FormatFloat(float64(f), 'g', -1, 64)
	}
	return s
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

// integerIn is s, an optionally signed integer in base, as a number (one past
// the 64-bit integers reading as their largest, as C's strtoul has it), or nil.
func integerIn(s string, base int) glua.LValue {
	digits, neg := strings.CutPrefix(s, "-")
	if !neg {
		digits = strings.TrimPrefix(s, "+")
	}
	n, err := strconv.ParseUint(digits, base, 64)
	if err != nil && n != math.MaxUint64 {
		return glua.LNil
	}
	if neg {
		return -glua.LNumber(n)
	}
	return glua.LNumber(n)
}
