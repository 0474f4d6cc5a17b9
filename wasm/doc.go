// Package wasm runs WebAssembly scripts on wazero and replaces them while they run.
//
// A Runtime holds scripts, each identified by a ScriptID that stays the same across
// reloads. A script is called every frame, with CallJSON for convenience or through
// a Func handle in hot loops, and reloaded when its source changes:
//
//	rt, _ := wasm.NewRuntime(ctx, wasm.Limits{MaxMemoryBytes: 16 << 20})
//	_ = rt.Define("host", "log", wasm.LogFunc(logger))
//	id, _ := rt.Load(ctx, "enemy.wasm", v1, nil)
//	out, _ := rt.CallJSON(ctx, id, "add", 2, 3) // 5
//	err := rt.ReloadModule(ctx, id, v2)          // on error, v1 keeps running
//
// # Reloading
//
// A reload compiles the new bytes, instantiates them against the same host
// functions, swaps the new instance in and closes the old one. WebAssembly state
// (globals, memory) belongs to the instance, so it starts over: a host that keeps
// state across reloads reads it out before (get_state, or any exported getter) and
// writes it back after, or moves it in the migrate function of a staged commit.
// If anything fails (invalid bytes, a missing import, a trapping start function, a
// failed migration) the old instance keeps running with its state.
//
// Reloads are staged so that the expensive part never blocks the game: Stage
// compiles and instantiates while the script keeps serving calls from other
// goroutines, and Commit only swaps a pointer, after the call in progress. Each
// instance has its own mutex (a wazero module is not goroutine-safe); a caller
// loads the live instance, locks it, and retries if it was retired meanwhile, so a
// call sees either the whole old module or the whole new one, never a mix and never
// a closed one.
//
// Compiled code is cached by the hash of the bytes compiled (for a metered
// script, the instrumented bytes) and shared by the
// instances that run it, and the 16 most recently used versions no instance runs
// are kept: reloading identical bytes, or going back to a recent version, does not
// compile again. A CompiledModule is closed only when no instance uses it and it
// leaves that list, which matters because wazero shares compiled code between
// modules with the same bytes. Code is compiled under no caller's context, as
// it serves every load of its bytes: wazero options carried by a load's
// context (function listeners) do not reach it. What wazero keeps for the
// Runtime's life is one record per distinct function signature it has seen
// (about 100 bytes each): versions that keep declaring new signatures, as
// generated code may, grow a long-lived Runtime by that much per signature.
//
// # Calls
//
// CallJSON converts Go arguments to parameters and results to JSON; a function
// taking (ptr, len i32) receives a JSON document through the guest's alloc, and one
// returning (ptr, len i32) gives one back. The rules are on CallJSON. A Func handle
// calls with a raw []uint64 stack, allocates nothing and costs a mutex over wazero's
// own call.
//
// That mutex is what keeps a module, which is not goroutine-safe, from seeing two
// calls at once, and on a small function it costs about half the call. A hot
// loop that calls one script many times (update for every entity, each frame)
// takes it once instead with a Lease:
//
//	l, _ := rt.Acquire(ctx, id) // waits for the call or commit in progress
//	for i := range entities {
//		_ = l.Call(ctx, update, stack) // no lock; limits apply per call
//	}
//	l.Release()
//
// While the lease is held, calls from other goroutines and the commit of a
// reload wait, so every call through it runs on one version that is never
// swapped or closed under it; Stage still compiles in the background. A lease
// belongs to one goroutine, which must Release it before reloading or calling
// the script any other way, or it deadlocks. The rules are on Lease.
//
// A guest that traps, or a host function that returns an error or panics, fails
// the call with an *Error that names the script and the function and carries the
// wasm stack trace; the runtime, the script and other scripts keep working. No panic
// crosses the API. Such a call, like one a limit stops, ends without the epilogues
// of the functions it was in, which in C (and Rust, Zig) give back their frames on
// the stack the module keeps in its memory; so the runtime puts the module's stack
// pointer back where it was between calls, as the instance started, else a few
// hundred of them would walk the stack over the module's static data. It knows the
// stack pointer by its name, __stack_pointer, in the module's name section, which
// clang and wasm-ld write unless told to strip it (-Wl,--strip-all, wasm-opt
// --strip): a module stripped of it keeps a frame per such call. What the call had
// written to memory and globals stays; so does nothing a module keeps on its
// stack between calls on purpose (an Emscripten stackAlloc the host holds on
// to), which such a call gives back.
//
// # Limits
//
// Limits cap a script's memory, the instructions one call runs and its
// wall-clock time, per script. Memory is capped where the runtime allocates it,
// so memory.grow past the cap returns -1 to the guest. Instructions and time need
// a way to stop guest code, and wazero's own (closing the module from a
// context) costs about 60 times a plain call and loses the module's state. So a
// script with an instruction or time limit is metered instead: before compiling
// it, the runtime rewrites its module (internal/meter) to charge a fuel counter,
// kept in a register, for each stretch of straight-line code, and to call back
// into the runtime only when a slice of 65,536 units runs out. There the runtime
// checks the budget, the clock and the caller's ctx (the clock and ctx also
// around each host function call), and either grants the next slice or stops
// the call, which fails with ErrInstructionLimit, ErrTimeout or ctx's error
// while the module stays usable. Metering costs a few percent in
// loops that do real work (more in the tightest ones) and 30 to 45 ns per call;
// the count is deterministic, and Usage reports it. A script without limits
// runs its module as given and pays nothing.
// See Limits for the details.
//
// Whatever the limits, a module is refused (ErrCompile, from Load, a reload or
// Inspect) if wazero would run the process out of memory decoding or compiling
// it, which no recover can stop. wazero's decoder allocates for each count it
// reads (of types, imports, functions, segments, names, a segment's bytes...)
// before it reads what the count claims, so 15 bytes that claim 2^32 data
// segments would end the process; and its compilers keep state for every
// local, so 4,000 functions of a million locals each fit in 32 KB. Before
// wazero sees a module, every count in it, nested ones included, is checked
// against the bytes left to hold what it counts, and a module may declare at
// most 50,000 locals in a function, 1,000 parameters and 1,000 results in a
// function type (the limits browsers enforce), and 2^20 locals in all, or one
// per two bytes of its code section if that is more. A function is refused
// too if its blocks, loops, ifs and branches follow or nest in one another so
// deep that wazero, whose compile time grows with the square of that depth and
// cannot be interrupted, would take more than about a second over it (about
// 4,700 nested blocks or 2,700 nested ifs; 10,000 nested ifs took 11 s; a
// metered module is held to it after instrumentation, which adds blocks, so
// 2,400 nested ifs are refused metered), or
// whose blocks join so much that wazero's SSA builder would (about 32,000
// br_table targets to one block, or 1,000 locals read in 100 nested loops;
// 150,000 targets took 11 s, and 8,000 locals live across a switch of 8,000
// cases ran out of 4 GB), or pass on so many values (about 500 nested blocks
// of a type of 1,000 results; 2,000 took 3.7 s). Compilers stay far below
// these. The check reads the
// module once and costs about a tenth of wazero's compile of it (a third of what
// its interpreter takes to load it): `go test -run '^$' -bench
// ScanVersusCompile -benchtime=3x ./wasm/`.
//
// # Concurrency
//
// Every method of Runtime, Staged and Func is safe for concurrent use; a Lease is
// for one goroutine. Calls to one script are serialized; calls to different
// scripts run in parallel. A call, Acquire or commit that finds its script busy
// waits its turn, first come first served once a wait passes a millisecond, and
// gives up when its context ends, with an error that names the operation and
// the script and matches the context's error (context.DeadlineExceeded...).
// Unload and Runtime.Close wait for the call in progress whatever their context.
//
// # Platforms
//
// wazero compiles modules to machine code on amd64 and arm64 (Linux, macOS,
// Windows, FreeBSD); this package's tests and figures come from linux/amd64.
// Elsewhere (386, 32-bit ARM, ...) the package builds and wazero interprets
// modules instead: many times slower, with a smaller call stack, so a deep
// recursion overflows it sooner.
package wasm
