package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hotscript/hotscript"
	"github.com/hotscript/hotscript/watch"
)

// printer writes the one-line reports of run and demo: reloads, loads, errors, each
// starting with the time of day (unless the clock is off) and the script, in aligned
// columns.
type printer struct {
	mu       sync.Mutex // one line at a time: scripts print from reload goroutines
	w        io.Writer
	indent   string // before every line
	st       style
	prefixes []string // the scripts' directory, as paths under it start
	nameW    int      // width of the script column, the longest name seen
	clock    bool     // lines start with the time of day; set with showClock
	now      func() time.Time
}

// newPrinter returns a printer that shows paths under dir relative to it, whether
// they start as dir was given or from the root.
func newPrinter(w io.Writer, st style, dir string) *printer {
	p := &printer{w: w, st: st, clock: true, now: time.Now}
	add := func(d string) {
		if d != "" && d != "." && !slices.Contains(p.prefixes, d+string(filepath.Separator)) {
			p.prefixes = append(p.prefixes, d+string(filepath.Separator))
		}
	}
	if abs, err := filepath.Abs(dir); err == nil {
		add(abs)
	}
	if dir != "" {
		add(filepath.Clean(dir))
	}
	// The longest first: where two match ("/w/game/" and "game/"), the whole
	// directory goes, and only it.
	slices.SortFunc(p.prefixes, func(a, b string) int { return len(b) - len(a) })
	return p
}

// showClock turns the time of day at the start of lines on or off.
func (p *printer) showClock(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clock = on
}

// name is how a script's name, or a message naming scripts, is shown: paths
// under the directory relative to it.
func (p *printer) name(s string) string { return trimDir(printable(s), p.prefixes) }

// logLines are the lines of what a script printed, each printable: one for
// every line, an empty one included (print("")), a line break at the end aside.
func logLines(msg string) []string {
	lines := strings.Split(strings.TrimSuffix(msg, "\n"), "\n")
	for i, l := range lines {
		lines[i] = printable(strings.TrimSuffix(l, "\r"))
	}
	return lines
}

// bidi reports whether r reorders the text after it (an embedding, override or
// isolate of Unicode's bidirectional algorithm): a name holding one can show
// other text than it is.
func bidi(r rune) bool { return '\u202a' <= r && r <= '\u202e' || '\u2066' <= r && r <= '\u2069' }

// printable is s fit for one line of a terminal: a line break, another control
// character (an escape sequence would act on the terminal), a byte that is not
// UTF-8 or a bidirectional override is written as Go writes it in a string
// literal (\n, \x1b, \x8f, \u202e). Tabs stay.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || r != '\t' && unicode.IsControl(r) || bidi(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r != '\t' && unicode.IsControl(r) || bidi(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// trimDir removes the first of prefixes, directories ending in a separator, that
// starts a path in s, where one starts: at the start of s or after a character
// that no path holds unquoted (a space, a quote, a parenthesis...), so that "a/"
// inside "data/a/x" stays. A path loses one prefix at most: "game/game/x.lua"
// under "game/" is "game/x.lua".
func trimDir(s string, prefixes []string) string {
	var b strings.Builder
	last := 0 // s[last:] is not written yet
	for i := 0; i < len(s); i++ {
		if i > 0 && !strings.ContainsRune(" \t\n'\"`(<[{=,;:", rune(s[i-1])) {
			continue
		}
		for _, prefix := range prefixes {
			if strings.HasPrefix(s[i:], prefix) {
				b.WriteString(s[last:i])
				last = i + len(prefix)
				i = last - 1 // the byte before the next start is a separator: no start
				break
			}
		}
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// seeName widens the script column for name.
func (p *printer) seeName(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nameW = max(p.nameW, width(p.name(name)))
}

// print writes what a script printed or logged, a line of output for each
// of its lines; safe for concurrent use.
func (p *printer) print(script, msg string) {
	for _, l := range logLines(msg) {
		p.line(script, "", p.st.dim("log"), l)
	}
}

// line writes one report: time (if clock), script, version, status, then the
// details.
func (p *printer) line(script, version, status string, details ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nameW = max(p.nameW, width(p.name(script)))
	var b strings.Builder
	b.WriteString(p.indent)
	if p.clock {
		b.WriteString(p.st.dim(clock(p.now())))
		b.WriteString("  ")
	}
	b.WriteString(pad(p.st.name(p.name(script)), p.nameW))
	b.WriteString("  ")
	b.WriteString(pad(version, len("v10 -> v11")))
	b.WriteString("  ")
	b.WriteString(pad(status, len("superseded")))
	for _, d := range details {
		if d != "" {
			b.WriteString("  ")
			b.WriteString(d)
		}
	}
	fmt.Fprintln(p.w, strings.TrimRight(b.String(), " "))
}

// event writes the line for one host event:
//
//	12:00:01.234  enemy.wasm  v2 -> v3    committed   compile 21.3ms  swap 14µs  carried hp,x  +fire()
//	12:00:02.001  enemy.lua   v3          rejected    enemy.lua:12: unexpected symbol near 'end'  (v3 keeps running)
func (p *printer) event(ev hotscript.Event) {
	st := p.st
	from, to := fmt.Sprintf("v%d", ev.From), fmt.Sprintf("v%d", ev.To)
	timing := func() string {
		if ev.Kind == hotscript.Loaded {
			return st.dim("compile " + duration(ev.CompileTime)) // nothing to swap
		}
		return st.dim("compile " + duration(ev.CompileTime) + "  swap " + duration(ev.SwapTime))
	}
	switch ev.Kind {
	case hotscript.Loaded:
		p.line(ev.Script, to, st.good("loaded"), timing(), exportList(ev.Diff.Exports.Added))
	case hotscript.Committed:
		p.line(ev.Script, from+" -> "+to, st.good("committed"), timing(), p.carried(ev), p.diff(ev.Diff))
	case hotscript.Reverted:
		p.line(ev.Script, from+" -> "+to, st.warn("reverted"), timing(), p.carried(ev), p.diff(ev.Diff))
	case hotscript.Rejected:
		head, _ := p.describe(ev.Script, ev.Err)
		keeps := fmt.Sprintf("(%s keeps running)", from)
		if ev.From == 0 {
			keeps, from = "(not loaded)", "-"
		}
		p.line(ev.Script, from, st.bad("rejected"), p.name(head), st.dim(keeps))
	case hotscript.Superseded:
		why := fmt.Sprintf("a newer save replaced %s before it went live", to)
		if ev.To == 0 { // superseded while queued: it had no number yet
			why = "a newer save came before this one was staged"
		}
		p.line(ev.Script, from, st.dim("superseded"), st.dim(why))
	case hotscript.Removed:
		// A rename is told apart only once the new name appears, a line later
		// (helper-211: "file deleted" before "its file was renamed").
		p.line(ev.Script, from, st.warn("removed"), fmt.Sprintf("file deleted or moved away; %s keeps running", from))
	case hotscript.Restored:
		p.line(ev.Script, from, st.good("restored"), fmt.Sprintf("the file holds %s's code again; %s runs on", from, from))
	case hotscript.Unloaded:
		if ev.MovedTo == "" {
			p.line(ev.Script, from, st.warn("unloaded"), "")
			break
		}
		p.line(ev.Script, from, st.warn("unloaded"), "its file was renamed or moved: its code runs on as "+p.name(ev.MovedTo)+", whose line says how")
	case hotscript.WatchError:
		if errors.Is(ev.Err, watch.ErrDirRemoved) {
			p.line(ev.Script, "", st.warn("unwatched"), "directory removed; the scripts keep running, and it is watched again once it is back")
			break
		}
		head, _ := firstLine(ev.Err.Error())
		p.line(ev.Script, "", st.warn("watch"), p.name(strings.TrimPrefix(head, "watch: ")))
	case hotscript.WatchResumed:
		p.line(ev.Script, "", st.good("watching"), "directory back: its scripts are loaded again and reload on save")
	default:
		p.line(ev.Script, to, ev.Kind.String(), ev.String())
	}
}

// failure writes the line for a call that failed, and how many other errors,
// held back, came since the line before it.
func (p *printer) failure(script string, version int, err error, others int) {
	head, _ := p.describe(script, err)
	text := p.name(head)
	if others > 0 {
		text += " " + p.st.dim(fmt.Sprintf("(and %s since the line before)", plural(int64(others), "other error")))
	}
	p.line(script, fmt.Sprintf("v%d", version), p.st.bad("error"), text)
}

// describe is describe naming a build's files by their absolute paths, which name
// then shows relative to the directory as it shows the scripts: named relative to
// the working directory, the source of script d3/bad.wasm under DIR /tmp/x/d3
// would read x/d3/d3/bad.c when run from /tmp.
func (p *printer) describe(script string, err error) (string, []string) {
	return describeNaming(func(path string) string { return path }, script, err)
}

// note writes a line about a script that is not an event, e.g. "no update(dt)".
func (p *printer) note(script string, version int, status, text string) {
	p.line(script, fmt.Sprintf("v%d", version), status, text)
}

// carried says which state went into the new version, and why not all of it
// did (the error said as a rejection's is, its first line).
func (p *printer) carried(ev hotscript.Event) string {
	var why string
	if ev.Reset != nil {
		why, _ = p.describe(ev.Script, ev.Reset)
		why = p.name(why)
	}
	switch {
	case ev.PastFailingOnSave(): // the fields carried
		what := "carried nothing"
		if len(ev.Carried) > 0 {
			what = "carried " + printable(strings.Join(ev.Carried, ","))
		}
		return what + ", not what on_save returns: " + why
	case ev.Reset != nil:
		return "state reset: " + why
	case len(ev.Carried) == 0:
		return "carried nothing"
	}
	return "carried " + printable(strings.Join(ev.Carried, ","))
}

// diff is the compact interface diff: +added -removed ~old->new, imports marked.
func (p *printer) diff(d hotscript.Diff) string {
	var parts []string
	add := func(c hotscript.Changes, prefix string) {
		for _, f := range c.Added {
			parts = append(parts, p.st.good("+"+prefix+printable(f.String())))
		}
		for _, f := range c.Removed {
			parts = append(parts, p.st.bad("-"+prefix+printable(f.String())))
		}
		for _, ch := range c.Changed {
			parts = append(parts, p.st.warn("~"+prefix+printable(ch.Old.String()+"->"+ch.New.String())))
		}
	}
	add(d.Exports, "")
	add(d.Imports, "import ")
	return strings.Join(parts, " ")
}

// exportList names a first version's exports, at most a handful; inspect shows
// their signatures.
func exportList(fs []hotscript.Func) string {
	const most = 6
	if len(fs) == 0 {
		return ""
	}
	var names []string
	for i, f := range fs {
		if i == most {
			names = append(names, fmt.Sprintf("and %d more", len(fs)-most))
			break
		}
		names = append(names, printable(f.Name))
	}
	return "exports " + strings.Join(names, ", ")
}
