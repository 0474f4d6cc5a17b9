// Package recovered turns what recover returned from a caller's function (a
// host function, a migration, a watch filter) into an error.
package recovered

import "fmt"

// Error returns an error saying what panicked: "what: r". A panic with an
// error value (panic(err), as a must helper does) wraps it, so that errors.Is
// and errors.As find it as they find the error the function could have
// returned.
func Error(what string, r any) error {
	if err, ok := r.(error); ok {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %v", what, r)
}
