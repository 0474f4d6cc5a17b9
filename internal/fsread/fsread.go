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

// MaxSize is the most bytes File reads: no script is that large, and a file
// of gigabytes dropped where scripts are watched (a video, a core dump) would
// be read whole, and copied, before anything could say it is no script.
const MaxSize = 64 << 20

// ErrTooLarge is File's error, inside a *fs.PathError, for a file of more than
// MaxSize bytes.
var ErrTooLarge = errors.New("larger than a script may be (64 MiB)")

// ReadStat reads path as a save of a script: what os.Lstat says of path (a
// link is itself: lst), then a stat of the file it stands for (a link's
// target: info) and its bytes (File), in that order, so that a save landing
// after the stat, whose bytes b may hold, leaves a newer stat than info. info
// is nil when a stat failed, lst when os.Lstat did; a path holding no regular
// file is refused without being opened (ErrNotRegular).
func ReadStat(path string) (lst, info fs.FileInfo, b []byte, err error) {
	if lst, err = os.Lstat(path); err != nil {
		return nil, nil, nil, err
	}
	info = lst
	if lst.Mode()&fs.ModeSymlink != 0 {
		if info, err = os.Stat(path); err != nil {
			return lst, nil, nil, err
		}
	}
	if !info.Mode().IsRegular() {
		return lst, info, nil, &fs.PathError{Op: "read", Path: path, Err: ErrNotRegular}
	}
	b, err = File(path)
	return lst, info, b, err
}

// File reads path, following symbolic links, if it is a regular file of at
// most MaxSize bytes. It opens without blocking and looks at what it opened,
// so that no stat before it can be raced.
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
	if info.Size() > MaxSize {
		return nil, &fs.PathError{Op: "read", Path: path, Err: ErrTooLarge}
	}
	// Its size known, read in one buffer (ReadAll grows its own, copying),
	// one byte past it to see a file that grew meanwhile.
	b := make([]byte, 0, info.Size()+1)
	for {
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		switch {
		case len(b) > MaxSize:
			return nil, &fs.PathError{Op: "read", Path: path, Err: ErrTooLarge}
		case err == io.EOF:
			return b, nil
		case err != nil:
			return nil, err
		case len(b) == cap(b):
			b = append(b, 0)[:len(b)] // grown while read
		}
	}
}
