package lua_test

import (
	"context"
	"testing"

	"github.com/hotscript/hotscript/internal/benchpair"
	"github.com/hotscript/hotscript/lua"
	glua "github.com/yuin/gopher-lua"
)

// convertSrc returns small prebuilt tables, so that a call costs little more
// than the conversion of its result or its host function's argument.
const convertSrc = `
local M = {}
local entity = { x = 1.5, y = 2, name = "orc", tags = { "a", "b" } }
local array = {} for i = 1, 32 do array[i] = i * 0.5 end
M.entity = entity
function M.get_entity() return entity end
function M.get_array() return array end
function M.give_entity() host.take(entity) return 0 end
local churned = {} for i = 1, 32 do churned[i] = i * 0.5 end
for i = 1, 10000 do churned["k" .. i] = true end for i = 1, 10000 do churned["k" .. i] = nil end
churned.n = 32
function M.get_churned() return churned end
return M`

// BenchmarkConvert measures conversions of small tables: a CallJSON result
// (an object, an array of 32 numbers) and a host function's table argument,
// each paired with raw gopher-lua calling the same function without any
// conversion, without and with limits; and Field of the object alone.
// get_churned returns the 32 numbers and a key n of a table whose hash part
// once held 10,000 more keys, all removed since: telling it is no list costs
// what it costs for a table that never had them (it cost a walk of them all).
func BenchmarkConvert(b *testing.B) {
	ctx := context.Background()
	raw := func(b *testing.B, fn string) func() {
		L := glua.NewState()
		b.Cleanup(L.Close)
		host := L.NewTable()
		host.RawSetString("take", L.NewFunction(func(*glua.LState) int { return 0 }))
		L.SetGlobal("host", host)
		if err := L.DoString(convertSrc); err != nil {
			b.Fatal(err)
		}
		f := L.Get(-1).(*glua.LTable).RawGetString(fn)
		L.Pop(1)
		return func() {
			if err := L.CallByParam(glua.P{Fn: f, NRet: 1, Protect: true}); err != nil {
				b.Fatal(err)
			}
			L.Pop(1)
		}
	}
	for _, lim := range []struct {
		name   string
		limits lua.Limits
	}{{"", lua.Limits{}}, {"-limits", limited}} {
		rt, err := lua.NewRuntime(ctx, lim.limits)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { rt.Close(ctx) })
		if err := rt.Define("host", "take", func(context.Context, *lua.Call) ([]any, error) { return nil, nil }); err != nil {
			b.Fatal(err)
		}
		id, err := rt.LoadScript(ctx, "convert.lua", []byte(convertSrc))
		if err != nil {
			b.Fatal(err)
		}
		callJSON := func(fn string) func() {
			return func() {
				if _, err := rt.CallJSON(ctx, id, fn); err != nil {
					b.Fatal(err)
				}
			}
		}
		for _, fn := range []string{"get_entity", "get_array", "give_entity", "get_churned"} {
			b.Run("paired-"+fn+lim.name, func(b *testing.B) {
				benchpair.Run(b, 64, raw(b, fn), callJSON(fn))
			})
		}
		b.Run("Field"+lim.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rt.Field(ctx, id, "entity"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
