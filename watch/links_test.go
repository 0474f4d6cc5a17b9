package watch

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

const linkDebounce = 30 * time.Millisecond

// linkHarness is an unwatched harness whose directory, d, has unwatched
// neighbours for the targets of its symbolic links: its names reach them as
// "../src/a.lua". With through, d is itself a symbolic link to a directory
// next to it (the directory given to Add through a link), so that a target
// inside the tree has another name than the one it is watched under.
func linkHarness(t *testing.T, through bool) *harness {
	t.Helper()
	root := t.TempDir()
	h := &harness{t: t, dir: filepath.Join(root, "d"), opt: Options{Debounce: linkDebounce}}
	if through {
		h.mkdir("../real")
		h.symlink("real", "../d")
	} else {
		h.mkdir(".")
	}
	return h
}

// watched reports whether the harness's watcher has an fsnotify watch on dir.
func (h *harness) watched(dir string) bool {
	return slices.Contains(h.w.fsw.WatchList(), h.path(dir))
}

// TestSymlinkedFiles checks that a symbolic link to a file is reported as the
// file it leads to: a save of its target, wherever the target is, is a Changed
// event for the link, once, as is the link retargeted; a target gone is Removed.
// Each case runs with the tree given to Add as it is and through a symbolic
// link.
func TestSymlinkedFiles(t *testing.T) {
	t.Parallel()
	// outside is the default layout: d/a.lua -> ../src/a.lua.
	outside := func(h *harness) {
		h.write("../src/a.lua", "v1")
		h.symlink("../src/a.lua", "a.lua")
	}
	cases := []struct {
		name   string
		setup  func(h *harness) // before Add
		change func(h *harness) // may expect events of its own
		want   []want           // in any order, then nothing more
	}{{
		name:   "target saved in place",
		setup:  outside,
		change: func(h *harness) { h.write("../src/a.lua", "v2") },
		want:   []want{{"a.lua", Changed, "v2"}},
	}, {
		name:  "temporary file renamed over the target",
		setup: outside,
		change: func(h *harness) {
			h.write("../src/a.lua.3735928559", "v2")
			h.rename("../src/a.lua.3735928559", "../src/a.lua")
		},
		want: []want{{"a.lua", Changed, "v2"}},
	}, {
		name:  "saved through the link, with a swap file next to it (vim)",
		setup: outside,
		change: func(h *harness) {
			h.write(".a.lua.swp", "swap")
			h.write("a.lua", "v2") // writes the target
			h.remove(".a.lua.swp")
		},
		want: []want{{"a.lua", Changed, "v2"}},
	}, {
		name:  "other files next to the target",
		setup: outside,
		change: func(h *harness) {
			h.write("../src/b.lua", "b")
			h.write("../src/sub/c.lua", "c")
			h.write("../src/a.lua", "v2")
		},
		want: []want{{"a.lua", Changed, "v2"}},
	}, {
		name:  "target removed, then back",
		setup: outside,
		change: func(h *harness) {
			h.remove("../src/a.lua")
			h.expect(want{"a.lua", Removed, ""})
			h.write("../src/a.lua", "v2")
		},
		want: []want{{"a.lua", Changed, "v2"}},
	}, {
		name:  "target's directory removed, then back",
		setup: outside,
		change: func(h *harness) {
			h.remove("../src")
			h.expect(want{"a.lua", Removed, ""})
			h.write("../src/a.lua", "v2")
			h.expect(want{"a.lua", Changed, "v2"})
			h.write("../src/a.lua", "v3")
		},
		want: []want{{"a.lua", Changed, "v3"}},
	}, {
		name:  "target's directory replaced by another (mv)",
		setup: outside,
		change: func(h *harness) {
			h.write("../src.new/a.lua", "v2")
			h.rename("../src", "../src.old")
			h.rename("../src.new", "../src")
			h.expect(want{"a.lua", Changed, "v2"})
			h.write("../src.old/a.lua", "old")
			h.write("../src/a.lua", "v3")
		},
		want: []want{{"a.lua", Changed, "v3"}},
	}, {
		name: "target missing when added, created later",
		setup: func(h *harness) {
			h.symlink("../src/a.lua", "a.lua")
		},
		change: func(h *harness) { h.write("../src/a.lua", "v1") },
		want:   []want{{"a.lua", Changed, "v1"}},
	}, {
		name:  "link retargeted (ln -sf: a new link renamed over it)",
		setup: outside,
		change: func(h *harness) {
			h.write("../other/b.lua", "b")
			h.symlink("../other/b.lua", "a.lua.ln-tmp")
			h.rename("a.lua.ln-tmp", "a.lua")
			h.expect(want{"a.lua", Changed, "b"})
			h.write("../src/a.lua", "no longer its target")
			h.write("../other/b.lua", "b2")
		},
		want: []want{{"a.lua", Changed, "b2"}},
	}, {
		name: "two links to one target",
		setup: func(h *harness) {
			outside(h)
			h.symlink("../src/a.lua", "b.lua")
		},
		change: func(h *harness) { h.write("../src/a.lua", "v2") },
		want:   []want{{"a.lua", Changed, "v2"}, {"b.lua", Changed, "v2"}},
	}, {
		name: "chain of links",
		setup: func(h *harness) {
			h.write("../other/a.lua", "v1")
			h.mkdir("../src")
			h.symlink("../other/a.lua", "../src/mid.lua")
			h.symlink("../src/mid.lua", "a.lua")
		},
		change: func(h *harness) {
			h.write("../other/a.lua", "v2")
			h.expect(want{"a.lua", Changed, "v2"})
			h.write("../other/c.lua", "c")
			h.symlink("c.lua", "../src/mid.lua.ln-tmp") // relative to src, where it leads nowhere
			h.rename("../src/mid.lua.ln-tmp", "../src/mid.lua")
			h.expect(want{"a.lua", Removed, ""})
			h.remove("../src/mid.lua")
			h.symlink("../other/c.lua", "../src/mid.lua")
		},
		want: []want{{"a.lua", Changed, "c"}},
	}, {
		name: "directory on the way is a symbolic link, retargeted (ln -sfn)",
		setup: func(h *harness) {
			h.write("../v1/a.lua", "v1")
			h.write("../v2/a.lua", "v2")
			h.symlink("v1", "../cur")
			h.symlink("../cur/a.lua", "a.lua")
		},
		change: func(h *harness) {
			h.write("../v1/a.lua", "v1b")
			h.expect(want{"a.lua", Changed, "v1b"})
			h.symlink("v2", "../cur.ln-tmp")
			h.rename("../cur.ln-tmp", "../cur")
		},
		want: []want{{"a.lua", Changed, "v2"}},
	}, {
		name: "target inside the tree",
		setup: func(h *harness) {
			h.write("b.lua", "v1")
			h.symlink("b.lua", "a.lua")
		},
		change: func(h *harness) { h.write("b.lua", "v2") },
		want:   []want{{"a.lua", Changed, "v2"}, {"b.lua", Changed, "v2"}},
	}, {
		name: "target inside the tree, through a path outside it",
		setup: func(h *harness) {
			h.write("mods/b.lua", "v1")
			h.symlink("../d/mods/b.lua", "a.lua")
		},
		change: func(h *harness) { h.write("mods/b.lua", "v2") },
		want:   []want{{"a.lua", Changed, "v2"}, {"mods/b.lua", Changed, "v2"}},
	}, {
		name: "links in a loop, then one made a file",
		setup: func(h *harness) {
			h.symlink("b.lua", "a.lua")
			h.symlink("a.lua", "b.lua")
		},
		change: func(h *harness) {
			h.quiet()
			h.remove("b.lua")
			h.write("b.lua", "b")
		},
		want: []want{{"a.lua", Changed, "b"}, {"b.lua", Changed, "b"}},
	}, {
		name: "link to a directory is not followed",
		setup: func(h *harness) {
			h.mkdir("../lib")
			h.symlink("../lib", "lib")
		},
		change: func(h *harness) { h.write("../lib/x.lua", "x") },
	}}
	for _, tc := range cases {
		for _, through := range []bool{false, true} {
			name := tc.name
			if through {
				name += ", tree added through a link"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				h := linkHarness(t, through)
				tc.setup(h)
				h.start()
				tc.change(h)
				h.expectSet(tc.want...)
				h.quiet()
				h.noErrors()
			})
		}
	}
}

// TestSymlinkWatches checks that the directories watched for the targets of
// symbolic links are watched only while a link leads there, and that giving
// them up leaves the tree's own watches.
func TestSymlinkWatches(t *testing.T) {
	t.Parallel()
	h := linkHarness(t, false)
	h.write("../src/a.lua", "a")
	h.symlink("../src/a.lua", "a.lua")
	h.symlink("../src/a.lua", "b.lua")
	h.write("x.lua", "x")
	h.symlink("x.lua", "c.lua")
	h.start()
	if !h.watched("../src") {
		t.Fatal("the targets' directory is not watched")
	}

	h.remove("a.lua")
	h.expect(want{"a.lua", Removed, ""})
	if !h.watched("../src") {
		t.Fatal("the targets' directory is no longer watched while b.lua leads there")
	}
	h.write("../src/a.lua", "a2")
	h.expect(want{"b.lua", Changed, "a2"})

	h.remove("b.lua")
	h.expect(want{"b.lua", Removed, ""})
	if h.watched("../src") {
		t.Fatal("the targets' directory is still watched with no link leading there")
	}

	h.write("../other/y.lua", "y")
	h.symlink("../other/y.lua", "d.lua")
	h.expect(want{"d.lua", Changed, "y"})
	h.remove("../other/y.lua")
	h.expect(want{"d.lua", Removed, ""})
	if !h.watched("../other") {
		t.Fatal("the directory of a dangling link's target is not watched")
	}
	h.remove("d.lua")
	h.quiet()
	if h.watched("../other") {
		t.Fatal("the directory of a removed dangling link's target is still watched")
	}

	h.remove("c.lua")
	h.expect(want{"c.lua", Removed, ""})
	h.write("x.lua", "x2")
	h.expect(want{"x.lua", Changed, "x2"})
	h.quiet()
	h.noErrors()
}

// TestSymlinkOverflow simulates lost notifications of a link's target: the
// rescan reports the target's change for the link, and watches the target's
// directory again.
func TestSymlinkOverflow(t *testing.T) {
	t.Parallel()
	h := linkHarness(t, false)
	h.write("../src/a.lua", "v1")
	h.symlink("../src/a.lua", "a.lua")
	h.start()
	if err := h.w.fsw.Remove(h.path("../src")); err != nil {
		t.Fatal(err)
	}
	h.write("../src/a.lua", "v2")
	h.w.fsw.Errors <- fsnotify.ErrEventOverflow
	if err := h.nextError(); !errors.Is(err, ErrOverflow) {
		t.Fatalf("error = %v, want ErrOverflow", err)
	}
	h.expect(want{"a.lua", Changed, "v2"})
	h.write("../src/a.lua", "v3")
	h.expect(want{"a.lua", Changed, "v3"})
	h.quiet()
	h.noErrors()
}

// TestSymlinkedFileAddedTwice checks that adding the tree again, which finds its
// links again, leaves one watch per target directory and one event per save.
func TestSymlinkedFileAddedTwice(t *testing.T) {
	t.Parallel()
	h := linkHarness(t, false)
	h.write("../src/a.lua", "v1")
	h.symlink("../src/a.lua", "a.lua")
	h.start()
	if err := h.w.Add(h.dir); err != nil {
		t.Fatal(err)
	}
	h.write("../src/a.lua", "v2")
	h.expect(want{"a.lua", Changed, "v2"})
	h.remove("a.lua")
	h.expect(want{"a.lua", Removed, ""})
	if h.watched("../src") {
		t.Fatal("the target's directory is still watched after its link went")
	}
	if err := os.WriteFile(h.path("../src/a.lua"), []byte("v3"), 0o644); err != nil {
		t.Fatal(err)
	}
	h.quiet()
	h.noErrors()
}

// TestAddTargetsDirectoryThroughLink checks a directory that holds what a
// symbolic link hangs on (here a link on the way, and the target in a
// subdirectory) and is then given to Add by another name, through a symbolic
// link: its own files are reported by that name, and the target's saves for the
// link, the link on the way (now a file of the tree too) and the target.
func TestAddTargetsDirectoryThroughLink(t *testing.T) {
	t.Parallel()
	h := linkHarness(t, false)
	h.write("../src/sub/a.lua", "v1")
	h.symlink("sub/a.lua", "../src/mid.lua")
	h.symlink("../src/mid.lua", "a.lua")
	h.symlink("src", "../lib")
	h.start()
	h.write("../src/sub/a.lua", "v2")
	h.expect(want{"a.lua", Changed, "v2"})
	if err := h.w.Add(h.path("../lib")); err != nil {
		t.Fatal(err)
	}
	h.quiet()
	h.write("../src/b.lua", "b")
	h.expect(want{"../lib/b.lua", Changed, "b"})
	h.write("../src/sub/c.lua", "c")
	h.expect(want{"../lib/sub/c.lua", Changed, "c"})
	h.write("../src/sub/a.lua", "v3")
	h.expectSet(want{"a.lua", Changed, "v3"}, want{"../lib/mid.lua", Changed, "v3"}, want{"../lib/sub/a.lua", Changed, "v3"})
	h.quiet()
	h.noErrors()
}
