// Package fsread reads script files without the hang a named pipe causes: a
// FIFO opened for reading blocks until a writer comes, for good if none does,
// and a script path can hold one, by mistake or swapped in after a stat.
package fsread

import (
	"errors"
	"io"
	"io/fs"
	"os"
)

// ErrNotRegular is File's error, inside a *fs.PathError, for a path that holds
// something other than a regular file: a named pipe, a device, a directory.
var ErrNotRegular = errors.New("not a regular file")

// File reads path, following symbolic links, if it is a regular file. It opens
// without blocking and looks at what it opened, so that no stat before it can
// be raced.
func File(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|nonblock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: path, Err: ErrNotRegular}
	}
	return io.ReadAll(f)
}
