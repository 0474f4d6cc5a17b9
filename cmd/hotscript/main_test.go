package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/testtool"
)

// mainEnv set to 1 makes the test binary run the command (main, with the binary's
// arguments) instead of the tests, so that a test can run it as a process of its own
// and send it signals.
const mainEnv = "HOTSCRIPT_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		main()
	}
	os.Exit(m.Run())
}

// result is what one invocation of the command produced.
type result struct {
	code           int
	stdout, stderr string
}

// runCmd runs the command line args through run, as main would.
func runCmd(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// needTools skips (or, in CI, fails) a test whose arguments name a source file that
// needs a guest toolchain to build: .wat needs wat2wasm, .c needs clang and wasm-ld.
func needTools(t *testing.T, args ...string) {
	t.Helper()
	for _, a := range args {
		switch filepath.Ext(a) {
		case ".wat":
			testtool.Need(t, "wat2wasm")
		case ".c":
			testtool.Need(t, "clang", "wasm-ld")
		}
	}
}

// syncBuffer is an io.Writer that a test can read while a command writes to it.
type syncBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	wake chan struct{} // closed and replaced on every write
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{wake: make(chan struct{})} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.wake)
	b.wake = make(chan struct{})
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits until the output has a line after offset from that contains every
// one of parts, and returns the line and the offset just past it.
func (b *syncBuffer) waitFor(t *testing.T, from int, parts ...string) (string, int) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		b.mu.Lock()
		text, wake := b.buf.String(), b.wake
		b.mu.Unlock()
		if from > len(text) {
			from = len(text)
		}
		off := from
		for _, line := range strings.SplitAfter(text[from:], "\n") {
			off += len(line)
			if strings.HasSuffix(line, "\n") && containsAll(line, parts...) {
				return strings.TrimSpace(line), off
			}
		}
		select {
		case <-wake:
		case <-deadline:
			t.Fatalf("no line with %q within 20s; output so far:\n%s", parts, text)
		}
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// runBackground starts a long-running command. done is closed when it ends, after
// which code() is its exit code; stop ends it like Ctrl-C and returns the code. The
// test fails if it does not end within 20 s of stop.
func runBackground(t *testing.T, out, errOut *syncBuffer, args ...string) (stop func() int, done <-chan struct{}, code func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	finished := make(chan struct{})
	var exit int
	go func() {
		defer close(finished)
		exit = runContext(ctx, args, out, errOut)
	}()
	stop = func() int {
		cancel()
		select {
		case <-finished:
		case <-time.After(20 * time.Second):
			t.Fatalf("hotscript %s did not stop within 20s; output:\n%s", args[0], out.String())
		}
		return exit
	}
	t.Cleanup(func() { stop() })
	return stop, finished, func() int { <-finished; return exit }
}

// saveFile replaces path the way editors do: write a temporary file, rename it over.
func saveFile(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string // each must appear on stdout
		stderr []string // each must appear on stderr
	}{
		{"no arguments", nil, exitUsage, nil, []string{"Usage:", "hotscript demo", "hotscript run", "hotscript call", "hotscript inspect"}},
		{"help", []string{"help"}, exitOK, []string{"Usage:", "hotscript demo", "hotscript help [COMMAND]"}, nil},
		{"-h", []string{"-h"}, exitOK, []string{"Usage:", "hotscript run"}, nil},
		{"--help", []string{"--help"}, exitOK, []string{"Usage:"}, nil},
		{"help run", []string{"help", "run"}, exitOK, []string{"Usage: hotscript run [flags] DIR", "--tps N", "--frames N", "--for DURATION", "--max-instructions N", "--max-time DURATION", "--max-memory SIZE", "--quiet", "(default 60)", "exit code 0, even if scripts failed"}, nil},
		{"help call", []string{"help", "call"}, exitOK, []string{"Usage: hotscript call [flags] FILE FUNC [ARG...]", "--max-time", "for Lua, the strings one call builds", "not tables"}, nil},
		{"help inspect", []string{"help", "inspect"}, exitOK, []string{"Usage: hotscript inspect [flags] FILE"}, nil},
		{"help demo", []string{"help", "demo"}, exitOK, []string{"Usage: hotscript demo [--dir DIR]", "--dir DIR"}, nil},
		{"help help", []string{"help", "help"}, exitOK, []string{"Usage:", "hotscript help [COMMAND]"}, nil},
		{"run -h", []string{"run", "-h"}, exitOK, []string{"Usage: hotscript run"}, nil},
		{"help of an unknown command", []string{"help", "fly"}, exitUsage, nil, []string{`unknown command "fly"`, "Usage:"}},
		{"help with two names", []string{"help", "run", "call"}, exitUsage, nil, []string{"at most one command"}},
		{"unknown command", []string{"fly"}, exitUsage, nil, []string{`unknown command "fly"`, "Usage:", "hotscript demo"}},
		{"bad flag", []string{"run", "--fast", "dir"}, exitUsage, nil, []string{"flag provided but not defined: -fast", "Usage: hotscript run", "hotscript help run"}},
		{"bad flag value", []string{"run", "--tps", "many", "dir"}, exitUsage, nil, []string{"invalid value \"many\" for flag -tps", "Usage: hotscript run"}},
		{"bad size", []string{"call", "--max-memory", "lots", "x.lua", "f"}, exitUsage, nil, []string{`"lots" is not a size`}},
		{"time without a unit", []string{"call", "--max-time", "2", "x.lua", "f"}, exitUsage, nil, []string{`invalid value "2" for flag -max-time: "2" needs a unit (try 2s or 2ms)`}},
		{"duration without a unit", []string{"run", "--for", "10", "."}, exitUsage, nil, []string{`invalid value "10" for flag -for: "10" needs a unit (try 10s or 10ms)`}},
		{"not a duration", []string{"run", "--for", "soon", "."}, exitUsage, nil, []string{`"soon" is not a duration (try 50ms, 2s or 1m30s)`}},
		{"no hint that fails", []string{"run", "--for", "1e3", "."}, exitUsage, nil, []string{`"1e3" is not a duration (try 50ms, 2s or 1m30s)`}},
		{"no hint of a negative", []string{"run", "--for", "-2", "."}, exitUsage, nil, []string{`"-2" is not a duration (try 50ms, 2s or 1m30s)`}},
		{"run without DIR", []string{"run"}, exitUsage, nil, []string{"needs exactly one DIR"}},
		{"run with an empty DIR", []string{"run", ""}, exitUsage, nil, []string{`hotscript run: DIR is "": name a directory`}},
		{"call with an empty FILE", []string{"call", "", "f"}, exitUsage, nil, []string{`hotscript call: FILE is "": name a script file`}},
		{"inspect with an empty FILE", []string{"inspect", ""}, exitUsage, nil, []string{`hotscript inspect: FILE is "": name a script file`}},
		{"run with flags after DIR", []string{"run", "dir", "--frames", "3"}, exitUsage, nil, []string{"flags go before DIR: hotscript run --frames 3 dir"}},
		{"call with flags after FILE", []string{"call", "x.lua", "f", "--max-time=1s"}, exitUsage, nil, []string{"flags go before FILE: hotscript call --max-time=1s x.lua f"}},
		{"run with zero tps", []string{"run", "--tps", "0", "."}, exitUsage, nil, []string{"--tps must be 1 to 10000"}},
		{"run with too many tps", []string{"run", "--tps", "10001", "."}, exitUsage, nil, []string{"--tps must be 1 to 10000"}},
		{"run with negative frames", []string{"run", "--frames", "-1", "."}, exitUsage, nil, []string{"--frames and --for not negative"}},
		{"call with a negative time limit", []string{"call", "--max-time", "-1s", "x.lua", "f"}, exitUsage, nil, []string{"--max-time must not be negative"}},
		{"run with a negative time limit", []string{"run", "--max-time", "-1s", "no-such-dir"}, exitUsage, nil, []string{"--max-time must not be negative"}},
		{"negative instructions", []string{"call", "--max-instructions", "-1", "x.lua", "f"}, exitUsage, nil, []string{"invalid value \"-1\" for flag -max-instructions"}},
		{"memory under a byte", []string{"call", "--max-memory", "0.5", "x.lua", "f"}, exitUsage, nil, []string{`"0.5" is less than one byte`}},
		{"memory in part bytes", []string{"call", "--max-memory", "1.5", "x.lua", "f"}, exitUsage, nil, []string{`"1.5" is not a whole number of bytes (with a unit: 1.5MiB)`}},
		{"memory in part bytes, unit b", []string{"call", "--max-memory", "1.5 B", "x.lua", "f"}, exitUsage, nil, []string{`"1.5 B" is not a whole number of bytes (with a unit: 1.5MiB)`}},
		{"negative memory", []string{"run", "--max-memory", "-1MiB", "."}, exitUsage, nil, []string{`"-1MiB" is not a size`}},
		{"call without FUNC", []string{"call", "x.wasm"}, exitUsage, nil, []string{"needs a FILE and a FUNC"}},
		{"call with an empty FUNC", []string{"call", "x.wasm", ""}, exitUsage, nil, []string{"FUNC is empty"}},
		{"inspect without FILE", []string{"inspect"}, exitUsage, nil, []string{"needs exactly one FILE"}},
		{"inspect of an unknown kind", []string{"inspect", "main.go"}, exitUsage, nil, []string{"unknown kind of script", ".go"}},
		{"call of an unknown kind", []string{"call", "main.go", "f"}, exitUsage, nil, []string{"hotscript call: main.go: unknown kind of script \".go\""}},
		{"unknown kind, missing file", []string{"call", "x.txt", "f"}, exitUsage, nil, []string{"x.txt: unknown kind of script"}},
		{"demo with an argument", []string{"demo", "now"}, exitUsage, nil, []string{"takes no arguments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(t, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
				}
			}
			for _, want := range tt.stderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			if strings.Contains(r.stdout+r.stderr, "\x1b[") {
				t.Errorf("colour codes written to a buffer")
			}
		})
	}
}

// TestHelpWidth: help text, the overview and each command's, fits in helpWidth
// columns.
func TestHelpWidth(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"help", "demo"}, {"help", "run"}, {"help", "call"}, {"help", "inspect"}} {
		r := runCmd(t, args...)
		for _, l := range strings.Split(r.stdout, "\n") {
			if width(l) > helpWidth {
				t.Errorf("hotscript %s: a line of %d columns:\n%s", strings.Join(args, " "), width(l), l)
			}
		}
	}
}

// TestREADMEUsage: the README's table of commands is the overview `hotscript help`
// prints.
func TestREADMEUsage(t *testing.T) {
	_, cli, ok := strings.Cut(string(readFile(t, "../../README.md")), "### The CLI\n")
	if !ok {
		t.Fatal("README.md has no CLI section")
	}
	var readme, help []string
	for _, l := range strings.Split(cli, "\n") {
		if strings.HasPrefix(l, "    hotscript ") {
			readme = append(readme, strings.TrimSpace(l))
		}
	}
	for _, l := range strings.Split(runCmd(t, "help").stdout, "\n") {
		if strings.HasPrefix(l, "  hotscript ") {
			help = append(help, strings.TrimSpace(l))
		}
	}
	if strings.Join(readme, "\n") != strings.Join(help, "\n") {
		t.Errorf("README.md lists\n%s\n\nhotscript help lists\n%s", strings.Join(readme, "\n"), strings.Join(help, "\n"))
	}
}
