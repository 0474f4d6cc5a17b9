package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// progressRow is one line of the demo's "next 10 frames" tables:
//
//	enemy.wasm  v2  frames 17 -> 27  x 33 -> 83  +5 a frame  hp 100  (kept, not the file's 150)
type progressRow struct {
	version                  string
	frames0, frames1, x0, x1 int
	speed, hp                int
	note                     string
}

var progressLine = regexp.MustCompile(`^\s+(enemy\.(?:wasm|lua))\s+(v\d+)\s+frames (\d+) -> (\d+)\s+x (\d+) -> (\d+)\s+\+(\d+) a frame\s+hp (\d+)\s+(.*)$`)

// progress parses the progress table of a step's text, by script.
func progress(t *testing.T, text string) map[string]progressRow {
	t.Helper()
	rows := map[string]progressRow{}
	for _, l := range strings.Split(text, "\n") {
		m := progressLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
		rows[m[1]] = progressRow{m[2], n(3), n(4), n(5), n(6), n(7), n(8), m[9]}
	}
	if len(rows) != 2 {
		t.Fatalf("want a progress row for each enemy, got %v in:\n%s", rows, text)
	}
	return rows
}

// stateLine is a row of the demo's state tables: "enemy.wasm  v1  frames 10  x 10  hp 100".
var stateLine = regexp.MustCompile(`^\s+(enemy\.(?:wasm|lua))\s+(v\d+)\s+frames (\d+)\s+x (\d+)\s+hp (\d+)$`)

func states(t *testing.T, text string) map[string][3]int {
	t.Helper()
	rows := map[string][3]int{}
	for _, l := range strings.Split(text, "\n") {
		if m := stateLine.FindStringSubmatch(l); m != nil {
			f, _ := strconv.Atoi(m[3])
			x, _ := strconv.Atoi(m[4])
			hp, _ := strconv.Atoi(m[5])
			rows[m[1]] = [3]int{f, x, hp}
		}
	}
	if len(rows) != 2 {
		t.Fatalf("want a state row for each enemy in:\n%s", text)
	}
	return rows
}

// steps splits the demo's output at its titles.
func steps(t *testing.T, out string, titles ...string) map[string]string {
	t.Helper()
	parts := map[string]string{}
	for i, title := range titles {
		start := strings.Index(out, title)
		if start < 0 {
			t.Fatalf("the demo never says %q:\n%s", title, out)
		}
		end := len(out)
		if i+1 < len(titles) {
			if e := strings.Index(out, titles[i+1]); e > start {
				end = e
			}
		}
		parts[title] = out[start:end]
	}
	return parts
}

// checkRun checks that a progress row shows speed px a frame over 10 frames of
// version, with hp 100 kept.
func checkRun(t *testing.T, step, script string, r progressRow, version string, speed int) {
	t.Helper()
	if r.version != version || r.speed != speed || r.hp != 100 {
		t.Errorf("%s, %s: %+v, want %s at +%d a frame with hp 100", step, script, r, version, speed)
	}
	if r.frames1-r.frames0 != demoFrames || r.x1-r.x0 != speed*demoFrames {
		t.Errorf("%s, %s: frames %d -> %d, x %d -> %d: want %d frames of +%d", step, script,
			r.frames0, r.frames1, r.x0, r.x1, demoFrames, speed)
	}
}

func TestDemo(t *testing.T) {
	r := runCmd(t, "demo")
	if r.code != exitOK || r.stderr != "" {
		t.Fatalf("exit code %d, stderr:\n%s\nstdout:\n%s", r.code, r.stderr, r.stdout)
	}
	out := r.stdout
	s := steps(t, out, "1. Load and call", "Why WASM state needs help", "2. A good change",
		"3. A broken save", "4. A fix", "5. A contract break", "6. A revert", "Done in")

	t.Run("load and call", func(t *testing.T) {
		for script, st := range states(t, s["1. Load and call"]) {
			if st != [3]int{demoFrames, demoFrames, 100} {
				t.Errorf("%s after %d frames of v1: frames, x, hp = %v", script, demoFrames, st)
			}
		}
	})
	t.Run("founding document", func(t *testing.T) {
		text := s["Why WASM state needs help"]
		for _, re := range []string{
			`increment\(\) three times +counter 3 +copied into an ECS component, ScriptState`,
			`reload to v2 \(MigrateReset\) +counter 0 `,
			`set_counter\(ScriptState.Counter\) +counter 3 +restored from the ECS component`,
			`counter.wasm +v1 -> v2 +committed .* carried nothing`,
		} {
			if !regexp.MustCompile(re).MatchString(text) {
				t.Errorf("no match for %s in:\n%s", re, text)
			}
		}
	})
	t.Run("good change", func(t *testing.T) {
		text := s["2. A good change"]
		for _, script := range []string{"enemy.wasm", "enemy.lua"} {
			if !regexp.MustCompile(script + ` +v1 -> v2 +committed +compile .* carried frames,hp,x`).MatchString(text) {
				t.Errorf("no committed reload carrying frames,hp,x for %s in:\n%s", script, text)
			}
		}
		before, after := states(t, text), progress(t, text)
		for script, r := range after {
			checkRun(t, "good change", script, r, "v2", 5)
			// Carried: v2 went on from v1's frame count and x, and kept hp 100 over
			// its file's 150; a reset would start again from 0 and 150.
			if b := before[script]; r.frames0 < b[0] || r.x0 < b[1] || b[2] != 100 {
				t.Errorf("%s: v1 had frames %d, x %d; v2 started from frames %d, x %d", script, b[0], b[1], r.frames0, r.x0)
			}
		}
	})
	t.Run("broken save", func(t *testing.T) {
		text := s["3. A broken save"]
		for _, re := range []string{
			`enemy.wasm +v2 +rejected +enemy.wasm: compile failed: .* \(v2 keeps running\)`,
			`enemy.lua +v2 +rejected +enemy.lua:9: syntax error .* \(v2 keeps running\)`,
		} {
			if !regexp.MustCompile(re).MatchString(text) {
				t.Errorf("no match for %s in:\n%s", re, text)
			}
		}
		prev := progress(t, s["2. A good change"])
		for script, r := range progress(t, text) {
			if r.version != "v2" || r.speed != 5 || r.hp != 100 || r.frames0 < prev[script].frames1 || r.x0 < prev[script].x1 {
				t.Errorf("%s after the broken save: %+v; want v2 going on from %+v at +5", script, r, prev[script])
			}
		}
	})
	t.Run("fix", func(t *testing.T) {
		text := s["4. A fix"]
		if !regexp.MustCompile(`enemy.wasm +v2 -> v3 +committed .* carried frames,hp,x +\+fire\(\) i32`).MatchString(text) {
			t.Errorf("no committed v3 with +fire() in:\n%s", text)
		}
		for script, r := range progress(t, text) {
			checkRun(t, "fix", script, r, "v3", 10)
			if r.note != "fire() = "+strconv.Itoa(r.x1) {
				t.Errorf("%s: %q, want fire() = %d", script, r.note, r.x1)
			}
		}
	})
	t.Run("contract break", func(t *testing.T) {
		text := s["5. A contract break"]
		for _, re := range []string{
			`enemy.wasm +v3 +rejected +enemy.wasm: breaks its contract: update: was update\(f32\), now update\(f64\) +\(v3 keeps running\)`,
			`enemy.lua +v3 +rejected +enemy.lua: breaks its contract: removed: update +\(v3 keeps running\)`,
		} {
			if !regexp.MustCompile(re).MatchString(text) {
				t.Errorf("no match for %s in:\n%s", re, text)
			}
		}
		for script, r := range progress(t, text) {
			if r.version != "v3" || r.speed != 10 {
				t.Errorf("%s after the contract break: %+v, want v3 at +10", script, r)
			}
		}
	})
	t.Run("revert", func(t *testing.T) {
		text := s["6. A revert"]
		prev := progress(t, s["5. A contract break"])
		for _, script := range []string{"enemy.wasm", "enemy.lua"} {
			if !regexp.MustCompile(script + ` +v3 -> v2 +reverted .* carried frames,hp,x +-fire`).MatchString(text) {
				t.Errorf("no revert of %s to v2 in:\n%s", script, text)
			}
		}
		for script, r := range progress(t, text) {
			checkRun(t, "revert", script, r, "v2", 5)
			if r.frames0 < prev[script].frames1 || r.x0 < prev[script].x1 {
				t.Errorf("%s: reverted v2 starts from frames %d, x %d; v3 had reached %d, %d", script,
					r.frames0, r.x0, prev[script].frames1, prev[script].x1)
			}
		}
	})
}

// TestDemoDir keeps the scripts in a directory and keeps running for edits by hand.
func TestDemoDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mine")
	out, errOut := newSyncBuffer(), newSyncBuffer()
	stop, _, _ := runBackground(t, out, errOut, "demo", "--dir", dir)
	_, off := out.waitFor(t, 0, "Ctrl-C stops.")

	files := map[string]string{"enemy.wasm": "enemy_v2.wasm", "enemy.lua": "enemy_v2.lua"}
	if _, err := exec.LookPath("wat2wasm"); err == nil { // the demo offers the .wat only where it can be built
		files["enemy.wat"] = "enemy_v2.wat"
	} else if _, err := os.Stat(filepath.Join(dir, "enemy.wat")); err == nil {
		t.Error("enemy.wat written on a machine without wat2wasm to build it")
	}
	for name, want := range files {
		if got := readFile(t, filepath.Join(dir, name)); !bytes.Equal(got, demoFile(want)) {
			t.Errorf("%s does not hold %s, the running version", name, want)
		}
	}
	// An edit by hand is picked up.
	edited := strings.Replace(string(demoFile("enemy_v2.lua")), "local SPEED = 5", "local SPEED = 7", 1)
	saveFile(t, filepath.Join(dir, "enemy.lua"), []byte(edited))
	out.waitFor(t, off, "enemy.lua", "committed", "carried frames,hp,x")

	if code := stop(); code != exitOK {
		t.Fatalf("exit code %d; stderr:\n%s", code, errOut.String())
	}
	out.waitFor(t, off, "Stopped after", "The scripts stay in "+dir)
	if _, err := os.Stat(filepath.Join(dir, "enemy.lua")); err != nil {
		t.Errorf("the scripts were not kept: %v", err)
	}
}

// TestDemoDirKeepsYourFiles: demo --dir refuses a DIR holding a file it would write
// that it did not write, naming the file and leaving it alone; files as an earlier
// demo left them are its own, and it starts.
func TestDemoDirKeepsYourFiles(t *testing.T) {
	for _, name := range demoWrites() {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, name)
			mine := []byte("-- mine\n")
			if err := os.WriteFile(path, mine, 0o644); err != nil {
				t.Fatal(err)
			}
			out, errOut := newSyncBuffer(), newSyncBuffer()
			stop, done, _ := runBackground(t, out, errOut, "demo", "--dir", dir)
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Errorf("the demo did not refuse to start; output:\n%s", out)
			}
			if code := stop(); code != exitFail || !strings.Contains(errOut.String(), "error: "+path+" already exists and the demo did not write it") {
				t.Errorf("exit %d, want 1 with an error naming %s; stderr:\n%s", code, path, errOut)
			}
			if got := readFile(t, path); !bytes.Equal(got, mine) {
				t.Errorf("%s was replaced", name)
			}
		})
	}
	t.Run("a file for --dir", func(t *testing.T) { // helper-184: it blamed FILE/enemy.wasm
		file := filepath.Join(t.TempDir(), "notadir")
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if r := runCmd(t, "demo", "--dir", file); r.code != exitFail || r.stderr != "error: --dir "+file+" is not a directory\n" {
			t.Errorf("exit %d, stderr %q; want 1 saying --dir is not a directory", r.code, r.stderr)
		}
		below := filepath.Join(file, "sub") // helper-187: it blamed sub/enemy.wasm
		if r := runCmd(t, "demo", "--dir", below); r.code != exitFail || r.stderr != "error: --dir "+below+": not a directory\n" {
			t.Errorf("exit %d, stderr %q; want 1 naming --dir", r.code, r.stderr)
		}
	})
	t.Run("an earlier demo's files", func(t *testing.T) {
		dir := t.TempDir()
		// As a demo stopped during its broken save leaves them.
		for name, data := range map[string][]byte{"enemy.wasm": cutModule(), "enemy.lua": demoFile("enemy_v3_broken.lua")} {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		out, errOut := newSyncBuffer(), newSyncBuffer()
		stop, _, _ := runBackground(t, out, errOut, "demo", "--dir", dir)
		out.waitFor(t, 0, "Ctrl-C stops.")
		if code := stop(); code != exitOK {
			t.Fatalf("exit code %d; stderr:\n%s", code, errOut.String())
		}
	})
}

// TestDemoStopsCleanly: Ctrl-C (here a cancelled context) during the tour stops the
// demo with exit code 0 and no error, as it stops run.
func TestDemoStopsCleanly(t *testing.T) {
	out, errOut := newSyncBuffer(), newSyncBuffer()
	stop, _, _ := runBackground(t, out, errOut, "demo")
	out.waitFor(t, 0, "1. Load and call")
	if code := stop(); code != exitOK || errOut.String() != "" {
		t.Errorf("exit code %d, want 0; stderr:\n%s", code, errOut)
	}
	if strings.Contains(out.String(), "Done in") {
		t.Fatalf("the tour ended before the stop:\n%s", out)
	}
	out.waitFor(t, 0, "Stopped during the tour.")
}
