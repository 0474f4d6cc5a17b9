package hotscript

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hotscript/hotscript/lua"
)

// TestWatchUnloadOnLoadedKeepsOptions: a program loads a plugin with limits
// under Watch and unloads it on its Loaded event; the file's next save brings
// it back with its limits, as Unload's doc says (helper-231: the load, ending
// after its event, dropped what the unload kept, in about 1 round in 30
// under -race).
func TestWatchUnloadOnLoadedKeepsOptions(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := newTestHost(t, Config{EventBuffer: 1 << 16})
	dir := t.TempDir()
	p := filepath.Join(dir, "plug.lua")
	src := "local M = {}\nfunction M.spin() for i = 1, 1e6 do end return 1 end\nreturn M"
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	strict := &ScriptOptions{Limits: &Limits{MaxInstructions: 10_000}}
	for i := range 200 {
		done := make(chan error, 1)
		go func() { _, err := h.Load(ctx, p, strict); done <- err }()
		nextEvent(t, h, is(Loaded, p))
		s, _ := h.Script(p)
		if err := h.Unload(ctx, s); err != nil { // on its Loaded event
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		src += " "
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		nextEvent(t, h, is(Loaded, p))
		back, ok := h.Script(p)
		if !ok {
			t.Fatal("not back")
		}
		out, err := h.Call(ctx, back, "spin")
		if !errors.Is(err, lua.ErrInstructionLimit) {
			t.Fatalf("round %d: the script back from Unload has no limits: spin = %s, %v", i, out, err)
		}
		if err := h.Unload(ctx, back); err != nil {
			t.Fatal(err)
		}
	}
}
