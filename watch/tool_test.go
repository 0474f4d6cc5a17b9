package watch

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The test binary doubles as a fake build tool, so that build steps can be tested
// for every outcome without depending on what is installed:
//
//	<test binary> -fake-tool MODE SRC OUT [MARKDIR]
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "-fake-tool" {
		os.Exit(fakeTool(os.Args[2:]))
	}
	// A race-enabled binary sleeps a second before exiting 0; the fake tool need not.
	os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	os.Exit(m.Run())
}

// fakeStep returns a build step running the fake tool in mode.
func fakeStep(mode string, extra ...string) BuildStep {
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	return BuildStep{Command: append([]string{exe, "-fake-tool", mode, "{src}", "{out}"}, extra...), OutExt: ".out"}
}

// fakeTool modes:
//
//	copy     writes SRC upper-cased to OUT and "copied SRC" to stdout
//	warn     like copy, and prints a warning to stderr
//	fail     prints "SRC:2:7: error: bad token" to stderr and exits 1
//	silent   exits 0 without writing OUT
//	flood    prints 100 KiB to stderr and exits 1
//	sleep    sleeps for a minute
//	slow     creates MARKDIR/started-PID, sleeps 300 ms, copies, creates MARKDIR/finished-PID
//	hang     creates MARKDIR/started-PID and sleeps for a minute
//	cwd      writes its working directory to OUT
//	resave   appends "+" to SRC unless it ends with one (a save landing as the
//	         build starts), then copies
//	relink   the first time (no MARKDIR/done yet), writes "v2-longer"
//	         through the hard link MARKDIR/link to SRC, a save the watched
//	         directory sees no event of, then copies
//	relinkhuge  the same, growing SRC past 64 MiB (sparse) instead
//	grow     copies, then appends "+" to SRC: a file that changes at every build
//	vanish   copies, then removes SRC
//	todir    copies, then replaces SRC with a directory
func fakeTool(args []string) int {
	mode, src, out := args[0], args[1], args[2]
	copyUpper := func() int {
		data, err := os.ReadFile(src)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := os.WriteFile(out, []byte(strings.ToUpper(string(data))), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println("copied", filepath.Base(src))
		return 0
	}
	switch mode {
	case "copy":
		return copyUpper()
	case "warn":
		fmt.Fprintf(os.Stderr, "%s:1:1: warning: be careful\n", src)
		return copyUpper()
	case "fail":
		fmt.Fprintf(os.Stderr, "%s:2:7: error: bad token\n", src)
		return 1
	case "silent":
		return 0
	case "resave":
		data, err := os.ReadFile(src)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if !strings.HasSuffix(string(data), "+") {
			// One append, not a rewrite: the watcher kills the tool as the
			// save reaches it, which must not leave the source truncated.
			f, err := os.OpenFile(src, os.O_WRONLY|os.O_APPEND, 0)
			if err == nil {
				_, err = f.Write([]byte("+"))
				f.Close()
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		return copyUpper()
	case "grow", "vanish", "todir":
		code := copyUpper()
		if mode == "vanish" || mode == "todir" {
			os.Remove(src)
			if mode == "todir" {
				os.Mkdir(src, 0o755)
			}
		} else if f, err := os.OpenFile(src, os.O_WRONLY|os.O_APPEND, 0); err == nil {
			f.Write([]byte("+"))
			f.Close()
		}
		return code
	case "cwd":
		wd, _ := os.Getwd()
		os.WriteFile(out, []byte(wd), 0o644)
		return 0
	case "flood":
		os.Stderr.Write([]byte(strings.Repeat("x", 100<<10)))
		return 1
	case "sleep":
		time.Sleep(time.Minute)
		return 0
	case "relink", "relinkhuge":
		if _, err := os.Stat(filepath.Join(args[3], "done")); err != nil {
			os.WriteFile(filepath.Join(args[3], "done"), nil, 0o644)
			if mode == "relink" {
				os.WriteFile(filepath.Join(args[3], "link"), []byte("v2-longer"), 0o644)
			} else {
				os.Truncate(filepath.Join(args[3], "link"), 64<<20+1)
			}
		}
		if mode == "relinkhuge" { // the reread fails; building 64 MiB would only take seconds
			os.WriteFile(out, []byte("V1"), 0o644)
			return 0
		}
		return copyUpper()
	case "slow", "hang":
		mark := func(what string) {
			os.WriteFile(filepath.Join(args[3], what+"-"+strconv.Itoa(os.Getpid())), nil, 0o644)
		}
		mark("started")
		if mode == "hang" {
			time.Sleep(time.Minute)
		}
		time.Sleep(300 * time.Millisecond)
		code := copyUpper()
		mark("finished")
		return code
	}
	fmt.Fprintln(os.Stderr, "unknown mode", mode)
	return 2
}
