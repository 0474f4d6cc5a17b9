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

// File refuses a file larger than MaxSize without reading it (a sparse one
// here), and reads one of a size its first buffer holds whole.
func TestFileSize(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.wasm")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := File(big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("File of %d bytes = %v, want ErrTooLarge", MaxSize+1, err)
	}
	for _, n := range []int{0, 1, 4095, 4096, 1 << 20} {
		want := make([]byte, n)
		for i := range want {
			want[i] = byte(i)
		}
		path := filepath.Join(dir, "f")
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := File(path); err != nil || string(got) != string(want) {
			t.Errorf("File of %d bytes: %d bytes, %v", n, len(got), err)
		}
	}
}
