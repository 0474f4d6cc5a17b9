package ecs_test

import (
	"encoding/json"
	"fmt"

	"github.com/hotscript/hotscript/ecs"
)

// ScriptState is the spec's component: the state a script
// keeps across reloads of its WebAssembly module.
type ScriptState struct {
	Counter  int
	Health   float64
	Position [3]float64
}

// fakeModule stands in for a WebAssembly module instance (the wasm package
// provides the real one). Like a real instance it keeps its state in its own
// globals and memory, which a reload resets, and it exports get_state and
// set_state that exchange that state as JSON.
type fakeModule struct {
	version int
	state   ScriptState // the module's globals
}

func loadModule(version int) *fakeModule { return &fakeModule{version: version} }

func (m *fakeModule) increment() {
	m.state.Counter++
	m.state.Position[0] += float64(m.version) // v2 moves twice as fast
}

func (m *fakeModule) getState() ([]byte, error) { return json.Marshal(m.state) }

func (m *fakeModule) setState(b []byte) error { return json.Unmarshal(b, &m.state) }

// The spec's pattern: before a reload, read the script's state
// out of the module and insert it as a component on the script's entity;
// after the reload, read the component back and hand it to the new module.
func Example_scriptStateAcrossReload() {
	w := ecs.NewWorld()
	script := w.Spawn() // one entity per running script

	mod := loadModule(1)
	mod.state.Health = 87.5
	for range 3 {
		mod.increment()
	}

	// Before the reload: module -> component.
	raw, err := mod.getState()
	if err != nil {
		fmt.Println(err)
		return
	}
	var saved ScriptState
	if err := json.Unmarshal(raw, &saved); err != nil {
		fmt.Println(err)
		return
	}
	if err := ecs.Insert(w, script, saved); err != nil {
		fmt.Println(err)
		return
	}

	// The reload: a new instance starts from its initial globals.
	mod = loadModule(2)
	fmt.Printf("v2 before restore: %+v\n", mod.state)

	// After the reload: component -> module.
	if st, ok := ecs.Get[ScriptState](w, script); ok {
		raw, _ := json.Marshal(st)
		if err := mod.setState(raw); err != nil {
			fmt.Println(err)
			return
		}
	}
	mod.increment()
	fmt.Printf("v2 after restore:  %+v\n", mod.state)

	// The component is ordinary ECS data: other systems can read it too.
	for e, st := range ecs.Query[ScriptState](w) {
		fmt.Printf("%v saved counter %d\n", e, st.Counter)
	}
	// Output:
	// v2 before restore: {Counter:0 Health:0 Position:[0 0 0]}
	// v2 after restore:  {Counter:4 Health:87.5 Position:[5 0 0]}
	// 0v1 saved counter 3
}
