package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/hotscript/hotscript"
	"github.com/hotscript/hotscript/lua"
	"github.com/hotscript/hotscript/wasm"
)

// luaLibraries are the libraries Lua scripts get beyond the sandbox's, under
// run and call, and when inspect runs a chunk.
const luaLibraries = lua.LibCoroutine

// engines are the two runtimes the CLI hands to its host instead of letting the host
// create them, so that scripts can talk back: both get host.log, and Lua's print goes
// to the same place (WASM: host.log(ptr, len i32) with a UTF-8 message in memory;
// Lua: host.log(...) and print(...)).
type engines struct {
	wasm *wasm.Runtime
	lua  *lua.Runtime
}

// newEngines creates the runtimes; logf receives every message with its script's name.
// It must be safe for concurrent use: Lua prints while a reload runs a new chunk on a
// background goroutine.
func newEngines(ctx context.Context, logf func(script, msg string)) (*engines, error) {
	w, err := wasm.NewRuntime(ctx, wasm.Limits{})
	if err != nil {
		return nil, err
	}
	if err := w.Define("host", "log", wasm.LogFunc(logf)); err != nil {
		return nil, errors.Join(err, w.Close(ctx))
	}
	// Past a failing on_save, as WASM scripts migrate with MigrateExportsOrReset:
	// the save that fixes it goes live. With coroutines, which games use for
	// cutscenes and AI (helper-211: they were missing, though the help spoke of
	// their stacks).
	l, err := lua.NewRuntimeWithConfig(ctx, lua.Config{Logger: slog.New(&printHandler{logf: logf}), ReloadPastFailingOnSave: true,
		Libraries: luaLibraries})
	if err != nil {
		return nil, errors.Join(err, w.Close(ctx))
	}
	err = l.Define("host", "log", func(_ context.Context, c *lua.Call) ([]any, error) {
		logf(c.Script, joinAny(c.Args))
		return nil, nil
	})
	if err != nil {
		return nil, errors.Join(err, w.Close(ctx), l.Close(ctx))
	}
	return &engines{wasm: w, lua: l}, nil
}

// newHost creates engines and a host on them; close closes both.
func newHost(ctx context.Context, cfg hotscript.Config, logf func(script, msg string)) (h *hotscript.Host, close func(), err error) {
	en, err := newEngines(ctx, logf)
	if err != nil {
		return nil, nil, err
	}
	cfg.WASM, cfg.Lua = en.wasm, en.lua
	if h, err = hotscript.New(ctx, cfg); err != nil {
		return nil, nil, errors.Join(err, en.close(ctx))
	}
	return h, func() {
		ctx := context.WithoutCancel(ctx)
		_ = h.Close(ctx)
		_ = en.close(ctx)
	}, nil
}

func (en *engines) close(ctx context.Context) error {
	return errors.Join(en.wasm.Close(ctx), en.lua.Close(ctx))
}

// printHandler is the slog.Handler the lua runtime logs print calls on: the record's
// message is the printed line, its "script" attribute the script's name.
type printHandler struct{ logf func(script, msg string) }

func (p *printHandler) Enabled(context.Context, slog.Level) bool { return true }

func (p *printHandler) Handle(_ context.Context, r slog.Record) error {
	script := "?"
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "script" {
			script = a.Value.String()
			return false
		}
		return true
	})
	p.logf(script, r.Message)
	return nil
}

func (p *printHandler) WithAttrs([]slog.Attr) slog.Handler { return p }
func (p *printHandler) WithGroup(string) slog.Handler      { return p }

// joinAny formats a host.log call's arguments as print does: separated by tabs,
// strings as they are and other values as JSON, or, holding what JSON has no
// form for (a NaN, an infinity), as Go prints them (map[hp:NaN x:1]).
func joinAny(args []any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		if s, ok := a.(string); ok {
			parts[i] = s
			continue
		}
		b, err := json.Marshal(a)
		if err != nil {
			parts[i] = fmt.Sprint(a)
			continue
		}
		parts[i] = string(b)
	}
	return strings.Join(parts, "\t")
}
