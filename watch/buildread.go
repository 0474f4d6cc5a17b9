package watch

import (
	"context"
	"errors"
	"io/fs"
	"os"

	"github.com/hotscript/hotscript/internal/fsread"
)

// Read is one read of a file: what a stat said of it just before its bytes
// were read, and the bytes.
type Read struct {
	Info  fs.FileInfo // nil when the stat failed: a later save cannot be told from this one
	Bytes []byte
}

// Built is a build of a source file and the read of the source it is of.
type Built struct {
	Source Read
	Data   []byte // the built bytes; nil when Err is set
	Log    string // what the tool printed
	Err    error  // the build failed: a *BuildError, as from Build
}

// maxBuildTries is how many times BuildRead builds a file that changes as it
// builds before it gives up (its next save reports it).
const maxBuildTries = 3

// BuildRead builds the source file src as Build does, after a read of it
// found r, and sees that the build is of r's bytes. The tool reads src itself,
// so a save landing after the read may be what it built; a program that takes
// the bytes it read for the code that runs (as a host takes Event.Source)
// would be wrong about it. So when a stat after the build says src changed
// since r.Info (see Unchanged), reread reads it again, a stat and then its
// bytes, and it is built again: up to three builds in all. It is how a Watcher
// builds a source, and how a program that reads sources outside a watch gets
// the same guarantee.
//
// It returns the build and the read it is of, r or reread's last. ok is false
// when src is gone, by a stat after a build or by reread's error matching
// fs.ErrNotExist (which a caller may return for a read it wants to give up
// on), or a stat after a build finds no regular file there (a directory, a
// named pipe, which reread is then not asked to read), or src is still
// changing after the third build: its next save says it. Another error from reread is returned as err,
// for the caller to report as a failed read (a file changed into one past 64
// MiB). A stat that fails otherwise (its directory
// made unsearchable) says nothing of the file: the build stands as of the
// read, as it does when r.Info is nil. When ctx ends, BuildRead returns what
// it has.
func (s BuildStep) BuildRead(ctx context.Context, src string, r Read, reread func() (Read, error)) (b Built, ok bool, err error) {
	for tries := 1; ; tries++ {
		b = Built{Source: r}
		if b.Data, b.Log, b.Err = s.Build(ctx, src); b.Err != nil {
			b.Data = nil
		}
		if r.Info == nil || ctx.Err() != nil {
			return b, true, nil
		}
		again, err := os.Stat(src)
		switch {
		case err == nil && Unchanged(r.Info, again):
			return b, true, nil
		case err != nil && !vanished(err):
			return b, true, nil // no news of the file: as read
		case err != nil || !again.Mode().IsRegular() || tries == maxBuildTries:
			return Built{}, false, nil // gone, or not a file now, or still changing
		}
		if r, err = reread(); ctx.Err() != nil {
			return b, true, nil
		}
		switch {
		case vanished(err) || errors.Is(err, fsread.ErrNotRegular):
			return Built{}, false, nil
		case err != nil:
			return Built{}, true, err
		}
	}
}
