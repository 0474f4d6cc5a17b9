package hotscript

// Reload with nil bytes of a .wasm whose source Watch or Reload(nil) built
// (helper-146).

import (
	"context"
	"fmt"
	"hash/maphash"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hotscript/hotscript/internal/testtool"
)

// builtWat returns the module of sourceText(".wat", v), built elsewhere.
func builtWat(t *testing.T, v int) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.wat")
	writeFile(t, p, sourceText(".wat", v))
	return buildSource(t, p)
}

// Reload(nil) built x.wat (v2, edited while no Watch ran); then the program's
// build writes x.wasm (v3), saved last: Reload(nil) runs v3, as a Watch begun
// then would (it ran v2 again).
func TestReloadNilWasmSavedAfterSourceBuild(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	ctx := context.Background()
	h := newTestHost(t, Config{})
	dir, src, mod, s := loadBuiltWat(t, h)
	time.Sleep(20 * time.Millisecond)
	writeFile(t, src, sourceText(".wat", 2))
	if err := h.Reload(ctx, s, nil); err != nil {
		t.Fatal(err)
	}
	if got := call(t, h, s, "version"); got != "2" {
		t.Fatalf("version %s, want 2", got)
	}
	time.Sleep(20 * time.Millisecond)
	if err := os.WriteFile(mod, builtWat(t, 3), 0o600); err != nil { // saved last
		t.Fatal(err)
	}
	reloadNilWants(t, h, s, "3", "with x.wasm (v3) saved after x.wat (v2)")
	// What a Watch begun now does: it takes x.wasm.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for len(h.Events()) > 0 {
		<-h.Events()
	}
	if err := h.Watch(wctx, dir); err != nil {
		t.Fatal(err)
	}
	if ev, ok := eventWithin(h, 3*time.Second, func(ev Event) bool { return ev.Script == mod }); ok {
		t.Logf("Watch begun after it: %v; version now %s", ev, call(t, h, s, "version"))
	}
}

// The same after a Watch built the save of x.wat and stopped.
func TestReloadNilWasmSavedAfterWatchStopped(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	ctx := context.Background()
	h := newTestHost(t, Config{})
	dir, src, mod, s := loadBuiltWat(t, h)
	wctx, cancel := context.WithCancel(ctx)
	if err := h.Watch(wctx, dir); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	writeFile(t, src, sourceText(".wat", 2))
	nextEvent(t, h, func(ev Event) bool { return ev.Script == mod && ev.Kind == Committed })
	cancel()
	time.Sleep(200 * time.Millisecond)
	if err := os.WriteFile(mod, builtWat(t, 3), 0o600); err != nil { // make, saved last
		t.Fatal(err)
	}
	reloadNilWants(t, h, s, "3", "with x.wasm (v3) saved after Watch built x.wat (v2)")
}

// slowWat2wasm puts a wat2wasm first in PATH that sleeps d before building
// while the file it returns exists.
func slowWat2wasm(t *testing.T, d time.Duration) (flag string) {
	t.Helper()
	flag = filepath.Join(t.TempDir(), "slow")
	wat2wasmWrapper(t, func(real string) string {
		return fmt.Sprintf("if [ -e %s ]; then sleep %g; fi\nexec %s \"$@\"\n", flag, d.Seconds(), real)
	})
	return flag
}

// Under Watch, the script comes from x.wat (v2). The program's ReloadAsync(nil)
// builds x.wat (slowly); meanwhile the program's build writes x.wasm (v3),
// which Watch reloads. The Reload(nil)'s mark, once its build ends, leaves
// Watch's mark of x.wasm alone (it replaced it: the next Reload(nil) brought
// v2 back).
func TestReloadNilBuildDoesNotOverwriteWatchSave(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	flag := slowWat2wasm(t, 2*time.Second)
	ctx := context.Background()
	h := newTestHost(t, Config{})
	dir, src, mod, s := loadBuiltWat(t, h)
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	writeFile(t, src, sourceText(".wat", 2))
	nextEvent(t, h, func(ev Event) bool { return ev.Script == mod && ev.Kind == Committed })
	time.Sleep(500 * time.Millisecond) // the watcher done with x.wat
	for len(h.Events()) > 0 {
		t.Log(<-h.Events())
	}
	v3 := builtWat(t, 3)
	writeFile(t, flag, "")
	t.Logf("%s start", time.Now().Format("05.000"))
	p1 := h.ReloadAsync(ctx, s, nil) // builds x.wat: 2 s
	time.Sleep(300 * time.Millisecond)
	if err := os.WriteFile(mod, v3, 0o600); err != nil {
		t.Fatal(err)
	}
	<-p1.Done()
	t.Logf("%s ReloadAsync(nil): %v", time.Now().Format("05.000"), p1.Err())
	for {
		ev, ok := eventWithin(h, 2*time.Second, func(ev Event) bool { return ev.Script == mod })
		if !ok {
			break
		}
		t.Logf("%s event: %v", time.Now().Format("05.000"), ev)
	}
	if got := call(t, h, s, "version"); got != "3" {
		t.Fatalf("after the save of x.wasm: version %s, want 3", got)
	}
	os.Remove(flag)
	reloadNilWants(t, h, s, "3", "after Watch made x.wasm (v3, saved last) live")
}

// The program's Reload(nil) builds x.wat (slowly); meanwhile the user saves
// x.wat (v3), which Watch makes live; the user Reverts. Reload(nil)'s mark,
// after its build, does not replace Watch's with the text it read before: a
// rename of x.wat away and back is not then taken for a save that runs over
// the Revert.
func TestReloadNilBuildDoesNotOverwriteSourceSave(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	bin := t.TempDir()
	flag := filepath.Join(bin, "slow-once")
	script := "#!/bin/sh\nif rm " + flag + " 2>/dev/null; then sleep 2; fi\nexec /usr/bin/wat2wasm \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "wat2wasm"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	ctx := context.Background()
	h := newTestHost(t, Config{})
	dir, src, mod, s := loadBuiltWat(t, h)
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	if err := h.Watch(wctx, dir); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	writeFile(t, src, sourceText(".wat", 2))
	nextEvent(t, h, func(ev Event) bool { return ev.Script == mod && ev.Kind == Committed })
	time.Sleep(500 * time.Millisecond)
	for len(h.Events()) > 0 {
		<-h.Events()
	}
	writeFile(t, flag, "")
	p1 := h.ReloadAsync(ctx, s, nil) // reads x.wat (v2), builds it: 2 s
	time.Sleep(300 * time.Millisecond)
	writeFile(t, src, sourceText(".wat", 3)) // Watch builds it at once
	<-p1.Done()
	t.Logf("Reload(nil): %v", p1.Err())
	time.Sleep(500 * time.Millisecond)
	if got := call(t, h, s, "version"); got != "3" {
		t.Fatalf("after the save of x.wat v3: version %s", got)
	}
	if err := h.Revert(ctx, s); err != nil {
		t.Fatal(err)
	}
	reverted := call(t, h, s, "version")
	t.Logf("reverted: v%d version %s", s.Version(), reverted)
	s.mu.Lock()
	f := s.file
	s.mu.Unlock()
	text, _ := os.ReadFile(src)
	t.Logf("mark %s sum==file's: %v reload==p1: %v", f.path, f.sum == maphash.Bytes(markSeed, text), f.reload == p1)
	for len(h.Events()) > 0 {
		t.Log(<-h.Events())
	}
	// The Watch is stopped and begun again: nothing was saved since Watch
	// built x.wat (v3).
	wcancel()
	time.Sleep(300 * time.Millisecond)
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if ev, ok := eventWithin(h, 3*time.Second, func(ev Event) bool { t.Logf("event %v", ev); return ev.Script == mod }); ok {
		t.Errorf("Watch begun again after a Revert, nothing saved since: %v", ev)
	}
	if got := call(t, h, s, "version"); got != reverted {
		t.Errorf("version %s, want %s (the Revert's)", got, reverted)
	}
}

// A script loaded through a symbolic link to the watched directory: Watch
// built a save of x.wat (v2), then the program's build wrote x.wasm (v3),
// which Watch made live. Reload(nil) compares the marks' paths (the watcher's
// spelling) with the script's (the link's) by their canonical forms (it took
// x.wat for unseen, and brought v2 back).
func TestReloadNilThroughLinkedDir(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	ctx := context.Background()
	h := newTestHost(t, Config{})
	real := t.TempDir()
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	src, mod := filepath.Join(real, "x.wat"), filepath.Join(real, "x.wasm")
	writeFile(t, src, sourceText(".wat", 1))
	if err := os.WriteFile(mod, buildSource(t, src), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := h.Load(ctx, filepath.Join(link, "x.wasm"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Watch(ctx, real); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	writeFile(t, src, sourceText(".wat", 2))
	nextEvent(t, h, func(ev Event) bool { return ev.Script == s.Name() && ev.Kind == Committed })
	time.Sleep(300 * time.Millisecond)
	if err := os.WriteFile(mod, builtWat(t, 3), 0o600); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, h, func(ev Event) bool { return ev.Script == s.Name() && ev.Kind == Committed })
	if got := call(t, h, s, "version"); got != "3" {
		t.Fatalf("after x.wasm v3 saved: version %s", got)
	}
	reloadNilWants(t, h, s, "3", "of link/x.wasm after Watch (of the real dir) made x.wasm v3 live")
}

// Reload(nil) built an x.wat edited while no Watch ran, which failed to build
// (ErrBuild). A Watch begun then, nothing saved since, does not build and
// report it again: the failure is recorded as Watch records its own.
func TestReloadNilFailedBuildNotRepeatedByWatch(t *testing.T) {
	testtool.Need(t, "wat2wasm")
	ctx := context.Background()
	h := newTestHost(t, Config{})
	dir, src, mod, s := loadBuiltWat(t, h)
	time.Sleep(20 * time.Millisecond)
	writeFile(t, src, "(module (func (export \"version\")")
	if err := h.Reload(ctx, s, nil); err == nil {
		t.Fatal("broken x.wat built")
	}
	for len(h.Events()) > 0 {
		<-h.Events()
	}
	if err := h.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if ev, ok := eventWithin(h, 2*time.Second, func(ev Event) bool { return ev.Script == mod }); ok {
		t.Errorf("Watch begun after Reload(nil) refused x.wat, nothing saved since: %v", ev)
	}
	_ = s
}
