package hotscript

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotscript/hotscript/wasm"
)

// fakeEngine is a scripted engine for driving the reload state machine into
// interleavings the real engines make hard to hit. A script's code is text:
//
//	v<N>[;exports=a|b(f32)][;gate=NAME][;loadgate=NAME][;fail=stage|commit]
//
// version() returns N; inc() and get() work a per-instance counter; get_state and
// set_state move it as {"n":...}. gate=NAME blocks staging until the test opens it,
// loadgate=NAME a first load under the script name NAME (its base name).
var errFake = errors.New("fake: failure")

type fakeEngine struct {
	mu     sync.Mutex
	gates  map[string]chan struct{}
	stages atomic.Int64 // stages started
	loads  atomic.Int64 // loads started
	closed atomic.Bool
}

func newFakeEngine() *fakeEngine { return &fakeEngine{gates: map[string]chan struct{}{}} }

func (e *fakeEngine) gate(name string) chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	g, ok := e.gates[name]
	if !ok {
		g = make(chan struct{})
		e.gates[name] = g
	}
	return g
}

func (e *fakeEngine) open(name string) { close(e.gate(name)) }

type fakeCode struct {
	version int
	exports []Func
	gate    string
	load    string // loadgate
	fail    string
}

func parseFake(code []byte) (fakeCode, error) {
	parts := strings.Split(string(code), ";")
	n, err := strconv.Atoi(strings.TrimPrefix(parts[0], "v"))
	if err != nil || !strings.HasPrefix(parts[0], "v") {
		return fakeCode{}, fmt.Errorf("%w: bad code %q", errFake, code)
	}
	c := fakeCode{version: n, exports: []Func{{Name: "version", Typed: true, Results: []string{"i32"}}}}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		switch k {
		case "exports":
			for _, f := range strings.Split(v, "|") {
				fn, err := parseFunc(f)
				if err != nil {
					return fakeCode{}, err
				}
				c.exports = append(c.exports, fn)
			}
		case "gate":
			c.gate = v
		case "loadgate":
			c.load = v
		case "fail":
			c.fail = v
		}
	}
	return c, nil
}

func (e *fakeEngine) inspect(_ context.Context, _ string, code []byte) (Interface, bool, error) {
	c, err := parseFake(code)
	return Interface{Exports: c.exports}, err == nil, err
}

func (e *fakeEngine) load(ctx context.Context, name string, code []byte, _ *Limits) (unit, error) {
	e.loads.Add(1)
	c, err := parseFake(code)
	if err != nil {
		return nil, err
	}
	if c.load != "" && c.load == filepath.Base(name) {
		select {
		case <-e.gate(c.load):
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
	u := &fakeUnit{e: e, name: name}
	u.live.Store(&fakeInst{code: c})
	return u, nil
}

func (e *fakeEngine) close(context.Context) error {
	e.closed.Store(true)
	return nil
}

type fakeInst struct {
	code    fakeCode
	mu      sync.Mutex
	state   int
	retired bool
}

func (i *fakeInst) exports() []Func { return i.code.exports }

// callRaw: a fake's exports are untyped (but version), so no migration calls
// one with numbers as they are.
func (i *fakeInst) callRaw(context.Context, string, []uint64) ([]uint64, error) {
	return nil, errors.New("fake engine: no raw calls")
}

// err and clearErr: a fake call that fails changes nothing, so none is held
// against a migration.
func (i *fakeInst) err() error { return nil }
func (i *fakeInst) clearErr()  {}

func (i *fakeInst) callJSON(_ context.Context, fn string, args []any) (json.RawMessage, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.do(fn, args)
}

func (i *fakeInst) do(fn string, args []any) (json.RawMessage, error) {
	switch fn {
	case "version":
		return json.RawMessage(strconv.Itoa(i.code.version)), nil
	case "inc":
		i.state++
		return json.RawMessage(strconv.Itoa(i.state)), nil
	case "get":
		return json.RawMessage(strconv.Itoa(i.state)), nil
	case "get_state":
		return json.RawMessage(fmt.Sprintf(`{"n":%d}`, i.state)), nil
	case "set_state":
		var doc struct{ N int }
		if err := json.Unmarshal(args[0].(json.RawMessage), &doc); err != nil {
			return nil, err
		}
		i.state = doc.N
		return json.RawMessage("null"), nil
	case "on_reload":
		if i.code.fail == "selfcheck" {
			return json.RawMessage("1"), nil
		}
		return json.RawMessage("0"), nil
	case "fail":
		return nil, fmt.Errorf("%w: %s trapped", errFake, fn)
	}
	return nil, fmt.Errorf("%w: no function %s", errFake, fn)
}

type fakeUnit struct {
	e        *fakeEngine
	name     string
	swap     sync.Mutex
	live     atomic.Pointer[fakeInst]
	unloaded atomic.Bool
}

func (u *fakeUnit) call(_ context.Context, fn string, args []any) (json.RawMessage, error) {
	if u.unloaded.Load() {
		return nil, fmt.Errorf("fake: call %s: %w", u.name, wasm.ErrNotFound)
	}
	for {
		in := u.live.Load()
		in.mu.Lock()
		if !in.retired {
			defer in.mu.Unlock()
			return in.do(fn, args)
		}
		in.mu.Unlock()
	}
}

func (u *fakeUnit) reentered(context.Context) bool { return false } // a fake unit runs no host functions

func (u *fakeUnit) iface(context.Context) (Interface, error) {
	return Interface{Exports: u.live.Load().code.exports}, nil
}

func (u *fakeUnit) unload(context.Context) error {
	if u.unloaded.Swap(true) {
		return fmt.Errorf("fake: unload %s: %w", u.name, wasm.ErrNotFound)
	}
	return nil
}

func (u *fakeUnit) stage(ctx context.Context, code []byte) (staged, error) {
	u.e.stages.Add(1)
	c, err := parseFake(code)
	if err != nil {
		return nil, err
	}
	if c.gate != "" {
		select {
		case <-u.e.gate(c.gate):
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
	if c.fail == "stage" {
		return nil, fmt.Errorf("%w: stage of v%d", errFake, c.version)
	}
	return &fakeStaged{u: u, in: &fakeInst{code: c}}, nil
}

type fakeStaged struct {
	u         *fakeUnit
	in        *fakeInst
	discarded atomic.Bool
	committed bool
}

func (s *fakeStaged) iface() Interface { return Interface{Exports: s.in.code.exports} }

func (s *fakeStaged) commit(ctx context.Context, p *commitPlan) (commitResult, error) {
	if s.discarded.Load() {
		return commitResult{}, fmt.Errorf("%w: commit after discard", errFake)
	}
	s.u.swap.Lock()
	defer s.u.swap.Unlock()
	start := time.Now()
	old := s.u.live.Load()
	old.mu.Lock() // callers of the old instance wait here
	defer old.mu.Unlock()
	if s.in.code.fail == "commit" {
		return commitResult{blocked: time.Since(start)}, fmt.Errorf("%w: commit of v%d", errFake, s.in.code.version)
	}
	carried, reset, err := runMigration(ctx, p, lockedInst{old}, s.in)
	if err != nil {
		return commitResult{blocked: time.Since(start)}, err
	}
	old.retired = true
	s.u.live.Store(s.in)
	s.committed = true
	return commitResult{carried: carried, reset: reset, blocked: time.Since(start)}, nil
}

// lockedInst calls an instance whose mutex the commit already holds.
type lockedInst struct{ *fakeInst }

func (l lockedInst) callJSON(_ context.Context, fn string, args []any) (json.RawMessage, error) {
	return l.do(fn, args)
}

func (s *fakeStaged) discard(context.Context) { s.discarded.Store(true) }
