package lua

import (
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
)

// TestToGoCountsWhatItKeeps: the Go memory toGo counts against its bound is
// about what the converted values keep, never much less (the race detector
// makes a boxed number take 16 bytes, not 8), and what the conversion
// allocates in all is within a small multiple of it, whatever the arguments
// hold: else the bound would not bound memory.
func TestToGoCountsWhatItKeeps(t *testing.T) {
	L := glua.NewState(glua.Options{SkipOpenLibs: true})
	defer L.Close()
	if err := L.DoString(`
numbers = {} for i = 1, 1000 do numbers[i] = i + 0.5 end
strings = {} for i = 1, 1000 do strings[i] = "s" .. i end
small = { x = 1.5, y = 2, name = "orc" }
objects = {} for i = 1, 200 do objects[i] = { x = i + 0.5, y = -i - 0.5, name = "orc", tags = { "a", "b" } } end
wide = {} for i = 1, 1000 do wide["k" .. i] = i + 0.5 end
keyed = {} for i = 1, 1000 do keyed[i * 2] = true end
nested = {} for i = 1, 100 do nested[i] = { numbers, { numbers } } end`); err != nil {
		t.Fatal(err)
	}
	const runs, slack = 20, 2 << 10 // slack: the walker's own slices
	for _, name := range []string{"numbers", "strings", "small", "objects", "wide", "keyed", "nested"} {
		v := L.GetGlobal(name)
		kept := make([]any, runs)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		var w walker
		for i := range kept {
			w = walker{}
			kept[i], _ = w.toGo(v)
		}
		runtime.ReadMemStats(&after)
		allocated := (after.TotalAlloc - before.TotalAlloc) / runs
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(kept)
		held := (after.HeapAlloc - before.HeapAlloc) / runs
		counted := uint64(w.size)
		if held > counted+counted/2+slack/runs || allocated > 3*counted+slack {
			t.Errorf("%s: toGo's values hold %d bytes, it allocates %d, counts %d", name, held, allocated, counted)
		}
	}
}

// A Go nil in place of a Lua value, which only a gopher-lua bug leaves (an
// upvalue left open by xpcall read a freed slot), converts as nil: it made the
// conversion panic, past the API, with the script's lock held.
func TestConvertGoNil(t *testing.T) {
	var w walker
	if out, err := w.appendJSON(nil, nil); err != nil || string(out) != "null" {
		t.Errorf("appendJSON(nil) = %s, %v; want null", out, err)
	}
	if v, err := w.toGo(nil); err != nil || v != nil {
		t.Errorf("toGo(nil) = %v, %v; want nil", v, err)
	}
}

// TestScalarFitsTheBlock: every number and boolean fits in the room scalar
// leaves for it, maxScalar bytes, and comes out as the general writer writes
// it. A number longer than maxScalar, met with the block that full, panicked
// in CallJSON with the script locked for good.
func TestScalarFitsTheBlock(t *testing.T) {
	values := []glua.LValue{glua.LTrue, glua.LFalse}
	for _, f := range []float64{
		-1.2345678901234567e-6, -1.0000000000000002e-6, -9.999999999999999e-6, -1.2345678901234567e-7,
		-1.2345678901234567e-308, -math.MaxFloat64, -math.SmallestNonzeroFloat64,
		-999999999999999900000, -1e21, -(1 << 53), -0.1234567890123456, math.Copysign(0, -1),
	} {
		values = append(values, glua.LNumber(f))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		values = append(values, glua.LNumber(math.Float64frombits(r.Uint64())))
	}
	for _, v := range values {
		var want []byte
		wantOK := true
		if n, ok := v.(glua.LNumber); ok {
			want, wantOK = appendNumber(nil, float64(n))
		} else {
			want = strconv.AppendBool(nil, bool(v.(glua.LBool)))
		}
		rb := resultBytes{block: make([]byte, maxScalar)}
		out, ok := rb.scalar(v)
		if ok != wantOK || string(out) != string(want) {
			t.Errorf("scalar(%v) = %s, %v; want %s, %v", v, out, ok, want, wantOK)
		}
	}
}
