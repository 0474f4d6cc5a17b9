package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hotscript/hotscript"
	"github.com/hotscript/hotscript/lua"
	"github.com/hotscript/hotscript/wasm"
	"github.com/hotscript/hotscript/watch"
)

// describe formats err for a person: the place first (file:line for Lua and for build
// tools, the script and function for WASM), then what went wrong, on one line. detail
// holds what follows it, such as a stack trace, one line each. script names the
// script err is about, if the caller knows it: it places an error that names no
// script in a structured form (a self-check that returned a failure).
//
// The packages' own Error methods lead with the package and the operation
// ("lua: reload enemy.lua: enemy.lua:9: ..."), which suits logs; a person at a
// terminal wants the place first, so describe reads the structured errors instead.
// A failed state migration or self-check says so after the place:
// "enemy.wasm: state migration failed: set_state: trap: unreachable".
//
// A build's source is named relative to the working directory, as a person typing
// a command names files.
func describe(script string, err error) (head string, detail []string) {
	return describeNaming(shortPath, script, err)
}

// describeNaming is describe naming a build's source, and the files of its log,
// by short(path) of their absolute path: run's printer keeps them absolute, and
// names everything under DIR relative to it alike.
func describeNaming(short func(string) string, script string, err error) (head string, detail []string) {
	if err == nil {
		return "", nil
	}
	if na, ok := errors.AsType[*namedAs](err); ok {
		head, detail = describeNaming(short, script, na.err)
		if rest, ok := strings.CutPrefix(head, na.script+": "); ok {
			head = na.file + ": " + rest
		}
		return head, detail
	}
	var (
		contract *hotscript.ContractError
		lerr     *lua.Error
		werr     *wasm.Error
		berr     *watch.BuildError
		perr     *fs.PathError
		place    string
		msg      string
	)
	switch {
	case errors.As(err, &contract):
		return contract.Script + ": breaks its contract: " + strings.Join(contract.Violations, "; "), nil
	case errors.As(err, &berr):
		return describeBuild(berr, short)
	case errors.As(err, &perr):
		return perr.Path + ": " + perr.Err.Error(), nil
	case errors.As(err, &lerr):
		place, msg, detail = describeLua(lerr)
	case errors.As(err, &werr):
		place, msg, detail = describeWASM(werr)
	}
	for _, step := range []error{hotscript.ErrMigration, hotscript.ErrSelfCheck} {
		if !errors.Is(err, step) {
			continue
		}
		if msg == "" { // no engine error inside: the step's own words
			place, msg = script, stepCause(err, step)
		}
		msg = strings.TrimPrefix(step.Error(), "hotscript: ") + ": " + msg
	}
	switch {
	case msg == "":
		return firstLine(err.Error())
	case place == "":
		return msg, detail
	}
	return place + ": " + msg, detail
}

// stepCause is what a failed step (step being ErrMigration or ErrSelfCheck) says
// about itself, without the Host's operation and the step's name: the error the
// step wraps ("on_reload on v2 returned false"), or the words after the sentinel
// of an error made with fmt.Errorf("%w: ...", step).
func stepCause(err, step error) string {
	for e := err; e != nil; e = errors.Unwrap(e) {
		inner := errors.Unwrap(e)
		switch {
		case inner == step:
			return strings.TrimPrefix(e.Error(), step.Error()+": ")
		case inner != nil && errors.Is(e, step) && !errors.Is(inner, step):
			return inner.Error()
		}
	}
	return err.Error()
}

// describeLua places a Lua error at the script:line Lua puts before its message, or
// at the script.
func describeLua(e *lua.Error) (place, msg string, detail []string) {
	msg = e.Message
	if msg == "" && e.Kind != nil {
		msg = strings.TrimPrefix(e.Kind.Error(), "lua: ")
	}
	place = e.Script
	if rest, ok := strings.CutPrefix(msg, e.Script+":"); ok { // "enemy.lua:12: attempt to ..."
		line, text, ok := strings.Cut(rest, ": ")
		if _, err := strconv.Atoi(line); ok && err == nil {
			place, msg = e.Script+":"+line, text
		}
	}
	msg = strings.TrimPrefix(msg, e.Script+": ")
	if e.Function != "" && e.Function != "main chunk" {
		msg += " (in " + e.Function + ")"
	}
	for _, l := range strings.Split(strings.TrimSpace(e.Traceback), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			detail = append(detail, l)
		}
	}
	return place, msg, detail
}

// describeWASM places a WASM error at its script: "enemy.wasm", "update: trap:
// unreachable".
func describeWASM(e *wasm.Error) (place, msg string, detail []string) {
	var parts []string
	if e.Func != "" {
		parts = append(parts, e.Func)
	}
	kind := ""
	if e.Kind != nil {
		kind = strings.TrimPrefix(e.Kind.Error(), "wasm: ")
	}
	cause := ""
	if e.Err != nil {
		cause, detail = firstLine(e.Err.Error())
		cause = strings.TrimPrefix(cause, "wasm: ")
	}
	switch {
	case kind == "":
	case strings.HasPrefix(cause, kind):
		// The cause already says what kind of failure it is.
	default:
		parts = append(parts, kind)
	}
	if cause != "" {
		parts = append(parts, cause)
	}
	msg = strings.Join(parts, ": ")
	trace := make([]string, len(e.Trace))
	for i, frame := range e.Trace {
		trace[i] = besideModule(e.Script, frame)
	}
	if at := traceSource(trace); at != "" { // a module built with debug information
		msg += " (at " + at + ")"
	}
	return e.Script, msg, append(detail, trace...)
}

// besideModule is frame with its source position, if it has one relative to
// the directory the source was built in (the module's, under run and call:
// "t.c:5:11"), made a path from there ("one/t.c:5:11"), as other messages
// name files.
func besideModule(module, frame string) string {
	m := sourceFrame.FindStringSubmatchIndex(frame)
	if m == nil || filepath.IsAbs(frame[m[2]:m[3]]) {
		return frame
	}
	return frame[:m[2]] + filepath.Join(filepath.Dir(module), frame[m[2]:m[3]]) + frame[m[3]:]
}

// sourceFrame is a frame's source position in a wasm stack trace, "enemy.c:10:11",
// after its code offset where the module is not metered ("0x46f: enemy.c:10:11",
// "0x1a: enemy.c:4:11 (inlined)").
var sourceFrame = regexp.MustCompile(`^(?:0x[0-9a-f]+: )?(.+:\d+(?::\d+)?)(?: \(inlined\))?$`)

// traceSource returns the source position of the innermost frame of trace that
// has one, or "": run's one line about a trap says where it was, as a Lua
// error's does.
func traceSource(trace []string) string {
	for _, frame := range trace {
		if m := sourceFrame.FindStringSubmatch(frame); m != nil {
			return m[1]
		}
	}
	return ""
}

// linkError is how a linker reports an object: "wasm-ld: error: /tmp/w-49b4cd.o:
// undefined symbol: f", where clang named the object after the source, w.c.
var linkError = regexp.MustCompile(`^(\S+): error: (\S+\.o): (.*)$`)

// tally is clang's last line, "1 warning and 2 errors generated.", which belongs to
// no diagnostic.
var tally = regexp.MustCompile(`^\d+ (?:warning|error)s?(?: and \d+ (?:warning|error)s?)? generated\.$`)

// describeBuild leads with the line that says what failed (BuildError.Summary: the
// first error, not a warning before it) and names the source as the user did: tools
// name it by the absolute path they were given, and a linker by clang's temporary
// object. The heading's own source, caret and note lines come right under it, then
// the rest of the log in order: left in place, they would read as part of the
// diagnostic before the heading.
func describeBuild(e *watch.BuildError, short func(string) string) (string, []string) {
	src, log := short(e.Path), strings.TrimSpace(e.Log)
	if log == "" { // the tool said nothing, or did not run: name the source
		return firstLine(src + ": " + strings.TrimPrefix(e.Err.Error(), "watch: "))
	}
	lines := strings.Split(log, "\n")
	summary := e.Summary()
	at := max(0, slices.IndexFunc(lines, func(l string) bool { return strings.TrimSpace(l) == summary }))
	start, end := at, at+1 // the heading's report: lines[start:end]
	for start > 0 && strings.HasPrefix(lines[start-1], includedFrom) {
		start--
	}
	for end < len(lines) && !startsReport(lines[end]) {
		end++
	}
	head := nameSource(e.Path, summary, short)
	if !strings.HasPrefix(head, src) && !strings.HasPrefix(head, filepath.Base(e.Path)) {
		head = src + ": " + head
	}
	var detail []string
	for _, l := range slices.Concat(lines[start:at], lines[at+1:end], lines[:start], lines[end:]) {
		// Indentation stays: a caret line points into the source line above it.
		if l = strings.TrimRight(l, " \t\r"); l != "" {
			detail = append(detail, nameSource(e.Path, l, short))
		}
	}
	return head, detail
}

// includedFrom begins the lines with which clang leads a diagnostic in a header:
// "In file included from w.c:1:".
const includedFrom = "In file included from "

// startsReport reports whether a build log's line begins a report of its own rather
// than continuing the one above it.
func startsReport(line string) bool {
	line = strings.TrimRight(line, " \t\r")
	_, diagnostic := watch.Diagnostic(line) // the source, caret and note lines after one belong to it
	return diagnostic || tally.MatchString(line) || strings.HasPrefix(line, includedFrom)
}

// fileRef is the file that a diagnostic (a note too) or clang's "In file
// included from" line begins with.
var fileRef = regexp.MustCompile(`^(?:` + includedFrom + `([^\s:]+):\d|([^\s:]+):\d+(?::\d+)?: (?:fatal error|error|warning|note):)`)

// nameSource rewrites a build log's line to name the source at path as the user did:
// by short(path) rather than the absolute one the tool was given, or the one
// from the source's directory, where the tool runs ("./w.c:2:5: error: ..."; a
// header's "./../h.h"), and by the source rather than the object clang compiled it
// to when a linker reports an error ("w.c: undefined symbol: f (wasm-ld)").
func nameSource(path, line string, short func(string) string) string {
	src := short(path)
	// The source as the tool names it, which fileRef does not match if the name
	// has a space in it.
	own := "./" + filepath.Base(path) + ":"
	if rest, ok := strings.CutPrefix(line, own); ok && filepath.IsAbs(path) {
		line = src + ":" + rest
	} else if rest, ok := strings.CutPrefix(line, includedFrom+own); ok && filepath.IsAbs(path) {
		line = includedFrom + src + ":" + rest
	} else if m := fileRef.FindStringSubmatchIndex(line); m != nil && filepath.IsAbs(path) {
		at, end := m[2], m[3] // the file's place in the line
		if at < 0 {
			at, end = m[4], m[5]
		}
		if ref := line[at:end]; !filepath.IsAbs(ref) {
			line = line[:at] + short(fromSourceDir(path, ref)) + line[end:]
		}
	}
	line = strings.ReplaceAll(line, path, src)
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	if m := linkError.FindStringSubmatch(line); m != nil && strings.HasPrefix(filepath.Base(m[2]), stem+"-") {
		return src + ": " + m[3] + " (" + m[1] + ")"
	}
	return line
}

// fromSourceDir is the absolute path of ref, a path from the directory of the
// source at path where the tool ran: ".." taken as the file system takes it, from
// a linked directory's target.
func fromSourceDir(path, ref string) string {
	dir := filepath.Dir(path)
	if !slices.Contains(strings.Split(filepath.ToSlash(ref), "/"), "..") { // the source itself, "./w.c"
		return filepath.Join(dir, ref)
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return filepath.Join(dir, ref)
	}
	return filepath.Join(real, ref)
}

// firstLine splits text into its first line and the non-empty lines after it.
func firstLine(text string) (string, []string) {
	lines := strings.Split(text, "\n")
	var rest []string
	for _, l := range lines[1:] {
		if l = strings.TrimSpace(l); l != "" {
			rest = append(rest, l)
		}
	}
	return strings.TrimSpace(lines[0]), rest
}

// shortPath is path relative to the working directory when it lies under it, as a
// person typing a command names files, or under the directory the working
// directory links to (a header that fromSourceDir found through a link).
func shortPath(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, path); err == nil && filepath.IsLocal(rel) {
		return rel
	}
	if wd, err = filepath.EvalSymlinks(wd); err == nil {
		if rel, err := filepath.Rel(wd, path); err == nil && filepath.IsLocal(rel) {
			return rel
		}
	}
	return path
}
