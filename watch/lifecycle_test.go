package watch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
)

func TestCloseIsIdempotent(t *testing.T) {
	t.Parallel()
	w, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := w.Close(t.Context()); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	if _, ok := <-w.Events(); ok {
		t.Fatal("Events still open after Close")
	}
	if _, ok := <-w.Errors(); ok {
		t.Fatal("Errors still open after Close")
	}
}

// TestCloseWithEndedContext checks that Close returns the context's error when the
// context ends the wait, and that the Watcher still shuts down.
func TestCloseWithEndedContext(t *testing.T) {
	t.Parallel()
	w, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := w.Close(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Close(cancelled) = %v, want nil or context.Canceled", err)
	}
	if err := w.Close(t.Context()); err != nil {
		t.Fatalf("Close = %v", err)
	}
}

// TestCloseLeavesNoGoroutines closes Watchers in every state they can be in and
// checks that no goroutine of theirs, or of fsnotify, is left. It is not parallel:
// it looks at every goroutine of the process.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	cases := []struct {
		name  string
		hang  bool // build .src files with a tool that hangs
		setup func(h *harness, marks string)
	}{{
		name:  "idle",
		setup: func(h *harness, marks string) {},
	}, {
		name:  "debounce pending",
		setup: func(h *harness, marks string) { h.write("a.lua", "a") },
	}, {
		name: "events and errors nobody receives",
		setup: func(h *harness, marks string) {
			for i := range 3 {
				h.write(fmt.Sprintf("f%d.lua", i), "x")
			}
			for range maxQueuedErrors + 10 {
				h.w.fsw.Errors <- errors.New("injected")
			}
			time.Sleep(3 * h.debounce())
		},
	}, {
		name: "build running",
		hang: true,
		setup: func(h *harness, marks string) {
			h.write("x.src", "x")
			waitStarted(h.t, marks)
		},
	}, {
		name: "symbolic link to a file outside the tree",
		setup: func(h *harness, marks string) {
			h.write("../src/a.lua", "a")
			h.symlink("../src/a.lua", "a.lua")
			h.write("../src/a.lua", "a2")
		},
	}, {
		name: "receiver ranging over Events",
		setup: func(h *harness, marks string) {
			go func() {
				for range h.w.Events() {
				}
			}()
			h.write("a.lua", "a")
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts, marks := Options{Debounce: 10 * time.Millisecond}, t.TempDir()
			if tc.hang {
				opts.Build = map[string]BuildStep{".src": fakeStep("hang", marks)}
			}
			h := newHarness(t, opts, nil)
			tc.setup(h, marks)
			ctx, cancel := context.WithTimeout(t.Context(), eventTimeout)
			defer cancel()
			if err := h.w.Close(ctx); err != nil {
				t.Fatalf("Close: %v", err)
			}
			checkNoGoroutines(t)
		})
	}
}

// TestHammer saves P files N times each from P goroutines, in directories created
// concurrently, while other goroutines Add the tree again: the last event of every
// file must carry its last content.
func TestHammer(t *testing.T) {
	t.Parallel()
	const P, N = 4, 25
	h := newHarness(t, Options{Debounce: 5 * time.Millisecond}, nil)
	final := make(map[string]string)
	for p := range P {
		final[fmt.Sprintf("d%d/f.lua", p)] = fmt.Sprintf("writer %d save %d", p, N-1)
	}
	var wg sync.WaitGroup
	for p := range P {
		wg.Go(func() {
			for i := range N {
				h.write(fmt.Sprintf("d%d/f.lua", p), fmt.Sprintf("writer %d save %d", p, i))
				if i%5 == 0 {
					time.Sleep(time.Duration(p) * time.Millisecond)
				}
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for range N {
				if err := h.w.Add(h.dir); err != nil {
					t.Error(err)
				}
			}
		})
	}
	latest := make(map[string]string)
	deadline := time.After(eventTimeout)
	for done := 0; done < P; {
		select {
		case ev := <-h.w.Events():
			g := h.got(ev)
			if ev.Err != nil || g.op != Changed {
				t.Fatalf("event %v: %v", g, ev.Err)
			}
			if latest[g.name] != final[g.name] && g.data == final[g.name] {
				done++
			}
			latest[g.name] = g.data
		case err := <-h.w.Errors():
			t.Fatalf("error: %v", err)
		case <-deadline:
			t.Fatalf("latest contents %v, want %v", latest, final)
		}
	}
	wg.Wait()
	h.quiet()
}

// TestHammerClose races Close from several goroutines against Add, saves and
// receivers.
func TestHammerClose(t *testing.T) {
	t.Parallel()
	const P = 4
	for round := range 10 {
		h := newHarness(t, Options{Debounce: time.Millisecond}, nil)
		var wg sync.WaitGroup
		for p := range P {
			wg.Go(func() {
				for range h.w.Events() {
				}
			})
			wg.Go(func() {
				h.write(fmt.Sprintf("r%d-%d.lua", round, p), "x")
				if err := h.w.Add(h.dir); err != nil && !errors.Is(err, ErrClosed) {
					t.Errorf("Add: %v", err)
				}
			})
			wg.Go(func() {
				if err := h.w.Close(t.Context()); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
		}
		wg.Wait()
	}
}

// TestSlowReceiverSeesLatest checks delivery to a receiver that falls behind: a
// waiting event is replaced by the newer one for its path, keeping its place.
func TestSlowReceiverSeesLatest(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{Debounce: 10 * time.Millisecond}, nil)
	settle := func() { time.Sleep(5 * h.debounce()) } // let the event fire and wait unreceived
	h.write("a.lua", "a1")
	settle()
	h.write("b.lua", "b1")
	settle()
	h.write("a.lua", "a2")
	settle()
	h.expect(want{"a.lua", Changed, "a2"}, want{"b.lua", Changed, "b1"})
	h.quiet()
}

// TestRemovedOnlyForFilesReceived checks that a file removed while its Changed
// event waits, unreceived, yields a Removed event only if the host has the file
// (received in an earlier event, or found by Add): a file the host never received
// yields nothing.
func TestRemovedOnlyForFilesReceived(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{Debounce: 10 * time.Millisecond}, map[string]string{"known.lua": "k1"})
	settle := func() { time.Sleep(5 * h.debounce()) } // let events fire and wait unreceived
	h.write("new.lua", "n1")
	h.write("known.lua", "k2")
	settle()
	h.remove("new.lua")
	h.remove("known.lua")
	settle()
	h.write("known.lua", "k3") // replaces the waiting Removed: the host still has k1
	settle()
	h.remove("known.lua")
	settle()
	h.expect(want{"known.lua", Removed, ""})
	h.quiet()

	h.write("new.lua", "n2")
	h.expect(want{"new.lua", Changed, "n2"})
	h.remove("new.lua")
	h.expect(want{"new.lua", Removed, ""})
	h.quiet()
}

// TestForget: after Forget, a file left as the host last received it (renamed
// away and back, copied over with its time kept) is reported again, and its
// removal, which the host no longer cares for, is not; without Forget the same
// activity is no event.
func TestForget(t *testing.T) {
	h := newHarness(t, Options{Debounce: 30 * time.Millisecond}, nil)
	h.write("a.lua", "v1")
	h.expect(want{"a.lua", Changed, "v1"})
	info, err := os.Stat(h.path("a.lua"))
	if err != nil {
		t.Fatal(err)
	}
	sameAgain := func() { // the same bytes and modification time
		h.write("a.lua", "v1")
		if err := os.Chtimes(h.path("a.lua"), info.ModTime(), info.ModTime()); err != nil {
			t.Fatal(err)
		}
	}
	sameAgain()
	h.quiet()
	h.w.Forget(h.path("a.lua"))
	sameAgain()
	h.expect(want{"a.lua", Changed, "v1"})
	h.w.Forget(h.path("a.lua"))
	h.remove("a.lua")
	h.quiet()
	h.w.Forget(h.path("never.lua")) // unknown: nothing
	h.write("b.lua", "v1")
	h.expect(want{"b.lua", Changed, "v1"})
}
