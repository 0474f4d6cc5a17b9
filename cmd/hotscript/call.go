package main

import (
	"context"
	"flag"
	"fmt"
	"sync"

	"github.com/hotscript/hotscript"
)

func callCommand() command {
	return command{
		name:    "call",
		args:    "[flags] FILE FUNC [ARG...]",
		summary: "call one function, print its JSON result",
		about: `Loads FILE (.wasm, .lua, .wat when wat2wasm is on PATH, or .c when clang is),
calls FUNC with the arguments, each one JSON value, and prints the result as JSON.
Strings need JSON quotes: hotscript call greet.lua hello '"world"'. A WASM function
taking (ptr, len) can be given one JSON document, which goes into guest memory:
an object, array, string, true, false or null (a lone number is refused, as one
of the two numbers the function takes is missing).

The script gets host.log, as under run (see hotscript help run); what it logs and
prints goes to stderr.

Exits 1 with the error, naming the script and the function, when the call fails:
a Lua error, a trap, a limit hit.`,
		setup: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			var limits limitFlags
			limits.register(fs)
			return func(ctx context.Context, e *env, args []string) error {
				if err := flagsAfter(fs, args, "FILE"); err != nil {
					return err
				}
				return callMain(ctx, e, limits, args)
			}
		},
	}
}

func callMain(ctx context.Context, e *env, limits limitFlags, args []string) error {
	if len(args) < 2 {
		return usageError("needs a FILE and a FUNC")
	}
	if err := limits.check(); err != nil {
		return err
	}
	file, fn := args[0], args[1]
	if fn == "" {
		return usageError("FUNC is empty: name the function to call")
	}
	values := make([]any, 0, len(args)-2)
	for _, a := range args[2:] {
		v, err := parseArg(a)
		if err != nil {
			return usageError("%v", err)
		}
		values = append(values, v)
	}
	if err := checkScriptFile(file); err != nil {
		return err
	}
	var logMu sync.Mutex
	h, closeHost, err := newHost(ctx, hotscript.Config{Limits: limits.host()}, func(script, msg string) {
		logMu.Lock()
		defer logMu.Unlock()
		for _, l := range logLines(msg) { // a line each, as run writes them
			fmt.Fprintf(e.stderr, "%s: %s\n", printable(script), l)
		}
	})
	if err != nil {
		return err
	}
	defer closeHost()
	s, _, err := loadFile(ctx, h, file)
	if err != nil {
		return asFile(err, builtName(file), file)
	}
	out, err := h.Call(ctx, s, fn, values...)
	if err != nil {
		return asFile(err, s.Name(), file)
	}
	_, err = fmt.Fprintf(e.stdout, "%s\n", out)
	return err
}

// namedAs is an error about the script named script, to be told a person as
// one about file, the name they gave: loadFile names a .c, and a .wat beside
// its .wasm, after the .wasm, which under call is no file of theirs
// (helper-211: "error: hero.wasm: crash: trap", no hero.wasm on disk).
type namedAs struct {
	err          error
	script, file string
}

func (e *namedAs) Error() string { return e.err.Error() }
func (e *namedAs) Unwrap() error { return e.err }

// asFile returns err, told as an error about file where it is about script.
func asFile(err error, script, file string) error {
	if script == file {
		return err
	}
	return &namedAs{err: err, script: script, file: file}
}
