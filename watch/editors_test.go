package watch

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// editorDebounce is long enough that the short pauses below (editorPause) stay
// within it even on a loaded machine.
const (
	editorDebounce = 100 * time.Millisecond
	editorPause    = 15 * time.Millisecond
)

// TestEditorSaves drives a real directory the way each editor saves a file that
// exists (x.lua, "v1") when watching starts, and checks the events that result.
func TestEditorSaves(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		save func(h *harness)
		want []want
	}{{
		name: "write in place",
		save: func(h *harness) { h.write("x.lua", "v2") },
		want: []want{{"x.lua", Changed, "v2"}},
	}, {
		name: "truncate, short pause, write",
		save: func(h *harness) {
			f, err := os.Create(h.path("x.lua")) // O_TRUNC
			if err != nil {
				h.t.Fatal(err)
			}
			defer f.Close()
			time.Sleep(editorPause)
			if _, err := f.WriteString("v2 complete"); err != nil {
				h.t.Fatal(err)
			}
		},
		want: []want{{"x.lua", Changed, "v2 complete"}},
	}, {
		name: "truncate, pause longer than the debounce, write",
		save: func(h *harness) {
			f, err := os.Create(h.path("x.lua"))
			if err != nil {
				h.t.Fatal(err)
			}
			defer f.Close()
			h.expect(want{"x.lua", Changed, ""}) // the pause: the empty file fires first
			if _, err := f.WriteString("v2 complete"); err != nil {
				h.t.Fatal(err)
			}
		},
		want: []want{{"x.lua", Changed, "v2 complete"}},
	}, {
		name: "partial write, pause longer than the debounce, rest",
		save: func(h *harness) {
			f, err := os.Create(h.path("x.lua"))
			if err != nil {
				h.t.Fatal(err)
			}
			defer f.Close()
			f.WriteString("v2 comp")
			h.expect(want{"x.lua", Changed, "v2 comp"})
			f.WriteString("lete")
		},
		want: []want{{"x.lua", Changed, "v2 complete"}},
	}, {
		name: "VS Code atomic write: temp then rename over",
		save: func(h *harness) {
			h.write("x.lua.vsctmp", "v2")
			h.rename("x.lua.vsctmp", "x.lua")
		},
		want: []want{{"x.lua", Changed, "v2"}},
	}, {
		name: "JetBrains safe write",
		save: func(h *harness) {
			h.write("x.lua___jb_tmp___", "v2")
			h.rename("x.lua", "x.lua___jb_old___")
			h.rename("x.lua___jb_tmp___", "x.lua")
			h.remove("x.lua___jb_old___")
		},
		want: []want{{"x.lua", Changed, "v2"}},
	}, {
		name: "temp file with a name no pattern knows, renamed over",
		save: func(h *harness) {
			h.write("x.lua.3735928559", "v2") // write-file-atomic style
			h.rename("x.lua.3735928559", "x.lua")
		},
		want: []want{{"x.lua", Changed, "v2"}},
	}, {
		name: "delete and recreate",
		save: func(h *harness) {
			h.remove("x.lua")
			time.Sleep(editorPause)
			h.write("x.lua", "v2")
		},
		want: []want{{"x.lua", Changed, "v2"}},
	}, {
		name: "vim: probe 4913, backup by rename, write new, delete backup",
		save: func(h *harness) {
			h.write(".x.lua.swp", "swap") // present while editing
			h.write("4913", "")
			h.remove("4913")
			h.rename("x.lua", "x.lua~")
			h.write("x.lua", "v2")
			if err := os.Chmod(h.path("x.lua"), 0o600); err != nil {
				h.t.Fatal(err)
			}
			h.remove("x.lua~")
			h.remove(".x.lua.swp")
		},
		want: []want{{"x.lua", Changed, "v2"}},
	}, {
		name: "emacs: auto-save and lock, backup by rename, write new",
		save: func(h *harness) {
			h.write("#x.lua#", "autosave")
			if err := os.Symlink("user@host.1234:1700000000", h.path(".#x.lua")); err != nil {
				h.t.Fatal(err)
			}
			h.rename("x.lua", "x.lua~")
			h.write("x.lua", "v2")
			h.remove("#x.lua#")
			h.remove(".#x.lua")
		},
		want: []want{{"x.lua", Changed, "v2"}},
	}, {
		name: "atomic save into a subdirectory created after Add",
		save: func(h *harness) {
			h.mkdir("mods/deep")
			h.write("mods/deep/.y.lua.tmp", "y1")
			h.rename("mods/deep/.y.lua.tmp", "mods/deep/y.lua")
		},
		want: []want{{"mods/deep/y.lua", Changed, "y1"}},
	}, {
		name: "new file",
		save: func(h *harness) { h.write("z.lua", "z1") },
		want: []want{{"z.lua", Changed, "z1"}},
	}, {
		name: "delete",
		save: func(h *harness) { h.remove("x.lua") },
		want: []want{{"x.lua", Removed, ""}},
	}, {
		name: "rename away",
		save: func(h *harness) { h.rename("x.lua", "x.lua.bak") },
		want: []want{{"x.lua", Removed, ""}},
	}, {
		name: "touch",
		save: func(h *harness) {
			now := time.Now()
			if err := os.Chtimes(h.path("x.lua"), now, now); err != nil {
				h.t.Fatal(err)
			}
		},
		want: []want{{"x.lua", Changed, "v1"}},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, Options{Debounce: editorDebounce}, map[string]string{"x.lua": "v1"})
			tc.save(h)
			h.expect(tc.want...)
			h.quiet()
		})
	}
}

// TestSaveTwiceYieldsTwoEvents checks that two saves separated by more than the
// debounce are two events, and that later saves of a file first seen in a new
// subdirectory are reported too.
func TestSaveTwiceYieldsTwoEvents(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{Debounce: 20 * time.Millisecond}, nil)
	h.write("new/a.lua", "a1")
	h.expect(want{"new/a.lua", Changed, "a1"})
	h.write("new/a.lua", "a2")
	h.expect(want{"new/a.lua", Changed, "a2"})
	h.remove("new/a.lua")
	h.expect(want{"new/a.lua", Removed, ""})
	h.quiet()
}

// TestDebounceCoalesces checks that a burst of writes, appends and attribute
// changes quicker than the debounce yields one event with the final content.
func TestDebounceCoalesces(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		writes int
	}{{"2 writes", 2}, {"50 writes", 50}, {"500 writes", 500}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, Options{Debounce: editorDebounce}, map[string]string{"x.lua": ""})
			f, err := os.OpenFile(h.path("x.lua"), os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			var content []byte
			for i := range tc.writes {
				line := []byte{byte('a' + i%26)}
				content = append(content, line...)
				if _, err := f.Write(line); err != nil {
					t.Fatal(err)
				}
				if i%10 == 0 {
					f.Chmod(0o644)
				}
			}
			f.Close()
			h.expect(want{"x.lua", Changed, string(content)})
			h.quiet()
		})
	}
}

// TestNoEventWithoutChange checks that notifications after a file's event that
// leave its size, modification time and bytes as they were (attribute changes,
// notifications that arrive late) produce no second event, and that a real save
// after them does.
func TestNoEventWithoutChange(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		notify func(h *harness)
	}{{
		name: "chmod",
		notify: func(h *harness) {
			if err := os.Chmod(h.path("x.lua"), 0o600); err != nil {
				h.t.Fatal(err)
			}
		},
	}, {
		name: "late notifications",
		notify: func(h *harness) {
			for _, op := range []fsnotify.Op{fsnotify.Create, fsnotify.Write, fsnotify.Chmod} {
				h.w.fsw.Events <- fsnotify.Event{Name: h.path("x.lua"), Op: op}
			}
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, Options{Debounce: 20 * time.Millisecond}, nil)
			h.write("x.lua", "v1")
			h.expect(want{"x.lua", Changed, "v1"})
			tc.notify(h)
			h.quiet()
			h.write("x.lua", "v2")
			h.expect(want{"x.lua", Changed, "v2"})
		})
	}
}

// TestFirstActivityAfterAdd checks what the first activity on a file Add found
// reports. A file that had not changed for settleTime when Add found it is
// reported unless its stat is as Add found it: size, modification time, inode and
// change time. Its files are aged for real, since no program can set a change
// time: one wait serves every case. A file that changed since is reported
// whatever it holds, even with an old modification time.
func TestFirstActivityAfterAdd(t *testing.T) {
	t.Parallel()
	past := time.Now().Add(-time.Hour)
	late := func(h *harness) {
		for _, op := range []fsnotify.Op{fsnotify.Create, fsnotify.Write, fsnotify.Chmod} {
			h.w.fsw.Events <- fsnotify.Event{Name: h.path("level1.lua"), Op: op}
		}
	}
	cases := []struct {
		name   string
		fresh  bool // changed just before Add, with its modification time set back
		change func(h *harness)
		want   []want // in any order
	}{{
		name:   "late notifications",
		change: late,
	}, {
		name:   "save of the same size",
		change: func(h *harness) { h.write("level1.lua", "return 3333") },
		want:   []want{{"level1.lua", Changed, "return 3333"}},
	}, {
		name:   "replaced by a file of the same size and modification time (mv)",
		change: func(h *harness) { h.rename("level2.lua", "level1.lua") },
		want:   []want{{"level1.lua", Changed, "return 2222"}, {"level2.lua", Removed, ""}},
	}, {
		name: "rewritten with its modification time set back (cp -p)",
		change: func(h *harness) {
			h.write("level1.lua", "return 2222")
			if err := os.Chtimes(h.path("level1.lua"), past, past); err != nil {
				h.t.Fatal(err)
			}
		},
		want: []want{{"level1.lua", Changed, "return 2222"}},
	}, {
		name: "chmod, which a stat cannot tell from cp -p",
		change: func(h *harness) {
			if err := os.Chmod(h.path("level1.lua"), 0o600); err != nil {
				h.t.Fatal(err)
			}
		},
		want: []want{{"level1.lua", Changed, "return 1111"}},
	}, {
		// Moving a directory leaves the change times of its files as they
		// were. Lost notifications hide the move, so that the files get their
		// activity from the rescan, which ends before the loop takes the Add.
		name: "Add again while files moved in wait for their debounce",
		change: func(h *harness) {
			if err := h.w.fsw.Remove(h.dir); err != nil {
				h.t.Fatal(err)
			}
			h.rename("mods", "plugins")
			h.w.fsw.Errors <- fsnotify.ErrEventOverflow
			if err := h.w.Add(h.dir); err != nil {
				h.t.Fatal(err)
			}
		},
		want: []want{{"mods/level3.lua", Removed, ""}, {"plugins/level3.lua", Changed, "return 3333"}},
	}, {
		name:   "late notifications on a file changed just before Add",
		fresh:  true,
		change: late,
		want:   []want{{"level1.lua", Changed, "return 1111"}},
	}}
	files := map[string]string{"level1.lua": "return 1111", "level2.lua": "return 2222", "mods/level3.lua": "return 3333"}
	opts := Options{Debounce: 20 * time.Millisecond}
	setUp := func(t *testing.T) *harness {
		h := unwatchedHarness(t, opts, files)
		for name := range files {
			if err := os.Chtimes(h.path(name), past, past); err != nil {
				t.Fatal(err)
			}
		}
		return h
	}
	aged := make([]*harness, len(cases))
	for i, tc := range cases {
		if !tc.fresh {
			aged[i] = setUp(t)
		}
	}
	time.Sleep(settleTime + 100*time.Millisecond) // Chtimes set the change times
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := aged[i]
			if tc.fresh {
				h = setUp(t)
			}
			h.t = t
			h.start()
			tc.change(h)
			h.expectSet(tc.want...)
			h.quiet()
		})
	}
}

// TestSaveDuringAdd checks that a save made while Add lists the directory, after
// its watch is set but before Add reads the file, is reported: Add must not take
// the saved bytes for what the host loaded.
func TestSaveDuringAdd(t *testing.T) {
	t.Parallel()
	var once sync.Once
	opts := Options{Debounce: 20 * time.Millisecond, Filter: func(p string) bool {
		if filepath.Base(p) == "x.lua" { // Add asks about x between setting the watch and reading x
			once.Do(func() { os.WriteFile(p, []byte("v2"), 0o644) })
		}
		return true
	}}
	h := newHarness(t, opts, map[string]string{"x.lua": "v1"}) // v1: what the host loaded
	h.expect(want{"x.lua", Changed, "v2"})
}
