package lua

import (
	"math/rand/v2"
	"testing"

	glua "github.com/yuin/gopher-lua"
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
