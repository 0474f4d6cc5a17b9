// Command hotscript runs, calls, inspects and demonstrates hot-reloadable WebAssembly
// and Lua scripts.
//
// Usage:
//
//	hotscript demo [--dir DIR]                 a tour: change, break, fix, contract, revert
//	hotscript run [flags] DIR                  run the scripts in DIR; reload them on save
//	hotscript call [flags] FILE FUNC [ARG...]  call one function, print its JSON result
//	hotscript inspect [flags] FILE             show a script's interface (and Lua fields)
//	hotscript help [COMMAND]                   usage of a command
//
// The command is a thin layer over the public packages: the root package hotscript
// (load, call, reload, watch, events), wasm and lua (inspect, call) and ecs (the scene
// `run` attaches scripts to). It holds no engine logic of its own, so what it shows is
// what a program embedding hotscript gets.
//
// Everything goes through run(args, stdout, stderr), which returns the exit code. Tests
// drive the command the same way. Every command exits 2 for a usage error (unknown
// command, bad flag, wrong arguments), and otherwise:
//
//   - call: 0 when the function returned (its result printed); 1 when the script could
//     not be read, built or loaded, or the call failed (a script error, a trap, a
//     limit).
//   - inspect: 0 when the script was shown; 1 when it could not be read, built or
//     compiled, or its start failed (its Lua chunk, or a module's start function or
//     _initialize that traps or passes a limit: call's, 1 s by default).
//   - run: 0 when it ran its --frames or --for, or was stopped, whatever its scripts
//     did: a script that fails to load, reload or update is reported and counted, and
//     the loop goes on, as a running game does; 1 only when it could not start (DIR
//     missing or not watchable).
//   - demo: 0 when the tour ended or was stopped; 1 when it could not run (a DIR it
//     would overwrite, a step that did not go as scripted).
//
// The first Ctrl-C (or SIGTERM) stops run and demo cleanly, exit code 0, and stops
// call and inspect with 130, as shells report a process Ctrl-C killed, once the build
// of a source they had started is killed and its files removed; a second one ends
// the process at once with 130, unless a garbage collection has begun meanwhile,
// which waits forever for a WASM call without a time limit (compiled code is not
// preempted), and the process with it: end it with SIGKILL. A command still running
// a second after the first (stuck in such a call, which nothing can stop) says that
// a second one ends it. A reader of stdout that goes away (hotscript demo |
// head) stops a command as the first Ctrl-C does. What the command and the build
// tools it starts write to temporary files goes in a directory of its own under
// TMPDIR, which it removes when it ends, after a second Ctrl-C too.
//
// Output is written for people: aligned columns, short lines, errors with file:line
// first, and colour only when stdout is a terminal and NO_COLOR is unset.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	// Until interruptContext watches them (help is printed before), a
	// departed reader makes writes fail instead of ending the process, so
	// that the temporary directory is still removed.
	signal.Notify(make(chan os.Signal, 1), pipeSignals...)
	// Nor does an interrupt end it by its default action once the command
	// has stopped (interruptContext's stop gives them back to it), before the
	// temporary directory is removed: a Ctrl-C then left it (TestDemoCutShortCleansUp,
	// about once in 5 runs). While a command runs, interruptContext acts on them.
	signal.Notify(make(chan os.Signal, 1), append([]os.Signal{os.Interrupt, syscall.SIGTERM}, hangupSignals...)...)
	ctx, removeTemp := ownTempDir(context.Background())
	code := runContext(ctx, os.Args[1:], os.Stdout, os.Stderr)
	removeTemp()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
	// exitInterrupted: an interrupt cut short a command that has no result
	// without finishing (call, inspect), or a second one ended a command that had
	// not stopped after the first (see interruptContext); 128 + SIGINT.
	exitInterrupted = 130
)

// errUsage marks an error in how the command was invoked; run prints the command's usage
// after it and exits with exitUsage.
var errUsage = errors.New("usage")

// usageError returns an error that makes run print usage and exit 2.
func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// env is what every subcommand writes to.
type env struct {
	stdout io.Writer
	stderr io.Writer
	out    style // colours for stdout
	errs   style // colours for stderr
}

// command describes a subcommand. setup registers its flags on fs and returns the
// function that runs it with the parsed flags, so `help NAME` and the command itself
// share one definition.
type command struct {
	name    string
	args    string // positional arguments, e.g. "FILE FUNC [ARG...]"
	summary string // one line for the overview
	about   string // a paragraph for `help NAME`
	setup   func(fs *flag.FlagSet) func(ctx context.Context, e *env, args []string) error
}

// commands lists the subcommands in the order the overview shows them.
func commands() []command {
	return []command{demoCommand(), runCommand(), callCommand(), inspectCommand()}
}

func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// run executes the command line args (without the program name) and returns the exit
// code.
func run(args []string, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdout, stderr)
}

// runContext is run with a context whose end acts like Ctrl-C: tests stop the
// long-running commands (run, demo --dir) through it.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr, out: styleFor(stdout), errs: styleFor(stderr)}
	if len(args) == 0 {
		writeOverview(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		return help(e, args[1:])
	}
	c, ok := lookup(name)
	if !ok {
		fmt.Fprintf(stderr, "hotscript: unknown command %q\n\n", name)
		writeOverview(stderr)
		return exitUsage
	}
	fs := newFlagSet(c)
	runner := c.setup(fs)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			writeUsage(stdout, c)
			return exitOK
		}
		fmt.Fprintf(stderr, "hotscript %s: %v\n", c.name, err)
		writeShortUsage(stderr, c)
		return exitUsage
	}
	ctx, stop := interruptContext(ctx, func() {
		fmt.Fprintf(stderr, "hotscript %s: still stopping; press Ctrl-C again to end it now\n", c.name)
	})
	defer stop()
	err := runner(ctx, e, fs.Args())
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "hotscript %s: %s\n", c.name, strings.TrimPrefix(err.Error(), errUsage.Error()+": "))
		writeShortUsage(stderr, c)
		return exitUsage
	case ctx.Err() != nil || readerGone(err): // what failed, failed for the stop: not the script's error
		fmt.Fprintf(stderr, "hotscript %s: interrupted\n", c.name)
		return exitInterrupted
	default:
		printError(e, err)
		return exitFail
	}
}

// readerGone reports whether err is a write to a pipe whose reader has gone
// (hotscript call f.lua f | true): a stop like the first Ctrl-C, whether or not
// the SIGPIPE that came with it has cancelled the context yet.
func readerGone(err error) bool {
	for _, e := range pipeErrors {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// printError writes err to stderr: the place and the message on the first line, a
// stack trace, if any, indented below.
func printError(e *env, err error) {
	head, detail := describe("", err)
	fmt.Fprintf(e.stderr, "%s %s\n", e.errs.bad("error:"), printable(head))
	for _, l := range detail {
		fmt.Fprintf(e.stderr, "    %s\n", e.errs.dim(printable(l)))
	}
}

// newFlagSet returns an empty flag set for c that reports errors instead of exiting and
// prints nothing itself: run decides where usage goes.
func newFlagSet(c command) *flag.FlagSet {
	fs := flag.NewFlagSet("hotscript "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// help prints the overview, or one command's usage.
func help(e *env, args []string) int {
	switch len(args) {
	case 0:
		writeOverview(e.stdout)
		return exitOK
	case 1:
		if c, ok := lookup(args[0]); ok {
			writeUsage(e.stdout, c)
			return exitOK
		}
		if args[0] == "help" { // listed in the overview as help [COMMAND]
			writeOverview(e.stdout)
			return exitOK
		}
		fmt.Fprintf(e.stderr, "hotscript help: unknown command %q\n\n", args[0])
	default:
		fmt.Fprintf(e.stderr, "hotscript help: takes at most one command name\n\n")
	}
	writeOverview(e.stderr)
	return exitUsage
}

func writeOverview(w io.Writer) {
	fmt.Fprintf(w, "hotscript runs WebAssembly and Lua scripts and reloads them while they run.\n\n")
	fmt.Fprintf(w, "Usage:\n\n")
	var rows [][]string
	for _, c := range commands() {
		rows = append(rows, []string{"  hotscript " + c.name + " " + c.args, c.summary})
	}
	rows = append(rows, []string{"  hotscript help [COMMAND]", "usage of a command"})
	writeColumns(w, rows, "  ")
	fmt.Fprintf(w, "\nStart with: hotscript demo\n")
}

// writeShortUsage is the usage after a mistake: the synopsis and the flags.
func writeShortUsage(w io.Writer, c command) {
	fmt.Fprintf(w, "Usage: hotscript %s %s\n", c.name, c.args)
	writeFlags(w, c)
	fmt.Fprintf(w, "Run 'hotscript help %s' for more.\n", c.name)
}

// writeUsage is `help NAME`: the synopsis, what the command does, and the flags.
func writeUsage(w io.Writer, c command) {
	fmt.Fprintf(w, "Usage: hotscript %s %s\n\n", c.name, c.args)
	fmt.Fprintf(w, "%s\n", c.about)
	writeFlags(w, c)
}

// helpWidth is the widest line of help text: the paragraphs are wrapped by hand to
// it, and writeFlags wraps the flags' descriptions.
const helpWidth = 90

// wrap breaks text into lines of at most n columns at spaces; a word longer than n
// has a line of its own.
func wrap(text string, n int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = word
		case width(line)+1+width(word) <= n:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	return append(lines, line)
}

// writeFlags writes c's flags and what each does, in two columns.
func writeFlags(w io.Writer, c command) {
	fs := newFlagSet(c)
	c.setup(fs)
	var lefts, usages []string
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		left := "  --" + f.Name
		if name != "" {
			left += " " + name
		}
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" && f.DefValue != "0s" {
			usage += " (default " + f.DefValue + ")"
		}
		lefts, usages = append(lefts, left), append(usages, usage)
	})
	leftW := 0
	for _, l := range lefts {
		leftW = max(leftW, width(l))
	}
	var rows [][]string
	for i, usage := range usages {
		for j, line := range wrap(usage, helpWidth-leftW-2) {
			left := lefts[i]
			if j > 0 {
				left = ""
			}
			rows = append(rows, []string{left, line})
		}
	}
	if len(rows) > 0 {
		fmt.Fprintf(w, "\nFlags (before the arguments):\n")
		writeColumns(w, rows, "  ")
	}
}
