//go:build unix

package fsread

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/hotscript/hotscript/internal/testtool"
)

// File refuses a named pipe at once (os.ReadFile would block until a writer
// opened it) and reads a regular file.
func TestFileRefusesPipes(t *testing.T) {
	dir := t.TempDir()
	pipe := filepath.Join(dir, "a.lua")
	if err := syscall.Mkfifo(pipe, 0o644); err != nil {
		t.Fatal(err)
	}
	err := testtool.Returns(t, "reading a named pipe", func() error {
		_, err := File(pipe)
		return err
	})
	if !errors.Is(err, ErrNotRegular) {
		t.Fatalf("File of a pipe = %v, want ErrNotRegular", err)
	}
	file := filepath.Join(dir, "b.lua")
	if err := os.WriteFile(file, []byte("return {}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := File(file); err != nil || string(b) != "return {}" {
		t.Fatalf("File of a file = %q, %v", b, err)
	}
}
