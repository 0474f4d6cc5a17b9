// Package lua runs Lua scripts (on gopher-lua) that a Go program calls every frame
// and edits while it runs: a reload swaps the code in and keeps the script's state,
// and a broken edit leaves the running version untouched.
//
// # Scripts
//
// A script is a chunk that returns a module table:
//
//	local M = { health = 100, position = { x = 10, y = 20 } }
//	function M.on_update(dt) M.health = M.health - dt end
//	return M
//
// Runtime.LoadScript runs the chunk and keeps the table. Runtime.CallJSON calls its
// functions with Go arguments and returns the results as JSON; Runtime.Field reads a
// field; Runtime.Func gives a typed handle (numbers in, a number out) for hot loops.
// The table's data fields are the script's state; its functions are its code.
//
// # Isolation
//
// Every script, and every version of a script, runs in its own LState: scripts
// cannot see each other's globals, and a version being staged cannot touch the live
// one. An LState is not goroutine-safe, so each script has a mutex that serializes its
// calls; different scripts run in parallel.
//
// The sandbox opens the base library, string, table and math. From the base library
// it removes getfenv and setfenv (getfenv(0) returns the real globals), dofile and
// loadfile (the file system), collectgarbage (it runs runtime.GC), _printregs, and
// require and module; load and loadstring accept source only (never bytecode) and
// compile it like the script itself, with the script's globals as environment;
// string.dump is removed; string.format takes Lua 5.1's formats only (the
// conversions cdiouxXeEfgGqs and %%, at most five flag characters of -+ #0, a
// width and a precision of at most two digits each: "%100d" is an error, as in
// 5.1), not every verb of Go's fmt, which gopher-lua's passed on, and its
// number conversions print as Lua 5.1 on Linux (C's sprintf) where gopher-lua's
// did not: a number conversion takes a number or a string that reads as one
// ("255" for %x); %g and %G print six significant digits by default; inf, -inf,
// nan and -nan are spelled as C spells them; %o, %u, %x and %X print a negative
// number as an unsigned 64-bit integer (-1 is ffffffffffffffff); %c writes one
// byte. %s and %q take a string or a number, and a table is an error whatever
// its __tostring (5.1's rule, not 5.2's); a number they print as tostring (and
// print and the .. operator) does: as Lua 5.1's %.14g (0.1 + 0.2 is 0.3, 2^63
// is 9.2233720368548e+18, 1/0 is inf, 0/0 -nan on x86, -0 is -0), but an
// integer below 2^63 with all its digits, where 5.1 rounds those past 14 (1e15
// is 1000000000000000, 5.1's 1e+15: ids of 15 digits and more stay apart).
// gopher-lua wrote the shortest form that reads back (0.30000000000000004,
// +Inf, NaN). %s counts width and precision in bytes and pads with spaces; %q quotes
// as Lua does (a newline as a backslash and a newline, a zero byte as \000);
// string.sub, byte, char, find, match and gsub and table.concat read their
// positions and counts as Lua 5.1 does, a string that reads as a number included,
// and alike on 32-bit platforms (2^31 is not wrapped around), string.byte(s)
// returns the first byte only, and string.char refuses a value that is not a
// byte; error(msg, level) puts in front of msg the position of the function at
// level as 5.1 does, and none when that is a Go function such as pcall or a
// frame a tail call replaced (so error("bad argument", 2) names the line of
// the bad call: gopher-lua's named the line of the error call); tonumber reads
// numbers as 5.1 does on Linux ("1e+20", which tostring(1e20) gives, was nil
// in gopher-lua; "0010" is 10; "inf", "nan" and hex fractions such as "0x1p4"
// read as C's strtod reads them, so tonumber(tostring(1/0)) is inf), but for a
// negative number in another base, which keeps its sign; number literals do too, but
// for hex fractions, which the lexer does not take (0010 is 10, not octal 8, and
// 1e400 is inf, not nan); and math.huge is inf, not the largest float, so
// 1/0 == math.huge (and a result or field of math.huge is an ErrJSON error:
// JSON has no infinity); a malformed number literal (1e) is a syntax error,
// not nan. The arithmetic operators still read a string as gopher-lua does:
// "0010" + 0 is 8. As in 5.1, a function coroutine.wrap made puts its
// caller's position in front of a coroutine's error, print converts each
// value through the global tostring, load returns nil and the error a
// reader function raised, and an error pcall, xpcall or load catches closes the
// upvalues of the frames it left and no others (gopher-lua closed those of
// every function running, so that a local a closure shared with a function
// still running stopped being shared; xpcall's handler wrote copies of the
// locals it reaches). Two xpcall differences stay: a handler that fails makes
// xpcall return false and the handler's own error, which says what went wrong
// in it (5.1 calls the handler again on that error, and returns "error in
// error handling" once it gives up), and a handler that is not a function is
// refused when xpcall is called, as gopher-lua refuses it (5.1 takes any value
// and fails with "error in error handling" only if an error comes to need it).
//
// The compiler and the table library follow 5.1 where gopher-lua's did not: an
// assignment of several targets computes every target's table and key and
// every value before it assigns any (a, b = b, a swaps; gopher-lua gave 2, 2),
// a call or ... as the last operand of .. gives one value, table constructors
// keep every item (gopher-lua's stored some over others after 50 items), a
// table's array part grows as 5.1's does, so that integer keys far apart take
// a hash slot each (gopher-lua padded the array with nils up to any integer
// key below 2^26: players[5001234] = p made an 80 MB array, and # counted to
// it; # of such a table is now what 5.1 gives, 0 for {[5] = 1}), table.maxn
// sees every key (gopher-lua's only the array part), a table forgets removed
// keys (see below), next with a key the table does not have is an error
// ("invalid key to 'next'"; gopher-lua went on from another key), a decimal
// escape past "\255" does not compile (gopher-lua read "\256" as "\0"), a
// number is taken as its text where a string is (table.concat's separator,
// a chunk name, a load reader's piece; gopher-lua refused it), a __tostring
// that is not a function is called and fails as in 5.1 (gopher-lua ignored
// it), math.modf(inf) is inf, 0 (it was inf, nan), a -0 that arithmetic
// gives stays -0 (it became 0), a
// chunk load or loadstring compiled is named in its errors as 5.1 names it
// ("=name" as name, "@file" as file, others as [string "..."]; gopher-lua:
// =name:1:, <string>:1:),
// a % b is 5.1's a - floor(a/b)*b (gopher-lua's was an exact remainder: 1 %
// 0.1 was 0.09999999999999995, 5.1's 0), table.remove(t, pos) with pos outside 1 to #t removes nothing and returns
// nothing, unpack(t, i, j) reads t[0] and negative keys too, assert takes a
// number as its message, math.random, math.randomseed and select take numbers
// given as strings, math.mod is math.fmod, math.rad and math.deg compute
// as 5.1's, table.sort is 5.1's quicksort (ties end where 5.1 leaves them),
// os.date, os.time and os.difftime (LibOS) as 5.1's on Linux (C's
// strftime and mktime: every conversion, *t's yday and isdst, isdst given to
// os.time), rawset returns its table, setmetatable takes
// only a table, and a coroutine resumed with fewer values than its yield
// takes gets nil for the others (gopher-lua left what the registers held).
// x^y and math.pow give C's pow results (gopher-lua's Go math.Pow was 1-2 ulp
// off: 9^1.5 was 27.000000000000004, so math.floor(100 * lv^1.5) could be one
// less than in 5.1), correctly rounded, which glibc's pow is but for results
// within about 0.02 ulp of halfway between two numbers.
// Kept as gopher-lua has them: the other math functions (sin, exp, log, ...)
// compute with Go's math package, whose results can differ from C's in the
// last bits (round, or compare with a tolerance); # on a table calls
// its __len (5.1 calls it only for userdata); getmetatable("") is the string
// table; __unm gets one operand; t[nil] = v calls a __newindex (5.1: "table
// index is nil"); error messages are worded as gopher-lua words them
// ("attempt to compare table with table"); a for loop's bounds must be numbers (5.1 converts
// strings); and 5.1's deprecated table.foreach, table.foreachi, table.setn and
// gcinfo are absent. table.insert(t, pos, v) with pos below 1 is an error
// ("position out of bounds", as in Lua 5.2), where 5.1 moves every element up
// from there.
// print writes to
// Config.Stdout or a log; math.random has a
// generator per LState, seeded at random when the script loads, so
// math.randomseed in one script does not change another's numbers (a reload
// carries the generator: see Reloads). os (without os.exit), io, debug,
// package, channel and coroutine are opened only on request, through
// Config.Libraries.
//
// # Calls
//
// CallJSON converts Go arguments to Lua and results to JSON; the rules are on
// CallJSON. A Func handle takes and returns float64s, allocates nothing and costs
// the script's mutex over gopher-lua's own call.
//
// That mutex is what keeps the LState, which is not goroutine-safe, from seeing two
// calls at once, and on a small function it is most of what a Func adds to a raw
// call. A hot loop that calls one script many times (update for every entity, each
// frame) takes it once instead with a Lease:
//
//	l, _ := rt.Acquire(ctx, id) // waits for the call or commit in progress
//	for i := range entities {
//		_, _ = l.Call(ctx, update, float64(i)) // no lock; limits apply per call
//	}
//	l.Release()
//
// While the lease is held, calls from other goroutines and the commit of a reload
// wait, so every call through it runs on one version that is never swapped or
// closed under it; Stage still compiles and runs the new chunk in the background
// (where an edit moved code, it waits for the script 20 ms at most, to read
// which places hold the old code still, and leaves that to the commit past
// them: see Runtime.Stage). A lease belongs to one goroutine, which must Release
// it before reloading or calling the script any other way, or it deadlocks. The rules are on Lease; they
// are the same as package wasm's, so a host can treat both engines alike.
//
// Each LState (and each coroutine) has a call stack of 1,024 frames, 80 KiB
// allocated up front as in stock gopher-lua; deeper recursion fails with a Lua
// "stack overflow" error naming the script and line. (gopher-lua's stacks that
// grow on demand would save that memory, but overflowing one corrupts frames
// shared with other scripts.)
//
// # Limits
//
// Limits bound each call by instructions, wall-clock time and the memory of the
// strings it builds. gopher-lua has no limits of its own, so the package builds them
// on two of its properties. The VM asks the context installed on the LState whether
// it is done before every instruction: a context of this package's own counts those
// questions, which gives a deterministic instruction budget, and looks at the clock
// every 1,024 of them. And work inside Go builtins is invisible to the VM, so the
// builtins that can run long or build huge strings in one instruction are replaced:
// pattern matching (a port of Lua 5.1's matcher that counts its steps),
// string.rep, format, upper, lower, reverse, table.concat, and the .. operator,
// which the compiler routes through a capped function; a ... that passes all its
// values on, which the compiler routes through a function charging one unit per
// value; pcall and xpcall, which no longer build the traceback gopher-lua's built
// (and threw away) for every error they caught, in time that grows with the square
// of the call depth; and
// table.insert, remove, sort, unpack and string.byte (and next and pairs, for the
// slots of removed keys they step over) are charged for the elements
// they move before they run. See Limits
// for exactly what is counted. A call that hits a limit fails with an error matching
// ErrLimit; the script stays usable.
//
// A table forgets the keys removed from its hash part once they outnumber the
// keys it holds, when a key is next added (gopher-lua kept every key a table
// ever had: one whose keys churn, an entity's name set and an old one's cleared
// each frame, grew for good, and pairs over it walked every key it ever had).
// Until then next and pairs step over them, each charged as an instruction. Weak tables are not weak:
// gopher-lua ignores __mode, so a cache with weak keys keeps an entry for
// every object it was ever given, until the script removes it (and a reload
// carries them all): remove an object's entries when the object goes.
//
// # Reloads
//
// A reload (Runtime.ReloadScript, or Runtime.Stage then Staged.Commit) follows five
// steps as one atomic step:
//
//  1. compile the new source (a syntax error fails the reload);
//  2. run it in a fresh LState to get the new module table (a runtime error, a limit,
//     or a chunk that returns a non-table fails the reload);
//  3. deep-copy every non-function field of the old table into the new one, the old
//     values winning over the new file's initial values (a data field the old
//     chunk set and the script removed stays removed), and carry math.random's
//     generator; the classes and functions the old data refers to become the new
//     version's, and tables of code the module holds (classes, objects, tables
//     of functions) are merged: what the script changed in them as it ran
//     wins, the rest follows the new source (see below). The spec this
//     package follows has the old values win everywhere and metatables and
//     functions in data carried as they are; the differences are the ones
//     below;
//  4. if the new module has on_save and on_restore, or the old one has on_save, call
//     the old on_save(), then the new on_restore(saved) with a copy of its result;
//     on the reload that adds the hooks the old version has no on_save, and
//     on_restore gets nil (write it to accept that: if saved then ... end). A new
//     version with on_restore but no on_save is not restored from an old version
//     without on_save either;
//  5. swap: from now on calls go to the new table.
//
// Steps 1 and 2 are Stage: they run without holding the script, so its callers keep
// calling the old version meanwhile (a game reloads in the background and keeps its
// frame rate), but for a moment where an edit moved code, to read which places
// hold the old code still (see Runtime.Stage). Steps 3 to 5 are Commit, during which the script's callers wait; the
// ReloadReport says for how long. That grows with the data carried, every table of
// it copied: about 2 us per small table (5,000 entities of four tables take
// about 35 ms, two frames at 60 fps: BenchmarkReloadEntities), and about twice that when an on_save runs (the old version's
// tables are snapshotted for the rollback). Staged.CommitCheck adds a host's check between
// steps 4 and 5: it can call the new version, state in place, and refuse it. If
// anything fails, the old version stays live with exactly its state: nothing the
// failed chunk did reaches it, and what on_save (or on_restore and the check,
// through an old function carried in a data field) changed in the old version's
// tables reachable from its module or its globals, in the local variables its
// functions close over (and the tables they reach), or drew from its
// math.random generator, is undone. (A coroutine resumed is not rewound: on_save
// should only read the state it returns.) What the host functions they call
// change outside the script is undone as far as they registered how with
// OnRollback.
//
// What on_save returns is copied in the same copy as the fields of step 3: a table
// both reach is one table in the new version (saved.items == M.items in
// on_restore), and a saved reference to the old module is the new module. Such a
// table holds what step 3 copied, before on_save ran; what on_save changes reaches
// on_restore only in tables that are not also fields, one more reason for on_save
// to only read.
//
// on_save is the live version's code and runs at every reload, so one that fails
// (a bug, or work that outgrows the limits as the state grows) fails every reload,
// the one that would fix it included, with an error naming "on_save of the live
// version": the state stays, and so does the version. Keep on_save small and bounded, and reload a
// version's own source once after adding or editing its on_save, which runs it.
// A runtime with Config.ReloadPastFailingOnSave goes on past such an on_save
// instead: the new version gets the fields as step 3 carried them and
// on_restore(nil), and ReloadReport.SaveFailed says what failed (hotscript
// run's runtime does, so that the fix of an on_save goes live).
//
// Calls follow reloads. CallJSON reads M[name] on every call, so it also follows a
// script that assigns a new M.name at run time, at once. A Func binds the function
// value it finds and re-resolves M[name] only when the script's live version changes
// (a reload or a commit; a failed one changes nothing): a script's own M.name = g
// reaches a Func made after the change; one bound before keeps the function it
// bound until the next reload, which binds the new version's M.name (the
// module's fields that hold functions take the new chunk's). That keeps a table
// read off the hot path.
//
// What step 3 carries, and what it does not:
//
//   - Nested tables are copied deeply; a table reached twice is copied once, so shared
//     subtables stay shared and cycles stay cycles. A reference back to the module
//     (M.self = M, entity.owner = M) refers to the new module. A nested table of
//     data is replaced as a whole: fields the new source adds inside it, functions
//     too, appear only through on_restore. Keep constants that edits change (an
//     enum, settings) out of the module's data: in a local the module's data
//     does not hold (it starts over), or in a table of code, whose values the
//     script never changed follow the source. A coroutine or channel inside one is
//     dropped. A table of data that the old chunk left at a place (a field
//     of the module, or of such a table or of a table of code the reload
//     merges, wherever that is now, by string and boolean keys, up to 12
//     steps, metatables included, from the module, not through the
//     globals table: M.enemies,
//     M.inventory.items, M.Enemy.made, the registry of a class objects of
//     the module have as metatable) and that is there still is
//     carried into the table the new chunk holds at the same place, emptied
//     first, rather than into a new one, so that a local of the chunk that
//     holds it too (local enemies = {}; M.enemies = enemies, or local items
//     = M.inventory.items) holds the carried state; unless the new version
//     holds that table as code, or at another place as well that does not
//     hold the same old table (a shared default), or the old table was at
//     places where the new chunk left different tables (each keeps its
//     own; the module holds a copy of the old one at all of them). A place the
//     script gave another table as it ran leaves the new chunk's table
//     there its own (a constant the chunk put there stays one), and so do
//     the places below it; a list's entries are no places (they move). A
//     local holding a table the carry does not go into (local p1 =
//     M.players[1]) holds the new chunk's table after a reload, which the
//     module no longer holds: have the functions reach it through the
//     module.
//   - Code is matched: each function and table of code of the old version
//     that the new version has in the same place stands for the new one. A
//     table of code holds a function, or is a class: a metatable, a table made
//     to be one (with fields named __...), or a class object holding one; or
//     it holds by name tables of code without data, and no data itself (an
//     FSM's table of states, handlers by event, M.classes; not a table of
//     objects, nor of entities with methods and data): merged, wherever it is,
//     so that a state the edit adds to it is there after the reload; and one
//     that the edit made such a table where the old chunk left a table of
//     data (a registry the edit gives its first entry at load) takes the old
//     data as a table of data would. A
//     place is a path from the module (or from the globals, or from the
//     chunk's top-level locals by name) through fields
//     named by strings or booleans, metatables and the upvalues of functions by name (a
//     local class that the module's functions use), at most 12 steps long,
//     taken as each version's chunk returned; a piece of code has up to four,
//     the first found, breadth first from the module, among them. A list's
//     places (number keys) are data, not names. The chunk's locals are those
//     its top level declared before it returns, if it ends in a return of one
//     value (return M), but for aliases (local Default = Sword) and locals it
//     assigns anywhere (current = Walk): code that only other code's upvalues reach (a state
//     only Enemy.new's upvalue Idle reaches, objects made with { state = Idle })
//     is matched by its local's name where an edit makes Enemy.new name
//     another local or renames a local on the way (Enemy to Grunt). A chunk
//     that returns otherwise has no such places: such code then has no
//     counterpart, and objects holding it run its old code in a copy, at
//     later reloads too; give it a place of its own (M.states =
//     { idle = Idle, chase = Chase }).
//     The counterpart is the new
//     code that a place still holding the old code reaches (the old module
//     holds it there as the reload commits: an FSM's state the script moved
//     off is matched by M.fsm.states.idle, not by M.fsm.current, where it
//     was found first), then the one the first place reaches, else the one
//     a local's name reaches, else the one most places reach; and one piece
//     of new code stands for one piece of old code at most, the one with the
//     best claim in those terms (for a table of data at the places of two
//     tables of code, the edit having removed the last function of one, the
//     one with more of its keys, not the first found); the others have none,
//     but for one whose first place reaches new code no other old code
//     claims (its home), which it then stands for:
//     where a field or a local only names code that has a place of its own
//     (M.default = Enemy, local Default = M.Enemy), changing what it names
//     does not turn the old code into the new code it names, unless that
//     field is where the old code was found first and holds it still
//     (M.fsm.current, found before M.fsm.states.idle, breadth first), or
//     holds it still where the first place does not: an edit that makes the
//     chunk start in another state, while the script is in the one it
//     started in (or has moved off it, if another field names the start
//     state, M.fsm.initial, or no place holds the states but the current
//     one, states that name each other through their functions' upvalues),
//     then gives the old Idle the new Walk, and the old Walk no counterpart
//     (it runs on in a copy, at later reloads too). Name such a state by
//     its key (M.fsm.current = "idle") to keep it out of the matching.
//     Code the script let go of as it ran (a state of an FSM that nothing
//     reaches once the script moved M.fsm.current off it) is matched all the
//     same, whether or not Go's collector took it before the reload (the
//     package holds code weakly), so that what a reload carries does not
//     depend on the collector; one the collector took counts as its chunk
//     left it. Two cases still do: where the script gave such a table's
//     fields other tables before it let go of it, and where the new version
//     reaches its counterpart from the module, which gets the old one's
//     state (what the script set in it, and its tables of data) only if the
//     collector had not taken it.
//   - A matched table of code the module holds (a path from the module
//     without an upvalue reaches it: M.Enemy, M.handlers) is merged: what the
//     old version's code changed in it as it ran (a field set, replaced or
//     removed, as M.fsm.current = M.attack or Enemy.count = Enemy.count + 1;
//     its metatable) is state, and kept; a number, string, boolean or
//     function it left as the old chunk made it follows the new chunk (edited
//     methods and constants, added and removed ones); a table of data in it
//     is carried whole, as the module's are, and so is a table of code no new
//     code stands for, unless the edit removed its key and it holds only
//     functions and tables (a state removed from a table of states is gone;
//     an object, or an entity with data, the edit now makes lazily, is not);
//     its entries of number keys (a
//     list) are the old ones, all of them and only them, unless the script
//     left them as the old chunk made them, and they are functions, numbers,
//     strings and booleans (a pipeline of steps, the handlers the chunk
//     registers for an event): then they are the new chunk's, edits included,
//     and an old function of the list the script holds elsewhere too (the
//     current step, a handler's handle) is the new one at its index there. One whose last
//     function the edit removed is merged too, if the old module holds it
//     still at a place where the old chunk left it and the new chunk left
//     its counterpart, and nothing else goes into that table (a table of
//     code that no new code stands for is copied whole, not into it; else, as when
//     the script replaced it there, it is copied as data and the new chunk's
//     table stays its own; so is one not found within 4 pairs of places per
//     table of both versions plus 1,024, as with rings of entities of
//     different lengths). One of more than 1,024 fields
//     is copied whole instead, for its objects too: its methods run the old
//     code, methods the new source adds are missing. A table of code only a local or a
//     global holds (a local class) is the new chunk's, as locals and globals
//     start over, but for the wiring the old version's code gave the old one
//     as it ran: metamethods it lacks (the self.__index = self of Programming
//     in Lua's class idiom, which its first new() sets) and a metatable; but
//     one that the module's data holds (a global player, a class in a list of
//     the module, a registry's class) gets the old one's data as the module
//     does, whether the chunk gave it data or the script did as it ran (a
//     table of handlers in M.all that the script tagged), but for a number,
//     string or boolean still as the old chunk left it, which follows the new
//     chunk as in a merged table (an edited Enemy.speed, for objects made
//     with { __index = Enemy }). A table with a metatable is an instance, of
//     code too: a prototype (Fast = Enemy:new{ speed = 9 }) stays one table.
//   - A carried table iterates (pairs, next) in the order the old one did when it
//     was copied, so pairs order, which is the same every run before a reload, is
//     the same every run after one: first the array part (the integer keys from 1
//     up to where more than half would hold a value) by index, then the other
//     keys in the old table's order, the order they were first set. The copy
//     keeps the places of the keys the old table had removed (until removed
//     keys outnumber the others), so that a key set again after the reload
//     goes where it would have without the reload, and a traversal spread over
//     calls that cleared the key it stood on goes on: but for a removed table
//     key that nothing else carried, which has no copy to take its place. The
//     module table is the new chunk's: a field the chunk set keeps the place the
//     chunk first gave it, and the carried fields it did not set follow in the old
//     module's order. What on_save returns is copied the same way.
//   - math.random's generator is carried: the new version draws next the number
//     the old one would have drawn next, so a script the host seeded
//     (math.randomseed) draws the same numbers every run, reloads or not. Like the
//     fields, the carried generator replaces what the new chunk's top-level code
//     made of its own: a math.randomseed there does not last past the reload (to
//     reseed on a reload, call it in on_restore, which draws from the carried
//     generator). It is carried as it was before on_save ran, so what on_save
//     draws does not reach the new version, and a failed reload puts the old
//     version's generator back as it was, as it does the old tables.
//   - Objects keep their class: a carried table keeps its metatable, which is
//     the new version's class where the old one was matched (M.Enemy, a local
//     Enemy, a global Enemy, a subclass's metatable). An object made before
//     the reload runs the new version's methods, edited and added ones, and a
//     method the new version removed is gone. A metatable with no counterpart
//     (a class the new version no longer has, one made for a single object) is
//     copied with the object, and its functions run the old code; so is a
//     class the script made as it ran (in an init function), which has no
//     place: places are taken as the chunk returns. A protected metatable
//     (with a __metatable field) is not carried: its objects come out with
//     none, their methods failing until on_restore sets it again, as scripts
//     did before metatables were carried (and setmetatable would refuse to
//     change a carried one); but for a table that only a closure kept in
//     data reaches (a read-only table it closed over), which on_restore
//     cannot reach, and keeps it. The module's own metatable is the new chunk's.
//   - A function stored in data (an entity's state = M.attack, a queue of
//     M.attack-like named functions) is, after the reload, its counterpart,
//     the new version's; one with none (a closure made as the script ran, a
//     function literal in a list the script changed as it ran, or in a table
//     in a list, as a menu item's { label = "Play", on_select = function() ... end }
//     (a list's places are no names: key such items by name to edit them),
//     one the new version no longer has) keeps running the old code, on the
//     new version's state: it is carried as a copy of the closure whose
//     upvalues (the locals it closed over) hold what the reload made of
//     theirs, as data fields do (M the new module, an object the carried
//     copy, code its counterpart, a number as it was: an object of closures
//     over self, or a handler that adds to M.score, goes on as it did),
//     and whose globals are the new version's; closures that shared a local
//     share its copy, and not the new chunk's local of that name. A Go
//     function is carried by reference. To run the new code, store named
//     module functions (or their names) rather than closures.
//     The module's own fields that hold functions always take the new
//     chunk's: a script that switches M.update to M.update_menu as it runs
//     finds M.update again after a reload (keep such a choice in data:
//     M.scene = "menu", or M.state = { update = M.update_menu }).
//   - Closure upvalues are not carried: local variables of the old chunk start
//     over for the new chunk's functions (closures kept in data keep theirs, above).
//     Nor are globals: the new chunk's globals are its own.
//   - A data field removed as the script ran stays removed (a list entry of
//     the module too) for modules of up to 65,536 data fields of each kind,
//     list entries and other keys; past that, one of that kind comes back
//     with the new chunk's value.
//   - Coroutines (and channels) are not carried; the new version keeps its own value
//     for such a module field. A function coroutine.wrap made, kept in a field,
//     is carried as a function, but its coroutine is the old version's: a call
//     of it fails with "cannot resume a coroutine of another version of the
//     script" (start a new one in on_restore). Userdata is carried by reference,
//     and survives only as far as whatever created it does.
//
// # Errors
//
// Script failures are *Error values naming the script, the function and, where
// known, the line ("enemy.lua:12: attempt to index a non-table object(nil) with key 'x'"), with the Lua
// traceback; errors.Is matches their kind: ErrCompile, ErrRuntime, ErrNotTable,
// ErrNoFunction, ErrJSON, or a limit. No panic from a script or a host function
// crosses the API.
//
// # Concurrency
//
// Every method of Runtime, Staged and Func is safe for concurrent use; a Lease is
// for one goroutine. Calls to one script are serialized; calls to different
// scripts run in parallel. A new version's chunk, which Stage runs while the
// live version's calls go on, is no call of the script: the host functions its
// top level calls can run at the same time as them (see HostFunc). A call, Acquire or commit that finds its script busy
// waits its turn, first come first served once a wait passes a millisecond, and
// gives up when its context ends, with an error that names the operation and
// the script and matches the context's error (context.DeadlineExceeded...).
// Unload and Runtime.Close wait for the call in progress whatever their context.
package lua
