//go:build unix

package hotscript

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hotscript/hotscript/internal/testtool"
)

// Load of a path that holds a named pipe fails at once, naming it, where
// reading it waited for a writer for good; so does a Reload from the file.
func TestLoadRefusesPipes(t *testing.T) {
	dir := t.TempDir()
	pipe := filepath.Join(dir, "a.lua")
	if err := syscall.Mkfifo(pipe, 0o644); err != nil {
		t.Fatal(err)
	}
	h, _ := newFakeHost(t, Config{})
	err := testtool.Returns(t, "Load of a named pipe", func() error {
		_, err := h.Load(context.Background(), pipe, nil)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), pipe) || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("Load of a named pipe: %v, want an error naming it", err)
	}

	file := filepath.Join(dir, "b.lua")
	if err := os.WriteFile(file, []byte("v1"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := h.Load(context.Background(), file, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(file, 0o644); err != nil {
		t.Fatal(err)
	}
	err = testtool.Returns(t, "Reload from a file now a named pipe", func() error {
		return h.Reload(context.Background(), s, nil)
	})
	if err == nil || !strings.Contains(err.Error(), "not a regular file") || s.Version() != 1 {
		t.Fatalf("Reload from a named pipe: %v (version %d), want an error and v1 kept", err, s.Version())
	}
}
