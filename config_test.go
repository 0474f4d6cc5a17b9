package hotscript

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/hotscript/hotscript/internal/guest"
	"github.com/hotscript/hotscript/lua"
	"github.com/hotscript/hotscript/wasm"
)

// TestConfigRuntimes: runtimes passed in Config carry the program's host functions
// into every load and reload, and Close leaves them open.
func TestConfigRuntimes(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var logged []string
	wrt, err := wasm.NewRuntime(ctx, wasm.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer wrt.Close(ctx)
	if err := wrt.Define("host", "log", wasm.LogFunc(func(script, msg string) {
		mu.Lock()
		logged = append(logged, script+": "+msg)
		mu.Unlock()
	})); err != nil {
		t.Fatal(err)
	}
	lrt, err := lua.NewRuntime(ctx, lua.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer lrt.Close(ctx)

	h, err := New(ctx, Config{WASM: wrt, Lua: lrt})
	if err != nil {
		t.Fatal(err)
	}
	s := mustLoad(t, h, "log.wasm", guest.Bytes("log_v1"), nil)
	l := mustLoad(t, h, "x.lua", "return {f = function() return 7 end}", nil)
	wid, lid := s.u.(*wasmUnit).id, l.u.(*luaUnit).id
	call(t, h, s, "run")
	if err := h.Reload(ctx, s, guest.Bytes("log_v2")); err != nil {
		t.Fatal(err)
	}
	call(t, h, s, "run")
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := strings.Join(logged, "; ")
	mu.Unlock()
	if !strings.Contains(got, "log.wasm: hello from v1") || !strings.Contains(got, "log.wasm: hello from v2") {
		t.Errorf("host.log received %q", got)
	}
	if _, err := wrt.LoadModule(ctx, guest.Bytes("counter_v1")); err != nil {
		t.Errorf("the program's wasm runtime was closed by Host.Close: %v", err)
	}
	// but the Host's scripts are gone from them
	if _, err := wrt.CallJSON(ctx, wid, "run"); !errors.Is(err, wasm.ErrNotFound) {
		t.Errorf("the Host's WASM script after Close: %v, want ErrNotFound", err)
	}
	if _, err := lrt.CallJSON(ctx, lid, "f"); !errors.Is(err, lua.ErrNotFound) {
		t.Errorf("the Host's Lua script after Close: %v, want ErrNotFound", err)
	}
	if _, err := lrt.LoadScript(ctx, "x.lua", []byte("return {}")); err != nil {
		t.Errorf("the program's lua runtime was closed by Host.Close: %v", err)
	}
}

// TestConfigInvalid: an option out of its range is refused, not read as a
// default.
func TestConfigInvalid(t *testing.T) {
	for _, cfg := range []Config{{Swap: 99}, {Swap: -1}, {History: -1}, {EventBuffer: -1}, {EventBuffer: MaxEventBuffer + 1}, {EventBuffer: math.MaxInt}, {Limits: Limits{MaxExecutionTime: -1}}} {
		h, err := New(context.Background(), cfg)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("New(%+v) = %v, want ErrInvalid", cfg, err)
		}
		if h != nil {
			h.Close(context.Background())
		}
	}
}

func TestLogger(t *testing.T) {
	ctx := context.Background()
	var buf bytes.Buffer
	var mu sync.Mutex
	h := newTestHost(t, Config{Logger: slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, nil))})
	s := mustLoad(t, h, "counter.wasm", guest.Bytes("counter_v1"), nil)
	h.Reload(ctx, s, guest.Bytes("counter_v2"))
	h.Reload(ctx, s, []byte("junk"))
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	for _, want := range []string{
		`level=INFO msg="hotscript: loaded" script=counter.wasm`,
		`level=INFO msg="hotscript: committed" script=counter.wasm from=1 to=2`,
		`level=WARN msg="hotscript: rejected" script=counter.wasm from=2 to=3`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestLimitsReachTheEngines(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Config{Limits: Limits{MaxInstructions: 100_000}})
	loop := []byte("return { spin = function() while true do end end, ok = function() return 1 end }")
	tight := mustLoad(t, h, "tight.lua", loop, nil)
	if _, err := h.Call(ctx, tight, "spin"); !errors.Is(err, lua.ErrInstructionLimit) {
		t.Errorf("spin under Config.Limits = %v, want lua.ErrInstructionLimit", err)
	}
	if got := call(t, h, tight, "ok"); got != "1" {
		t.Errorf("after a limit the script answers %s", got)
	}
	timed, err := h.LoadBytes(ctx, "timed.wasm", guest.Bytes("json_state"),
		&ScriptOptions{Limits: &Limits{MaxExecutionTime: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Call(ctx, timed, "forever"); !errors.Is(err, wasm.ErrTimeout) {
		t.Errorf("forever under ScriptOptions.Limits = %v, want wasm.ErrTimeout", err)
	}
	metered := mustLoad(t, h, "spin.wasm", guest.Bytes("spin"), nil) // Config.Limits: the wasm runtime meters it
	if _, err := h.Call(ctx, metered, "count", 1_000_000_000); !errors.Is(err, wasm.ErrInstructionLimit) {
		t.Errorf("count(1e9) under Config.Limits = %v, want wasm.ErrInstructionLimit", err)
	}
}

func TestSwapModeString(t *testing.T) {
	for m, want := range map[SwapMode]string{SwapImmediate: "SwapImmediate", SwapAtApply: "SwapAtApply", 7: "SwapMode(7)"} {
		if got := m.String(); got != want {
			t.Errorf("SwapMode(%d).String() = %q, want %q", int(m), got, want)
		}
	}
}

// Config.EventBuffer's godoc gives the size of an event, which the largest
// buffer is allocated at: a field added to Event changes it.
func TestEventSizeAsDocumented(t *testing.T) {
	if strconv.IntSize != 64 {
		t.Skip("the godoc gives the size on 64-bit systems")
	}
	if got := unsafe.Sizeof(Event{}); got != 272 {
		t.Errorf("an Event takes %d bytes; Config.EventBuffer's godoc says 272", got)
	}
}
