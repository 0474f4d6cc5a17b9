package lua_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"testing"

	"github.com/hotscript/hotscript/lua"
)

// FuzzJSONRoundTrip passes JSON documents through a Lua function that returns
// its argument and checks what comes back against the conversion rules (see
// luaView): nothing panics, a document is refused only with ErrJSON, and what
// is accepted comes back as valid JSON with the same meaning, which converts
// back to exactly itself.
func FuzzJSONRoundTrip(f *testing.F) {
	for _, doc := range []string{
		`null`, `true`, `0`, `-0`, `1e300`, `-1.5e-300`, `9007199254740993`, `"\u00e9\ud83d\ude00"`,
		`[]`, `{}`, `[1,null,3]`, `[1,2,null]`, `[null]`, `{"a":null,"b":[{}]}`,
		`{"1":"x","2":"y"}`, `{"":0,"\u0000":1}`, `[[[[[[[[1]]]]]]]]`, `[1,"two",{"three":[3]}]`,
		`"<\u2028>"`, `{"a":1,"a":2}`, `[1,]`, `{"x":1e400}`,
	} {
		f.Add([]byte(doc))
	}
	rt := newRuntime(f, lua.Config{Limits: lua.Limits{MaxExecutionTime: 5e9, MaxMemoryBytes: 64 << 20}})
	id := load(f, rt, "echo.lua", echoScript)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, doc []byte) {
		out, err := rt.CallJSON(ctx, id, "echo", json.RawMessage(doc))
		if err != nil {
			if !errors.Is(err, lua.ErrJSON) {
				t.Fatalf("echo %q: %v, want nil or ErrJSON", doc, err)
			}
			return
		}
		var in, got any
		if err := json.Unmarshal(doc, &in); err != nil {
			t.Fatalf("echo %q accepted a document encoding/json refuses (%v): %s", doc, err, out)
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("echo %q returned invalid JSON %q: %v", doc, out, err)
		}
		if want := luaView(in); !reflect.DeepEqual(got, want) {
			t.Fatalf("echo %q = %s, want %#v", doc, out, want)
		}
		again, err := rt.CallJSON(ctx, id, "echo", out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("echo of its own result %s = %s, %v; want it unchanged", out, again, err)
		}
	})
}

// luaView is what a decoded JSON value becomes after a trip through Lua
// tables: a null in an object is no key at all, an array is a table of its
// non-null elements by position, and a table is an array only if its keys are
// exactly 1..n; otherwise (the empty table included) it is an object, its
// integer keys written as decimal strings.
func luaView(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, e := range v {
			if e != nil {
				m[k] = luaView(e)
			}
		}
		return m
	case []any:
		m := map[string]any{}
		var arr []any
		dense := true
		for i, e := range v {
			if e == nil {
				dense = false
				continue
			}
			m[strconv.Itoa(i+1)] = luaView(e)
			if dense {
				arr = append(arr, m[strconv.Itoa(i+1)])
			}
		}
		if len(arr) > 0 && len(arr) == len(m) {
			return arr
		}
		return m
	}
	return v
}

// FuzzLoadScript loads arbitrary source and, when it loads, reloads the same
// script with it again: whatever the source, the load fails with one of the
// errors a broken script can cause (never a panic, a hang or a crash), and the
// script loaded first keeps answering.
func FuzzLoadScript(f *testing.F) {
	for _, src := range []string{
		"return {}", "return", "return 1", "local M = {x = 1}\nfunction M.f(a) return a .. 'x' end\nreturn M",
		"while true do end", "return {", "x = ", "return {f = function() return string.rep('x', 1e9) end}",
		"local t = setmetatable({}, {__index = function(t, k) return t[k] end}) return t",
		"return (function(...) return select('#', ...) end)(unpack({1, 2, 3}))",
		"goto x", "::a:: ::a::", "local a <const> = 1", "return 0x1p4", "return '\\z  x'",
		"local s = '' for i = 1, 100 do s = s .. i end return {s = s}",
	} {
		f.Add([]byte(src))
	}
	rt := newRuntime(f, lua.Config{Limits: lua.Limits{MaxInstructions: 100_000, MaxExecutionTime: 5e9, MaxMemoryBytes: 16 << 20}})
	ctx := context.Background()
	anchor := load(f, rt, "anchor.lua", "return {n = 1}")
	f.Fuzz(func(t *testing.T, src []byte) {
		id, err := rt.LoadScript(ctx, "fuzz.lua", src)
		if err != nil {
			if !errors.Is(err, lua.ErrCompile) && !errors.Is(err, lua.ErrRuntime) &&
				!errors.Is(err, lua.ErrLimit) && !errors.Is(err, lua.ErrNotTable) {
				t.Fatalf("load %q: %v, want a compile, runtime, limit or not-a-table error", src, err)
			}
		} else {
			if err := rt.ReloadScript(ctx, id, src); err != nil && !errors.Is(err, lua.ErrLimit) &&
				!errors.Is(err, lua.ErrRuntime) && !errors.Is(err, lua.ErrNotTable) {
				t.Fatalf("reload with the same source %q: %v", src, err)
			}
			if err := rt.Unload(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := rt.Field(ctx, anchor, "n"); err != nil || string(got) != "1" {
			t.Fatalf("another script after loading %q: %s, %v", src, got, err)
		}
	})
}
