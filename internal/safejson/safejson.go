// Package safejson marshals the Go values hosts pass to scripts without letting
// a panic in their MarshalJSON methods escape. The engines marshal arguments
// while they hold a script, unlocked by hand on the hot path, so a panic there
// would leave the script locked, and every later call waiting forever.
package safejson

import (
	"encoding/json"
	"fmt"
)

// Marshal is json.Marshal, with a panic in a MarshalJSON (or MarshalText)
// method returned as an error naming v's type.
func Marshal(v any) (data []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			data, err = nil, fmt.Errorf("marshaling %T panicked: %v", v, r)
		}
	}()
	return json.Marshal(v)
}
