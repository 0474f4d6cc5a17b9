// Package hotscript runs WebAssembly and Lua scripts inside a Go program (a game, a
// simulation, a plugin host) and replaces them while the program runs, without
// stalling the goroutines that call them and without losing their state.
//
//	h, err := hotscript.New(ctx, hotscript.Config{})
//	s, err := h.Load(ctx, "scripts/enemy.wasm", nil)
//	out, err := h.Call(ctx, s, "update", 0.016) // every frame
//	err = h.Reload(ctx, s, newBytes)            // or h.Watch(ctx, "scripts")
//
// The engines underneath are package wasm (wazero) and package lua (gopher-lua); a
// Host puts one runtime of each behind one API and adds what a reload needs to be
// safe in a running program. Hot loops that call a script many times a frame use
// the engine's own handles, which follow the Host's reloads: Script.WASM and
// Script.Lua give the runtime and the script's id for its Func and Lease.
//
// # Reloads do not stall callers
//
// Compiling a mid-size module takes wazero about 25 ms, two frames at 60 fps. A
// reload that compiles on the caller's goroutine, or under a lock the callers need,
// makes the program stutter on every save. A Host never does that: a reload is
// first staged on a goroutine of its own (compile and instantiate for WASM, compile
// and run the new chunk in a fresh LState for Lua) while callers keep calling the live
// version, then swapped in. Callers are blocked only during the swap, migration
// included: tens of microseconds for a WASM module that starts afresh, and for
// state carried, time that grows with it (MigrateExports: about 10 ms per MiB
// of state document on a 2-core VM; a Lua script's carried tables: about 2 us
// per small table, so that 5,000 entities of four tables take two 60 fps
// frames). The stall
// benchmark in bench_test.go measures the swap against a raw
// wasm.Runtime.ReloadModule; the README's Performance section gives figures.
//
// When swaps must happen at a known point of the frame, Config.Swap = SwapAtApply
// keeps staged versions waiting until the program calls Host.Apply between frames
// (a reload asked from the loop that calls Apply is ReloadAsync's: Reload
// would wait for that loop's next Apply, for good).
// Staging itself, which runs a new version's Lua chunk or WASM start function and
// the host functions they call, still happens on the Host's goroutine, before
// Apply (see SwapAtApply); a host function that must not run there (it touches
// data the program's loop owns) can tell with Staging(ctx) and refuse.
//
// Several reloads of one script in quick succession (an editor saving repeatedly)
// collapse: the newest request wins, and the ones it replaced are reported as
// Superseded without being committed.
//
// # Reloads are transactions
//
// A new version goes through, in order: staging; the script's Contract, which may
// require exports with given signatures; for WASM, the state migration
// (MigrateReset, MigrateExports, or a MigrationFunc of your own, which can reach an
// ecs.World); for Lua, the lua package's carry-over of the module table's fields and
// its on_save/on_restore hooks; then, for both, the optional self-check function
// (Config.SelfCheck, "on_reload") on the new version, its state in place. Any failure
// along the way (bad bytes, a missing host function, a broken contract, a trap in
// set_state, a limit hit during migration, a failed self-check, a Lua syntax or
// runtime error) rejects the reload: the old version, which is not closed until the
// commit succeeds, keeps running with exactly the state it had. What the commit
// changed outside the scripts is put back as far as a MigrationFunc
// (Migration.Undo) or the host functions the commit's calls ran (OnRollback)
// registered how.
//
// Every reload produces an Event with the versions involved, the error if any, the
// time spent staging and the time callers were blocked, the state carried, and the
// difference between the two versions' exports and imports (a Diff), whether or not
// a Contract asked for it.
//
// # Host functions
//
// Scripts reach the program through host functions. Config.Funcs defines one
// function for scripts of both kinds: a HostFunc's types are its WebAssembly
// signature (a String parameter is a (ptr, len) pair in the script's memory)
// and what a Lua script's arguments are checked against. Functions only one
// engine can express are defined on that engine's runtime (wasm.Runtime.Define,
// lua.Runtime.Define), which the Host then takes in Config.WASM or Config.Lua.
//
// # History
//
// The bytes of the last Config.History versions of each script are kept, and Revert
// goes back one version through the same transaction. The wasm runtime keeps
// compiled code keyed by the module's bytes, so reverting to (or reloading) a version
// seen before skips the compile while it is still kept: besides the code scripts
// run, the 16 compiled modules used last, across all scripts.
//
// Unload removes a script (a plugin the user turned off): its pending reloads are
// rejected with ErrUnloaded, its engine drops it, and its name is free again.
//
// # Concurrency
//
// A Host is safe for concurrent use. Calls to one WASM script are serialized by the
// wasm runtime (a module instance is not goroutine-safe), as are calls to one Lua
// script (an LState is not); different scripts run in parallel. Each exported method
// documents what it blocks on.
//
// Work that would wait for itself fails with the engines' ErrReentrant instead:
// a host function calling, reloading or unloading its own script, scripts whose
// host functions call each other on two goroutines. A cycle that passes through
// a wait for another script's reload or unload is not detected (a's host
// function unloading b while b's migration calls a): from host functions and
// migrations, reload other scripts with ReloadAsync, and unload them from the
// goroutine that owns the Host.
package hotscript
