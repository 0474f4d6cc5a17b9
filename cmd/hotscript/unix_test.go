//go:build unix

package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/testtool"
)

// TestSecondInterruptEnds: while run is stuck in a call that no context reaches (a
// WASM update that loops forever, unmetered under --max-time 0), the first SIGINT
// or SIGTERM cannot stop it cleanly; the second must end the process, with exit
// code 130.
func TestSecondInterruptEnds(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := scriptDir(t, map[string]string{"spin.wasm": "testdata/spin.wasm"})
			cmd, out, exited := startMain(t, nil, "run", "--max-time", "0", dir)

			out.waitFor(t, 0, "spin.wasm", "log", "spinning") // update is running
			// Signals sent together may arrive as one, so keep sending: from
			// the second that arrives, the process must be gone.
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			deadline := time.After(10 * time.Second)
			for {
				select {
				case <-exited:
					if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
						t.Errorf("exit code %d (%v), want %d; output:\n%s", code, cmd.ProcessState, exitInterrupted, out)
					}
					return
				case <-tick.C:
					_ = cmd.Process.Signal(sig)
				case <-deadline:
					t.Fatalf("still running after 10 s of %v every 100 ms; output:\n%s", sig, out)
				}
			}
		})
	}
}

// TestStillStoppingSaysSo: a command the first Ctrl-C has not stopped after a
// second (call stuck in an unmetered WASM loop) says that a second one ends it,
// which it then does; it said nothing, as if the Ctrl-C was lost.
func TestStillStoppingSaysSo(t *testing.T) {
	cmd, out, exited := startMain(t, nil, "call", "--max-time", "0", "testdata/spin.wasm", "update", "0.5")
	out.waitFor(t, 0, "spin.wasm", "spinning") // in the call: update logs first
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	out.waitFor(t, 0, "hotscript call: still stopping; press Ctrl-C again to end it now")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
			t.Errorf("exit code %d, want %d; output:\n%s", code, exitInterrupted, out)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("still running 10 s after the second Ctrl-C; output:\n%s", out)
	}
}

// TestNamedPipeIsNotAScript: a named pipe with a script's name is not read (reading
// it blocks until something writes to it): run skips it with a note, call and
// inspect refuse it.
func TestNamedPipeIsNotAScript(t *testing.T) {
	dir := scriptDir(t, map[string]string{"enemy.lua": "demo/enemy_v1.lua"})
	pipe := filepath.Join(dir, "pipe.lua")
	if err := syscall.Mkfifo(pipe, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"run", "--frames", "5", "--tps", "500", dir}, exitOK, "pipe.lua: not loaded: not a regular file"},
		{[]string{"call", pipe, "update", "1"}, exitFail, "error: " + pipe + ": not a regular file"},
		{[]string{"inspect", pipe}, exitFail, "error: " + pipe + ": not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.args[0], func(t *testing.T) {
			var r result
			testtool.Returns(t, "hotscript "+tt.args[0], func() error {
				r = runCmd(t, tt.args...)
				return nil
			})
			if r.code != tt.code || !strings.Contains(r.stdout+r.stderr, tt.want) {
				t.Errorf("exit %d, want %d with %q; output:\n%s%s", r.code, tt.code, tt.want, r.stdout, r.stderr)
			}
		})
	}
}

// TestInterruptEndsBuild: Ctrl-C while call or inspect builds a source ends the
// build tool and what it started, which Ctrl-C at a terminal does not reach (the
// tool runs in a process group of its own), and removes the build's temporary
// directory; the command exits 130.
func TestInterruptEndsBuild(t *testing.T) {
	tests := []struct{ tool, file, cmd string }{
		{"clang", "x.c", "call"},
		{"clang", "x.c", "inspect"},
		{"wat2wasm", "x.wat", "call"},
		{"wat2wasm", "x.wat", "inspect"},
	}
	for _, tt := range tests {
		t.Run(tt.cmd+" "+tt.file, func(t *testing.T) {
			bin, pids := slowTool(t, tt.tool)
			tmp, dir := t.TempDir(), t.TempDir()
			src := filepath.Join(dir, tt.file)
			if err := os.WriteFile(src, []byte("not built anyway\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{tt.cmd, src}
			if tt.cmd == "call" {
				args = append(args, "get")
			}
			cmd, out, exited := startMain(t, []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "TMPDIR=" + tmp}, args...)

			ids := toolStarted(t, pids)
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				t.Fatalf("still running 10 s after SIGINT; output:\n%s", out)
			}
			if code := cmd.ProcessState.ExitCode(); code != exitInterrupted || !strings.Contains(out.String(), "interrupted") {
				t.Errorf("exit code %d (%v), want %d, saying interrupted; output:\n%s", code, cmd.ProcessState, exitInterrupted, out)
			}
			for _, id := range ids {
				waitUntil(t, "the tool's process "+strconv.Itoa(id)+" to end", func() bool { return !alive(id) })
			}
			if left := dirNames(t, tmp); len(left) > 0 {
				t.Errorf("temporary files are left: %s", left)
			}
		})
	}
}

// slowTool writes a build tool named name, in a directory it returns, that starts
// a child and writes both their process ids to the file pids, then waits.
func slowTool(t *testing.T, name string) (dir, pids string) {
	dir = t.TempDir()
	pids = filepath.Join(dir, "pids")
	tool := "#!/bin/sh\nsleep 30 &\necho \"$$ $!\" > " + pids + ".tmp && mv " + pids + ".tmp " + pids + "\nwait\n"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(tool), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, pids
}

// toolStarted waits for a slowTool to start and returns its process ids. The
// test ends by killing them, should they still run.
func toolStarted(t *testing.T, pids string) []int {
	t.Helper()
	var ids []int
	waitUntil(t, "the tool to start", func() bool {
		b, err := os.ReadFile(pids)
		for _, f := range strings.Fields(string(b)) {
			id, _ := strconv.Atoi(f)
			ids = append(ids, id)
		}
		return err == nil
	})
	t.Cleanup(func() { _ = syscall.Kill(-ids[0], syscall.SIGKILL) })
	return ids
}

// TestRunInterruptedBuild: Ctrl-C (a cancelled context) while run builds a .c at
// startup kills the build, and is no failure of the script's: nothing is
// reported rejected or counted.
func TestRunInterruptedBuild(t *testing.T) {
	bin, pids := slowTool(t, "clang")
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "c.c"), []byte("int get(void) { return 1; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut := newSyncBuffer(), newSyncBuffer()
	stop, _, _ := runBackground(t, out, errOut, "run", dir)
	ids := toolStarted(t, pids)
	if code := stop(); code != exitOK {
		t.Fatalf("exit code %d; stderr:\n%s", code, errOut)
	}
	for _, id := range ids {
		waitUntil(t, "the tool's process "+strconv.Itoa(id)+" to end", func() bool { return !alive(id) })
	}
	text := out.String()
	if lines, _, _ := strings.Cut(text, "\nstopped"); strings.Contains(lines, "rejected") ||
		!strings.Contains(text, "; 0 reloads, 0 rejected\n") {
		t.Errorf("the stop is reported as the script's failure:\n%s", text)
	}
}

// waitUntil fails the test unless done returns true within 10 s.
func waitUntil(t *testing.T, what string, done func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !done(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 s for %s", what)
		}
	}
}

// alive reports whether process id runs: a zombie, which a container's first
// process may never reap, does not.
func alive(id int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(id) + "/stat")
	if err == nil {
		_, state, _ := strings.Cut(string(stat), ") ")
		return !strings.HasPrefix(state, "Z") && !strings.HasPrefix(state, "X")
	}
	return syscall.Kill(id, 0) == nil
}

// TestDemoCutShortCleansUp: the demo removes its temporary directory however it
// is cut short: by its reader going away (hotscript demo | head -3, where it would
// otherwise die of SIGPIPE), or by two quick Ctrl-Cs, whose second ends it at once.
func TestDemoCutShortCleansUp(t *testing.T) {
	start := func(t *testing.T, tmp string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "demo")
		cmd.Env = append(os.Environ(), mainEnv+"=1", "TMPDIR="+tmp)
		return cmd
	}
	wait := func(t *testing.T, cmd *exec.Cmd, tmp string, codes ...int) {
		t.Helper()
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Fatal("the demo did not end within 20 s")
		}
		if code := cmd.ProcessState.ExitCode(); !slices.Contains(codes, code) {
			t.Errorf("exit code %d (%v), want one of %v", code, cmd.ProcessState, codes)
		}
		if left := dirNames(t, tmp); len(left) > 0 {
			t.Errorf("temporary files are left: %s", left)
		}
	}
	t.Run("reader gone", func(t *testing.T) {
		tmp := t.TempDir()
		cmd := start(t, tmp)
		r, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(r)
		for i := 0; i < 3 && lines.Scan(); i++ {
		}
		r.Close() // as head does once it has its lines
		wait(t, cmd, tmp, exitOK)
	})
	t.Run("two Ctrl-Cs", func(t *testing.T) {
		tmp := t.TempDir()
		cmd := start(t, tmp)
		out := newSyncBuffer()
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		out.waitFor(t, 0, "1. Load and call") // the directory is there
		// Signals sent together may arrive as one: keep sending until it ends,
		// so that the second comes while the first's clean stop is under way.
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for {
				select {
				case <-stop:
					return
				default:
					_ = cmd.Process.Signal(syscall.SIGINT)
					time.Sleep(time.Millisecond)
				}
			}
		}()
		// The first stops it (exit 0), or a second ends it at once (130): the
		// machine's load decides. A signal after the command stopped no longer
		// ends it by the signal before it removed its temporary directory.
		wait(t, cmd, tmp, exitOK, exitInterrupted)
	})
}

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// startMain runs the test binary as the command line args, with env added to
// its environment and its output in out; exited is closed once it has exited,
// and the test's end kills it if it has not.
func startMain(t *testing.T, env []string, args ...string) (cmd *exec.Cmd, out *syncBuffer, exited <-chan struct{}) {
	t.Helper()
	cmd = exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), mainEnv+"=1"), env...)
	out = newSyncBuffer()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	return cmd, out, done
}
