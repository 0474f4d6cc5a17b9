// Package meter rewrites a WebAssembly module so that it counts its own
// work against a fuel budget the host controls, and can be stopped when the
// budget runs out.
//
// A game calls untrusted or half-written WebAssembly every frame, so an
// infinite loop must be stopped, and the check must not slow the frame down.
// wazero has no instruction metering, and its only interruption
// (WithCloseOnContextDone) costs tens of times the call and closes the
// module. Rewriting the code before it is compiled costs almost nothing,
// counts deterministically, and lets the host decide what happens when the
// fuel runs out.
//
// # The instrumented module
//
// Instrument adds to the module:
//
//   - an imported function ImportModule.ImportName ("hotscript"."refuel"),
//     of type [] -> [], placed after the other imported functions, so the
//     index of every defined function moves up by one;
//   - a mutable i64 global after the existing globals, starting at zero and
//     exported as FuelExport ("hotscript.fuel"): the fuel left;
//   - after it, mutable "save" globals that carry a loop's locals across the
//     call to refuel (see below), one per value type and position.
//
// Every reference to a function index is rewritten: call, return_call,
// ref.func (in code and in constant expressions), all eight forms of element
// segment, exports, the start function, and the name section (function,
// local and label names move with their functions; the import, the fuel
// global and the save globals get names). No existing type, global, table or
// memory index changes.
//
// # Cost model
//
// Every instruction costs one unit of fuel, except block, loop, else and
// end, which compile to no work and cost nothing. The bulk instructions
// memory.copy, memory.fill, memory.init, table.copy, table.fill and
// table.init cost one more unit per 64 bytes or elements they move, charged
// from their length operand when they run; so does table.grow per 64
// elements asked for, which it fills with its operand (granted or not).
//
// Fuel is charged per region: a maximal run of instructions that always
// execute together. A region starts at the function entry, at a loop
// header, after if, else and br_if, and after the end of an if or of a block
// that some branch targets; it ends at any branch. On entry a region charges
// its whole cost, so the fuel used by a call is exactly the number of
// instructions it executed (plus the bulk charges), except that a trap in
// the middle of a region still charges the rest of that region. For example
//
//	block                  ;; 0
//	  loop                 ;; 0, a region starts after it
//	    local.get $i       ;; 1
//	    local.get $n       ;; 1
//	    i32.ge_u           ;; 1
//	    br_if 1            ;; 1, a region starts after it
//	    local.get $i       ;; 1
//	    i32.const 1        ;; 1
//	    i32.add            ;; 1
//	    local.set $i       ;; 1
//	    br 0               ;; 1
//	  end
//	end                    ;; targeted, a region starts after it
//	local.get $i           ;; 1
//
// costs 4(n+1) + 5n + 1 = 9n + 5 for n iterations. The count depends on
// nothing but the module and its inputs: it is the same on every run and
// every machine, and the same however the host slices the budget.
//
// # Where the checks go, and why
//
// Charging is separate from checking. Every region subtracts its cost from
// a counter, but only function entries and loop headers compare the counter
// with zero, and bulk instructions, after their length charge: one of them
// may move all of memory without a break, so it refuels before it runs, and
// a budget it breaks stops it unrun. Any execution that does not end must pass a loop header or a
// function entry again and again (that is the only way WebAssembly code can
// repeat), and every instruction it runs is charged, so an infinite loop, an
// infinite recursion, mutual recursion through call_indirect and endless
// tail calls all drain the fuel and reach a check. Between two checks a
// frame runs straight-line code, or a few iterations of an unrolled loop
// (below), so the fuel can be below zero by at most about one function
// body's cost per frame when refuel is called (Info.MaxFunctionCost, which
// counts every copy of an unrolled body, bounds it), and, at a bulk
// instruction's own check, by that plus the instruction's length charge.
//
// The counter lives in a new i64 local for the duration of a call, where the
// compiler keeps it in a register: a charge is one subtraction, and a check
// adds one compare and a branch that is almost never taken. The local is
// loaded from the global on entry, stored back before every call and every
// exit, and reloaded after every call, so callees continue the same count
// and host functions see the exact fuel in the global (and may lower it to
// charge for their own work).
//
// A while loop (a test that leaves the loop, then a body that branches back
// to the test) has two regions per iteration; its header charges both and
// the loop's entry credits the body's cost once, so the loop pays one
// subtraction per iteration and every check sees exactly the fuel it would
// see with two charges (merge.go gives the reasoning).
//
// The branch of a failed check leaves the loop instead of calling refuel in
// the loop body. Each loop is wrapped as
//
//	block $exit (original type)
//	  loop $retry
//	    block $refuel
//	      loop (original type)    ;; the original loop
//	        fuel -= cost; br_if $refuel (fuel < 0)
//	        ...
//	      end
//	      br $exit
//	    end
//	    save globals = locals; fuel global = fuel
//	    call refuel
//	    locals = save globals; fuel = fuel global + cost   ;; the retry charges it again
//	    br $retry
//	  end
//	  unreachable
//	end
//
// and the function body the same way for the entry check. A call inside a
// loop makes wazero's register allocator spill the loop's variables on every
// iteration. Keeping the call outside the loop, and moving the locals the
// loop writes into globals before it and out after it, so that none is live
// across the call, keeps the loop's variables in registers. (Passing them to
// a helper function as arguments did that too, but the allocator broke the
// cycles of register moves the arguments needed through a stack slot, and
// so stored a loop variable on every iteration.) Under wazero's compiler a
// metered loop runs the original's instructions plus a subtraction, a
// compare and a branch per iteration. For the tightest loops that is a real
// share, so a small innermost loop that ends in a branch back to its header
// has its body copied up to 8 times (unroll.go): the copies are charged
// exactly what their iterations would be, so the counts stay the same, and
// the compare and branch run once per 8 iterations; a loop whose body
// neither calls nor returns is even charged for all its copies at its
// header, with the unused part given back where it exits. The sum of 1e6 integers, six machine
// instructions per iteration, then runs 0.6 to 1.3 times as long metered as
// the raw loop (median about 0.85: the copies save the raw loop's jump),
// depending mostly on where wazero places the two loops' code
// (BenchmarkSumLoopLayouts); a loop doing more work per iteration pays
// proportionally less. Loops as clang writes them (a do-while ending in
// br_if 0) are unrolled the same way: in BenchmarkWorkloads, fib(15) runs
// 1.25-1.35 times as long metered, a bubble sort 1.24-1.26 times and an 8x8
// matrix product 1.03-1.06 times (without unrolling: 1.48-1.50, 1.47-1.52,
// 0.99).
//
// # The protocol for the host
//
// Instantiate the output with a host function ImportModule.ImportName of
// type [] -> []. Then:
//
//   - Before a call, set the FuelExport global to the fuel the call may use
//     (or to a first slice of it, or to zero to make the first check call
//     refuel at once). Remember the total put in. Keep the global below
//     2^62 so the guest's arithmetic on it cannot overflow.
//   - refuel is called, from inside the guest, whenever a check finds the
//     global below zero. The global then holds the fuel left, which is
//     negative: it already includes the cost of the region being entered.
//     To let the guest go on, add fuel to the global (add, do not set: the
//     debt counts) and return; refuel is called again at once if the global
//     is still below zero. To stop the guest, make the call fail, for
//     example by panicking with an error in the host function; wazero
//     returns it from the guest call, and the instance stays usable.
//   - After the call returns, fuel used = total put in - global. The global
//     may be negative here: the code after the last check still charged.
//   - After a trap, the global holds the fuel as of the last call, refuel or
//     return, so the same formula gives a lower bound.
//
// Host functions called by the guest see the exact fuel in the global and
// may lower it to charge for their own work.
//
// # Reading a module's interface
//
// Scan reads a module's imports, exports and memories with the same decoder,
// without touching its code, for a host that checks a module before it
// compiles or instruments it (package wasm's loader and Inspect use it).
//
// # What is supported
//
// Instrument decodes every instruction of WebAssembly 2.0 (MVP, sign
// extension, saturating truncation, bulk memory, reference types,
// multi-value with type-index block types, fixed-width SIMD), tail calls,
// relaxed SIMD, threads (atomics; memory.atomic.wait blocks in the host and
// costs one unit) and extended constant expressions. An opcode it does not
// know is ErrUnknownOpcode, naming the opcode and the function, never a
// module left partly unmetered. Exception handling, typed function
// references, GC and 64-bit memories are ErrUnsupported: exceptions would
// unwind past the fuel bookkeeping of the frames they leave. So are loops
// nested more than 1,000 deep, blocks, loops and ifs more than 10,000
// deep, and, in every module Scan or Instrument reads, a function whose
// blocks, loops, ifs and branches, once instrumented, follow or nest in one
// another so deep that wazero would take more than about a second to
// compile it (see MaxFlowCost): a few thousand deep, far beyond compilers'
// code.
// Malformed input is ErrMalformed, never a panic.
//
// Custom sections that locate code by byte offset (DWARF .debug_*,
// metadata.code.*, sourceMappingURL, external_debug_info) would be wrong for
// the rewritten code and are dropped; Info.DroppedSections lists them. When
// the input's DWARF has a line table, the output carries one of its own in
// their place (Info.LineRows), which gives each instruction, wherever the
// rewrite put it, the input's file, line and column: a runtime that reads
// DWARF, as wazero does, names the source line of a trap in the instrumented
// module as in the input. The rest of the DWARF (variables, types, inlined
// calls) is not carried. Other custom sections are kept as they are.
package meter
