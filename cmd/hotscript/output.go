package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"
)

// style paints text with ANSI colours, or leaves it alone when colour is off.
type style struct{ color bool }

// styleFor turns colour on only for a terminal: w must be an *os.File whose mode is a
// character device, NO_COLOR (https://no-color.org) must be unset or empty, and TERM
// must not be "dumb". Tests write to buffers and so never see escape codes.
func styleFor(w io.Writer) style {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return style{}
	}
	fi, err := f.Stat()
	if err != nil {
		return style{}
	}
	return style{color: fi.Mode()&os.ModeCharDevice != 0}
}

func (s style) paint(code, text string) string {
	if !s.color || text == "" {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

func (s style) good(t string) string { return s.paint("32", t) }   // green
func (s style) bad(t string) string  { return s.paint("31", t) }   // red
func (s style) warn(t string) string { return s.paint("33", t) }   // yellow
func (s style) dim(t string) string  { return s.paint("2", t) }    // faint
func (s style) bold(t string) string { return s.paint("1", t) }    // bold
func (s style) name(t string) string { return s.paint("36", t) }   // cyan
func (s style) step(t string) string { return s.paint("1;34", t) } // bold blue

// width is the number of runes a person sees (colour codes excluded).
func width(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] == 0x1b {
			if j := strings.IndexByte(s[i:], 'm'); j >= 0 {
				i += j + 1
				continue
			}
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return n
}

// pad right-pads s with spaces to n visible columns.
func pad(s string, n int) string {
	if w := width(s); w < n {
		return s + strings.Repeat(" ", n-w)
	}
	return s
}

// writeColumns writes rows with every column but the last padded to its widest cell,
// columns separated by sep. Cells may carry colour; widths ignore it.
func writeColumns(w io.Writer, rows [][]string, sep string) {
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], width(c))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			if i > 0 {
				b.WriteString(sep)
			}
			if i < len(r)-1 {
				c = pad(c, widths[i])
			}
			b.WriteString(c)
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// duration prints d the way a person reads timings: 21.3ms, 14µs, 1.20s.
func duration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d.Nanoseconds())
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

// clock is the time of day in the reload lines: 12:00:01.234.
func clock(t time.Time) string { return t.Format("15:04:05.000") }

// plural returns "1 frame", "2 frames".
func plural(n int64, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
