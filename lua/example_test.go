package lua_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hotscript/hotscript/lua"
)

// A script returns its module table; CallJSON calls its functions every frame.
func Example() {
	ctx := context.Background()
	rt, _ := lua.NewRuntime(ctx, lua.Limits{MaxExecutionTime: time.Second})
	defer rt.Close(ctx)

	id, err := rt.LoadScript(ctx, "enemy.lua", []byte(`
local M = { health = 100, position = { x = 10, y = 20 } }
function M.on_update(dt)
  M.health = M.health - dt
  M.position.x = M.position.x + 1
  return M.position
end
return M`))
	if err != nil {
		fmt.Println(err)
		return
	}
	out, _ := rt.CallJSON(ctx, id, "on_update", 0.5)
	fmt.Println(string(out))
	health, _ := rt.Field(ctx, id, "health")
	fmt.Println(string(health))
	// Output:
	// {"x":11,"y":20}
	// 99.5
}

// A reload swaps the code and keeps the state; a broken edit leaves the old version
// running.
func ExampleRuntime_ReloadScript() {
	ctx := context.Background()
	rt, _ := lua.NewRuntime(ctx, lua.Limits{})
	defer rt.Close(ctx)

	id, _ := rt.LoadScript(ctx, "enemy.lua", []byte(`
local M = { x = 0 }
function M.on_update() M.x = M.x + 1 return M.x end
return M`))
	rt.CallJSON(ctx, id, "on_update")
	rt.CallJSON(ctx, id, "on_update")

	err := rt.ReloadScript(ctx, id, []byte(`
local M = { x = 0 } -- the carried x = 2 wins over this initial value
function M.on_update() M.x = M.x + 10 return M.x end
return M`))
	fmt.Println("reload:", err)
	out, _ := rt.CallJSON(ctx, id, "on_update")
	fmt.Println("x =", string(out))

	err = rt.ReloadScript(ctx, id, []byte(`
local M = { x = 0 }
function M.on_update()
  M.x = M.x +
end
return M`))
	fmt.Println("broken edit:", err, errors.Is(err, lua.ErrCompile))
	out, _ = rt.CallJSON(ctx, id, "on_update")
	fmt.Println("x =", string(out))
	// Output:
	// reload: <nil>
	// x = 12
	// broken edit: lua: reload enemy.lua: enemy.lua:5: syntax error near 'end' true
	// x = 22
}

// Objects keep their class across a reload, and the class is the new version's:
// an enemy made before the edit runs the edited method and one the edit added.
func ExampleRuntime_ReloadScript_classes() {
	ctx := context.Background()
	rt, _ := lua.NewRuntime(ctx, lua.Limits{})
	defer rt.Close(ctx)

	src := func(greeting, extra string) []byte {
		return []byte(`
local Enemy = {}
Enemy.__index = Enemy
function Enemy.new(name) return setmetatable({ name = name, hp = 10 }, Enemy) end
function Enemy:greet() return "` + greeting + `, " .. self.name end
local M = { enemies = {} }
function M.spawn(name) table.insert(M.enemies, Enemy.new(name)) end
function M.greet_all()
  local out = {}
  for i, e in ipairs(M.enemies) do out[i] = e:greet() end
  return out
end
` + extra + `
return M`)
	}
	id, _ := rt.LoadScript(ctx, "enemy.lua", src("hello", ""))
	rt.CallJSON(ctx, id, "spawn", "orc")
	out, _ := rt.CallJSON(ctx, id, "greet_all")
	fmt.Println(string(out))

	rt.ReloadScript(ctx, id, src("grr", `function Enemy:hurt(n) self.hp = self.hp - n return self.hp end
function M.hurt_first(n) return M.enemies[1]:hurt(n) end`))
	out, _ = rt.CallJSON(ctx, id, "greet_all")
	fmt.Println(string(out))
	out, _ = rt.CallJSON(ctx, id, "hurt_first", 3)
	fmt.Println("hp:", string(out))
	// Output:
	// ["hello, orc"]
	// ["grr, orc"]
	// hp: 7
}

// on_save and on_restore take control of what a reload keeps on top of the automatic
// copy of data fields.
func ExampleStaged_Commit() {
	ctx := context.Background()
	rt, _ := lua.NewRuntime(ctx, lua.Limits{})
	defer rt.Close(ctx)

	id, _ := rt.LoadScript(ctx, "shop.lua", []byte(`
local M = { gold = 30, cache = { prices = "stale" } }
function M.on_save() return { gold = M.gold } end
return M`))

	st, err := rt.Stage(ctx, id, []byte(`
local M = { gold = 0, cache = {} }
function M.on_save() return { gold = M.gold } end
function M.on_restore(saved)
  M.gold = saved.gold * 2 -- a currency change, say
end
return M`))
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, _ := st.Commit(ctx)
	fmt.Println("carried:", rep.Carried, "on_save:", rep.Saved, "on_restore:", rep.Restored)
	gold, _ := rt.Field(ctx, id, "gold")
	cache, _ := rt.Field(ctx, id, "cache")
	fmt.Println("gold:", string(gold), "cache:", string(cache))
	// Output:
	// carried: [cache gold] on_save: true on_restore: true
	// gold: 60 cache: {"prices":"stale"}
}

// CommitCheck lets the host try the new version, with its carried state, before
// it goes live: here a version whose invariant fails on the carried fields is
// refused and the old one keeps running.
func ExampleStaged_CommitCheck() {
	ctx := context.Background()
	rt, _ := lua.NewRuntime(ctx, lua.Limits{})
	defer rt.Close(ctx)

	id, _ := rt.LoadScript(ctx, "unit.lua", []byte(`
local M = { hp = 40 }
function M.damage(n) M.hp = M.hp - n return M.hp end
return M`))

	check := func(ctx context.Context, next *lua.Version) error {
		out, err := next.CallJSON(ctx, "healthy")
		if err != nil {
			return err
		}
		if string(out) != "true" {
			return fmt.Errorf("healthy() = %s", out)
		}
		return nil
	}
	st, _ := rt.Stage(ctx, id, []byte(`
local M = { hp = 100 }
function M.damage(n) M.hp = M.hp - 2 * n return M.hp end
function M.healthy() return M.hp >= 50 end -- the carried hp is 40
return M`))
	_, err := st.CommitCheck(ctx, check)
	fmt.Println(err)
	out, _ := rt.CallJSON(ctx, id, "damage", 1)
	fmt.Println("still the old damage:", string(out))
	// Output:
	// lua: reload unit.lua: check: healthy() = false
	// still the old damage: 39
}

// A check that expects a call to fail clears it: a failed call it leaves
// recorded rolls the reload back, as its error would.
func ExampleVersion_ClearErr() {
	ctx := context.Background()
	rt, _ := lua.NewRuntime(ctx, lua.Limits{})
	defer rt.Close(ctx)
	id, _ := rt.LoadScript(ctx, "door.lua", []byte(`return { open = false }`))

	st, _ := rt.Stage(ctx, id, []byte(`
local M = { open = false }
function M.unlock(key) if key ~= "brass" then error("wrong key") end M.open = true end
return M`))
	_, err := st.CommitCheck(ctx, func(ctx context.Context, next *lua.Version) error {
		if _, err := next.CallJSON(ctx, "unlock", "iron"); err == nil {
			return errors.New("unlock took the wrong key")
		}
		next.ClearErr() // the failure was the point, and changed nothing
		return nil
	})
	fmt.Println("committed:", err == nil)
	// Output:
	// committed: true
}

// Host functions appear in every script as a global table per module.
func ExampleRuntime_Define() {
	ctx := context.Background()
	rt, _ := lua.NewRuntimeWithConfig(ctx, lua.Config{Stdout: os.Stdout})
	defer rt.Close(ctx)

	rt.Define("host", "distance", func(ctx context.Context, c *lua.Call) ([]any, error) {
		if len(c.Args) != 2 {
			return nil, errors.New("want two points")
		}
		a, _ := c.Args[0].(map[string]any)
		b, _ := c.Args[1].(map[string]any)
		dx, dy := a["x"].(float64)-b["x"].(float64), a["y"].(float64)-b["y"].(float64)
		return []any{dx*dx + dy*dy}, nil
	})
	id, _ := rt.LoadScript(ctx, "ai.lua", []byte(`
local M = {}
function M.near(p, q) return host.distance(p, q) < 100 end
function M.misuse() return pcall(host.distance, 1) end
return M`))
	type point struct {
		X float64 `json:"x"`
		Y float64 `json:"y"`
	}
	out, _ := rt.CallJSON(ctx, id, "near", map[string]any{"x": 1, "y": 2}, point{50, 5})
	fmt.Println(string(out))
	out, _ = rt.CallJSON(ctx, id, "misuse")
	fmt.Println(string(out))
	// Output:
	// false
	// [false,"ai.lua:4: host.distance: want two points"]
}

// Limits stop runaway scripts without harming them or their neighbours.
// A host function may call other scripts, but not back into the one running
// it: with the context it was given, such a call fails at once with
// ErrReentrant, which the script sees as an ordinary error.
func ExampleHostFunc_reentrant() {
	ctx := context.Background()
	rt, _ := lua.NewRuntime(ctx, lua.Limits{})
	defer rt.Close(ctx)

	var ids = map[string]lua.ScriptID{}
	rt.Define("host", "ask", func(ctx context.Context, c *lua.Call) ([]any, error) {
		out, err := rt.CallJSON(ctx, ids[c.Args[0].(string)], "name")
		if errors.Is(err, lua.ErrReentrant) {
			return []any{"refused"}, nil
		}
		return []any{out}, err // a json.RawMessage reaches Lua decoded
	})
	src := `local M = {}
function M.name() return "%s" end
function M.ask(who) return host.ask(who) end
return M`
	ids["a"], _ = rt.LoadScript(ctx, "a.lua", []byte(fmt.Sprintf(src, "a")))
	ids["b"], _ = rt.LoadScript(ctx, "b.lua", []byte(fmt.Sprintf(src, "b")))

	out, _ := rt.CallJSON(ctx, ids["a"], "ask", "b") // a asks b: fine
	fmt.Println(string(out))
	out, _ = rt.CallJSON(ctx, ids["a"], "ask", "a") // a asks itself: refused, not a deadlock
	fmt.Println(string(out))
	// Output:
	// "b"
	// "refused"
}

func ExampleLimits() {
	ctx := context.Background()
	rt, _ := lua.NewRuntime(ctx, lua.Limits{MaxInstructions: 1_000_000, MaxMemoryBytes: 16 << 20})
	defer rt.Close(ctx)

	id, _ := rt.LoadScript(ctx, "bad.lua", []byte(`
local M = { calls = 0 }
function M.spin() M.calls = M.calls + 1 while true do end end
function M.bomb() M.calls = M.calls + 1 return #string.rep("x", 2^30) end
return M`))
	_, err := rt.CallJSON(ctx, id, "spin")
	fmt.Println(err, errors.Is(err, lua.ErrLimit))
	_, err = rt.CallJSON(ctx, id, "bomb")
	fmt.Println(err, errors.Is(err, lua.ErrMemoryLimit))
	calls, _ := rt.Field(ctx, id, "calls")
	fmt.Println("still usable, calls =", string(calls))
	// Output:
	// lua: call bad.lua spin: bad.lua:3: instruction limit exceeded true
	// lua: call bad.lua bomb: bad.lua:4: memory limit exceeded true
	// still usable, calls = 2
}

// A Func is a typed handle for hot loops: no JSON, no allocation, and it follows
// reloads.
func ExampleRuntime_Func() {
	ctx := context.Background()
	rt, _ := lua.NewRuntime(ctx, lua.Limits{MaxInstructions: 10_000})
	defer rt.Close(ctx)

	id, _ := rt.LoadScript(ctx, "math.lua", []byte(`return { damage = function(base, armor) return base - armor end }`))
	damage, _ := rt.Func(id, "damage")
	d, _ := damage.Call(ctx, 30, 12)
	fmt.Println(d)

	rt.ReloadScript(ctx, id, []byte(`return { damage = function(base, armor) return base * 100 / (100 + armor) end }`))
	d, _ = damage.Call(ctx, 30, 20)
	fmt.Println(d)
	// Output:
	// 18
	// 25
}

// Inspect lists what a script's module holds, without a Runtime.
func ExampleInspect() {
	info, err := lua.Inspect(context.Background(), "enemy.lua", []byte(`
local M = { health = 100, target = 42 }
function M.on_update(dt) end
function M.on_save() return {} end
return M`))
	fmt.Println(info.Fields, info.Functions, err)
	fmt.Println(string(info.Values["health"]))
	// Output:
	// [health target] [on_save on_update] <nil>
	// 100
}

// A Lease holds a script for a batch of calls, such as every entity's update in one
// frame: each call skips the script's mutex. Other goroutines' calls and reload
// commits wait for Release.
func ExampleRuntime_Acquire() {
	ctx := context.Background()
	rt, _ := lua.NewRuntime(ctx, lua.Limits{MaxInstructions: 1_000_000})
	defer rt.Close(ctx)
	id, _ := rt.LoadScript(ctx, "mover.lua", []byte(`
local M = { moved = 0 }
function M.update(x, speed) M.moved = M.moved + 1 return x + speed end
return M`))
	update, _ := rt.Func(id, "update")

	xs := []float64{0, 10, 20}
	l, err := rt.Acquire(ctx, id)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, x := range xs {
		xs[i], _ = l.Call(ctx, update, x, 1.5)
	}
	out, _ := l.CallJSON(ctx, "update", 100, 2) // JSON calls work on a lease too
	l.Release()
	moved, _ := rt.Field(ctx, id, "moved")
	fmt.Println(xs, string(out), string(moved))

	_, err = l.Call(ctx, update, 0, 0)
	fmt.Println(errors.Is(err, lua.ErrReleased))
	// Output:
	// [1.5 11.5 21.5] 102 4
	// true
}

// Call.Number and Call.Int read a host function's numeric arguments; their
// errors reach the script naming the function and the argument.
func ExampleCall_Number() {
	ctx := context.Background()
	rt, _ := lua.NewRuntime(ctx, lua.Limits{})
	defer rt.Close(ctx)
	rt.Define("game", "damage", func(ctx context.Context, c *lua.Call) ([]any, error) {
		entity, err := c.Int(0)
		if err != nil {
			return nil, err
		}
		amount, err := c.Number(1)
		if err != nil {
			return nil, err
		}
		return []any{fmt.Sprintf("entity %d takes %.1f", entity, amount)}, nil
	})
	id, _ := rt.LoadScript(ctx, "ai.lua", []byte(`
local M = {}
function M.hit(e, n) return game.damage(e, n) end
function M.safe_hit(e, n) local ok, err = pcall(game.damage, e, n) return err end
return M`))
	out, _ := rt.CallJSON(ctx, id, "hit", 3, 12.5)
	fmt.Println(string(out))
	out, _ = rt.CallJSON(ctx, id, "safe_hit", 3, "lots")
	fmt.Println(string(out))
	// Output:
	// "entity 3 takes 12.5"
	// "ai.lua:4: game.damage: argument #2: number expected, got string"
}
