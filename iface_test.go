package hotscript

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/hotscript/hotscript/internal/hostguest"
)

func TestParseFunc(t *testing.T) {
	tests := []struct {
		in      string
		want    string // String() of the parsed Func
		typed   bool
		invalid bool
	}{
		{"update(f32)", "update(f32)", true, false},
		{" add(i32,i32) i32 ", "add(i32, i32) i32", true, false},
		{"get_state() (i32, i32)", "get_state() (i32, i32)", true, false},
		{"noop()", "noop()", true, false},
		{"fire", "fire", false, false},
		{"f(i33)", "", false, true},
		{"f(i32", "", false, true},
		{"(i32)", "", false, true},
		{"", "", false, true},
		{"two words", "", false, true},
		{"f() (i32, x)", "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			f, err := parseFunc(tt.in)
			if tt.invalid {
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("parseFunc(%q) = %v, %v; want ErrInvalid", tt.in, f, err)
				}
				return
			}
			if err != nil || f.String() != tt.want || f.Typed != tt.typed {
				t.Errorf("parseFunc(%q) = %q typed %v, %v; want %q typed %v", tt.in, f, f.Typed, err, tt.want, tt.typed)
			}
		})
	}
}

func TestDiffInterfaces(t *testing.T) {
	fn := func(s string) Func {
		f, err := parseFunc(s)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	imp := func(mod, s string) Func { f := fn(s); f.Module = mod; return f }
	tests := []struct {
		name      string
		old, next Interface
		want      string
	}{
		{"same", Interface{Exports: []Func{fn("a()")}}, Interface{Exports: []Func{fn("a()")}}, "no interface changes"},
		{"added removed changed",
			Interface{Exports: []Func{fn("update(f32)"), fn("fire()")}},
			Interface{Exports: []Func{fn("update(f64)"), fn("jump(i32)")}},
			"removed: fire(); added: jump(i32); update: was update(f32), now update(f64)"},
		{"imports", Interface{Imports: []Func{imp("host", "log(i32, i32)")}},
			Interface{Imports: []Func{imp("host", "log(i32, i32)"), imp("env", "abort()")}},
			"import added: env.abort()"},
		{"untyped matches any signature", Interface{Exports: []Func{fn("update")}},
			Interface{Exports: []Func{fn("update(f64)")}}, "no interface changes"},
		{"sorted", Interface{}, Interface{Exports: []Func{fn("b()"), fn("a()")}}, "added: a(); added: b()"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := diffInterfaces(tt.old, tt.next)
			if got := d.String(); got != tt.want {
				t.Errorf("diff = %q, want %q", got, tt.want)
			}
			if d.Empty() != (tt.want == "no interface changes") {
				t.Errorf("Empty() = %v", d.Empty())
			}
		})
	}
}

func TestContractViolations(t *testing.T) {
	c, err := compileContract(&Contract{Exports: []string{"update(f32)", "fire"}})
	if err != nil {
		t.Fatal(err)
	}
	fn := func(s string) Func { f, _ := parseFunc(s); return f }
	old := Interface{Exports: []Func{fn("update(f32)"), fn("fire()")}}
	tests := []struct {
		name string
		old  *Interface
		next Interface
		want []string
	}{
		{"kept", &old, Interface{Exports: []Func{fn("update(f32)"), fn("fire(i32)")}}, nil},
		{"reload breaks", &old, Interface{Exports: []Func{fn("update(f64)")}},
			[]string{"update: was update(f32), now update(f64)", "removed: fire()"}},
		{"first load breaks", nil, Interface{Exports: []Func{fn("update(i32)")}},
			[]string{"update: contract wants update(f32), script has update(i32)", "missing: fire"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.violations(tt.old, tt.next)
			if len(got) != len(tt.want) {
				t.Fatalf("violations = %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("violation %d = %q, want %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestEventDiffOwned: an Event's Diff is its receiver's: changing it changes
// neither the script's Interface nor later diffs.
func TestEventDiffOwned(t *testing.T) {
	h := newTestHost(t, Config{})
	s := mustLoad(t, h, "enemy.wasm", hostguest.Bytes("enemy_v1"), nil)
	ev := lastEvent(t, h)
	for _, changes := range []Changes{ev.Diff.Exports, ev.Diff.Imports} {
		for _, f := range changes.Added {
			for i := range f.Params {
				f.Params[i] = "v128"
			}
			for i := range f.Results {
				f.Results[i] = "v128"
			}
		}
	}
	for _, f := range append(s.Interface().Exports, s.Interface().Imports...) {
		for _, p := range append(f.Params, f.Results...) {
			if p == "v128" {
				t.Fatalf("changing a Loaded event's Diff changed the script's Interface: %v", f)
			}
		}
	}
}

// TestPendingEventOwned: the event a Pending hands out and the one the Events
// channel delivers share nothing: each receiver may change its own.
func TestPendingEventOwned(t *testing.T) {
	h := newTestHost(t, Config{})
	s := mustLoad(t, h, "enemy.wasm", hostguest.Bytes("enemy_v1"), nil)
	lastEvent(t, h) // Loaded
	p := h.ReloadAsync(context.Background(), s, hostguest.Bytes("enemy_f64"))
	<-p.Done()
	ev := lastEvent(t, h)
	if len(ev.Diff.Exports.Changed) == 0 || len(ev.Diff.Exports.Removed) == 0 {
		t.Fatalf("no diff to change: %v", ev.Diff)
	}
	want := p.Event().Diff.String()
	ev.Diff.Exports.Removed[0].Name = "changed"
	ev.Diff.Exports.Changed[0].New.Params[0] = "v128"
	mine := p.Event()
	mine.Diff.Exports.Changed[0].Old.Params[0] = "v128"
	if got := p.Event().Diff.String(); got != want {
		t.Errorf("the Pending's event changed with the channel's or a caller's copy: %q, want %q", got, want)
	}
}

// TestEventOwnedAsItArrives: a receiver may change the event it got at once,
// while the Host resolves the reload's Pending: the Host copied the event for
// the Pending after sending it, reading what the receiver wrote (a data race
// under -race, and the receiver's changes in the Pending's event).
func TestEventOwnedAsItArrives(t *testing.T) {
	h := newTestHost(t, Config{EventBuffer: 1024})
	src := func(i int) string { return fmt.Sprintf("local M = {a = 1, b = 2}\nfunction M.f%d() end\nreturn M", i) }
	s := mustLoad(t, h, "s.lua", src(0), nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range h.Events() {
			for i := range ev.Carried {
				ev.Carried[i] = "mine"
			}
			for i := range ev.Diff.Exports.Added {
				ev.Diff.Exports.Added[i].Name = "mine"
			}
		}
	}()
	var ps []*Pending
	for i := 1; i < 100; i++ {
		p := h.ReloadAsync(context.Background(), s, []byte(src(i)))
		<-p.Done()
		ps = append(ps, p)
	}
	for _, p := range ps {
		ev := p.Event()
		if slices.Contains(ev.Carried, "mine") || len(ev.Diff.Exports.Added) != 1 || ev.Diff.Exports.Added[0].Name == "mine" {
			t.Fatalf("a Pending's event has what the Events receiver wrote: %v %v", ev.Carried, ev.Diff)
		}
	}
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-done
}

// TestContractErrorOwned: a rejected reload's ContractError shares no Diff with
// the event that reported it.
func TestContractErrorOwned(t *testing.T) {
	h := newTestHost(t, Config{})
	s := mustLoad(t, h, "enemy.wasm", hostguest.Bytes("enemy_v1"), &ScriptOptions{Contract: &Contract{Exports: []string{"update(f32)", "fire"}}})
	lastEvent(t, h) // Loaded
	p := h.ReloadAsync(context.Background(), s, hostguest.Bytes("enemy_f64"))
	<-p.Done()
	var ce *ContractError
	if !errors.As(p.Err(), &ce) || len(ce.Diff.Exports.Removed) == 0 {
		t.Fatalf("reload: %v, want a ContractError with a diff", p.Err())
	}
	want := ce.Diff.String()
	ev := lastEvent(t, h)
	ev.Diff.Exports.Removed[0].Name = "changed"
	if got := ce.Diff.String(); got != want {
		t.Errorf("the ContractError's diff changed with the event's: %q, want %q", got, want)
	}
}
