package watch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/hotscript/hotscript/internal/fsread"
)

const (
	// DefaultBuildTimeout bounds a build step whose Timeout is zero.
	DefaultBuildTimeout = 30 * time.Second

	// MaxBuildLog caps Event.BuildLog and BuildError.Log, in bytes; a tool that
	// prints more has the rest dropped and a note appended.
	MaxBuildLog = 64 << 10
)

// BuildStep turns a source file into the bytes its events carry, by running a
// command-line tool. Each run writes into a fresh temporary directory, never next to
// the source, so a build never triggers the watcher and never leaves files behind.
type BuildStep struct {
	// Command is the tool followed by its arguments. In every argument "{src}"
	// becomes the absolute path of the source file, "{name}" its path from the
	// directory the tool runs in ("./x.c", never read as an option) and "{out}"
	// the path of the file the tool must write. The tool is looked up on PATH when a build runs,
	// and runs in the source file's directory so that relative includes resolve.
	// Only a saved source builds: a file it includes (a C header) is not
	// watched, so after editing one, save or touch the sources that include it.
	Command []string

	// OutExt is the extension of the built file: it names Event.Output (x.wat
	// with ".wasm" gives x.wasm) and the "{out}" file. Empty means ".wasm".
	OutExt string

	// Timeout bounds one run of the tool, which is killed when it expires, with
	// the processes it started (see Build); the event then carries
	// ErrBuildTimeout. Zero means DefaultBuildTimeout.
	Timeout time.Duration
}

// DefaultBuildSteps returns build steps for WebAssembly guest sources, using the
// same tools and flags as the repository's scripts/build-guests.sh, except that
// a C module keeps its debug information (-gdwarf-4), which the script leaves
// out of the modules it commits (but those of *_debug.c files):
//
//	.wat  wat2wasm --enable-all {src} -o {out}                      (wabt)
//	.c    clang --target=wasm32 -O2 -gdwarf-4 -fdebug-compilation-dir=.
//	      -nostdlib -fno-builtin -fvisibility=default
//	      -mmultivalue -Xclang -target-abi -Xclang experimental-mv
//	      -Wl,--no-entry -Wl,--export-dynamic -Wl,--stack-first
//	      -Wl,--export=__wasm_call_ctors -o {out} {name}            (clang and wasm-ld)
//
// With it, a trap in a C module names the source line of each frame, limits or
// not (see wasm.Error's Trace): "enemy.c:12:9", the source's path relative to
// its directory. It changes no code, only the module's custom sections, which
// also hold that path and the line numbers: a save that moves code to other
// lines changes the built module. DWARF 4, not clang's later default of 5, whose
// line tables wazero cannot read.
//
// A C module has no libc, and every function not declared static is exported
// under its C name (clang for wasm32 hides them unless told otherwise), as is
// its memory. A host function is declared with its import names, and a call to
// a function declared without them fails to link ("undefined symbol"):
//
//	__attribute__((import_module("host"), import_name("log")))
//	void host_log(const char *msg, int len);
//
// A C function that gives back a JSON document as (ptr, len i32) results, such
// as get_state, returns a struct of two ints: clang's multivalue ABI
// (-mmultivalue and experimental-mv) returns it as two results, where the
// standard ABI returns a struct through a pointer argument. Every struct is
// returned so, one result per field (CallJSON gives them as a JSON list), and
// passed as one parameter per field; since (i32, i32) results are a document
// to CallJSON (see package wasm), return a pair of ints that is not one as
// something else.
//
// The stack comes first in memory (--stack-first), below the static data, so a
// runaway recursion traps at address 0 instead of writing over the script's
// state on its way down. The constructors (__attribute__((constructor)), C++
// globals) are exported as __wasm_call_ctors, which package wasm runs once as
// the module starts, where it has no _initialize; without the export, wasm-ld
// wraps every exported function in a call of them, and a constructor would
// start the script's state over on every call.
//
// Both produce ".wasm". The tools must be on PATH (Debian packages wabt, clang and
// lld); when one is missing, the events of that extension carry a *BuildError
// wrapping ErrToolNotFound that names the tool. The map is new on every call;
// change it freely before passing it in Options.Build.
func DefaultBuildSteps() map[string]BuildStep {
	return map[string]BuildStep{
		".wat": {Command: []string{"wat2wasm", "--enable-all", "{src}", "-o", "{out}"}},
		".c": {Command: []string{"clang", "--target=wasm32", "-O2", "-gdwarf-4", "-fdebug-compilation-dir=.",
			"-nostdlib", "-fno-builtin", "-fvisibility=default", "-mmultivalue", "-Xclang", "-target-abi", "-Xclang", "experimental-mv",
			"-Wl,--no-entry", "-Wl,--export-dynamic", "-Wl,--stack-first", "-Wl,--export=__wasm_call_ctors", "-o", "{out}", "{name}"}},
	}
}

func (s BuildStep) validate(ext string) error {
	if len(ext) < 2 || ext[0] != '.' || strings.ContainsAny(ext[1:], `./\`) {
		return fmt.Errorf("%w: build extension %q must look like \".wat\"", ErrInvalidOptions, ext)
	}
	return s.check(ext)
}

// check validates the step itself; ext only names it in errors.
func (s BuildStep) check(ext string) error {
	switch {
	case len(s.Command) == 0 || s.Command[0] == "":
		return fmt.Errorf("%w: build step for %q has no command", ErrInvalidOptions, ext)
	case s.Timeout < 0:
		return fmt.Errorf("%w: build step for %q has a negative timeout", ErrInvalidOptions, ext)
	case s.OutExt != "" && (s.OutExt[0] != '.' || strings.ContainsAny(s.OutExt, `/\`)):
		return fmt.Errorf("%w: build step for %q: OutExt %q must look like \".wasm\"", ErrInvalidOptions, ext, s.OutExt)
	}
	return nil
}

func (s BuildStep) outExt() string {
	if s.OutExt == "" {
		return ".wasm"
	}
	return s.OutExt
}

func (s BuildStep) timeout() time.Duration {
	if s.Timeout == 0 {
		return DefaultBuildTimeout
	}
	return s.Timeout
}

// output returns the name a built src stands for: src with the output extension.
func (s BuildStep) output(src string) string {
	return strings.TrimSuffix(src, filepath.Ext(src)) + s.outExt()
}

// Build builds the source file src as a Watcher does when src is saved, and returns
// the built bytes and what the tool printed (warnings included; capped at
// MaxBuildLog). It is how a program builds a source outside a watch, for example to
// load x.wat at startup, with the same tool and flags as the reloads that follow.
//
// A relative src is taken from the current directory; "{src}" is its absolute path,
// "{name}" its path from its directory ("./x.c"), where the tool runs. A failed build is a *BuildError (ErrBuild),
// wrapping ErrToolNotFound, ErrBuildTimeout or the tool's exit status; cancelling
// ctx kills the tool and the *BuildError wraps ctx's error. A step without a command
// or with a negative Timeout fails with ErrInvalidOptions. Safe for concurrent use.
//
// The tool runs with TMPDIR (TMP, TEMP) set to a directory of the build's own,
// removed when it ends: the temporary files of a tool that was killed go too.
//
// On Unix the tool runs in a process group of its own, and a tool killed (ctx
// cancelled, Timeout) is killed with its group: the processes it started (clang's
// wasm-ld, a shell's commands) end with it, and Build returns at once. A tool
// that has exited leaves what it started alone. Being in a group of its own, the
// tool does not get the signals a terminal sends the program's group (Ctrl-C): a
// program that exits without cancelling ctx (or closing its Watcher) leaves a
// running build to end by itself. Elsewhere only the tool is killed, and Build
// waits up to a second for what it started to close its output.
func (s BuildStep) Build(ctx context.Context, src string) (data []byte, log string, err error) {
	if err := s.check(filepath.Ext(src)); err != nil {
		return nil, "", err
	}
	if abs, err := filepath.Abs(src); err == nil {
		src = abs
	}
	tool := s.Command[0]
	fail := func(err error, log string) ([]byte, string, error) {
		return nil, log, &BuildError{Path: src, Tool: tool, Log: log, Err: err}
	}
	bin, err := exec.LookPath(tool)
	if err != nil {
		return fail(fmt.Errorf("%w: %w", ErrToolNotFound, err), "")
	}
	if bin, err = filepath.Abs(bin); err != nil {
		return fail(err, "")
	}
	tmp, err := os.MkdirTemp("", "hotscript-build-")
	if err != nil { // "stat /nonexistent: ..." would not say what it was for
		return fail(fmt.Errorf("making the build's temporary directory in %s (TMPDIR): %w", os.TempDir(), err), "")
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, filepath.Base(s.output(src)))

	expand := strings.NewReplacer("{src}", src, "{name}", "./"+filepath.Base(src), "{out}", out)
	args := make([]string, len(s.Command)-1)
	for i, a := range s.Command[1:] {
		args[i] = expand.Replace(a)
	}
	runCtx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	cmd := exec.CommandContext(runCtx, bin, args...)
	cmd.Dir = filepath.Dir(src)
	// The tool's temporary files (clang's objects) go in tmp too, which goes
	// when the build ends: a tool killed has no chance to remove its own.
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "TMP="+tmp, "TEMP="+tmp)
	ownGroup(cmd)
	var printed capWriter
	cmd.Stdout, cmd.Stderr = &printed, &printed
	cmd.WaitDelay = time.Second // a child out of the tool's reach may hold the pipe
	err = cmd.Run()
	log = printed.String()
	switch {
	case ctx.Err() != nil:
		return fail(ctx.Err(), log)
	case errors.Is(runCtx.Err(), context.DeadlineExceeded):
		return fail(fmt.Errorf("%w after %v", ErrBuildTimeout, s.timeout()), log)
	case err != nil:
		return fail(err, log)
	}
	switch data, err = fsread.File(out); { // a module past 64 MiB too
	case errors.Is(err, fs.ErrNotExist):
		return fail(fmt.Errorf("tool exited successfully but wrote no output: %w", err), log)
	case err != nil:
		return fail(fmt.Errorf("reading what the tool wrote: %w", err), log)
	}
	return data, log, nil
}

// capWriter keeps the first MaxBuildLog bytes written to it and counts the rest.
// exec.Cmd writes to it from one goroutine at a time because Stdout == Stderr.
type capWriter struct {
	buf     []byte
	dropped int
}

func (w *capWriter) Write(p []byte) (int, error) {
	keep := min(len(p), MaxBuildLog-len(w.buf))
	w.buf = append(w.buf, p[:keep]...)
	w.dropped += len(p) - keep
	return len(p), nil
}

func (w *capWriter) String() string {
	if w.dropped > 0 {
		return fmt.Sprintf("%s\n[%d more bytes of tool output dropped]\n", w.buf, w.dropped)
	}
	return string(w.buf)
}
