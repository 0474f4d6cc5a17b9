package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotscript/hotscript"
	"github.com/hotscript/hotscript/lua"
	"github.com/hotscript/hotscript/wasm"
	"github.com/hotscript/hotscript/watch"
)

func TestByteSize(t *testing.T) {
	tests := []struct {
		in      string
		want    uint64
		wantErr bool
	}{
		{"0", 0, false},
		{"4096", 4096, false},
		{"16MiB", 16 << 20, false},
		{"16mib", 16 << 20, false},
		{"64KiB", 64 << 10, false},
		{"1GiB", 1 << 30, false},
		{"64MB", 64e6, false},
		{"2kb", 2000, false},
		{"512m", 512 << 20, false},
		{"1.5K", 1536, false},
		{"100 B", 100, false},
		{"lots", 0, true},
		{"-1MiB", 0, true},
		{"MiB", 0, true},
		{"1e30GiB", 0, true},
		{"0.5", 0, true},     // 0 bytes would mean no limit
		{"0.4b", 0, true},    // likewise
		{"0.0MiB", 0, false}, // exactly 0: no limit, as asked
		{"0.5k", 512, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var s byteSize
			err := s.Set(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Set(%q) error %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err == nil && uint64(s) != tt.want {
				t.Errorf("Set(%q) = %d, want %d", tt.in, uint64(s), tt.want)
			}
		})
	}
	for _, tt := range []struct {
		v    byteSize
		want string
	}{{0, "0"}, {64 << 10, "64KiB"}, {16 << 20, "16MiB"}, {3 << 30, "3GiB"}, {1000, "1000"}} {
		if got := tt.v.String(); got != tt.want {
			t.Errorf("byteSize(%d).String() = %q, want %q", uint64(tt.v), got, tt.want)
		}
	}
}

func TestParseArg(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    any
		wantErr bool
	}{
		{"int", "42", json.Number("42"), false},
		{"negative int", "-7", json.Number("-7"), false},
		{"uint64 beyond int64", "18446744073709551615", json.Number("18446744073709551615"), false},
		{"float", " 0.016", json.Number("0.016"), false},
		{"exponent", "1e3", json.Number("1e3"), false},
		{"negative zero", "-0", json.Number("-0"), false},
		{"an integer past 2^53", "9007199254740993.0", json.Number("9007199254740993.0"), false},
		{"integer past uint64", "18446744073709551617", nil, true},
		{"integer below int64", "-9223372036854775809", nil, true},
		{"past uint64 as a float", "18446744073709551617.0", json.Number("18446744073709551617.0"), false},
		{"past the float range", "1e400", nil, true},
		{"string", `"hi"`, "hi", false},
		{"escaped string", `"a\nb"`, "a\nb", false},
		{"true", "true", true, false},
		{"false", "false", false, false},
		{"null", "null", nil, false},
		{"object", `{"a": 1}`, json.RawMessage(`{"a": 1}`), false},
		{"array", ` [1,2] `, json.RawMessage(`[1,2]`), false},
		{"bare word", "hello", nil, true},
		{"empty", "", nil, true},
		{"two values", "1 2", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseArg(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseArg(%q) error %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if fmt.Sprintf("%T %v", got, got) != fmt.Sprintf("%T %v", tt.want, tt.want) {
				t.Errorf("parseArg(%q) = %T %v, want %T %v", tt.in, got, got, tt.want, tt.want)
			}
		})
	}
}

func TestColumns(t *testing.T) {
	st := style{color: true}
	var b bytes.Buffer
	writeColumns(&b, [][]string{
		{"a", st.good("committed"), "x"},
		{"longer", "no", "y"},
		{"é", "mid", ""},
	}, "  ")
	want := "a       committed  x\n" +
		"longer  no         y\n" +
		"é       mid\n"
	if got := stripColour(b.String()); got != want {
		t.Errorf("columns:\n%s\nwant:\n%s", got, want)
	}
	if w := width(st.bad("abc")); w != 3 {
		t.Errorf("width of a coloured word = %d, want 3", w)
	}
	if got := pad(st.bold("ab"), 4); stripColour(got) != "ab  " {
		t.Errorf("pad = %q", got)
	}
}

func stripColour(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			i += strings.IndexByte(s[i:], 'm')
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestDuration(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0"}, {500, "500ns"}, {14 * time.Microsecond, "14µs"},
		{21300 * time.Microsecond, "21.3ms"}, {1200 * time.Millisecond, "1.20s"},
	} {
		if got := duration(tt.d); got != tt.want {
			t.Errorf("duration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestStyleFor(t *testing.T) {
	if styleFor(&bytes.Buffer{}).color {
		t.Error("colour on for a buffer")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if styleFor(w).color {
		t.Error("colour on for a pipe")
	}
	if (style{}).good("x") != "x" {
		t.Error("a colourless style painted")
	}
	if got := (style{color: true}).bad("x"); got != "\x1b[31mx\x1b[0m" {
		t.Errorf("bad(x) = %q", got)
	}
	// A terminal, where the test has one, gets colour unless NO_COLOR is set.
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		t.Setenv("NO_COLOR", "1")
		if styleFor(tty).color {
			t.Error("colour on with NO_COLOR set")
		}
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		head   string
		detail []string
	}{
		{"lua error leads with file:line", fmt.Errorf("hotscript: reload enemy.lua: %w", &lua.Error{
			Op: "reload", Script: "enemy.lua", Function: "update", Line: 12,
			Message: "enemy.lua:12: attempt to index a nil value", Traceback: "stack traceback:\n\tenemy.lua:12: in update",
			Kind: lua.ErrRuntime,
		}), "enemy.lua:12: attempt to index a nil value (in update)", []string{"stack traceback:", "enemy.lua:12: in update"}},
		{"lua error without a position", &lua.Error{Script: "a.lua", Message: "boom", Kind: lua.ErrRuntime},
			"a.lua: boom", nil},
		{"wasm trap", &wasm.Error{Op: "call", Script: "enemy.wasm", Func: "update", Kind: wasm.ErrTrap,
			Err: errors.New("unreachable"), Trace: []string{"update()", "main()"}},
			"enemy.wasm: update: trap: unreachable", []string{"update()", "main()"}},
		{"wasm trap in a module with debug information", &wasm.Error{Op: "call", Script: "enemy.wasm", Func: "update",
			Kind: wasm.ErrTrap, Err: errors.New("integer divide by zero"),
			Trace: []string{"update(f32)", "0x1a: my util.h:4:11 (inlined)", "0x46f: enemy.c:10:11", "main()", "enemy.c:14:9"}},
			"enemy.wasm: update: trap: integer divide by zero (at my util.h:4:11)",
			[]string{"update(f32)", "0x1a: my util.h:4:11 (inlined)", "0x46f: enemy.c:10:11", "main()", "enemy.c:14:9"}},
		{"wasm trap in a module of a directory", &wasm.Error{Op: "call", Script: "one/t.wasm", Func: "f",
			Kind: wasm.ErrTrap, Err: errors.New("unreachable"), Trace: []string{"f()", "t.c:5:11"}},
			"one/t.wasm: f: trap: unreachable (at one/t.c:5:11)", []string{"f()", "one/t.c:5:11"}},
		{"wasm cause repeating its kind", &wasm.Error{Script: "m.wasm", Kind: wasm.ErrMemoryLimit,
			Err: errors.New("wasm: memory limit exceeded: 2 pages")}, "m.wasm: memory limit exceeded: 2 pages", nil},
		{"contract", fmt.Errorf("hotscript: reload e.wasm: %w", &hotscript.ContractError{Script: "e.wasm",
			Violations: []string{"update: was update(f32), now update(f64)", "removed: fire()"}}),
			"e.wasm: breaks its contract: update: was update(f32), now update(f64); removed: fire()", nil},
		{"migration", fmt.Errorf("hotscript: reload e.wasm: %w: %w", hotscript.ErrMigration,
			&wasm.Error{Script: "e.wasm", Func: "set_state", Kind: wasm.ErrTrap, Err: errors.New("unreachable")}),
			"e.wasm: state migration failed: set_state: trap: unreachable", nil},
		{"missing file", fmt.Errorf("hotscript: load x.lua: %w", &fs.PathError{Op: "open", Path: "x.lua", Err: fs.ErrNotExist}),
			"x.lua: file does not exist", nil},
		{"build tool output", fmt.Errorf("hotscript: %w: %w", hotscript.ErrBuild, &watch.BuildError{
			Path: "/game/enemy.wat", Tool: "wat2wasm", Err: errors.New("exit status 1"),
			Log: "enemy.wat:25:46: error: undefined global variable \"$nope\"\n  (global.get $nope)\n"}),
			`/game/enemy.wat:25:46: error: undefined global variable "$nope"`, []string{"  (global.get $nope)"}},
		{"build tool output of a script named by a relative path", fmt.Errorf("hotscript: %w: %w", hotscript.ErrBuild, &watch.BuildError{
			Path: "ai/enemy.wat", Tool: "wat2wasm", Err: errors.New("exit status 1"),
			Log: "ai/enemy.wat:25:46: error: undefined global variable \"$nope\"\n  (global.get $nope)\n"}),
			`ai/enemy.wat:25:46: error: undefined global variable "$nope"`, []string{"  (global.get $nope)"}},
		{"build error after a warning keeps its own source and caret", &watch.BuildError{
			Path: "/game/w.c", Tool: "clang", Err: errors.New("exit status 1"),
			Log: "/game/w.c:1:2: warning: \"careful\" [-W#warnings]\n#warning \"careful\"\n ^\n" +
				"/game/w.c:2:25: error: void function 'update' should not return a value\n" +
				"void update(float dt) { return 1 }\n                        ^      ~\n" +
				"/game/w.c:1:6: note: previous declaration is here\nvoid update(float);\n     ^\n" +
				"/game/w.c:3:2: warning: \"later\" [-W#warnings]\n#warning \"later\"\n ^\n" +
				"2 warnings and 1 error generated.\n"},
			"/game/w.c:2:25: error: void function 'update' should not return a value", []string{
				"void update(float dt) { return 1 }", "                        ^      ~",
				"/game/w.c:1:6: note: previous declaration is here", "void update(float);", "     ^",
				`/game/w.c:1:2: warning: "careful" [-W#warnings]`, `#warning "careful"`, " ^",
				`/game/w.c:3:2: warning: "later" [-W#warnings]`, `#warning "later"`, " ^",
				"2 warnings and 1 error generated.",
			}},
		{"build error in a header keeps the include lines", &watch.BuildError{
			Path: "/game/w.c", Tool: "clang", Err: errors.New("exit status 1"),
			Log: "/game/w.c:1:2: warning: \"careful\" [-W#warnings]\n#warning \"careful\"\n ^\n" +
				"In file included from /game/w.c:2:\n/game/h.h:1:22: error: use of undeclared identifier 'z'\n" +
				"int y(void) { return z; }\n                     ^\n"},
			"/game/w.c: /game/h.h:1:22: error: use of undeclared identifier 'z'", []string{
				"In file included from /game/w.c:2:", "int y(void) { return z; }", "                     ^",
				`/game/w.c:1:2: warning: "careful" [-W#warnings]`, `#warning "careful"`, " ^",
			}},
		{"build error named from the source's directory", &watch.BuildError{
			Path: "/game/ai/w.c", Tool: "clang", Err: errors.New("exit status 1"),
			Log: "In file included from ./w.c:2:\n./../h.h:1:22: error: use of undeclared identifier 'z'\n" +
				"int y(void) { return z; }\n                     ^\n./w.c:3:1: warning: w [-W#warnings]\n"},
			"/game/ai/w.c: /game/h.h:1:22: error: use of undeclared identifier 'z'", []string{
				"In file included from /game/ai/w.c:2:", "int y(void) { return z; }", "                     ^",
				"/game/ai/w.c:3:1: warning: w [-W#warnings]",
			}},
		{"a quoted source line is not a file name", &watch.BuildError{
			Path: "/game/ai/e.c", Tool: "clang", Err: errors.New("exit status 1"),
			Log: "./e.c:2:9: error: expected expression\nr=a?1:2+;\n        ^\n./e.c:1:6: note: previous declaration is here\n"},
			"/game/ai/e.c:2:9: error: expected expression", []string{"r=a?1:2+;", "        ^", "/game/ai/e.c:1:6: note: previous declaration is here"}},
		{"a source whose name has spaces", &watch.BuildError{
			Path: "/game/ai/my enemy.c", Tool: "clang", Err: errors.New("exit status 1"),
			Log: "./my enemy.c:2:9: error: expected expression\nr=a?1:2+;\n        ^\n" +
				"In file included from ./my enemy.c:3:\n./h.h:1:1: warning: w [-W#warnings]\n" +
				"./my enemy.c:1:6: note: previous declaration is here\n"},
			"/game/ai/my enemy.c:2:9: error: expected expression", []string{"r=a?1:2+;", "        ^",
				"In file included from /game/ai/my enemy.c:3:", "/game/ai/h.h:1:1: warning: w [-W#warnings]",
				"/game/ai/my enemy.c:1:6: note: previous declaration is here"}},
		{"every link error names the source", &watch.BuildError{
			Path: "/game/l.c", Tool: "clang", Err: errors.New("exit status 1"),
			Log: "wasm-ld: error: /tmp/l-96c452.o: undefined symbol: g\n" +
				"wasm-ld: error: /tmp/l-96c452.o: undefined symbol: h\n" +
				"clang: error: linker command failed with exit code 1 (use -v to see invocation)\n"},
			"/game/l.c: undefined symbol: g (wasm-ld)", []string{
				"/game/l.c: undefined symbol: h (wasm-ld)",
				"clang: error: linker command failed with exit code 1 (use -v to see invocation)",
			}},
		{"build without output", &watch.BuildError{Path: "/game/enemy.wat", Tool: "wat2wasm", Err: watch.ErrToolNotFound},
			"/game/enemy.wat: build tool not found", nil},
		{"other", errors.New("first\nsecond\n\nthird"), "first", []string{"second", "third"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head, detail := describe("", tt.err)
			if head != tt.head {
				t.Errorf("head %q, want %q", head, tt.head)
			}
			if strings.Join(detail, "|") != strings.Join(tt.detail, "|") {
				t.Errorf("detail %q, want %q", detail, tt.detail)
			}
		})
	}
}

func TestEventLines(t *testing.T) {
	f := func(name string, params, results []string) hotscript.Func {
		return hotscript.Func{Name: name, Params: params, Results: results, Typed: true}
	}
	tests := []struct {
		name string
		ev   hotscript.Event
		want string
	}{
		{"committed", hotscript.Event{Script: "/game/enemy.wasm", Kind: hotscript.Committed, From: 2, To: 3,
			CompileTime: 21300 * time.Microsecond, SwapTime: 14 * time.Microsecond, Carried: []string{"counter", "health"},
			Diff: hotscript.Diff{Exports: hotscript.Changes{
				Added:   []hotscript.Func{f("fire", nil, nil)},
				Changed: []hotscript.Change{{Old: f("update", []string{"f32"}, nil), New: f("update", []string{"f64"}, nil)}},
			}}},
			"12:00:01.234  enemy.wasm  v2 -> v3    committed   compile 21.3ms  swap 14µs  carried counter,health  +fire() ~update(f32)->update(f64)"},
		{"committed afresh", hotscript.Event{Script: "/game/enemy.wasm", Kind: hotscript.Committed, From: 3, To: 4,
			CompileTime: 2 * time.Millisecond, SwapTime: 9 * time.Microsecond, Reset: errors.New("get_state on v3: trap")},
			"12:00:01.234  enemy.wasm  v3 -> v4    committed   compile 2.0ms  swap 9µs  state reset: get_state on v3: trap"},
		{"committed past on_save", hotscript.Event{Script: "/game/enemy.lua", Kind: hotscript.Committed, From: 3, To: 4,
			CompileTime: 2 * time.Millisecond, SwapTime: 9 * time.Microsecond, Carried: []string{"hp"},
			Reset: &lua.Error{Op: "reload", Script: "/game/enemy.lua", Function: "on_save of the live version", Message: "/game/enemy.lua:3: typo", Kind: lua.ErrRuntime}},
			"12:00:01.234  enemy.lua   v3 -> v4    committed   compile 2.0ms  swap 9µs  carried hp, not what on_save returns: enemy.lua:3: typo (in on_save of the live version)"},
		{"committed past on_save, nothing carried", hotscript.Event{Script: "/game/enemy.lua", Kind: hotscript.Committed, From: 3, To: 4,
			CompileTime: 2 * time.Millisecond, SwapTime: 9 * time.Microsecond,
			Reset: &lua.Error{Op: "reload", Script: "/game/enemy.lua", Function: lua.LiveOnSave, Message: "/game/enemy.lua:3: typo", Kind: lua.ErrRuntime}},
			"12:00:01.234  enemy.lua   v3 -> v4    committed   compile 2.0ms  swap 9µs  carried nothing, not what on_save returns: enemy.lua:3: typo (in on_save of the live version)"},
		{"committed carrying and afresh", hotscript.Event{Script: "/game/enemy.wasm", Kind: hotscript.Committed, From: 3, To: 4,
			CompileTime: 2 * time.Millisecond, SwapTime: 9 * time.Microsecond, Carried: []string{"entity"}, Reset: errors.New("get_state on v3: trap")},
			"12:00:01.234  enemy.wasm  v3 -> v4    committed   compile 2.0ms  swap 9µs  state reset: get_state on v3: trap"},
		{"rejected", hotscript.Event{Script: "/game/enemy.lua", Kind: hotscript.Rejected, From: 3, To: 4,
			Err: &lua.Error{Script: "/game/enemy.lua", Message: "/game/enemy.lua:12: unexpected symbol near 'end'", Kind: lua.ErrCompile}},
			"12:00:01.234  enemy.lua   v3          rejected    enemy.lua:12: unexpected symbol near 'end'  (v3 keeps running)"},
		{"rejected load", hotscript.Event{Script: "/game/new.lua", Kind: hotscript.Rejected, Err: errors.New("bad")},
			"12:00:01.234  new.lua     -           rejected    bad  (not loaded)"},
		{"reverted", hotscript.Event{Script: "/game/enemy.lua", Kind: hotscript.Reverted, From: 3, To: 2,
			SwapTime: 5 * time.Microsecond, Diff: hotscript.Diff{Exports: hotscript.Changes{Removed: []hotscript.Func{{Name: "fire"}}}}},
			"12:00:01.234  enemy.lua   v3 -> v2    reverted    compile 0  swap 5µs  carried nothing  -fire"},
		{"loaded", hotscript.Event{Script: "/game/enemy.lua", Kind: hotscript.Loaded, To: 1, CompileTime: 3200 * time.Microsecond,
			Diff: hotscript.Diff{Exports: hotscript.Changes{Added: []hotscript.Func{{Name: "update"}, {Name: "fire"}}}}},
			"12:00:01.234  enemy.lua   v1          loaded      compile 3.2ms  exports update, fire"},
		{"superseded", hotscript.Event{Script: "/game/enemy.lua", Kind: hotscript.Superseded, From: 3, To: 4},
			"12:00:01.234  enemy.lua   v3          superseded  a newer save replaced v4 before it went live"},
		{"superseded while queued", hotscript.Event{Script: "/game/enemy.lua", Kind: hotscript.Superseded, From: 3},
			"12:00:01.234  enemy.lua   v3          superseded  a newer save came before this one was staged"},
		{"removed", hotscript.Event{Script: "/game/enemy.lua", Kind: hotscript.Removed, From: 3, To: 3},
			"12:00:01.234  enemy.lua   v3          removed     file deleted or moved away; v3 keeps running"},
		{"restored", hotscript.Event{Script: "/game/enemy.lua", Kind: hotscript.Restored, From: 3, To: 3},
			"12:00:01.234  enemy.lua   v3          restored    the file holds v3's code again; v3 runs on"},
	}
	for _, tt := range tests {
		for _, clock := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s clock %v", tt.name, clock), func(t *testing.T) {
				var b bytes.Buffer
				p := newPrinter(&b, style{}, "/game")
				p.now = func() time.Time { return time.Date(2025, 1, 1, 12, 0, 1, 234e6, time.UTC) }
				p.showClock(clock)
				p.seeName("/game/enemy.wasm")
				p.event(tt.ev)
				want := tt.want
				if !clock {
					want = strings.TrimPrefix(want, "12:00:01.234  ") // the demo's lines
				}
				if got := strings.TrimSuffix(b.String(), "\n"); got != want {
					t.Errorf("line\n%q\nwant\n%q", got, want)
				}
			})
		}
	}
}

// TestPrinterNames: paths under the scripts' directory are shown relative to
// it, only where they start a path: the directory's name inside another path,
// or a script's text, stays.
func TestPrinterNames(t *testing.T) {
	abs, err := filepath.Abs("game")
	if err != nil {
		t.Fatal(err)
	}
	p := newPrinter(io.Discard, style{}, "game")
	for _, tt := range []struct{ in, want string }{
		{"game/enemy.lua", "enemy.lua"},
		{"game/endgame/boss.lua", "endgame/boss.lua"},
		{abs + "/endgame/boss.lua", "endgame/boss.lua"},
		{"game/endgame/boss.lua:1: see data/game/readme", "endgame/boss.lua:1: see data/game/readme"},
		{"reload game/a.lua: game/a.lua:3: x (in 'game/b.lua')", "reload a.lua: a.lua:3: x (in 'b.lua')"},
		{"mygame/x.lua", "mygame/x.lua"},
		{"game/game/x.lua", "game/x.lua"},
		{abs + "/game/x.lua", "game/x.lua"}, // one directory off, not both forms of it
		{"see " + abs + "/game/x.lua and game/game/y.lua", "see game/x.lua and game/y.lua"},
		{"", ""},
	} {
		if got := p.name(tt.in); got != tt.want {
			t.Errorf("name(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestPrinterHammer writes lines from many goroutines, as Lua scripts printing during
// background reloads do while the loop reports events: every line must come out
// whole.
func TestPrinterHammer(t *testing.T) {
	const goroutines, lines = 8, 200
	var b bytes.Buffer
	p := newPrinter(&b, style{}, "/game")
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			script := fmt.Sprintf("/game/script%d.lua", g)
			for i := range lines {
				switch i % 3 {
				case 0:
					p.print(script, fmt.Sprintf("message %d of %d", i, g))
				case 1:
					p.event(hotscript.Event{Script: script, Kind: hotscript.Committed, From: i, To: i + 1})
				default:
					p.seeName(script)
					p.failure(script, i, errors.New("boom"), 0)
				}
			}
		}()
	}
	wg.Wait()
	got := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(got) != goroutines*lines {
		t.Fatalf("%d lines, want %d", len(got), goroutines*lines)
	}
	whole := regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d{3}  script\d\.lua +(v\d+( -> v\d+)?)? +(log +message \d+ of \d|committed .*carried nothing|error +boom)$`)
	for _, l := range got {
		if !whole.MatchString(l) {
			t.Fatalf("mangled line %q", l)
		}
	}
}

// TestPrinterOneLinePerReport: what a script prints comes out a line of output
// per line it printed, each with its script; an error's line breaks, escape
// sequences and bytes that are not UTF-8 are written escaped, so that neither
// breaks the one-line-per-report output nor acts on the terminal.
func TestPrinterOneLinePerReport(t *testing.T) {
	var b bytes.Buffer
	p := newPrinter(&b, style{}, "game")
	p.clock = false
	p.print("game/a.lua", "first\nsecond\r\n")
	p.print("game/a.lua", "")
	p.print("game/a.lua", "gnp.\u202eexe")
	p.failure("game/a.lua", 1, &lua.Error{Script: "game/a.lua", Function: "update", Kind: lua.ErrRuntime,
		Message: "game/a.lua:3: e1\ne2 \x1b[2J\x8f\ttab é"}, 0)
	p.event(hotscript.Event{Script: "game/a.lua", Kind: hotscript.Committed, From: 1, To: 2, Carried: []string{"\x1b[31mRED\nx"},
		Diff: hotscript.Diff{Exports: hotscript.Changes{Added: []hotscript.Func{{Name: "f\x1b[2J"}}}}})
	p.event(hotscript.Event{Script: "game/b.lua", Kind: hotscript.Loaded, To: 1, Diff: hotscript.Diff{Exports: hotscript.Changes{Added: []hotscript.Func{{Name: "g\n"}}}}})
	got := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	want := []string{
		`a.lua  log first`,
		`a.lua  log second`,
		`a.lua  log`,
		`a.lua  log gnp.\u202eexe`,
		`a.lua  v1 error a.lua:3: e1\ne2 \x1b[2J\x8f` + "\ttab é (in update)",
		`a.lua  v1 -> v2 committed compile 0 swap 0 carried \x1b[31mRED\nx +f\x1b[2J`,
		`b.lua  v1 loaded compile 0 exports g\n`,
	}
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(got), len(want), b.String())
	}
	for i, line := range got {
		if strings.Join(strings.Fields(line), " ") != strings.Join(strings.Fields(want[i]), " ") {
			t.Errorf("line %d = %q, want %q", i, line, want[i])
		}
	}
}
