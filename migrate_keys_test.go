package hotscript

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestTopLevelKeys: the scan lists what decoding the object lists, on
// documents of every shape: nested values, escapes in keys and strings,
// whitespace, a key given twice, values that are not objects.
func TestTopLevelKeys(t *testing.T) {
	decoded := func(doc []byte) []string {
		var obj map[string]json.RawMessage
		if json.Unmarshal(doc, &obj) != nil {
			return nil
		}
		keys := []string{}
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return keys
	}
	docs := []string{
		`{}`, ` { } `, `{"a":1}`, `{"b":[1,{"x":"}"}],"a":{"c":"\"{"}}`, `{"a\"b":1,"\u00e9":2,"é":3}`,
		"{\n\t\"a\" :\r 1 , \"b\":null,\"c\":true,\"d\":-1.5e3}", `{"a":1,"a":2}`, `{"":"","x":"\\"}`,
		`[1,2]`, `"s"`, `3`, `null`, `{"a":{"b":{"c":[[[]]]}},"z":[]}`,
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		v := randomJSON(r, 3)
		if r.IntN(4) > 0 {
			m := map[string]any{}
			for range r.IntN(6) {
				m[randomKey(r)] = randomJSON(r, 3)
			}
			v = m
		}
		doc, _ := json.MarshalIndent(v, "", strings.Repeat(" ", r.IntN(3)))
		docs = append(docs, string(doc))
	}
	for _, doc := range docs {
		if got, want := topLevelKeys([]byte(doc)), decoded([]byte(doc)); !slices.Equal(got, want) {
			t.Errorf("topLevelKeys(%s) = %q, want %q", doc, got, want)
		}
	}
}

func randomKey(r *rand.Rand) string {
	return []string{"a", "b", `q"`, `\`, "é", "{", "}", ",", ":", " ", "\u2028", "x y"}[r.IntN(12)] + string(rune('a'+r.IntN(3)))
}

func randomJSON(r *rand.Rand, depth int) any {
	if depth == 0 {
		return r.Float64()
	}
	switch r.IntN(7) {
	case 0:
		return randomKey(r)
	case 1:
		return nil
	case 2:
		return r.IntN(2) == 0
	case 3:
		l := []any{}
		for range r.IntN(4) {
			l = append(l, randomJSON(r, depth-1))
		}
		return l
	case 4:
		m := map[string]any{}
		for range r.IntN(4) {
			m[randomKey(r)] = randomJSON(r, depth-1)
		}
		return m
	}
	return r.NormFloat64() * 1e6
}

// TestTopLevelKeysCutShort: a document cut anywhere (not valid, which
// CallJSON never returns) gives no keys it does not hold, and no panic.
func TestTopLevelKeysCutShort(t *testing.T) {
	doc := `{"a":1,"b\"c":{"x":[1,"]"]},"d":"\\"}`
	for i := range len(doc) {
		for _, k := range topLevelKeys([]byte(doc[:i])) {
			if !slices.Contains([]string{"a", `b"c`, "d"}, k) {
				t.Errorf("topLevelKeys(%s) lists %q", doc[:i], k)
			}
		}
	}
}
