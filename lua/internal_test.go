package lua

import (
	"math"
	"runtime"
	"testing"

	glua "github.com/yuin/gopher-lua"
)

// TestNumberBoxes checks that boxed numbers keep their values through block changes
// and garbage collections, and equal the numbers gopher-lua itself makes.
func TestNumberBoxes(t *testing.T) {
	var nb numberBoxes
	inputs := []float64{0, math.Copysign(0, -1), 1, 2, 255, 256, -1, 0.5, 1e300, math.Inf(-1), math.MaxInt64}
	var kept []glua.LValue
	var want []float64
	for i := range 1000 {
		f := inputs[i%len(inputs)] + float64(i/len(inputs))*0.25
		kept = append(kept, nb.box(f))
		want = append(want, f)
		if i%300 == 0 {
			runtime.GC()
		}
	}
	runtime.GC()
	for i, v := range kept {
		n, ok := v.(glua.LNumber)
		if !ok || math.Float64bits(float64(n)) != math.Float64bits(want[i]) {
			t.Fatalf("box %d holds %v (%T), want %v", i, v, v, want[i])
		}
		if v != glua.LValue(glua.LNumber(want[i])) && !math.IsNaN(want[i]) {
			t.Fatalf("box %d does not compare equal to a plain LNumber", i)
		}
	}
	if v := nb.box(math.NaN()); !math.IsNaN(float64(v.(glua.LNumber))) {
		t.Errorf("NaN boxed as %v", v)
	}
}

func TestFormatBound(t *testing.T) {
	tests := []struct {
		format string
		args   []glua.LValue
	}{
		{"%d", []glua.LValue{glua.LNumber(123456789)}},
		{"%999999d", []glua.LValue{glua.LNumber(1)}},
		{"%.50f", []glua.LValue{glua.LNumber(1e300)}},
		{"%s%s", []glua.LValue{glua.LString("abc"), glua.LString("defgh")}},
		{"%q", []glua.LValue{glua.LString("\x00\x01\xff\"\\\n")}},
		{"%x", []glua.LValue{glua.LString("\xff\xfe")}},
		{"%[1]s%[1]s%[1]s", []glua.LValue{glua.LString("xyz")}},
		{"%5.1s|%-20q|%%", []glua.LValue{glua.LString("long string"), glua.LString("q")}},
	}
	L := glua.NewState()
	defer L.Close()
	format := L.GetGlobal("string").(*glua.LTable).RawGetString("format").(*glua.LFunction)
	for _, tt := range tests {
		L.SetTop(0)
		L.Push(glua.LString(tt.format))
		for _, a := range tt.args {
			L.Push(a)
		}
		bound := formatBound(L, tt.format)
		L.SetTop(0)
		if err := L.CallByParam(glua.P{Fn: format, NRet: 1, Protect: true}, append([]glua.LValue{glua.LString(tt.format)}, tt.args...)...); err != nil {
			t.Fatal(err)
		}
		if got := uint64(len(L.ToString(-1))); got > bound {
			t.Errorf("format(%q) built %d bytes, bound %d", tt.format, got, bound)
		}
	}
}
