package lua_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/hotscript/hotscript/ecs"
	"github.com/hotscript/hotscript/lua"
)

// Position is the component the scripts below move.
type Position struct{ X, Y float64 }

// defineWorld gives scripts host.spawn(), host.get_position(e) and
// host.set_position(e, x, y) over w. An entity travels through Lua as a number:
// ecs keeps every Entity below 2^53, so the float64 round trip is exact.
//
// Calls into one script are serialized, but a reload's new chunk runs beside
// them (Stage), and its top level may call host.spawn: the World has a lock.
func defineWorld(rt *lua.Runtime, w *ecs.World) {
	var mu sync.Mutex
	entity := func(c *lua.Call) (ecs.Entity, error) {
		n, err := c.Int(0)
		if err != nil {
			return 0, err
		}
		if !w.Alive(ecs.Entity(n)) {
			return 0, fmt.Errorf("no entity %v", c.Args[0])
		}
		return ecs.Entity(n), nil
	}
	rt.Define("host", "spawn", func(ctx context.Context, c *lua.Call) ([]any, error) {
		mu.Lock()
		defer mu.Unlock()
		e := w.Spawn()
		return []any{float64(e)}, ecs.Insert(w, e, Position{})
	})
	rt.Define("host", "get_position", func(ctx context.Context, c *lua.Call) ([]any, error) {
		mu.Lock()
		defer mu.Unlock()
		e, err := entity(c)
		if err != nil {
			return nil, err
		}
		p, _ := ecs.Get[Position](w, e)
		return []any{map[string]any{"x": p.X, "y": p.Y}}, nil
	})
	rt.Define("host", "set_position", func(ctx context.Context, c *lua.Call) ([]any, error) {
		mu.Lock()
		defer mu.Unlock()
		e, err := entity(c)
		if err != nil {
			return nil, err
		}
		if len(c.Args) == 3 {
			x, okx := c.Args[1].(float64)
			y, oky := c.Args[2].(float64)
			if okx && oky {
				return nil, ecs.Insert(w, e, Position{x, y})
			}
		}
		return nil, errors.New("want (entity, x, y)")
	})
}

// walker moves its entity speed units along x per update; the entity id and the
// step count are fields of the module table, so a reload carries them. The
// entity is spawned by the first update, not by the chunk, which runs again
// at every reload (rejected ones too) and would spawn one each time.
func walker(speed int) []byte {
	return fmt.Appendf(nil, `
local M = { steps = 0 }
function M.update()
  M.entity = M.entity or host.spawn()
  local p = host.get_position(M.entity)
  host.set_position(M.entity, p.x + %d, p.y)
  M.steps = M.steps + 1
  return M.steps
end
return M`, speed)
}

// A Lua script drives a component of an ecs.World entity through host functions;
// a reload changes the code, and the script keeps driving the same entity, whose
// component kept its value.
func Example_ecsWorld() {
	ctx := context.Background()
	world := ecs.NewWorld()
	rt, _ := lua.NewRuntime(ctx, lua.Limits{})
	defer rt.Close(ctx)
	defineWorld(rt, world)

	id, _ := rt.LoadScript(ctx, "walker.lua", walker(1))
	for range 3 {
		rt.CallJSON(ctx, id, "update")
	}
	// The carried field `entity` names the entity the script drives.
	if err := rt.ReloadScript(ctx, id, walker(10)); err != nil {
		fmt.Println(err)
	}
	rt.CallJSON(ctx, id, "update")

	for e, p := range ecs.Query[Position](world) {
		fmt.Println(e, *p)
	}
	// Output:
	// 0v1 {13 0}
}

func TestScriptDrivesECSComponentAcrossReloads(t *testing.T) {
	ctx := context.Background()
	world := ecs.NewWorld()
	rt, err := lua.NewRuntime(ctx, lua.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	defineWorld(rt, world)

	id, err := rt.LoadScript(ctx, "walker.lua", walker(2))
	if err != nil {
		t.Fatal(err)
	}
	field := func(name string) string {
		out, err := rt.Field(ctx, id, name)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	for range 5 {
		if _, err := rt.CallJSON(ctx, id, "update"); err != nil {
			t.Fatal(err)
		}
	}
	entity := field("entity")
	var e ecs.Entity
	fmt.Sscan(entity, &e)
	if p, _ := ecs.Get[Position](world, e); p != (Position{10, 0}) {
		t.Fatalf("after 5 updates at speed 2: %+v, want {10 0}", p)
	}

	steps := []struct {
		name   string
		src    []byte
		fails  bool
		update Position // position after one more update
	}{
		{"faster version", walker(5), false, Position{15, 0}},
		{"syntax error", []byte("local M = {"), true, Position{20, 0}},
		{"runtime error", []byte(`error("boom")`), true, Position{25, 0}},
		{"slower version", walker(1), false, Position{26, 0}},
	}
	for _, st := range steps {
		err := rt.ReloadScript(ctx, id, st.src)
		if (err != nil) != st.fails {
			t.Fatalf("%s: reload error %v, want failure %v", st.name, err, st.fails)
		}
		if got := field("entity"); got != entity {
			t.Fatalf("%s: script drives entity %s, want %s", st.name, got, entity)
		}
		if _, err := rt.CallJSON(ctx, id, "update"); err != nil {
			t.Fatalf("%s: update: %v", st.name, err)
		}
		if p, _ := ecs.Get[Position](world, e); p != st.update {
			t.Fatalf("%s: position %+v, want %+v", st.name, p, st.update)
		}
	}
	if got := field("steps"); got != "9" {
		t.Errorf("steps = %s, want 9: the counter kept across every reload", got)
	}
	if n := world.Len(); n != 1 {
		t.Errorf("%d entities after the reloads, want the script's one", n)
	}
}
