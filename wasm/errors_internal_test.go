package wasm

import (
	"errors"
	"slices"
	"testing"
)

func TestSplitTrace(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		msg   string
		trace []string
	}{
		{"plain", "boom", "boom", nil},
		{"trap", "wasm error: unreachable\nwasm stack trace:\n\t.$3()\n\t.$1(i32) i32", "unreachable", []string{".$3()", ".$1(i32) i32"}},
		{"host error", "host.log: no (recovered by wazero)\nwasm stack trace:\n\thost.log(i32,i32)\n\t.$2()", "host.log: no", []string{"host.log(i32,i32)", ".$2()"}},
		{"go panic", "runtime error: x (recovered by wazero)\nwasm stack trace:\n\t.$0()\n\nGo runtime stack trace:\ngoroutine 1", "runtime error: x", []string{".$0()"}},
		{"start", "start function[0] failed: wasm error: unreachable\nwasm stack trace:\n\t.$0()", "start function failed: unreachable", []string{".$0()"}},
		{"start export", `start function[1] export["a]b","f"] failed: wasm error: unreachable`, "start function failed: unreachable", nil},
		{"initialize", "module[] function[_initialize] failed: host.log: no (recovered by wazero)", "_initialize failed: host.log: no", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, trace := splitTrace(tt.in)
			if msg != tt.msg || !slices.Equal(trace, tt.trace) {
				t.Errorf("splitTrace = %q, %q; want %q, %q", msg, trace, tt.msg, tt.trace)
			}
		})
	}
}

func TestFrameNames(t *testing.T) {
	tests := []struct {
		name   string
		frames frameNames
		in     []string
		want   []string
	}{
		{"plain", frameNames{exports: map[uint32]string{3: "tick", 1: "add"}},
			[]string{".$3()", ".$1(i32,i32) i32", ".$2()", "host.log(i32,i32)", ".named()"},
			[]string{"tick()", "add(i32,i32) i32", "$2()", "host.log(i32,i32)", "named()"}},
		{"instrumented", frameNames{exports: map[uint32]string{4: "run"}, metered: true, refuel: 1},
			[]string{"hotscript.refuel()", ".$3()", ".$4()", ".$0()", "host.log(i32,i32)"},
			[]string{"$2()", "run()", "$0()", "host.log(i32,i32)"}},
		{"module name", frameNames{module: "game", exports: map[uint32]string{4: "run"}, metered: true, refuel: 1},
			[]string{"hotscript.refuel()", "game.$3()", "game.$4()", "game.step()", "host.log(i32,i32)"},
			[]string{"$2()", "run()", "step()", "host.log(i32,i32)"}},
		{"module named as a host module", frameNames{module: "host", imports: map[string]bool{"host.log": true}, exports: map[uint32]string{1: "run"}},
			[]string{"host.log(i32,i32)", "host.$1()", "host.step()"},
			[]string{"host.log(i32,i32)", "run()", "step()"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.frames.rewrite(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("rewrite = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	cause := errors.New("integer divide by zero")
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Op: "call", Script: "enemy.wasm", Func: "div", Kind: ErrTrap, Err: cause, Trace: []string{"div(i32,i32) i32"}},
			"wasm: call enemy.wasm div: trap: integer divide by zero\nwasm stack trace:\n\tdiv(i32,i32) i32"},
		{&Error{Op: "load", Script: "a", Kind: ErrClosed}, "wasm: load a: runtime closed"},
		{&Error{Op: "inspect", Kind: ErrCompile, Err: cause}, "wasm: inspect: compile failed: integer divide by zero"},
		{&Error{Op: "call", Script: "a", Func: "f", Err: cause}, "wasm: call a f: integer divide by zero"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
		if tt.err.Kind != nil && !errors.Is(tt.err, tt.err.Kind) || tt.err.Err != nil && !errors.Is(tt.err, cause) {
			t.Errorf("%q does not match its Kind and cause", tt.err)
		}
	}
	for _, limit := range []error{ErrInstructionLimit, ErrTimeout, ErrMemoryLimit, ErrStackOverflow} {
		if !errors.Is(limit, ErrLimit) || errors.Is(limit, ErrTrap) {
			t.Errorf("%v: Is(ErrLimit) = %v, Is(ErrTrap) = %v", limit, errors.Is(limit, ErrLimit), errors.Is(limit, ErrTrap))
		}
	}
}
