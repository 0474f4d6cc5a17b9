package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/hotscript/hotscript/internal/testtool"
)

func TestCall(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string   // the JSON printed, compared as JSON; "" for none
		stderr []string // each must appear on stderr
	}{
		{"wasm numbers", []string{"testdata/guest.wasm", "add", "2", "3"}, exitOK, "5", nil},
		{"wasm negative number", []string{"testdata/guest.wasm", "add", "-7", "3"}, exitOK, "-4", nil},
		{"wasm float", []string{"testdata/guest.wasm", "half", "3"}, exitOK, "1.5", nil},
		{"wasm JSON document", []string{"testdata/guest.wasm", "echo", `{"a": [1, 2], "b": "c"}`}, exitOK, `{"a":[1,2],"b":"c"}`, nil},
		{"wasm host.log goes to stderr", []string{"testdata/guest.wasm", "hello"}, exitOK, "null", []string{"guest.wasm: hello from wasm"}},
		{"lua numbers", []string{"testdata/guest.lua", "add", "2", "3"}, exitOK, "5", nil},
		{"lua string", []string{"testdata/guest.lua", "greet", `"bob"`}, exitOK, `"hello, bob"`, nil},
		{"lua array", []string{"testdata/guest.lua", "total", "[1, 2, 3.5]"}, exitOK, "6.5", nil},
		{"lua host.log goes to stderr", []string{"testdata/guest.lua", "hello"}, exitOK, "null", []string{"guest.lua: hello from lua\t42"}},
		{"lua host.log of what JSON cannot say", []string{"testdata/guest.lua", "odd"}, exitOK, "null", []string{"guest.lua: map[hp:NaN x:1]\t+Inf"}},
		{"lua coroutine", []string{"testdata/guest.lua", "steps", "3"}, exitOK, "[1,2,3]", nil},
		{"wat built with wat2wasm", []string{"testdata/guest.wat", "add", "40", "2"}, exitOK, "42", nil},
		{"a trap names the wat given, not the wasm beside it", []string{"testdata/guest.wat", "boom"}, exitFail, "",
			[]string{"error: testdata/guest.wat: boom: trap: unreachable"}},
		{"a start trap names the wat given", []string{"testdata/starttrap.wat", "x"}, exitFail, "",
			[]string{"error: testdata/starttrap.wat: instantiate failed"}},
		{"flags before the file", []string{"--max-time", "1s", "testdata/guest.lua", "add", "1", "1"}, exitOK, "2", nil},

		{"missing file", []string{"testdata/nothing.wasm", "add"}, exitFail, "", []string{"error: testdata/nothing.wasm: no such file or directory"}},
		{"bad JSON argument", []string{"testdata/guest.wasm", "add", "two", "3"}, exitUsage, "", []string{`argument "two" is not a JSON value`}},
		{"float out of range", []string{"testdata/guest.wasm", "add", "1e400", "3"}, exitUsage, "", []string{`argument "1e400" is a number out of the 64-bit float range`}},
		{"a fraction for an integer", []string{"testdata/guest.wasm", "add", "0.99999999999999999999", "3"}, exitFail, "",
			[]string{"argument 1: 0.99999999999999999999 is not an integer"}},
		{"object for a number", []string{"testdata/guest.wasm", "add", `{"a":1}`, "3"}, exitFail, "", []string{`argument 1: JSON {"a":1} is not a number`}},
		{"unknown wasm function", []string{"testdata/guest.wasm", "fly"}, exitFail, "", []string{"error: testdata/guest.wasm: fly: no such function"}},
		{"unknown lua function", []string{"testdata/guest.lua", "fly"}, exitFail, "", []string{"error: testdata/guest.lua:", "fly"}},
		{"wrong argument count", []string{"testdata/guest.wasm", "add", "1"}, exitFail, "", []string{"error: testdata/guest.wasm: add: signature mismatch: add(i32, i32)"}},
		{"wasm trap", []string{"testdata/guest.wasm", "boom"}, exitFail, "", []string{"error: testdata/guest.wasm: boom: trap: unreachable", "boom()"}},
		{"lua error has file:line first", []string{"testdata/guest.lua", "boom"}, exitFail, "", []string{"error: testdata/guest.lua:14: boom (in boom)", "stack traceback"}},
		{"lua syntax error", []string{"testdata/broken.lua", "update", "1"}, exitFail, "", []string{"error: testdata/broken.lua:4:"}},
		{"lua chunk not a table", []string{"testdata/number.lua", "update"}, exitFail, "", []string{"error: testdata/number.lua: the chunk returned number"}},
		{"invalid module", []string{"testdata/junk.wasm", "add"}, exitFail, "", []string{"error: testdata/junk.wasm: compile failed"}},
		{"wasm time limit", []string{"--max-time", "50ms", "testdata/guest.wasm", "spin"}, exitFail, "", []string{"error: testdata/guest.wasm: spin: execution time limit exceeded"}},
		{"a call that never returns stops by default", []string{"testdata/guest.wasm", "spin"}, exitFail, "", []string{"error: testdata/guest.wasm: spin: execution time limit exceeded"}},
		{"lua instruction limit", []string{"--max-instructions", "1000", "testdata/guest.lua", "spin"}, exitFail, "", []string{"error: testdata/guest.lua:", "instruction limit exceeded (in spin)"}},
		{"lua time limit", []string{"--max-time", "50ms", "testdata/guest.lua", "spin"}, exitFail, "", []string{"error: testdata/guest.lua:", "execution time limit exceeded (in spin)"}},
		{"wasm memory limit", []string{"--max-memory", "64KiB", "testdata/bigmem.wasm", "pages"}, exitFail, "", []string{"error: testdata/bigmem.wasm: memory limit exceeded: initial memory of 262144 bytes, limit 65536"}},
		{"wasm memory within the limit", []string{"--max-memory", "1MiB", "testdata/bigmem.wasm", "pages"}, exitOK, "4", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			needTools(t, tt.args...)
			r := runCmd(t, append([]string{"call"}, tt.args...)...)
			if r.code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			if tt.stdout != "" {
				assertJSON(t, r.stdout, tt.stdout)
			} else if r.stdout != "" {
				t.Errorf("a failed call printed %q on stdout", r.stdout)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
		})
	}
}

// A trap in a C script names its source line, by its path beside the module's
// as given (whatever its directory's holds: a space, an '=' that clang's path
// options split at), under
// the time limit call sets by default (which rewrites the code to meter it) and
// without one: call builds C with debug information.
func TestCallTrapNamesCLine(t *testing.T) {
	testtool.Need(t, "clang", "wasm-ld")
	dir := filepath.Join(t.TempDir(), "a=b c")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "enemy.c")
	code := "int divide(int a, int b) {\n\treturn a / b;\n}\n\n__attribute__((noinline)) int hit(int a) {\n\treturn divide(a, a - 1) + 1;\n}\n"
	if err := os.WriteFile(src, []byte(code), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, flags := range [][]string{nil, {"--max-time", "0"}} {
		r := runCmd(t, append(append([]string{"call"}, flags...), src, "hit", "1")...)
		line := regexp.MustCompile(`(?m)(^|\s|\()` + regexp.QuoteMeta(src) + `:2:`) // as the module is named
		if r.code != exitFail || !strings.Contains(r.stderr, "trap: integer divide by zero") || !line.MatchString(r.stderr) {
			t.Errorf("call %v: exit %d, stderr:\n%s\nwant the trap and enemy.c:2", flags, r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "error: "+src+": hit: trap") { // the file given, not the enemy.wasm built (helper-211)
			t.Errorf("call %v: stderr:\n%s\nwant the error to name %s", flags, r.stderr, src)
		}
	}
}

// assertJSON checks that got is one line holding the JSON value want.
func assertJSON(t *testing.T, got, want string) {
	t.Helper()
	if strings.Count(got, "\n") != 1 || !strings.HasSuffix(got, "\n") {
		t.Errorf("output %q is not one line", got)
	}
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("output %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Errorf("printed %s, want %s", gb, wb)
	}
}

// TestMissingBuildTool: a .wat that cannot be built because wat2wasm is not on PATH
// fails naming the file and the tool.
func TestMissingBuildTool(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, args := range [][]string{{"call", "testdata/guest.wat", "add", "1", "2"}, {"inspect", "testdata/guest.wat"}} {
		t.Run(args[0], func(t *testing.T) {
			r := runCmd(t, args...)
			want := `error: testdata/guest.wat: build tool not found: exec: "wat2wasm"`
			if r.code != exitFail || !strings.Contains(r.stderr, want) {
				t.Errorf("exit %d, stderr lacks %q:\n%s", r.code, want, r.stderr)
			}
		})
	}
}

// brokenPipe is a stdout whose reader has gone: every write fails as a write to
// such a pipe does.
type brokenPipe struct{}

func (brokenPipe) Write([]byte) (int, error) {
	return 0, &fs.PathError{Op: "write", Path: "/dev/stdout", Err: syscall.EPIPE}
}

// TestCallReaderGone: a result that cannot be written because the reader of
// stdout has gone (hotscript call f.lua f | true) stops call as the first Ctrl-C
// does, exit code 130 and "interrupted", whether or not the SIGPIPE has cancelled
// the context yet; another write error is a failure.
func TestCallReaderGone(t *testing.T) {
	tests := []struct {
		name   string
		stdout io.Writer
		code   int
		stderr string
	}{
		{"broken pipe", brokenPipe{}, exitInterrupted, "hotscript call: interrupted\n"},
		{"other write error", failingWriter{}, exitFail, "error: disk full\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errOut bytes.Buffer
			code := run([]string{"call", "testdata/guest.lua", "add", "2", "3"}, tt.stdout, &errOut)
			if code != tt.code || errOut.String() != tt.stderr {
				t.Errorf("exit %d, stderr %q; want %d, %q", code, errOut.String(), tt.code, tt.stderr)
			}
		})
	}
}

// failingWriter fails every write with an error that is no broken pipe.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
