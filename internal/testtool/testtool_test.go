package testtool

import (
	"errors"
	"runtime"
	"testing"
)

// recorder is a testing.TB that records how Need ended the test instead of ending it.
type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Skipf(string, ...any)  { r.skipped = true; runtime.Goexit() }
func (r *recorder) Fatalf(string, ...any) { r.failed = true; runtime.Goexit() }
func (r *recorder) run(f func(*recorder)) *recorder {
	done := make(chan struct{})
	go func() { defer close(done); f(r) }()
	<-done
	return r
}

func TestNeed(t *testing.T) {
	const missing = "hotscript-no-such-tool"
	tests := []struct {
		name            string
		require         string
		tools           []string
		skipped, failed bool
	}{
		{"present tool", "", []string{"go"}, false, false},
		{"missing tool skips", "", []string{"go", missing}, true, false},
		{"missing tool fails when required", "1", []string{missing}, false, true},
		{"present tool when required", "1", []string{"go"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(RequireEnv, tt.require)
			r := (&recorder{TB: t}).run(func(r *recorder) { Need(r, tt.tools...) })
			if r.skipped != tt.skipped || r.failed != tt.failed {
				t.Errorf("skipped %v, failed %v; want %v, %v", r.skipped, r.failed, tt.skipped, tt.failed)
			}
		})
	}
}

// Returns hands back what the call returned, without failing the test. (A call
// that hangs fails it after 10 s; the tests that use Returns were each checked to
// fail that way with the behaviour they guard broken.)
func TestReturns(t *testing.T) {
	want := errors.New("the call's own error")
	r := (&recorder{TB: t}).run(func(r *recorder) {
		if got := Returns(r, "a call", func() error { return want }); got != want {
			t.Errorf("Returns = %v, want %v", got, want)
		}
	})
	if r.failed || r.skipped {
		t.Error("Returns ended the test on a call that returned")
	}
}
