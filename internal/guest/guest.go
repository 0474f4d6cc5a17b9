// Package guest holds the WebAssembly modules that tests, examples and benchmarks
// across the repository load, embedded so any package can use them without file
// paths.
//
// Each module's source (.wat, or .c built by clang) sits next to its .wasm;
// scripts/build-guests.sh rebuilds them and CI checks that the committed .wasm files
// match their sources. C sources live in the c directory, where the go tool does not
// take them for cgo. Modules are named by their file name without the extension:
//
//	counter_v1, counter_v2, counter_v3  the spec's counter example, plus version() and tick()
//	add_v1, add_v2                      add(i32, i32) and add(i32, i32, i32)
//	log_v1, log_v2                      import host.log(ptr, len) and call it with different messages
//	log_init                            calls host.log from _initialize, while it is being instantiated
//	missing_import                      imports host.missing, which no runtime defines
//	json_state, json_state_v2           JSON state through alloc/get_state/set_state/echo; traps and runaway code (v1)
//	start_trap                          its start function traps
//	grow (C)                            grows its memory on request
//	lines_debug (C)                     traps at marked lines, built with debug information: source lines in traces
//	numbers (C)                         i64, f32 and f64 functions
//	frames (C)                          static state and a stack frame; calls that spin, trap or fail in host.fail inside it
//	multi                               several results, NaN and Inf, a (ptr, len) result, a global export
//	spin                                plain loops, a runaway loop and recursion, a sum loop: limit tests and benchmarks
//	host_calls                          calls host.wait(ms) in a loop and in a straight line: limits around host calls
//	simd                                v128 parameters and results, two stack values each
//	trace                               traps in a function that is not exported, called by one that is
//	doc_helpers                         alloc and free that trap or loop on request, and take(ptr, len)
//	tables                              two tables without a maximum, grown on request
//	no_memory                           no memory, yet calls host.log, exports alloc and returns (ptr, len)
//	no_alloc                            set_state(ptr, len) without alloc to write a document with
//	big_result                          builds a large JSON document in few instructions and returns it as (ptr, len)
package guest

import (
	"embed"
	"path"
	"sort"
	"strings"
)

//go:embed *.wasm c/*.wasm
var files embed.FS

// dirs are the embedded directories, searched in order.
var dirs = []string{".", "c"}

// Bytes returns the module called name ("counter_v1"; a ".wasm" suffix is allowed).
// The slice is the caller's to keep or modify.
//
// Bytes panics if there is no such module: asking for one is a mistake in a test,
// not a condition to handle.
func Bytes(name string) []byte {
	file := strings.TrimSuffix(name, ".wasm") + ".wasm"
	for _, dir := range dirs {
		if b, err := files.ReadFile(path.Join(dir, file)); err == nil {
			return b
		}
	}
	panic("guest: no module named " + name)
}

// Names lists every module, sorted.
func Names() []string {
	var names []string
	for _, dir := range dirs {
		entries, err := files.ReadDir(dir)
		if err != nil {
			panic("guest: " + err.Error()) // embedded directories always exist
		}
		for _, e := range entries {
			if !e.IsDir() {
				names = append(names, strings.TrimSuffix(e.Name(), ".wasm"))
			}
		}
	}
	sort.Strings(names)
	return names
}
