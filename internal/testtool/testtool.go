// Package testtool holds what tests across packages share: Need, which lets tests
// that drive the guest toolchains (wat2wasm from wabt, clang and wasm-ld) run
// wherever those are installed; Returns, for calls that would deadlock if the
// behaviour under test broke; and UnreadableDir, for a directory that cannot be
// read, as root too.
//
// On a machine with only Go, `go test ./...` must pass: such a test is skipped and
// says which tool is missing. CI installs the toolchains and sets
// HOTSCRIPT_REQUIRE_TOOLS=1, which turns a missing tool into a failure, so no
// toolchain test is skipped where it counts.
package testtool

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// UnreadableDir makes parent/name and, below it, a chain of directories nested so
// deep that the path of the last one is longer than the system allows (PATH_MAX,
// 4,096 bytes on Linux): reading that one by its path fails for every user, root
// included, where a directory with mode 0 only stops the others. It returns
// parent/name, which reads fine. Removing parent removes the chain.
func UnreadableDir(t testing.TB, parent, name string) string {
	t.Helper()
	top := filepath.Join(parent, name)
	if err := os.Mkdir(top, 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenRoot(top)
	if err != nil {
		t.Fatal(err)
	}
	step := strings.Repeat("d", 200) // each under NAME_MAX; made relative to the last
	for n := len(top); n <= 4096; n += len(step) + 1 {
		if err := r.Mkdir(step, 0o755); err != nil {
			t.Fatal(err)
		}
		next, err := r.OpenRoot(step)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		r = next
	}
	r.Close()
	return top
}

// Returns runs f on a goroutine of its own and returns its error, or fails the test
// if f has not returned within 10 seconds, saying that what hung. It is for calls
// that would deadlock if what the test checks broke: the failure then names the
// call instead of ending in the test binary's timeout. A call that hangs is left
// behind.
func Returns(t testing.TB, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not return within 10 s: deadlocked", what)
		return nil
	}
}

// RequireEnv is the environment variable that makes a missing tool fail the test
// instead of skipping it.
const RequireEnv = "HOTSCRIPT_REQUIRE_TOOLS"

// Need skips t (or fails it, when RequireEnv is set) unless every named tool is on
// PATH.
func Need(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv(RequireEnv) != "" {
				t.Fatalf("%s is not on PATH and %s is set: %v", tool, RequireEnv, err)
			}
			t.Skipf("%s is not on PATH (install wabt, clang and lld to run this test; CI does)", tool)
		}
	}
}
