package clip

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	for _, tt := range []struct {
		s     string
		limit int
		want  string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven char", 10, "eleven …"},
		{strings.Repeat("é", 10), 10, "ééé…"}, // 7 bytes would split an é: cut at 6
	} {
		got := String(tt.s, tt.limit)
		if got != tt.want {
			t.Errorf("String(%q, %d) = %q, want %q", tt.s, tt.limit, got, tt.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("String(%q, %d) = %q: not UTF-8", tt.s, tt.limit, got)
		}
	}
}
