package watch

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/testtool"
	"github.com/hotscript/hotscript/wasm"
)

const buildDebounce = 20 * time.Millisecond

// TestBuildOutcomes runs each outcome of a build step through a real Watcher, with
// the fake tool (see tool_test.go) standing in for a compiler.
func TestBuildOutcomes(t *testing.T) {
	t.Parallel()
	missing := BuildStep{Command: []string{"hotscript-no-such-tool", "{src}", "{out}"}}
	timeout := fakeStep("sleep")
	timeout.Timeout = 100 * time.Millisecond
	cases := []struct {
		name    string
		step    BuildStep
		data    string   // want Data
		log     []string // want in BuildLog
		err     []error  // want errors.Is(ev.Err, each)
		message []string // want in ev.Err.Error()
	}{
		{name: "success", step: fakeStep("copy"), data: "HELLO", log: []string{"copied x.src"}},
		{name: "success with warnings", step: fakeStep("warn"), data: "HELLO", log: []string{"x.src:1:1: warning: be careful"}},
		{
			name: "tool reports an error", step: fakeStep("fail"),
			log: []string{"x.src:2:7: error: bad token"}, err: []error{ErrBuild},
			message: []string{"x.src", "exit status 1", "x.src:2:7: error: bad token"},
		},
		{
			name: "tool writes no output", step: fakeStep("silent"),
			err: []error{ErrBuild}, message: []string{"x.src", "wrote no output"},
		},
		{
			name: "tool prints too much", step: fakeStep("flood"),
			log: []string{"xxxx", "more bytes of tool output dropped"}, err: []error{ErrBuild},
		},
		{
			name: "tool runs too long", step: timeout,
			err: []error{ErrBuild, ErrBuildTimeout}, message: []string{"x.src", "timed out after 100ms"},
		},
		{
			name: "tool not on PATH", step: missing,
			err: []error{ErrBuild, ErrToolNotFound}, message: []string{"x.src", "hotscript-no-such-tool"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, Options{Debounce: buildDebounce, Build: map[string]BuildStep{".src": tc.step}}, nil)
			h.write("x.src", "hello")
			ev := h.next()
			if ev.Path != h.path("x.src") || ev.Output != tc.step.output(h.path("x.src")) || ev.Op != Changed {
				t.Fatalf("event %v, Output %q: want Changed x.src with the step's Output", ev, ev.Output)
			}
			if string(ev.Data) != tc.data {
				t.Errorf("Data = %q, want %q", ev.Data, tc.data)
			}
			for _, s := range tc.log {
				if !strings.Contains(ev.BuildLog, s) {
					t.Errorf("BuildLog %q does not contain %q", ev.BuildLog, s)
				}
			}
			if len(ev.BuildLog) > MaxBuildLog+100 {
				t.Errorf("BuildLog has %d bytes, more than MaxBuildLog", len(ev.BuildLog))
			}
			if len(tc.err) == 0 {
				if ev.Err != nil {
					t.Fatalf("Err = %v", ev.Err)
				}
				return
			}
			for _, target := range tc.err {
				if !errors.Is(ev.Err, target) {
					t.Errorf("Err = %v, want errors.Is %v", ev.Err, target)
				}
			}
			var be *BuildError
			if !errors.As(ev.Err, &be) || be.Path != h.path("x.src") || be.Log != ev.BuildLog {
				t.Errorf("Err = %#v, want a *BuildError for x.src carrying the log", ev.Err)
			}
			for _, s := range tc.message {
				if !strings.Contains(ev.Err.Error(), s) {
					t.Errorf("Err %q does not contain %q", ev.Err, s)
				}
			}
		})
	}
}

// TestBuiltFileRemovedNamesOutput checks that Removed events of a built file name
// its output, as Changed events do.
func TestBuiltFileRemovedNamesOutput(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{Debounce: buildDebounce, Build: map[string]BuildStep{".src": fakeStep("copy")}},
		map[string]string{"x.src": "v1"})
	h.remove("x.src")
	ev := h.next()
	if ev.Op != Removed || ev.Path != h.path("x.src") || ev.Output != h.path("x.out") {
		t.Fatalf("event %+v, want Removed x.src with Output x.out", ev)
	}
}

// TestBuildRunsInSourceDirectory checks that a tool runs where the source is, so
// that relative includes resolve.
func TestBuildRunsInSourceDirectory(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{Debounce: buildDebounce, Build: map[string]BuildStep{".src": fakeStep("cwd")}}, nil)
	h.write("mods/x.src", "x")
	if ev := h.next(); ev.Err != nil || string(ev.Data) != h.path("mods") {
		t.Fatalf("tool ran in %q (err %v), want %q", ev.Data, ev.Err, h.path("mods"))
	}
}

// TestBuildSupersededIsKilled saves again while the first build runs: the first
// build is killed and only the second version is reported.
func TestBuildSupersededIsKilled(t *testing.T) {
	t.Parallel()
	marks := t.TempDir()
	h := newHarness(t, Options{Debounce: buildDebounce, Build: map[string]BuildStep{".src": fakeStep("slow", marks)}}, nil)
	h.write("x.src", "v1")
	waitStarted(t, marks)
	h.write("x.src", "v2")
	ev := h.next()
	if ev.Err != nil || string(ev.Data) != "V2" {
		t.Fatalf("event %v with data %q, want the build of v2", ev, ev.Data)
	}
	h.quiet()
	if started, finished := count(t, marks, "started-"), count(t, marks, "finished-"); started != 2 || finished != 1 {
		t.Fatalf("%d builds started and %d finished, want 2 and 1 (the first killed)", started, finished)
	}
}

// waitStarted waits until a fake tool in mode slow or hang has started.
func waitStarted(t *testing.T, marks string) {
	t.Helper()
	deadline := time.Now().Add(eventTimeout)
	for count(t, marks, "started-") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("build never started")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func count(t *testing.T, dir, prefix string) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			n++
		}
	}
	return n
}

// TestDefaultBuildSteps builds real guest sources with wat2wasm and clang, which
// CI installs: the built bytes must equal a build by hand with the documented
// flags (scripts/build-guests.sh's, C keeping its debug information, with
// paths from the source's directory), and a
// syntax error must come back with the compiler's message and line.
func TestDefaultBuildSteps(t *testing.T) {
	t.Parallel()
	guestFlags := map[string][]string{ // as documented, with the output last
		".wat": {"wat2wasm", "--enable-all", "-o"},
		".c": {"clang", "--target=wasm32", "-O2", "-gdwarf-4", "-fdebug-compilation-dir=.", "-nostdlib", "-fno-builtin",
			"-fvisibility=default", "-mmultivalue", "-Xclang", "-target-abi", "-Xclang", "experimental-mv",
			"-Wl,--no-entry", "-Wl,--export-dynamic", "-Wl,--stack-first", "-Wl,--export=__wasm_call_ctors", "-o"},
	}
	cases := []struct {
		name, file, source string
		errLine            string // "" for a good source, else the "file:line:col: error" prefix
		exports            []string
	}{
		{name: "wat", file: "add.wat", source: "(module\n  (func (export \"add\") (param i32 i32) (result i32)\n    local.get 0\n    local.get 1\n    i32.add))\n"},
		{name: "wat syntax error", file: "bad.wat", source: "(module\n  (func (export \"add\") (param i32 i32) (result i32)\n    local.get 0\n    local.get 1\n    i32.addd))\n", errLine: "bad.wat:5:5: error"},
		{name: "c", file: "add.c", source: "static int twice(int a) { return 2 * a; }\nint add(int a, int b) { return twice(a) + b; }\n",
			exports: []string{"add"}}, // a plain C function, not twice, which is static
		{name: "c named like an option", file: "-E.c", source: "int add(int a, int b) { return a + b; }\n", exports: []string{"add"}},
		{name: "c syntax error", file: "bad.c", source: "int add(int a, int b) {\n  return a + b\n}\n", errLine: "bad.c:2:15: error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ext := filepath.Ext(tc.file)
			testtool.Need(t, map[string][]string{".wat": {"wat2wasm"}, ".c": {"clang", "wasm-ld"}}[ext]...)
			t.Parallel()
			h := newHarness(t, Options{Debounce: buildDebounce, Build: DefaultBuildSteps()}, nil)
			h.write(tc.file, tc.source)
			ev := h.next()
			if want := strings.TrimSuffix(h.path(tc.file), ext) + ".wasm"; ev.Output != want {
				t.Errorf("Output = %q, want %q", ev.Output, want)
			}
			if tc.errLine != "" {
				if !errors.Is(ev.Err, ErrBuild) || !strings.Contains(ev.BuildLog, tc.errLine) || !strings.Contains(ev.Err.Error(), tc.errLine) {
					t.Fatalf("Err = %v, BuildLog = %q; want a build error at %s", ev.Err, ev.BuildLog, tc.errLine)
				}
				return
			}
			if ev.Err != nil {
				t.Fatalf("Err = %v\n%s", ev.Err, ev.BuildLog)
			}
			ref := filepath.Join(t.TempDir(), "ref.wasm")
			src := h.path(tc.file)
			if ext == ".c" {
				src = "./" + filepath.Base(src) // its path from its directory
			}
			refBuild := exec.Command(guestFlags[ext][0], append(guestFlags[ext][1:], ref, src)...)
			refBuild.Dir = filepath.Dir(h.path(tc.file)) // as the step runs it: the debug information holds it
			if out, err := refBuild.CombinedOutput(); err != nil {
				t.Fatalf("reference build: %v\n%s", err, out)
			}
			want, _ := os.ReadFile(ref)
			if !bytes.HasPrefix(ev.Data, []byte("\x00asm")) || !bytes.Equal(ev.Data, want) {
				t.Fatalf("built %d bytes %q..., want the %d bytes of the reference build", len(ev.Data), ev.Data[:min(8, len(ev.Data))], len(want))
			}
			if tc.exports != nil {
				info, err := wasm.Inspect(context.Background(), ev.Data)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, f := range info.Exports {
					got = append(got, f.Name)
				}
				if !slices.Equal(got, tc.exports) {
					t.Errorf("exports %q, want %q", got, tc.exports)
				}
			}
			if ext == ".c" && !bytes.Contains(ev.Data, []byte(".debug_line")) {
				t.Errorf("the C module has no line table: a trap in it cannot name its source line")
			}
		})
	}
}

// TestBuildStepBuild runs a step directly, as a host does for a source it loads
// outside a watch: the same tool invocation as a watched save.
func TestBuildStepBuild(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "x.src")
	if err := os.WriteFile(src, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name string
		ctx  context.Context
		step BuildStep
		src  string
		data string  // want Data
		log  string  // want in the log
		err  []error // want errors.Is(err, each)
	}{
		{name: "success", step: fakeStep("copy"), src: src, data: "HELLO", log: "copied x.src"},
		{name: "relative source", step: fakeStep("cwd"), src: "x.src", data: dir},
		{name: "tool reports an error", step: fakeStep("fail"), src: src, log: "x.src:2:7: error: bad token", err: []error{ErrBuild}},
		{name: "cancelled", ctx: cancelled, step: fakeStep("copy"), src: src, err: []error{ErrBuild, context.Canceled}},
		{name: "no command", step: BuildStep{}, src: src, err: []error{ErrInvalidOptions}},
		{name: "negative timeout", step: BuildStep{Command: []string{"true"}, Timeout: -1}, src: src, err: []error{ErrInvalidOptions}},
	}
	t.Chdir(dir)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := cmp.Or(tc.ctx, context.Background())
			data, log, err := tc.step.Build(ctx, tc.src)
			if string(data) != tc.data || !strings.Contains(log, tc.log) {
				t.Errorf("Build = %q, log %q; want %q, log with %q", data, log, tc.data, tc.log)
			}
			for _, target := range tc.err {
				if !errors.Is(err, target) {
					t.Errorf("err = %v, want errors.Is %v", err, target)
				}
			}
			if len(tc.err) == 0 && err != nil {
				t.Errorf("err = %v", err)
			}
			var be *BuildError
			if errors.As(err, &be) && (be.Path != src || be.Log != log) {
				t.Errorf("BuildError %+v, want the absolute source and the log", be)
			}
		})
	}
}

// TestBuildRead checks each way BuildRead ends: the build of the read given
// when the file stays as read, of a later read when a save lands during the
// build, nothing when the file keeps changing or goes, and reread's error.
func TestBuildRead(t *testing.T) {
	t.Parallel()
	failRead := errors.New("read failed")
	cases := []struct {
		name    string
		mode    string
		noInfo  bool  // the first read has no stat
		readErr error // reread fails so, after reading
		ok      bool
		err     error
		source  string // want Built.Source.Bytes
		rereads int
	}{
		{name: "unchanged", mode: "copy", ok: true, source: "v1"},
		{name: "saved as it built", mode: "resave", ok: true, source: "v1+", rereads: 1},
		{name: "still changing", mode: "grow", ok: false, rereads: 2},
		{name: "gone", mode: "vanish", ok: false},
		{name: "a directory now", mode: "todir", ok: false},
		{name: "unreadable when read again", mode: "resave", readErr: failRead, ok: true, err: failRead, rereads: 1},
		{name: "gone when read again", mode: "resave", readErr: fs.ErrNotExist, ok: false, rereads: 1},
		{name: "no stat to compare", mode: "grow", noInfo: true, ok: true, source: "v1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := filepath.Join(t.TempDir(), "x.src")
			if err := os.WriteFile(src, []byte("v1"), 0o644); err != nil {
				t.Fatal(err)
			}
			rereads := 0
			read := func() (Read, error) {
				info, err := os.Stat(src)
				if err != nil {
					return Read{}, err
				}
				b, err := os.ReadFile(src)
				return Read{Info: info, Bytes: b}, err
			}
			first, err := read()
			if err != nil {
				t.Fatal(err)
			}
			if tc.noInfo {
				first.Info = nil
			}
			b, ok, err := fakeStep(tc.mode).BuildRead(context.Background(), src, first, func() (Read, error) {
				rereads++
				rd, err := read()
				return rd, cmp.Or(tc.readErr, err)
			})
			if ok != tc.ok || !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) || rereads != tc.rereads {
				t.Fatalf("BuildRead: ok %v, err %v, %d rereads; want %v, %v, %d", ok, err, rereads, tc.ok, tc.err, tc.rereads)
			}
			if ok && err == nil && (string(b.Source.Bytes) != tc.source || string(b.Data) != strings.ToUpper(tc.source) || b.Err != nil) {
				t.Errorf("built %q (%v) of %q; want %q built", b.Data, b.Err, b.Source.Bytes, tc.source)
			}
			if ok && err == nil && tc.noInfo != (b.Source.Info == nil) {
				t.Errorf("Source.Info = %v", b.Source.Info)
			}
		})
	}
}

// TestKilledBuildLeavesNothing checks that a build killed by its Timeout, by its
// context (a newer save) or by Close kills the processes its tool started, at once:
// a shell's sleep here, clang's wasm-ld in life. Left running, they would hold the
// output pipe open and delay the end of the build by exec's WaitDelay (a second).
// Where /proc lists processes, it also checks that none is left. The temporary
// file the tool made in $TMPDIR, as clang does its objects, is gone too.
func TestKilledBuildLeavesNothing(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("builds are killed with their process group on Unix only")
	}
	t.Parallel()
	const prompt = 500 * time.Millisecond // much less than WaitDelay
	// step sleeps in a child of the shell; marker, the sleep's argument, names
	// the processes of one case in /proc: the shell's and, once it has started,
	// the sleep's ("sleep\x00" + marker).
	step := func(marker string) BuildStep {
		return BuildStep{Command: []string{"sh", "-c", `: > "${TMPDIR:-/tmp}/hotscript-test-` + marker + `"; sleep ` + marker + `; cp "$0" "$1"`, "{src}", "{out}"}}
	}
	cases := []struct {
		name string
		kill func(t *testing.T, step BuildStep, marker string) error // returns the build's error, if it has one
	}{{
		name: "timeout",
		kill: func(t *testing.T, step BuildStep, marker string) error {
			step.Timeout = 200 * time.Millisecond
			src := filepath.Join(t.TempDir(), "x.src")
			os.WriteFile(src, []byte("x"), 0o644)
			start := time.Now()
			_, _, err := step.Build(t.Context(), src)
			if took := time.Since(start); took > step.Timeout+prompt {
				t.Errorf("a build with a Timeout of %v took %v", step.Timeout, took)
			}
			return err
		},
	}, {
		name: "context cancelled",
		kill: func(t *testing.T, step BuildStep, marker string) error {
			src := filepath.Join(t.TempDir(), "x.src")
			os.WriteFile(src, []byte("x"), 0o644)
			ctx, cancel := context.WithCancel(t.Context())
			waited := make(chan struct{})
			go func() {
				defer close(waited)
				waitProcess(t, "sleep\x00"+marker)
				cancel()
			}()
			_, _, err := step.Build(ctx, src)
			<-waited // before the test ends: waitProcess may report
			return err
		},
	}, {
		name: "Close",
		kill: func(t *testing.T, step BuildStep, marker string) error {
			h := newHarness(t, Options{Debounce: buildDebounce, Build: map[string]BuildStep{".src": step}}, nil)
			h.write("x.src", "x")
			waitProcess(t, "sleep\x00"+marker)
			start := time.Now()
			if err := h.w.Close(t.Context()); err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took > prompt {
				t.Errorf("Close took %v while a build ran", took)
			}
			return nil
		},
	}}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			marker := fmt.Sprintf("7.31415%07d%d", os.Getpid(), i) // all of one length: none contains another
			err := tc.kill(t, step(marker), marker)
			if err != nil && !errors.Is(err, ErrBuild) {
				t.Errorf("err = %v, want a *BuildError", err)
			}
			for _, dir := range []string{os.TempDir(), "/tmp"} {
				if left := filepath.Join(dir, "hotscript-test-"+marker); fileThere(left) {
					os.Remove(left)
					t.Errorf("the killed tool's temporary file %s is left", left)
				}
			}
			deadline := time.Now().Add(prompt)
			for running, _ := processRunning(marker); running; running, _ = processRunning(marker) {
				if time.Now().After(deadline) {
					t.Fatalf("a process running %q is left after the build was killed", marker)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// processRunning reports whether a process whose command line contains s is
// running, and whether the system lists processes in /proc, so that it can tell.
func processRunning(s string) (running, ok bool) {
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, path := range cmdlines {
		if data, err := os.ReadFile(path); err == nil && bytes.Contains(data, []byte(s)) {
			return true, true
		}
	}
	return false, len(cmdlines) > 0
}

// waitProcess waits until a process whose command line contains s runs, or, where
// there is no /proc to tell, long enough for one to have started.
func waitProcess(t *testing.T, s string) {
	deadline := time.Now().Add(eventTimeout)
	for {
		running, ok := processRunning(s)
		switch {
		case !ok:
			time.Sleep(300 * time.Millisecond)
			return
		case running:
			return
		case time.Now().After(deadline):
			t.Errorf("no process running %q within %v", s, eventTimeout)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A build error's Summary is the first line that reports an error, not a
// warning the tool printed first.
func TestBuildErrorSummary(t *testing.T) {
	for _, tc := range []struct{ log, want string }{
		{"w.c:2:48: warning: shift count >= width of type\n  return x << 40;\n\nw.c:3:30: error: use of undeclared identifier 'y'\n1 warning and 1 error generated.\n",
			"w.c:3:30: error: use of undeclared identifier 'y'"},
		{"wasm-ld: error: /tmp/w-1.o: undefined symbol: f\nclang: error: linker command failed\n", "wasm-ld: error: /tmp/w-1.o: undefined symbol: f"},
		{"\n  killed by a signal\n", "killed by a signal"},
		{"s.c:2:33: warning: if statement has empty body\nvoid update(float dt) { if (dt > 1) ; say(\"x: error: slow\"); }\n  ^\ns.c:3:23: error: expected ';'\n",
			"s.c:3:23: error: expected ';'"},
		{"/my games/s.c:3:23: error: expected ';'\n", "/my games/s.c:3:23: error: expected ';'"},
		{"w.c:1:2: warning: \"heads up\" [-W#warnings]\n#warning \"heads up\"\n ^\nw.c:2:10: fatal error: 'nothere.h' file not found\n",
			"w.c:2:10: fatal error: 'nothere.h' file not found"},
		{"In file included from w.c:1:\nh.h:1:10: fatal error: 'x.h' file not found\n", "h.h:1:10: fatal error: 'x.h' file not found"},
		{"C:\\s\\e.c:1:21: warning: w\nC:\\s\\e.c:2:21: error: u\n", "C:\\s\\e.c:2:21: error: u"},
		{"", ""},
	} {
		e := &BuildError{Path: "w.c", Tool: "clang", Log: tc.log, Err: errors.New("exit status 1")}
		if got := e.Summary(); got != tc.want {
			t.Errorf("Summary of %q = %q, want %q", tc.log, got, tc.want)
		}
		if tc.want != "" && !strings.HasSuffix(e.Error(), ": "+tc.want) {
			t.Errorf("Error() = %q, want it to end with the summary", e.Error())
		}
	}
}

// fileThere reports whether there is a file at path.
func fileThere(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// A build that cannot make its temporary directory says that is what failed,
// and where (TMPDIR), not only what the system said of the path.
func TestBuildWithoutTempDir(t *testing.T) {
	src := filepath.Join(t.TempDir(), "x.src")
	if err := os.WriteFile(src, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "gone"))
	_, _, err := fakeStep("copy").Build(context.Background(), src)
	if !errors.Is(err, ErrBuild) || !strings.Contains(err.Error(), "temporary directory") || !strings.Contains(err.Error(), "TMPDIR") {
		t.Errorf("build with TMPDIR missing: %v, want a build error saying the temporary directory (TMPDIR) failed", err)
	}
}

// A build whose output is past 64 MiB fails as a file saved that large does
// (ErrTooLarge), unread: a source cannot slip a module past the limit.
func TestBuildOutputTooLarge(t *testing.T) {
	src := filepath.Join(t.TempDir(), "x.src")
	if err := os.WriteFile(src, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	step := BuildStep{Command: []string{"sh", "-c", `truncate -s 67108865 "$1"`, "sh", "{out}"}}
	if _, _, err := step.Build(context.Background(), src); !errors.Is(err, ErrTooLarge) || !errors.Is(err, ErrBuild) ||
		strings.Contains(err.Error(), "wrote no output") {
		t.Errorf("a build of a 64 MiB + 1 output: %v, want a build error wrapping ErrTooLarge (not 'wrote no output')", err)
	}
}
