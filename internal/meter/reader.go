package meter

import "math"

// reader walks a byte slice of a WebAssembly module. Every read is bounds
// checked; the first failure is latched in err and later reads return zero
// values, so callers check err once after a group of reads instead of after
// each one.
type reader struct {
	buf  []byte
	pos  int
	base int // offset of buf[0] in the whole module, for error messages
	err  error
}

func newReader(buf []byte, base int) *reader { return &reader{buf: buf, base: base} }

// offset is the position of the next byte in the whole module.
func (r *reader) offset() int { return r.base + r.pos }

func (r *reader) done() bool { return r.pos >= len(r.buf) }

// end fails with the message unless an earlier read failed or every byte has
// been read: a section or subsection must end where its last entry does, and
// the specification makes any bytes left over malformed.
func (r *reader) end(format string, args ...any) {
	if r.err == nil && !r.done() {
		r.fail(format, args...)
	}
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = errorf(ErrMalformed, format, args...)
	}
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.pos >= len(r.buf) {
		r.fail("unexpected end at byte %d", r.offset())
		return 0
	}
	b := r.buf[r.pos]
	r.pos++
	return b
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.buf)-r.pos {
		r.fail("unexpected end at byte %d: want %d bytes", r.offset(), n)
		return nil
	}
	b := r.buf[r.pos : r.pos+n]
	r.pos += n
	return b
}

// uleb reads an unsigned LEB128 number of at most bits bits (32 or 64).
func (r *reader) uleb(bits uint) uint64 {
	if r.err == nil && r.pos < len(r.buf) && r.buf[r.pos] < 0x80 {
		r.pos++ // the common one-byte case
		return uint64(r.buf[r.pos-1])
	}
	start := r.offset()
	var v uint64
	for shift := uint(0); ; shift += 7 {
		b := r.byte()
		if r.err != nil {
			return 0
		}
		if shift+7 >= bits {
			// Last possible byte: no continuation, no bits beyond the width.
			if b&0x80 != 0 || b>>(bits-shift) != 0 {
				r.fail("integer too large at byte %d", start)
				return 0
			}
			return v | uint64(b)<<shift
		}
		v |= uint64(b&0x7f) << shift
		if b&0x80 == 0 {
			return v
		}
	}
}

// sleb reads a signed LEB128 number of at most bits bits (32, 33 or 64).
func (r *reader) sleb(bits uint) int64 {
	if r.err == nil && r.pos < len(r.buf) && r.buf[r.pos] < 0x80 {
		r.pos++ // the common one-byte case
		return int64(int8(r.buf[r.pos-1]<<1) >> 1)
	}
	start := r.offset()
	var v int64
	for shift := uint(0); ; shift += 7 {
		b := r.byte()
		if r.err != nil {
			return 0
		}
		if shift+7 >= bits {
			// Last possible byte: no continuation, and the unused high bits
			// must repeat the sign bit.
			high := (b & 0x7f) >> (bits - shift - 1)
			if b&0x80 != 0 || (high != 0 && high != 0x7f>>(bits-shift-1)) {
				r.fail("integer too large at byte %d", start)
				return 0
			}
		}
		v |= int64(b&0x7f) << shift
		if b&0x80 == 0 {
			if shift+7 < 64 && b&0x40 != 0 {
				v |= -1 << (shift + 7)
			}
			return v
		}
	}
}

func (r *reader) u32() uint32 { return uint32(r.uleb(32)) }

// count reads a vector length and rejects lengths that cannot fit in the
// remaining bytes, assuming each element takes at least minSize bytes. This
// keeps a hostile length from driving a huge allocation.
func (r *reader) count(minSize int) int {
	n := r.u32()
	if r.err != nil {
		return 0
	}
	if minSize > 0 && uint64(n)*uint64(minSize) > uint64(len(r.buf)-r.pos) {
		r.fail("vector length %d exceeds the remaining %d bytes at byte %d", n, len(r.buf)-r.pos, r.offset())
		return 0
	}
	if n > math.MaxInt32 {
		r.fail("vector length %d too large", n)
		return 0
	}
	return int(n)
}

// name reads a length-prefixed UTF-8 string; validity of the encoding is left
// to the engine.
func (r *reader) name() string {
	n := r.count(1)
	return string(r.bytes(n))
}

// AppendULEB appends v in the binary format's unsigned LEB128 encoding. It is
// exported for internal/synth, which writes modules with the same encoding.
func AppendULEB(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			c |= 0x80
		}
		b = append(b, c)
		if v == 0 {
			return b
		}
	}
}

// AppendSLEB appends v in the binary format's signed LEB128 encoding.
func AppendSLEB(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// appendName appends a length-prefixed string.
func appendName(b []byte, s string) []byte {
	b = AppendULEB(b, uint64(len(s)))
	return append(b, s...)
}

// appendSection appends a section with its id and size.
func appendSection(b []byte, id byte, body []byte) []byte {
	b = append(b, id)
	b = AppendULEB(b, uint64(len(body)))
	return append(b, body...)
}
