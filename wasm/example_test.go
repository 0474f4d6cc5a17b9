package wasm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hotscript/hotscript/internal/guest"
	"github.com/hotscript/hotscript/wasm"
	"github.com/tetratelabs/wazero/api"
)

// Load a script and call it.
func ExampleRuntime_Load() {
	ctx := context.Background()
	rt, err := wasm.NewRuntime(ctx, wasm.Limits{MaxMemoryBytes: 16 << 20, MaxExecutionTime: time.Second})
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)

	// counter_v1 (internal/guest/counter_v1.wat) exports increment(),
	// get_counter() i32, set_counter(i32) and version() i32; counter_v2 is the next version.
	id, err := rt.Load(ctx, "counter.wasm", guest.Bytes("counter_v1"), nil)
	if err != nil {
		panic(err)
	}
	for range 3 {
		if _, err := rt.CallJSON(ctx, id, "increment"); err != nil {
			panic(err)
		}
	}
	out, _ := rt.CallJSON(ctx, id, "get_counter")
	fmt.Println("counter:", string(out))
	// Output: counter: 3
}

// Reload a script: the new code runs and the module's own state starts over. A
// failed reload leaves the old module running.
func ExampleRuntime_ReloadModule() {
	ctx := context.Background()
	rt, _ := wasm.NewRuntime(ctx, wasm.Limits{})
	defer rt.Close(ctx)
	// counter_v1 (internal/guest/counter_v1.wat) exports increment(),
	// get_counter() i32, set_counter(i32) and version() i32; counter_v2 is the next version.
	id, _ := rt.LoadModule(ctx, guest.Bytes("counter_v1"))
	rt.CallJSON(ctx, id, "increment")

	// Keep the state outside the module (here a variable, in a game a component).
	saved, _ := rt.CallJSON(ctx, id, "get_counter")
	if err := rt.ReloadModule(ctx, id, guest.Bytes("counter_v2")); err != nil {
		panic(err)
	}
	after, _ := rt.CallJSON(ctx, id, "get_counter")
	rt.CallJSON(ctx, id, "set_counter", json.Number(saved))
	restored, _ := rt.CallJSON(ctx, id, "get_counter")
	version, _ := rt.CallJSON(ctx, id, "version")
	fmt.Printf("version %s: counter %s after reload, %s restored\n", version, after, restored)

	err := rt.ReloadModule(ctx, id, []byte("not wasm"))
	version, _ = rt.CallJSON(ctx, id, "version")
	fmt.Println(errors.Is(err, wasm.ErrCompile), "- still version", string(version))
	// Output:
	// version 2: counter 0 after reload, 1 restored
	// true - still version 2
}

// CallJSON passes Go numbers to numeric parameters and returns results as JSON.
func ExampleRuntime_CallJSON() {
	ctx := context.Background()
	rt, _ := wasm.NewRuntime(ctx, wasm.Limits{})
	defer rt.Close(ctx)
	// Modules of internal/guest: add_v1.wat exports add(i32, i32) i32.
	add, _ := rt.LoadModule(ctx, guest.Bytes("add_v1"))
	numbers, _ := rt.LoadModule(ctx, guest.Bytes("numbers"))
	multi, _ := rt.LoadModule(ctx, guest.Bytes("multi"))

	out, _ := rt.CallJSON(ctx, add, "add", 2, 3)
	fmt.Println(string(out))
	out, _ = rt.CallJSON(ctx, numbers, "addf64", 0.5, json.Number("1e3"))
	fmt.Println(string(out))
	out, _ = rt.CallJSON(ctx, numbers, "id32", uint32(4294967295)) // the upper half of i32 wraps
	fmt.Println(string(out))
	out, _ = rt.CallJSON(ctx, multi, "multi") // several results make an array
	fmt.Println(string(out))
	out, _ = rt.CallJSON(ctx, numbers, "nothing") // no result is null
	fmt.Println(string(out))

	_, err := rt.CallJSON(ctx, add, "add", 2.5, 3)
	fmt.Println(err)
	_, err = rt.CallJSON(ctx, add, "add", 1, 2, 3)
	fmt.Println(err)
	// Output:
	// 5
	// 1000.5
	// -1
	// [-1,9007199254740993,1.5]
	// null
	// wasm: call module#1 add: signature mismatch: add(i32, i32) argument 1: 2.5 is not an integer
	// wasm: call module#1 add: signature mismatch: add(i32, i32) takes 2 arguments, got 3
}

// A function taking (ptr, len i32) receives one Go value as a JSON document, and
// one returning (ptr, len i32) gives a JSON document back.
func ExampleRuntime_CallJSON_document() {
	ctx := context.Background()
	rt, _ := wasm.NewRuntime(ctx, wasm.Limits{})
	defer rt.Close(ctx)
	// json_state (internal/guest/json_state.wat) keeps its state as a JSON
	// document: get_state() (i32, i32), set_state(i32, i32), echo, alloc and free.
	id, _ := rt.Load(ctx, "enemy.wasm", guest.Bytes("json_state"), nil)

	type State struct {
		Counter int        `json:"counter"`
		Health  float64    `json:"health"`
		Pos     [2]float64 `json:"pos"`
	}
	out, _ := rt.CallJSON(ctx, id, "get_state")
	fmt.Println("default:", string(out))
	if _, err := rt.CallJSON(ctx, id, "set_state", State{Counter: 3, Health: 97.5}); err != nil {
		panic(err)
	}
	out, _ = rt.CallJSON(ctx, id, "get_state")
	fmt.Println("set:", string(out))

	out, _ = rt.CallJSON(ctx, id, "echo", json.RawMessage(`{"raw": true}`))
	fmt.Println("echo:", string(out))
	out, _ = rt.CallJSON(ctx, id, "echo", wasm.JSON(42)) // a number, forced to a document
	fmt.Println("echo:", string(out))

	_, err := rt.CallJSON(ctx, id, "bad_json")
	fmt.Println(errors.Is(err, wasm.ErrJSON))
	// Output:
	// default: {"counter":0}
	// set: {"counter":3,"health":97.5,"pos":[0,0]}
	// echo: {"raw": true}
	// echo: 42
	// true
}

// Host functions are defined once, before the first load, and every version of
// every script links against them.
func ExampleRuntime_Define() {
	ctx := context.Background()
	rt, _ := wasm.NewRuntime(ctx, wasm.Limits{})
	defer rt.Close(ctx)

	err := rt.Define("host", "log", wasm.LogFunc(func(script, msg string) {
		fmt.Printf("[%s] %s\n", script, msg)
	}))
	if err != nil {
		panic(err)
	}
	// log_v1 (internal/guest/log_v1.wat) imports host.log(ptr, len i32) and
	// exports run(), which logs a line.
	id, _ := rt.Load(ctx, "greeter.wasm", guest.Bytes("log_v1"), nil)
	rt.CallJSON(ctx, id, "run")
	rt.ReloadModule(ctx, id, guest.Bytes("log_v2"))
	rt.CallJSON(ctx, id, "run")

	// A bad pointer from the guest is an error naming the script, not a crash.
	_, err = rt.CallJSON(ctx, id, "bad_log")
	fmt.Println(errors.Is(err, wasm.ErrMemoryAccess))

	// A module importing something undefined does not replace the running one.
	err = rt.ReloadModule(ctx, id, guest.Bytes("missing_import"))
	fmt.Println(err)
	// Output:
	// [greeter.wasm] hello from v1
	// [greeter.wasm] hello from v2
	// true
	// wasm: reload greeter.wasm: instantiate failed: missing host function host.missing, imported as host.missing()
}

// A custom host function works on the raw parameter stack.
func ExampleHostFunc() {
	ctx := context.Background()
	rt, _ := wasm.NewRuntime(ctx, wasm.Limits{})
	defer rt.Close(ctx)
	rt.Define("host", "log", wasm.HostFunc{
		Params: []wasm.ValueType{wasm.I32, wasm.I32},
		Func: func(ctx context.Context, c *wasm.Caller, stack []uint64) error {
			ptr, n := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
			msg, err := c.ReadString(ptr, n)
			if err != nil {
				return err
			}
			fmt.Printf("%s wrote %d bytes: %q\n", c.Script(), n, msg)
			return nil
		},
	})
	id, _ := rt.Load(ctx, "script", guest.Bytes("log_v1"), nil)
	rt.CallJSON(ctx, id, "run")
	// Output: script wrote 13 bytes: "hello from v1"
}

// Stage compiles in the background; Commit swaps, moving state with migrate.
func ExampleStaged_Commit() {
	ctx := context.Background()
	rt, _ := wasm.NewRuntime(ctx, wasm.Limits{})
	defer rt.Close(ctx)
	// json_state (internal/guest/json_state.wat) keeps its state as a JSON
	// document: get_state() (i32, i32), set_state(i32, i32), echo, alloc and free.
	id, _ := rt.Load(ctx, "enemy.wasm", guest.Bytes("json_state"), nil)
	rt.CallJSON(ctx, id, "set_state", map[string]int{"counter": 41})

	st, err := rt.Stage(ctx, id, guest.Bytes("json_state_v2")) // callers are not blocked
	if err != nil {
		panic(err)
	}
	fmt.Println("staged exports:", len(st.Exports()))
	err = st.Commit(ctx, func(ctx context.Context, old, next *wasm.Instance) error {
		state, err := old.CallJSON(ctx, "get_state")
		if err != nil {
			return err
		}
		_, err = next.CallJSON(ctx, "set_state", state)
		return err
	})
	if err != nil {
		panic(err)
	}
	state, _ := rt.CallJSON(ctx, id, "get_state")
	version, _ := rt.CallJSON(ctx, id, "version")
	fmt.Printf("version %s, state %s\n", version, state)

	// A migrate that fails leaves everything as it was.
	st, _ = rt.Stage(ctx, id, guest.Bytes("json_state"))
	err = st.Commit(ctx, func(context.Context, *wasm.Instance, *wasm.Instance) error {
		return errors.New("self-check failed")
	})
	version, _ = rt.CallJSON(ctx, id, "version")
	fmt.Println(errors.Is(err, wasm.ErrMigrate), "- still version", string(version))
	// Output:
	// staged exports: 7
	// version 2, state {"counter":41}
	// true - still version 2
}

// A call that traps during a migration fails the Commit, even when migrate
// ignores its error and returns nil; ClearErr is for a migrate that handles
// such a failure on purpose, here by starting the new version afresh.
func ExampleInstance_ClearErr() {
	ctx := context.Background()
	rt, _ := wasm.NewRuntime(ctx, wasm.Limits{})
	defer rt.Close(ctx)
	id, _ := rt.Load(ctx, "enemy.wasm", guest.Bytes("json_state"), nil)
	ignore := func(ctx context.Context, old, next *wasm.Instance) error {
		old.CallJSON(ctx, "trap_unreachable") // say, a get_state that traps; its error ignored
		return nil
	}
	startAfresh := func(ctx context.Context, old, next *wasm.Instance) error {
		if _, err := old.CallJSON(ctx, "trap_unreachable"); err != nil {
			old.ClearErr() // the old state is lost: next keeps its own
		}
		return nil
	}
	st, _ := rt.Stage(ctx, id, guest.Bytes("json_state_v2"))
	err := st.Commit(ctx, ignore)
	version, _ := rt.CallJSON(ctx, id, "version")
	fmt.Println("ignored:", errors.Is(err, wasm.ErrTrap), "- still version", string(version))
	st, _ = rt.Stage(ctx, id, guest.Bytes("json_state_v2"))
	err = st.Commit(ctx, startAfresh)
	version, _ = rt.CallJSON(ctx, id, "version")
	fmt.Println("cleared:", err, "- version", string(version))
	// Output:
	// ignored: true - still version 1
	// cleared: <nil> - version 2
}

// A Func handle calls without lookups or conversions and follows reloads.
func ExampleRuntime_Func() {
	ctx := context.Background()
	rt, _ := wasm.NewRuntime(ctx, wasm.Limits{})
	defer rt.Close(ctx)
	// counter_v1 (internal/guest/counter_v1.wat) exports increment(),
	// get_counter() i32, set_counter(i32) and version() i32; counter_v2 is the next version.
	id, _ := rt.LoadModule(ctx, guest.Bytes("counter_v1"))
	tick, err := rt.Func(id, "tick")
	if err != nil {
		panic(err)
	}
	stack := make([]uint64, 1)
	for frame := range 4 {
		if frame == 2 {
			rt.ReloadModule(ctx, id, guest.Bytes("counter_v2"))
		}
		if err := tick.Call(ctx, stack); err != nil {
			panic(err)
		}
		fmt.Println(tick.Info(), "=", api.DecodeI32(stack[0]))
	}
	// Output:
	// tick() i32 = 1000001
	// tick() i32 = 1000002
	// tick() i32 = 2000002
	// tick() i32 = 2000004
}

// Limits stop runaway scripts; the script keeps working afterwards.
func ExampleLimits() {
	ctx := context.Background()
	rt, _ := wasm.NewRuntime(ctx, wasm.Limits{MaxMemoryBytes: 4 << 16})
	defer rt.Close(ctx)
	id, _ := rt.Load(ctx, "grow.wasm", guest.Bytes("grow"), nil)

	_, err := rt.CallJSON(ctx, id, "grow_forever")
	fmt.Println(errors.Is(err, wasm.ErrMemoryLimit), errors.Is(err, wasm.ErrLimit))
	pages, _ := rt.CallJSON(ctx, id, "pages")
	fmt.Println("pages:", string(pages))
	// Output:
	// true true
	// pages: 4
}

// An instruction budget stops an infinite loop, deterministically, and Usage
// reports the fuel calls used, to tune the budget.
func ExampleLimits_instructions() {
	ctx := context.Background()
	rt, _ := wasm.NewRuntime(ctx, wasm.Limits{MaxInstructions: 100_000})
	defer rt.Close(ctx)
	id, _ := rt.Load(ctx, "spin.wasm", guest.Bytes("spin"), nil)

	_, err := rt.CallJSON(ctx, id, "forever")
	fmt.Println(err)
	fmt.Println(errors.Is(err, wasm.ErrInstructionLimit), errors.Is(err, wasm.ErrLimit))

	out, _ := rt.CallJSON(ctx, id, "spin", 1000) // the script still answers
	u, _ := rt.Usage(ctx, id)
	fmt.Printf("spin(1000) = %s used %d fuel; %d calls used %d in all\n", out, u.LastFuel, u.Calls, u.TotalFuel)
	// Output:
	// wasm: call spin.wasm forever: instruction limit exceeded: used 100001, limit 100000
	// wasm stack trace:
	// 	forever()
	// true true
	// spin(1000) = 1000 used 9005 fuel; 2 calls used 109006 in all
}

// A time limit stops a call that runs too long; the module keeps its state and
// answers the next call.
func ExampleLimits_time() {
	ctx := context.Background()
	rt, _ := wasm.NewRuntime(ctx, wasm.Limits{MaxExecutionTime: 10 * time.Millisecond})
	defer rt.Close(ctx)
	id, _ := rt.Load(ctx, "spin.wasm", guest.Bytes("spin"), nil)

	rt.CallJSON(ctx, id, "bump")
	_, err := rt.CallJSON(ctx, id, "forever")
	fmt.Println(errors.Is(err, wasm.ErrTimeout))
	n, _ := rt.CallJSON(ctx, id, "bump")
	fmt.Println("bump:", string(n))
	// Output:
	// true
	// bump: 2
}

// Inspect describes a module without running it.
func ExampleInspect() {
	info, err := wasm.Inspect(context.Background(), guest.Bytes("log_v1"))
	if err != nil {
		panic(err)
	}
	for _, f := range info.Imports {
		fmt.Println("import", f)
	}
	for _, f := range info.Exports {
		fmt.Println("export", f)
	}
	fmt.Println("memory pages:", info.Memory.Min)
	// Output:
	// import host.log(i32, i32)
	// export bad_log()
	// export run()
	// export version() i32
	// memory pages: 1
}

// Lease a script for a frame's hot loop: one lock for all the calls.
func ExampleRuntime_Acquire() {
	ctx := context.Background()
	rt, _ := wasm.NewRuntime(ctx, wasm.Limits{})
	defer rt.Close(ctx)
	id, _ := rt.Load(ctx, "add.wasm", guest.Bytes("add_v1"), nil)
	add, _ := rt.Func(id, "add")

	l, err := rt.Acquire(ctx, id)
	if err != nil {
		panic(err)
	}
	stack := make([]uint64, 2)
	for entity := range int32(3) {
		stack[0], stack[1] = api.EncodeI32(entity), api.EncodeI32(10)
		if err := l.Call(ctx, add, stack); err != nil {
			panic(err)
		}
		fmt.Println("entity", entity, "->", api.DecodeI32(stack[0]))
	}
	out, _ := l.CallJSON(ctx, "add", 2, 3)
	fmt.Println("add(2, 3) =", string(out))
	l.Release() // before reloading: a commit waits for it

	_, err = l.CallJSON(ctx, "add", 2, 3)
	fmt.Println(errors.Is(err, wasm.ErrReleased), err)
	// Output:
	// entity 0 -> 10
	// entity 1 -> 11
	// entity 2 -> 12
	// add(2, 3) = 5
	// true wasm: call add.wasm add: lease released
}
