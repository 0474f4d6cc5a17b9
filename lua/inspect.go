package lua

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"time"
)

// ScriptInfo describes the module a script's chunk returns.
type ScriptInfo struct {
	// Name is the script's name.
	Name string
	// Fields are the module's data fields (string keys), sorted: what a reload
	// carries, with data under keys of other types, which are not listed.
	Fields []string
	// Values holds each field's value as JSON, converted as Field converts it;
	// a field whose value has no JSON form (a function inside, a cycle) is
	// absent, as are those (in name order) from the one whose value spends the
	// 64 MiB or the work (10 million units, counted as Limits counts a
	// conversion's, within one second) that all values share.
	Values map[string]json.RawMessage
	// Functions are the module's functions, sorted.
	Functions []string
}

// inspectLimits bound the chunk Inspect runs.
var inspectLimits = Limits{MaxInstructions: 10_000_000, MaxExecutionTime: time.Second, MaxMemoryBytes: 64 << 20}

// Inspect compiles src and runs its chunk in a throwaway sandbox, to list the module's
// fields, their values and its functions, for tools such as an inspect command or a
// reload diff. The sandbox has no host functions (a chunk that calls one at load time
// fails; Runtime.Inspect has the runtime's), discards print, and runs under 10 million
// instructions, one second and 64 MiB; converting the values to JSON then has the
// same bounds again, shared by all the values (see ScriptInfo.Values). Nothing is
// kept. Inspect is safe for concurrent use.
func Inspect(ctx context.Context, name string, src []byte) (ScriptInfo, error) {
	rt, err := NewRuntimeWithConfig(ctx, Config{Limits: inspectLimits, Stdout: io.Discard})
	if err != nil {
		return ScriptInfo{}, err
	}
	defer rt.Close(ctx)
	return rt.Inspect(ctx, name, src)
}

// Inspect runs src's chunk as Load would, with the runtime's host functions,
// sandbox and Limits (without MaxExecutionTime, 10 s: see Limits), in a state
// of its own that it then closes, and describes the module it returns: nothing
// is loaded, and host functions can still be defined after it. The conversion
// of the values after it has the package Inspect's bounds (see
// ScriptInfo.Values). The chunk's host function calls are real calls. The end
// of ctx, during the run or the conversion, is an error. Safe for concurrent
// use.
func (rt *Runtime) Inspect(ctx context.Context, name string, src []byte) (ScriptInfo, error) {
	v, err := rt.build(ctx, "inspect", &script{name: name, limits: rt.cfg.Limits}, src)
	if err != nil {
		return ScriptInfo{}, err
	}
	defer v.L.Close()
	info := ScriptInfo{Name: name, Values: map[string]json.RawMessage{}}
	info.Fields, info.Functions = moduleNames(v.module)
	// Every value, in one bound of bytes and one budget of work: a value that
	// reaches one table many times is walked as many times, and a field whose
	// conversion fails late (a function after a large table) gives back its
	// bytes, not its work.
	b := &budget{limits: inspectLimits, closing: &rt.closing}
	b.begin(ctx)
	defer b.end()
	var buf []byte
	for _, f := range info.Fields {
		if err := ctx.Err(); err != nil {
			return ScriptInfo{}, newError("inspect", name, "", err, "")
		}
		w := walker{limit: int(inspectLimits.MaxMemoryBytes), b: b}
		start := len(buf)
		out, err := w.appendJSON(buf, v.module.RawGetString(f))
		if err != nil {
			if b.tripped != nil && !errors.Is(b.tripped, ErrLimit) {
				return ScriptInfo{}, newError("inspect", name, "", b.tripped, "")
			}
			if b.tripped != nil || w.pastBound(len(out)) {
				break // the budget or the bound is spent: no more work for the fields left
			}
			buf = buf[:start]
			continue
		}
		info.Values[f], buf = out[start:len(out):len(out)], out
	}
	return info, nil
}
