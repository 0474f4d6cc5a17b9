package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
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
	"github.com/hotscript/hotscript/watch"
)

// maxTPS bounds --tps: beyond it a frame is shorter than a call into a script.
const maxTPS = 10_000

type runFlags struct {
	tps    int
	frames int64
	dur    time.Duration
	limits limitFlags
	quiet  bool
}

func runCommand() command {
	return command{
		name:    "run",
		args:    "[flags] DIR",
		summary: "run the scripts in DIR; reload them on save",
		about: `Loads every script under DIR (.wasm, .lua, .wat when wat2wasm is on PATH, which
names the script, and .c when clang is, built into the .wasm of the same name, which
names the script; a .wat or .c next to a .wasm of the same name is that module's
source, rebuilt and reloaded when saved, and its build runs at the start if it was
saved after the .wasm), attaches each to an entity of a scene,
and calls each script's update(dt) every frame, dt being the fixed time step in
seconds: a WASM update must take one f32 or f64, a Lua update gets a number.
Scripts without such an update are loaded and left idle.

DIR is watched: a saved script is reloaded between two frames, and a saved new file
is loaded. If DIR is removed, the scripts keep running, and DIR is watched again
once it is back. Each reload prints one line: what changed in the interface, how
long the compile and the swap took, what state was carried, or why it was rejected
and which version keeps running; a file saved back as the running version after
a rejected save (the edit undone), or recreated after its deletion, says it is
restored. A WASM script that exports get_state and
set_state has its state moved to the new version (a JSON document as (ptr, len),
or one number); other WASM scripts start afresh, as does one whose state cannot
move (the line says why). Lua scripts keep their fields; when the running
version's on_save fails, the new one still goes live with them (on_restore gets
nil, and the line says why), so that a save fixing on_save runs. The summary's
average call is the time of each update call, measured.

Scripts get one host function, host.log: a WASM module imports it as
(import "host" "log" (func (param i32 i32))), a UTF-8 message as (ptr, len) in
its memory; a Lua script calls host.log(...) with values JSON can hold (strings
as they are, numbers, booleans, nil, tables of them as JSON; a function or a
cyclic table fails the call: print writes anything). Each message, and each Lua
print, is a line naming its script. Lua scripts have coroutine besides the
sandbox's string, table and math (a coroutine is not carried by a reload: a
field holding one keeps the new version's value).

Stops after --frames frames, after --for, or on Ctrl-C (or SIGTERM), with a summary
and exit code 0, even if scripts failed: their errors are reported and counted (an
update failing every frame is reported once, and again for another error or
when it fails again after it worked, one line a second at most; the summary
counts every one). A
second Ctrl-C ends it at once, with exit code 130, even while a script's call
without a time limit (--max-time 0) is running, unless a garbage collection has
begun meanwhile, which waits for that call forever, and the process with it (end
it with SIGKILL). The summary's totals count every
reload and rejected save of the session, of scripts unloaded since (a file renamed)
too; its table lists the scripts still loaded.`,
		setup: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			f := &runFlags{}
			fs.IntVar(&f.tps, "tps", 60, "run `N` frames a second, 1 to 10000")
			fs.Int64Var(&f.frames, "frames", 0, "stop after `N` frames (0: no limit)")
			fs.Var((*durationFlag)(&f.dur), "for", "stop after `DURATION`, e.g. 10s (0: no limit)")
			fs.BoolVar(&f.quiet, "quiet", false, "no banner and no summary: only loads, reloads, errors and what scripts print")
			f.limits.register(fs)
			return func(ctx context.Context, e *env, args []string) error {
				if err := flagsAfter(fs, args, "DIR"); err != nil {
					return err
				}
				return runMain(ctx, e, f, args)
			}
		},
	}
}

func runMain(ctx context.Context, e *env, f *runFlags, args []string) error {
	if len(args) != 1 {
		return usageError("needs exactly one DIR")
	}
	if f.tps <= 0 || f.tps > maxTPS || f.frames < 0 || f.dur < 0 {
		return usageError("--tps must be 1 to %d, --frames and --for not negative", maxTPS)
	}
	if err := f.limits.check(); err != nil {
		return err
	}
	dir := args[0]
	if dir == "" {
		return usageError(`DIR is "": name a directory, such as .`)
	}
	if fi, err := os.Stat(dir); err != nil {
		return err
	} else if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	world := ecs.NewWorld()
	out := newPrinter(e.stdout, e.out, dir)
	h, closeHost, err := newHost(ctx, hotscript.Config{
		Limits:    f.limits.host(),
		Swap:      hotscript.SwapAtApply,
		Migration: hotscript.MigrateExportsOrReset,
		World:     world,
		// Loads of a whole directory report before the loop reads events.
		EventBuffer: 1024,
	}, out.print)
	if err != nil {
		return err
	}
	defer closeHost()

	sc := newScene(h, world, out, f.tps, ctx.Done())
	sc.adopt = true
	files, skipped, err := scriptFiles(dir)
	if err != nil {
		return err
	}
	// Watch first, so that no save between the loads and the loop is lost.
	if err := h.Watch(ctx, dir); err != nil && ctx.Err() == nil { // Ctrl-C already: the loop stops at once
		return err
	}
	if !f.quiet {
		fmt.Fprintf(e.stdout, "%s %s at %s a second, reloading on save (Ctrl-C stops)\n",
			e.out.bold("hotscript run"), dir, plural(int64(f.tps), "frame"))
		for _, s := range skipped {
			fmt.Fprintf(e.stdout, "  %s\n", e.out.dim(out.name(s)))
		}
		if len(files) == 0 {
			fmt.Fprintf(e.stdout, "  %s\n", e.out.dim("no scripts yet: a .lua or .wasm file saved here loads (.wat with wat2wasm on PATH, .c with clang)"))
		}
	}
	for _, path := range files {
		if ctx.Err() != nil {
			break // Ctrl-C: the loads left would fail for it, not for their scripts
		}
		s, built, err := loadFile(ctx, h, path)
		var build *watch.BuildError
		if errors.As(err, &build) && selfBuilt(path) { // else the host reported it
			sc.handle(hotscript.Event{Script: builtName(path), Kind: hotscript.Rejected, Err: err})
		}
		if twin := builtName(path); err != nil && !errors.Is(err, hotscript.ErrExists) && ctx.Err() == nil &&
			selfBuilt(path) && hasContent(twin) && !sameContent(twin, built) {
			// The .wasm the source was saved after runs: the version its
			// broken edit would have replaced (unless it is what the source
			// built, which just failed: helper-232 saw it fail twice).
			sc.deliver(nil) // the rejection first
			if !f.quiet {   // what the next line is about, loaded or rejected
				fmt.Fprintf(e.stdout, "  %s\n", e.out.dim(out.name(twin)+": its source did not load (above), so it is loaded as it is on disk"))
			}
			s, err = h.Load(ctx, twin, nil)
		}
		switch {
		case errors.Is(err, hotscript.ErrExists):
			continue // saved since Watch began: the watcher loaded it, the loop adopts it
		case err == nil:
			sc.attach(s)
		}
		// Report as the loads go (a failed one's Rejected event says why), so
		// that a directory of more scripts than the event buffer holds loses
		// none of its reports.
		sc.deliver(nil)
	}

	start := time.Now()
	var until time.Time
	if f.dur > 0 {
		until = start.Add(f.dur)
	}
	why := sc.run(ctx, time.Second/time.Duration(f.tps), f.frames, until, nil)
	sc.flushAll()
	sc.deliver(nil) // what came after the last frame
	if !f.quiet {
		writeSummary(e, out, h, sc, why, time.Since(start))
	}
	return nil
}

// scriptFiles lists the scripts under dir the host can load, and notes on the files
// left out. An empty file is left out, as the watcher ignores one, and so is what
// the watcher ignores (watch.Ignored), which it would never reload. A .wat or .c is
// loaded only if its tool (wat2wasm, clang) is on PATH; if a .wasm of the same name
// is there, that .wasm is the script, which the watcher rebuilds from the source,
// and it runs the source's build if the source was saved after it (an edit a
// past run made live, building the source in memory), else its own bytes.
func scriptFiles(dir string) (files, skipped []string, err error) {
	stale := map[string]bool{}     // .wasm files whose source was saved after them
	source := map[string]string{}  // .wasm name -> the source of it met first (x.c before x.wat)
	missing := map[string]string{} // extension -> the tool its sources need, if not on PATH
	for ext, tool := range map[string]string{".wat": "wat2wasm", ".c": "clang"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing[ext] = tool
		}
	}
	// Through os.DirFS, a symbolic link given as dir is followed, as the watcher
	// follows it; links below it are not.
	err = fs.WalkDir(os.DirFS(dir), ".", func(rel string, d fs.DirEntry, err error) error {
		path := filepath.Join(dir, filepath.FromSlash(rel))
		var perr *fs.PathError
		switch {
		case err != nil && rel == ".":
			if errors.As(err, &perr) { // named "." by os.DirFS: say which directory
				return &fs.PathError{Op: perr.Op, Path: dir, Err: perr.Err}
			}
			return err
		case errors.As(err, &perr): // an unreadable subdirectory: the walk goes on
			skipped = append(skipped, path+": not read: "+perr.Err.Error())
			return nil
		case err != nil:
			return err
		}
		if d.IsDir() {
			if rel != "." && watch.Ignored(d.Name()) {
				return fs.SkipDir
			}
			return nil
		}
		if watch.Ignored(d.Name()) {
			return nil
		}
		ext := filepath.Ext(path)
		if !slices.Contains([]string{".wasm", ".lua", ".wat", ".c"}, ext) {
			return nil
		}
		if err := checkRegular(path); errors.As(err, &perr) {
			skipped = append(skipped, path+": not loaded: "+perr.Err.Error())
			return nil
		}
		if !hasContent(path) { // as the watcher ignores an empty save
			skipped = append(skipped, path+": empty, not a script yet; it loads once saved with content")
			return nil
		}
		switch ext {
		case ".wasm", ".lua":
			files = append(files, path)
		case ".wat", ".c":
			twin := builtName(path)
			// One source of a module is built at the start (the first, as the
			// host's: x.c before x.wat); saving any of them rebuilds it.
			first, taken := source[twin]
			switch {
			case hasContent(twin) && missing[ext] != "":
				skipped = append(skipped, path+": the source of "+filepath.Base(twin)+"; "+missing[ext]+
					" is not on PATH, so saving it rebuilds nothing")
			case taken && missing[ext] != "":
				skipped = append(skipped, path+": another source of "+filepath.Base(twin)+"; "+missing[ext]+
					" is not on PATH, so saving it rebuilds nothing")
			case taken:
				skipped = append(skipped, path+": another source of "+filepath.Base(twin)+", not built at the start: "+
					filepath.Base(first)+" is; saving it rebuilds and reloads "+filepath.Base(twin))
			case hasContent(twin) && savedAfter(path, twin):
				stale[twin], source[twin] = true, path
				files = append(files, path)
				skipped = append(skipped, twin+": older than its source "+filepath.Base(path)+", which is built and runs in its place")
			case hasContent(twin):
				skipped = append(skipped, path+": the source of "+filepath.Base(twin)+"; saving it rebuilds and reloads that")
			case missing[ext] != "":
				skipped = append(skipped, path+": not loaded: "+missing[ext]+" is not on PATH")
			default:
				source[twin] = path
				files = append(files, path)
			}
		}
		return nil
	})
	files = slices.DeleteFunc(files, func(f string) bool { return stale[f] })
	slices.Sort(files)
	return files, skipped, err
}

// savedAfter reports whether the file at a was modified after the one at b.
func savedAfter(a, b string) bool {
	ai, aerr := os.Stat(a)
	bi, berr := os.Stat(b)
	return aerr == nil && berr == nil && ai.ModTime().After(bi.ModTime())
}

// builtName is the .wasm a source (.wat, .c) builds.
func builtName(src string) string { return strings.TrimSuffix(src, filepath.Ext(src)) + ".wasm" }

// loadFile loads the script at path. A .c file, and a .wat beside its .wasm
// (see selfBuilt), is built by the watcher's build step and loaded under the name
// of the .wasm it builds, as the watcher loads a .c saved later, so that the
// watcher reloads it on save; a failed build is the step's *watch.BuildError,
// which the host has not seen (no event). It returns the module it built, if
// it built one.
func loadFile(ctx context.Context, h *hotscript.Host, path string) (*hotscript.Script, []byte, error) {
	if !selfBuilt(path) {
		s, err := h.Load(ctx, path, nil)
		return s, nil, err
	}
	code, _, err := watch.DefaultBuildSteps()[filepath.Ext(path)].Build(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	s, err := h.LoadBytes(ctx, builtName(path), code, nil)
	return s, code, err
}

// selfBuilt reports whether loadFile builds the script at path itself: a .c, or
// a .wat whose .wasm is there (the host would load a .wat under its own name).
func selfBuilt(path string) bool {
	ext := filepath.Ext(path)
	return ext == ".c" || ext == ".wat" && hasContent(builtName(path))
}

// errNotRegular is the error for a script path that holds a named pipe, a device
// or a directory: reading it could block for good, or fail.
var errNotRegular = errors.New("not a regular file")

// checkRegular returns a *fs.PathError unless path is a regular file, or a symbolic
// link to one (the watcher takes the same files).
func checkRegular(path string) error {
	info, err := os.Stat(path)
	switch {
	case err != nil:
		return err
	case !info.Mode().IsRegular():
		return &fs.PathError{Op: "load", Path: path, Err: errNotRegular}
	}
	return nil
}

// checkScriptFile checks the FILE of call and inspect: a usage error unless its
// extension is that of a script they take, then checkRegular's error.
func checkScriptFile(file string) error {
	if file == "" {
		return usageError(`FILE is "": name a script file`)
	}
	switch ext := filepath.Ext(file); ext {
	case ".wasm", ".wat", ".c", ".lua":
		return checkRegular(file)
	default:
		return usageError("%s: unknown kind of script %q (want .wasm, .wat, .c or .lua)", file, ext)
	}
}

// hasContent reports whether path is a file with something in it: an empty file is
// not a script yet.
func hasContent(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Size() > 0
}

// sameContent reports whether the file at path holds b.
func sameContent(path string, b []byte) bool {
	got, err := os.ReadFile(path)
	return err == nil && b != nil && bytes.Equal(got, b)
}

// settleWait bounds how long the summary waits for the events of reloads that the
// host has counted: it emits each right after it counts it.
const settleWait = time.Second

// writeSummary prints why the loop stopped, the session's reloads and rejected saves
// (first loads and scripts unloaded since included), and each loaded script's
// counters, once the events of the reloads these count are handled (and printed).
func writeSummary(e *env, out *printer, h *hotscript.Host, sc *scene, why string, took time.Duration) {
	stats := sc.settledStats(settleWait)
	var reloads, failed uint64
	counted := map[*hotscript.Script]bool{} // once each, should a detached script still be loaded
	count := func(s *hotscript.Script) hotscript.Stats {
		st := stats(s)
		if !counted[s] {
			counted[s] = true
			reloads += st.Reloads + st.Reverts
			failed += st.FailedReloads
		}
		return st
	}
	rows := [][]string{{"script", "version", "calls", "errors", "reloads", "rejected", "reverts", "avg call"}}
	for _, s := range h.Scripts() {
		st := count(s)
		avg := "-"
		if t := sc.timed[s]; t.n > 0 {
			avg = duration(t.d / time.Duration(t.n))
		}
		rows = append(rows, []string{
			out.name(s.Name()), fmt.Sprintf("v%d", st.Version),
			fmt.Sprint(st.Calls), fmt.Sprint(st.Errors), fmt.Sprint(st.Reloads),
			fmt.Sprint(st.FailedReloads), fmt.Sprint(st.Reverts), avg,
		})
	}
	live := len(counted)
	for _, s := range sc.unloaded {
		count(s)
	}
	rejected := fmt.Sprintf("%d rejected", int64(failed)+sc.rejectedLoads)
	if sc.rejectedLoads > 0 {
		rejected += fmt.Sprintf(" (%d on first load)", sc.rejectedLoads)
	}
	if n := len(counted) - live; n > 0 { // they have no row: say the totals count them
		rejected += fmt.Sprintf(", counting %s no longer loaded", plural(int64(n), "script"))
	}
	fmt.Fprintf(e.stdout, "\n%s (%s) after %s in %s; %s, %s\n", e.out.bold("stopped"), why,
		plural(sc.frames, "frame"), duration(took), plural(int64(reloads), "reload"), rejected)
	if len(rows) > 1 {
		rows[0] = mapStrings(rows[0], e.out.dim)
		writeColumns(e.stdout, rows, "  ")
	}
	if n := h.DroppedEvents(); n > 0 {
		fmt.Fprintf(e.stdout, "%s\n", e.out.warn(fmt.Sprintf("%s not shown: the event buffer was full", plural(int64(n), "event"))))
	}
}

func mapStrings(in []string, f func(string) string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = f(s)
	}
	return out
}
