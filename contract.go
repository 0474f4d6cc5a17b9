package hotscript

import (
	"fmt"
	"slices"
	"strings"
)

// Contract is what a host requires of a script's interface. A version that breaks it is
// rejected before anything is swapped: a Load fails, a reload is rejected with a
// *ContractError listing the differences, and the old version keeps running.
//
// Each entry of Exports is a function the script must export, written as WebAssembly
// tools print signatures:
//
//	"update(f32)"            takes one f32, returns nothing
//	"add(i32, i32) i32"      one result
//	"get_state() (i32, i32)" several results
//	"fire"                   any signature
//
// Lua functions have no declared types, so a Lua script is held to the names
// only: "update(f32)" asks a Lua script for a function named update, which lets
// one Contract serve a script in either language.
//
// The zero Contract requires nothing.
type Contract struct {
	Exports []string // the functions every version must export, each "name" or "name(params) results"
}

var valueTypes = []string{"i32", "i64", "f32", "f64", "v128", "funcref", "externref"}

// parseFunc parses one Contract entry.
func parseFunc(s string) (Func, error) {
	s = strings.TrimSpace(s)
	open := strings.IndexByte(s, '(')
	if open < 0 {
		if s == "" || strings.ContainsAny(s, " )") {
			return Func{}, fmt.Errorf("%w: contract entry %q: want a name or name(params) results", ErrInvalid, s)
		}
		return Func{Name: s}, nil
	}
	f := Func{Name: strings.TrimSpace(s[:open]), Typed: true}
	closing := strings.IndexByte(s, ')')
	if f.Name == "" || closing < open {
		return Func{}, fmt.Errorf("%w: contract entry %q: want a name or name(params) results", ErrInvalid, s)
	}
	var err error
	if f.Params, err = parseTypes(s, s[open+1:closing]); err != nil {
		return Func{}, err
	}
	rest := strings.TrimSpace(s[closing+1:])
	if strings.HasPrefix(rest, "(") && strings.HasSuffix(rest, ")") {
		rest = rest[1 : len(rest)-1]
	}
	if f.Results, err = parseTypes(s, rest); err != nil {
		return Func{}, err
	}
	return f, nil
}

func parseTypes(entry, list string) ([]string, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	var out []string
	for t := range strings.SplitSeq(list, ",") {
		t = strings.TrimSpace(t)
		if !slices.Contains(valueTypes, t) {
			return nil, fmt.Errorf("%w: contract entry %q: unknown value type %q", ErrInvalid, entry, t)
		}
		out = append(out, t)
	}
	return out, nil
}

// compiledContract is a parsed Contract.
type compiledContract []Func

func compileContract(c *Contract) (compiledContract, error) {
	if c == nil {
		return nil, nil
	}
	out := make(compiledContract, 0, len(c.Exports))
	for _, e := range c.Exports {
		f, err := parseFunc(e)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// violations lists how next breaks the contract. old is the live version's interface,
// or nil on a first load; it only changes the wording ("removed" rather than
// "missing", "was ... now" rather than "wants ... has").
func (c compiledContract) violations(old *Interface, next Interface) []string {
	var out []string
	for _, want := range c {
		got, ok := next.Export(want.Name)
		prev, had := Func{}, false
		if old != nil {
			prev, had = old.Export(want.Name)
		}
		switch {
		case !ok && had:
			out = append(out, "removed: "+prev.String())
		case !ok:
			out = append(out, "missing: "+want.String())
		case sameSignature(want, got):
		case had && prev.Typed:
			out = append(out, Change{Old: prev, New: got}.String())
		default:
			out = append(out, fmt.Sprintf("%s: contract wants %s, script has %s", want.Name, want, got))
		}
	}
	return out
}
