package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hotscript/hotscript"
	"github.com/hotscript/hotscript/ecs"
)

// demo is the state of one tour, and the tools its steps (demo_tour.go) share.
type demo struct {
	e     *env
	h     *hotscript.Host
	world *ecs.World
	dir   string
	sc    *scene
	start time.Time
	step  int

	wasm, lua *hotscript.Script

	seen []hotscript.Event          // events the loop delivered that await has not taken
	want func(hotscript.Event) bool // what await is waiting for
}

// enemyState is the enemy scripts' get_state document.
type enemyState struct {
	Frames int `json:"frames"`
	X      int `json:"x"`
	HP     int `json:"hp"`
}

// ScriptState is the ECS component of the WASM hot-reload spec's example: state a
// WASM module cannot keep across a reload is kept here (the demo uses Counter).
type ScriptState struct {
	Counter  int
	Health   float64
	Position [3]float64
}

const indent = "   "

func (d *demo) title(text string) {
	d.step++
	fmt.Fprintf(d.e.stdout, "\n%s\n", d.e.out.step(fmt.Sprintf("%d. %s", d.step, text)))
}

func (d *demo) interlude(text string) {
	fmt.Fprintf(d.e.stdout, "\n%s\n", d.e.out.step(text))
}

func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.e.stdout, indent+format+"\n", args...)
}

func (d *demo) table(rows [][]string) {
	for i := range rows {
		rows[i][0] = indent + "  " + rows[i][0]
	}
	writeColumns(d.e.stdout, rows, "  ")
}

// frames runs n frames, printing the events that come meanwhile.
func (d *demo) frames(ctx context.Context, n int64) error {
	d.sc.run(ctx, time.Second/demoTPS, d.sc.frames+n, time.Time{}, d.observe)
	return ctx.Err()
}

func (d *demo) observe(ev hotscript.Event) bool {
	d.seen = append(d.seen, ev)
	return d.want != nil && d.want(ev)
}

// await runs frames until the reload of script is decided (committed, rejected or
// reverted) and returns its event. The loop keeps calling the live version meanwhile.
// Events of other scripts stay for their own await, whichever order they came in.
func (d *demo) await(ctx context.Context, script string) (hotscript.Event, error) {
	match := func(ev hotscript.Event) bool {
		switch ev.Kind {
		case hotscript.Committed, hotscript.Rejected, hotscript.Reverted:
			return ev.Script == script
		}
		return false
	}
	d.want = match
	defer func() { d.want = nil }()
	deadline := time.Now().Add(demoWait)
	for {
		if i := slices.IndexFunc(d.seen, match); i >= 0 {
			ev := d.seen[i]
			d.seen = slices.Delete(d.seen, i, i+1)
			return ev, nil
		}
		if err := ctx.Err(); err != nil {
			return hotscript.Event{}, err
		}
		if time.Now().After(deadline) {
			return hotscript.Event{}, fmt.Errorf("no reload of %s was decided within %s", d.sc.out.name(script), demoWait)
		}
		d.sc.run(ctx, time.Second/demoTPS, 0, deadline, d.observe)
	}
}

// expect checks that ev is of kind want: the tour is scripted, so anything else is a
// bug worth stopping for.
func expect(ev hotscript.Event, want hotscript.EventKind) error {
	if ev.Kind == want {
		return nil
	}
	head, _ := describe(ev.Script, ev.Err)
	return fmt.Errorf("%s: expected the reload to be %s, it was %s %s", ev.Script, want, ev.Kind, head)
}

// writeFile saves name in the demo directory the way editors do: write a temporary
// file next to it, then rename it over the old one, so that no reader ever sees half
// a file. The temporary name starts with a dot, which the watcher ignores.
func (d *demo) writeFile(name string, data []byte) error {
	tmp := filepath.Join(d.dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(d.dir, name))
}

// demoWrites names the files the demo writes into its directory: the enemy in both
// languages and, where wat2wasm can rebuild the module from it, the module's source.
func demoWrites() []string {
	names := []string{"enemy.wasm", "enemy.lua"}
	if hasWAT2WASM() {
		names = append(names, "enemy.wat")
	}
	return names
}

// checkDemoDir returns an error naming the first file of demoWrites in dir that the
// demo would replace and did not write itself. A file holding one of the versions
// the demo ever saves under its name (an earlier demo --dir left it, finished or
// stopped) is the demo's own: replacing it loses nothing. Anything else, an edit
// included, is the user's.
func checkDemoDir(dir string) error {
	for _, name := range demoWrites() {
		path := filepath.Join(dir, name)
		info, err := os.Lstat(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return err
		case info.Mode().IsRegular():
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if slices.ContainsFunc(demoVersions(name), func(v []byte) bool { return bytes.Equal(v, b) }) {
				continue
			}
		}
		return fmt.Errorf("%s already exists and the demo did not write it; "+
			"the demo would replace it, so give --dir a new or empty directory", path)
	}
	return nil
}

// demoVersions returns every content the demo saves under name ("enemy.lua"): the
// embedded enemy_*.lua files, and for the module, the cut-off save too.
func demoVersions(name string) [][]byte {
	ext := filepath.Ext(name)
	files, _ := fs.Glob(demoFiles, "demo/"+strings.TrimSuffix(name, ext)+"_*"+ext)
	var out [][]byte
	for _, f := range files {
		out = append(out, demoFile(strings.TrimPrefix(f, "demo/")))
	}
	if name == "enemy.wasm" {
		out = append(out, cutModule())
	}
	return out
}

// cutModule is the broken save of the tour: version 3's module cut off halfway.
func cutModule() []byte {
	full := demoFile("enemy_v3.wasm")
	return full[:len(full)/2]
}

// saveBoth saves a new enemy.wasm and enemy.lua and waits until both reloads are
// decided, which must be as want.
func (d *demo) saveBoth(ctx context.Context, wasmFile, luaFile string, want hotscript.EventKind) error {
	return d.saveBothBytes(ctx, demoFile(wasmFile), demoFile(luaFile), want)
}

// saveBothBytes saves both files at once, as a person saving all open files
// would, so that both reloads usually land in the same frame.
func (d *demo) saveBothBytes(ctx context.Context, wasmCode, luaCode []byte, want hotscript.EventKind) error {
	if err := d.writeFile("enemy.wasm", wasmCode); err != nil {
		return err
	}
	if err := d.writeFile("enemy.lua", luaCode); err != nil {
		return err
	}
	for _, s := range []*hotscript.Script{d.wasm, d.lua} {
		ev, err := d.await(ctx, s.Name())
		if err != nil {
			return err
		}
		if err := expect(ev, want); err != nil {
			return err
		}
	}
	return nil
}

// states reads both enemies' state through their get_state export.
func (d *demo) states(ctx context.Context) (map[*hotscript.Script]enemyState, error) {
	m := map[*hotscript.Script]enemyState{}
	for _, s := range []*hotscript.Script{d.wasm, d.lua} {
		out, err := d.h.Call(ctx, s, "get_state")
		if err != nil {
			return nil, err
		}
		var st enemyState
		if err := json.Unmarshal(out, &st); err != nil {
			return nil, fmt.Errorf("%s: get_state returned %s: %w", s.Name(), out, err)
		}
		m[s] = st
	}
	return m, nil
}

// showStates prints the enemies' states; version labels them, or if empty, the live
// version does.
func (d *demo) showStates(st map[*hotscript.Script]enemyState, version string) {
	var rows [][]string
	for _, s := range []*hotscript.Script{d.wasm, d.lua} {
		v, label := st[s], version
		if label == "" {
			label = fmt.Sprintf("v%d", s.Version())
		}
		rows = append(rows, []string{d.e.out.name(d.sc.out.name(s.Name())), label,
			fmt.Sprintf("frames %d", v.Frames), fmt.Sprintf("x %d", v.X), fmt.Sprintf("hp %d", v.HP)})
	}
	d.table(rows)
}

// progress runs demoFrames frames and says, per script, how its state moved: from
// is the state before them.
func (d *demo) progress(ctx context.Context, from map[*hotscript.Script]enemyState, note func(s *hotscript.Script, a, b enemyState) string) error {
	if err := d.frames(ctx, demoFrames); err != nil {
		return err
	}
	to, err := d.states(ctx)
	if err != nil {
		return err
	}
	var rows [][]string
	for _, s := range []*hotscript.Script{d.wasm, d.lua} {
		a, b := from[s], to[s]
		speed := "-"
		if n := b.Frames - a.Frames; n > 0 {
			speed = fmt.Sprintf("+%d a frame", (b.X-a.X)/n)
		}
		rows = append(rows, []string{d.e.out.name(d.sc.out.name(s.Name())), fmt.Sprintf("v%d", s.Version()),
			fmt.Sprintf("frames %d -> %d", a.Frames, b.Frames), fmt.Sprintf("x %d -> %d", a.X, b.X),
			speed, fmt.Sprintf("hp %d", b.HP), note(s, a, b)})
	}
	d.table(rows)
	return nil
}

func hasWAT2WASM() bool {
	_, err := exec.LookPath("wat2wasm")
	return err == nil
}
