package lua

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
	"github.com/hotscript/hotscript/internal/safejson"
)

// toLua converts a Go value to Lua: nil, bools, numbers, strings, json.RawMessage,
// json.Number, []any and map[string]any directly, anything else (structs, typed
// maps and slices) through encoding/json. A json.Number must be a JSON number
// (the empty one is 0), as encoding/json requires of one it writes, and a
// json.RawMessage one JSON value (a nil one is null, as encoding/json writes
// it). A float32 becomes the number encoding/json writes for it (see
// float32Number), wherever it is. A map's keys are set in sorted order, which is
// the order pairs then walks them in: ranging over a Go map would make it differ
// from run to run, and with it what a script computes from the same arguments
// and the instructions that counts. An integer
// beyond ±2^53 (a Go integer, or a JSON number written without a fraction or an
// exponent) that a Lua number would hold rounded is an error naming its path.
func toLua(L *glua.LState, v any) (glua.LValue, error) { return toLuaDepth(L, v, 0) }

// toLuaDepth is toLua of a value depth tables deep.
func toLuaDepth(L *glua.LState, v any, depth int) (glua.LValue, error) {
	switch v := v.(type) {
	case nil:
		return glua.LNil, nil
	case bool:
		return glua.LBool(v), nil
	case float64:
		return glua.LNumber(v), nil
	case int:
		return intNumber(int64(v))
	case int64:
		return intNumber(v)
	case int32:
		return glua.LNumber(v), nil
	case uint32:
		return glua.LNumber(v), nil
	case uint64:
		if v > 1<<53 {
			return exactInteger(strconv.FormatUint(v, 10))
		}
		return glua.LNumber(v), nil
	case float32:
		return glua.LNumber(float32Number(v)), nil
	case string:
		return glua.LString(v), nil
	case json.Number:
		if v == "" {
			v = "0" // as encoding/json writes it
		}
		if !isJSONNumber(string(v)) {
			return glua.LNil, &convError{msg: fmt.Sprintf("json.Number %q is not a JSON number", string(v))}
		}
		return jsonNumber(v)
	case []any:
		if depth >= maxDepth {
			return glua.LNil, &convError{msg: fmt.Sprintf(tooDeep, maxDepth)}
		}
		t := L.CreateTable(len(v), 0)
		for i, e := range v {
			lv, err := toLuaDepth(L, e, depth+1)
			if err != nil {
				return glua.LNil, inside(err, i+1, "")
			}
			t.RawSetInt(i+1, lv)
		}
		return t, nil
	case map[string]any:
		if depth >= maxDepth {
			return glua.LNil, &convError{msg: fmt.Sprintf(tooDeep, maxDepth)}
		}
		t := L.CreateTable(0, len(v))
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			lv, err := toLuaDepth(L, v[k], depth+1)
			if err != nil {
				return glua.LNil, inside(err, 0, k)
			}
			t.RawSetString(k, lv)
		}
		return t, nil
	case json.RawMessage:
		if v == nil {
			return glua.LNil, nil // null, as encoding/json writes it
		}
		x, err := decodeJSON(v)
		if err != nil {
			return glua.LNil, &convError{msg: err.Error()}
		}
		return toLuaDepth(L, x, depth)
	}
	data, err := safejson.Marshal(v) // structs, typed maps and slices, smaller integers
	if err != nil {
		return glua.LNil, &convError{msg: err.Error()}
	}
	return toLuaDepth(L, json.RawMessage(data), depth)
}

// float32Number converts f as encoding/json does, which writes the shortest
// decimal that reads back as f in 32 bits, and reads that as a float64: 0.1,
// where float64(f) is 0.10000000149011612. A float32 in a []float32 or a struct
// goes through encoding/json, and would otherwise reach a script as another
// number than the same float32 in a []any. NaN and the infinities, which
// encoding/json refuses, are kept as a float64 argument's are.
func float32Number(f float32) float64 {
	x := float64(f)
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	var b [32]byte
	x, _ = strconv.ParseFloat(string(strconv.AppendFloat(b[:0], x, 'g', -1, 32)), 64)
	return x
}

// decodeJSON decodes data as json.Unmarshal into an any would, with numbers
// kept as json.Number, so that jsonNumber can tell an integer a float64 would
// round.
func decodeJSON(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var x any
	if err := d.Decode(&x); err == io.EOF {
		return nil, errors.New("invalid JSON: no value (only a nil json.RawMessage is null)")
	} else if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: more after the top-level value")
	}
	return x, nil
}

// isJSONNumber reports whether s is a number as JSON writes one, the test
// encoding/json makes of a json.Number it writes: strconv.ParseFloat reads more
// ("1_000", "0x1p60", "+5", "Inf"). A JSON text that begins with '-' or a digit
// and ends with a digit can only be a number, with no space around it.
func isJSONNumber(s string) bool {
	if s == "" {
		return false
	}
	first, last := s[0], s[len(s)-1]
	return (first == '-' || '0' <= first && first <= '9') && '0' <= last && last <= '9' &&
		json.Valid([]byte(s))
}

// jsonNumber converts a JSON number: an integer (no fraction, no exponent) past
// 2^53 in magnitude must be one a float64 holds exactly, as for a Go integer
// (encoding/json writes a float64 such as 1e20 with all its digits); other
// numbers are floats, rounded as encoding/json rounds them.
func jsonNumber(n json.Number) (glua.LValue, error) {
	s := string(n)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return glua.LNil, &convError{msg: fmt.Sprintf("number %s: %v", s, err)}
	}
	if math.Abs(f) < 1<<53 || strings.ContainsAny(s, ".eE") { // exact, or a float
		return glua.LNumber(f), nil
	}
	return exactInteger(s)
}

// intNumber converts an integer, refusing one a Lua number would round.
func intNumber(i int64) (glua.LValue, error) {
	if i < -1<<53 || i > 1<<53 {
		return exactInteger(strconv.FormatInt(i, 10))
	}
	return glua.LNumber(i), nil
}

// exactInteger converts the decimal integer digits (with an optional sign), if
// a Lua number, a float64, holds it exactly: past 2^53 only some integers are
// (2^60, 1e20), and the others would be rounded.
func exactInteger(digits string) (glua.LValue, error) {
	i, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return glua.LNil, &convError{msg: "number " + digits + " is not an integer"}
	}
	f, acc := new(big.Float).SetInt(i).Float64()
	if acc != big.Exact {
		return glua.LNil, inexact(digits)
	}
	return glua.LNumber(f), nil
}

func inexact(digits string) error {
	return &convError{msg: "integer " + digits + " is beyond 2^53 and not one a Lua number holds exactly"}
}

// inside puts err, from an element of a value, under that element's path: an
// array's index (key "", index i) or an object's key, written as fail writes
// paths ("enemies[2].id").
func inside(err error, i int, key string) error {
	var ce *convError
	if !errors.As(err, &ce) {
		return err
	}
	step := pathStep{index: i}
	if key != "" || i == 0 {
		step = pathStep{key: glua.LString(key)}
	}
	return &convError{steps: append(ce.steps, step), msg: ce.msg}
}
