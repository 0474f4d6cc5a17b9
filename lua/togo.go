package lua

// Lua values to Go values (any), the arguments a host function receives: the
// same rules as JSON (see convert.go), into maps, slices and float64.

import glua "github.com/hotscript/hotscript/internal/gopherlua"

// goMap is about what a map[string]any of n entries takes (Go 1.24 maps, 8
// slots a group at most 7/8 full, measured), its keys' bytes aside.
func goMap(n int) int {
	if n <= 8 {
		return 336
	}
	return 84 * n
}

// toGo converts v to nil, bool, float64, string, []any or map[string]any, at
// most w's bound of Go memory in all (see goValue).
func (w *walker) toGo(v glua.LValue) (any, error) {
	switch v := v.(type) {
	case *glua.LNilType, nil: // nil: see appendJSON
		return nil, nil
	case glua.LBool:
		return bool(v), nil
	case glua.LNumber:
		w.size += goNumber // checked at the next table or string
		return float64(v), nil
	case glua.LString:
		if len(v) >= bytesPerUnit {
			if err := w.charge(len(v) / bytesPerUnit); err != nil {
				return nil, err
			}
		}
		if w.size += goString + len(v); w.pastBound(w.size) {
			return nil, w.tooLargeGo()
		}
		return string(v), nil
	case *glua.LTable:
		if w.pastBound(w.size) {
			return nil, w.tooLargeGo()
		}
		n, keys, err := w.enter(v)
		if err != nil {
			return nil, err
		}
		defer w.leave()
		if n > 0 {
			if w.size += goSlice + n*goValue; w.pastBound(w.size) {
				return nil, w.tooLargeGo()
			}
			out := make([]any, n)
			for i := range out {
				w.path = append(w.path, pathStep{index: i + 1})
				if out[i], err = w.toGo(v.RawGetInt(i + 1)); err != nil {
					return nil, err
				}
				w.path = w.path[:len(w.path)-1]
			}
			return out, nil
		}
		if w.size += goMap(len(keys)); w.pastBound(w.size) {
			return nil, w.tooLargeGo()
		}
		out := make(map[string]any, len(keys))
		for _, k := range keys {
			w.path = append(w.path, pathStep{key: k.key})
			w.size += len(k.name)
			if out[k.name], err = w.toGo(v.RawGet(k.key)); err != nil {
				return nil, err
			}
			w.path = w.path[:len(w.path)-1]
		}
		return out, nil
	}
	return nil, w.fail("cannot convert %s", v.Type())
}
