package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/hotscript/hotscript"
	"github.com/hotscript/hotscript/ecs"
)

// TestSceneStopsAtOnce: once the context is cancelled (Ctrl-C), no script is
// called again: not the scripts after the one running in that frame, nor in a
// frame whose tick was due when the stop came. A call with a cancelled context
// fails, so each would count as an error of a script that cannot fail.
func TestSceneStopsAtOnce(t *testing.T) {
	const period = time.Millisecond
	// Each run picks at random between a due tick and the stop; twenty runs of a
	// scene that stepped on would almost surely step on in one.
	for range 20 {
		ctx, cancel := context.WithCancel(context.Background())
		h, closeHost, err := newHost(ctx, hotscript.Config{}, func(string, string) {
			cancel()
			time.Sleep(3 * period) // the next tick is due before the frame ends
		})
		if err != nil {
			t.Fatal(err)
		}
		world := ecs.NewWorld()
		sc := newScene(h, world, newPrinter(io.Discard, style{}, ""), 1000, ctx.Done())
		var scripts []*hotscript.Script
		for _, name := range []string{"a.lua", "b.lua"} {
			s, err := h.LoadBytes(ctx, name, []byte("local M = {}\nfunction M.update(dt) print(\"stop\") end\nreturn M\n"), nil)
			if err != nil {
				t.Fatal(err)
			}
			sc.attach(s)
			scripts = append(scripts, s)
		}
		why := sc.run(ctx, period, 0, time.Time{}, nil)
		if why != "interrupted" || sc.frames != 1 {
			t.Errorf("stopped (%s) after %d frames, want interrupted after the first", why, sc.frames)
		}
		var calls uint64
		for _, s := range scripts {
			st := h.Stats(s)
			calls += st.Calls
			if st.Errors != 0 {
				t.Errorf("%s: %d errors after the stop, want 0", s.Name(), st.Errors)
			}
		}
		if calls != 1 {
			t.Errorf("%d calls, want 1: the first script's, which stopped the scene", calls)
		}
		closeHost()
		cancel()
	}
}
