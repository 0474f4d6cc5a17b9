package wasm_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hotscript/hotscript/ecs"
	"github.com/hotscript/hotscript/internal/guest"
	"github.com/hotscript/hotscript/wasm"
)

// The spec's pattern: WASM state does not survive a reload, so it is
// read out before the reload into an ECS component, and written back after.
func Example_ecsState() {
	ctx := context.Background()
	rt, _ := wasm.NewRuntime(ctx, wasm.Limits{})
	defer rt.Close(ctx)

	type ScriptState struct {
		Counter  int
		Health   float64
		Position [3]float64
	}
	world := ecs.NewWorld()
	player := world.Spawn()

	id, _ := rt.LoadModule(ctx, guest.Bytes("counter_v1"))
	for range 3 {
		rt.CallJSON(ctx, id, "increment")
	}

	// Before the reload: read state from WASM into the entity's component.
	out, _ := rt.CallJSON(ctx, id, "get_counter")
	var counter int
	json.Unmarshal(out, &counter)
	ecs.Insert(world, player, ScriptState{Counter: counter, Health: 100, Position: [3]float64{1, 2, 3}})

	rt.ReloadModule(ctx, id, guest.Bytes("counter_v2"))
	out, _ = rt.CallJSON(ctx, id, "get_counter")
	fmt.Println("after reload:", string(out))

	// After the reload: restore state to WASM from the component.
	state, _ := ecs.Get[ScriptState](world, player)
	rt.CallJSON(ctx, id, "set_counter", state.Counter)
	out, _ = rt.CallJSON(ctx, id, "get_counter")
	fmt.Println("restored:", string(out))
	// Output:
	// after reload: 0
	// restored: 3
}
