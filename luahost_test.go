package hotscript

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/guest"
	"github.com/hotscript/hotscript/internal/testtool"
	"github.com/hotscript/hotscript/lua"
	"github.com/hotscript/hotscript/wasm"
)

const enemyLua = `local M = { health = 100, pos = { x = 1, y = 2 }, kills = {} }
function M.update(dt) M.health = M.health - 1 end
function M.fire(id) table.insert(M.kills, id) end
function M.state() return { health = M.health, pos = M.pos, kills = M.kills } end
function M.version() return 1 end
return M
`

// v2 of enemyLua with a body replaced: new code, same interface.
func enemyLuaV2(body string) string {
	return strings.Replace(enemyLua, "function M.version() return 1 end", "function M.version() return 2 end\n"+body, 1)
}

func TestLuaReloadRollsBack(t *testing.T) {
	tests := []struct {
		name    string
		next    string
		limits  *Limits
		want    []error
		message []string
	}{
		{"syntax error", "local M = {\nfunction broken(\nreturn M", nil, []error{lua.ErrCompile}, []string{"enemy.lua:"}},
		{"runtime error in chunk", "local M = {}\nlocal x = nil\nx.boom = 1\nreturn M", nil, []error{lua.ErrRuntime}, []string{"enemy.lua:3"}},
		{"chunk returns no table", "return 42", nil, []error{lua.ErrNotTable}, nil},
		{"contract broken", "local M = {}\nfunction M.update(dt) end\nreturn M", nil, []error{ErrContract}, []string{"removed: fire"}},
		{"on_restore fails", enemyLuaV2("function M.on_save() return {} end\nfunction M.on_restore(s) error('no') end"),
			nil, []error{lua.ErrRuntime}, []string{"on_restore"}},
		{"limit hit while staging", "local M = {}\nwhile true do end\nreturn M", &Limits{MaxInstructions: 100_000},
			[]error{lua.ErrInstructionLimit, lua.ErrLimit}, nil},
		{"self-check returns false", enemyLuaV2("function M.on_reload() return M.health > 100 end"),
			nil, []error{ErrSelfCheck}, []string{"hotscript: reload enemy.lua: self-check failed: on_reload on v2 returned false"}},
		{"self-check raises", enemyLuaV2("function M.on_reload() error('bad state') end"),
			nil, []error{ErrSelfCheck, lua.ErrRuntime}, []string{"hotscript: reload enemy.lua: self-check failed: on_reload on v2: ", "bad state"}},
		{"self-check passes on the carried state", enemyLuaV2("function M.on_reload() return M.health == 99 and #M.kills == 1 end"),
			nil, nil, nil},
		{"self-check returns -0", enemyLuaV2("function M.on_reload() local zero = 0 return -zero end"), nil, nil, nil},
		{"self-check returns a fraction", enemyLuaV2("function M.on_reload() return 0.5 end"),
			nil, []error{ErrSelfCheck}, []string{"hotscript: reload enemy.lua: self-check failed: on_reload on v2 returned 0.5"}},
		{"commits", enemyLuaV2(""), nil, nil, nil},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHost(t, Config{})
			s := mustLoad(t, h, "enemy.lua", enemyLua,
				&ScriptOptions{Limits: tt.limits, Contract: &Contract{Exports: []string{"update", "fire"}}})
			call(t, h, s, "update", 0.016)
			call(t, h, s, "fire", 7)
			before := call(t, h, s, "state")
			checkReloadErr(t, h.Reload(ctx, s, []byte(tt.next)), tt.want, append(tt.message, "enemy.lua"))
			if after := call(t, h, s, "state"); after != before {
				t.Errorf("state %s after the reload, want %s", after, before)
			}
			ev := lastEvent(t, h)
			want, kind := "1", Rejected
			if tt.want == nil {
				want, kind = "2", Committed
			}
			if got := call(t, h, s, "version"); got != want || ev.Kind != kind {
				t.Errorf("version() %s, event %v; want %s, %v", got, ev, want, kind)
			}
			if tt.want == nil && !slices.Equal(ev.Carried, []string{"health", "kills", "pos"}) {
				t.Errorf("Carried = %v", ev.Carried)
			}
		})
	}
}

func TestLuaRevertAndDiff(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Config{})
	s := mustLoad(t, h, "enemy.lua", []byte(enemyLua), nil)
	call(t, h, s, "update", 1)
	if err := h.Reload(ctx, s, []byte(enemyLuaV2("function M.jump() end"))); err != nil {
		t.Fatal(err)
	}
	if ev := lastEvent(t, h); ev.Diff.String() != "added: jump" {
		t.Errorf("Diff = %q, want %q", ev.Diff, "added: jump")
	}
	if _, ok := s.Interface().Export("jump"); !ok {
		t.Errorf("Interface() = %v after adding jump", s.Interface())
	}
	call(t, h, s, "update", 1)
	if err := h.Revert(ctx, s); err != nil {
		t.Fatal(err)
	}
	if v, st := call(t, h, s, "version"), call(t, h, s, "state"); v != "1" || !strings.Contains(st, `"health":98`) {
		t.Errorf("after Revert: version %s state %s; want v1 with health 98 (Lua carries fields)", v, st)
	}
	if ev := lastEvent(t, h); ev.Kind != Reverted || ev.Diff.String() != "removed: jump" {
		t.Errorf("revert event %v diff %q", ev, ev.Diff)
	}
}

// A script that asks the host, through a host function, to reload itself: a
// Reload there, which waits for its own commit, fails with ErrReentrant at once
// instead of deadlocking; a ReloadAsync commits once the call has returned.
func TestReloadFromOwnHostFunction(t *testing.T) {
	var h *Host
	var s *Script
	var syncErr error
	var pending *Pending
	h = hostWithLuaFunc(t, "reload_me", func(ctx context.Context, c *lua.Call) ([]any, error) {
		next := []byte(enemyLuaV2(""))
		if c.Args[0] == "sync" {
			syncErr = h.Reload(ctx, s, next)
		} else {
			pending = h.ReloadAsync(ctx, s, next)
			// Stay in the host function while the reload reaches its commit,
			// which must wait for this call, not take it for a call back.
			time.Sleep(50 * time.Millisecond)
		}
		return nil, nil
	})
	v1 := strings.Replace(enemyLua, "return M", "function M.reload(how) host.reload_me(how) end\nreturn M", 1)
	s = mustLoad(t, h, "enemy.lua", v1, nil)

	err := testtool.Returns(t, "Reload from the script's own host function", func() error {
		_, err := h.Call(context.Background(), s, "reload", "sync")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(syncErr, lua.ErrReentrant) {
		t.Fatalf("Reload from the script's own host function: %v, want lua.ErrReentrant", syncErr)
	}
	if got := call(t, h, s, "version"); got != "1" {
		t.Fatalf("version %s after the refused reload, want 1", got)
	}

	call(t, h, s, "reload", "async")
	testtool.Returns(t, "ReloadAsync from the script's own host function", func() error {
		<-pending.Done()
		return nil
	})
	if err := pending.Err(); err != nil {
		t.Fatalf("ReloadAsync from the script's own host function: %v", err)
	}
	if got := call(t, h, s, "version"); got != "2" {
		t.Fatalf("version %s after the async reload, want 2", got)
	}
}

// A script that asks the host, through a host function, to close the Host gets
// an error instead of a deadlock, and the Host goes on.
func TestCloseFromHostFunction(t *testing.T) {
	ctx := context.Background()
	var h *Host
	var closeErr error
	h = hostWithLuaFunc(t, "quit", func(ctx context.Context, _ *lua.Call) ([]any, error) {
		closeErr = h.Close(ctx)
		return nil, nil
	})
	s := mustLoad(t, h, "quit.lua", strings.Replace(enemyLua, "return M", "function M.quit() host.quit() end\nreturn M", 1), nil)
	err := testtool.Returns(t, "Close from a host function", func() error {
		_, err := h.Call(context.Background(), s, "quit")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(closeErr, lua.ErrReentrant) || !errors.Is(closeErr, wasm.ErrReentrant) {
		t.Fatalf("Close from a host function: %v, want an error matching both engines' ErrReentrant", closeErr)
	}
	if got := call(t, h, s, "version"); got != "1" {
		t.Fatalf("version %s after the refused Close, want 1 (the Host still open)", got)
	}
	if err := h.Close(ctx); err != nil {
		t.Fatalf("Close from outside afterwards: %v", err)
	}
}

// A host function may unload another script, but not the one running it: that
// Unload fails with ErrReentrant and changes nothing.
func TestUnloadFromHostFunction(t *testing.T) {
	var h *Host
	var errs []error
	h = hostWithLuaFunc(t, "unload", func(ctx context.Context, c *lua.Call) ([]any, error) {
		s, _ := h.Script(c.Args[0].(string))
		errs = append(errs, h.Unload(ctx, s))
		return nil, nil
	})
	src := strings.Replace(enemyLua, "return M", "function M.unload(name) host.unload(name) end\nreturn M", 1)
	a, b := mustLoad(t, h, "a.lua", src, nil), mustLoad(t, h, "b.lua", src, nil)
	err := testtool.Returns(t, "Unload from a host function", func() error {
		if _, err := h.Call(context.Background(), a, "unload", "a.lua"); err != nil {
			return err
		}
		_, err := h.Call(context.Background(), a, "unload", "b.lua")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(errs[0], lua.ErrReentrant) || errs[1] != nil {
		t.Fatalf("Unload of its own script: %v, of another: %v; want ErrReentrant, then nil", errs[0], errs[1])
	}
	if got := call(t, h, a, "version"); got != "1" {
		t.Fatalf("a after the refused Unload: version %s", got)
	}
	if _, err := h.Call(context.Background(), b, "version"); !errors.Is(err, ErrUnloaded) {
		t.Fatalf("b after its Unload: %v, want ErrUnloaded", err)
	}
}

// Two Unloads at once: both wait for the call in progress (the second for the
// first); then one unloads and the other returns ErrUnloaded, the script gone and
// its name free.
func TestConcurrentUnloads(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	releaseCall := func() { once.Do(func() { close(release) }) }
	defer releaseCall() // on failure too, so that the Host can close
	h := hostWithLuaFunc(t, "block", func(context.Context, *lua.Call) ([]any, error) {
		entered <- struct{}{}
		<-release
		return nil, nil
	})
	ctx := context.Background()
	src := strings.Replace(enemyLua, "return M", "function M.block() host.block() end\nreturn M", 1)
	s := mustLoad(t, h, "p.lua", src, nil)
	go h.Call(ctx, s, "block")
	<-entered
	unloads := make(chan error, 2)
	for range 2 {
		go func() { unloads <- h.Unload(ctx, s) }()
	}
	select {
	case err := <-unloads:
		t.Fatalf("an Unload returned %v while a call was in progress", err)
	case <-time.After(50 * time.Millisecond):
	}
	releaseCall()
	errs := []error{<-unloads}
	if _, ok := h.Script("p.lua"); ok {
		t.Fatalf("an Unload returned (%v) with the script still in the Host", errs[0])
	}
	errs = append(errs, <-unloads)
	if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), ErrUnloaded) {
		t.Fatalf("Unloads returned %v, want one nil and one ErrUnloaded", errs)
	}
	mustLoad(t, h, "p.lua", src, nil) // the name is free
}

// A reload whose new chunk unloads its own script as it loads is refused that
// Unload (it would wait for the reload, which waits for the chunk) and goes on.
func TestUnloadFromStagingChunk(t *testing.T) {
	var h *Host
	var unloadErr error
	h = hostWithLuaFunc(t, "unload", func(ctx context.Context, c *lua.Call) ([]any, error) {
		s, _ := h.Script("p.lua")
		unloadErr = h.Unload(ctx, s)
		return nil, nil
	})
	s := mustLoad(t, h, "p.lua", enemyLua, nil)
	err := testtool.Returns(t, "a reload whose chunk unloads its script", func() error {
		return h.Reload(context.Background(), s, []byte("host.unload()\n"+enemyLua))
	})
	if err != nil || !errors.Is(unloadErr, lua.ErrReentrant) {
		t.Fatalf("reload: %v; Unload from its chunk: %v; want the reload to commit and the Unload refused", err, unloadErr)
	}
}

// A Lua script's contract is checked on the script as the runtime loads it, host
// functions and all: a chunk that calls a host function as it loads passes (it
// failed in a sandbox without them), each load runs the chunk once, and a chunk
// that breaks the contract is refused and leaves nothing loaded.
func TestLuaContractOnFirstLoad(t *testing.T) {
	ctx := context.Background()
	var logged []string
	h := hostWithLuaFunc(t, "log", func(_ context.Context, c *lua.Call) ([]any, error) {
		logged = append(logged, c.Script+": "+c.Args[0].(string))
		return nil, nil
	})
	contract := &ScriptOptions{Contract: &Contract{Exports: []string{"update"}}}
	const good = "host.log('loading')\nlocal M = {}\nfunction M.update() return 1 end\nreturn M"
	const bad = "host.log('loading')\nlocal M = {}\nfunction M.fire() end\nreturn M"

	_, err := h.LoadBytes(ctx, "bad.lua", []byte(bad), contract)
	if !errors.Is(err, ErrContract) || !strings.Contains(err.Error(), "update") {
		t.Fatalf("load breaking the contract: %v, want ErrContract naming update", err)
	}
	if _, ok := h.Script("bad.lua"); ok {
		t.Fatal("a script refused by its contract is still listed")
	}
	s := mustLoad(t, h, "good.lua", good, contract)
	if got := call(t, h, s, "update"); got != "1" {
		t.Fatalf("update = %s, want 1", got)
	}
	if want := []string{"bad.lua: loading", "good.lua: loading"}; !slices.Equal(logged, want) {
		t.Fatalf("host.log saw %q, want each chunk run once: %q", logged, want)
	}
	// The refused name is free again.
	mustLoad(t, h, "bad.lua", good, contract)
}

// hostWithLuaFunc returns a Host whose Lua runtime defines fn as host.name.
func hostWithLuaFunc(t *testing.T, name string, fn lua.HostFunc) *Host {
	t.Helper()
	return hostWithLuaFuncConfig(t, Config{}, name, fn)
}

// hostWithLuaFuncConfig is hostWithLuaFunc with cfg (whose Lua it sets).
func hostWithLuaFuncConfig(t *testing.T, cfg Config, name string, fn lua.HostFunc) *Host {
	t.Helper()
	rt, err := lua.NewRuntime(context.Background(), lua.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Define("host", name, fn); err != nil {
		t.Fatal(err)
	}
	cfg.Lua = rt
	h := newTestHost(t, cfg)
	t.Cleanup(func() { rt.Close(context.Background()) })
	return h
}

// TestSelfCheckOnRevert: a revert runs the self-check of the version it goes
// back to, with the state in place, and a failure says it was a revert.
func TestSelfCheckOnRevert(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Config{})
	s := mustLoad(t, h, "enemy.lua", `local M = { health = 100 }
function M.on_reload() return M.health > 50 end
return M`, nil)
	if err := h.Reload(ctx, s, []byte(`local M = { health = 100 }
function M.hurt() M.health = 0 end
return M`)); err != nil {
		t.Fatal(err)
	}
	call(t, h, s, "hurt")
	err := h.Revert(ctx, s)
	want := "hotscript: revert enemy.lua: self-check failed: on_reload on v1 returned false"
	if !errors.Is(err, ErrSelfCheck) || err == nil || err.Error() != want {
		t.Errorf("Revert = %v, want %q", err, want)
	}
	if s.Version() != 2 {
		t.Errorf("version %d after the failed revert, want 2", s.Version())
	}
}

// A reload whose staging Close interrupts fails with ErrClosed, not with the
// context error the engine saw (the Host cancels what is in flight).
func TestCloseDuringStagingSaysClosed(t *testing.T) {
	staging := make(chan struct{})
	h := hostWithLuaFunc(t, "staging", func(context.Context, *lua.Call) ([]any, error) {
		close(staging)
		return nil, nil
	})
	opts := &ScriptOptions{Limits: &Limits{MaxExecutionTime: time.Hour}} // a budget, which watches the context
	s := mustLoad(t, h, "p.lua", enemyLua, opts)
	p := h.ReloadAsync(context.Background(), s, []byte("host.staging() while true do end\n"+enemyLua))
	<-staging
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	if err := p.Err(); !errors.Is(err, ErrClosed) {
		t.Fatalf("reload interrupted by Close: %v, want ErrClosed", err)
	}
}

// Close ends a load in progress as it ends a reload: a chunk that runs on (or a
// compile that takes long) is given up, and the load fails with ErrClosed. Close
// waited for it, here for the hour of the script's limit.
func TestCloseDuringLoadSaysClosed(t *testing.T) {
	running := make(chan struct{})
	h := hostWithLuaFunc(t, "running", func(context.Context, *lua.Call) ([]any, error) {
		close(running)
		return nil, nil
	})
	opts := &ScriptOptions{Limits: &Limits{MaxExecutionTime: time.Hour}}
	loaded := make(chan error, 1)
	go func() {
		_, err := h.LoadBytes(context.Background(), "p.lua", []byte("host.running() while true do end"), opts)
		loaded <- err
	}()
	<-running
	testtool.Returns(t, "Close during a load", func() error { return h.Close(context.Background()) })
	if err := <-loaded; !errors.Is(err, ErrClosed) {
		t.Fatalf("load interrupted by Close: %v, want ErrClosed", err)
	}
}

// A load that its context stops (Ctrl-C in hotscript run) says nothing of the
// script: no Rejected event, as for a load the Host's Close stops.
func TestLoadStoppedByContextNotRejected(t *testing.T) {
	running := make(chan struct{})
	h := hostWithLuaFunc(t, "running", func(context.Context, *lua.Call) ([]any, error) {
		close(running)
		return nil, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	loaded := make(chan error, 1)
	go func() {
		_, err := h.LoadBytes(ctx, "p.lua", []byte("host.running() while true do end"),
			&ScriptOptions{Limits: &Limits{MaxExecutionTime: time.Hour}})
		loaded <- err
	}()
	<-running
	cancel()
	if err := <-loaded; !errors.Is(err, context.Canceled) {
		t.Fatalf("load stopped by its context: %v, want context.Canceled", err)
	}
	mustLoad(t, h, "next.lua", "return {}", nil)
	if ev := nextEvent(t, h, func(Event) bool { return true }); ev.Script != "next.lua" || ev.Kind != Loaded {
		t.Errorf("first event after the stopped load: %v, want next.lua loaded", ev)
	}
}

// Staging tells a host function that a reload's new version calls it as it
// stages, on the Host's goroutine; its error rejects the reload. A first load
// and the calls of the live version are not staging.
func TestStagingFromHostFunctions(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var seen []bool
	refuse := func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, Staging(ctx))
		if Staging(ctx) {
			return errors.New("not while staging")
		}
		return nil
	}
	lrt, err := lua.NewRuntime(ctx, lua.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer lrt.Close(ctx)
	err = lrt.Define("host", "touch", func(ctx context.Context, _ *lua.Call) ([]any, error) { return nil, refuse(ctx) })
	if err != nil {
		t.Fatal(err)
	}
	wrt, err := wasm.NewRuntime(ctx, wasm.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer wrt.Close(ctx)
	err = wrt.Define("host", "log", wasm.HostFunc{Params: []wasm.ValueType{wasm.I32, wasm.I32},
		Func: func(ctx context.Context, _ *wasm.Caller, _ []uint64) error { return refuse(ctx) }})
	if err != nil {
		t.Fatal(err)
	}
	for mode, name := range map[SwapMode]string{SwapImmediate: "SwapImmediate", SwapAtApply: "SwapAtApply"} {
		h := newTestHost(t, Config{Lua: lrt, WASM: wrt, Swap: mode})
		seen = nil
		chunk := "host.touch()\nreturn { f = function() host.touch() end }"
		l := mustLoad(t, h, "a.lua", chunk, nil)
		w, err := h.LoadBytes(ctx, "a.wasm", guest.Bytes("log_init"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.Call(ctx, l, "f"); err != nil {
			t.Fatal(err)
		}
		for s, code := range map[*Script][]byte{l: []byte(chunk + "\n"), w: guest.Bytes("log_init")} {
			p := h.ReloadAsync(ctx, s, code)
			<-p.Done() // a reload refused as it stages never waits for Apply
			if err := p.Err(); err == nil || !strings.Contains(err.Error(), "not while staging") {
				t.Errorf("%s: reload of %s: %v, want it rejected by its host function", name, s.Name(), err)
			}
			if s.Version() != 1 {
				t.Errorf("%s: %s at v%d after the rejected reload, want 1", name, s.Name(), s.Version())
			}
		}
		if want := []bool{false, false, false, true, true}; !slices.Equal(seen, want) {
			t.Errorf("%s: Staging in load, load, call, reload, reload = %v, want %v", name, seen, want)
		}
		h.Close(ctx)
	}
}

// A new file that Watch loads runs its top level on a goroutine of the Host's:
// Staging says so to the host functions it calls.
func TestStagingInWatchLoads(t *testing.T) {
	ctx := context.Background()
	h := hostWithLuaFunc(t, "touch", func(ctx context.Context, _ *lua.Call) ([]any, error) {
		if Staging(ctx) {
			return nil, errors.New("not while staging")
		}
		return nil, nil
	})
	dir := t.TempDir()
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "new.lua")
	if err := os.WriteFile(file, []byte("host.touch()\nreturn {}"), 0o600); err != nil {
		t.Fatal(err)
	}
	ev := nextEvent(t, h, func(ev Event) bool { return ev.Script == file })
	if ev.Kind != Rejected || ev.Err == nil || !strings.Contains(ev.Err.Error(), "not while staging") {
		t.Errorf("load of a new file calling host.touch at its top level: %v, want it rejected by Staging", ev)
	}
}

// TestReloadOfItselfWhileStaged: what a new version runs as it is staged (a
// Lua chunk's top level, a WASM _initialize) cannot Reload or Revert its own
// script, whose reloads wait for that staging: it fails with ErrReentrant,
// which rejects the version being staged, instead of waiting for good (and
// Close with it).
func TestReloadOfItselfWhileStaged(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name, file string
		v1, v2     []byte
		revert     bool
	}{
		{"lua reload", "s.lua", []byte("return {}"), []byte("host.log('again')\nreturn {}"), false},
		{"lua revert", "s.lua", []byte("return {}"), []byte("host.log('back')\nreturn {}"), true},
		{"wasm reload", "s.wasm", guest.Bytes("counter_v1"), guest.Bytes("log_init"), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var h *Host
			var s *Script
			inner := make(chan error, 1)
			again := func(ctx context.Context) error {
				var err error
				if tt.revert {
					err = h.Revert(ctx, s)
				} else {
					err = h.Reload(ctx, s, tt.v1)
				}
				inner <- err
				return err
			}
			lrt, err := lua.NewRuntime(ctx, lua.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			defer lrt.Close(ctx)
			wrt, err := wasm.NewRuntime(ctx, wasm.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			defer wrt.Close(ctx)
			lrt.Define("host", "log", func(ctx context.Context, _ *lua.Call) ([]any, error) { return nil, again(ctx) })
			wrt.Define("host", "log", wasm.HostFunc{Params: []wasm.ValueType{wasm.I32, wasm.I32},
				Func: func(ctx context.Context, _ *wasm.Caller, _ []uint64) error { return again(ctx) }})
			h = newTestHost(t, Config{Lua: lrt, WASM: wrt})
			s = mustLoad(t, h, tt.file, tt.v1, nil)
			err = testtool.Returns(t, "the staged version's own reload", func() error {
				return h.Reload(ctx, s, tt.v2)
			})
			if innerErr := <-inner; err == nil || !errors.Is(innerErr, lua.ErrReentrant) || !errors.Is(innerErr, wasm.ErrReentrant) {
				t.Fatalf("reload: %v; want it rejected by an ErrReentrant from the inner one", err)
			}
			if s.Version() != 1 {
				t.Errorf("version %d, want 1", s.Version())
			}
			testtool.Returns(t, "Close", func() error { return h.Close(ctx) })
		})
	}
}

// TestReloadFromOwnHostFunctionAtApply: under SwapAtApply, a Reload or Revert
// from the script's own host function, made in a call on the goroutine that
// calls Apply (a game's frame loop), fails at once with ErrReentrant: it could
// never commit (the commit waits for the call), and it waited for an Apply that
// the stuck goroutine would never make. Nothing is requested: no pending
// reload is superseded, no failed reload counted.
func TestReloadFromOwnHostFunctionAtApply(t *testing.T) {
	for _, op := range []string{"reload", "revert"} {
		t.Run(op, func(t *testing.T) {
			var h *Host
			var s *Script
			var inner error
			h = hostWithLuaFuncConfig(t, Config{Swap: SwapAtApply}, "reload_me", func(ctx context.Context, _ *lua.Call) ([]any, error) {
				if op == "reload" {
					inner = h.Reload(ctx, s, []byte(enemyLuaV2("")))
				} else {
					inner = h.Revert(ctx, s)
				}
				return nil, inner
			})
			src := strings.Replace(enemyLua, "return M", "function M.reload() host.reload_me() end\nreturn M", 1)
			s = mustLoad(t, h, "enemy.lua", src, nil)
			if op == "revert" { // something to revert to
				p := h.ReloadAsync(context.Background(), s, []byte(src+"\n"))
				for h.Apply(context.Background()) == 0 {
					time.Sleep(time.Millisecond)
				}
				if err := p.Err(); err != nil {
					t.Fatal(err)
				}
			}
			version := s.Version()
			pending := h.ReloadAsync(context.Background(), s, []byte(src+"\n\n")) // not superseded by the refusal
			err := testtool.Returns(t, "a call whose host function reloads its script", func() error {
				_, err := h.Call(context.Background(), s, "reload")
				return err
			})
			if !errors.Is(inner, lua.ErrReentrant) || !strings.Contains(inner.Error(), "called from a host function of enemy.lua") {
				t.Fatalf("%s from the script's own host function: %v, want lua.ErrReentrant", op, inner)
			}
			if err == nil || !strings.Contains(err.Error(), "host.reload_me: hotscript: "+op+" enemy.lua: called from a host function") {
				t.Errorf("the call: %v, want the host function's error", err)
			}
			for h.Apply(context.Background()) == 0 {
				time.Sleep(time.Millisecond)
			}
			if err := pending.Err(); err != nil || s.Version() != version+1 {
				t.Errorf("the pending reload: %v, version %d; want it committed as version %d", err, s.Version(), version+1)
			}
			if st := h.Stats(s); st.FailedReloads != 0 || st.Superseded != 0 {
				t.Errorf("stats %+v: the refusal counted as a reload", st)
			}
		})
	}
}

// TestApplyFromOwnHostFunction: an Apply called from a host function of a
// script whose reload is staged cannot commit it (the commit would wait for
// the call running the host function): the reload stays staged, and the next
// Apply from outside commits it. WASM's engine keeps it staged the same way
// (TestCommitFromOwnHostFunctionKeepsStaged in package wasm).
func TestApplyFromOwnHostFunction(t *testing.T) {
	ctx := context.Background()
	var h *Host
	var inner int
	h = hostWithLuaFuncConfig(t, Config{Swap: SwapAtApply}, "apply", func(ctx context.Context, _ *lua.Call) ([]any, error) {
		inner = h.Apply(ctx)
		return nil, nil
	})
	src := strings.Replace(enemyLua, "return M", "function M.apply() host.apply() end\nreturn M", 1)
	s := mustLoad(t, h, "enemy.lua", src, nil)
	p := h.ReloadAsync(ctx, s, []byte(strings.Replace(src, "return 1 end", "return 2 end", 1)))
	waitFor(t, "the reload staged", func() bool { return h.readyHint.Load() })
	if _, err := h.Call(ctx, s, "apply"); err != nil {
		t.Fatal(err)
	}
	if inner != 0 || s.Version() != 1 {
		t.Fatalf("Apply from the script's host function committed %d, version %d; want 0 and 1", inner, s.Version())
	}
	select {
	case <-p.Done():
		t.Fatalf("the reload was resolved by the inner Apply: %v", p.Err())
	default:
	}
	if n := h.Apply(ctx); n != 1 || s.Version() != 2 {
		t.Fatalf("the next Apply committed %d, version %d; want 1 and 2", n, s.Version())
	}
	if err := p.Err(); err != nil {
		t.Fatalf("the reload: %v", err)
	}
}

// TestApplyFromHostFunctionWhileAnotherWaits: under SwapAtApply, script a's
// host function reloads script c and waits for the Apply that commits it,
// while c's host function runs an Apply: the commit of c would wait for c's
// call, which runs that Apply. The commit carries the marks of both callers,
// so that Apply does not wait for itself: it leaves the reload staged, and the
// next Apply, from the program's loop, commits it.
func TestApplyFromHostFunctionWhileAnotherWaits(t *testing.T) {
	var h *Host
	var c *Script
	reloadErr, applied := make(chan error, 1), make(chan int, 1)
	staged := make(chan struct{})
	h = newTestHost(t, Config{Swap: SwapAtApply, Funcs: []HostFunc{
		{Module: "host", Name: "reload_c", Func: func(ctx context.Context, _ HostCall) error {
			reloadErr <- h.Reload(ctx, c, []byte("return { apply = function() host.apply() end, v = function() return 2 end }"))
			return nil
		}},
		{Module: "host", Name: "apply", Func: func(ctx context.Context, _ HostCall) error {
			<-staged
			applied <- h.Apply(ctx)
			return nil
		}},
	}})
	a := mustLoad(t, h, "a.lua", "return { f = function() host.reload_c() end }", nil)
	c = mustLoad(t, h, "c.lua", "return { apply = function() host.apply() end, v = function() return 1 end }", nil)
	go h.Call(context.Background(), a, "f")
	waitFor(t, "a's reload of c staged", func() bool { return h.readyHint.Load() })
	called := make(chan struct{})
	go func() { h.Call(context.Background(), c, "apply"); close(called) }()
	close(staged)
	var n int
	testtool.Returns(t, "Apply from c's host function", func() error { n = <-applied; return nil })
	<-called
	if n != 0 || c.Version() != 1 {
		t.Fatalf("Apply from c's host function committed %d, c at v%d; want 0 and v1", n, c.Version())
	}
	if n := h.Apply(context.Background()); n != 1 {
		t.Fatalf("the next Apply committed %d, want 1", n)
	}
	var err error
	testtool.Returns(t, "a's Reload of c", func() error { err = <-reloadErr; return nil })
	if err != nil || c.Version() != 2 {
		t.Errorf("a's Reload of c: %v, c at v%d; want it committed, v2", err, c.Version())
	}
}

// TestReloadAsyncFromStaging: what a new version runs as it is staged may
// start reloads of other scripts with ReloadAsync: they go on after that
// staging's reload resolves, and their own commits are no staging.
func TestReloadAsyncFromStaging(t *testing.T) {
	var h *Host
	var b *Script
	var p *Pending
	stagingInHook := make(chan bool, 1)
	h = newTestHost(t, Config{Funcs: []HostFunc{
		{Module: "host", Name: "kick", Func: func(ctx context.Context, _ HostCall) error {
			p = h.ReloadAsync(ctx, b, []byte("local M = { v = function() return 2 end }\nfunction M.on_reload() host.seen() end\nreturn M"))
			return nil
		}},
		{Module: "host", Name: "seen", Func: func(ctx context.Context, _ HostCall) error {
			stagingInHook <- Staging(ctx)
			return nil
		}},
	}})
	a := mustLoad(t, h, "a.lua", "return { v = function() return 1 end }", nil)
	b = mustLoad(t, h, "b.lua", "return { v = function() return 1 end }", nil)
	if err := h.Reload(context.Background(), a, []byte("host.kick() return { v = function() return 2 end }")); err != nil {
		t.Fatal(err)
	}
	testtool.Returns(t, "b's reload", func() error { <-p.Done(); return nil })
	if err := p.Err(); err != nil || b.Version() != 2 {
		t.Fatalf("b's reload from a's staging: %v, b at v%d; want it committed", err, b.Version())
	}
	if <-stagingInHook {
		t.Error("Staging(ctx) is true in b's self-check, a commit")
	}
}

// TestStagedVersionsReloadingEachOther: a new version of s whose top level
// reloads t, whose new version's top level reloads s, would have each staging
// wait for the other for good (and Close with them): a Reload from what a
// version being staged runs is refused, so s's reload is rejected at once.
func TestStagedVersionsReloadingEachOther(t *testing.T) {
	var h *Host
	scripts := map[string]*Script{}
	next := map[string]string{
		"s.lua": `host.reload("t.lua") return { v = function() return 2 end }`,
		"t.lua": `host.reload("s.lua") return { v = function() return 2 end }`,
	}
	h = newTestHost(t, Config{Funcs: []HostFunc{{Module: "host", Name: "reload", Params: []Type{String},
		Func: func(ctx context.Context, c HostCall) error {
			return h.Reload(ctx, scripts[c.Str(0)], []byte(next[c.Str(0)]))
		}}}})
	for name := range next {
		scripts[name] = mustLoad(t, h, name, `return { v = function() return 1 end }`, nil)
	}
	err := testtool.Returns(t, "the reload of s", func() error {
		return h.Reload(context.Background(), scripts["s.lua"], []byte(next["s.lua"]))
	})
	if !errors.Is(err, lua.ErrRuntime) || !strings.Contains(err.Error(), "host.reload: hotscript: reload t.lua: called from a reload being staged of s.lua") {
		t.Fatalf("reload of s: %v, want the staging's Reload of t refused", err)
	}
	for name, s := range scripts {
		if s.Version() != 1 {
			t.Errorf("%s at v%d, want 1", name, s.Version())
		}
	}
	testtool.Returns(t, "Close", func() error { return h.Close(context.Background()) })
}

// A version still being built when a newer request comes stops being built:
// the newer one does not wait for it (a Lua chunk that waits at its top level,
// runs for seconds or compiles for seconds would hold every later save back).
func TestSupersededBuildStops(t *testing.T) {
	var started atomic.Bool
	h := hostWithLuaFunc(t, "wait", func(ctx context.Context, _ *lua.Call) ([]any, error) {
		started.Store(true)
		<-ctx.Done() // as a host function waiting on the staging's context
		return nil, context.Cause(ctx)
	})
	ctx := context.Background()
	s, err := h.LoadBytes(ctx, "s.lua", []byte("return { version = function() return 1 end }"), nil)
	if err != nil {
		t.Fatal(err)
	}
	a := h.ReloadAsync(ctx, s, []byte("host.wait() return {}"))
	waitFor(t, "a to run its chunk", started.Load)
	b := h.ReloadAsync(ctx, s, []byte("return { version = function() return 3 end }"))
	select {
	case <-b.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the newer reload waits for the older one, which is not stopped")
	}
	if err := b.Err(); err != nil {
		t.Fatalf("b: %v", err)
	}
	if err := waitPending(a); !errors.Is(err, ErrSuperseded) || a.Event().Kind != Superseded {
		t.Errorf("a: %v, event %v; want superseded", err, a.Event())
	}
	if got := call(t, h, s, "version"); got != "3" {
		t.Errorf("version() = %s, want 3", got)
	}
}

// A Lua runtime that goes on past a failing on_save: the Host's commit event
// says why, as Reset, with the fields carried; without the option the fix is
// rejected, naming the live version's on_save.
func TestLuaReloadPastFailingOnSaveEvent(t *testing.T) {
	ctx := context.Background()
	const body = "local M = {n = 1}\nfunction M.bump() M.n = M.n + 1 return M.n end\n"
	broken := body + "function M.on_save() error('typo') end\nreturn M"
	fixed := body + "function M.on_save() return {} end\nreturn M"
	for _, past := range []bool{false, true} {
		lrt, err := lua.NewRuntimeWithConfig(ctx, lua.Config{ReloadPastFailingOnSave: past})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { lrt.Close(ctx) })
		h := newTestHost(t, Config{Lua: lrt})
		s := mustLoad(t, h, "p.lua", body+"return M", nil)
		call(t, h, s, "bump")
		if err := h.Reload(ctx, s, []byte(broken)); err != nil {
			t.Fatal(err)
		}
		err = h.Reload(ctx, s, []byte(fixed))
		ev := lastEvent(t, h)
		switch {
		case !past && (err == nil || !strings.Contains(err.Error(), "on_save of the live version")):
			t.Errorf("without the option, the fix: %v, want it rejected naming the live version's on_save", err)
		case past && (err != nil || ev.Kind != Committed || !ev.PastFailingOnSave() || !strings.Contains(ev.Reset.Error(), "p.lua:3: typo")):
			t.Errorf("with the option, the fix: %v, event %v; want committed past on_save, its Reset naming the typo", err, ev)
		case past && call(t, h, s, "bump") != "3":
			t.Error("n not carried past the failing on_save")
		}
	}
}
