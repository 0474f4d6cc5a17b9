package watch

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// defaultIgnore is the source of DefaultIgnore; it is copied out so that no caller
// can change the defaults of another.
var defaultIgnore = []string{
	".*",              // dotfiles and dot-directories: .DS_Store, .git, vim's .x.swp, emacs's .#x lock, gedit's .goutputstream-*, rsync's and renameio's temps
	"*~",              // vim, emacs and nano backups (x~, x.~1~)
	"#*#",             // emacs auto-save
	"*.swp",           // vim swap files kept outside the dot name (the 'directory' option)
	"*.swo",           //
	"*.swn",           //
	"*.swx",           // vim's probe for a swap file
	"4913",            // vim's probe for whether it may write the directory
	"*___jb_tmp___",   // JetBrains safe write: new content
	"*___jb_old___",   // JetBrains safe write: previous content
	"*.vsctmp",        // VS Code atomic write
	"*.tmp",           // generic write-then-rename temp names (x.tmp, x-1f3a.tmp)
	"*.temp",          //
	"*.bak",           // backups
	"*.orig",          // patch's backups, and git mergetool's (mergetool.keepBackup)
	"*.rej",           // patch's rejected hunks
	"*_BASE_[0-9]*",   // git mergetool: x_BASE_<pid>.lua and the like, next to the conflicted x.lua
	"*_LOCAL_[0-9]*",  //
	"*_REMOTE_[0-9]*", //
	"*_BACKUP_[0-9]*", //
	"*.BASE.[0-9]*",   // older Gits' mergetool: x.lua.BASE.<pid>
	"*.LOCAL.[0-9]*",  //
	"*.REMOTE.[0-9]*", //
	"*.BACKUP.[0-9]*", //
	"*.kate-swp",      // Kate swap
	"*.crswap",        // Chromium File System Access API write
	"~$*",             // Microsoft Office lock files
	"flycheck_*",      // emacs flycheck's in-place copy of the buffer it checks (flycheck_x.lua)
	"*_flymake.*",     // emacs flymake's (legacy) in-place copy (x_flymake.c)
}

// DefaultIgnore returns the patterns every Watcher ignores. They cover the swap,
// backup, lock and temporary files that editors and tools write next to the file
// being saved, some of them with the file's own extension:
//
//	.*              dotfiles and dot-directories (.DS_Store, .git, vim's .x.swp,
//	                emacs's .#x lock, gedit's .goutputstream-XXXXXX, rsync's .x.XXXXXX)
//	*~              vim, emacs and nano backups (x~, emacs's numbered x.~1~)
//	#*#             emacs auto-save (#x#)
//	*.swp *.swo *.swn *.swx 4913
//	                vim swap files and probes
//	*___jb_tmp___ *___jb_old___
//	                JetBrains safe write
//	*.vsctmp        VS Code atomic write
//	*.orig *.rej    patch's backups and rejected hunks, git mergetool's backup
//	*_BASE_[0-9]* *_LOCAL_[0-9]* *_REMOTE_[0-9]* *_BACKUP_[0-9]*
//	                git mergetool's versions of a conflicted x.lua, written next
//	                to it while the merge tool runs (x_BASE_4242.lua); and the
//	                names older Gits gave them (x.lua.BASE.4242)
//	flycheck_* *_flymake.*
//	                emacs checkers' copies of the buffer they check, written
//	                next to the file while the checker runs
//	*.tmp *.temp *.bak *.kate-swp *.crswap ~$*
//	                other temporary, backup and lock names
//
// Patterns use path/filepath.Match syntax and are matched against a file's or a
// directory's base name, case-sensitively; an ignored directory is not watched at
// all. Options.Ignore adds to this list; nothing takes a default away, so a script
// must not be named like these (a file named game_BASE_2.lua is never reported).
//
// Temporary files with names no pattern knows (write-file-atomic's x.123456789,
// sed -i's sedXXXXXX, for instance) need no pattern when they live shorter than
// the debounce interval: a file that appears and disappears within it produces no
// event.
func DefaultIgnore() []string { return slices.Clone(defaultIgnore) }

// Ignored reports whether a file or directory named name (a base name) is one
// every Watcher ignores (DefaultIgnore): a program listing the files it loads
// before it watches them leaves out the same ones. Safe for concurrent use.
func Ignored(name string) bool { return ignorer(defaultIgnore).match(name) }

// MatchExt returns a filter for Options.Filter that accepts files whose extension
// is one of exts (".lua", ".wasm"), compared exactly. The filter keeps its own copy
// of exts and is safe for concurrent use.
func MatchExt(exts ...string) func(path string) bool {
	exts = slices.Clone(exts)
	return func(path string) bool { return slices.Contains(exts, filepath.Ext(path)) }
}

// ignorer matches base names against the default and the extra patterns.
type ignorer []string

func newIgnorer(extra []string) (ignorer, error) {
	pats := append(DefaultIgnore(), extra...)
	for _, p := range extra {
		if strings.ContainsRune(p, filepath.Separator) || strings.ContainsRune(p, '/') {
			return nil, fmt.Errorf("%w: ignore pattern %q: patterns match base names and cannot contain a separator", ErrInvalidOptions, p)
		}
		if _, err := filepath.Match(p, ""); err != nil {
			return nil, fmt.Errorf("%w: ignore pattern %q: %w", ErrInvalidOptions, p, err)
		}
	}
	return pats, nil
}

// match reports whether the base name of path is ignored.
func (ig ignorer) match(path string) bool {
	base := filepath.Base(path)
	for _, p := range ig {
		if ok, _ := filepath.Match(p, base); ok {
			return true
		}
	}
	return false
}
