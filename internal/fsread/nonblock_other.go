//go:build !unix

package fsread

// nonblock is no flag where there are no named pipes to wait on (Windows,
// js, wasip1).
const nonblock = 0
