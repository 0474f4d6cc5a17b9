package wasm_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/guest"
	"github.com/hotscript/hotscript/wasm"
)

// moveState is the MigrateFunc a host uses for JSON-state scripts.
func moveState(ctx context.Context, old, next *wasm.Instance) error {
	state, err := old.CallJSON(ctx, "get_state")
	if err != nil {
		return err
	}
	_, err = next.CallJSON(ctx, "set_state", state)
	return err
}

// Commit with a migrate function carries state across the reload.
func TestCommitMigrates(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "json_state", nil)
	call(t, rt, id, "set_state", map[string]int{"counter": 12})

	st, err := rt.Stage(ctx, id, guest.Bytes("json_state_v2"))
	if err != nil {
		t.Fatal(err)
	}
	if v := callInt(t, rt, id, "version"); v != 1 {
		t.Errorf("version while staged = %d, want 1 (the live module is untouched)", v)
	}
	if err := st.Commit(ctx, moveState); err != nil {
		t.Fatal(err)
	}
	if got := call(t, rt, id, "get_state"); got != `{"counter":12}` {
		t.Errorf("state after migrate = %s", got)
	}
	if v := callInt(t, rt, id, "version"); v != 2 {
		t.Errorf("version after commit = %d, want 2", v)
	}
	wantErr(t, st.Commit(ctx, nil), []error{wasm.ErrStale})
	st.Discard(ctx) // a no-op after Commit
}

// A failing migration changes nothing: the old instance keeps its state and the
// staged one is dropped.
func TestCommitMigrateFailure(t *testing.T) {
	tests := []struct {
		name    string
		migrate wasm.MigrateFunc
		want    []error
		text    string
	}{
		{"returns an error", func(context.Context, *wasm.Instance, *wasm.Instance) error { return errHost }, []error{wasm.ErrMigrate, errHost}, "host says no"},
		{"panics", func(context.Context, *wasm.Instance, *wasm.Instance) error { panic("oops") }, []error{wasm.ErrMigrate}, "panic: oops"},
		{"panics with an error", func(context.Context, *wasm.Instance, *wasm.Instance) error { panic(errHost) }, []error{wasm.ErrMigrate, errHost}, "panic: host says no"},
		{"self-check traps", func(ctx context.Context, _, next *wasm.Instance) error {
			_, err := next.CallJSON(ctx, "trap_unreachable")
			return err
		}, []error{wasm.ErrMigrate, wasm.ErrTrap}, "unreachable"},
		{"self-check hits a limit", func(ctx context.Context, _, next *wasm.Instance) error {
			_, err := next.CallJSON(ctx, "recurse", 0)
			return err
		}, []error{wasm.ErrMigrate, wasm.ErrStackOverflow, wasm.ErrLimit}, "recurse"},
		{"next lacks a function", func(ctx context.Context, _, next *wasm.Instance) error {
			_, err := next.CallJSON(ctx, "get_counter")
			return err
		}, []error{wasm.ErrMigrate, wasm.ErrNoFunction}, "get_counter"},
		{"swallows a trap of next", func(ctx context.Context, _, next *wasm.Instance) error {
			next.CallJSON(ctx, "trap_unreachable")
			return nil
		}, []error{wasm.ErrMigrate, wasm.ErrTrap}, "trap_unreachable"},
		{"swallows a limit hit in old", func(ctx context.Context, old, _ *wasm.Instance) error {
			old.CallJSON(ctx, "recurse", 0)
			return nil
		}, []error{wasm.ErrMigrate, wasm.ErrStackOverflow, wasm.ErrLimit}, "recurse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, wasm.Limits{})
			id := load(t, rt, "json_state", nil)
			call(t, rt, id, "set_state", map[string]int{"counter": 5})
			st, err := rt.Stage(ctx, id, guest.Bytes("json_state"))
			if err != nil {
				t.Fatal(err)
			}
			err = st.Commit(ctx, tt.migrate)
			wantErr(t, err, tt.want, "json_state", tt.text)
			if got := call(t, rt, id, "get_state"); got != `{"counter":5}` {
				t.Errorf("state after failed commit = %s", got)
			}
			wantErr(t, st.Commit(ctx, nil), []error{wasm.ErrStale})
		})
	}
}

// A call of the migration that its context stopped half-way fails the Commit
// too, even if the MigrateFunc returns nil.
func TestCommitMigrateSwallowsCancel(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{MaxExecutionTime: time.Minute}) // metered: a call notices its context
	id := load(t, rt, "json_state", nil)
	call(t, rt, id, "set_state", map[string]int{"counter": 5})
	st, err := rt.Stage(ctx, id, guest.Bytes("json_state_v2"))
	if err != nil {
		t.Fatal(err)
	}
	err = st.Commit(ctx, func(ctx context.Context, old, _ *wasm.Instance) error {
		done, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		old.CallJSON(done, "forever")
		return nil
	})
	wantErr(t, err, []error{wasm.ErrMigrate, context.DeadlineExceeded}, "forever")
	if v := callInt(t, rt, id, "version"); v != 1 {
		t.Errorf("version after the failed commit = %d, want 1", v)
	}
}

// A MigrateFunc that handles a failed call on purpose clears it with ClearErr;
// a call that did not run (no such function) is not held against it.
func TestCommitMigrateClearErr(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "json_state", nil)
	st, err := rt.Stage(ctx, id, guest.Bytes("json_state_v2"))
	if err != nil {
		t.Fatal(err)
	}
	err = st.Commit(ctx, func(ctx context.Context, old, next *wasm.Instance) error {
		if _, err := old.CallJSON(ctx, "trap_unreachable"); !errors.Is(old.Err(), wasm.ErrTrap) || old.Err() != err {
			t.Errorf("old.Err() = %v after the call failed with %v", old.Err(), err)
		}
		old.ClearErr()
		if _, err := next.CallJSON(ctx, "get_counter"); !errors.Is(err, wasm.ErrNoFunction) || next.Err() != nil {
			t.Errorf("a call of a missing function: %v, next.Err() = %v (want nil)", err, next.Err())
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Commit after ClearErr: %v", err)
	}
	if v := callInt(t, rt, id, "version"); v != 2 {
		t.Errorf("version after commit = %d, want 2", v)
	}
}

// A Commit whose context ends while it waits for a lease in progress leaves
// the module staged, to be committed later, or discarded.
func TestCommitWaitEnds(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "counter_v1", nil)
	st, err := rt.Stage(ctx, id, guest.Bytes("counter_v2"))
	if err != nil {
		t.Fatal(err)
	}
	lease, err := rt.Acquire(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	frame, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	err = st.Commit(frame, nil)
	var werr *wasm.Error
	if !errors.As(err, &werr) || werr.Kind != nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Commit while a lease is held past its deadline: %v, want ctx's error and no Kind", err)
	}
	lease.Release()
	if got := callInt(t, rt, id, "version"); got != 1 {
		t.Errorf("version after the Commit that gave up = %d, want 1", got)
	}
	if err := st.Commit(ctx, nil); err != nil {
		t.Fatalf("Commit again: %v", err)
	}
	if got := callInt(t, rt, id, "version"); got != 2 {
		t.Errorf("version after the second Commit = %d, want 2", got)
	}

	// Discarded while a Commit waits: the Commit gives up, and the module is gone.
	st, err = rt.Stage(ctx, id, guest.Bytes("counter_v1"))
	if err != nil {
		t.Fatal(err)
	}
	if lease, err = rt.Acquire(ctx, id); err != nil {
		t.Fatal(err)
	}
	frame, cancel = context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- st.Commit(frame, nil) }()
	for len(st.Exports()) > 0 { // until Commit has taken the module and waits
		time.Sleep(time.Millisecond)
	}
	st.Discard(ctx)
	cancel()
	wantErr(t, <-done, []error{context.Canceled})
	lease.Release()
	wantErr(t, st.Commit(ctx, nil), []error{wasm.ErrStale})
	if got := callInt(t, rt, id, "version"); got != 2 {
		t.Errorf("version after the discarded commit = %d, want 2", got)
	}
}

// A Commit that waits behind another Commit of the script gives up when its
// context ends, as it does waiting for a call, and stays staged.
func TestCommitWaitEndsBehindAnotherCommit(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "counter_v1", nil)
	first, err := rt.Stage(ctx, id, guest.Bytes("counter_v2"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := rt.Stage(ctx, id, guest.Bytes("counter_v3"))
	if err != nil {
		t.Fatal(err)
	}
	lease, err := rt.Acquire(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	firstDone := make(chan error, 1)
	go func() { firstDone <- first.Commit(ctx, nil) }()
	for len(first.Exports()) > 0 { // until the first Commit has taken its module
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond) // and, most likely, the script's commit lock
	frame, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	secondDone := make(chan error, 1)
	go func() { secondDone <- second.Commit(frame, nil) }()
	select {
	case err := <-secondDone:
		var werr *wasm.Error
		if !errors.As(err, &werr) || werr.Kind != nil || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("second Commit past its deadline: %v, want ctx's error and no Kind", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("the second Commit still waits, 5 s after its deadline")
	}
	lease.Release()
	if err := <-firstDone; err != nil {
		t.Fatalf("first Commit: %v", err)
	}
	if got := callInt(t, rt, id, "version"); got != 2 {
		t.Errorf("version after the first Commit = %d, want 2", got)
	}
	if err := second.Commit(ctx, nil); err != nil { // still staged
		t.Fatalf("second Commit again: %v", err)
	}
	if got := callInt(t, rt, id, "version"); got != 3 {
		t.Errorf("version after the second Commit = %d, want 3", got)
	}
}

// Stage does not hold the script while it instantiates: a call to the live module
// completes while the staged module's _initialize is still running.
func TestStageDoesNotBlockCallers(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	inInit, release := make(chan struct{}), make(chan struct{})
	err := rt.Define("host", "log", wasm.HostFunc{
		Params: []wasm.ValueType{wasm.I32, wasm.I32},
		Func: func(context.Context, *wasm.Caller, []uint64) error {
			close(inInit)
			<-release
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := load(t, rt, "counter_v1", nil)
	staged := make(chan error)
	go func() {
		st, err := rt.Stage(ctx, id, guest.Bytes("log_init"))
		if err == nil {
			err = st.Commit(ctx, nil)
		}
		staged <- err
	}()
	<-inInit
	call(t, rt, id, "increment") // would deadlock if Stage held the script
	if got := callInt(t, rt, id, "version"); got != 1 {
		t.Errorf("version during Stage = %d, want 1", got)
	}
	close(release)
	if err := <-staged; err != nil {
		t.Fatal(err)
	}
	if got := callInt(t, rt, id, "version"); got != 3 {
		t.Errorf("version after commit = %d, want 3 (log_init)", got)
	}
}

func TestStagedIntrospection(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	if err := rt.Define("host", "log", wasm.LogFunc(func(string, string) {})); err != nil {
		t.Fatal(err)
	}
	id := load(t, rt, "add_v1", nil)
	st, err := rt.Stage(ctx, id, guest.Bytes("log_v2"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Discard(ctx)
	if got, want := infoStrings(st.Exports()), []string{"bad_log()", "run()", "version() i32"}; !slices.Equal(got, want) {
		t.Errorf("Staged.Exports() = %q, want %q", got, want)
	}
	if got, want := infoStrings(st.Imports()), []string{"host.log(i32, i32)"}; !slices.Equal(got, want) {
		t.Errorf("Staged.Imports() = %q, want %q", got, want)
	}
	live, _ := rt.Exports(id)
	if got, want := infoStrings(live), []string{"add(i32, i32) i32", "version() i32"}; !slices.Equal(got, want) {
		t.Errorf("Exports() of the live module = %q, want %q", got, want)
	}
}

// Discard drops a staged module, once; the live one is untouched.
func TestStageDiscard(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "counter_v1", nil)
	call(t, rt, id, "increment")
	st, err := rt.Stage(ctx, id, guest.Bytes("counter_v2"))
	if err != nil {
		t.Fatal(err)
	}
	st.Discard(ctx)
	st.Discard(ctx)
	wantErr(t, st.Commit(ctx, nil), []error{wasm.ErrStale})
	if got := callInt(t, rt, id, "get_counter"); got != 1 {
		t.Errorf("counter = %d, want 1", got)
	}
}

// An *Instance is usable only inside its MigrateFunc.
func TestInstanceOutsideMigrate(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "counter_v1", nil)
	st, err := rt.Stage(ctx, id, guest.Bytes("counter_v2"))
	if err != nil {
		t.Fatal(err)
	}
	var kept *wasm.Instance
	err = st.Commit(ctx, func(ctx context.Context, old, next *wasm.Instance) error {
		kept = next
		if next.Script() != "counter_v1" || len(next.Exports()) != 5 {
			t.Errorf("next: script %q, %d exports", next.Script(), len(next.Exports()))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = kept.CallJSON(ctx, "version")
	wantErr(t, err, []error{wasm.ErrStale})
}

// CallRaw moves numbers as wazero encodes them, a NaN's payload included, and
// refuses a call it cannot make as asked (a count of parameters, a function
// of a v128, one that is not there) before it runs; after its MigrateFunc it
// fails with ErrStale.
func TestInstanceCallRaw(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "float_state", nil)
	if _, err := rt.CallJSON(ctx, id, "poison", 0, 0); err != nil {
		t.Fatal(err)
	}
	st, err := rt.Stage(ctx, id, guest.Bytes("float_state"))
	if err != nil {
		t.Fatal(err)
	}
	const payload = 0x7ff4000000000123 // a signalling NaN with a payload of its own
	var kept *wasm.Instance
	err = st.Commit(ctx, func(ctx context.Context, old, next *wasm.Instance) error {
		kept = next
		got, err := old.CallRaw(ctx, "get_state")
		if err != nil || len(got) != 1 || !math.IsNaN(math.Float64frombits(got[0])) {
			t.Errorf("old get_state: %x, %v, want a NaN", got, err)
		}
		if _, err := next.CallRaw(ctx, "set_state", payload); err != nil {
			t.Errorf("set_state(%x): %v", uint64(payload), err)
		}
		for _, tt := range []struct {
			fn     string
			params []uint64
			want   error
		}{
			{"set_state", nil, wasm.ErrSignature},
			{"get_state", []uint64{1}, wasm.ErrSignature},
			{"nothing", nil, wasm.ErrNoFunction},
		} {
			if _, err := next.CallRaw(ctx, tt.fn, tt.params...); !errors.Is(err, tt.want) {
				t.Errorf("CallRaw(%s, %v): %v, want %v", tt.fn, tt.params, err, tt.want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got int64 // 64 bits, also where int has 32 (GOARCH=386)
	if err := json.Unmarshal([]byte(call(t, rt, id, "bits")), &got); err != nil || uint64(got) != payload {
		t.Errorf("bits = %x (%v) after the migration, want %x", uint64(got), err, uint64(payload))
	}
	_, err = kept.CallRaw(ctx, "get_state")
	wantErr(t, err, []error{wasm.ErrStale})

	simd := load(t, rt, "simd", nil)
	st, err = rt.Stage(ctx, simd, guest.Bytes("simd"))
	if err != nil {
		t.Fatal(err)
	}
	err = st.Commit(ctx, func(ctx context.Context, old, next *wasm.Instance) error {
		for _, f := range next.Exports() {
			v128 := slices.Contains(slices.Concat(f.Params, f.Results), wasm.V128)
			if _, err := next.CallRaw(ctx, f.Name, make([]uint64, len(f.Params))...); v128 && !errors.Is(err, wasm.ErrSignature) {
				t.Errorf("CallRaw(%s), a function of v128: %v, want ErrSignature", f, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Staging or committing for a script that is gone fails with ErrNotFound.
func TestStageUnloaded(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	id := load(t, rt, "counter_v1", nil)
	st, err := rt.Stage(ctx, id, guest.Bytes("counter_v2"))
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Unload(ctx, id); err != nil {
		t.Fatal(err)
	}
	wantErr(t, st.Commit(ctx, nil), []error{wasm.ErrNotFound})
	_, err = rt.Stage(ctx, id, guest.Bytes("counter_v2"))
	wantErr(t, err, []error{wasm.ErrNotFound})
	wantErr(t, rt.Unload(ctx, id), []error{wasm.ErrNotFound})
	if _, err := rt.Exports(id); !errors.Is(err, wasm.ErrNotFound) {
		t.Errorf("Exports of an unloaded script: %v", err)
	}
}

func infoStrings(fs []wasm.FuncInfo) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.String())
	}
	return out
}
