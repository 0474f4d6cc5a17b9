package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Calling one function: each argument is a JSON value, the result is printed as JSON.
func Example_call() {
	run([]string{"call", "testdata/guest.wasm", "add", "2", "3"}, os.Stdout, os.Stderr)
	run([]string{"call", "testdata/guest.lua", "greet", `"bob"`}, os.Stdout, os.Stderr)
	run([]string{"call", "testdata/guest.wasm", "echo", `{"hp": 100}`}, os.Stdout, os.Stderr)
	// Output:
	// 5
	// "hello, bob"
	// {"hp": 100}
}

// A failed call exits 1 with the error on stderr, the place first (a stack trace,
// when there is one, follows on the next lines).
func Example_callError() {
	for _, args := range [][]string{
		{"call", "testdata/guest.lua", "boom"},
		{"call", "--max-instructions", "1000", "testdata/guest.lua", "spin"},
		{"call", "testdata/guest.wasm", "boom"},
		{"call", "testdata/guest.wasm", "add", "two"},
	} {
		var stderr bytes.Buffer
		code := run(args, os.Stdout, &stderr)
		first, _, _ := strings.Cut(stderr.String(), "\n")
		fmt.Printf("exit %d: %s\n", code, first)
	}
	// Output:
	// exit 1: error: testdata/guest.lua:14: boom (in boom)
	// exit 1: error: testdata/guest.lua:16: instruction limit exceeded (in spin)
	// exit 1: error: testdata/guest.wasm: boom: trap: unreachable
	// exit 2: hotscript call: argument "two" is not a JSON value (quote strings: '"hello"')
}

// Inspecting a script shows its interface and how hotscript will treat it.
func Example_inspect() {
	run([]string{"inspect", "demo/counter_v1.wasm"}, os.Stdout, os.Stderr)
	// Output:
	// demo/counter_v1.wasm  WebAssembly module, 120 bytes
	//
	// memory     no memory
	// imports    none
	// exports    get_counter() i32
	//            increment()
	//            set_counter(i32)
	//            version() i32
	//
	// notes      no update export: hotscript run loads it but never calls it
	//            no get_state/set_state pair: a reload starts it from its initial state
}

// Running a directory for a fixed number of frames ends with a summary.
func Example_run() {
	dir, _ := os.MkdirTemp("", "hotscript-example-")
	defer os.RemoveAll(dir)
	src := "local M = { n = 0 }\nfunction M.update(dt) M.n = M.n + 1 end\nreturn M\n"
	_ = os.WriteFile(filepath.Join(dir, "ticker.lua"), []byte(src), 0o644)

	var out bytes.Buffer
	run([]string{"run", "--tps", "500", "--frames", "30", dir}, &out, os.Stderr)
	_, summary, _ := strings.Cut(out.String(), "\nstopped")
	for _, l := range strings.Split(summary, "\n")[1:] {
		if f := strings.Fields(l); len(f) > 0 {
			fmt.Println(strings.Join(f[:len(f)-1], " ")) // without the average call time
		}
	}
	// Output:
	// script version calls errors reloads rejected reverts avg
	// ticker.lua v1 30 0 0 0 0
}

// The demo narrates six steps.
func Example_demo() {
	var out bytes.Buffer
	code := run([]string{"demo"}, &out, os.Stderr)
	for _, l := range strings.Split(out.String(), "\n") {
		if len(l) > 2 && l[0] >= '1' && l[0] <= '9' && l[1] == '.' {
			fmt.Println(l)
		}
	}
	fmt.Println("exit", code)
	// Output:
	// 1. Load and call
	// 2. A good change
	// 3. A broken save
	// 4. A fix
	// 5. A contract break
	// 6. A revert
	// exit 0
}
