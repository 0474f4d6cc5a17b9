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
