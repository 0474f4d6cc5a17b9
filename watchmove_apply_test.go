package hotscript

// Watch's unload of a renamed file's old script under SwapAtApply, done by
// Apply (helper-225's review of 6f71301: each of these failed).

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// watchedAtApply returns a real SwapAtApply Host watching a temp dir.
func watchedAtApply(t *testing.T, cfg Config) (*Host, string) {
	t.Helper()
	cfg.Swap = SwapAtApply
	h := newTestHost(t, cfg)
	dir := t.TempDir()
	wctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := h.Watch(wctx, dir); err != nil {
		t.Fatal(err)
	}
	return h, dir
}

// bNeedsUpdate gives b.lua, under Watch, a contract that requires update:
// a.lua renamed over it is rejected.
var bNeedsUpdate = Config{WatchOptions: func(name string) *ScriptOptions {
	if filepath.Base(name) == "b.lua" {
		return &ScriptOptions{Contract: &Contract{Exports: []string{"update"}}}
	}
	return nil
}}

// saved writes path and waits for Watch's Loaded event of it.
func saved(t *testing.T, h *Host, path, code string) *Script {
	t.Helper()
	writeFile(t, path, code)
	nextEvent(t, h, is(Loaded, path))
	return mustScript(t, h, path)
}

// onlyB fails unless b is loaded and a is not.
func onlyB(t *testing.T, h *Host, a, b, when string) {
	t.Helper()
	_, okA := h.Script(a)
	_, okB := h.Script(b)
	if okA || !okB {
		t.Errorf("%s: a.lua loaded %v, b.lua loaded %v; want b.lua only", when, okA, okB)
	}
}

// Apply's context bounds the wait of the rename's unload for a call in
// progress on the old script (a worker's long job): the frame goes on, and
// the unload ends when the call does.
func TestWatchMoveApplyBoundedByContext(t *testing.T) {
	ctx := context.Background()
	h, dir := watchedAtApply(t, Config{Limits: Limits{MaxExecutionTime: time.Hour}})
	a, b := filepath.Join(dir, "a.lua"), filepath.Join(dir, "b.lua")
	sa := saved(t, h, a, "local M = {} function M.spin() while true do end end return M")
	if err := os.Rename(a, b); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, is(Loaded, b))
	job, stop := context.WithTimeout(ctx, 2*time.Second)
	defer stop()
	go h.Call(job, sa, "spin") // a worker goroutine's 2 s job on a.lua
	time.Sleep(100 * time.Millisecond)
	frame, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	h.Apply(frame)
	if took := time.Since(start); took > time.Second {
		t.Errorf("Apply with a 100 ms context took %v", took)
	}
	waitFor(t, "a.lua unloaded once its call ended", func() bool { _, ok := h.Script(a); return !ok })
}

// A host function of the moved script calls Apply with its context: the
// unload, which would wait for that call, waits for a later Apply (it was
// dropped, the script running under both names for good).
func TestWatchMoveApplyFromMovedScript(t *testing.T) {
	ctx := context.Background()
	var h *Host
	apply := HostFunc{Module: "game", Name: "apply", Func: func(ctx context.Context, c HostCall) error {
		h.Apply(ctx)
		return nil
	}}
	h, dir := watchedAtApply(t, Config{Funcs: []HostFunc{apply}})
	a, b := filepath.Join(dir, "a.lua"), filepath.Join(dir, "b.lua")
	sa := saved(t, h, a, "local M = {} function M.frame() game.apply() end return M")
	if err := os.Rename(a, b); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, is(Loaded, b))
	time.Sleep(50 * time.Millisecond) // the unload parked
	if _, err := h.Call(ctx, sa, "frame"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		h.Apply(ctx) // the program's own frames
	}
	onlyB(t, h, a, b, "after a.lua's frame called Apply, and 3 more Applies")
}

// a.lua renamed over b.lua, whose reload is rejected (contract); b.lua fixed
// before the next Apply: the Apply that commits the fix unloads a.lua (it
// was kept for a later save).
func TestWatchMoveRejectedThenFixedBeforeApply(t *testing.T) {
	ctx := context.Background()
	h, dir := watchedAtApply(t, bNeedsUpdate)
	a, b := filepath.Join(dir, "a.lua"), filepath.Join(dir, "b.lua")
	sb := saved(t, h, b, "local M = {} function M.update() return 0 end return M")
	saved(t, h, a, "local M = {} function M.f() return 1 end return M")
	if err := os.Rename(a, b); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, is(Rejected, b))
	writeFile(t, b, "local M = {} function M.update() return 2 end function M.f() return 1 end return M")
	waitFor(t, "b.lua's fix staged", readyStaged(sb))
	for range 5 {
		h.Apply(ctx)
		time.Sleep(20 * time.Millisecond)
	}
	if got := callInt(t, h, sb, "update"); got != 2 {
		t.Fatalf("b.lua's update = %d, want the fix's 2", got)
	}
	onlyB(t, h, a, b, "after the fix committed and 5 frames")
}

// a.lua renamed to b.lua and back before an Apply: a.lua stays, b.lua goes
// (both ran on).
func TestWatchMoveRenamedBackBeforeApply(t *testing.T) {
	ctx := context.Background()
	h, dir := watchedAtApply(t, Config{})
	a, b := filepath.Join(dir, "a.lua"), filepath.Join(dir, "b.lua")
	saved(t, h, a, "local M = {} function M.f() return 1 end return M")
	if err := os.Rename(a, b); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, is(Loaded, b))
	time.Sleep(100 * time.Millisecond)
	if err := os.Rename(b, a); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, is(Restored, a))
	for range 3 {
		h.Apply(ctx)
		time.Sleep(20 * time.Millisecond)
	}
	_, okA := h.Script(a)
	_, okB := h.Script(b)
	if !okA || okB {
		t.Errorf("after a->b->a and 3 Applies: a.lua loaded %v, b.lua loaded %v; want a.lua only", okA, okB)
	}
}

// a.lua renamed over b.lua, whose reload is rejected; the program then
// reverts b.lua: a.lua stays, its code running nowhere else (b.lua runs its
// reverted code), for the next save of b.lua (helper-229: the Apply that
// committed the revert unloaded it).
func TestWatchMoveRejectedThenReverted(t *testing.T) {
	ctx := context.Background()
	h, dir := watchedAtApply(t, bNeedsUpdate)
	a, b := filepath.Join(dir, "a.lua"), filepath.Join(dir, "b.lua")
	sb := saved(t, h, b, "local M = {} function M.update() return 1 end return M")
	writeFile(t, b, "local M = {} function M.update() return 2 end return M")
	waitFor(t, "b v2 staged", readyStaged(sb))
	h.Apply(ctx)
	nextEvent(t, h, is(Committed, b))
	saved(t, h, a, "local M = {} function M.f() return 1 end return M")
	if err := os.Rename(a, b); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, is(Rejected, b))
	rev := make(chan error, 1)
	go func() { rev <- h.Revert(ctx, sb) }()
	waitFor(t, "revert staged", readyStaged(sb))
	for range 5 {
		h.Apply(ctx)
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("revert: %v, b.update = %d", <-rev, callInt(t, h, sb, "update"))
	if _, ok := h.Script(a); !ok {
		t.Errorf("a.lua unloaded after b.lua's Revert: its code (now only in b.lua's file, which b.lua does not run) runs nowhere")
	}
}
