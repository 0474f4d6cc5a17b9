package wasm_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/guest"
	"github.com/hotscript/hotscript/wasm"
)

const page = 64 << 10

// MaxMemoryBytes caps each script's memory: growth past it fails as WebAssembly
// says it may, and a call that traps because of that reports ErrMemoryLimit.
func TestMemoryLimit(t *testing.T) {
	tests := []struct {
		name      string
		runtime   wasm.Limits
		script    *wasm.Limits
		wantPages int // where growth stops; 0 means it does not within 64 pages
	}{
		{"runtime limit", wasm.Limits{MaxMemoryBytes: 4 * page}, nil, 4},
		{"limit not a multiple of a page", wasm.Limits{MaxMemoryBytes: 5*page - 1}, nil, 4},
		{"script limit above the runtime's", wasm.Limits{MaxMemoryBytes: 4 * page}, &wasm.Limits{MaxMemoryBytes: 9 * page}, 9},
		{"script limit below the runtime's", wasm.Limits{MaxMemoryBytes: 9 * page}, &wasm.Limits{MaxMemoryBytes: 3 * page}, 3},
		{"script without limits", wasm.Limits{MaxMemoryBytes: 4 * page}, &wasm.Limits{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, tt.runtime)
			id := load(t, rt, "grow", &wasm.ModuleOptions{Limits: tt.script})
			for range 64 {
				if callInt(t, rt, id, "grow", 1) == -1 {
					break
				}
			}
			got := callInt(t, rt, id, "pages")
			if tt.wantPages == 0 {
				if got != 64+2 {
					t.Errorf("unlimited memory stopped at %d pages", got)
				}
				return
			}
			if got != tt.wantPages {
				t.Errorf("memory stopped growing at %d pages, want %d", got, tt.wantPages)
			}
			_, err := rt.CallJSON(ctx, id, "grow_forever")
			wantErr(t, err, []error{wasm.ErrMemoryLimit, wasm.ErrLimit}, "grow", "grow_forever")
			if n := callInt(t, rt, id, "touch"); n != tt.wantPages {
				t.Errorf("after the limit: touch() = %d pages, want %d", n, tt.wantPages)
			}
			// A refused growth the guest handled does not color a later trap.
			if callInt(t, rt, id, "grow", 1) != -1 {
				t.Error("grow(1) past the limit did not return -1")
			}
			_, err = rt.CallJSON(ctx, id, "fail")
			wantErr(t, err, []error{wasm.ErrTrap}, "fail")
			if errors.Is(err, wasm.ErrMemoryLimit) {
				t.Errorf("an unrelated trap after a refused growth reports %v", err)
			}
		})
	}
}

// A module whose initial memory exceeds the limit does not load.
func TestMemoryLimitInitial(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{MaxMemoryBytes: page})
	_, err := rt.Load(ctx, "json_state", guest.Bytes("json_state"), nil)
	wantErr(t, err, []error{wasm.ErrMemoryLimit, wasm.ErrLimit}, "json_state", "131072")
}

// MaxInstructions needs fuel instrumentation: a module without it is refused.
func TestMaxInstructionsNeedsFuel(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{MaxInstructions: 1000})
	_, err := rt.Load(ctx, "add", guest.Bytes("add_v1"), nil)
	wantErr(t, err, []error{errors.ErrUnsupported}, "MaxInstructions")
}

// An instrumented module is held to its instruction budget exactly, and keeps its
// state when it runs out.
func TestInstructionLimit(t *testing.T) {
	tests := []struct {
		name   string
		budget uint64
		spins  int // spin costs 5 per iteration
	}{
		{"within one grant", 10_000, 2000},
		{"across refuels", 1_000_000, 200_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, wasm.Limits{MaxInstructions: tt.budget})
			id := load(t, rt, "metered", nil)
			if got := callInt(t, rt, id, "bump"); got != 1 {
				t.Fatalf("bump = %d", got)
			}
			if got := callInt(t, rt, id, "spin", tt.spins); got != tt.spins {
				t.Errorf("spin(%d) using the whole budget = %d", tt.spins, got)
			}
			_, err := rt.CallJSON(ctx, id, "spin", tt.spins+1)
			wantErr(t, err, []error{wasm.ErrInstructionLimit, wasm.ErrLimit}, "metered", "spin")
			_, err = rt.CallJSON(ctx, id, "forever")
			wantErr(t, err, []error{wasm.ErrInstructionLimit}, "forever")

			f, err := rt.Func(id, "spin")
			if err != nil {
				t.Fatal(err)
			}
			wantErr(t, f.Call(ctx, []uint64{uint64(tt.spins + 1)}), []error{wasm.ErrInstructionLimit})
			if got := callInt(t, rt, id, "bump"); got != 2 {
				t.Errorf("bump after hitting the limit = %d, want 2 (state kept)", got)
			}
		})
	}
}

// An instrumented module is held to its time limit without being closed.
func TestTimeLimitWithFuel(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{MaxExecutionTime: 20 * time.Millisecond})
	id := load(t, rt, "metered", nil)
	call(t, rt, id, "bump")
	_, err := rt.CallJSON(ctx, id, "forever")
	wantErr(t, err, []error{wasm.ErrTimeout, wasm.ErrLimit}, "metered", "forever")
	if got := callInt(t, rt, id, "bump"); got != 2 {
		t.Errorf("bump after the timeout = %d, want 2 (state kept)", got)
	}

	cctx, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(5 * time.Millisecond); cancel() }()
	limited := load(t, rt, "metered", &wasm.ModuleOptions{Limits: &wasm.Limits{MaxExecutionTime: time.Hour}})
	_, err = rt.CallJSON(cctx, limited, "forever")
	wantErr(t, err, []error{context.Canceled}, "forever")
}

// Without limits an instrumented module runs freely.
func TestFuelWithoutLimits(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "metered", nil)
	if got := callInt(t, rt, id, "spin", 1_000_000); got != 1_000_000 {
		t.Errorf("spin = %d", got)
	}
	if imports, _ := rt.Imports(id); len(imports) != 0 {
		t.Errorf("Imports() shows the reserved import: %v", imports)
	}
}

// A module without fuel is stopped by wazero, which closes it; the runtime
// replaces it with a fresh instance, so the script answers again, state reset.
func TestTimeLimitWithoutFuel(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{MaxExecutionTime: 50 * time.Millisecond})
	id := load(t, rt, "json_state", nil)
	f, err := rt.Func(id, "forever")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		run  func() error
	}{
		{"CallJSON", func() error { _, err := rt.CallJSON(ctx, id, "forever"); return err }},
		{"Func", func() error { return f.Call(ctx, nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call(t, rt, id, "set_state", map[string]int{"counter": 1})
			wantErr(t, tt.run(), []error{wasm.ErrTimeout, wasm.ErrLimit}, "json_state", "forever")
			if got := call(t, rt, id, "get_state"); got != `{"counter":0}` {
				t.Errorf("state after the timeout = %s, want the default", got)
			}
			if got := callInt(t, rt, id, "div", 8, 2); got != 4 {
				t.Errorf("div(8, 2) after the timeout = %d", got)
			}
		})
	}

	cctx, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(5 * time.Millisecond); cancel() }()
	limited := load(t, rt, "json_state", &wasm.ModuleOptions{Limits: &wasm.Limits{MaxExecutionTime: time.Hour}})
	_, err = rt.CallJSON(cctx, limited, "forever")
	wantErr(t, err, []error{context.Canceled}, "forever")
	call(t, rt, limited, "get_state")
}

func TestLimitsValidation(t *testing.T) {
	_, err := wasm.NewRuntime(ctx, wasm.Limits{MaxExecutionTime: -1})
	wantErr(t, err, []error{wasm.ErrLimit}, "negative")
	rt := newRuntime(t, wasm.Limits{})
	_, err = rt.Load(ctx, "x", guest.Bytes("add_v1"), &wasm.ModuleOptions{Limits: &wasm.Limits{MaxExecutionTime: -time.Second}})
	wantErr(t, err, []error{wasm.ErrLimit}, "negative")
}
