package watch

import (
	"fmt"
	"os"
	"time"
)

// Op says what happened to a watched file. Its method is safe for concurrent use.
type Op uint8

const (
	// Changed reports that a file was created or saved and has been quiet for the
	// debounce interval since. The Event carries the file's bytes at that moment, or
	// the built bytes when a build step applies, or an error.
	Changed Op = iota + 1

	// Removed reports that a file the host has is gone and was not recreated
	// within the debounce interval. The host has a file it received in a Changed
	// event or that Add found, until it receives a Removed event for it: a file
	// removed while its first Changed event waits to be received yields no event
	// at all. The Event carries no data; a host typically keeps running the last
	// version and says so.
	Removed
)

// String returns "Changed" or "Removed".
func (o Op) String() string {
	switch o {
	case Changed:
		return "Changed"
	case Removed:
		return "Removed"
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// Event is the outcome of one save (or one removal) of one file.
//
// A burst of file-system activity on a path, however an editor performs its save,
// yields one Event once the path has been quiet for the debounce interval. An Event
// is a value owned by its receiver; its method is safe for concurrent use.
type Event struct {
	// Path is the absolute, cleaned path of the file that changed: the source
	// file, also for files that have a build step, and the link's path for a
	// symbolic link whose target changed.
	Path string

	// Output is the name the data stands for. It equals Path, except for a file
	// with a build step, where it is Path with the step's output extension
	// (x.wat gives x.wasm), so that a host can treat the event as the module's.
	Output string

	// Op is Changed or Removed.
	Op Op

	// Data holds the file's bytes read when the event fired or, for a file with a
	// build step, the bytes the build produced. It is nil for Removed events and
	// whenever Err is set. It may be empty, or hold a half-written file: a later
	// write to the file yields a later event with the newer bytes.
	Data []byte

	// Source holds, for a file with a build step, the source's bytes as read
	// when the event fired, before the build ran: what the save held, to compare
	// or display without reading the file again (it may have changed since). It
	// is nil for files without a build step (Data holds their bytes), for
	// Removed events, and when the source could not be read; it is set when the
	// build failed. The tool reads the source itself: a file that changed
	// between this read and the end of the build (its size, modification or
	// change time) is read and built again, up to three builds in all, so that Data
	// is built from Source and Info is of that save; a file still changing
	// after the third build, or gone, gives no event (its own activity does),
	// and one that can no longer be read gives an event of the read's error.
	Source []byte

	// Info is what os.Lstat said of Path just before the event's bytes (Data,
	// or Source for a file with a build step) were read, when the event fired:
	// the save the event reports, not whatever the file is when the event is
	// received. For a symbolic link it describes the link itself, as os.Lstat
	// does. It is nil for Removed events and when the Lstat failed. A save that
	// lands between the Lstat and the read may give the event its bytes; it
	// yields a later event, whose Info is newer (a later ModTime, unless the
	// file system's timestamps are coarser than the debounce interval).
	Info os.FileInfo

	// Err is set on a Changed event whose bytes could not be read or built. Build
	// failures are a *BuildError (errors.Is(Err, ErrBuild)). A file of more than
	// 64 MiB is not read: its event's Err says it is larger than a script may be.
	Err error

	// Fired is when the event fired: the path had been quiet for the debounce
	// interval and the watcher looked at it (read the file, before any build).
	// A host can tell from it how long a save took to go live, the build
	// included, and when two files' events happened as the file system saw
	// them, whatever their builds took.
	Fired time.Time

	// BuildLog holds what the build tool printed (standard output and standard
	// error), on success (warnings) as on failure. It is empty for files without a
	// build step and is capped at MaxBuildLog bytes.
	BuildLog string
}

// String formats the event for logs, for example "Changed /game/enemy.lua (120 bytes)".
func (e Event) String() string {
	switch {
	case e.Err != nil:
		return fmt.Sprintf("%s %s: %v", e.Op, e.Path, e.Err)
	case e.Op == Changed:
		return fmt.Sprintf("%s %s (%d bytes)", e.Op, e.Path, len(e.Data))
	}
	return fmt.Sprintf("%s %s", e.Op, e.Path)
}
