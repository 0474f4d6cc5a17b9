package lua

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
)

// Conversions between Lua values and Go values or JSON, one set of rules for both
// directions and for both JSON and host-function arguments:
//
//   - nil <-> null (nil); booleans; strings; numbers are float64, and a number with
//     no fraction is written without one ("3", not "3.0"). NaN and infinities are
//     errors in JSON. A Go float32 becomes the float64 encoding/json makes of it,
//     the shortest decimal that reads back as the same float32, read as a float64
//     (float32(0.1) is 0.1, not 0.10000000149011612), whether it comes alone, in
//     a []any or in a []float32 or a struct (which go through encoding/json).
//   - A table whose keys are exactly 1..n (n >= 1) is an array ([]any); any other
//     table is an object (map[string]any), its integer keys written as decimal
//     strings. The empty table is the empty object {}, as in lua-cjson. Object keys
//     are sorted, so the same table always gives the same JSON.
//   - Functions, userdata, coroutines, channels, cyclic tables, keys that are
//     neither strings nor integers, keys that are not valid UTF-8 in JSON (a
//     string value's invalid bytes become U+FFFD, as in encoding/json, but two
//     keys could become one), and nesting deeper than maxDepth are errors
//     naming the path of the value ("field enemies[2].ai: cannot convert
//     function"). Nothing is dropped silently. Metatables are not consulted.
//   - A value whose JSON form passes maxString (256 MiB) is an error, found as
//     soon as the output passes it. JSON has no references: a table (or a string)
//     reached twice is written twice, so local t = {} for i = 1, 40 do t = {t, t}
//     end is 2^40 empty tables, and many references to one big string make that
//     string many times over. A host function's arguments are held to the same
//     bound, counted as the Go memory they take (see goValue): a number's JSON
//     may be one byte, its Go value takes 24. Limits.MaxMemoryBytes is not the
//     bound: it is what one call may build, and a script's state, built over
//     many calls, may rightly be larger.
//   - Go to Lua, map keys are set in sorted order, which pairs follows, and
//     integers beyond ±2^53 that a Lua number would round are errors (see
//     toLua); back to JSON, integral numbers below 1e21 are written with all
//     their digits, and -0 as -0, as encoding/json writes a float64.
//   - Since a table reached many times is walked as many times, a few
//     instructions of Lua can ask for seconds of conversion: the walk is charged
//     to the call it is part of (Field's to a budget of its own), one unit per
//     table and array element, two per object entry, one per 64 bytes of a
//     string, which stops it at the call's limits or when the caller's context
//     ends, as it stops Lua code.

// maxDepth is how many tables deep a value converts, in both directions:
// encoding/json's limit, which the WASM runtime's documents have too.
const maxDepth = 10000

// tooDeep is the message of a value nested deeper than maxDepth.
const tooDeep = "tables nested deeper than %d levels"

// convError is a value that cannot be converted; it matches ErrJSON. steps
// is the path to it, innermost step first.
type convError struct {
	steps []pathStep
	msg   string
}

func (e *convError) Error() string {
	if len(e.steps) == 0 {
		return e.msg
	}
	return "field " + formatPath(e.steps) + ": " + e.msg
}

func (e *convError) Is(target error) bool { return target == ErrJSON }

// walker walks a Lua value, keeping the path and the tables being visited.
type walker struct {
	path     []pathStep
	visiting []*glua.LTable
	deep     map[*glua.LTable]bool // visiting, once it passes shallow tables (see onPath)
	outer    int                   // levels the JSON has around the value (several results' array)
	keyBufs  [][]objectKey         // enter's key slices, one per depth, reused
	size     int                   // toGo's estimate of the Go memory of what it converted so far
	limit    int                   // the bound of the conversion's JSON in bytes; 0 for maxString

	// b is the budget of the call the conversion is part of, charged for its
	// work; nil for none. A value that reaches one table many times makes the
	// walker visit it as many times: without a charge, a few instructions of
	// Lua would buy seconds of conversion.
	b *budget
}

// pathStep is one step of the path to the value being converted: a key of an
// object, or (key nil) the index of an array's element, kept as an int since
// boxing it in an LValue would allocate.
type pathStep struct {
	key   glua.LValue
	index int
}

// charge counts units of the conversion's work against w.b, and returns the
// call's limit error (or its context's) once its budget is exhausted.
func (w *walker) charge(units int) error {
	if w.b == nil {
		return nil
	}
	return w.b.work(uint64(units))
}

// bound is the most JSON the conversion makes.
func (w *walker) bound() int {
	if w.limit > 0 {
		return w.limit
	}
	return maxString
}

// pastBound reports whether JSON of size bytes passes the bound of the conversion.
func (w *walker) pastBound(size int) bool { return size > w.bound() }

func (w *walker) tooLarge() error {
	return w.fail("too large: its JSON passes %d MiB, the most one conversion makes", w.bound()>>20)
}

// tooLargeGo is toGo's tooLarge.
func (w *walker) tooLargeGo() error {
	return w.fail("too large: as Go values it passes %d MiB, the most one conversion makes", w.bound()>>20)
}

func (w *walker) fail(format string, args ...any) error {
	steps := make([]pathStep, len(w.path))
	for i, st := range w.path {
		steps[len(steps)-1-i] = st
	}
	return &convError{steps: steps, msg: fmt.Sprintf(format, args...)}
}

// formatPath writes the path of steps, innermost first, as a script would
// write it (enemies[2].ai), showing pathEnds steps at each end of a long one.
func formatPath(steps []pathStep) string {
	var b strings.Builder
	n := len(steps)
	for i := range n {
		step := steps[n-1-i]
		if n > 2*pathEnds && i >= pathEnds && i < n-pathEnds {
			if i == pathEnds {
				fmt.Fprintf(&b, " ... %d more ... ", n-2*pathEnds)
			}
			continue
		}
		k := step.key
		if k == nil {
			fmt.Fprintf(&b, "[%d]", step.index)
			continue
		}
		if s, ok := k.(glua.LString); ok {
			switch {
			case len(s) > maxPathKey: // a message the size of the key: quoted, up to four times it
				fmt.Fprintf(&b, "[%q...(%d bytes)]", string(s[:maxPathKey]), len(s))
			case isIdentifier(string(s)):
				if b.Len() > 0 && !(n > 2*pathEnds && i == n-pathEnds) {
					b.WriteByte('.')
				}
				b.WriteString(string(s))
			default:
				fmt.Fprintf(&b, "[%q]", string(s))
			}
			continue
		}
		fmt.Fprintf(&b, "[%s]", k.String())
	}
	return b.String()
}

// pathEnds is how many steps of a long path an error shows at each end: a table
// nested 10,000 deep would otherwise make a 30-kilobyte message.
const pathEnds = 4

// maxPathKey is the most of a string key an error's path shows.
const maxPathKey = 40

// isIdentifier reports whether s is a Lua name: letters, digits and
// underscores, not starting with a digit, and not a reserved word (a script
// could not write t.end or end.x).
func isIdentifier(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isAlpha(c) || c == '_' || (i > 0 && '0' <= c && c <= '9')) {
			return false
		}
	}
	return s != "" && !keywords[s]
}

// keywords are Lua 5.1's reserved words, and goto, which gopher-lua's lexer
// reserves too.
var keywords = map[string]bool{
	"and": true, "break": true, "do": true, "else": true, "elseif": true,
	"end": true, "false": true, "for": true, "function": true, "goto": true, "if": true,
	"in": true, "local": true, "nil": true, "not": true, "or": true,
	"repeat": true, "return": true, "then": true, "true": true, "until": true,
	"while": true,
}

// isInteger reports whether f is an integer of at most 2^53 in magnitude. Converting
// to int64 and back is exact for those and changes every other f (fractions, NaN,
// infinities), or gives an int64 outside the range; it is cheaper than math.Trunc.
func isInteger(f float64) bool {
	i := int64(f)
	return float64(i) == f && -1<<53 <= i && i <= 1<<53
}

// objectKey is one key of a table converted to an object.
type objectKey struct {
	name string
	key  glua.LValue
}

// enter checks t for cycles and depth, charges the walk of its entries, and
// classifies it: n > 0 means an array of n elements, otherwise keys holds the
// object's keys, sorted, valid until the next table at the same depth.
func (w *walker) enter(t *glua.LTable) (n int, keys []objectKey, err error) {
	if w.onPath(t) {
		return 0, nil, w.fail("cyclic table")
	}
	if w.outer+len(w.visiting) >= maxDepth {
		return 0, nil, w.fail(tooDeep, maxDepth)
	}
	if n := arrayLen(t); n > 0 {
		if err := w.charge(1 + n); err != nil {
			return 0, nil, err
		}
		w.visit(t)
		return n, nil, nil
	}
	// One walk collects the keys and tells whether they are 1..n after all.
	depth := len(w.visiting)
	for len(w.keyBufs) <= depth {
		w.keyBufs = append(w.keyBufs, nil)
	}
	keys = w.keyBufs[depth][:0]
	maxIndex, array := 0, true
	t.ForEach(func(k, v glua.LValue) {
		if orNil(k) == glua.LNil || orNil(v) == glua.LNil {
			return // absent: see orNil
		}
		switch k := k.(type) {
		case glua.LString:
			array = false
			keys = append(keys, objectKey{string(k), k})
			return
		case glua.LNumber:
			if isInteger(float64(k)) {
				if k >= 1 {
					maxIndex = max(maxIndex, int(k))
				} else {
					array = false
				}
				keys = append(keys, objectKey{key: k}) // named below, if an object
				return
			}
		}
		array = false
		if err == nil {
			err = w.keyError(k)
		}
	})
	w.keyBufs[depth] = keys
	if count := len(keys); array && count > 0 && maxIndex == count {
		if err := w.charge(1 + count); err != nil {
			return 0, nil, err
		}
		w.visit(t)
		return count, nil, nil
	}
	if err != nil {
		return 0, nil, err
	}
	if err := w.charge(1 + 2*len(keys)); err != nil { // the walk and the sort
		return 0, nil, err
	}
	for i, k := range keys {
		if n, ok := k.key.(glua.LNumber); ok {
			keys[i].name = strconv.FormatInt(int64(n), 10)
		}
	}
	slices.SortFunc(keys, func(a, b objectKey) int { return strings.Compare(a.name, b.name) })
	for i := 1; i < len(keys); i++ {
		if keys[i].name == keys[i-1].name {
			return 0, nil, w.fail("duplicate key %q (a string and an integer)", keys[i].name)
		}
	}
	w.visit(t)
	return 0, keys, nil
}

// keyError is the error of a table key that is neither a string nor an integer.
func (w *walker) keyError(k glua.LValue) error {
	if n, ok := k.(glua.LNumber); ok {
		if f := float64(n); f == math.Trunc(f) && !math.IsInf(f, 0) {
			return w.fail("table key %v is an integer beyond 2^53, past which numbers are not exact", n)
		}
		return w.fail("table key %v is not an integer", n)
	}
	return w.fail("table key of type %s", k.Type())
}

// arrayLen returns n if t's keys are exactly 1..n, as they are in the arrays
// that gopher-lua keeps in a table's array part, and 0 if it cannot tell
// without a walk of t that boxes every integer key (ForEach does).
func arrayLen(t *glua.LTable) int {
	n := t.MaxN() // the array part's last element that is not LNil
	for i := 1; i <= n; i++ {
		if orNil(t.RawGetInt(i)) == glua.LNil {
			return 0
		}
	}
	if n > 0 && t.HashLen() > 0 { // keys besides 1..n
		return 0
	}
	return n
}

// shallow is how deep a walk looks for a cycle in w.visiting itself; deeper,
// in w.deep, so that a walk down a long chain does not take the square of its
// length.
const shallow = 64

// onPath reports whether t is one of the tables the walk is inside.
func (w *walker) onPath(t *glua.LTable) bool {
	if w.deep != nil {
		return w.deep[t]
	}
	return slices.Contains(w.visiting, t)
}

// visit enters t.
func (w *walker) visit(t *glua.LTable) {
	w.visiting = append(w.visiting, t)
	if w.deep == nil && len(w.visiting) > shallow {
		w.deep = make(map[*glua.LTable]bool, 2*shallow)
		for _, v := range w.visiting[:len(w.visiting)-1] {
			w.deep[v] = true
		}
	}
	if w.deep != nil {
		w.deep[t] = true
	}
}

// leave leaves the table visited last.
func (w *walker) leave() {
	t := w.visiting[len(w.visiting)-1]
	w.visiting = w.visiting[:len(w.visiting)-1]
	if w.deep != nil {
		delete(w.deep, t)
	}
}

// The Go memory toGo counts for a value: goValue for the interface that holds
// it (in a []any, a map or Call.Args), counted by its container, plus what the
// interface points to. Strings are counted with their bytes each time they are
// reached, although the Go strings share them, as their JSON would repeat them.
const (
	goValue  = 16 // an interface
	goNumber = 8  // a boxed float64
	goString = 16 // a boxed string header, besides the bytes
	goSlice  = 24 // a boxed slice header, besides the elements' interfaces
)
