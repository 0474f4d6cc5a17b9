package wasm_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/guest"
	"github.com/hotscript/hotscript/wasm"
)

var errHost = errors.New("host says no")

func TestDefineErrors(t *testing.T) {
	ok := wasm.LogFunc(func(string, string) {})
	tests := []struct {
		name         string
		module, fn   string
		hf           wasm.HostFunc
		afterLoad    bool
		wantContains string
	}{
		{"reserved module", "hotscript", "refuel", ok, false, "reserved"},
		{"empty name", "host", "", ok, false, "empty"},
		{"nil func", "host", "log", wasm.HostFunc{Params: []wasm.ValueType{wasm.I32}}, false, "nil Func"},
		{"non-numeric type", "host", "log", wasm.HostFunc{Params: []wasm.ValueType{wasm.ExternRef}, Func: ok.Func}, false, "externref"},
		{"twice", "host", "dup", ok, false, "defined twice"},
		{"after the first load", "host", "late", ok, true, "after the first load"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, wasm.Limits{})
			if err := rt.Define("host", "dup", ok); err != nil {
				t.Fatal(err)
			}
			if tt.afterLoad {
				load(t, rt, "add_v1", nil)
			}
			err := rt.Define(tt.module, tt.fn, tt.hf)
			wantErr(t, err, []error{wasm.ErrDefine}, tt.wantContains)
		})
	}
}

// A host function's error or panic traps the guest call; the error surfaces wrapped,
// and the script keeps working.
func TestHostFuncFailure(t *testing.T) {
	tests := []struct {
		name string
		fn   func(context.Context, *wasm.Caller, []uint64) error
		want []error
		text string
	}{
		{"error", func(context.Context, *wasm.Caller, []uint64) error { return errHost }, []error{wasm.ErrTrap, errHost}, "host.log: host says no"},
		{"panic", func(context.Context, *wasm.Caller, []uint64) error { panic("boom") }, []error{wasm.ErrTrap}, "panic: boom"},
		// A must helper's panic(err) matches err, as the error returned does (helper-213).
		{"panic with an error", func(context.Context, *wasm.Caller, []uint64) error { panic(errHost) }, []error{wasm.ErrTrap, errHost}, "panic: host says no"},
		// A limit error is the host function's, not a limit the call hit.
		{"limit error", func(context.Context, *wasm.Caller, []uint64) error { return wasm.ErrTimeout }, []error{wasm.ErrTrap, wasm.ErrTimeout, wasm.ErrLimit}, "trap: host.log: wasm: execution time limit exceeded"},
		// A deadline of the host function's own, not the caller's: a failed
		// host function, not a call the caller's context ended.
		{"own deadline", func(context.Context, *wasm.Caller, []uint64) error {
			c, cancel := context.WithTimeout(context.Background(), time.Microsecond)
			defer cancel()
			<-c.Done()
			return c.Err()
		}, []error{wasm.ErrTrap, context.DeadlineExceeded}, "host.log: context deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, wasm.Limits{})
			fail := true
			err := rt.Define("host", "log", wasm.HostFunc{
				Params: []wasm.ValueType{wasm.I32, wasm.I32},
				Func: func(ctx context.Context, c *wasm.Caller, stack []uint64) error {
					if fail {
						return tt.fn(ctx, c, stack)
					}
					return nil
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			id := load(t, rt, "log_v1", nil)
			_, err = rt.CallJSON(ctx, id, "run")
			wantErr(t, err, tt.want, "log_v1", "run", tt.text)
			if werr := (*wasm.Error)(nil); errors.As(err, &werr) && werr.Kind != wasm.ErrTrap {
				t.Errorf("Kind = %v, want ErrTrap", werr.Kind)
			}
			fail = false
			call(t, rt, id, "run")
		})
	}
}

// A host function that returns the error of a call it made to another script
// fails its own call as any host function error does: ErrTrap, with the other
// script's error in the chain but not its Kind, and a trace of the calling
// script's frames alone, the same as for any other error.
func TestHostFuncReturnsScriptError(t *testing.T) {
	tests := []struct {
		name string
		fn   string // of spin or trace
		want []error
	}{
		{"instruction limit", "forever", []error{wasm.ErrInstructionLimit, wasm.ErrLimit}},
		{"trap", "outer", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, wasm.Limits{})
			var other wasm.ScriptID
			var fromOther bool
			err := rt.Define("host", "log", wasm.HostFunc{
				Params: []wasm.ValueType{wasm.I32, wasm.I32},
				Func: func(ctx context.Context, _ *wasm.Caller, _ []uint64) error {
					if !fromOther {
						return errHost
					}
					_, err := rt.CallJSON(ctx, other, tt.fn)
					return err
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			id := load(t, rt, "log_v1", nil)
			other = load(t, rt, "spin", &wasm.ModuleOptions{Limits: &wasm.Limits{MaxInstructions: 1000}})
			if tt.fn == "outer" {
				other = load(t, rt, "trace", nil)
			}
			_, plain := rt.CallJSON(ctx, id, "run")
			var want *wasm.Error
			if !errors.As(plain, &want) || len(want.Trace) == 0 {
				t.Fatalf("a host function's error %v has no trace", plain)
			}

			fromOther = true
			_, err = rt.CallJSON(ctx, id, "run")
			_, otherErr := rt.CallJSON(ctx, other, tt.fn)
			wantErr(t, err, append(tt.want, wasm.ErrTrap), "wasm: call log_v1 run: trap: host.log: "+otherErr.Error())
			var werr *wasm.Error
			if !errors.As(err, &werr) || werr.Kind != wasm.ErrTrap {
				t.Fatalf("Kind of %v is not ErrTrap", err)
			}
			if !slices.Equal(werr.Trace, want.Trace) {
				t.Errorf("Trace = %q, want the calling script's own %q", werr.Trace, want.Trace)
			}
		})
	}
}

// Caller reads and writes guest memory with bounds checks and names the script.
func TestCaller(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	var seen []string
	err := rt.Define("host", "log", wasm.HostFunc{
		Params: []wasm.ValueType{wasm.I32, wasm.I32},
		Func: func(_ context.Context, c *wasm.Caller, stack []uint64) error {
			ptr, n := uint32(stack[0]), uint32(stack[1])
			msg, err := c.Read(ptr, n)
			if err != nil {
				return err
			}
			seen = append(seen, c.Script()+": "+string(msg))
			msg[0] = 'X' // a copy: the guest's memory is unchanged until Write
			if err := c.Write(ptr, []byte(strings.ToUpper(string(msg[1:5])))); err != nil {
				return err
			}
			if err := c.Write(65535, []byte("ab")); !errors.Is(err, wasm.ErrMemoryAccess) {
				t.Errorf("Write past the end = %v, want ErrMemoryAccess", err)
			}
			if _, err := c.ReadString(1<<32-1, 2); !errors.Is(err, wasm.ErrMemoryAccess) {
				t.Errorf("ReadString with an overflowing range = %v, want ErrMemoryAccess", err)
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := load(t, rt, "log_v1", nil)
	call(t, rt, id, "run")
	call(t, rt, id, "run")
	want := []string{"log_v1: hello from v1", "log_v1: ELLOo from v1"}
	if !slices.Equal(seen, want) {
		t.Errorf("host saw %q, want %q", seen, want)
	}
}

// LogFunc turns an out-of-range message into an error naming the script.
func TestLogFuncOutOfRange(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	var l logger
	if err := rt.Define("host", "log", wasm.LogFunc(l.log)); err != nil {
		t.Fatal(err)
	}
	id := load(t, rt, "log_v1", nil)
	_, err := rt.CallJSON(ctx, id, "bad_log")
	wantErr(t, err, []error{wasm.ErrTrap, wasm.ErrMemoryAccess}, "script log_v1", "[65530, 65630)", "bad_log")
	call(t, rt, id, "run")
	if got := l.take(); !slices.Equal(got, []string{"log_v1: hello from v1"}) {
		t.Errorf("logged %q", got)
	}
}

// Host functions called from a start function see the script being loaded.
func TestHostFuncDuringInstantiation(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	var l logger
	if err := rt.Define("host", "log", wasm.LogFunc(l.log)); err != nil {
		t.Fatal(err)
	}
	id, err := rt.Load(ctx, "boot", guest.Bytes("log_init"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.ReloadModule(ctx, id, guest.Bytes("log_init")); err != nil {
		t.Fatal(err)
	}
	if got, want := l.take(), []string{"boot: initializing", "boot: initializing"}; !slices.Equal(got, want) {
		t.Errorf("logged %q, want %q", got, want)
	}
}

// A host function whose signature differs from the import fails the load, naming both.
func TestHostSignatureMismatch(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	err := rt.Define("host", "log", wasm.HostFunc{Params: []wasm.ValueType{wasm.I64}, Func: func(context.Context, *wasm.Caller, []uint64) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = rt.Load(ctx, "log_v1", guest.Bytes("log_v1"), nil)
	wantErr(t, err, []error{wasm.ErrInstantiate}, "host.log(i64)", "host.log(i32, i32)")
}

// Host functions are told apart by module and name, not by the two joined:
// "a.b" "c" and "a" "b.c" are two functions, each linked with its signature,
// whichever is defined first.
func TestHostNamesWithDots(t *testing.T) {
	noop := func(context.Context, *wasm.Caller, []uint64) error { return nil }
	defs := []struct {
		module, name string
		param        wasm.ValueType
	}{{"a.b", "c", wasm.I32}, {"a", "b.c", wasm.I64}}
	for _, order := range [][]int{{0, 1}, {1, 0}} {
		rt := newRuntime(t, wasm.Limits{})
		for _, i := range order {
			d := defs[i]
			if err := rt.Define(d.module, d.name, wasm.HostFunc{Params: []wasm.ValueType{d.param}, Func: noop}); err != nil {
				t.Fatal(err)
			}
		}
		id := loadTest(t, rt, "dotted", nil)
		imports, err := rt.Imports(id)
		if got, want := infoStrings(imports), []string{"a.b.c(i32)", "a.b.c(i64)"}; err != nil || !slices.Equal(got, want) {
			t.Errorf("Imports() = %q, %v; want %q", got, err, want)
		}
	}
}

// A module that exports a host function it imports: calling the export, or
// the runtime running it as _initialize, runs the host function for the
// script, whose Caller then has no memory to read.
func TestReexportedHostFunc(t *testing.T) {
	for _, lim := range []wasm.Limits{{}, {MaxInstructions: 1 << 30, MaxExecutionTime: time.Minute}} {
		rt := newRuntime(t, lim)
		type seen struct {
			script string
			err    error
		}
		var got []seen
		record := func(c *wasm.Caller) error {
			_, err := c.Read(0, 4)
			got = append(got, seen{c.Script(), err})
			return nil
		}
		initFails, sevenFails := false, false
		err := errors.Join(
			rt.Define("host", "seven", wasm.HostFunc{Results: []wasm.ValueType{wasm.I32},
				Func: func(_ context.Context, c *wasm.Caller, stack []uint64) error {
					if sevenFails {
						_, err := c.Read(0, 4)
						return err
					}
					stack[0] = 7
					return record(c)
				}}),
			rt.Define("host", "init", wasm.HostFunc{
				Func: func(_ context.Context, c *wasm.Caller, _ []uint64) error {
					if initFails {
						_, err := c.Read(0, 4)
						return err
					}
					return record(c)
				}}))
		if err != nil {
			t.Fatal(err)
		}
		noMemory := func(what string, s seen, script string) {
			t.Helper()
			if s.script != script || !errors.Is(s.err, wasm.ErrMemoryAccess) || !strings.Contains(s.err.Error(), "called the host function through its export of it") {
				t.Errorf("limits %+v, %s: Caller of %q read: %v; want %s and ErrMemoryAccess", lim, what, s.script, s.err, script)
			}
		}

		id := loadTest(t, rt, "reexport", nil)
		if out := call(t, rt, id, "via_code"); out != "7" || len(got) != 1 || got[0] != (seen{"reexport", nil}) {
			t.Errorf("via_code() = %s, Caller %+v", out, got)
		}
		got = nil
		if out := call(t, rt, id, "seven"); out != "7" || len(got) != 1 {
			t.Fatalf("seven() = %s, %d calls", out, len(got))
		}
		noMemory("CallJSON", got[0], "reexport")
		f, err := rt.Func(id, "seven")
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // the first call binds the handle, the second takes its direct path
			if stack := []uint64{0}; f.Call(ctx, stack) != nil || stack[0] != 7 {
				t.Errorf("Func seven() = %d", stack[0])
			}
		}
		l := acquire(t, rt, id)
		if stack := []uint64{0}; l.Call(ctx, f, stack) != nil || stack[0] != 7 {
			t.Errorf("seven() on a lease = %d", stack[0])
		}
		l.Release()
		for _, s := range got[1:] {
			noMemory("Func", s, "reexport")
		}
		sevenFails = true // its error is the call's, on every path (helper-249: a nil dereference)
		_, err = rt.CallJSON(ctx, id, "seven")
		wantErr(t, err, []error{wasm.ErrTrap, wasm.ErrMemoryAccess}, "wasm: call reexport seven: ")
		for range 2 {
			wantErr(t, f.Call(ctx, []uint64{0}), []error{wasm.ErrTrap, wasm.ErrMemoryAccess}, "wasm: call reexport seven: ")
		}
		sevenFails = false
		if out := call(t, rt, id, "seven"); out != "7" {
			t.Errorf("seven() after failing = %s", out)
		}

		got = nil
		loadTest(t, rt, "reexport_init", nil)
		if len(got) != 1 {
			t.Fatalf("_initialize ran host.init %d times", len(got))
		}
		noMemory("_initialize", got[0], "reexport_init")
		initFails = true
		_, err = rt.Load(ctx, "reexport_init", testModule(t, "reexport_init"), nil)
		wantErr(t, err, []error{wasm.ErrInstantiate, wasm.ErrMemoryAccess}, "wasm: load reexport_init: instantiate failed: _initialize failed: host.init: ")
	}
}

// TestNoMemory: a module without memory that logs, takes a JSON argument or
// returns a JSON result gets an error saying so, not a nil dereference (wazero
// hands out a non-nil api.Memory holding nothing for such a module).
func TestNoMemory(t *testing.T) {
	for _, lim := range []wasm.Limits{{}, {MaxInstructions: 1 << 30, MaxExecutionTime: time.Minute}} {
		rt := newRuntime(t, lim)
		var l logger
		if err := rt.Define("host", "log", wasm.LogFunc(l.log)); err != nil {
			t.Fatal(err)
		}
		id := load(t, rt, "no_memory", nil)
		_, err := rt.CallJSON(ctx, id, "log_it")
		wantErr(t, err, []error{wasm.ErrTrap, wasm.ErrMemoryAccess}, "host.log", "script no_memory has no memory")
		_, err = rt.CallJSON(ctx, id, "take", map[string]any{"a": 1})
		wantErr(t, err, []error{wasm.ErrNoFunction}, "take(i32, i32) takes a JSON document, which needs the module to have a memory")
		_, err = rt.CallJSON(ctx, id, "give")
		wantErr(t, err, []error{wasm.ErrMemoryAccess}, "give() (i32, i32) returns (ptr, len) but the module has no memory")
		// Without alloc, what is missing comes first: the function called is there.
		noAlloc := load(t, rt, "no_alloc", nil)
		_, err = rt.CallJSON(ctx, noAlloc, "set_state", map[string]any{"a": 1})
		wantErr(t, err, []error{wasm.ErrNoFunction}, "no such function: alloc(i32) i32, which set_state(i32, i32) needs to take a JSON document")
		if msgs := l.take(); len(msgs) != 0 {
			t.Errorf("logged %q", msgs)
		}
	}
}
