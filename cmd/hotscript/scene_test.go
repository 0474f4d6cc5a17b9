package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
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

// TestSceneStopsAtItsDeadline: frames slower than the period do not make the
// loop catch up past its deadline (--for): it ran a hundred slow frames at a
// tick before it looked at the clock again.
func TestSceneStopsAtItsDeadline(t *testing.T) {
	ctx := context.Background()
	h, closeHost, err := newHost(ctx, hotscript.Config{}, func(string, string) {
		time.Sleep(50 * time.Millisecond) // a frame of 50 periods
	})
	if err != nil {
		t.Fatal(err)
	}
	defer closeHost()
	sc := newScene(h, ecs.NewWorld(), newPrinter(io.Discard, style{}, ""), 1000, nil)
	s, err := h.LoadBytes(ctx, "slow.lua", []byte("local M = {}\nfunction M.update(dt) print(\"slow\") end\nreturn M\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	sc.attach(s)
	start := time.Now()
	why := sc.run(ctx, time.Millisecond, 0, start.Add(300*time.Millisecond), nil)
	if took := time.Since(start); why != "time is up" || took > 600*time.Millisecond {
		t.Errorf("stopped (%s) after %v, %d frames; want time is up within a frame of 300ms", why, took, sc.frames)
	}
}

// TestSummaryWaitsForReloadEvents: the summary counts a reload as the scene
// handles its event, however late that comes: the host counts a reload's outcome
// in Stats before it emits the event, so a reload that Ctrl-C cut short, read
// from Stats alone before its event, was counted as rejected (once in 45 runs),
// and a rejected save went unprinted. Here the events are still waiting when the
// summary is written.
func TestSummaryWaitsForReloadEvents(t *testing.T) {
	tests := []struct {
		name     string
		cut      bool   // the reload's context is cancelled, as Ctrl-C does
		code     string // the new version
		totals   string // in the summary's first line
		rejected bool   // a rejected line is printed
	}{
		{"cut short", true, "return {}\n", "; 0 reloads, 0 rejected\n", false},
		{"broken save", false, "return {\n", "; 0 reloads, 1 rejected\n", true},
		{"good save", false, "return { x = 1 }\n", "; 1 reload, 0 rejected\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			h, closeHost, err := newHost(context.Background(), hotscript.Config{}, func(string, string) {})
			if err != nil {
				t.Fatal(err)
			}
			defer closeHost()
			var b bytes.Buffer
			out := newPrinter(&b, style{}, "")
			sc := newScene(h, ecs.NewWorld(), out, 60, ctx.Done())
			s, err := h.LoadBytes(ctx, "a.lua", []byte("return {}\n"), nil)
			if err != nil {
				t.Fatal(err)
			}
			sc.attach(s)
			sc.deliver(nil) // its Loaded event
			reloadCtx := context.Background()
			if tt.cut {
				stop()
				reloadCtx = ctx
			}
			_ = h.Reload(reloadCtx, s, []byte(tt.code))
			stop() // Ctrl-C, now in every case: the loop ended
			e := &env{stdout: &b, stderr: io.Discard}
			writeSummary(e, out, h, sc, "interrupted", time.Second)
			text := b.String()
			if !strings.Contains(text, tt.totals) {
				t.Errorf("summary lacks %q:\n%s", tt.totals, text)
			}
			if got := regexp.MustCompile(`(?m)^\S+  a\.lua +v1 +rejected `).MatchString(text); got != tt.rejected {
				t.Errorf("a rejected line printed: %v, want %v:\n%s", got, tt.rejected, text)
			}
		})
	}
}

// framesDue steps the frames the clock says are due at a tick (a timer keeps
// no tick shorter than about a millisecond, so at --tps 10000 a tick runs
// about ten), at least one, and skips past maxCatchUp rather than fall
// further behind.
func TestFramesDue(t *testing.T) {
	const p = 100 * time.Microsecond
	for _, tt := range []struct {
		elapsed time.Duration
		stepped int64
		n       int64
		behind  bool
	}{
		{p, 0, 1, false},
		{p - 1, 0, 1, false}, // a tick a little early: one frame, as ever
		{time.Millisecond, 0, 10, false},
		{time.Millisecond + p/2, 4, 6, false},
		{time.Second, 0, maxCatchUp, true},
		{time.Second, 9950, 50, false},
	} {
		if n, behind := framesDue(tt.elapsed, p, tt.stepped); n != tt.n || behind != tt.behind {
			t.Errorf("framesDue(%v, %v, %d) = %d, %v; want %d, %v", tt.elapsed, p, tt.stepped, n, behind, tt.n, tt.behind)
		}
	}
}
