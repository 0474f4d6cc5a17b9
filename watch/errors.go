package watch

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/hotscript/hotscript/internal/fsread"
)

var (
	// ErrClosed is returned by Add after Close.
	ErrClosed = errors.New("watch: watcher closed")

	// ErrNotDir is returned by Add for a path that is not a directory.
	ErrNotDir = errors.New("watch: not a directory")

	// ErrInvalidOptions is returned by New for options it cannot use: a negative
	// duration, a malformed ignore pattern or a malformed build step.
	ErrInvalidOptions = errors.New("watch: invalid options")

	// ErrBuild matches every *BuildError.
	ErrBuild = errors.New("watch: build failed")

	// ErrToolNotFound is wrapped by a *BuildError whose tool is not on PATH.
	ErrToolNotFound = errors.New("watch: build tool not found")

	// ErrTooLarge is wrapped by the Err of a Changed event for a file of more
	// than 64 MiB, which is not read (no script is that large), and by that of
	// a build whose output is.
	ErrTooLarge = fsread.ErrTooLarge

	// ErrBuildTimeout is wrapped by a *BuildError whose tool ran longer than the
	// step's Timeout and was killed.
	ErrBuildTimeout = errors.New("watch: build timed out")

	// ErrDirRemoved is sent on Errors when a directory given to Add is removed or
	// renamed, or found gone by a rescan (ErrOverflow); it is no longer watched.
	// Its files are reported as removed files are: Removed, unless one is back
	// before its debounce runs out (a directory renamed away and back), when it
	// is reported only if it differs. Once the directory is back, Add it again:
	// every file it then holds is reported Changed, as a new file, whatever was
	// reported of it before, and a file it held that is gone since is reported
	// Removed.
	ErrDirRemoved = errors.New("watch: watched directory removed")

	// ErrIncomplete is wrapped by the error of an Add that watches the directory
	// but not every directory under it (permissions, the inotify watch limit); the
	// error goes on to name them and why.
	ErrIncomplete = errors.New("watch: some directories are not watched")

	// ErrOverflow is sent on Errors when the operating system dropped
	// notifications. The watcher then rescans its directories, follows every
	// symbolic link anew, and reports, as for any activity, every file that is
	// new, gone, or whose stat (its target's, for a link) differs from what it
	// last recorded (size, modification time, and where the system gives them
	// inode and change time; see the package doc). A directory the rescan no
	// longer finds is handled as a removed one: its files are reported Removed
	// and, for a directory given to Add, ErrDirRemoved follows.
	ErrOverflow = errors.New("watch: event queue overflow")
)

// BuildError is the error of a build step that failed. It matches ErrBuild with
// errors.Is, and wraps the cause: ErrToolNotFound, ErrBuildTimeout, or the tool's
// *exec.ExitError. Its methods only read it and are safe for concurrent use.
type BuildError struct {
	// Path is the source file that was being built.
	Path string
	// Tool is the program the step runs (the step's Command[0]).
	Tool string
	// Log is what the tool printed, capped at MaxBuildLog bytes; the same text as
	// Event.BuildLog.
	Log string
	// Err is the cause.
	Err error
}

// Error names the source, the tool and the cause, followed by the Summary of what
// the tool printed, which for compilers names the file and the line at fault:
//
//	watch: build /game/bad.wat with wat2wasm: exit status 1: /game/bad.wat:3:5: error: unexpected token
func (e *BuildError) Error() string {
	cause := strings.TrimPrefix(fmt.Sprint(e.Err), "watch: ") // a sentinel of ours: say "watch:" once
	msg := fmt.Sprintf("watch: build %s with %s: %s", e.Path, e.Tool, cause)
	if line := e.Summary(); line != "" {
		msg += ": " + line
	}
	return msg
}

// Summary returns the line of the log that says what failed: the first error
// Diagnostic, not a warning printed before it; else the first line; "" for an
// empty log.
func (e *BuildError) Summary() string {
	for line := range strings.Lines(e.Log) {
		if sev, ok := Diagnostic(strings.TrimSpace(line)); ok && sev != "warning" {
			return strings.TrimSpace(line)
		}
	}
	return firstLine(e.Log)
}

// Diagnostic reports whether a line of a build tool's log is a diagnostic as
// clang, wasm-ld and wat2wasm write them, and returns its severity ("error",
// "fatal error" or "warning"): a file with its position, or the tool, then the
// severity: "x.c:3:23: error: ...", "C:\game\x.c:2:10: fatal error: ...",
// "wasm-ld: warning: ...". A source line the tool quotes under a diagnostic
// (say("x: error: slow")) is not one.
func Diagnostic(line string) (severity string, ok bool) {
	m := diagnosticLine.FindStringSubmatch(line)
	if m == nil {
		return "", false
	}
	return m[1], true
}

var diagnosticLine = regexp.MustCompile(`^(?:.+?:\d+(?::\d+)?|[\w./\\+-]+): (fatal error|error|warning):`)

// Is reports whether target is ErrBuild.
func (e *BuildError) Is(target error) bool { return target == ErrBuild }

// Unwrap returns the cause.
func (e *BuildError) Unwrap() error { return e.Err }

func firstLine(s string) string {
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	return ""
}
