package lua

import (
	"fmt"
	"testing"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
)

// The package reads gopher-lua's call frames by their layout (see
// yieldCrossesGo); a gopher-lua whose layout differs would quietly turn off
// what depends on it.
func TestFrameLayoutKnown(t *testing.T) {
	if !frameLayout.ok {
		t.Error("callFrame layout not found")
	}
}

// TestSizeHint: a copy is sized for a table's live keys, not for every key
// its pairs order kept (an entities-by-id table of ten after 100,000 came and
// went); its array part counts whole, nil slots too.
func TestSizeHint(t *testing.T) {
	L := glua.NewState()
	defer L.Close()
	tb := L.NewTable()
	for i := range 100_000 {
		tb.RawSetString(fmt.Sprint("e", i), glua.LNumber(i))
		tb.RawSetH(glua.LNumber(float64(i)+0.5), glua.LTrue)
	}
	for i := 10; i < 100_000; i++ {
		tb.RawSetString(fmt.Sprint("e", i), glua.LNil)
		tb.RawSetH(glua.LNumber(float64(i)+0.5), glua.LNil)
	}
	for i := 1; i <= 5; i++ {
		tb.RawSetInt(i, glua.LNumber(i))
	}
	tb.RawSetInt(3, glua.LNil)
	if array, hash := sizeHint(tb); array != 5 || hash != 20 {
		t.Errorf("sizeHint = %d, %d; want 5 (nil slot included), 20 live hash keys", array, hash)
	}
}
