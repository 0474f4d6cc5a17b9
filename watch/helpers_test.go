package watch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// eventTimeout bounds every wait for an event: generous, because a busy CI machine
// can stall a test for a while; the tests never wait this long when they pass.
const eventTimeout = 10 * time.Second

// harness drives one Watcher over one temporary directory.
type harness struct {
	t   *testing.T
	w   *Watcher
	dir string
	opt Options
}

// newHarness creates files (name to content) in a new temporary directory, then
// starts a Watcher with opts on it. The Watcher is closed when the test ends.
func newHarness(t *testing.T, opts Options, files map[string]string) *harness {
	t.Helper()
	h := unwatchedHarness(t, opts, files)
	h.start()
	return h
}

// unwatchedHarness is newHarness before the watcher starts, for tests that set
// up files further first.
func unwatchedHarness(t *testing.T, opts Options, files map[string]string) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir(), opt: opts}
	for name, content := range files {
		h.write(name, content)
	}
	return h
}

// start makes the harness's watcher and adds its directory.
func (h *harness) start() {
	t := h.t
	t.Helper()
	w, err := New(h.opt)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.w = w
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
		defer cancel()
		if err := w.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if err := w.Add(h.dir); err != nil {
		t.Fatalf("Add: %v", err)
	}
}

func (h *harness) path(name string) string { return filepath.Join(h.dir, filepath.FromSlash(name)) }

func (h *harness) debounce() time.Duration {
	if h.opt.Debounce == 0 {
		return DefaultDebounce
	}
	return h.opt.Debounce
}

func (h *harness) write(name, content string) {
	h.t.Helper()
	p := h.path(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) rename(from, to string) {
	h.t.Helper()
	if err := os.Rename(h.path(from), h.path(to)); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) remove(name string) {
	h.t.Helper()
	if err := os.RemoveAll(h.path(name)); err != nil {
		h.t.Fatal(err)
	}
}

// symlink makes name a symbolic link holding target, as ln -s target name does:
// a relative target is taken from the link's directory.
func (h *harness) symlink(target, name string) {
	h.t.Helper()
	if err := os.Symlink(filepath.FromSlash(target), h.path(name)); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) mkdir(name string) {
	h.t.Helper()
	if err := os.MkdirAll(h.path(name), 0o755); err != nil {
		h.t.Fatal(err)
	}
}

// want describes an expected event; name is relative to the harness directory.
type want struct {
	name string
	op   Op
	data string
}

func (w want) String() string { return fmt.Sprintf("%s %s %q", w.op, w.name, w.data) }

// got describes a received event the way want does.
func (h *harness) got(ev Event) want {
	rel, err := filepath.Rel(h.dir, ev.Path)
	if err != nil {
		rel = ev.Path
	}
	return want{name: filepath.ToSlash(rel), op: ev.Op, data: string(ev.Data)}
}

// next returns the next event, failing the test if none comes in time.
func (h *harness) next() Event {
	h.t.Helper()
	select {
	case ev, ok := <-h.w.Events():
		if !ok {
			h.t.Fatal("Events closed")
		}
		return ev
	case <-time.After(eventTimeout):
		h.t.Fatalf("no event within %v", eventTimeout)
	}
	panic("unreachable")
}

// expect receives exactly the wanted events, in order, and fails on an event that
// is not the next wanted one or carries an error. An empty save of a file for
// which one with content is wanted is passed over: os.WriteFile truncates,
// then writes, and on a loaded machine the debounce can fire in between, as
// Event.Data says (the CI's 386 run, once).
func (h *harness) expect(wants ...want) {
	h.t.Helper()
	for i, wnt := range wants {
		ev := h.next()
		if ev.Err != nil {
			h.t.Fatalf("event %d: %v (log %q)", i, ev.Err, ev.BuildLog)
		}
		g := h.got(ev)
		if halfWritten(g, wnt) {
			ev = h.next()
			g = h.got(ev)
		}
		if g != wnt {
			h.t.Fatalf("event %d: got %v, want %v", i, g, wnt)
		}
	}
}

// halfWritten reports whether g is an empty save of the file of which w, a
// save with content, is wanted: the file caught between truncated and written.
func halfWritten(g, w want) bool {
	return g.op == Changed && g.data == "" && w.op == Changed && w.data != "" && g.name == w.name
}

// expectSet receives len(wants) events in any order and checks they are wants,
// passing over empty saves of files for which one with content is wanted (see
// expect).
func (h *harness) expectSet(wants ...want) {
	h.t.Helper()
	left := make(map[want]int)
	for _, w := range wants {
		left[w]++
	}
	for n := 0; n < len(wants); {
		g := h.got(h.next())
		if left[g] == 0 {
			if slices.ContainsFunc(wants, func(w want) bool { return left[w] > 0 && halfWritten(g, w) }) {
				continue
			}
			h.t.Fatalf("unexpected event %v; still waiting for %v", g, left)
		}
		left[g]--
		n++
	}
}

// quiet fails if an event arrives within a few debounce intervals: long enough for
// any pending activity to have fired and been loaded.
func (h *harness) quiet() {
	h.t.Helper()
	select {
	case ev, ok := <-h.w.Events():
		if ok {
			h.t.Fatalf("unexpected event %v", h.got(ev))
		}
	case <-time.After(3 * h.debounce()):
	}
}

// noErrors fails if an error waits on Errors; after quiet, every error the
// activity caused is waiting.
func (h *harness) noErrors() {
	h.t.Helper()
	select {
	case err := <-h.w.Errors():
		h.t.Fatalf("unexpected error: %v", err)
	default:
	}
}

// nextError returns the next error from Errors, failing if none comes in time.
func (h *harness) nextError() error {
	h.t.Helper()
	select {
	case err := <-h.w.Errors():
		return err
	case <-time.After(eventTimeout):
		h.t.Fatalf("no error within %v", eventTimeout)
	}
	panic("unreachable")
}

// checkNoGoroutines fails if goroutines of a Watcher or of fsnotify are still
// running, after giving them time to end.
func checkNoGoroutines(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(eventTimeout)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		var left []string
		for g := range strings.SplitSeq(stacks, "\n\n") {
			if strings.Contains(g, "hotscript/watch.(*loop)") || strings.Contains(g, "github.com/fsnotify/fsnotify.") {
				left = append(left, g)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left after Close:\n%s", len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
