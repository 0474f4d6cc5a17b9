package safejson

import (
	"strings"
	"testing"
)

type panics struct{}

func (panics) MarshalJSON() ([]byte, error) { panic("boom") }

func TestMarshal(t *testing.T) {
	if data, err := Marshal(map[string]int{"a": 1}); err != nil || string(data) != `{"a":1}` {
		t.Fatalf("Marshal(map) = %s, %v", data, err)
	}
	data, err := Marshal([]any{1, panics{}})
	if err == nil || data != nil || !strings.Contains(err.Error(), "panicked: boom") || !strings.Contains(err.Error(), "[]interface {}") {
		t.Fatalf("Marshal of a value whose MarshalJSON panics = %q, %v; want an error naming the type and the panic", data, err)
	}
}
