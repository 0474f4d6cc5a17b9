//go:build linux || dragonfly || openbsd || solaris

package watch

import (
	"io/fs"
	"syscall"
)

// nodeOf returns the device, inode and change time of the stat behind info.
func nodeOf(info fs.FileInfo) node {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return node{}
	}
	return node{dev: uint64(st.Dev), ino: uint64(st.Ino), changed: st.Ctim.Nano()}
}
