package wasm

// JSON documents passed through guest memory: a (ptr, len) argument written
// through the guest's alloc, a (ptr, len) result read back, and the checks
// that keep both valid JSON.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/hotscript/hotscript/internal/safejson"
	"github.com/tetratelabs/wazero/api"
)

// marshalDoc returns the JSON document for a CallJSON argument. What
// json.Marshal returns is valid by construction; a json.RawMessage is checked.
func (inst *instance) marshalDoc(v any) ([]byte, error) {
	if w, ok := v.(JSONValue); ok {
		v = w.V
	}
	if raw, ok := v.(json.RawMessage); ok {
		if !inst.validDoc(raw, docArg) {
			return nil, fmt.Errorf("json.RawMessage is not valid JSON (%s): %s", whyNotJSON(raw), excerpt(raw))
		}
		return raw, nil
	}
	return safejson.Marshal(v)
}

// knownValidMax is the largest document validDoc remembers.
const knownValidMax = 16 << 10

// validDoc reports whether b, an argument or a result (which), is valid JSON.
// It remembers the last argument and the last result it found valid, so a host
// that passes, or a guest that returns, the same document call after call (an
// unchanged state, an echo, an update's output), or passes back the last
// result, pays for a comparison instead of a validation. The caller holds
// inst.mu.
func (inst *instance) validDoc(b []byte, which int) bool {
	if len(b) > 0 && (bytes.Equal(b, inst.knownValid[docArg]) || bytes.Equal(b, inst.knownValid[docResult])) {
		return true
	}
	known := &inst.knownValid[which]
	if !validJSON(b) {
		return false
	}
	if len(b) <= knownValidMax {
		*known = append((*known)[:0], b...)
	}
	return true
}

// writeDoc marshals a JSON argument into memory the guest allocated.
func (inst *instance) writeDoc(ctx context.Context, e *export, arg any) (ptr, n uint32, err error) {
	doc, err := inst.marshalDoc(arg)
	if err != nil {
		return 0, 0, inst.errorf(e, ErrJSON, "%w", err)
	}
	mem := inst.code.memory(inst.mod)
	switch { // what is missing comes first: "no such function: alloc(i32) i32, ..."
	case inst.alloc == nil:
		return 0, 0, inst.errorf(e, ErrNoFunction, "alloc(i32) i32, which %s needs to take a JSON document (and a memory)", e.sig.info)
	case mem == nil:
		return 0, 0, inst.errorf(e, ErrNoFunction, "%s takes a JSON document, which needs the module to have a memory (it exports alloc)", e.sig.info)
	}
	if uint64(len(doc)) > math.MaxUint32 {
		return 0, 0, inst.errorf(e, ErrJSON, "a %d-byte document does not fit in 32-bit memory", len(doc))
	}
	inst.aux[0] = api.EncodeU32(uint32(len(doc)))
	if err := inst.invokeFor(ctx, e, inst.alloc, inst.aux[:1]); err != nil {
		return 0, 0, err
	}
	ptr = api.DecodeU32(inst.aux[0])
	if ptr == 0 && len(doc) > 0 { // NULL: a C heap out of memory
		kind, _ := inst.lim.refine(ErrTrap, nil, nil)
		return 0, 0, inst.errorf(e, kind, "alloc: returned 0 (NULL) for a %d-byte document", len(doc))
	}
	if !mem.Write(ptr, doc) {
		return 0, 0, inst.errorf(e, ErrMemoryAccess, "alloc(%d) returned %d, outside the %d-byte memory", len(doc), ptr, mem.Size())
	}
	return ptr, uint32(len(doc)), nil
}

// result converts a call's results to JSON.
func (inst *instance) result(e *export, stack []uint64) (json.RawMessage, error) {
	rs := e.sig.info.Results
	switch {
	case e.sig.jsonOut:
		return inst.readDoc(e, api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
	case len(rs) == 1 && rs[0] == I32: // formatted right into the block
		if cap(inst.block)-len(inst.block) < 11 {
			inst.block = make([]byte, 0, resultBlock)
		}
		start := len(inst.block)
		inst.block = strconv.AppendInt(inst.block, int64(api.DecodeI32(stack[0])), 10)
		return inst.block[start:len(inst.block):len(inst.block)], nil
	case len(rs) == 0:
		return inst.keep(jsonNull), nil
	}
	return inst.results(e, stack)
}

// results converts the results result does not handle itself.
func (inst *instance) results(e *export, stack []uint64) (json.RawMessage, error) {
	rs := e.sig.info.Results
	// Format on the Go stack, then keep the exact bytes.
	var buf [64]byte
	out := buf[:0]
	if len(rs) > 1 {
		out = append(out, '[')
	}
	for i, t := range rs {
		if i > 0 {
			out = append(out, ',')
		}
		var err error
		if out, err = appendValue(out, t, stack[i]); err != nil {
			return nil, inst.errorf(e, ErrJSON, "result %d: %w", i+1, err)
		}
	}
	if len(rs) > 1 {
		out = append(out, ']')
	}
	return inst.keep(out), nil
}

var jsonNull = []byte("null")

// keep returns a copy of b for the caller to own. A small copy is carved out
// of a block shared with other results, with its capacity capped at its
// length, so that appending to it reallocates instead of writing into a
// neighbour; a block is never reused, only dropped when full. One allocation
// then serves many calls. The caller holds inst.mu.
func (inst *instance) keep(b []byte) json.RawMessage {
	n := len(b)
	if n > resultSmall {
		return append(make(json.RawMessage, 0, n), b...)
	}
	if cap(inst.block)-len(inst.block) < n {
		inst.block = make([]byte, 0, resultBlock)
	}
	start := len(inst.block)
	inst.block = append(inst.block, b...)
	return inst.block[start:len(inst.block):len(inst.block)]
}

// whyNotJSON says why b, which validJSON refused, is not JSON, as encoding/json
// does ("invalid character '}' looking for beginning of object key string",
// "exceeded max depth"), with where for a syntax error. Only a failure pays for it.
func whyNotJSON(b []byte) string {
	var v any
	err := json.Unmarshal(b, &v)
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("%v, at byte %d", err, syn.Offset)
	case err != nil:
		return err.Error()
	}
	return "not one JSON value" // not seen: validJSON refuses what Unmarshal does
}

func (inst *instance) readDoc(e *export, ptr, n uint32) (json.RawMessage, error) {
	mem := inst.code.memory(inst.mod)
	if mem == nil {
		return nil, inst.errorf(e, ErrMemoryAccess, "%s returns (ptr, len) but the module has no memory", e.sig.info)
	}
	view, ok := mem.Read(ptr, n)
	if !ok {
		return nil, inst.errorf(e, ErrMemoryAccess, "returned (ptr %d, len %d), outside the %d-byte memory", ptr, n, mem.Size())
	}
	if !inst.validDoc(view, docResult) {
		return nil, inst.errorf(e, ErrJSON, "returned bytes that are not JSON (%s): %s", whyNotJSON(view), excerpt(view))
	}
	return inst.keep(view), nil
}
