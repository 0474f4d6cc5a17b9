package wasm

import (
	"encoding/json"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

var jsonCases = []string{
	``, ` `, `null`, `true`, `false`, `nul`, `truex`, `0`, `-0`, `01`, `-`, `1.`, `1.5`, `.5`,
	`1e5`, `1E+5`, `1e`, `1e-`, `-12.5e-3`, `"a"`, `"`, `"\"\\\/\b\f\n\r\t"`, `"\u00e9"`, `"\u00g9"`,
	`"\x"`, "\"a\tb\"", "\"\xff\"", `[]`, `[ ]`, `[1,]`, `[,1]`, `[1 2]`, `{}`, `{ }`, `{"a":1}`,
	`{"a" : [1, {"b": null}] }`, `{"a":1,}`, `{a:1}`, `{"a"}`, `{"a":}`, `{"a":1 "b":2}`, `[}`, `{]`,
	`[[[]]]`, `[[[]]`, `1 2`, ` {"counter":0} `, "\n[\r\n1\t]\n", `[1]x`,
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat(`{"a":`, 500) + "1" + strings.Repeat("}", 500),
}

// validJSON agrees with json.Valid.
func TestValidJSON(t *testing.T) {
	for _, c := range jsonCases {
		if got, want := validJSON([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("validJSON(%.40q) = %v, json.Valid says %v", c, got, want)
		}
	}
}

// validJSON agrees with json.Valid on many documents built from JSON's tokens
// and a few wrong ones, in random order: near misses are what a hand-written
// scanner gets wrong.
func TestValidJSONRandom(t *testing.T) {
	pieces := []string{"{", "}", "[", "]", ",", ":", " ", "\n", "\t", `"`, `"a"`, `"\u00e9"`, `"\uZZZZ"`, `"\x"`, `\`, `\"`, "0", "-", "1",
		"12", ".", "5", "e", "E", "+", "true", "false", "null", "tru", "nul", "x", "\x01", "\xff", `"k":`, `{"k":1}`, "[1,2]",
		`"abcdefghijklm"`, `"a\"b"`, `"\\"`, "123456789012", "-0.5e+10", "01", "1.e5", `{"a" :1 , "b":[ ]}`, `{"":{}}`, "[[[", "]]]"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		var b []byte
		for range rng.IntN(12) {
			b = append(b, pieces[rng.IntN(len(pieces))]...)
		}
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid says %v", b, got, want)
		}
		if got, want := validNumber(b), jsonNumber.Match(b); got != want {
			t.Fatalf("validNumber(%q) = %v, want %v", b, got, want)
		}
	}
}

// jsonNumber is the grammar of a JSON number, as RFC 8259 gives it.
var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

func FuzzValidJSON(f *testing.F) {
	for _, c := range jsonCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Errorf("validJSON(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}

func TestValidNumber(t *testing.T) {
	for s, want := range map[string]bool{"1": true, "-1.5e3": true, "": false, "1 ": false, "0x1": false, "Inf": false, "NaN": false} {
		if got := validNumber([]byte(s)); got != want {
			t.Errorf("validNumber(%q) = %v, want %v", s, got, want)
		}
	}
}

// BenchmarkValidJSON validates the 80-byte document of the echo benchmark,
// against json.Valid.
func BenchmarkValidJSON(b *testing.B) {
	doc := []byte(`{"id":12345,"name":"enemy","hp":97.5,"pos":[1.5,-2.25,3],"alive":true,"tag":123}`)
	b.Run("ours", func(b *testing.B) {
		for b.Loop() {
			if !validJSON(doc) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("json.Valid", func(b *testing.B) {
		for b.Loop() {
			if !json.Valid(doc) {
				b.Fatal("invalid")
			}
		}
	})
}

// scanJSON with a stop that never stops agrees with json.Valid on large
// documents, valid or broken at a random place, and asks stop about once per
// stopEvery bytes; one that stops ends the scan at once, as invalid.
func TestScanJSONStop(t *testing.T) {
	values := []string{`0`, `-12.5e3`, `"abc"`, `"a\"b"`, `true`, `null`, `[]`, `{}`, `{"k":[1,2,{"x":null}]}`, `[[1],[2,[3]]]`}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 40 {
		b := []byte{'['}
		for len(b) < stopEvery*(1+rng.IntN(6)) {
			if len(b) > 1 {
				b = append(b, ',')
			}
			b = append(b, values[rng.IntN(len(values))]...)
		}
		b = append(b, ']')
		if i%2 == 1 { // broken somewhere
			b[1+rng.IntN(len(b)-1)] = "}:,x\""[rng.IntN(5)]
		}
		calls := 0
		got := scanJSON(b, func() bool { calls++; return false })
		if want := json.Valid(b); got != want {
			t.Fatalf("document %d: scanJSON = %v, json.Valid says %v", i, got, want)
		}
		if max := len(b) / stopEvery; got && (calls < max-1 || calls > max) {
			t.Errorf("document %d of %d bytes: stop called %d times, want about %d", i, len(b), calls, max)
		}
		if !got || calls == 0 {
			continue
		}
		stops := 0
		if scanJSON(b, func() bool { stops++; return stops == calls }) || stops != calls {
			t.Errorf("document %d: a stop at call %d returned valid after %d calls", i, calls, stops)
		}
	}
}
