package wasm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/guest"
	"github.com/hotscript/hotscript/internal/meter"
	"github.com/hotscript/hotscript/internal/synth"
	"github.com/hotscript/hotscript/internal/testtool"
	"github.com/hotscript/hotscript/wasm"
)

// withNames returns a module with a name section appended, giving the module
// a name unless it is empty, and naming function 0 unless func0 is empty.
func withNames(b []byte, module, func0 string) []byte {
	str := func(s string) []byte { return append(meter.AppendULEB(nil, uint64(len(s))), s...) }
	sub := func(id byte, body []byte) []byte { return append([]byte{id}, str(string(body))...) }
	body := str("name")
	if module != "" {
		body = append(body, sub(0, str(module))...)
	}
	if func0 != "" {
		body = append(body, sub(1, append([]byte{1, 0}, str(func0)...))...)
	}
	return append(append(slices.Clip(b), 0), str(string(body))...)
}

// A trap's trace names the script's functions the same way, metered or not,
// whatever the module's name section says, if it has one: by their name there,
// else by export name or index, and never after the module's own name.
func TestTrapTraceNames(t *testing.T) {
	b := guest.Bytes("trace")
	tests := []struct {
		name string
		b    []byte
		want []string
	}{
		{"no name section", b, []string{"$0(i32) i32", "outer() i32"}},
		{"function name", withNames(b, "", "inner"), []string{"inner(i32) i32", "outer() i32"}},
		{"module name", withNames(b, "mymod", ""), []string{"$0(i32) i32", "outer() i32"}},
		{"module and function names", withNames(b, "mymod", "inner"), []string{"inner(i32) i32", "outer() i32"}},
		// Names of a megabyte, cut (at a character's start): wazero writes them
		// in every frame of a trace, up to 30.
		{"long names", withNames(b, strings.Repeat("m", 1<<20), strings.Repeat("é", 1<<19)),
			[]string{strings.Repeat("é", 126) + "…(i32) i32", "outer() i32"}},
	}
	for _, tt := range tests {
		for _, lim := range []wasm.Limits{{}, limited} {
			rt := newRuntime(t, lim)
			id, err := rt.Load(ctx, "trace", tt.b, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = rt.CallJSON(ctx, id, "outer")
			var werr *wasm.Error
			if !errors.As(err, &werr) || !errors.Is(err, wasm.ErrTrap) {
				t.Fatalf("%s: outer() = %v, want a trap", tt.name, err)
			}
			if !slices.Equal(werr.Trace, tt.want) {
				t.Errorf("%s, metered %v: Trace = %q, want %q", tt.name, lim != (wasm.Limits{}), werr.Trace, tt.want)
			}
		}
	}
}

// A host function's frame keeps its module's name, even where the script's
// module is named the same in its name section (its own frames then lose it).
func TestTrapTraceHostFrames(t *testing.T) {
	for _, module := range []string{"", "game", "host"} {
		rt := newRuntime(t, wasm.Limits{})
		err := rt.Define("host", "wait", wasm.HostFunc{Params: []wasm.ValueType{wasm.I32},
			Func: func(context.Context, *wasm.Caller, []uint64) error { return errors.New("nope") }})
		if err != nil {
			t.Fatal(err)
		}
		b := guest.Bytes("host_calls")
		if module != "" {
			b = withNames(b, module, "")
		}
		id, err := rt.Load(ctx, "hc", b, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = rt.CallJSON(ctx, id, "three", 1)
		var werr *wasm.Error
		if !errors.As(err, &werr) || !slices.Equal(werr.Trace, []string{"host.wait(i32)", "three(i32)"}) {
			t.Errorf("module named %q: %v, trace %q; want host.wait(i32) over three(i32)", module, err, werr.Trace)
		}
	}
}

// Every operation on a script of a closed runtime fails with ErrClosed.
func TestClosedScript(t *testing.T) {
	rt, err := wasm.NewRuntime(ctx, wasm.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	id := load(t, rt, "add_v1", nil)
	if err := rt.Close(ctx); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		op string
		fn func() error
	}{
		{"CallJSON", func() error { _, err := rt.CallJSON(ctx, id, "add", 1, 2); return err }},
		{"Func", func() error { _, err := rt.Func(id, "add"); return err }},
		{"Acquire", func() error { _, err := rt.Acquire(ctx, id); return err }},
		{"Usage", func() error { _, err := rt.Usage(ctx, id); return err }},
		{"Exports", func() error { _, err := rt.Exports(id); return err }},
		{"Imports", func() error { _, err := rt.Imports(id); return err }},
		{"ReloadModule", func() error { return rt.ReloadModule(ctx, id, guest.Bytes("add_v2")) }},
		{"Unload", func() error { return rt.Unload(ctx, id) }},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			err := tt.fn()
			wantErr(t, err, []error{wasm.ErrClosed}, "add_v1")
			if errors.Is(err, wasm.ErrNotFound) {
				t.Errorf("%s after Close also matches ErrNotFound: %v", tt.op, err)
			}
		})
	}
}

// Close waits for a load or reload running a start function, which then fails
// with ErrClosed (Stage too, not only the Commit after it): it closed nothing under it (the start function's next host
// call would fail as "already closed", an ErrInstantiate).
func TestCloseWaitsForStartFunctions(t *testing.T) {
	for _, op := range []string{"Load", "ReloadModule", "Stage"} {
		t.Run(op, func(t *testing.T) {
			rt, err := wasm.NewRuntime(ctx, wasm.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			var armed atomic.Bool
			entered, release := make(chan struct{}), make(chan struct{})
			err = rt.Define("host", "log", wasm.LogFunc(func(string, string) {
				if armed.Load() {
					close(entered)
					<-release
				}
			}))
			if err != nil {
				t.Fatal(err)
			}
			id := load(t, rt, "log_init", nil)
			armed.Store(true)
			loaded := make(chan error, 1)
			go func() {
				var err error
				switch op {
				case "Load":
					_, err = rt.Load(ctx, "second", guest.Bytes("log_init"), nil)
				case "ReloadModule":
					err = rt.ReloadModule(ctx, id, guest.Bytes("log_init"))
				case "Stage":
					var st *wasm.Staged
					if st, err = rt.Stage(ctx, id, guest.Bytes("log_init")); st != nil {
						st.Discard(ctx) // Stage itself must fail, not leave it to Commit
					}
				}
				loaded <- err
			}()
			<-entered
			closed := make(chan error, 1)
			go func() { closed <- rt.Close(ctx) }()
			select {
			case err := <-closed:
				t.Fatalf("Close returned (%v) while a start function ran", err)
			case <-time.After(50 * time.Millisecond):
			}
			close(release)
			if err := <-closed; err != nil {
				t.Errorf("Close: %v", err)
			}
			wantErr(t, <-loaded, []error{wasm.ErrClosed})
		})
	}
}

// Close stops a metered call in progress at its next check, with ErrClosed,
// where it waited for the call to reach its limit (helper-255: a minute's
// MaxExecutionTime held Close that long): a call making host calls, one in a
// loop of guest code, and a start function that never returns.
func TestCloseStopsMeteredCalls(t *testing.T) {
	for _, op := range []string{"host calls", "guest loop", "start function"} {
		t.Run(op, func(t *testing.T) {
			rt, err := wasm.NewRuntime(ctx, wasm.Limits{MaxExecutionTime: 20 * time.Second}) // which the calls would reach without Close
			if err != nil {
				t.Fatal(err)
			}
			entered := make(chan struct{})
			var once sync.Once
			err = rt.Define("host", "wait", wasm.HostFunc{Params: []wasm.ValueType{wasm.I32},
				Func: func(context.Context, *wasm.Caller, []uint64) error { once.Do(func() { close(entered) }); return nil }})
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			switch op {
			case "host calls":
				id := load(t, rt, "host_calls", nil)
				go func() { _, err := rt.CallJSON(ctx, id, "repeat", math.MaxInt32, 0); done <- err }()
				<-entered
			case "guest loop":
				id := load(t, rt, "spin", nil)
				go func() { _, err := rt.CallJSON(ctx, id, "forever"); done <- err }()
				time.Sleep(50 * time.Millisecond) // in the loop, most likely; a call after Close fails alike
			case "start function":
				go func() { _, err := rt.Load(ctx, "loop", testModule(t, "start_loop"), nil); done <- err }()
				time.Sleep(50 * time.Millisecond)
			}
			if err := rt.Close(ctx); err != nil {
				t.Fatal(err)
			}
			wantErr(t, <-done, []error{wasm.ErrClosed})
		})
	}
}

// Close from a host function that a start function calls, under its context,
// fails with ErrReentrant at once (it would wait for that load), and the load
// goes on.
func TestCloseFromStartFunction(t *testing.T) {
	for _, op := range []string{"Load", "Stage"} {
		t.Run(op, func(t *testing.T) {
			var rt *wasm.Runtime
			var armed atomic.Bool
			var closeErr error
			rt = newRuntime(t, wasm.Limits{})
			err := rt.Define("host", "log", wasm.HostFunc{Params: []wasm.ValueType{wasm.I32, wasm.I32},
				Func: func(ctx context.Context, _ *wasm.Caller, _ []uint64) error {
					if armed.CompareAndSwap(true, false) {
						closeErr = rt.Close(ctx)
					}
					return nil
				}})
			if err != nil {
				t.Fatal(err)
			}
			id := load(t, rt, "log_init", nil)
			armed.Store(true)
			err = testtool.Returns(t, op+" whose start function closes the runtime", func() error {
				if op == "Load" {
					_, err := rt.Load(ctx, "second", guest.Bytes("log_init"), nil)
					return err
				}
				st, err := rt.Stage(ctx, id, guest.Bytes("log_init"))
				if err == nil {
					err = st.Commit(ctx, nil)
				}
				return err
			})
			if err != nil {
				t.Errorf("%s: %v, want it to go on", op, err)
			}
			wantErr(t, closeErr, []error{wasm.ErrReentrant})
		})
	}
}

// Close while a module compiles (at some point of it: the offsets spread over
// a compile of about 10 ms, more under -race) waits for it: wazero's compile
// panics if it ends in a closed runtime, on the loading goroutine, taking the
// process.
func TestCloseDuringCompile(t *testing.T) {
	big := func(v int32) []byte { return synth.Module(synth.Config{Funcs: 1000, DataBytes: -1, Version: v}) }
	for i := range 5 {
		rt, err := wasm.NewRuntime(ctx, wasm.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		load(t, rt, "add_v1", nil) // the engine exists: the load below goes straight to compiling
		b := big(int32(i))
		loaded := make(chan error, 1)
		go func() { _, err := rt.Load(ctx, "big", b, nil); loaded <- err }()
		time.Sleep(time.Duration(i) * 2 * time.Millisecond)
		if err := rt.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-loaded; err != nil && !errors.Is(err, wasm.ErrClosed) {
			t.Errorf("load cut by Close: %v, want success or ErrClosed", err)
		}
	}
}

// When the alloc or free of a JSON argument fails, the error is the call's:
// it names the function called and says which of the two failed, and a
// failing free still returns the call's result.
func TestDocHelperErrors(t *testing.T) {
	tests := []struct {
		name   string
		lim    wasm.Limits
		mode   int
		result string // returned with the error
		want   []error
		text   string
	}{
		{"alloc traps", wasm.Limits{}, 1, "", []error{wasm.ErrTrap}, "wasm: call doc_helpers take: trap: alloc: "},
		{"alloc over budget", wasm.Limits{MaxInstructions: 10_000}, 3, "", []error{wasm.ErrInstructionLimit, wasm.ErrLimit}, "wasm: call doc_helpers take: instruction limit exceeded: alloc: used"},
		{"free traps", wasm.Limits{}, 2, "7", []error{wasm.ErrTrap}, "wasm: call doc_helpers take: trap: free: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, tt.lim)
			id := load(t, rt, "doc_helpers", nil)
			call(t, rt, id, "fail", tt.mode)
			out, err := rt.CallJSON(ctx, id, "take", map[string]int{"a": 1})
			wantErr(t, err, tt.want, tt.text)
			var werr *wasm.Error
			if !errors.As(err, &werr) || werr.Func != "take" {
				t.Errorf("error %v names the function %q, want take", err, werr.Func)
			}
			if string(out) != tt.result {
				t.Errorf("result = %q, want %q", out, tt.result)
			}
			call(t, rt, id, "fail", 0)
			if got := call(t, rt, id, "take", map[string]int{"a": 1}); got != "7" {
				t.Errorf("take after the failure = %s, want 7", got)
			}
		})
	}
}

// An alloc that returns 0 (NULL, as malloc does when the heap cannot grow)
// fails the call before anything is written or called: the document is not
// written over the static data at address 0.
func TestDocAllocNull(t *testing.T) {
	tests := []struct {
		name string
		lim  wasm.Limits
	}{
		{"memory limit", wasm.Limits{MaxMemoryBytes: page}},
		{"memory limit, metered", wasm.Limits{MaxMemoryBytes: page, MaxInstructions: 1e6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, tt.lim)
			id := loadTest(t, rt, "docs", nil)
			before := call(t, rt, id, "state")
			doc := json.RawMessage(`{"pad":"` + strings.Repeat("x", 100) + `"}`)
			out, err := rt.CallJSON(ctx, id, "take", doc)
			wantErr(t, err, []error{wasm.ErrMemoryLimit}, fmt.Sprintf("wasm: call docs take: memory limit exceeded: alloc: returned 0 (NULL) for a %d-byte document", len(doc)))
			if out != nil {
				t.Errorf("take returned %s with the error", out)
			}
			if after := call(t, rt, id, "state"); after != before {
				t.Errorf("the static data at address 0 changed from %s to %.40q", before, after)
			}
			if got := call(t, rt, id, "take", 1, 2); got != "2" {
				t.Errorf("take(1, 2) after the failure = %s, want 2", got)
			}
		})
	}
}

// A trap in a module built with debug information names its source line under
// each frame, metered or not: the rewrite that limits bring carries the line
// table (without it, a metered trace had none).
func TestTrapTraceSourceLines(t *testing.T) {
	src, err := os.ReadFile("../internal/guest/c/lines_debug.c")
	if err != nil {
		t.Fatal(err)
	}
	at := func(mark string) string { // "lines_debug.c:10", the line marked "// at: mark"
		for i, line := range strings.Split(string(src), "\n") {
			if strings.HasSuffix(line, "// at: "+mark) {
				return fmt.Sprintf("internal/guest/c/lines_debug.c:%d:", i+1)
			}
		}
		t.Fatalf("no line marked %q", mark)
		return ""
	}
	type frame struct{ fn, line string }
	calls := []struct {
		fn    string
		args  []any
		kind  error
		trace []frame
	}{
		{"crash", []any{1, 0}, wasm.ErrTrap, []frame{{"divide(i32,i32) i32", at("divide")}, {"crash(i32,i32) i32", at("crash")}}},
		{"fill", []any{0, 1 << 30}, wasm.ErrTrap, []frame{{"fill(i32,i32) i32", at("fill")}}},
		{"spin", []any{1}, wasm.ErrLimit, []frame{{"spin(i32) i32", at("spin")}}},
	}
	for _, lim := range []wasm.Limits{{}, {MaxExecutionTime: 20 * time.Millisecond}, {MaxInstructions: 1e6}} {
		rt := newRuntime(t, lim)
		id, err := rt.Load(ctx, "lines", guest.Bytes("lines_debug"), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range calls {
			if c.fn == "spin" && lim == (wasm.Limits{}) {
				continue // it would spin for good
			}
			_, err := rt.CallJSON(ctx, id, c.fn, c.args...)
			var werr *wasm.Error
			if !errors.As(err, &werr) || !errors.Is(err, c.kind) {
				t.Fatalf("limits %+v: %s = %v, want %v", lim, c.fn, err, c.kind)
			}
			var want []string
			for _, f := range c.trace {
				want = append(want, f.fn, f.line)
			}
			ok := len(werr.Trace) == len(want)
			for i := 0; ok && i < len(want); i++ {
				got := werr.Trace[i]
				if i%2 == 1 { // the source line: "0x1a: file:line:col" as given, "file:line:col" metered
					if _, rest, cut := strings.Cut(got, ": "); cut && lim == (wasm.Limits{}) {
						got = rest
					}
				}
				ok = strings.HasPrefix(got, want[i])
			}
			if !ok {
				t.Errorf("limits %+v: %s's trace %q, want frames and lines %q", lim, c.fn, werr.Trace, want)
			}
		}
	}
}

// Code without debug information has no source line, metered or not: a
// function linked from an object built without -g was given the line of
// the function before it in a metered trace.
func TestTrapTraceNoLineWithoutSource(t *testing.T) {
	testtool.Need(t, "clang", "wasm-ld")
	dir := t.TempDir()
	write := func(name, src string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	a := write("a.c", "int withsrc(int a, int b) {\n\treturn a / b;\n}\n")
	b := write("b.c", "int nosrc(int a, int b) {\n\treturn a / b;\n}\n")
	flags := []string{"--target=wasm32", "-O2", "-nostdlib", "-fno-builtin", "-fvisibility=default", "-c"}
	out := filepath.Join(dir, "mixed.wasm")
	for _, cmd := range [][]string{
		append(append([]string{"clang"}, flags...), "-g", a, "-o", a+".o"),
		append(append([]string{"clang"}, flags...), b, "-o", b+".o"),
		{"wasm-ld", "--no-entry", "--export-dynamic", a + ".o", b + ".o", "-o", out},
	} {
		if msg, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", cmd, err, msg)
		}
	}
	mod, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, lim := range []wasm.Limits{{}, {MaxInstructions: 1e9}} {
		rt := newRuntime(t, lim)
		id, err := rt.Load(ctx, "mixed", mod, nil)
		if err != nil {
			t.Fatal(err)
		}
		for fn, want := range map[string]string{"withsrc": "a.c:2:", "nosrc": ""} {
			_, err := rt.CallJSON(ctx, id, fn, 1, 0)
			var werr *wasm.Error
			if !errors.As(err, &werr) || len(werr.Trace) == 0 {
				t.Fatalf("%s: %v, want a trap with a trace", fn, err)
			}
			got := strings.Join(werr.Trace[1:], " | ")
			if (want == "" && got != "") || !strings.Contains(got, want) {
				t.Errorf("limits %+v: %s's source %q, want %q", lim, fn, got, want)
			}
		}
	}
}

// TestStartFunctionFailureText: a failed start function is named the same way
// metered or not, without wazero's index (which counts imports twice, and the
// instrumentation's import too) or the export it finds there (another
// function: "version").
func TestStartFunctionFailureText(t *testing.T) {
	fail := errors.New("no log today")
	for _, lim := range []wasm.Limits{{}, {MaxInstructions: 1 << 30, MaxExecutionTime: time.Minute}} {
		rt := newRuntime(t, lim)
		if err := rt.Define("host", "log", wasm.HostFunc{Params: []wasm.ValueType{wasm.I32, wasm.I32},
			Func: func(context.Context, *wasm.Caller, []uint64) error { return fail }}); err != nil {
			t.Fatal(err)
		}
		_, err := rt.Load(ctx, "st.wasm", guest.Bytes("start_trap"), nil)
		wantErr(t, err, []error{wasm.ErrInstantiate}, "wasm: load st.wasm: instantiate failed: start function failed: unreachable")
		if strings.Contains(err.Error(), "export[") {
			t.Errorf("%v names an export", err)
		}
		_, err = rt.Load(ctx, "init.wasm", guest.Bytes("log_init"), nil)
		wantErr(t, err, []error{wasm.ErrInstantiate, fail}, "wasm: load init.wasm: instantiate failed: _initialize failed: ")
	}
}
