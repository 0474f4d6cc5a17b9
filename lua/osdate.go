package lua

import (
	"fmt"
	"math"
	"strings"
	"time"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
)

// installOSDate replaces os.date, os.time and os.difftime of the os library
// (LibOS) with Lua 5.1's, as it runs on Linux: gopher-lua's os.date spelled
// %a as "mon" on every day, %c and %x wrong (so os.date() too), copied %j, %D,
// %e, %T, %u, %U, %V and more through as they were, and gave a *t table no
// yday or isdst; its os.time ignored isdst and made up missing fields; its
// os.difftime took two integers (helper-260).
func installOSDate(L *glua.LState, os *glua.LTable) {
	os.RawSetString("date", L.NewFunction(osDate))
	os.RawSetString("time", L.NewFunction(osTime))
	os.RawSetString("difftime", L.NewFunction(func(L *glua.LState) int {
		var t1 int64 // times as C's time_t holds them: whole seconds
		if L.Get(2) != glua.LNil {
			t1 = int64Arg(L, 2)
		}
		L.Push(glua.LNumber(float64(int64Arg(L, 1)) - float64(t1)))
		return 1
	}))
}

// osDate is os.date([format [, time]]): format "%c" by default, in UTC if it
// starts with "!", "*t" for a table of the fields; time now by default.
func osDate(L *glua.LState) int {
	format := "%c"
	if L.Get(1) != glua.LNil {
		format = L.CheckString(1)
	}
	t := time.Now()
	if L.Get(2) != glua.LNil {
		t = time.Unix(int64(clampTime(float64(L.CheckNumber(2)))), 0)
	}
	utc := strings.HasPrefix(format, "!")
	if utc {
		format, t = format[1:], t.UTC()
	} else {
		t = t.Local()
	}
	if format == "*t" {
		tb := L.NewTable()
		for _, f := range []struct {
			k string
			v int
		}{{"year", t.Year()}, {"month", int(t.Month())}, {"day", t.Day()}, {"hour", t.Hour()}, {"min", t.Minute()},
			{"sec", t.Second()}, {"wday", int(t.Weekday()) + 1}, {"yday", t.YearDay()}} {
			tb.RawSetString(f.k, glua.LNumber(f.v))
		}
		tb.RawSetString("isdst", glua.LBool(!utc && t.IsDST()))
		L.Push(tb)
		return 1
	}
	most := uint64(len(format)) * maxConversion
	budgetOf(L).alloc(L, most)
	checkSize(L, most)
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		if format[i] != '%' || i+1 == len(format) {
			b.WriteByte(format[i])
			continue
		}
		i++
		b.WriteString(strftime(t, format[i], utc))
	}
	L.Push(glua.LString(b.String()))
	return 1
}

// maxConversion is the most bytes one conversion of strftime writes (%c).
const maxConversion = 32

// clampTime holds a time in seconds to what time.Unix takes and C's time_t
// holds, truncated as C converts it.
func clampTime(sec float64) float64 {
	switch {
	case math.IsNaN(sec):
		return 0
	case sec > 1<<62:
		return 1 << 62
	case sec < -(1 << 62):
		return -(1 << 62)
	}
	return math.Trunc(sec)
}

// strftime is C's strftime, in the C locale as glibc writes it, of the one
// conversion c: what a conversion it does not know is, "%" and c, is kept.
func strftime(t time.Time, c byte, utc bool) string {
	year, week := t.ISOWeek()
	switch c {
	case 'a':
		return t.Format("Mon")
	case 'A':
		return t.Format("Monday")
	case 'b', 'h':
		return t.Format("Jan")
	case 'B':
		return t.Format("January")
	case 'c':
		return fmt.Sprintf("%s %s %2d %02d:%02d:%02d %d", t.Format("Mon"), t.Format("Jan"), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Year())
	case 'C':
		return fmt.Sprintf("%02d", floorDiv(t.Year(), 100))
	case 'd':
		return fmt.Sprintf("%02d", t.Day())
	case 'D', 'x':
		return fmt.Sprintf("%02d/%02d/%02d", int(t.Month()), t.Day(), floorMod(t.Year(), 100))
	case 'e':
		return fmt.Sprintf("%2d", t.Day())
	case 'F':
		return fmt.Sprintf("%d-%02d-%02d", t.Year(), int(t.Month()), t.Day())
	case 'g':
		return fmt.Sprintf("%02d", floorMod(year, 100))
	case 'G':
		return fmt.Sprint(year)
	case 'H':
		return fmt.Sprintf("%02d", t.Hour())
	case 'I':
		return fmt.Sprintf("%02d", hour12(t))
	case 'j':
		return fmt.Sprintf("%03d", t.YearDay())
	case 'k':
		return fmt.Sprintf("%2d", t.Hour())
	case 'l':
		return fmt.Sprintf("%2d", hour12(t))
	case 'm':
		return fmt.Sprintf("%02d", int(t.Month()))
	case 'M':
		return fmt.Sprintf("%02d", t.Minute())
	case 'n':
		return "\n"
	case 'p':
		return t.Format("PM")
	case 'P':
		return strings.ToLower(t.Format("PM"))
	case 'r':
		return fmt.Sprintf("%02d:%02d:%02d %s", hour12(t), t.Minute(), t.Second(), t.Format("PM"))
	case 'R':
		return fmt.Sprintf("%02d:%02d", t.Hour(), t.Minute())
	case 's': // glibc's mktime of the fields, as local time, also after "!" (then not daylight saving time)
		dst := !utc && t.IsDST()
		return fmt.Sprint(mktime(time.Local, t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second(), &dst).Unix())
	case 'S':
		return fmt.Sprintf("%02d", t.Second())
	case 't':
		return "\t"
	case 'T', 'X':
		return fmt.Sprintf("%02d:%02d:%02d", t.Hour(), t.Minute(), t.Second())
	case 'u':
		return fmt.Sprint((int(t.Weekday())+6)%7 + 1)
	case 'U':
		return fmt.Sprintf("%02d", (t.YearDay()+6-int(t.Weekday()))/7)
	case 'V':
		return fmt.Sprintf("%02d", week)
	case 'w':
		return fmt.Sprint(int(t.Weekday()))
	case 'W':
		return fmt.Sprintf("%02d", (t.YearDay()+6-(int(t.Weekday())+6)%7)/7)
	case 'y':
		return fmt.Sprintf("%02d", floorMod(t.Year(), 100))
	case 'Y':
		return fmt.Sprint(t.Year())
	case 'z':
		return t.Format("-0700")
	case 'Z':
		if utc {
			return "GMT" // glibc's name of gmtime's zone
		}
		name, _ := t.Zone()
		return name
	case '%':
		return "%"
	}
	return "%" + string(c)
}

// hour12 is t's hour on a 12-hour clock, 1 to 12.
func hour12(t time.Time) int {
	if h := t.Hour() % 12; h != 0 {
		return h
	}
	return 12
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func floorMod(a, b int) int { return a - floorDiv(a, b)*b }

// osTime is os.time([table]): now, or the local time the table's fields give
// (day, month and year required; hour 12, min and sec 0 by default; fields out
// of range carried over, as C's mktime does), with its isdst, when it is a
// boolean, taken as whether the fields are daylight saving time, as glibc
// takes it.
func osTime(L *glua.LState) int {
	if L.Get(1) == glua.LNil {
		L.Push(glua.LNumber(time.Now().Unix()))
		return 1
	}
	tb := L.CheckTable(1)
	field := func(k string, def int) int { // a number, or a string that reads as one (lua_isnumber)
		v := L.GetField(tb, k)
		if s, ok := v.(glua.LString); ok {
			v = decimalNumber(string(s))
		}
		if n, ok := v.(glua.LNumber); ok {
			return int(int32(int64(clampTime(float64(n))))) // as C's Lua makes it an int (helper-262: year 1e12 overflowed)
		}
		if def < 0 {
			L.RaiseError("field '%s' missing in date table", k)
		}
		return def
	}
	sec, min, hour := field("sec", 0), field("min", 0), field("hour", 12)
	day, month, year := field("day", -1), field("month", -1), field("year", -1)
	var dst *bool // nil, or what isdst is as a boolean (0 is true, as in C's Lua)
	if v := L.GetField(tb, "isdst"); v != glua.LNil {
		b := glua.LVAsBool(v)
		dst = &b
	}
	t := mktime(time.Local, year, month, day, hour, min, sec, dst).Unix()
	if t == -1 { // mktime's error, which 5.1 returns as nil
		L.Push(glua.LNil)
		return 1
	}
	L.Push(glua.LNumber(t))
	return 1
}

// mktime is C's mktime, as glibc's: the time in loc of the fields, carried over
// where out of range, in daylight saving time or not as dst says, if it is not
// nil. Fields in the other of standard and daylight saving time than the zone
// has then take the offset of the nearest time in that other, or are moved by
// an hour where the zone has none. Fields in a gap the zone
// skips (2:30 as clocks spring forward) are taken in the offset before it, or
// after it if dst says so (helper-261: time.Date's choice is its own).
func mktime(loc *time.Location, year, month, day, hour, min, sec int, dst *bool) time.Time {
	wall := time.Date(year, time.Month(month), day, hour, min, sec, 0, time.UTC)
	t := time.Date(year, time.Month(month), day, hour, min, sec, 0, loc)
	if !time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC).Equal(wall) {
		near := -24 * time.Hour
		if dst != nil && *dst {
			near = 24 * time.Hour
		}
		_, offset := wall.Add(near).In(loc).Zone()
		return wall.Add(-time.Duration(offset) * time.Second)
	}
	if dst == nil || *dst == t.IsDST() {
		return t
	}
	// glibc's probe for the nearest time with the isdst asked for, a week or
	// so apart each way, up to half of the longest stretch without a change
	// (helper-262: half a year away missed Dublin's and Casablanca's
	// daylight saving time behind standard time, Lord Howe's half hour).
	const stride, bound = 601200, 457243200/2 + 601200
	for delta := stride; delta < bound; delta += stride {
		for _, d := range [2]int{-delta, delta} {
			if o := t.Add(time.Duration(d) * time.Second).In(loc); o.IsDST() == *dst {
				_, offset := o.Zone()
				return wall.Add(-time.Duration(offset) * time.Second)
			}
		}
	}
	if *dst { // none: an hour, as glibc assumes
		return t.Add(-time.Hour)
	}
	return t.Add(time.Hour)
}
