package watch

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/testtool"

	"github.com/fsnotify/fsnotify"
)

const dirDebounce = 30 * time.Millisecond

// TestDirectoryChanges checks removals and renames of whole directories, and that
// directories coming back are watched again.
func TestDirectoryChanges(t *testing.T) {
	t.Parallel()
	initial := map[string]string{"top.lua": "t", "mods/a.lua": "a", "mods/b.lua": "b", "mods/deep/c.lua": "c"}
	cases := []struct {
		name     string
		change   func(h *harness)
		want     []want        // in any order
		debounce time.Duration // if not dirDebounce
	}{{
		name:   "subdirectory removed",
		change: func(h *harness) { h.remove("mods") },
		want:   []want{{"mods/a.lua", Removed, ""}, {"mods/b.lua", Removed, ""}, {"mods/deep/c.lua", Removed, ""}},
	}, {
		name:   "subdirectory renamed within the tree",
		change: func(h *harness) { h.rename("mods", "plugins") },
		want: []want{
			{"mods/a.lua", Removed, ""}, {"mods/b.lua", Removed, ""}, {"mods/deep/c.lua", Removed, ""},
			{"plugins/a.lua", Changed, "a"}, {"plugins/b.lua", Changed, "b"}, {"plugins/deep/c.lua", Changed, "c"},
		},
	}, {
		name: "subdirectory moved out of the tree",
		change: func(h *harness) {
			if err := os.Rename(h.path("mods"), filepath.Join(t.TempDir(), "mods")); err != nil {
				h.t.Fatal(err)
			}
		},
		want: []want{{"mods/a.lua", Removed, ""}, {"mods/b.lua", Removed, ""}, {"mods/deep/c.lua", Removed, ""}},
	}, {
		name: "directory moved into the tree",
		change: func(h *harness) {
			outside := t.TempDir()
			os.MkdirAll(filepath.Join(outside, "d"), 0o755)
			os.WriteFile(filepath.Join(outside, "d", "e.lua"), []byte("e"), 0o644)
			if err := os.Rename(outside, h.path("mods/new")); err != nil {
				h.t.Fatal(err)
			}
		},
		want: []want{{"mods/new/d/e.lua", Changed, "e"}},
	}, {
		name: "subdirectory removed and recreated within the debounce",
		change: func(h *harness) {
			h.remove("mods")
			h.write("mods/a.lua", "a2")
		},
		want: []want{{"mods/a.lua", Changed, "a2"}, {"mods/b.lua", Removed, ""}, {"mods/deep/c.lua", Removed, ""}},
		// Long enough for the removal and the write to fall within it on a
		// loaded machine (CI, with 30 ms: a.lua's removal came out first).
		debounce: 500 * time.Millisecond,
	}, {
		// Its files are then looked for under a file (ENOTDIR), and gone.
		name: "subdirectory replaced by a file",
		change: func(h *harness) {
			h.remove("mods")
			h.write("mods", "m")
		},
		want: []want{{"mods/a.lua", Removed, ""}, {"mods/b.lua", Removed, ""}, {"mods/deep/c.lua", Removed, ""}, {"mods", Changed, "m"}},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, Options{Debounce: cmp.Or(tc.debounce, dirDebounce)}, initial)
			tc.change(h)
			h.expectSet(tc.want...)
			h.quiet()
			h.noErrors()
		})
	}
}

// TestRemovedSubdirectoryIsWatchedWhenBack checks that a subdirectory removed
// and created again later is watched again.
func TestRemovedSubdirectoryIsWatchedWhenBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{Debounce: dirDebounce}, map[string]string{"mods/a.lua": "a"})
	h.remove("mods")
	h.expect(want{"mods/a.lua", Removed, ""})
	h.write("mods/a.lua", "a2") // creates mods again, then a.lua at once

	h.expect(want{"mods/a.lua", Changed, "a2"})
	h.write("mods/a.lua", "a3")
	h.expect(want{"mods/a.lua", Changed, "a3"})
}

// TestRootRemoved checks that removing a directory given to Add reports its files
// Removed and the directory on Errors, and that adding it again once it is back
// reports what it holds then and watches it as before.
func TestRootRemoved(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{Debounce: dirDebounce}, map[string]string{"a.lua": "a", "mods/b.lua": "b"})
	if err := os.RemoveAll(h.dir); err != nil {
		t.Fatal(err)
	}
	h.expectSet(want{"a.lua", Removed, ""}, want{"mods/b.lua", Removed, ""})
	if err := h.nextError(); !errors.Is(err, ErrDirRemoved) {
		t.Fatalf("error = %v, want ErrDirRemoved", err)
	}
	h.quiet()

	h.write("a.lua", "a")
	h.write("mods/c.lua", "c")
	if err := h.w.Add(h.dir); err != nil {
		t.Fatal(err)
	}
	h.expectSet(want{"a.lua", Changed, "a"}, want{"mods/c.lua", Changed, "c"})
	h.quiet()
	h.write("a.lua", "a2")
	h.expect(want{"a.lua", Changed, "a2"})
}

// TestRootBackWithinDebounce checks a directory given to Add that goes away and is
// back, as it was, before the debounce runs out: it is reported with
// ErrDirRemoved, its files yield no event, and adding it again reports every file
// it holds, as for any directory given to Add that came back, and every file it
// held that is gone.
func TestRootBackWithinDebounce(t *testing.T) {
	t.Parallel()
	files := map[string]string{"a.lua": "a", "mods/b.lua": "b"}
	awayAndBack := func(h *harness) {
		h.rename(".", "../away")
		h.rename("../away", ".")
	}
	cases := []struct {
		name      string
		back      func(h *harness)
		whileLost func(h *harness) // before Add
		want      []want           // after Add; nil for every file Changed
	}{{
		name: "renamed away and back",
		back: awayAndBack,
	}, {
		name:      "renamed away and back, then a file removed",
		back:      awayAndBack,
		whileLost: func(h *harness) { h.remove("a.lua") },
		want:      []want{{"a.lua", Removed, ""}, {"mods/b.lua", Changed, "b"}},
	}, {
		name: "removed and copied back with its modification times (cp -a)",
		back: func(h *harness) {
			modTimes := make(map[string]time.Time)
			for name := range files {
				info, err := os.Stat(h.path(name))
				if err != nil {
					h.t.Fatal(err)
				}
				modTimes[name] = info.ModTime()
			}
			h.remove(".")
			for name, content := range files {
				h.write(name, content)
				if err := os.Chtimes(h.path(name), modTimes[name], modTimes[name]); err != nil {
					h.t.Fatal(err)
				}
			}
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, Options{Debounce: editorDebounce}, nil)
			var reported []want // once, so that the watcher has their bytes
			for name, content := range files {
				h.write(name, content)
				reported = append(reported, want{name, Changed, content})
			}
			h.expectSet(reported...)
			tc.back(h)
			if err := h.nextError(); !errors.Is(err, ErrDirRemoved) {
				t.Fatalf("error = %v, want ErrDirRemoved", err)
			}
			h.quiet()
			if tc.whileLost != nil {
				tc.whileLost(h)
			}
			if err := h.w.Add(h.dir); err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				tc.want = reported
			}
			h.expectSet(tc.want...)
			h.quiet()
			h.noErrors()
		})
	}
}

// TestCreatedAndDeletedWithinDebounce checks that a file nobody saw, created and
// deleted within the debounce, yields nothing, while a known file deleted yields
// Removed.
func TestCreatedAndDeletedWithinDebounce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{Debounce: dirDebounce}, map[string]string{"known.lua": "k"})
	h.write("fleeting.lua", "f")
	h.remove("fleeting.lua")
	h.remove("known.lua")
	h.expect(want{"known.lua", Removed, ""})
	h.quiet()
}

// TestShortLivedDirectories checks that directories removed as soon as they are
// created (a tool's scratch directories) put no error on Errors: there was
// nothing in them to watch.
func TestShortLivedDirectories(t *testing.T) {
	t.Parallel()
	t.Run("removed before it is watched", func(t *testing.T) {
		t.Parallel()
		var once sync.Once
		opts := Options{Debounce: dirDebounce, Filter: func(p string) bool {
			if filepath.Base(p) == "a.lua" { // asked while new is listed, before new/scratch is watched
				once.Do(func() { os.RemoveAll(filepath.Join(filepath.Dir(p), "scratch")) })
			}
			return true
		}}
		h := newHarness(t, opts, nil)
		outside := unwatchedHarness(t, opts, map[string]string{"new/a.lua": "a", "new/scratch/b.lua": "b"})
		if err := os.Rename(outside.path("new"), h.path("new")); err != nil {
			t.Fatal(err)
		}
		h.expect(want{"new/a.lua", Changed, "a"})
		h.quiet()
		h.noErrors()
	})
	t.Run("200 created and removed", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, Options{Debounce: dirDebounce}, nil)
		for i := range 200 {
			name := fmt.Sprintf("scratch%d", i)
			h.write(name+"/x.lua", "x")
			h.remove(name)
		}
		h.quiet()
		h.noErrors()
	})
}

func TestAddErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "f.lua")
	os.WriteFile(file, nil, 0o644)
	w, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		dir  string
		want error
	}{
		{"file", file, ErrNotDir},
		{"missing", filepath.Join(dir, "missing"), fs.ErrNotExist},
	}
	for _, tc := range cases {
		if err := w.Add(tc.dir); !errors.Is(err, tc.want) {
			t.Errorf("%s: Add = %v, want %v", tc.name, err, tc.want)
		}
	}
	if err := w.Add(dir); err != nil {
		t.Fatalf("Add: %v", err)
	}
	if err := w.Add(dir); err != nil {
		t.Fatalf("Add twice: %v", err)
	}
	t.Run("unreadable subdirectory", func(t *testing.T) {
		top := t.TempDir()
		testtool.UnreadableDir(t, top, "deep")
		err := w.Add(top)
		if !errors.Is(err, ErrIncomplete) || !errors.Is(err, syscall.ENAMETOOLONG) {
			t.Errorf("Add = %v, want ErrIncomplete and the error reading the deepest directory", err)
		}
	})
	if err := w.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := w.Add(dir); !errors.Is(err, ErrClosed) {
		t.Fatalf("Add after Close = %v, want ErrClosed", err)
	}
}

// TestAddSymlinkedDirectory checks that a directory given to Add through a
// symbolic link is watched, and that events name files through the link.
func TestAddSymlinkedDirectory(t *testing.T) {
	t.Parallel()
	real, link := t.TempDir(), filepath.Join(t.TempDir(), "scripts")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	w, err := New(Options{Debounce: dirDebounce})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(t.Context())
	if err := w.Add(link); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, w: w, dir: link, opt: Options{Debounce: dirDebounce}}
	os.WriteFile(filepath.Join(real, "a.lua"), []byte("a"), 0o644)
	h.expect(want{"a.lua", Changed, "a"})
}

// TestOverflowRescans simulates lost notifications: the watch is dropped behind
// the watcher's back, files change, and an overflow is reported. The rescan must
// report exactly the files that differ, and watching must resume.
func TestOverflowRescans(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{Debounce: dirDebounce},
		map[string]string{"changed.lua": "1", "deleted.lua": "d", "same.lua": "s", "mods/inner.lua": "i"})
	if err := h.w.fsw.Remove(h.dir); err != nil {
		t.Fatal(err)
	}
	h.write("changed.lua", "22")
	h.write("added.lua", "new")
	h.remove("deleted.lua")
	h.w.fsw.Errors <- fsnotify.ErrEventOverflow
	if err := h.nextError(); !errors.Is(err, ErrOverflow) || !errors.Is(err, fsnotify.ErrEventOverflow) {
		t.Fatalf("error = %v, want ErrOverflow", err)
	}
	h.expectSet(want{"changed.lua", Changed, "22"}, want{"added.lua", Changed, "new"}, want{"deleted.lua", Removed, ""})
	h.quiet()
	h.write("same.lua", "s2")
	h.expect(want{"same.lua", Changed, "s2"})
}

// TestOverflowForgetsVanishedDirectories simulates lost notifications of
// directory removals: the rescan must forget the directories it no longer
// reaches, as their notified removal does.
func TestOverflowForgetsVanishedDirectories(t *testing.T) {
	t.Parallel()
	// lose drops the watches of dirs behind the watcher's back, so that what
	// happens to them next goes unnoticed until an overflow is reported.
	lose := func(h *harness, dirs ...string) {
		for _, d := range dirs {
			if err := h.w.fsw.Remove(h.path(d)); err != nil {
				h.t.Fatal(err)
			}
		}
	}
	overflow := func(h *harness) {
		h.w.fsw.Errors <- fsnotify.ErrEventOverflow
		if err := h.nextError(); !errors.Is(err, ErrOverflow) {
			h.t.Fatalf("error = %v, want ErrOverflow", err)
		}
	}
	t.Run("subdirectory", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, Options{Debounce: dirDebounce}, map[string]string{"top.lua": "t", "mods/a.lua": "a"})
		lose(h, ".", "mods")
		h.remove("mods")
		overflow(h)
		h.expect(want{"mods/a.lua", Removed, ""})
		h.write("mods", "m") // a file, where the watcher knew a directory
		h.expect(want{"mods", Changed, "m"})
		h.quiet()
		h.noErrors()
	})
	t.Run("directory given to Add", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, Options{Debounce: dirDebounce}, map[string]string{"a.lua": "a", "mods/b.lua": "b"})
		lose(h, ".", "mods")
		h.remove(".")
		overflow(h)
		if err := h.nextError(); !errors.Is(err, ErrDirRemoved) {
			t.Fatalf("error = %v, want ErrDirRemoved", err)
		}
		h.expectSet(want{"a.lua", Removed, ""}, want{"mods/b.lua", Removed, ""})
		h.quiet()
		h.noErrors()

		h.write("a.lua", "a2")
		if err := h.w.Add(h.dir); err != nil {
			t.Fatal(err)
		}
		h.expect(want{"a.lua", Changed, "a2"})
		h.quiet()
		h.noErrors()
	})
}

// TestFoundFilesInSaveOrder checks that files a walk finds changed together (a
// directory given to Add back after its removal, a rescan) are reported in
// the order they were saved, oldest first, not in the order of their names:
// of a module and its source, the host runs the one received last, which
// must be the one saved last (helper-206: x.wat beat an x.wasm saved after
// it when their directory came back).
func TestFoundFilesInSaveOrder(t *testing.T) {
	t.Parallel()
	base := time.Now().Add(-time.Hour)
	// Names in another order than the saves.
	saves := []string{"z.lua", "b.lua", "a.lua", "m/y.lua"}
	writeInOrder := func(h *harness) {
		for i, name := range saves {
			h.write(name, name)
			at := base.Add(time.Duration(i) * time.Minute)
			if err := os.Chtimes(h.path(name), at, at); err != nil {
				h.t.Fatal(err)
			}
		}
	}
	inOrder := func(h *harness) {
		h.t.Helper()
		var got []string
		for range saves {
			got = append(got, h.got(h.next()).name)
		}
		if fmt.Sprint(got) != fmt.Sprint(saves) {
			h.t.Errorf("reported %v, want %v: the order of the saves", got, saves)
		}
	}
	t.Run("directory back", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, Options{Debounce: dirDebounce}, map[string]string{"old.lua": "o"})
		if err := os.RemoveAll(h.dir); err != nil {
			t.Fatal(err)
		}
		h.expect(want{"old.lua", Removed, ""})
		if err := h.nextError(); !errors.Is(err, ErrDirRemoved) {
			t.Fatalf("error = %v, want ErrDirRemoved", err)
		}
		h.quiet()
		writeInOrder(h)
		if err := h.w.Add(h.dir); err != nil {
			t.Fatal(err)
		}
		inOrder(h)
	})
	t.Run("rescan", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, Options{Debounce: dirDebounce}, map[string]string{"m/x.lua": "x"})
		for _, d := range []string{".", "m"} {
			if err := h.w.fsw.Remove(h.path(d)); err != nil {
				t.Fatal(err)
			}
		}
		writeInOrder(h)
		h.w.fsw.Errors <- fsnotify.ErrEventOverflow
		if err := h.nextError(); !errors.Is(err, ErrOverflow) {
			t.Fatalf("error = %v, want ErrOverflow", err)
		}
		inOrder(h)
	})
}
