package recovered

import (
	"errors"
	"io/fs"
	"testing"
)

func TestError(t *testing.T) {
	err := Error("panic", fs.ErrNotExist)
	if !errors.Is(err, fs.ErrNotExist) || err.Error() != "panic: file does not exist" {
		t.Errorf("Error(panic, fs.ErrNotExist) = %q, matching it: %v", err, errors.Is(err, fs.ErrNotExist))
	}
	if err := Error("panic", "oops"); err.Error() != "panic: oops" || errors.Unwrap(err) != nil {
		t.Errorf(`Error(panic, "oops") = %q, wrapping %v`, err, errors.Unwrap(err))
	}
}
