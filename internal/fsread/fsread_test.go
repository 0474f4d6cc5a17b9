//go:build unix

package fsread

import (
	"errors"
	"io/fs"
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

// ReadStat reads a file with what os.Lstat and a stat of the file say of it:
// a link is itself to os.Lstat and its target to the stat; a path holding no
// regular file is refused (not opened: a pipe would not block anyway), a
// missing one says so, and a link whose target is gone has an Lstat only.
func TestReadStat(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a.lua")
	if err := os.WriteFile(file, []byte("return 1"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "l.lua")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	lst, info, b, err := ReadStat(file)
	if err != nil || string(b) != "return 1" || lst.Size() != 8 || info.Size() != 8 {
		t.Fatalf("ReadStat(file) = %v, %v, %q, %v", lst, info, b, err)
	}
	lst, info, b, err = ReadStat(link)
	if err != nil || string(b) != "return 1" || lst.Mode()&fs.ModeSymlink == 0 || !info.Mode().IsRegular() || info.Size() != 8 {
		t.Fatalf("ReadStat(link) = %v, %v, %q, %v", lst, info, b, err)
	}
	pipe := filepath.Join(dir, "p.lua")
	if err := syscall.Mkfifo(pipe, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{pipe, dir} {
		if lst, info, b, err := ReadStat(p); !errors.Is(err, ErrNotRegular) || lst == nil || info == nil || b != nil {
			t.Errorf("ReadStat(%s) = %v, %v, %q, %v; want its stats and ErrNotRegular", p, lst, info, b, err)
		}
	}
	if lst, info, _, err := ReadStat(filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) || lst != nil || info != nil {
		t.Errorf("ReadStat(missing) = %v, %v, %v", lst, info, err)
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if lst, info, _, err := ReadStat(link); !errors.Is(err, fs.ErrNotExist) || lst == nil || info != nil {
		t.Errorf("ReadStat(dangling link) = %v, %v, %v; want its Lstat and ErrNotExist", lst, info, err)
	}
}
