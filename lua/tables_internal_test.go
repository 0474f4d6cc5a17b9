package lua

import (
	"fmt"
	"math/rand/v2"
	"testing"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
)

// The package reads gopher-lua's tables and call frames by their layout (see
// tables.go, yieldCrossesGo); a gopher-lua whose layout differs would quietly
// turn off what depends on it.
func TestTableLayoutKnown(t *testing.T) {
	if arrayField == nil || orderField.keys == nil || !hashField.ok {
		t.Errorf("LTable layout not found: array %v, keys/k2i %v, dict/strdict %v", arrayField != nil, orderField.keys != nil, hashField.ok)
	}
	if !frameLayout.ok {
		t.Error("callFrame layout not found")
	}
}

// nextCounted returns what gopher-lua's Next returns, and arrayOnly what it
// would tell, from any key, over
// tables with array parts, hash parts, removed keys and keys of every type,
// and counts the slots it steps over.
func TestNextCountedMatchesNext(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	keyOf := func() glua.LValue {
		switch r.IntN(6) {
		case 0, 1:
			return glua.LNumber(r.IntN(40) + 1)
		case 2:
			return glua.LNumber(float64(r.IntN(20)) - 5.5)
		case 3:
			return glua.LBool(r.IntN(2) == 0)
		default:
			return glua.LString(string(rune('a' + r.IntN(26))))
		}
	}
	L := glua.NewState()
	defer L.Close()
	for round := range 2000 {
		tb := &glua.LTable{}
		if round%3 == 0 {
			tb = L.CreateTable(r.IntN(8), r.IntN(8))
		}
		for range r.IntN(60) {
			if r.IntN(3) == 0 {
				tb.RawSet(keyOf(), glua.LNil)
			} else {
				tb.RawSet(keyOf(), glua.LNumber(r.IntN(100)))
			}
		}
		starts := []glua.LValue{glua.LNil, glua.LNumber(0)}
		for range 10 {
			starts = append(starts, keyOf())
		}
		for k, _ := tb.Next(glua.LNil); k != glua.LNil; k, _ = tb.Next(k) {
			starts = append(starts, k)
		}
		if n := tb.MaxN(); n > 0 {
			k, _ := tb.Next(glua.LNumber(n))
			if got, want := arrayOnly(tb, n), k == glua.LNil; got != want {
				t.Fatalf("round %d: arrayOnly = %v, Next after %d: %v", round, got, n, k)
			}
		}
		for _, start := range starts {
			wk, wv := tb.Next(start)
			k, v, looked := nextCounted(tb, start)
			if k != wk || v != wv {
				t.Fatalf("round %d: nextCounted(%v) = %v, %v; Next: %v, %v", round, start, k, v, wk, wv)
			}
			if looked < 0 {
				t.Fatalf("round %d: looked %d", round, looked)
			}
		}
	}

	tb := &glua.LTable{}
	for i := range 1000 {
		tb.RawSetString(string(rune(0x4e00+i)), glua.LTrue)
	}
	for i := range 999 {
		tb.RawSetString(string(rune(0x4e00+i)), glua.LNil)
	}
	if k, _, looked := nextCounted(tb, glua.LNil); k != glua.LString(string(rune(0x4e00+999))) || looked != 1000 {
		t.Errorf("next over 999 removed keys = %v, looked at %d slots, want the last key, 1000", k, looked)
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
