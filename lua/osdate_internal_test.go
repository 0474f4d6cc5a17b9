package lua

import (
	"strconv"
	"testing"
	"time"
	_ "time/tzdata" // the zones below on a machine without them
)

// mktime gives what glibc's mktime gives (want is lua5.1's os.time under the
// zone): in a gap the clocks skip, the offset before it, or after it for
// isdst = true, where time.Date picks its own (helper-261); isdst against
// the zone's, the offset of the nearest time with that isdst (helper-262);
// and any isdst in a zone without daylight saving time, an hour for true.
func TestMktimeFollowsGlibc(t *testing.T) {
	no, yes := false, true
	for _, tt := range []struct {
		zone                             string
		year, month, day, hour, min, sec int
		dst                              *bool
		want                             int64
	}{
		{"America/New_York", 2024, 3, 10, 2, 30, 0, nil, 1710055800},
		{"America/New_York", 2024, 3, 10, 2, 30, 0, &no, 1710055800},
		{"America/New_York", 2024, 3, 10, 2, 30, 0, &yes, 1710052200},
		{"America/New_York", 2024, 3, 3, 12, 0, 0, &yes, 1709481600},
		{"America/New_York", 2024, 7, 3, 12, 0, 0, &yes, 1720022400},
		{"America/New_York", 2024, 7, 3, 12, 0, 0, &no, 1720026000},
		{"America/New_York", 2024, 3, 10, 1, 59, 59, nil, 1710053999},
		{"America/New_York", 2024, 3, 10, 26, 30, 0, nil, 1710138600},
		{"Europe/Berlin", 2024, 3, 31, 2, 30, 0, nil, 1711848600},
		{"Europe/Berlin", 2024, 3, 31, 2, 30, 0, &no, 1711848600},
		{"Europe/Berlin", 2024, 3, 31, 2, 30, 0, &yes, 1711845000},
		// isdst against the zone where the other offset is not half a year
		// away or not an hour off (helper-262)
		{"Europe/Dublin", 2024, 3, 31, 12, 0, 0, &yes, 1711886400},
		{"Europe/Dublin", 2024, 4, 15, 12, 0, 0, &yes, 1713182400},
		{"Africa/Casablanca", 2024, 7, 15, 12, 0, 0, &yes, 1721044800},
		{"Antarctica/Troll", 2024, 4, 15, 12, 0, 0, &no, 1713182400},
		{"Australia/Lord_Howe", 2024, 4, 7, 0, 0, 0, &no, 1712410200},
		{"Australia/Lord_Howe", 2024, 10, 6, 1, 30, 0, &yes, 1728138600},
		{"Pacific/Apia", 2011, 12, 29, 22, 0, 0, &no, 1325235600},
		{"UTC", 2024, 3, 3, 12, 0, 0, &yes, 1709463600},
		{"UTC", 2024, 7, 3, 12, 0, 0, &no, 1720008000},
	} {
		loc, err := time.LoadLocation(tt.zone)
		if err != nil {
			t.Fatal(err)
		}
		if got := mktime(loc, tt.year, tt.month, tt.day, tt.hour, tt.min, tt.sec, tt.dst).Unix(); got != tt.want {
			isdst := "nil"
			if tt.dst != nil {
				isdst = strconv.FormatBool(*tt.dst)
			}
			t.Errorf("%s %d-%02d-%02d %02d:%02d:%02d isdst %s: %d, want %d", tt.zone, tt.year, tt.month, tt.day, tt.hour, tt.min, tt.sec, isdst, got, tt.want)
		}
	}
}
