package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestInspect(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		code   int
		stdout []string // each must match a line of stdout (regular expressions)
		stderr []string // each must appear on stderr
	}{
		{"wasm module", "testdata/guest.wasm", exitOK, []string{
			`^testdata/guest.wasm  WebAssembly module, \d+ bytes$`,
			`^memory +1 page \(64KiB\) at start, no maximum$`,
			`^imports +host\.log\(i32, i32\)$`,
			`^exports +add\(i32, i32\) i32$`,
			`^ +echo\(i32, i32\) \(i32, i32\)$`,
			`^ +half\(f64\) f64$`,
			`^ +spin\(\)$`,
			`^ +memory memory$`, // an export that is not a function, with its kind
			`^notes +no update export: hotscript run loads it but never calls it$`,
			`no get_state/set_state pair: a reload starts it from its initial state`,
		}, nil},
		{"wasm module with update and state exports", "demo/enemy_v3.wasm", exitOK, []string{
			`^exports +alloc\(i32\) i32$`,
			`^ +fire\(\) i32$`,
			`^ +get_state\(\) \(i32, i32\)$`,
			`^ +update\(f32\)$`,
			`^imports +none$`,
			`exports update\(f32\): hotscript run calls it every frame`,
			`exports get_state and set_state: hotscript run moves its state`,
		}, nil},
		{"wasm memory with a maximum", "demo/counter_v1.wasm", exitOK, []string{
			`^memory +no memory$`,
			`^exports +get_counter\(\) i32$`,
		}, nil},
		{"wat source", "testdata/bigmem.wat", exitOK, []string{
			`^testdata/bigmem.wat  WebAssembly text, \d+ bytes, built by wat2wasm into a \d+-byte module$`,
			`^memory +4 pages \(256KiB\) at start, no maximum$`,
			`^exports +pages\(\) i32$`,
		}, nil},
		{"lua script", "testdata/guest.lua", exitOK, []string{
			`^testdata/guest.lua  Lua script, \d+ bytes, returns a table$`,
			`^fields +count = 0$`,
			`^ +items = \[1,2,3\]$`,
			`^ +name = "guest"$`,
			`^functions +add$`,
			`^ +total$`,
			`no update function: hotscript run loads it but never calls it`,
			`a reload carries every field above into the new version`,
		}, nil},
		{"lua script with update", "demo/enemy_v1.lua", exitOK, []string{
			`^fields +frames = 0$`,
			`^ +hp = 100$`,
			`has update: hotscript run calls it every frame`,
		}, nil},
		{"invalid module", "testdata/junk.wasm", exitFail, nil, []string{"error: testdata/junk.wasm: compile failed: "}},
		{"wasm start function traps", "testdata/starttrap.wasm", exitFail, nil, []string{"error: testdata/starttrap.wasm: instantiate failed: start function failed: unreachable"}},
		{"lua syntax error", "testdata/broken.lua", exitFail, nil, []string{"error: testdata/broken.lua:4: syntax error"}},
		{"lua chunk not a table", "testdata/number.lua", exitFail, nil, []string{"error: testdata/number.lua: the chunk returned number"}},
		{"missing file", "testdata/nothing.lua", exitFail, nil, []string{"error: testdata/nothing.lua: no such file or directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			needTools(t, tt.file)
			r := runCmd(t, "inspect", tt.file)
			if r.code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			lines := strings.Split(r.stdout, "\n")
			for _, pattern := range tt.stdout {
				re := regexp.MustCompile(pattern)
				found := false
				for _, l := range lines {
					found = found || re.MatchString(l)
				}
				if !found {
					t.Errorf("no line of stdout matches %s:\n%s", pattern, r.stdout)
				}
			}
			for _, want := range tt.stderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
		})
	}
}

// inspect writes the names a script controls (its file's, its fields', its
// functions') escaped, as run and call do, says when on_restore runs, and
// fails when it cannot write what it shows.
func TestInspectEscapesAndHooks(t *testing.T) {
	file := filepath.Join(t.TempDir(), "evil\x1b[31m.lua")
	src := "local M = {[\"f\\27x\"] = 1}\nM[\"g\\27[31mred\"] = function() end\nfunction M.on_restore(s) end\nreturn M\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCmd(t, "inspect", file)
	if r.code != exitOK || strings.Contains(r.stdout, "\x1b") {
		t.Fatalf("exit %d, stdout with a raw escape %q; want 0, escaped\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{`evil\x1b[31m.lua  Lua script`, `f\x1bx = 1`, `g\x1b[31mred`,
		"has on_restore but no on_save: on_restore runs on a reload into this version only when the version before has on_save"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	var errOut strings.Builder
	if code := run([]string{"inspect", file}, failingWriter{}, &errOut); code != exitFail || !strings.Contains(errOut.String(), "disk full") {
		t.Errorf("inspect to a writer that fails: exit %d, stderr %q; want %d, the write's error", code, errOut.String(), exitFail)
	}
}

// inspect refuses a file of more than 64 MiB as run and call do, unread (it
// read a file of gigabytes whole, and ran out of memory).
func TestInspectHugeFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "huge.wasm")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(file, 64<<20+1); err != nil {
		t.Fatal(err)
	}
	r := runCmd(t, "inspect", file)
	if r.code != exitFail || !strings.Contains(r.stderr, "huge.wasm: larger than a script may be (64 MiB)") {
		t.Errorf("exit %d, stderr %q; want %d, the file refused as too large", r.code, r.stderr, exitFail)
	}
}

// TestBuildErrorNamesTheSource: a .wat that wat2wasm rejects, given to inspect (which
// builds it with the watch package's step) and to call (through the host's Load),
// fails with the tool's message, led by the file as the user named it.
func TestBuildErrorNamesTheSource(t *testing.T) {
	needTools(t, "bad.wat")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.wat"), []byte("(module\n  (func (export \"f\") i32.addd))\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	for _, args := range [][]string{{"inspect", "bad.wat"}, {"call", "bad.wat", "f"}} {
		t.Run(args[0], func(t *testing.T) {
			r := runCmd(t, args...)
			if r.code != exitFail || !strings.HasPrefix(r.stderr, "error: bad.wat:2:") || strings.Contains(r.stderr, dir) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and the error at bad.wat:2, without the full path", r.code, r.stderr)
			}
		})
	}
}

// TestCSource: call and inspect take a .c, built with clang as run builds it;
// a C error fails naming the file and line as the user gave them, a header's
// by its path from the working directory.
func TestCSource(t *testing.T) {
	needTools(t, "x.c")
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "ai"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{
		"numbers.c": "__attribute__((export_name(\"add\"))) int add(int a, int b) { return a + b; }\n",
		"bad.c":     "int add(int a, int b) {\n  return a + ;\n}\n",
		"ai/bad.c":  "int add(int a, int b) {\n  return a + ;\n}\n",
		"ai/inc.c":  "#include \"../common.h\"\n",
		"common.h":  "int y(void) { return z; }\n",
		"h.h":       "int unrelated;\n", // where ../h.h from link/ is, read as text
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	if r := runCmd(t, "call", "numbers.c", "add", "40", "2"); r.code != exitOK || strings.TrimSpace(r.stdout) != "42" {
		t.Errorf("call numbers.c add 40 2: exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	r := runCmd(t, "inspect", "numbers.c")
	if r.code != exitOK || !regexp.MustCompile(`(?m)^numbers.c  C source, \d+ bytes, built by clang into a \d+-byte module$`).MatchString(r.stdout) ||
		!regexp.MustCompile(`(?m)^exports +add\(i32, i32\) i32$`).MatchString(r.stdout) {
		t.Errorf("inspect numbers.c: exit %d, stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	// Through a link to a directory, ".." is the target's parent, as for clang.
	if err := os.MkdirAll(filepath.Join(dir, "real", "ai"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "real", "h.h"), []byte("int y(void) { return z; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "real", "ai", "w.c"), []byte("#include \"../h.h\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "real", "ai", "bad.c"), []byte("int add(int a, int b) {\n  return a + ;\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("real", "ai"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	for file, head := range map[string]string{
		"bad.c":      "error: bad.c:2:",
		"ai/bad.c":   "error: ai/bad.c:2:",
		"ai/inc.c":   "error: ai/inc.c: common.h:1:22: error:",
		"link/w.c":   "error: link/w.c: real/h.h:1:22: error:",
		"link/bad.c": "error: link/bad.c:2:",
	} {
		for _, args := range [][]string{{"inspect", file}, {"call", file, "add"}} {
			if r := runCmd(t, args...); r.code != exitFail || !strings.HasPrefix(r.stderr, head) {
				t.Errorf("%s %s: exit %d, stderr:\n%s\nwant exit 1 and %q", args[0], file, r.code, r.stderr, head)
			}
		}
	}
}

// TestCBuildErrorHeading: when clang warns and then fails, the heading is the
// error, not the warning before it; a link error names the source, not the
// temporary object clang linked.
func TestCBuildErrorHeading(t *testing.T) {
	needTools(t, "x.c")
	dir := t.TempDir()
	const shift = "int f(int x) { return x << 40; }\n" // a warning
	for name, src := range map[string]string{
		"compile.c": shift + "int g(void) { return y; }\n",
		"link.c":    shift + "int host_thing(int);\n__attribute__((export_name(\"h\"))) int h(int x) { return host_thing(x); }\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	tests := []struct{ file, head string }{
		{"compile.c", "error: compile.c:2:22: error: use of undeclared identifier 'y'"},
		{"link.c", "error: link.c: undefined symbol: host_thing (wasm-ld"},
	}
	for _, tt := range tests {
		for _, args := range [][]string{{"inspect", tt.file}, {"call", tt.file, "f"}} {
			t.Run(args[0]+" "+tt.file, func(t *testing.T) {
				r := runCmd(t, args...)
				if r.code != exitFail || !strings.HasPrefix(r.stderr, tt.head) {
					t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and a first line starting %q", r.code, r.stderr, tt.head)
				}
			})
		}
	}
}

// writeWAT writes src as a file called name in a directory of its own and
// returns its path.
func writeWAT(t *testing.T, name, src string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestInspectUpdateSignature: inspect says run calls update only when update can
// take dt, one f32 or f64; otherwise it says what run needs.
func TestInspectUpdateSignature(t *testing.T) {
	needTools(t, "x.wat")
	tests := []struct {
		params string
		note   string
	}{
		{"(param f32)", "exports update(f32): hotscript run calls it every frame with dt in seconds"},
		{"(param f64)", "exports update(f64): hotscript run calls it every frame with dt in seconds"},
		{"", "exports update(), which hotscript run leaves idle: it calls update(dt) every frame, which needs one f32 or f64 parameter"},
		{"(param i32)", "exports update(i32), which hotscript run leaves idle"},
		{"(param f32 f32)", "exports update(f32, f32), which hotscript run leaves idle"},
	}
	for _, tt := range tests {
		t.Run("update"+tt.params, func(t *testing.T) {
			file := writeWAT(t, "u.wat", `(module (func (export "update") `+tt.params+`))`)
			r := runCmd(t, "inspect", file)
			if r.code != exitOK || !strings.Contains(r.stdout, tt.note) {
				t.Errorf("exit %d, stdout lacks %q:\n%s%s", r.code, tt.note, r.stdout, r.stderr)
			}
		})
	}
}

// TestInspectStateSignature: inspect says run moves a script's state only when
// its get_state and set_state can carry it: a (ptr, len) document, or one number.
func TestInspectStateSignature(t *testing.T) {
	needTools(t, "x.wat")
	moves := "exports get_state and set_state: hotscript run moves its state"
	tests := []struct {
		name, get, set, note string
	}{
		{"document", "(result i32 i32) i32.const 0 i32.const 0", "(param i32 i32)", moves},
		{"number", "(result i32) i32.const 0", "(param i32)", moves},
		{"float", "(result f64) f64.const 0", "(param f64)", moves},
		{"float to integer", "(result f64) f64.const 0", "(param i32)", "whose state hotscript run cannot move"},
		{"two numbers", "(result i32 f32) i32.const 0 f32.const 0", "(param i32 f32)",
			"exports get_state() (i32, f32) and set_state(i32, f32), whose state hotscript run cannot move"},
		{"get takes a parameter", "(param i32) (result i32) i32.const 0", "(param i32)", "whose state hotscript run cannot move"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writeWAT(t, "s.wat", `(module (func (export "get_state") `+tt.get+`) (func (export "set_state") `+tt.set+`))`)
			r := runCmd(t, "inspect", file)
			if r.code != exitOK || !strings.Contains(r.stdout, tt.note) {
				t.Errorf("exit %d, stdout lacks %q:\n%s%s", r.code, tt.note, r.stdout, r.stderr)
			}
		})
	}
}

// TestInspectFreeSignature: a free that is not free(ptr, len i32), such as C's
// void free(void *), is never called, and inspect says the documents
// hotscript writes then stay allocated; free(i32, i32) gets no note.
func TestInspectFreeSignature(t *testing.T) {
	needTools(t, "x.wat")
	const note = "which hotscript never calls"
	for _, tt := range []struct {
		params string
		noted  bool
	}{{"(param i32)", true}, {"(param i32 i32) (result i32) i32.const 0", true}, {"(param i32 i32)", false}} {
		file := writeWAT(t, "f.wat", `(module (memory (export "memory") 1) (func (export "free") `+tt.params+`))`)
		r := runCmd(t, "inspect", file)
		if r.code != exitOK || strings.Contains(r.stdout, note) != tt.noted {
			t.Errorf("free%s: exit %d, note %q given %v, want %v:\n%s%s", tt.params, r.code, note, !tt.noted, tt.noted, r.stdout, r.stderr)
		}
	}
}

// TestBuildErrorCaret: the tool's caret line keeps its indentation, so that the
// caret still points at the fault in the source line printed above it.
func TestBuildErrorCaret(t *testing.T) {
	needTools(t, "bad.wat")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.wat"), []byte("(module\n  (func (export \"f\") i32.addd))\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	r := runCmd(t, "inspect", "bad.wat")
	lines := strings.Split(r.stderr, "\n")
	for i, l := range lines[1:] {
		if src := lines[i]; strings.Contains(src, "i32.addd") && strings.Contains(l, "^") {
			if strings.Index(l, "^") != strings.Index(src, "i32.addd") {
				t.Errorf("the caret points elsewhere than at i32.addd:\n%s", r.stderr)
			}
			return
		}
	}
	t.Errorf("no source line with a caret line below it:\n%s", r.stderr)
}

// TestInspectHostLogSignature: inspect warns about an import of host.log only when
// its signature is not the one run and call define, in the words with which they
// then refuse the module.
func TestInspectHostLogSignature(t *testing.T) {
	needTools(t, "x.wat")
	const warning = "host function host.log(i32, i32) is imported as "
	tests := []struct {
		name, sig string
		want      string // in inspect's notes and call's error; "" for no warning
	}{
		{"right", "(param i32 i32)", ""},
		{"wrong params", "(param i64)", warning + "host.log(i64)"},
		{"a result", "(param i32 i32) (result i32)", warning + "host.log(i32, i32) i32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writeWAT(t, "l.wat", `(module (import "host" "log" (func `+tt.sig+`)) (func (export "f") (result i32) i32.const 7))`)
			r := runCmd(t, "inspect", file)
			if r.code != exitOK {
				t.Fatalf("inspect: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			if n := strings.Count(r.stdout, "host.log"); tt.want == "" && n != 1 { // its line under imports
				t.Errorf("inspect warns about a host.log run and call load:\n%s", r.stdout)
			}
			if !strings.Contains(r.stdout, tt.want) {
				t.Errorf("inspect's notes lack %q:\n%s", tt.want, r.stdout)
			}
			c := runCmd(t, "call", file, "f")
			switch {
			case tt.want == "" && c.code != exitOK:
				t.Errorf("call: exit %d, want 0\n%s", c.code, c.stderr)
			case tt.want != "" && (c.code != exitFail || !strings.Contains(c.stderr, tt.want)):
				t.Errorf("call: exit %d, want 1 with %q\n%s", c.code, tt.want, c.stderr)
			}
		})
	}
}

// TestInspectOtherImports: inspect lists the imports that are not functions (a
// global, a memory, a table) and those from the module name reserved for the
// instrumentation, and notes exports named with its prefix, with a note that run
// and call cannot load the module, which call then refuses; an imported memory
// is said to be imported.
func TestInspectOtherImports(t *testing.T) {
	needTools(t, "x.wat")
	tests := []struct {
		name, imports string
		lines         []string // each starts a line of inspect's output
		note          string   // in inspect's notes
		refused       string   // in call's error
	}{
		{"global named host.log", `(import "host" "log" (global i32))`,
			[]string{"imports    global host.log\n"},
			"imports the global host.log: hotscript run and call cannot load it",
			"imports the global host.log: the runtime provides only functions"},
		{"global", `(import "env" "foo" (global i32))`,
			[]string{"imports    global env.foo\n"},
			"imports the global env.foo: hotscript run and call cannot load it",
			"imports the global env.foo"},
		{"memory", `(import "env" "memory" (memory 1))`,
			[]string{"memory     imported from env.memory: 1 page (64KiB) at start, no maximum\n", "imports    memory env.memory\n"},
			"imports the memory env.memory: hotscript run and call cannot load it",
			"imports the memory env.memory"},
		{"table", `(import "env" "t" (table 1 funcref))`,
			[]string{"imports    table env.t\n"},
			"imports the table env.t: hotscript run and call cannot load it",
			"imports the table env.t"},
		{"reserved module", `(import "hotscript" "refuel" (func))`,
			[]string{"imports    function hotscript.refuel\n"},
			`imports hotscript.refuel from "hotscript", a module name reserved for hotscript's instrumentation: hotscript run and call cannot load it`,
			`the import module "hotscript" is reserved`},
		{"module named like the reserved one", `(import "hotscript.ext" "g" (global i32))`,
			[]string{"imports    global hotscript.ext.g\n"},
			"imports the global hotscript.ext.g: hotscript run and call cannot load it",
			"imports the global hotscript.ext.g"},
		{"reserved export", `(func (export "hotscript.x"))`,
			nil,
			`exports hotscript.x, a name reserved for hotscript's instrumentation (names starting with "hotscript."): hotscript run and call cannot load it`,
			`exports "hotscript.x": names starting with "hotscript." are reserved`},
		{"among functions", `(import "host" "log" (func (param i32 i32))) (import "env" "g" (global i32)) (import "env" "f" (func (param i32)))`,
			[]string{"imports    host.log(i32, i32)\n           env.f(i32)\n           global env.g\n"},
			"imports the global env.g: hotscript run and call cannot load it",
			"imports the global env.g"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writeWAT(t, "m.wat", `(module `+tt.imports+` (func (export "f") (result i32) i32.const 7))`)
			r := runCmd(t, "inspect", file)
			if r.code != exitOK {
				t.Fatalf("inspect: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			for _, want := range tt.lines {
				if !strings.Contains("\n"+r.stdout, "\n"+want) {
					t.Errorf("inspect lacks the lines %q:\n%s", want, r.stdout)
				}
			}
			if _, notes, _ := strings.Cut(r.stdout, "\nnotes "); !strings.Contains(notes, tt.note) {
				t.Errorf("inspect's notes lack %q:\n%s", tt.note, r.stdout)
			}
			if c := runCmd(t, "call", file, "f"); c.code != exitFail || !strings.Contains(c.stderr, tt.refused) {
				t.Errorf("call: exit %d, want 1 with %q\n%s", c.code, tt.refused, c.stderr)
			}
		})
	}
}

// inspect runs a Lua chunk as run and call load it: with coroutines, and under
// their limits and defaults, not a cap of its own (helper-255: a chunk using
// coroutine, or running 10 million instructions, failed inspect and loaded
// under run).
func TestInspectLoadsAsRun(t *testing.T) {
	dir := t.TempDir()
	co := filepath.Join(dir, "co.lua")
	long := filepath.Join(dir, "long.lua")
	if err := os.WriteFile(co, []byte("local M = {}\nM.co = coroutine.wrap(function() coroutine.yield(1) end)\nM.first = M.co()\nreturn M\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(long, []byte("local M = {n = 0}\nfor i = 1, 11e6 do end\nreturn M\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCmd(t, "inspect", co); r.code != exitOK || !regexp.MustCompile(`(?m)^fields +first = 1$`).MatchString(r.stdout) {
		t.Errorf("inspect of a chunk using coroutine: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if r := runCmd(t, "inspect", "--max-time", "1m", long); r.code != exitOK {
		t.Errorf("inspect of a chunk of 11 million instructions: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if r := runCmd(t, "inspect", "--max-instructions", "1000", long); r.code != exitFail || !strings.Contains(r.stderr, "instruction limit") {
		t.Errorf("inspect --max-instructions 1000: exit %d, stderr:\n%s; want the limit's error", r.code, r.stderr)
	}
}
