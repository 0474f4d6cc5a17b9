package lua

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// A script without MaxExecutionTime still has its chunk and its reload hooks
// stopped after setupTime, so that an edit that never returns cannot spin a
// reload forever or hold the script's callers; its calls stay unlimited.
func TestSetupTimeWithoutLimits(t *testing.T) {
	old := setupTime
	setupTime = 20 * time.Millisecond
	t.Cleanup(func() { setupTime = old })
	ctx := context.Background()
	rt, err := NewRuntimeWithConfig(ctx, Config{Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(ctx) })

	_, err = rt.LoadScript(ctx, "spin.lua", []byte("while true do end"))
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "spin.lua") ||
		!strings.Contains(err.Error(), "allowed to a script without MaxExecutionTime") {
		t.Fatalf("a chunk that never returns: %v, want ErrTimeout naming the script and why", err)
	}

	const src = `local M = { n = 1 }
function M.slow(k) local s = 0 for i = 1, k do s = s + i end M.n = M.n + 1 return M.n end
function M.on_save() return {} end
function M.on_restore() end
return M`
	id, err := rt.LoadScript(ctx, "slow.lua", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := rt.CallJSON(ctx, id, "slow", 1e6); err != nil {
		t.Fatalf("a call longer than the setup limit (%v): %v, want no limit on calls", time.Since(start), err)
	} else if time.Since(start) < setupTime {
		t.Logf("the call took %v, under the setup limit: it shows nothing on this machine", time.Since(start))
	}

	spinning := strings.Replace(src, "function M.on_restore() end", "function M.on_restore() while true do end end", 1)
	err = rt.ReloadScript(ctx, id, []byte(spinning))
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "on_restore") {
		t.Fatalf("an on_restore that never returns: %v, want ErrTimeout naming on_restore", err)
	}
	if out, err := rt.Field(ctx, id, "n"); err != nil || string(out) != "2" {
		t.Fatalf("n = %s, %v after the failed reload, want 2 (the state before it)", out, err)
	}
	if _, err := rt.CallJSON(ctx, id, "slow", 1e6); err != nil {
		t.Fatalf("a long call after the failed reload: %v, want no limit", err)
	}
}
