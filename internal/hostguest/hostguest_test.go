package hostguest

import (
	"context"
	"testing"

	"github.com/hotscript/hotscript/wasm"
)

func TestModulesAreValid(t *testing.T) {
	for _, tt := range []struct {
		name    string
		exports []string
	}{
		{"enemy_v1", []string{"update(f32)", "fire()", "get_state() (i32, i32)", "set_state(i32, i32)"}},
		{"enemy_v2", []string{"update(f32)", "fire()", "set_state(i32, i32)"}},
		{"enemy_f64", []string{"update(f64)"}},
		{"enemy_set_trap", []string{"set_state(i32, i32)"}},
		{"enemy_get_trap", []string{"get_state() (i32, i32)", "set_state(i32, i32)"}},
		{"enemy_no_set", []string{"get_state() (i32, i32)"}},
		{"enemy_set_loop", []string{"set_state(i32, i32)"}},
		{"enemy_check_fail", []string{"on_reload() i32"}},
		{"enemy_check_ok", []string{"on_reload() i32"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			info, err := wasm.Inspect(context.Background(), Bytes(tt.name))
			if err != nil {
				t.Fatal(err)
			}
			have := map[string]bool{}
			for _, f := range info.Exports {
				have[f.String()] = true
			}
			for _, want := range tt.exports {
				if !have[want] {
					t.Errorf("%s does not export %s (exports %v)", tt.name, want, info.Exports)
				}
			}
		})
	}
}

func TestBytesPanicsOnUnknownName(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Bytes of an unknown module did not panic")
		}
	}()
	Bytes("no_such_module")
}
