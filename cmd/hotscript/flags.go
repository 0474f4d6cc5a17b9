package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/hotscript/hotscript"
)

// limitFlags are the per-call limits shared by run and call. Zero means no limit, as in
// the packages' Limits structs, except that a call's time is limited by default: an
// edit that loops forever then fails its calls, and saving the fix recovers, where
// without a limit a WASM call that never returns would hang the frame loop for good.
type limitFlags struct {
	instructions uint64
	time         time.Duration
	memory       byteSize
}

// defaultMaxTime is --max-time's default: far above any frame's budget, so only a
// call that is stuck hits it.
const defaultMaxTime = time.Second

func (l *limitFlags) register(fs *flag.FlagSet) {
	fs.Uint64Var(&l.instructions, "max-instructions", 0,
		"stop a call after `N` instructions (0: no limit)")
	l.time = defaultMaxTime
	fs.Var((*durationFlag)(&l.time), "max-time",
		"stop a call after `DURATION`, e.g. 50ms (0: no limit; with no --max-instructions either, WASM scripts run unmetered)")
	fs.Var(&l.memory, "max-memory", "cap a script's memory at `SIZE`, e.g. 16MiB (0: no limit): "+
		"a WASM module's linear memory; for Lua, the strings one call builds and its coroutines' stacks, not tables")
}

// check returns a usage error for a limit no engine can apply: a negative
// --max-time. (--max-instructions and --max-memory do not parse negative values.)
func (l *limitFlags) check() error {
	if l.time < 0 {
		return usageError("--max-time must not be negative (0 turns the limit off)")
	}
	return nil
}

// host converts the flags to the host's Limits.
func (l *limitFlags) host() hotscript.Limits {
	return hotscript.Limits{
		MaxMemoryBytes:   uint64(l.memory),
		MaxInstructions:  l.instructions,
		MaxExecutionTime: l.time,
	}
}

// flagsAfter returns a usage error if one of args, which the flag set left after
// the flags (first names the first of them, "DIR"), is one of its flags ("-x",
// "--x" or "--x=v"): Go's flag package stops at the first argument, so a flag
// typed after it would be taken as one.
// The error shows the command line with the flags first. An argument that only
// starts with "-" (a negative number for call) is not a flag.
func flagsAfter(fs *flag.FlagSet, args []string, first string) error {
	for i, a := range args {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if i > 0 && strings.HasPrefix(a, "-") && fs.Lookup(name) != nil {
			return usageError("flags go before %s: %s %s %s",
				first, fs.Name(), strings.Join(args[i:], " "), strings.Join(args[:i], " "))
		}
	}
	return nil
}

// durationFlag is a flag value for durations, as time.ParseDuration reads them
// ("50ms", "1m30s"), refusing one without a unit with a hint, where the flag
// package's own said "parse error" (helper-232).
type durationFlag time.Duration

func (d *durationFlag) String() string {
	if d == nil {
		return "0s"
	}
	return time.Duration(*d).String()
}

func (d *durationFlag) Set(text string) error {
	t := strings.TrimSpace(text)
	v, err := time.ParseDuration(t)
	if err != nil {
		if d, err := time.ParseDuration(t + "s"); err == nil && d >= 0 { // a hint that works
			return fmt.Errorf("%q needs a unit (try %ss or %sms)", text, t, t)
		}
		return fmt.Errorf("%q is not a duration (try 50ms, 2s or 1m30s)", text)
	}
	*d = durationFlag(v)
	return nil
}

// byteSize is a flag value for sizes: a number of bytes with an optional unit, binary
// (KiB, MiB, GiB, or K, M, G) or decimal (KB, MB, GB).
type byteSize uint64

var sizeUnits = []struct {
	suffix string
	mult   uint64
}{
	// Longest suffixes first so "MiB" is not read as "B".
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30},
	{"b", 1},
}

func (s *byteSize) String() string {
	if s == nil || *s == 0 {
		return "0"
	}
	v := uint64(*s)
	for _, u := range []struct {
		name string
		mult uint64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if v%u.mult == 0 {
			return fmt.Sprintf("%d%s", v/u.mult, u.name)
		}
	}
	return strconv.FormatUint(v, 10)
}

func (s *byteSize) Set(text string) error {
	t := strings.ToLower(strings.TrimSpace(text))
	mult := uint64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return fmt.Errorf("%q is not a size (try 16MiB, 64MB or a number of bytes)", text)
	}
	v := f * float64(mult)
	if v >= math.MaxUint64 {
		return fmt.Errorf("%q is too large", text)
	}
	if v < 1 && v != 0 { // 0.5 would be 0 bytes, which means no limit at all
		return fmt.Errorf("%q is less than one byte (0 turns the limit off)", text)
	}
	if mult == 1 && v != math.Trunc(v) { // 1.5 bytes is a mistake, 1.5MiB is not
		return fmt.Errorf("%q is not a whole number of bytes (with a unit: %sMiB)", text, t)
	}
	*s = byteSize(v)
	return nil
}

// parseArg reads one command-line argument as a JSON value and returns it in the form
// the engines' CallJSON expects: a number as json.Number, which they convert exactly
// (9007199254740993.0 to an i64 as that integer, 0.99999999999999999999 to an i32
// refused as a fraction, -0 to an f64 as -0: a float64 would round them first), a
// string, a bool, nil, or an object or array kept as json.RawMessage. A number no
// float64 holds, or an integer no 64 bits hold, is refused here, with why.
func parseArg(text string) (any, error) {
	if !json.Valid([]byte(text)) {
		return nil, fmt.Errorf("argument %q is not a JSON value (quote strings: '\"hello\"')", text)
	}
	t := strings.TrimSpace(text)
	switch t[0] {
	case '{', '[':
		return json.RawMessage(t), nil
	case '"':
		var s string
		err := json.Unmarshal([]byte(t), &s)
		return s, err
	case 't', 'f':
		return t == "true", nil
	case 'n':
		return nil, nil
	}
	if !strings.ContainsAny(t, ".eE") { // an integer
		if _, err := strconv.ParseInt(t, 10, 64); err != nil {
			if _, err := strconv.ParseUint(t, 10, 64); err != nil { // no 64 bits hold it: a float would round it
				return nil, fmt.Errorf("argument %q is an integer out of the 64-bit range (write %s.0 to pass it rounded, as a float)", text, t)
			}
		}
	} else if _, err := strconv.ParseFloat(t, 64); err != nil { // valid JSON, so out of range
		return nil, fmt.Errorf("argument %q is a number out of the 64-bit float range", text)
	}
	return json.Number(t), nil
}
