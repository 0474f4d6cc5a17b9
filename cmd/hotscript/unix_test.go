//go:build unix

package main

import (
	"os"
	"os/exec"
	"path/filepath"
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
			cmd := exec.Command(os.Args[0], "run", "--max-time", "0", dir)
			cmd.Env = append(os.Environ(), mainEnv+"=1")
			out := newSyncBuffer()
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan struct{})
			go func() {
				defer close(exited)
				_ = cmd.Wait()
			}()
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
				<-exited
			})

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
