// Package hostguest holds the WebAssembly modules that the hotscript host's tests,
// examples and benchmarks load, embedded so they need no file paths. Each .wat source
// sits next to its .wasm; scripts/build-guests.sh rebuilds them.
//
//	enemy_v1, enemy_v2   update(f32), fire(), hp(), shots(), version(), and the state
//	                     {"hp":NNN,"shots":NNN} through get_state/set_state
//	enemy_f64            breaks enemy_v1's contract: update(f64), no fire()
//	enemy_set_trap       set_state traps
//	enemy_set_fails      set_state writes hp, then returns 1: a failure code
//	enemy_get_trap       get_state traps
//	enemy_no_set         no set_state
//	enemy_set_loop       set_state never returns
//	enemy_check_fail     self-check on_reload returns 7
//	enemy_check_ok       self-check on_reload passes once state was migrated;
//	                     its set_state returns 0 (success)
//	hostfunc, spawner    call host functions defined once for both engines (HostFunc)
//
// The modules of internal/guest (counter_v1...) are used as well.
package hostguest

import (
	"embed"
	"strings"
)

//go:embed *.wasm
var files embed.FS

// Bytes returns the module called name (without ".wasm"). It panics on an unknown
// name: asking for one is a mistake in a test.
func Bytes(name string) []byte {
	b, err := files.ReadFile(strings.TrimSuffix(name, ".wasm") + ".wasm")
	if err != nil {
		panic("hostguest: no module " + name)
	}
	return b
}
