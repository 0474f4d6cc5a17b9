package wasm

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/hotscript/hotscript/internal/clip"
	"github.com/tetratelabs/wazero/api"
)

// JSONValue makes CallJSON pass V as a JSON document even where it would pass a
// number. Make one with JSON.
type JSONValue struct {
	V any // the value to marshal
}

// JSON wraps v so CallJSON marshals it and passes it as a JSON document to a
// function taking (ptr, len i32): CallJSON(ctx, id, "set_state", wasm.JSON(5))
// passes the document 5 rather than the number.
func JSON(v any) JSONValue { return JSONValue{V: v} }

// number is a Go numeric argument, normalized.
type number struct {
	kind byte // 'i' (int64), 'u' (uint64 above MaxInt64 or from an unsigned type) or 'f'
	i    int64
	u    uint64
	f    float64
	// text is a json.Number that is not a plain integer, kind 'f': f is its
	// float64 rounding, and text what integer and f32 parameters convert
	// exactly.
	text string
}

func (n number) String() string {
	if n.text != "" {
		return n.text
	}
	switch n.kind {
	case 'i':
		return strconv.FormatInt(n.i, 10)
	case 'u':
		return strconv.FormatUint(n.u, 10)
	}
	return strconv.FormatFloat(n.f, 'g', -1, 64)
}

// numberOf reports whether v is a number to CallJSON, and its value. A
// json.Number counts as a number even when it does not parse (err says so).
func numberOf(v any) (n number, ok bool, err error) {
	switch x := v.(type) {
	case int:
		return number{kind: 'i', i: int64(x)}, true, nil
	case int64:
		return number{kind: 'i', i: x}, true, nil
	case int32:
		return number{kind: 'i', i: int64(x)}, true, nil
	case uint32:
		return number{kind: 'u', u: uint64(x)}, true, nil
	case uint64:
		return number{kind: 'u', u: x}, true, nil
	case float64:
		return number{kind: 'f', f: x}, true, nil
	case float32:
		return number{kind: 'f', f: float64(x)}, true, nil
	case json.Number:
		n, err := parseNumber(string(x))
		return n, true, err
	case nil, string, bool, json.RawMessage, JSONValue:
		return n, false, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return number{kind: 'i', i: rv.Int()}, true, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return number{kind: 'u', u: rv.Uint()}, true, nil
	case reflect.Float32, reflect.Float64:
		return number{kind: 'f', f: rv.Float()}, true, nil
	}
	return n, false, nil
}

func isNumber(v any) bool {
	_, ok, _ := numberOf(v)
	return ok
}

func parseNumber(s string) (number, error) {
	if !validNumber([]byte(s)) {
		return number{}, fmt.Errorf("json.Number %q is not a JSON number", s)
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil && (i != 0 || s[0] != '-') { // -0 is a float
		return number{kind: 'i', i: i}, nil
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return number{kind: 'u', u: u}, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return number{}, fmt.Errorf("json.Number %q: %w", s, err)
	}
	return number{kind: 'f', f: f, text: s}, nil
}

// integer converts an integral float to an integer number; other numbers pass.
func (n number) integer() (number, error) {
	switch {
	case n.kind != 'f':
		return n, nil
	case n.text != "":
		return decimalInteger(n.text)
	}
	switch f := n.f; {
	case f != math.Trunc(f): // also NaN and ±Inf
		return n, fmt.Errorf("%v is not an integer", n)
	case f >= -(1<<63) && f < 1<<63:
		return number{kind: 'i', i: int64(f)}, nil
	case f >= 0 && f < 1<<64:
		return number{kind: 'u', u: uint64(f)}, nil
	}
	return n, fmt.Errorf("%v is out of range for an integer", n)
}

// decimalInteger converts the text of a JSON number to an integer exactly,
// where its float64 would have rounded it ("0.99999999999999999999" is 1), or
// says why it is not one in [-2^63, 2^64-1]. It never builds more than 20
// digits, whatever the exponent.
func decimalInteger(s string) (number, error) {
	mant, exp, _ := strings.Cut(strings.ToLower(s), "e")
	whole, frac, _ := strings.Cut(strings.TrimPrefix(mant, "-"), ".")
	digits := strings.TrimLeft(whole+frac, "0")
	if digits == "" {
		return number{kind: 'i'}, nil // zero, -0 included
	}
	sig := strings.TrimRight(digits, "0")
	e := 0
	if exp != "" {
		e, _ = strconv.Atoi(exp) // saturates out of range, which stays out of range below
		e = max(min(e, 1<<30), -1<<30)
	}
	shift := e + len(digits) - len(sig) - len(frac) // the value is ±sig * 10^shift
	switch {
	case shift < 0: // sig does not end in 0
		return number{}, fmt.Errorf("%s is not an integer", s)
	case len(sig)+shift <= 20:
		text := sig + strings.Repeat("0", shift)
		if mant[0] == '-' {
			text = "-" + text
		}
		if i, err := strconv.ParseInt(text, 10, 64); err == nil {
			return number{kind: 'i', i: i}, nil
		}
		if u, err := strconv.ParseUint(text, 10, 64); err == nil {
			return number{kind: 'u', u: u}, nil
		}
	}
	return number{}, fmt.Errorf("%s is out of range for an integer", s)
}

// encode converts a number to the stack encoding of a parameter of type t, refusing
// any loss other than rounding a float to f32.
func encode(t ValueType, n number) (uint64, error) {
	switch t {
	case I32, I64:
		n, err := n.integer()
		if err != nil {
			return 0, err
		}
		if t == I64 {
			if n.kind == 'i' {
				return uint64(n.i), nil
			}
			return n.u, nil
		}
		switch {
		case n.kind == 'i' && n.i >= math.MinInt32 && n.i <= math.MaxUint32:
			return uint64(uint32(n.i)), nil
		case n.kind == 'u' && n.u <= math.MaxUint32:
			return n.u, nil
		}
		return 0, fmt.Errorf("%v is out of range for i32", n)
	case F32, F64:
		f := n.f
		switch n.kind {
		case 'i':
			if f = float64(n.i); f >= 1<<63 || int64(f) != n.i {
				return 0, fmt.Errorf("%v has no exact %v form", n, t)
			}
		case 'u':
			if f = float64(n.u); f >= 1<<64 || uint64(f) != n.u {
				return 0, fmt.Errorf("%v has no exact %v form", n, t)
			}
		}
		if t == F64 {
			return api.EncodeF64(f), nil
		}
		if n.text != "" { // rounded once, not through a float64
			f32, err := strconv.ParseFloat(n.text, 32)
			if err != nil {
				return 0, fmt.Errorf("%v is out of range for f32", n)
			}
			return api.EncodeF32(float32(f32)), nil
		}
		if n.kind != 'f' && float64(float32(f)) != f {
			return 0, fmt.Errorf("%v has no exact f32 form", n)
		}
		if math.IsInf(float64(float32(f)), 0) && !math.IsInf(f, 0) { // rounds past the largest f32
			return 0, fmt.Errorf("%v is out of range for f32", n)
		}
		return api.EncodeF32(float32(f)), nil
	}
	return 0, fmt.Errorf("CallJSON cannot pass a %v", t)
}

// encodeArgs writes numeric arguments into stack and reports whether all of
// them fit their parameters; argsError says why not.
func encodeArgs(params []ValueType, args []any, stack []uint64) bool {
	if len(args) != len(params) {
		return false
	}
	for i, a := range args {
		switch x := a.(type) { // the common cases, without normalizing
		case int:
			if params[i] == I32 && x >= math.MinInt32 && int64(x) <= math.MaxUint32 {
				stack[i] = uint64(uint32(x))
				continue
			} else if params[i] == I64 {
				stack[i] = uint64(x)
				continue
			}
		case float64:
			if params[i] == F64 {
				stack[i] = api.EncodeF64(x)
				continue
			}
		}
		v, err := encodeArg(params[i], a)
		if err != nil {
			return false
		}
		stack[i] = v
	}
	return true
}

// encodeArg converts any numeric argument for a parameter of type t.
func encodeArg(t ValueType, a any) (uint64, error) {
	n, ok, err := numberOf(a)
	switch {
	case err != nil:
		return 0, err
	case !ok:
		if _, doc := a.(JSONValue); doc {
			return 0, errors.New("a JSON document needs a function taking (i32, i32) and no other argument")
		}
		if raw, ok := a.(json.RawMessage); ok { // a document, not a Go type's name
			return 0, fmt.Errorf("JSON %s is not a number", clip.String(strings.TrimSpace(string(raw)), 64))
		}
		return 0, fmt.Errorf("%T is not a number", a)
	}
	return encode(t, n)
}

// argsError explains why encodeArgs refused args.
func argsError(sig *funcSig, args []any) error {
	params := sig.info.Params
	if len(args) != len(params) {
		if sig.jsonIn && len(args) == 1 {
			return fmt.Errorf("%s takes 2 numbers or a JSON document, got 1 number", sig.info.call())
		}
		return fmt.Errorf("%s takes %s, got %d", sig.info.call(), count(len(params), "argument"), len(args))
	}
	for i, a := range args {
		if _, err := encodeArg(params[i], a); err != nil {
			return fmt.Errorf("%s argument %d: %w", sig.info.call(), i+1, err)
		}
	}
	return errors.New("arguments refused") // unreachable: encodeArgs and encodeArg agree
}

// count says "1 argument" or "2 arguments".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// Which document validDoc remembers: the last argument, or the last result.
const (
	docArg = iota
	docResult
)

// resultBlock is the size of the blocks that CallJSON carves small results
// from, and resultSmall the largest result carved.
const (
	resultBlock = 2048
	resultSmall = 256
)

// appendValue appends one result as a JSON number.
func appendValue(b []byte, t ValueType, v uint64) ([]byte, error) {
	switch t {
	case I32:
		return strconv.AppendInt(b, int64(api.DecodeI32(v)), 10), nil
	case I64:
		return strconv.AppendInt(b, int64(v), 10), nil
	case F32:
		return appendFloat(b, float64(api.DecodeF32(v)), 32)
	case F64:
		return appendFloat(b, api.DecodeF64(v), 64)
	}
	return nil, fmt.Errorf("a %v has no JSON form", t)
}

// appendFloat formats a float as encoding/json does.
func appendFloat(b []byte, f float64, bits int) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("%v has no JSON form", f)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

// excerpt quotes at most 40 bytes of b for an error message.
func excerpt(b []byte) string {
	if len(b) > 40 {
		return strconv.Quote(string(b[:40])) + "..."
	}
	return strconv.Quote(string(b))
}
