package lua

import (
	"context"
	"io"
	"time"
)

// ScriptInfo describes the module a script's chunk returns.
type ScriptInfo struct {
	// Name is the script's name.
	Name string
	// Fields are the module's data fields, sorted: what a reload carries.
	Fields []string
	// Functions are the module's functions, sorted.
	Functions []string
}

// inspectLimits bound the chunk Inspect runs.
var inspectLimits = Limits{MaxInstructions: 10_000_000, MaxExecutionTime: time.Second, MaxMemoryBytes: 64 << 20}

// Inspect compiles src and runs its chunk in a throwaway sandbox, to list the module's
// fields and functions, for tools such as an inspect command or a reload diff. The
// sandbox has no host functions (a chunk that calls one at load time fails), discards
// print, and runs under 10 million instructions, one second and 64 MiB. Nothing is
// kept. Inspect is safe for concurrent use.
func Inspect(name string, src []byte) (ScriptInfo, error) {
	rt, err := NewRuntimeWithConfig(context.Background(), Config{Limits: inspectLimits, Stdout: io.Discard})
	if err != nil {
		return ScriptInfo{}, err
	}
	defer rt.Close(context.Background())
	v, err := rt.build(context.Background(), "inspect", &script{name: name, limits: inspectLimits}, src)
	if err != nil {
		return ScriptInfo{}, err
	}
	defer v.L.Close()
	info := ScriptInfo{Name: name}
	info.Fields, info.Functions = moduleNames(v.module)
	return info, nil
}
