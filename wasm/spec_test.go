package wasm_test

// Tests that mirror the founding document on WASM hot reload (wasm-hot-reload.md),
// section by section.

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/hotscript/hotscript/ecs"
	"github.com/hotscript/hotscript/internal/guest"
	"github.com/hotscript/hotscript/wasm"
)

// "WASM Modules Are Stateless": three increments make 3, and a reload resets the
// counter to 0, whether the bytes changed or not.
func TestSpecCounterResetsOnReload(t *testing.T) {
	for _, next := range []string{"counter_v2", "counter_v1"} {
		t.Run("reload to "+next, func(t *testing.T) {
			rt := newRuntime(t, wasm.Limits{})
			id := load(t, rt, "counter_v1", nil)
			for range 3 {
				call(t, rt, id, "increment")
			}
			if got := callInt(t, rt, id, "get_counter"); got != 3 {
				t.Fatalf("counter after three increments = %d, want 3", got)
			}
			if err := rt.ReloadModule(ctx, id, guest.Bytes(next)); err != nil {
				t.Fatalf("ReloadModule: %v", err)
			}
			if got := callInt(t, rt, id, "get_counter"); got != 0 {
				t.Errorf("counter after reload = %d, want 0", got)
			}
		})
	}
}

// "External State Management": state read before a reload into an ECS component
// (ScriptState on an ecs.World entity) and written back after survives.
func TestSpecExternalState(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "counter_v1", nil)
	for range 5 {
		call(t, rt, id, "increment")
	}
	world := ecs.NewWorld()
	entity := world.Spawn()
	saved := ScriptState{Counter: callInt(t, rt, id, "get_counter"), Health: 80.5, Position: [3]float64{1, 2, 3}}
	if err := ecs.Insert(world, entity, saved); err != nil {
		t.Fatal(err)
	}

	if err := rt.ReloadModule(ctx, id, guest.Bytes("counter_v2")); err != nil {
		t.Fatalf("ReloadModule: %v", err)
	}
	state, ok := ecs.Get[ScriptState](world, entity)
	if !ok || state != saved {
		t.Fatalf("component after reload = %+v, %v; want %+v", state, ok, saved)
	}
	call(t, rt, id, "set_counter", state.Counter)

	if got, want := callInt(t, rt, id, "get_counter"), 5; got != want {
		t.Errorf("restored counter = %d, want %d", got, want)
	}
	call(t, rt, id, "increment") // v2 steps by 2
	if got, want := callInt(t, rt, id, "get_counter"), 7; got != want {
		t.Errorf("counter after an increment by v2 = %d, want %d", got, want)
	}
}

// "Error Handling": a failed reload leaves the old module active, state included.
func TestSpecFailedReloadKeepsOldModule(t *testing.T) {
	valid := guest.Bytes("counter_v2")
	tests := []struct {
		name  string
		bytes []byte
		want  []error
		text  string
	}{
		{"invalid bytes", []byte("this is not wasm at all"), []error{wasm.ErrCompile}, "header"},
		{"truncated header", valid[:5], []error{wasm.ErrCompile}, "truncated"},
		{"truncated body", valid[:len(valid)-3], []error{wasm.ErrCompile}, ""},
		{"empty", nil, []error{wasm.ErrCompile}, "truncated"},
		{"missing import", guest.Bytes("missing_import"), []error{wasm.ErrInstantiate}, "host.missing"},
		{"start function traps", guest.Bytes("start_trap"), []error{wasm.ErrInstantiate}, "unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, wasm.Limits{})
			id := load(t, rt, "counter_v1", nil)
			call(t, rt, id, "increment")
			call(t, rt, id, "increment")

			err := rt.ReloadModule(ctx, id, tt.bytes)
			wantErr(t, err, tt.want, "counter_v1", tt.text)

			if got := callInt(t, rt, id, "version"); got != 1 {
				t.Errorf("version after failed reload = %d, want 1", got)
			}
			if got := callInt(t, rt, id, "get_counter"); got != 2 {
				t.Errorf("counter after failed reload = %d, want 2 (state kept)", got)
			}
			if err := rt.ReloadModule(ctx, id, valid); err != nil {
				t.Errorf("a valid reload after the failed one: %v", err)
			}
		})
	}
}

// "Multiple Reloads": v1 -> v2 -> v3, each resetting state and serving its own code.
func TestSpecMultipleReloads(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "counter_v1", nil)
	for v := 1; v <= 3; v++ {
		if v > 1 {
			if err := rt.ReloadModule(ctx, id, guest.Bytes(fmt.Sprintf("counter_v%d", v))); err != nil {
				t.Fatalf("reload to v%d: %v", v, err)
			}
		}
		if got := callInt(t, rt, id, "get_counter"); got != 0 {
			t.Errorf("v%d: counter after reload = %d, want 0", v, got)
		}
		if got := callInt(t, rt, id, "version"); got != v {
			t.Errorf("version = %d, want %d", got, v)
		}
		call(t, rt, id, "increment")
		call(t, rt, id, "increment")
		if got := callInt(t, rt, id, "get_counter"); got != 2*v {
			t.Errorf("v%d: two increments = %d, want %d", v, got, 2*v)
		}
	}
}

// "Function Signature Changes": add goes from two parameters to three.
func TestSpecSignatureChange(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "add_v1", nil)
	if got := callInt(t, rt, id, "add", 2, 3); got != 5 {
		t.Fatalf("add(2, 3) = %d, want 5", got)
	}
	if err := rt.ReloadModule(ctx, id, guest.Bytes("add_v2")); err != nil {
		t.Fatalf("ReloadModule: %v", err)
	}
	_, err := rt.CallJSON(ctx, id, "add", 2, 3)
	wantErr(t, err, []error{wasm.ErrSignature}, "add(i32, i32, i32) takes 3 arguments, got 2", "add_v1")
	if got := callInt(t, rt, id, "add", 2, 3, 4); got != 9 {
		t.Errorf("add(2, 3, 4) = %d, want 9", got)
	}
	exports, err := rt.Exports(id)
	if err != nil {
		t.Fatal(err)
	}
	if got := exports[0].String(); got != "add(i32, i32, i32) i32" {
		t.Errorf("Exports()[0] = %s, want add(i32, i32, i32) i32", got)
	}
}

// "Host Function Compatibility": one host function serves v1 and the reloaded v2;
// a module importing a function that does not exist fails and v2 stays.
func TestSpecHostFunctionAcrossReload(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	var l logger
	if err := rt.Define("host", "log", wasm.LogFunc(l.log)); err != nil {
		t.Fatal(err)
	}
	id, err := rt.Load(ctx, "logger.wasm", guest.Bytes("log_v1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	call(t, rt, id, "run")
	if err := rt.ReloadModule(ctx, id, guest.Bytes("log_v2")); err != nil {
		t.Fatalf("ReloadModule: %v", err)
	}
	call(t, rt, id, "run")
	err = rt.ReloadModule(ctx, id, guest.Bytes("missing_import"))
	wantErr(t, err, []error{wasm.ErrInstantiate}, "host.missing")
	call(t, rt, id, "run")

	want := []string{"logger.wasm: hello from v1", "logger.wasm: hello from v2", "logger.wasm: hello from v2"}
	if got := l.take(); !slices.Equal(got, want) {
		t.Errorf("logged %q, want %q", got, want)
	}
}

// "Provide State Serialization Functions": a JSON state document goes out through
// get_state before a reload and back in through set_state after.
func TestSpecStateSerialization(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "json_state", nil)
	state := ScriptState{Counter: 3, Health: 42.5, Position: [3]float64{1, -2, 0.25}}
	call(t, rt, id, "set_state", state)

	saved, err := rt.CallJSON(ctx, id, "get_state")
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.ReloadModule(ctx, id, guest.Bytes("json_state_v2")); err != nil {
		t.Fatalf("ReloadModule: %v", err)
	}
	call(t, rt, id, "set_state", saved) // a json.RawMessage goes in as it came out

	var got ScriptState
	if err := json.Unmarshal([]byte(call(t, rt, id, "get_state")), &got); err != nil {
		t.Fatal(err)
	}
	if got != state {
		t.Errorf("state after reload = %+v, want %+v", got, state)
	}
	if v := callInt(t, rt, id, "version"); v != 2 {
		t.Errorf("version = %d, want 2", v)
	}
}

// "Test Hot-Reload Behavior": after init and a reload, get_state is the new
// module's default, not the initial state.
func TestSpecBestPracticeStateIsDefaultAfterReload(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "json_state", nil)
	initial := map[string]any{"counter": 10, "name": "enemy"}
	call(t, rt, id, "init", initial)
	if got := call(t, rt, id, "get_state"); got != `{"counter":10,"name":"enemy"}` {
		t.Fatalf("state after init = %s", got)
	}
	if err := rt.ReloadModule(ctx, id, guest.Bytes("json_state_v2")); err != nil {
		t.Fatal(err)
	}
	var got, want any
	json.Unmarshal([]byte(call(t, rt, id, "get_state")), &got)
	json.Unmarshal([]byte(`{"counter":0,"version":2}`), &want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("state after reload = %v, want the default %v", got, want)
	}
}

// "Handle Reload Failures": on success state is restored; on failure the old
// module keeps running, and restoring is not needed.
func TestSpecHandleReloadFailures(t *testing.T) {
	for _, next := range []string{"json_state_v2", "missing_import"} {
		t.Run(next, func(t *testing.T) {
			rt := newRuntime(t, wasm.Limits{})
			id := load(t, rt, "json_state", nil)
			call(t, rt, id, "set_state", ScriptState{Counter: 9})
			saved, _ := rt.CallJSON(ctx, id, "get_state")
			if err := rt.ReloadModule(ctx, id, guest.Bytes(next)); err == nil {
				call(t, rt, id, "set_state", saved)
			}
			if got := call(t, rt, id, "get_state"); got != string(saved) {
				t.Errorf("state = %s, want %s", got, saved)
			}
		})
	}
}

// Reloading bytes identical to the live module makes a fresh instance from the
// same compiled code.
func TestSpecReloadIdenticalBytes(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "counter_v1", nil)
	other := load(t, rt, "counter_v1", nil) // a second script running the same code
	call(t, rt, other, "increment")
	for i := range 3 {
		call(t, rt, id, "increment")
		if err := rt.ReloadModule(ctx, id, guest.Bytes("counter_v1")); err != nil {
			t.Fatalf("reload %d: %v", i, err)
		}
		if got := callInt(t, rt, id, "get_counter"); got != 0 {
			t.Errorf("reload %d: counter = %d, want 0", i, got)
		}
	}
	if got := callInt(t, rt, other, "get_counter"); got != 1 {
		t.Errorf("the other script sharing the code: counter = %d, want 1", got)
	}
}

// A trap fails its call only: the script's next call works with its state, and
// other scripts are untouched.
func TestSpecTrapsLeaveThingsWorking(t *testing.T) {
	tests := []struct {
		fn   string
		args []any
		want error
		text string
	}{
		{"trap_unreachable", nil, wasm.ErrTrap, "unreachable"},
		{"div", []any{1, 0}, wasm.ErrTrap, "integer divide by zero"},
		{"oob", nil, wasm.ErrTrap, "out of bounds memory access"},
		{"recurse", []any{0}, wasm.ErrStackOverflow, "stack"},
		{"bad_json", nil, wasm.ErrJSON, "{not json"},
		{"bad_ptr", nil, wasm.ErrMemoryAccess, "outside"},
	}
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "json_state", nil)
	other := load(t, rt, "counter_v1", nil)
	call(t, rt, id, "set_state", map[string]int{"counter": 4})
	for _, tt := range tests {
		t.Run(tt.fn, func(t *testing.T) {
			call(t, rt, other, "increment")
			_, err := rt.CallJSON(ctx, id, tt.fn, tt.args...)
			wantErr(t, err, []error{tt.want}, "json_state", tt.fn, tt.text)
			if got := call(t, rt, id, "get_state"); got != `{"counter":4}` {
				t.Errorf("state after the trap = %s", got)
			}
			if got := callInt(t, rt, id, "div", 9, 3); got != 3 {
				t.Errorf("div(9, 3) after the trap = %d", got)
			}
		})
	}
	if got, want := callInt(t, rt, other, "get_counter"), len(tests); got != want {
		t.Errorf("other script's counter = %d, want %d", got, want)
	}
}

// A trap's error names the function and carries wazero's stack trace, with
// exported functions named.
func TestSpecTrapTrace(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "json_state", nil)
	_, err := rt.CallJSON(ctx, id, "div", 1, 0)
	var werr *wasm.Error
	if !errors.As(err, &werr) {
		t.Fatalf("error %v is not a *wasm.Error", err)
	}
	if werr.Script != "json_state" || werr.Func != "div" || werr.Op != "call" {
		t.Errorf("Error = {Op %q Script %q Func %q}, want call json_state div", werr.Op, werr.Script, werr.Func)
	}
	if want := []string{"div(i32,i32) i32"}; !slices.Equal(werr.Trace, want) {
		t.Errorf("Trace = %q, want %q", werr.Trace, want)
	}
}
