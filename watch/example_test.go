package watch_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hotscript/hotscript/watch"
)

// A save yields one event carrying the file's final bytes.
func Example() {
	dir, _ := os.MkdirTemp("", "scripts")
	defer os.RemoveAll(dir)

	w, err := watch.New(watch.Options{Debounce: 20 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close(context.Background())
	if err := w.Add(dir); err != nil {
		log.Fatal(err)
	}

	os.WriteFile(filepath.Join(dir, "enemy.lua"), []byte("return { health = 100 }"), 0o644)
	ev := <-w.Events()
	fmt.Println(filepath.Base(ev.Path), ev.Op, string(ev.Data))
	// Output: enemy.lua Changed return { health = 100 }
}

// A host that drops what it loaded from a file without the watcher reporting
// the file removed (it unloaded the script) says so with Forget: a file renamed
// away and back, unchanged, is then reported again.
func ExampleWatcher_Forget() {
	dir, _ := os.MkdirTemp("", "scripts")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "enemy.lua")

	w, err := watch.New(watch.Options{Debounce: 20 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close(context.Background())
	if err := w.Add(dir); err != nil {
		log.Fatal(err)
	}
	os.WriteFile(path, []byte("v1"), 0o644)
	ev := <-w.Events()
	fmt.Println(filepath.Base(ev.Path), ev.Op, string(ev.Data))

	w.Forget(path) // the host unloaded enemy.lua
	os.Rename(path, path+".bak")
	os.Rename(path+".bak", path)
	ev = <-w.Events()
	fmt.Println(filepath.Base(ev.Path), ev.Op, string(ev.Data))
	// Output:
	// enemy.lua Changed v1
	// enemy.lua Changed v1
}

// An editor's atomic save, with its swap file and a temporary file renamed over the
// original, is one event; the helper files produce none.
func Example_atomicSave() {
	dir, _ := os.MkdirTemp("", "scripts")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "enemy.lua")
	os.WriteFile(path, []byte("v1"), 0o644)

	w, err := watch.New(watch.Options{Debounce: 20 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close(context.Background())
	if err := w.Add(dir); err != nil {
		log.Fatal(err)
	}

	os.WriteFile(filepath.Join(dir, ".enemy.lua.swp"), []byte("swap"), 0o644)
	os.WriteFile(path+".vsctmp", []byte("v2"), 0o644)
	os.Rename(path+".vsctmp", path)
	ev := <-w.Events()
	fmt.Println(filepath.Base(ev.Path), ev.Op, string(ev.Data))

	os.Remove(path)
	ev = <-w.Events()
	fmt.Println(filepath.Base(ev.Path), ev.Op)
	// Output:
	// enemy.lua Changed v2
	// enemy.lua Removed
}

// A symbolic link to a file elsewhere is reported as that file: a save of its
// target is an event for the link, carrying the target's bytes.
func Example_symbolicLink() {
	dir, _ := os.MkdirTemp("", "game")
	defer os.RemoveAll(dir)
	scripts, shared := filepath.Join(dir, "scripts"), filepath.Join(dir, "shared")
	os.Mkdir(scripts, 0o755)
	os.Mkdir(shared, 0o755)
	os.WriteFile(filepath.Join(shared, "ai.lua"), []byte("v1"), 0o644)
	os.Symlink("../shared/ai.lua", filepath.Join(scripts, "ai.lua"))

	w, err := watch.New(watch.Options{Debounce: 20 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close(context.Background())
	if err := w.Add(scripts); err != nil {
		log.Fatal(err)
	}

	os.WriteFile(filepath.Join(shared, "ai.lua"), []byte("v2"), 0o644)
	ev := <-w.Events()
	fmt.Println(filepath.Base(filepath.Dir(ev.Path)), filepath.Base(ev.Path), ev.Op, string(ev.Data))
	// Output: scripts ai.lua Changed v2
}

// A build step turns a saved source file into what its event carries, or into the
// tool's own message. DefaultBuildSteps builds .wat with wat2wasm and .c with clang;
// this example's "compiler" is a shell line, so that it runs anywhere: it turns a
// .txt into upper case, and rejects a file that says "oops".
func Example_build() {
	dir, _ := os.MkdirTemp("", "guests")
	defer os.RemoveAll(dir)

	upper := watch.BuildStep{
		Command: []string{"sh", "-c", `if grep -n oops {src} >&2; then exit 1; fi; tr a-z A-Z < {src} > {out}`},
		OutExt:  ".up",
	}
	w, err := watch.New(watch.Options{Debounce: 20 * time.Millisecond, Build: map[string]watch.BuildStep{".txt": upper}})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close(context.Background())
	if err := w.Add(dir); err != nil {
		log.Fatal(err)
	}

	os.WriteFile(filepath.Join(dir, "note.txt"), []byte("hello"), 0o644)
	ev := <-w.Events()
	fmt.Printf("%s -> %s: %s\n", filepath.Base(ev.Path), filepath.Base(ev.Output), ev.Data)
	fmt.Printf("built from %q (%s, %d bytes)\n", ev.Source, ev.Info.Name(), ev.Info.Size())

	os.WriteFile(filepath.Join(dir, "note.txt"), []byte("fine\noops\n"), 0o644)
	ev = <-w.Events()
	fmt.Println(errors.Is(ev.Err, watch.ErrBuild), strings.TrimSpace(ev.BuildLog))
	// Output:
	// note.txt -> note.up: HELLO
	// built from "hello" (note.txt, 5 bytes)
	// true 2:oops
}

// Events of a source and of its built module come in the order the files were
// saved, however long the build takes, so that the one saved last is received
// last; a build holds up no other file.
func Example_order() {
	dir, _ := os.MkdirTemp("", "guests")
	defer os.RemoveAll(dir)

	slowUpper := watch.BuildStep{Command: []string{"sh", "-c", `sleep 0.3; tr a-z A-Z < {src} > {out}`}, OutExt: ".up"}
	w, err := watch.New(watch.Options{Debounce: 20 * time.Millisecond, Build: map[string]watch.BuildStep{".txt": slowUpper}})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close(context.Background())
	if err := w.Add(dir); err != nil {
		log.Fatal(err)
	}

	os.WriteFile(filepath.Join(dir, "note.txt"), []byte("hello"), 0o644)
	time.Sleep(2 * time.Millisecond)
	os.WriteFile(filepath.Join(dir, "note.up"), []byte("HAND-MADE"), 0o644) // saved last
	os.WriteFile(filepath.Join(dir, "other.lua"), []byte("return 1"), 0o644)
	for range 3 {
		ev := <-w.Events()
		fmt.Printf("%s (%s): %s\n", filepath.Base(ev.Path), filepath.Base(ev.Output), ev.Data)
	}
	// Output:
	// other.lua (other.lua): return 1
	// note.txt (note.up): HELLO
	// note.up (note.up): HAND-MADE
}

// Options.Filter narrows the files reported; MatchExt builds the common filter.
func ExampleMatchExt() {
	scripts := watch.MatchExt(".lua", ".wasm")
	fmt.Println(scripts("/game/enemy.lua"), scripts("/game/enemy.wasm"), scripts("/game/notes.txt"))
	// Output: true true false
}

// Ignored tells the names that never produce events (DefaultIgnore); Options.Ignore adds
// more.
func ExampleIgnored() {
	for _, name := range []string{"enemy.lua", ".enemy.lua.swp", "4913", "enemy.lua~", "enemy.lua___jb_tmp___", "enemy_BASE_4242.lua"} {
		fmt.Println(name, watch.Ignored(name))
	}
	// Output:
	// enemy.lua false
	// .enemy.lua.swp true
	// 4913 true
	// enemy.lua~ true
	// enemy.lua___jb_tmp___ true
	// enemy_BASE_4242.lua true
}

// A program loading a source at startup builds it with the step its watcher will
// use for every save after that.
func ExampleBuildStep_Build() {
	dir, _ := os.MkdirTemp("", "scripts")
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "note.txt")
	os.WriteFile(src, []byte("hello"), 0o644)

	upper := watch.BuildStep{Command: []string{"sh", "-c", `tr a-z A-Z < {src} > {out}`}, OutExt: ".up"}
	out, _, err := upper.Build(context.Background(), src)
	fmt.Printf("%s %v\n", out, err)

	broken := watch.BuildStep{Command: []string{"sh", "-c", `echo "{src}: cannot read" >&2; exit 1`}}
	_, log, err := broken.Build(context.Background(), src)
	fmt.Println(errors.Is(err, watch.ErrBuild), strings.Contains(log, "note.txt: cannot read"))
	// Output:
	// HELLO <nil>
	// true true
}

// A program that reads a source and builds it outside a watch, and takes what it
// read for the code that runs, builds it with BuildRead: the tool reads the file
// itself, and a save landing after the program's read would otherwise be what it
// built. Here the first build's tool saves the file as it builds, as an editor
// might; BuildRead reads the new save and builds it again.
func ExampleBuildStep_BuildRead() {
	dir, _ := os.MkdirTemp("", "scripts")
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "note.txt")
	os.WriteFile(src, []byte("v1"), 0o644)

	upper := watch.BuildStep{Command: []string{"sh", "-c",
		`tr a-z A-Z < {src} > {out}; [ -e {src}.saved ] || { touch {src}.saved; echo version 2 > {src}; }`}}
	read := func() (watch.Read, error) {
		info, err := os.Stat(src) // before the bytes, so that a save after it has a newer stat
		if err != nil {
			return watch.Read{}, err
		}
		b, err := os.ReadFile(src)
		return watch.Read{Info: info, Bytes: b}, err
	}
	first, _ := read()
	b, ok, err := upper.BuildRead(context.Background(), src, first, read)
	fmt.Printf("%v %v source %q built %q\n", ok, err, strings.TrimSpace(string(b.Source.Bytes)), strings.TrimSpace(string(b.Data)))
	// Output:
	// true <nil> source "version 2" built "VERSION 2"
}
