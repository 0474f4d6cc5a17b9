package guest_test

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/hotscript/hotscript/internal/guest"
)

func TestBytes(t *testing.T) {
	magic := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}
	names := guest.Names()
	for _, want := range []string{"counter_v1", "add_v2", "json_state", "numbers", "grow", "spin"} {
		if !slices.Contains(names, want) {
			t.Errorf("Names() = %v, missing %q", names, want)
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			b := guest.Bytes(name)
			if !bytes.HasPrefix(b, magic) {
				t.Fatalf("%s does not start with the wasm header: % x", name, b[:min(len(b), 8)])
			}
			if !bytes.Equal(guest.Bytes(name+".wasm"), b) {
				t.Errorf("Bytes(%q) differs from Bytes(%q)", name+".wasm", name)
			}
			b[0] = 0xff // the caller owns the copy
			if guest.Bytes(name)[0] != 0 {
				t.Errorf("modifying the returned slice changed the embedded module")
			}
		})
	}
}

func TestBytesUnknownPanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("Bytes of an unknown module did not panic")
		}
	}()
	guest.Bytes("no_such_module")
}

func ExampleBytes() {
	b := guest.Bytes("add_v1")
	fmt.Println(len(b) > 8, string(b[1:4]))
	// Output: true asm
}
