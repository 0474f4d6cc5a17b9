package watch

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestEventsInFiringOrder saves files 2 ms apart, the first built by a slow step
// (300 ms): events of one output (a source, another source of the same module,
// the module itself) come in the order they fired, whatever the build takes,
// while the build holds up no other file.
func TestEventsInFiringOrder(t *testing.T) {
	t.Parallel()
	type action struct{ name, content string } // content "" removes the file
	cases := []struct {
		name    string
		files   map[string]string // there before the watch begins
		actions []action          // 2 ms apart
		want    []want
	}{{
		name:    "module saved after its source",
		actions: []action{{"x.src", "v1"}, {"x.out", "module"}},
		want:    []want{{"x.src", Changed, "V1"}, {"x.out", Changed, "module"}},
	}, {
		name:    "module removed after its source was saved",
		files:   map[string]string{"x.out": "old"},
		actions: []action{{"x.src", "v1"}, {"x.out", ""}},
		want:    []want{{"x.src", Changed, "V1"}, {"x.out", Removed, ""}},
	}, {
		name:    "two sources of one module",
		actions: []action{{"x.src", "v1"}, {"x.fast", "v2"}},
		want:    []want{{"x.src", Changed, "V1"}, {"x.fast", Changed, "V2"}},
	}, {
		name:    "source saved after its module",
		actions: []action{{"x.out", "module"}, {"x.src", "v1"}},
		want:    []want{{"x.out", Changed, "module"}, {"x.src", Changed, "V1"}},
	}, {
		name:    "a build holds up no other file",
		actions: []action{{"x.src", "v1"}, {"y.lua", "y"}},
		want:    []want{{"y.lua", Changed, "y"}, {"x.src", Changed, "V1"}},
	}, {
		name:    "nor the build of another module",
		actions: []action{{"x.src", "v1"}, {"y.fast", "y"}},
		want:    []want{{"y.fast", Changed, "Y"}, {"x.src", Changed, "V1"}},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			builds := map[string]BuildStep{".src": fakeStep("slow", t.TempDir()), ".fast": fakeStep("copy")}
			h := newHarness(t, Options{Debounce: buildDebounce, Build: builds}, tc.files)
			for i, a := range tc.actions {
				if i > 0 {
					time.Sleep(2 * time.Millisecond)
				}
				if a.content == "" {
					h.remove(a.name)
				} else {
					h.write(a.name, a.content)
				}
			}
			h.expect(tc.want...)
			h.quiet()
		})
	}
}

// TestApplyInOrder drives the loop's ordering alone, with loads reported in a
// chosen order: each report (a file read and its build begun, a load done, or
// superseded by newer activity) must let through exactly the wanted events.
func TestApplyInOrder(t *testing.T) {
	t.Parallel()
	type report struct {
		path string
		what string   // "building", "done" or "superseded"
		want []string // the events sent after the report, in order
	}
	cases := []struct {
		name    string
		fired   []string // in firing order
		reports []report
	}{{
		name:  "reads finishing backwards",
		fired: []string{"a.lua", "b.lua", "c.lua"},
		reports: []report{
			{"c.lua", "done", nil},
			{"b.lua", "done", nil},
			{"a.lua", "done", []string{"a.lua", "b.lua", "c.lua"}},
		},
	}, {
		name:  "a read holds up a later build",
		fired: []string{"a.lua", "x.wat"},
		reports: []report{
			{"x.wat", "building", nil},
			{"x.wat", "done", nil},
			{"a.lua", "done", []string{"a.lua", "x.wat"}},
		},
	}, {
		name:  "a build holds up other outputs not",
		fired: []string{"x.wat", "a.lua", "y.wat"},
		reports: []report{
			{"x.wat", "building", nil},
			{"a.lua", "done", []string{"a.lua"}},
			{"y.wat", "building", nil},
			{"y.wat", "done", []string{"y.wat"}},
			{"x.wat", "done", []string{"x.wat"}},
		},
	}, {
		name:  "a build holds up its output",
		fired: []string{"x.wat", "x.wasm", "a.lua", "x.c"},
		reports: []report{
			{"x.wat", "building", nil},
			{"x.wasm", "done", nil},
			{"a.lua", "done", []string{"a.lua"}},
			{"x.c", "building", nil},
			{"x.c", "done", nil},
			{"x.wat", "done", []string{"x.wat", "x.wasm", "x.c"}},
		},
	}, {
		name:  "a read still holds up everything after it",
		fired: []string{"x.wat", "b.lua", "c.lua"},
		reports: []report{
			{"x.wat", "building", nil},
			{"c.lua", "done", nil},
			{"b.lua", "done", []string{"b.lua", "c.lua"}},
			{"x.wat", "done", []string{"x.wat"}},
		},
	}, {
		name:  "a superseded read holds up nothing",
		fired: []string{"a.lua", "b.lua"},
		reports: []report{
			{"b.lua", "done", nil},
			{"a.lua", "superseded", []string{"b.lua"}},
			{"a.lua", "done", nil}, // the superseded worker's outcome comes late
		},
	}, {
		name:  "a superseded build frees its output",
		fired: []string{"x.wat", "x.wasm"},
		reports: []report{
			{"x.wat", "building", nil},
			{"x.wasm", "done", nil},
			{"x.wat", "superseded", []string{"x.wasm"}},
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLoop(nil, time.Millisecond, nil, nil, DefaultBuildSteps())
			defer l.cancel()
			gens := make(map[string]uint64)
			for _, name := range tc.fired {
				path := filepath.Join("/g", name)
				l.seq++
				gens[path] = l.seq
				f := &file{gen: l.seq}
				f.load = &load{path: path, output: l.output(path), gen: l.seq, cancel: func() {}}
				l.files[path] = f
				l.fired = append(l.fired, f.load)
			}
			for i, rep := range tc.reports {
				path := filepath.Join("/g", rep.path)
				switch rep.what {
				case "superseded":
					f := l.files[path]
					l.supersede(f)
					l.seq++
					f.gen = l.seq
				case "building":
					l.arrived(result{path: path, gen: gens[path], building: true})
				case "done":
					ev := Event{Path: path, Output: l.output(path), Op: Changed}
					l.arrived(result{path: path, gen: gens[path], ev: ev})
				}
				var got []string
				for ev, ok := l.out.peek(); ok; ev, ok = l.out.peek() {
					l.out.pop()
					got = append(got, filepath.Base(ev.Path))
				}
				if !slices.Equal(got, rep.want) {
					t.Fatalf("report %d (%s %s): sent %q, want %q", i, rep.path, rep.what, got, rep.want)
				}
			}
		})
	}
}

// TestOutboxReplaced checks the queue of events waiting to be received: a newer
// event for a path replaces the waiting one in its place, unless an event of
// the same output waits behind it (then it goes after that one), a dropped
// event is skipped, replaced entries do not pile up, and files saved over and
// over while the receiver takes one event at a time are each received in turn.
func TestOutboxReplaced(t *testing.T) {
	t.Parallel()
	var o outbox
	push := func(path, output, data string) {
		o.push(Event{Path: path, Output: output, Op: Changed, Data: []byte(data)})
	}
	received := func() (got []string) {
		for ev, ok := o.peek(); ok; ev, ok = o.peek() {
			o.pop()
			got = append(got, string(ev.Data))
		}
		return got
	}
	push("a", "a", "a1")
	push("b", "b", "b1")
	push("c", "c", "c1")
	push("a", "a", "a2")
	push("x.wat", "x.wasm", "wat1")
	push("x.wasm", "x.wasm", "wasm1")
	push("x.wat", "x.wasm", "wat2") // saved after the module: received after it
	o.drop("c", Changed)
	o.drop("b", Removed) // not the op waiting: kept
	for range 1000 {
		push("d", "d", "d")
	}
	if len(o.order) > 2*len(o.byPath)+17 {
		t.Errorf("%d entries queued for %d events", len(o.order), len(o.byPath))
	}
	if got, want := received(), []string{"a2", "b1", "wasm1", "wat2", "d"}; !slices.Equal(got, want) {
		t.Fatalf("received %q, want %q", got, want)
	}

	counts := map[string]int{}
	for range 10 {
		push("a", "a", "a")
		push("b", "b", "b")
		ev, _ := o.peek()
		o.pop()
		counts[string(ev.Data)]++
	}
	if counts["a"] != 5 || counts["b"] != 5 {
		t.Errorf("two files saved over and over, one event received each time: %v, want each in turn", counts)
	}
}

// BenchmarkOutboxReplace measures a lagging receiver's queue in a large
// checkout: 20,000 files reported, then each reported again before any is
// received. Replacing an event whose output has no other one waiting does not
// look at the queue (it did, which took 36 s for these 40,000 pushes).
func BenchmarkOutboxReplace(b *testing.B) {
	const n = 20000
	paths := make([]string, n)
	for i := range paths {
		paths[i] = fmt.Sprintf("/d/f%d.lua", i)
	}
	b.ReportAllocs()
	for b.Loop() {
		var o outbox
		for range 2 {
			for _, p := range paths {
				o.push(Event{Path: p, Output: p, Op: Changed})
			}
		}
	}
}
