package watch

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEventString(t *testing.T) {
	t.Parallel()
	cases := []struct {
		ev   Event
		want string
	}{
		{Event{Path: "/g/a.lua", Op: Changed, Data: []byte("abc")}, "Changed /g/a.lua (3 bytes)"},
		{Event{Path: "/g/a.lua", Op: Removed}, "Removed /g/a.lua"},
		{Event{Path: "/g/a.wat", Op: Changed, Err: ErrBuild}, "Changed /g/a.wat: watch: build failed"},
		{Event{Path: "/g/a.lua", Op: 9}, "Op(9) /g/a.lua"},
	}
	for _, tc := range cases {
		if got := tc.ev.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

// TestEventInfoAndSource checks what an event says of the file when it fired: its
// os.Lstat, and for a built file the source's bytes the build started from.
func TestEventInfoAndSource(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		build  BuildStep // zero: no build step for .src
		files  map[string]string
		act    func(h *harness)
		path   string
		op     Op
		info   string // Info's name, "" for a nil Info
		size   int64
		link   bool // Info describes a symbolic link
		source string
		err    bool
	}{{
		name: "file without a build step",
		act:  func(h *harness) { h.write("x.lua", "abc") },
		path: "x.lua", op: Changed, info: "x.lua", size: 3,
	}, {
		name:  "built file",
		build: fakeStep("copy"),
		act:   func(h *harness) { h.write("x.src", "v1") },
		path:  "x.src", op: Changed, info: "x.src", size: 2, source: "v1",
	}, {
		name:  "failed build",
		build: fakeStep("fail"),
		act:   func(h *harness) { h.write("x.src", "bad") },
		path:  "x.src", op: Changed, info: "x.src", size: 3, source: "bad", err: true,
	}, {
		name:  "symbolic link",
		files: map[string]string{"real/x.lua": "target"},
		act:   func(h *harness) { h.symlink("real/x.lua", "x.lua") },
		path:  "x.lua", op: Changed, info: "x.lua", size: int64(len("real/x.lua")), link: true,
	}, {
		name:  "removed",
		build: fakeStep("copy"),
		files: map[string]string{"x.src": "v1"},
		act:   func(h *harness) { h.remove("x.src") },
		path:  "x.src", op: Removed,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := Options{Debounce: buildDebounce, Ignore: []string{"real"}}
			if tc.build.Command != nil {
				opts.Build = map[string]BuildStep{".src": tc.build}
			}
			h := newHarness(t, opts, tc.files)
			tc.act(h)
			ev := h.next()
			if ev.Path != h.path(tc.path) || ev.Op != tc.op || (ev.Err != nil) != tc.err {
				t.Fatalf("event %v, want %s %s (error %v)", ev, tc.op, tc.path, tc.err)
			}
			if string(ev.Source) != tc.source || (ev.Source == nil) != (tc.source == "") {
				t.Errorf("Source %q, want %q", ev.Source, tc.source)
			}
			switch {
			case tc.info == "" && ev.Info != nil:
				t.Errorf("Info %s, want nil", ev.Info.Name())
			case tc.info == "":
			case ev.Info == nil:
				t.Errorf("Info nil, want %s", tc.info)
			case ev.Info.Name() != tc.info || ev.Info.Size() != tc.size || (ev.Info.Mode()&os.ModeSymlink != 0) != tc.link:
				t.Errorf("Info %s, %d bytes, mode %v; want %s, %d bytes, link %v",
					ev.Info.Name(), ev.Info.Size(), ev.Info.Mode(), tc.info, tc.size, tc.link)
			}
			h.quiet()
		})
	}
}

// TestEventInfoIsFromWhenItFired lets an event wait unreceived while the file's
// mode changes (which changes no byte and yields no event): the event still
// says what the file was when it fired.
func TestEventInfoIsFromWhenItFired(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{Debounce: 10 * time.Millisecond}, nil)
	h.write("x.lua", "v1")
	if err := os.Chmod(h.path("x.lua"), 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	time.Sleep(10 * h.debounce()) // fired, read, waiting
	if err := os.Chmod(h.path("x.lua"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * h.debounce())
	ev := h.next()
	if ev.Info == nil || ev.Info.Mode().Perm() != 0o644 {
		t.Fatalf("Info %v, want the mode x.lua had when its event fired (-rw-r--r--)", ev.Info)
	}
	if now, err := os.Lstat(h.path("x.lua")); err != nil || now.Mode().Perm() != 0o600 {
		t.Fatalf("Lstat now: %v, %v", now, err)
	}
	h.quiet()
}

// TestSourceOfASaveDuringTheBuild saves the source again as its build starts (the
// tool itself appends to it): whether or not the first build finishes, a later
// event carries the new source, built, and no event carries a Source with
// Data built from another save (the build of v1+ with v1's text: a host
// taking Source for what runs would be wrong until the next event).
func TestSourceOfASaveDuringTheBuild(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{Debounce: buildDebounce, Build: map[string]BuildStep{".src": fakeStep("resave")}}, nil)
	h.write("x.src", "v1")
	for {
		ev := h.next()
		if ev.Err != nil {
			t.Fatalf("event %v (log %q)", ev, ev.BuildLog)
		}
		if string(ev.Data) != strings.ToUpper(string(ev.Source)) {
			t.Fatalf("Source %q with Data %q: built from another save", ev.Source, ev.Data)
		}
		if string(ev.Source) == "v1+" {
			if string(ev.Data) != "V1+" {
				t.Fatalf("Source %q built into %q", ev.Source, ev.Data)
			}
			break
		}
		if string(ev.Source) != "v1" {
			t.Fatalf("Source %q, want v1 or, later, v1+", ev.Source)
		}
	}
	h.quiet()
}

// TestSourceOfASaveTheBuildBuilt: the file changes during its build (through a
// hard link, so that the watcher gets no event of it: the case where the
// save's own event would come too late to supersede the build), so the build
// made v2 of a file read as v1: the event is of v2, Source, Data and Info
// alike. Grown past 64 MiB instead, unreadable, it gives an event of that
// error, with neither Source nor Data.
func TestSourceOfASaveTheBuildBuilt(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"relink", "relinkhuge"} {
		marks := t.TempDir()
		h := newHarness(t, Options{Debounce: buildDebounce, Build: map[string]BuildStep{".src": fakeStep(mode, marks)}}, nil)
		h.write("x.src", "v1")
		if err := os.Link(h.path("x.src"), filepath.Join(marks, "link")); err != nil {
			t.Fatal(err)
		}
		ev := h.next()
		if mode == "relinkhuge" {
			if !errors.Is(ev.Err, ErrTooLarge) || ev.Source != nil || ev.Data != nil {
				t.Fatalf("event %v with Source %q, Data %q; want the read's error, neither", ev, ev.Source, ev.Data)
			}
			continue
		}
		if ev.Err != nil || string(ev.Source) != "v2-longer" || string(ev.Data) != "V2-LONGER" {
			t.Fatalf("event %v with Source %q, Data %q; want v2-longer built", ev, ev.Source, ev.Data)
		}
		if ev.Info == nil || ev.Info.Size() != int64(len(ev.Source)) {
			t.Fatalf("Info of %v bytes for a Source of %d", ev.Info.Size(), len(ev.Source))
		}
	}
}

// TestUnchanged: a stat of the file as it was is unchanged; one after a save
// of the same size whose modification time was set back (cp -p), or after a
// chmod, is not, by the change time.
func TestUnchanged(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.c")
	if err := os.WriteFile(path, []byte("v1"), 0o644); err != nil {
		t.Fatal(err)
	}
	stat := func() os.FileInfo {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return info
	}
	before := stat()
	if !Unchanged(before, stat()) {
		t.Fatal("a file not touched is changed")
	}
	time.Sleep(20 * time.Millisecond) // past the file system's clock tick
	if err := os.WriteFile(path, []byte("v2"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, before.ModTime(), before.ModTime()); err != nil {
		t.Fatal(err)
	}
	if after := stat(); Unchanged(before, after) && nodeOf(after) != (node{}) { // where stat has a change time
		t.Error("a save of the same size with its time set back is unchanged")
	}
}

// TestEventFired: an event says when it fired, the debounce over, before its
// build: a built file's event, received after a build of 300 ms, fired that
// long before; every event, a plain file's and a removal's too, fired between
// the activity and its receipt.
func TestEventFired(t *testing.T) {
	t.Parallel()
	marks := t.TempDir()
	h := newHarness(t, Options{Debounce: buildDebounce, Build: map[string]BuildStep{".src": fakeStep("slow", marks)}}, nil)
	for _, tc := range []struct {
		name  string
		do    func()
		built bool
	}{
		{"built", func() { h.write("x.src", "v1") }, true},
		{"plain", func() { h.write("y.lua", "return {}") }, false},
		{"removed", func() { h.remove("y.lua") }, false},
	} {
		before := time.Now()
		tc.do()
		ev := h.next()
		got := time.Now()
		if ev.Err != nil || ev.Fired.Before(before) || ev.Fired.After(got) {
			t.Fatalf("%s: event %v fired at %v, want between the activity (%v) and its receipt (%v)", tc.name, ev, ev.Fired, before, got)
		}
		if tc.built && got.Sub(ev.Fired) < 300*time.Millisecond {
			t.Errorf("%s: received %v after it fired, want the build's 300 ms at least: it fired after the build", tc.name, got.Sub(ev.Fired))
		}
	}
}
