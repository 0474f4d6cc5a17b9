package testtool

import (
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
