package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/hotscript/hotscript"
	"github.com/hotscript/hotscript/lua"
	"github.com/hotscript/hotscript/wasm"
	"github.com/hotscript/hotscript/watch"
)

// describe formats err for a person: the place first (file:line for Lua and for build
// tools, the script and function for WASM), then what went wrong, on one line. detail
// holds what follows it, such as a stack trace, one line each.
//
// The packages' own Error methods lead with the package and the operation
// ("lua: reload enemy.lua: enemy.lua:9: ..."), which suits logs; a person at a
// terminal wants the place first, so describe reads the structured errors instead.
func describe(err error) (head string, detail []string) {
	if err == nil {
		return "", nil
	}
	var (
		contract *hotscript.ContractError
		lerr     *lua.Error
		werr     *wasm.Error
		berr     *watch.BuildError
		perr     *fs.PathError
	)
	switch {
	case errors.As(err, &contract):
		head = contract.Script + ": breaks its contract: " + strings.Join(contract.Violations, "; ")
	case errors.As(err, &lerr):
		head, detail = describeLua(lerr)
	case errors.As(err, &werr):
		head, detail = describeWASM(werr)
	case errors.As(err, &berr):
		head, detail = describeBuild(berr)
	case errors.As(err, &perr):
		head = perr.Path + ": " + perr.Err.Error()
	default:
		head, detail = firstLine(err.Error())
	}
	switch {
	case errors.Is(err, hotscript.ErrMigration) && werr != nil:
		head = "state migration failed: " + head
	case errors.Is(err, hotscript.ErrSelfCheck) && werr != nil:
		head = "self-check failed: " + head
	}
	return head, detail
}

// describeLua leads with the message, which Lua already prefixes with script:line.
func describeLua(e *lua.Error) (string, []string) {
	msg := e.Message
	if msg == "" && e.Kind != nil {
		msg = strings.TrimPrefix(e.Kind.Error(), "lua: ")
	}
	if !strings.HasPrefix(msg, e.Script+":") {
		msg = e.Script + ": " + msg
	}
	if e.Function != "" && e.Function != "main chunk" {
		msg += " (in " + e.Function + ")"
	}
	var detail []string
	for _, l := range strings.Split(strings.TrimSpace(e.Traceback), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			detail = append(detail, l)
		}
	}
	return msg, detail
}

// describeWASM reads "enemy.wasm: update: trap: unreachable".
func describeWASM(e *wasm.Error) (string, []string) {
	var parts []string
	if e.Script != "" {
		parts = append(parts, e.Script)
	}
	if e.Func != "" {
		parts = append(parts, e.Func)
	}
	kind := ""
	if e.Kind != nil {
		kind = strings.TrimPrefix(e.Kind.Error(), "wasm: ")
	}
	var detail []string
	msg := ""
	if e.Err != nil {
		msg, detail = firstLine(e.Err.Error())
		msg = strings.TrimPrefix(msg, "wasm: ")
	}
	switch {
	case kind == "":
	case strings.HasPrefix(msg, kind):
		// The cause already says what kind of failure it is.
	default:
		parts = append(parts, kind)
	}
	if msg != "" {
		parts = append(parts, msg)
	}
	return strings.Join(parts, ": "), append(detail, e.Trace...)
}

// linkError is how a linker reports an object: "wasm-ld: error: /tmp/w-49b4cd.o:
// undefined symbol: f", where clang named the object after the source, w.c.
var linkError = regexp.MustCompile(`^(\S+): error: (\S+\.o): (.*)$`)

// describeBuild leads with the line that says what failed (BuildError.Summary: the
// first error, not a warning before it) and names the source as the user did: tools
// name it by the absolute path they were given, and a linker by clang's temporary
// object.
func describeBuild(e *watch.BuildError) (string, []string) {
	src, log := shortPath(e.Path), strings.TrimSpace(e.Log)
	if log == "" { // the tool said nothing, or did not run: name the source
		return firstLine(src + ": " + strings.TrimPrefix(e.Err.Error(), "watch: "))
	}
	lines := strings.Split(log, "\n")
	summary := e.Summary()
	at := max(0, slices.IndexFunc(lines, func(l string) bool { return strings.TrimSpace(l) == summary }))
	head := strings.ReplaceAll(summary, e.Path, src)
	stem := strings.TrimSuffix(filepath.Base(e.Path), filepath.Ext(e.Path))
	if m := linkError.FindStringSubmatch(head); m != nil && strings.HasPrefix(filepath.Base(m[2]), stem+"-") {
		head = src + ": " + m[3] + " (" + m[1] + ")"
	} else if !strings.HasPrefix(head, src) && !strings.HasPrefix(head, filepath.Base(e.Path)) {
		head = src + ": " + head
	}
	var detail []string
	for i, l := range lines {
		if l = strings.TrimSpace(l); i != at && l != "" {
			detail = append(detail, strings.ReplaceAll(l, e.Path, src))
		}
	}
	return head, detail
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
// person typing a command names files.
func shortPath(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	rel, err := filepath.Rel(wd, path)
	if err != nil || !filepath.IsLocal(rel) {
		return path
	}
	return rel
}
