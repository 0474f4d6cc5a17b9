// Package clip cuts the text a script controls (its function names, the
// messages of its errors) before it goes into an error: a name or key of
// megabytes, written in each frame of a trace, would make every failing call
// cost seconds and the host's memory.
package clip

import "unicode/utf8"

// String returns s cut to at most limit bytes (limit is 3 or more), at a
// character's start, ending with "…" to show the cut; s itself if it is no
// longer than limit.
func String(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	n := max(limit-len("…"), 0)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
