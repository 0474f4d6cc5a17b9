package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"

	"github.com/hotscript/hotscript"
	"github.com/hotscript/hotscript/internal/fsread"
	"github.com/hotscript/hotscript/lua"
	"github.com/hotscript/hotscript/wasm"
	"github.com/hotscript/hotscript/watch"
)

func inspectCommand() command {
	return command{
		name:    "inspect",
		args:    "[flags] FILE",
		summary: "show a script's interface (and Lua fields)",
		about: `For a WebAssembly module (.wasm, .wat when wat2wasm is on PATH, or .c when clang
is): its imports and exports with their signatures, and its memory. For a Lua
script: the fields of the table it returns, with their values, and its functions.
Then notes, in plain words, on how hotscript will treat it. A file that does not
compile, or whose start fails (a Lua chunk, with the libraries run gives scripts;
the start function or _initialize of a module that imports only what run
provides), trapping or passing a limit, prints the error and exits 1. The limits
are run's and call's, with the same defaults, so that inspect fails a script's
start where they would.`,
		setup: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			var limits limitFlags
			limits.register(fs)
			return func(ctx context.Context, e *env, args []string) error {
				if err := flagsAfter(fs, args, "FILE"); err != nil {
					return err
				}
				if len(args) != 1 {
					return usageError("needs exactly one FILE")
				}
				if err := limits.check(); err != nil {
					return err
				}
				return inspectMain(ctx, e, args[0], limits.host())
			}
		},
	}
}

// inspectMain shows file, and fails if it could not be written out: a shell
// that sees 0 takes it as shown.
func inspectMain(ctx context.Context, e *env, file string, limits hotscript.Limits) error {
	out := &firstError{w: e.stdout}
	shown := *e
	shown.stdout = out
	if err := inspect(ctx, &shown, file, limits); err != nil {
		return err
	}
	return out.err
}

// firstError writes to w until a write fails, and keeps that error.
type firstError struct {
	w   io.Writer
	err error
}

func (f *firstError) Write(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.w.Write(p)
	f.err = err
	return n, err
}

func inspect(ctx context.Context, e *env, file string, limits hotscript.Limits) error {
	if err := checkScriptFile(file); err != nil {
		return err
	}
	code, err := fsread.File(file) // as run and call read it: no pipe, nothing past 64 MiB
	if err != nil {
		return err
	}
	switch ext := filepath.Ext(file); ext {
	case ".wasm":
		return inspectWASM(ctx, e, file, code, "", limits)
	case ".wat", ".c":
		// The watch package's step: the build a watched directory does on save.
		built, _, err := watch.DefaultBuildSteps()[ext].Build(ctx, file)
		if err != nil {
			return err
		}
		kind, tool := "WebAssembly text", "wat2wasm"
		if ext == ".c" {
			kind, tool = "C source", "clang"
		}
		return inspectWASM(ctx, e, file, built, fmt.Sprintf("%s, %d bytes, built by %s into", kind, len(code), tool), limits)
	default: // .lua
		return inspectLua(ctx, e, file, code, limits)
	}
}

// section writes a titled block of lines: the title in the left column of the first.
func section(w io.Writer, st style, title string, lines []string) {
	if len(lines) == 0 {
		lines = []string{st.dim("none")}
	}
	for i, l := range lines {
		t := ""
		if i == 0 {
			t = title
		}
		fmt.Fprintf(w, "%s  %s\n", pad(st.bold(t), 9), l)
	}
}

func inspectWASM(ctx context.Context, e *env, file string, code []byte, from string, limits hotscript.Limits) error {
	info, err := wasm.Inspect(ctx, code)
	if err != nil {
		var werr *wasm.Error
		if errors.As(err, &werr) && werr.Script == "" {
			named := *werr // Inspect knows no file name; say which file it was
			named.Script = file
			return &named
		}
		return fmt.Errorf("%s: %w", file, err)
	}
	if err := startsWell(ctx, file, code, &info, limits); err != nil {
		return err
	}
	st := e.out
	what := fmt.Sprintf("WebAssembly module, %d bytes", len(code))
	if from != "" {
		what = fmt.Sprintf("%s a %d-byte module", from, len(code))
	}
	fmt.Fprintf(e.stdout, "%s  %s\n\n", st.name(printable(file)), what)

	imports, importNotes, memFrom := describeImports(info)
	mem := []string{"no memory"}
	if m := info.Memory; m != nil {
		max := "no maximum"
		if m.HasMax {
			max = "at most " + pages(m.Max)
		}
		mem = []string{pages(m.Min) + " at start, " + max}
		if memFrom != "" {
			mem[0] = "imported from " + memFrom + ": " + mem[0]
		}
	}
	section(e.stdout, st, "memory", mem)
	section(e.stdout, st, "imports", imports)
	section(e.stdout, st, "exports", append(funcStrings(info.Exports), mapStrings(info.OtherExports, printable)...))

	var notes []string
	if f, ok := findFunc(info.Exports, updateFunc); ok && takesDT(f) {
		notes = append(notes, fmt.Sprintf("exports %s: hotscript run calls it every frame with dt in seconds", f))
	} else if ok {
		notes = append(notes, fmt.Sprintf("exports %s, which hotscript run leaves idle: it calls update(dt) "+
			"every frame, which needs one f32 or f64 parameter for dt in seconds", f))
	} else {
		notes = append(notes, "no update export: hotscript run loads it but never calls it")
	}
	getF, get := findFunc(info.Exports, "get_state")
	setF, set := findFunc(info.Exports, "set_state")
	switch {
	case get && set && movesState(getF, setF):
		notes = append(notes, "exports get_state and set_state: hotscript run moves its state to each new version")
	case get && set:
		notes = append(notes, fmt.Sprintf("exports %s and %s, whose state hotscript run cannot move: "+
			"get_state must return a JSON document as (ptr, len) or one number, and set_state take it back", getF, setF))
	default:
		notes = append(notes, "no get_state/set_state pair: a reload starts it from its initial state")
	}
	if f, ok := findFunc(info.Exports, "free"); ok && (!slices.Equal(f.Params, []wasm.ValueType{wasm.I32, wasm.I32}) || len(f.Results) > 0) {
		notes = append(notes, fmt.Sprintf("exports %s, which hotscript never calls: it gives back the JSON documents "+
			"it writes with free(ptr, len i32), so with this one they stay allocated", f))
	}
	notes = append(notes, importNotes...)
	if m := info.Memory; m != nil && !m.HasMax && memFrom == "" {
		notes = append(notes, "its memory may grow without bound; --max-memory caps it")
	}
	fmt.Fprintln(e.stdout)
	section(e.stdout, st, "notes", mapStrings(notes, printable)) // they name its functions
	return nil
}

// startsWell instantiates code, as run and call would load it, with host.log
// and under limits, and returns the error of a start function (or
// _initialize) that traps or passes a limit: such a module never loads. One
// importing what run does not provide is left to the notes.
func startsWell(ctx context.Context, file string, code []byte, info *wasm.ModuleInfo, limits hotscript.Limits) error {
	if len(info.Unlinkable) > 0 || len(info.ReservedExports) > 0 || slices.ContainsFunc(info.Imports, func(f wasm.FuncInfo) bool {
		return f.Module != "host" || f.Name != "log" || len(f.Results) > 0 ||
			!slices.Equal(f.Params, []wasm.ValueType{wasm.I32, wasm.I32})
	}) {
		return nil
	}
	rt, err := wasm.NewRuntime(ctx, wasm.Limits(limits))
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	if err := rt.Define("host", "log", wasm.LogFunc(func(string, string) {})); err != nil {
		return err
	}
	_, err = rt.Load(ctx, file, code, nil)
	return err
}

// describeImports lists a module's imports, functions with their signatures,
// then what no Runtime provides (wasm.ModuleInfo.Unlinkable), and notes on those
// that run and call cannot provide: a function they do not define, host.log
// with another signature, anything but a function (a global, a memory, a
// table), an import from the module name reserved for the instrumentation; and
// notes on the exports named with its prefix (wasm.ModuleInfo.ReservedExports).
// memFrom names the import that provides the module's memory, if one does.
func describeImports(info wasm.ModuleInfo) (lines, notes []string, memFrom string) {
	logFunc := wasm.LogFunc(nil) // as newEngines defines it
	hostLog := wasm.FuncInfo{Module: "host", Name: "log", Params: logFunc.Params, Results: logFunc.Results}
	for _, f := range info.Imports {
		lines = append(lines, printable(f.String()))
		switch {
		case f.Module != hostLog.Module || f.Name != hostLog.Name:
			notes = append(notes, fmt.Sprintf("imports %s, which hotscript run and call do not define: "+
				"they cannot load it (a program embedding hotscript must Define it)", f))
		case f.String() != hostLog.String():
			notes = append(notes, fmt.Sprintf("host function %s is imported as %s: "+
				"hotscript run and call cannot load it", hostLog, f))
		}
	}
	for _, imp := range info.Unlinkable {
		lines = append(lines, printable(imp.String()))
		kind, name := imp.Kind, imp.Module+"."+imp.Name
		switch {
		case imp.Module == reservedImports:
			notes = append(notes, fmt.Sprintf("imports %s from %q, a module name reserved for hotscript's "+
				"instrumentation: hotscript run and call cannot load it", name, reservedImports))
		default:
			if kind == "memory" && memFrom == "" {
				memFrom = name
			}
			notes = append(notes, fmt.Sprintf("imports the %s %s: hotscript run and call cannot load it, "+
				"as they provide functions only", kind, name))
		}
	}
	for _, name := range info.ReservedExports {
		notes = append(notes, fmt.Sprintf("exports %s, a name reserved for hotscript's instrumentation "+
			"(names starting with %q): hotscript run and call cannot load it", name, reservedImports+"."))
	}
	return lines, notes, memFrom
}

// reservedImports is the import module of the instrumentation that meters a
// module's instructions, which package wasm refuses in a module it loads.
const reservedImports = "hotscript"

func inspectLua(ctx context.Context, e *env, file string, src []byte, limits hotscript.Limits) error {
	// The chunk runs once, in run's sandbox and under its limits, to build the
	// module table, with the host functions run defines as stubs.
	rt, err := lua.NewRuntimeWithConfig(ctx, lua.Config{Stdout: io.Discard, Libraries: luaLibraries, Limits: lua.Limits(limits)})
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	if err := rt.Define("host", "log", func(context.Context, *lua.Call) ([]any, error) { return nil, nil }); err != nil {
		return err
	}
	info, err := rt.Inspect(ctx, file, src)
	if err != nil {
		return err
	}
	fields, funcs := info.Fields, info.Functions
	st := e.out
	fmt.Fprintf(e.stdout, "%s  %s\n\n", st.name(printable(file)), fmt.Sprintf("Lua script, %d bytes, returns a table", len(src)))
	var rows []string
	for _, f := range fields {
		text := st.dim("(no JSON form)")
		if v, ok := info.Values[f]; ok {
			text = printable(shorten(string(v), 60))
		}
		rows = append(rows, printable(f)+" = "+text)
	}
	section(e.stdout, st, "fields", rows)
	section(e.stdout, st, "functions", mapStrings(funcs, printable))

	var notes []string
	if slices.Contains(funcs, updateFunc) {
		notes = append(notes, "has update: hotscript run calls it every frame with dt in seconds")
	} else {
		notes = append(notes, "no update function: hotscript run loads it but never calls it")
	}
	if len(fields) > 0 {
		// Not "old values win" for all (helper-211): a class's constants follow
		// the new source where the script never changed them.
		notes = append(notes, "a reload carries every field above into the new version: old values win, "+
			"but in a table with functions (a class) what the script never changed follows the new source")
	}
	save, restore := slices.Contains(funcs, "on_save"), slices.Contains(funcs, "on_restore")
	switch {
	case save && restore:
		notes = append(notes, "has on_save and on_restore: on each reload, after the fields are carried, "+
			"on_save runs and its result goes to the new version's on_restore")
	case save:
		notes = append(notes, "has on_save: on each reload from it, after the fields are carried, it runs "+
			"and its result goes to the new version's on_restore, if that has one")
	case restore:
		notes = append(notes, "has on_restore but no on_save: on_restore runs on a reload into this version "+
			"only when the version before has on_save")
	}
	fmt.Fprintln(e.stdout)
	section(e.stdout, st, "notes", notes)
	return nil
}

// movesState reports whether MigrateExports can move state from get to set:
// a JSON document, (ptr, len) both ways, or one number of the same type.
func movesState(get, set wasm.FuncInfo) bool {
	doc := []wasm.ValueType{wasm.I32, wasm.I32}
	number := func(ts []wasm.ValueType) bool {
		return len(ts) == 1 && slices.Contains([]wasm.ValueType{wasm.I32, wasm.I64, wasm.F32, wasm.F64}, ts[0])
	}
	return len(get.Params) == 0 && (slices.Equal(get.Results, doc) && slices.Equal(set.Params, doc) ||
		number(get.Results) && slices.Equal(get.Results, set.Params))
}

// takesDT reports whether f can be called as the scene calls update: with one
// number of seconds, a fraction.
func takesDT(f wasm.FuncInfo) bool {
	return len(f.Params) == 1 && (f.Params[0] == wasm.F32 || f.Params[0] == wasm.F64)
}

func pages(n uint32) string {
	size := byteSize(uint64(n) << 16)
	if n == 1 {
		return "1 page (64KiB)"
	}
	return fmt.Sprintf("%d pages (%s)", n, size.String())
}

func funcStrings(fs []wasm.FuncInfo) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = printable(f.String())
	}
	return out
}

func findFunc(fs []wasm.FuncInfo, name string) (wasm.FuncInfo, bool) {
	i := slices.IndexFunc(fs, func(f wasm.FuncInfo) bool { return f.Name == name })
	if i < 0 {
		return wasm.FuncInfo{}, false
	}
	return fs[i], true
}

func shorten(s string, n int) string {
	if width(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
