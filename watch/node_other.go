//go:build !(linux || dragonfly || openbsd || solaris || darwin || freebsd || netbsd)

package watch

import "io/fs"

// nodeOf returns the zero node: this system's stat gives no inode and change time
// that the watcher reads, so stamps compare size and modification time only.
func nodeOf(fs.FileInfo) node { return node{} }
