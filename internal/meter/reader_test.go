package meter

import (
	"math"
	"testing"
)

func TestLEB(t *testing.T) {
	tests := []struct {
		name   string
		in     []byte
		signed bool
		bits   uint
		want   int64 // as uint64 bits for unsigned
		ok     bool
	}{
		{"u32 zero", []byte{0x00}, false, 32, 0, true},
		{"u32 one byte", []byte{0x7f}, false, 32, 127, true},
		{"u32 two bytes", []byte{0x80, 0x01}, false, 32, 128, true},
		{"u32 padded", []byte{0x85, 0x80, 0x80, 0x80, 0x00}, false, 32, 5, true},
		{"u32 max", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, false, 32, math.MaxUint32, true},
		{"u32 over 32 bits", []byte{0xff, 0xff, 0xff, 0xff, 0x1f}, false, 32, 0, false},
		{"u32 too long", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, false, 32, 0, false},
		{"u32 truncated", []byte{0x80}, false, 32, 0, false},
		{"s32 minus one", []byte{0x7f}, true, 32, -1, true},
		{"s32 minus 64", []byte{0x40}, true, 32, -64, true},
		{"s32 plus 64", []byte{0xc0, 0x00}, true, 32, 64, true},
		{"s32 min", []byte{0x80, 0x80, 0x80, 0x80, 0x78}, true, 32, math.MinInt32, true},
		{"s32 max", []byte{0xff, 0xff, 0xff, 0xff, 0x07}, true, 32, math.MaxInt32, true},
		{"s32 bad sign bits", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, true, 32, 0, false},
		{"s33 type index", []byte{0x80, 0x80, 0x80, 0x80, 0x0f}, true, 33, 1 << 32 * 15 / 16, true},
		{"s64 min", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f}, true, 64, math.MinInt64, true},
		{"s64 max", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00}, true, 64, math.MaxInt64, true},
		{"s64 bad last byte", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, true, 64, 0, false},
		{"u64 max", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, false, 64, -1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReader(tt.in, 0)
			var got int64
			if tt.signed {
				got = r.sleb(tt.bits)
			} else {
				got = int64(r.uleb(tt.bits))
			}
			if (r.err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok = %v", r.err, tt.ok)
			}
			if tt.ok && (got != tt.want || !r.done()) {
				t.Errorf("got %d (at %d of %d bytes), want %d", got, r.pos, len(tt.in), tt.want)
			}
		})
	}
}

// TestLEBRoundTrip encodes values with the package's writers and reads them
// back.
func TestLEBRoundTrip(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 63, 64, -64, -65, 127, 128, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64} {
		r := newReader(AppendSLEB(nil, v), 0)
		if got := r.sleb(64); got != v || r.err != nil || !r.done() {
			t.Errorf("sleb %d: got %d, %v", v, got, r.err)
		}
		u := uint64(v)
		r = newReader(AppendULEB(nil, u), 0)
		if got := r.uleb(64); got != u || r.err != nil || !r.done() {
			t.Errorf("uleb %d: got %d, %v", u, got, r.err)
		}
	}
}
