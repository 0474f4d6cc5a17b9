package watch

import "testing"

func TestEventString(t *testing.T) {
	t.Parallel()
	cases := []struct {
		ev   Event
		want string
	}{
		{Event{Path: "/g/a.lua", Op: Changed, Data: []byte("abc")}, "Changed /g/a.lua (3 bytes)"},
		{Event{Path: "/g/a.lua", Op: Removed}, "Removed /g/a.lua"},
		{Event{Path: "/g/a.wat", Op: Changed, Err: ErrBuild}, "Changed /g/a.wat: watch: build failed"},
		{Event{Path: "/g/a.lua", Op: 9}, "Op(9) /g/a.lua"},
	}
	for _, tc := range cases {
		if got := tc.ev.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}
