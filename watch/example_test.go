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

// A build step turns a saved .wat file into the .wasm module the event carries, or
// into the compiler's message.
func Example_build() {
	dir, _ := os.MkdirTemp("", "guests")
	defer os.RemoveAll(dir)

	w, err := watch.New(watch.Options{Debounce: 20 * time.Millisecond, Build: watch.DefaultBuildSteps()})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close(context.Background())
	if err := w.Add(dir); err != nil {
		log.Fatal(err)
	}

	os.WriteFile(filepath.Join(dir, "add.wat"), []byte(`(module (func (export "add") (param i32 i32) (result i32)
  local.get 0
  local.get 1
  i32.add))`), 0o644)
	ev := <-w.Events()
	fmt.Printf("%s -> %s: %q...\n", filepath.Base(ev.Path), filepath.Base(ev.Output), ev.Data[:4])

	os.WriteFile(filepath.Join(dir, "add.wat"), []byte(`(module (func (export "add") (param i32 i32) (result i32)
  local.get 0
  local.get 1
  i32.addd))`), 0o644)
	ev = <-w.Events()
	fmt.Println(errors.Is(ev.Err, watch.ErrBuild))
	fmt.Println(strings.ReplaceAll(strings.SplitN(ev.BuildLog, "\n", 2)[0], dir+string(filepath.Separator), ""))
	// Output:
	// add.wat -> add.wasm: "\x00asm"...
	// true
	// add.wat:4:3: error: unexpected token i32.addd, expected ).
}

// Options.Filter narrows the files reported; MatchExt builds the common filter.
func ExampleMatchExt() {
	scripts := watch.MatchExt(".lua", ".wasm")
	fmt.Println(scripts("/game/enemy.lua"), scripts("/game/enemy.wasm"), scripts("/game/notes.txt"))
	// Output: true true false
}

// DefaultIgnore lists the names that never produce events; Options.Ignore adds
// more.
func ExampleDefaultIgnore() {
	for _, name := range []string{"enemy.lua", ".enemy.lua.swp", "4913", "enemy.lua~", "enemy.lua___jb_tmp___"} {
		ignored := false
		for _, pattern := range watch.DefaultIgnore() {
			if ok, _ := filepath.Match(pattern, name); ok {
				ignored = true
			}
		}
		fmt.Println(name, ignored)
	}
	// Output:
	// enemy.lua false
	// .enemy.lua.swp true
	// 4913 true
	// enemy.lua~ true
	// enemy.lua___jb_tmp___ true
}

// A program loading a source at startup builds it with the step its watcher will
// use for every save after that.
func ExampleBuildStep_Build() {
	dir, _ := os.MkdirTemp("", "scripts")
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "add.wat")
	os.WriteFile(src, []byte(`(module (func (export "add") (param i32 i32) (result i32)
		local.get 0  local.get 1  i32.add))`), 0o644)

	step := watch.DefaultBuildSteps()[".wat"]
	module, _, err := step.Build(context.Background(), src)
	fmt.Printf("%q %v\n", module[:4], err)

	os.WriteFile(src, []byte(`(module (func (export "add") i32.addd))`), 0o644)
	_, log, err := step.Build(context.Background(), src)
	fmt.Println(errors.Is(err, watch.ErrBuild), strings.Contains(log, "add.wat:1:"))
	// Output:
	// "\x00asm" <nil>
	// true true
}
