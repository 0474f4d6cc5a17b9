package watch

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestIgnoredFilesNeverProduceEvents writes each ignored file, leaves it in place
// longer than the debounce, then writes a sentinel: the sentinel must be the only
// event.
func TestIgnoredFilesNeverProduceEvents(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		opts  Options
		files []string
	}{{
		name:  "vim",
		files: []string{".x.lua.swp", ".x.lua.swx", "x.lua.swp", "x.lua.swo", "4913", "x.lua~"},
	}, {
		name:  "emacs",
		files: []string{"#x.lua#", ".#x.lua", "x.lua~", "flycheck_x.lua", "x_flymake.c"},
	}, {
		name:  "JetBrains",
		files: []string{"x.lua___jb_tmp___", "x.lua___jb_old___"},
	}, {
		name:  "VS Code and other atomic writers",
		files: []string{"x.lua.vsctmp", "x.lua.tmp", "x-1f3a.tmp", ".x.lua.tmp-1700000000", "x.lua.crswap", "x.temp"},
	}, {
		name: "git mergetool and patch",
		files: []string{"x_BASE_4242.lua", "x_LOCAL_4242.lua", "x_REMOTE_4242.lua", "x_BACKUP_4242.lua",
			"Makefile_BASE_4242", "x.lua.BASE.4242", "x.lua.LOCAL.4242", "x.lua.REMOTE.4242", "x.lua.BACKUP.4242",
			"x.lua.orig", "x.lua.rej"},
	}, {
		name:  "dotfiles and backups",
		files: []string{".DS_Store", ".gitignore", "x.lua.bak", "x.lua.~1~", "x.lua.kate-swp", "~$x.docx", ".goutputstream-AB12CD", ".x.lua.Xy12Zq"},
	}, {
		name:  "inside ignored directories",
		files: []string{".git/HEAD", ".git/objects/ab/cdef", ".idea/workspace.xml", "mods/.cache/x.lua"},
	}, {
		name:  "extra patterns",
		opts:  Options{Ignore: []string{"*.log", "build"}},
		files: []string{"server.log", "build/x.lua", "mods/build/y.lua"},
	}, {
		name:  "filter",
		opts:  Options{Filter: MatchExt(".lua", ".wasm")},
		files: []string{"notes.txt", "x.wat", "mods/readme.md"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := tc.opts
			opts.Debounce = 20 * time.Millisecond
			h := newHarness(t, opts, nil)
			h.mkdir("mods")
			for _, name := range tc.files {
				h.write(name, "ignored")
			}
			// Whole at once: written in place, a reading between the truncation
			// and the write (past the debounce, on a loaded machine) reports it
			// empty first, as the package doc says.
			h.write("sentinel.tmp~", "s")
			h.rename("sentinel.tmp~", "sentinel.lua")
			h.expect(want{"sentinel.lua", Changed, "s"})
			for _, name := range tc.files {
				h.write(name, "ignored again")
			}
			h.quiet()
		})
	}
}

func TestIgnoreMatch(t *testing.T) {
	t.Parallel()
	ig, err := newIgnorer([]string{"*.log"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path    string
		ignored bool
	}{
		{"/g/enemy.lua", false},
		{"/g/enemy.wasm", false},
		{"/g/enemy.wat", false},
		{"/g/4913.lua", false},
		{"/g/tmp.lua", false},
		{"/g/.hidden/enemy.lua", false}, // directories are matched when walked, not here
		{"/g/4913", true},
		{"/g/enemy.lua~", true},
		{"/g/.enemy.lua.swp", true},
		{"/g/#enemy.lua#", true},
		{"/g/enemy.lua___jb_tmp___", true},
		{"/g/enemy.lua.vsctmp", true},
		{"/g/server.log", true},
		{"/g/enemy_BASE_4242.lua", true},
		{"/g/enemy_LOCAL_4242.lua", true},
		{"/g/enemy_REMOTE_4242.lua", true},
		{"/g/enemy_BACKUP_4242.lua", true},
		{"/g/enemy.lua.LOCAL.4242", true},
		{"/g/enemy.lua.orig", true},
		{"/g/enemy.lua.rej", true},
		{"/g/enemy.lua.swx", true},
		{"/g/enemy.lua.tmp", true},
		{"/g/.#enemy.lua", true},
		{"/g/.goutputstream-AB12CD", true},
		{"/g/enemy.lua___jb_old___", true},
		{"/g/enemy_base_4242.lua", false}, // git writes the kind in capitals
		{"/g/enemy_BASE.lua", false},      // and the process id after it
		{"/g/BASE_LOCAL.lua", false},
		{"/g/original.lua", false},
	}
	for _, tc := range cases {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			if got := ig.match(tc.path); got != tc.ignored {
				t.Errorf("match(%q) = %v, want %v", tc.path, got, tc.ignored)
			}
			// Ignored knows the defaults alone: not the extra *.log.
			base := filepath.Base(tc.path)
			if got, want := Ignored(base), tc.ignored && filepath.Ext(base) != ".log"; got != want {
				t.Errorf("Ignored(%q) = %v, want %v", base, got, want)
			}
		})
	}
}

func TestDefaultIgnoreIsACopy(t *testing.T) {
	t.Parallel()
	a := DefaultIgnore()
	a[0] = "changed"
	if b := DefaultIgnore(); b[0] == "changed" {
		t.Fatal("DefaultIgnore returned shared storage")
	}
}

func TestMatchExt(t *testing.T) {
	t.Parallel()
	exts := []string{".lua", ".wasm"}
	f := MatchExt(exts...)
	exts[0] = ".txt" // the filter keeps its own copy
	cases := []struct {
		path string
		want bool
	}{
		{"/g/a.lua", true}, {"/g/a.wasm", true}, {"/g/a.txt", false}, {"/g/a.LUA", false}, {"/g/lua", false},
	}
	for _, tc := range cases {
		if got := f(tc.path); got != tc.want {
			t.Errorf("MatchExt(.lua, .wasm)(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}

// TestFilterPanicIsReported checks that a panicking filter neither crashes the
// watcher nor stops other files from being reported.
func TestFilterPanicIsReported(t *testing.T) {
	t.Parallel()
	filter := func(path string) bool {
		if strings.HasSuffix(path, "boom.lua") {
			panic("boom")
		}
		return true
	}
	h := newHarness(t, Options{Debounce: 20 * time.Millisecond, Filter: filter}, nil)
	h.write("boom.lua", "b")
	if err := h.nextError(); !strings.Contains(err.Error(), "filter panicked") || !strings.Contains(err.Error(), "boom.lua") {
		t.Fatalf("error = %v, want a filter panic naming boom.lua", err)
	}
	h.write("ok.lua", "ok")
	h.expect(want{"ok.lua", Changed, "ok"})
}

func TestInvalidOptions(t *testing.T) {
	t.Parallel()
	cmd := []string{"wat2wasm", "{src}", "-o", "{out}"}
	cases := []struct {
		name string
		opts Options
	}{
		{"negative debounce", Options{Debounce: -1}},
		{"malformed pattern", Options{Ignore: []string{"[a-"}}},
		{"pattern with a separator", Options{Ignore: []string{"build/*.o"}}},
		{"extension without a dot", Options{Build: map[string]BuildStep{"wat": {Command: cmd}}}},
		{"extension with two dots", Options{Build: map[string]BuildStep{".tar.gz": {Command: cmd}}}},
		{"no command", Options{Build: map[string]BuildStep{".wat": {}}}},
		{"empty tool", Options{Build: map[string]BuildStep{".wat": {Command: []string{""}}}}},
		{"negative timeout", Options{Build: map[string]BuildStep{".wat": {Command: cmd, Timeout: -1}}}},
		{"output extension without a dot", Options{Build: map[string]BuildStep{".wat": {Command: cmd, OutExt: "wasm"}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, err := New(tc.opts)
			if !errors.Is(err, ErrInvalidOptions) {
				t.Errorf("New = %v, %v; want ErrInvalidOptions", w, err)
			}
		})
	}
}
