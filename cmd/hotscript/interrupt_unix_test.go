//go:build unix

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCallIntoClosedPipe: call into a pipe whose reader has gone (hotscript call
// f.lua f | true) exits 130 saying it was interrupted, every time: the write's
// EPIPE and the SIGPIPE that cancels the context race, and either is the stop.
func TestCallIntoClosedPipe(t *testing.T) {
	for i := range 8 {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		r.Close() // gone before the result is written
		cmd := exec.Command(os.Args[0], "call", "testdata/guest.lua", "add", "2", "3")
		cmd.Env = append(os.Environ(), mainEnv+"=1")
		var errOut strings.Builder
		cmd.Stdout, cmd.Stderr = w, &errOut
		err = cmd.Run()
		w.Close()
		if code := cmd.ProcessState.ExitCode(); code != exitInterrupted || errOut.String() != "hotscript call: interrupted\n" {
			t.Fatalf("run %d: exit code %d (%v), stderr %q; want %d and interrupted", i, code, err, errOut.String(), exitInterrupted)
		}
	}
}

// escapeEnv set to a file's name makes the test binary a build tool's child that
// leaves the tool's process group, which Ctrl-C kills, writes its process id to
// the file and keeps the tool's output open for 30 s, as a compiler's server may:
// the build then waits a second (watch's WaitDelay) before it removes its
// directory.
const escapeEnv = "HOTSCRIPT_TEST_ESCAPE"

func init() {
	if pids := os.Getenv(escapeEnv); pids != "" {
		_ = syscall.Setpgid(0, 0)
		if os.WriteFile(pids+".tmp", []byte(strconv.Itoa(os.Getpid())), 0o644) == nil {
			_ = os.Rename(pids+".tmp", pids)
		}
		time.Sleep(30 * time.Second)
		os.Exit(0)
	}
}

// TestSecondInterruptDuringBuild: a second Ctrl-C while the first is still
// stopping a build of call or inspect (its tool killed, the build waiting for the
// tool's output to close) ends the process at once, skipping the build's own
// removal of its temporary directory: nothing of it may be left in TMPDIR.
func TestSecondInterruptDuringBuild(t *testing.T) {
	for _, name := range []string{"call", "inspect"} {
		t.Run(name, func(t *testing.T) {
			tmp := t.TempDir()
			bin, pids, args := buildWithTool(t, name, func(pids string) string {
				return escapeEnv + "=" + pids + " " + os.Args[0] + " &\nwait\n"
			})
			cmd, out, exited := startMain(t, []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "TMPDIR=" + tmp}, args...)
			var child int
			waitUntil(t, "the tool's child to start", func() bool {
				b, err := os.ReadFile(pids)
				child, _ = strconv.Atoi(string(b))
				return err == nil
			})
			t.Cleanup(func() { _ = syscall.Kill(child, syscall.SIGKILL) })

			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond) // the build waits a second for the child
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			endsInterrupted(t, cmd, exited, out)
			if left := dirNames(t, tmp); len(left) > 0 {
				t.Errorf("temporary files are left: %s", left)
			}
		})
	}
}

// TestOwnTempDirRemoved: the command's own temporary directory is gone once it
// ends, whether its help went into a pipe whose reader had left (which killed
// it, before its signals were watched) or the terminal hung up (SIGHUP).
func TestOwnTempDirRemoved(t *testing.T) {
	left := func(t *testing.T, tmp string) {
		t.Helper()
		if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
			t.Errorf("left in TMPDIR: %v", entries)
		}
	}
	for _, args := range [][]string{{"help"}, {"run", "--help"}, {"bogus"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			tmp := t.TempDir()
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			r.Close()
			cmd := exec.Command(os.Args[0], args...)
			cmd.Env = append(os.Environ(), mainEnv+"=1", "TMPDIR="+tmp)
			cmd.Stdout, cmd.Stderr = w, w
			_ = cmd.Run()
			w.Close()
			left(t, tmp)
		})
	}
	t.Run("SIGHUP", func(t *testing.T) {
		tmp := t.TempDir()
		dir := scriptDir(t, map[string]string{"enemy.lua": "demo/enemy_v1.lua"})
		cmd, out, exited := startMain(t, []string{"TMPDIR=" + tmp}, "run", dir)
		out.waitFor(t, 0, "enemy.lua", "loaded")
		if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Fatalf("run did not stop on SIGHUP; output:\n%s", out)
		}
		left(t, tmp)
	})
}

// TestTwoInterruptsAtOnceKillTheBuild: two Ctrl-Cs sent together during a
// build of call or inspect end the process with the build's tool killed: the
// second one's exit does not outrun the kill the first one set off.
func TestTwoInterruptsAtOnceKillTheBuild(t *testing.T) {
	for _, name := range []string{"call", "inspect"} {
		t.Run(name, func(t *testing.T) {
			bin, pids, args := buildWithTool(t, name, func(pids string) string {
				return "echo $$ > " + pids + ".tmp && mv " + pids + ".tmp " + pids + "\nexec sleep 30\n"
			})
			for round := range 10 {
				os.Remove(pids)
				cmd, out, exited := startMain(t, []string{"PATH=" + bin + ":" + os.Getenv("PATH")}, args...)
				var tool int
				waitUntil(t, "the tool to start", func() bool {
					b, err := os.ReadFile(pids)
					tool, _ = strconv.Atoi(strings.TrimSpace(string(b)))
					return err == nil && tool > 0
				})
				t.Cleanup(func() { _ = syscall.Kill(tool, syscall.SIGKILL) })
				for range 2 {
					if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
						t.Fatal(err)
					}
				}
				endsInterrupted(t, cmd, exited, out)
				for deadline := time.Now().Add(2 * time.Second); alive(tool); time.Sleep(10 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatalf("round %d: the build's tool (pid %d) runs on after the command ended", round, tool)
					}
				}
			}
		})
	}
}

// buildWithTool returns a directory holding a clang that runs the shell script
// script(pids) (pids: a file in that directory for the script's process ids),
// and the arguments of command (call or inspect) for a .c it builds with it.
func buildWithTool(t *testing.T, command string, script func(pids string) string) (bin, pids string, args []string) {
	t.Helper()
	bin = t.TempDir()
	pids = filepath.Join(bin, "pid")
	if err := os.WriteFile(filepath.Join(bin, "clang"), []byte("#!/bin/sh\n"+script(pids)), 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "x.c")
	if err := os.WriteFile(src, []byte("not built anyway\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args = []string{command, src}
	if command == "call" {
		args = append(args, "get")
	}
	return bin, pids, args
}

// endsInterrupted waits for cmd, started by startMain, to end after two
// SIGINTs, with exitInterrupted.
func endsInterrupted(t *testing.T, cmd *exec.Cmd, exited <-chan struct{}, out *syncBuffer) {
	t.Helper()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("still running 10 s after two SIGINTs; output:\n%s", out)
	}
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Errorf("exit code %d (%v), want %d; output:\n%s", code, cmd.ProcessState, exitInterrupted, out)
	}
}

// TestInterruptSentTwiceAtOnce: timeout -s INT sends its SIGINT to the process
// and then to its group, microseconds apart: that is one interrupt, and run
// stops with its summary and exit 0, not the forced exit of a second Ctrl-C
// (helper-184: exit 130 in 2-6 runs of 10).
func TestInterruptSentTwiceAtOnce(t *testing.T) {
	dir := scriptDir(t, map[string]string{"enemy.lua": "demo/enemy_v1.lua"})
	for round := range 5 {
		cmd, out, exited := startMain(t, nil, "run", dir)
		out.waitFor(t, 0, "enemy.lua", "loaded")
		for range 2 {
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Fatalf("run did not stop; output:\n%s", out)
		}
		if code := cmd.ProcessState.ExitCode(); code != 0 {
			t.Fatalf("round %d: exit code %d, want 0; output:\n%s", round, code, out)
		}
	}
}
