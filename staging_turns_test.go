package hotscript

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestStagingsAtOnce: no more than Config.Stagings versions stage at once
// across scripts, and that many do: six reloads whose chunks each spend 30 ms
// in a host function, with Stagings 2.
func TestStagingsAtOnce(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	cur, most := 0, 0
	busy := HostFunc{Module: "game", Name: "busy", Func: func(ctx context.Context, c HostCall) error {
		if !Staging(ctx) {
			return nil
		}
		mu.Lock()
		cur++
		most = max(most, cur)
		mu.Unlock()
		time.Sleep(30 * time.Millisecond)
		mu.Lock()
		cur--
		mu.Unlock()
		return nil
	}}
	h := newTestHost(t, Config{Funcs: []HostFunc{busy}, Stagings: 2})
	// A staging past its turn's end lets a third start (see
	// TestStagingThatHangsLetsOthersStage): on a loaded machine a 30 ms sleep
	// can last 100 ms (helper-168).
	h.turnMax = time.Minute
	var pending []*Pending
	for i := range 6 {
		s := mustLoad(t, h, fmt.Sprintf("s%d.lua", i), "return {}", nil)
		pending = append(pending, h.ReloadAsync(ctx, s, []byte("game.busy()\nreturn {}")))
	}
	for _, p := range pending {
		if err := waitPending(p); err != nil {
			t.Fatal(err)
		}
	}
	if most != 2 {
		t.Errorf("at most %d stagings ran at once, want 2 (Config.Stagings)", most)
	}
	if _, err := New(ctx, Config{Stagings: -1}); !errors.Is(err, ErrInvalid) {
		t.Errorf("New with Stagings -1: %v, want ErrInvalid", err)
	}
}

// TestStagingThatHangsLetsOthersStage: a staging that does not end (a chunk
// that loops, without limits) holds its turn for stageTurnMax only: another
// script's reload goes through meanwhile, with Stagings 1.
func TestStagingThatHangsLetsOthersStage(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Config{Stagings: 1})
	a := mustLoad(t, h, "a.lua", "return {}", nil)
	b := mustLoad(t, h, "b.lua", "return {v = function() return 1 end}", nil)
	hang, cancel := context.WithCancel(ctx)
	defer cancel()
	p := h.ReloadAsync(hang, a, []byte("while true do end\nreturn {}"))
	waitFor(t, "a staging", func() bool { a.mu.Lock(); defer a.mu.Unlock(); return a.building != nil })
	start := time.Now()
	if err := h.Reload(ctx, b, []byte("return {v = function() return 2 end}")); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("b's reload took %v beside a staging that hangs", d)
	}
	if got := call(t, h, b, "v"); got != "2" {
		t.Errorf("b.v() = %s, want 2", got)
	}
	cancel()
	if err := waitPending(p); err == nil {
		t.Error("a's hanging reload committed")
	}
}
