package hotscript

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Func describes one function a script exports or imports: its name and, for WASM, its
// signature. Lua functions have no declared signature, so their Typed is false and only
// the name takes part in comparisons. Func and the other values of this file
// (Interface, Change, Changes, Diff) are owned by their receivers; their methods
// only read them and are safe for concurrent use.
type Func struct {
	// Module is the import module ("host" in host.log); empty for exports.
	Module string
	// Name is the function's name.
	Name string
	// Params and Results are WebAssembly value types ("i32", "i64", "f32", "f64").
	Params, Results []string
	// Typed reports whether Params and Results are known.
	Typed bool
}

// String formats f the way WebAssembly tools print signatures: "update(f32)",
// "add(i32, i32) i32", "get_state() (i32, i32)", "host.log(i32, i32)". An untyped
// function prints as its bare name.
func (f Func) String() string {
	name := f.Name
	if f.Module != "" {
		name = f.Module + "." + f.Name
	}
	if !f.Typed {
		return name
	}
	s := name + "(" + strings.Join(f.Params, ", ") + ")"
	switch len(f.Results) {
	case 0:
	case 1:
		s += " " + f.Results[0]
	default:
		s += " (" + strings.Join(f.Results, ", ") + ")"
	}
	return s
}

func (f Func) key() string { return f.Module + "." + f.Name }

// sameSignature reports whether a and b have equal signatures. An untyped side matches
// anything: Lua functions and name-only contract entries carry no signature.
func sameSignature(a, b Func) bool {
	if !a.Typed || !b.Typed {
		return true
	}
	return slices.Equal(a.Params, b.Params) && slices.Equal(a.Results, b.Results)
}

// Interface is the set of functions a script version exports and imports.
type Interface struct {
	Exports []Func // what it exports
	Imports []Func // what it imports (WASM's host functions); none for Lua
}

// Export returns the exported function named name, and whether there is one.
func (i Interface) Export(name string) (Func, bool) { return findFunc(i.Exports, name) }

func (i Interface) clone() Interface {
	return Interface{Exports: cloneFuncs(i.Exports), Imports: cloneFuncs(i.Imports)}
}

// cloneFuncs copies fs, their signatures included.
func cloneFuncs(fs []Func) []Func {
	out := slices.Clone(fs)
	for j := range out {
		out[j].Params, out[j].Results = slices.Clone(out[j].Params), slices.Clone(out[j].Results)
	}
	return out
}

func (c Changes) clone() Changes {
	changed := slices.Clone(c.Changed)
	for j, ch := range changed {
		pair := cloneFuncs([]Func{ch.Old, ch.New})
		changed[j] = Change{Old: pair[0], New: pair[1]}
	}
	return Changes{Added: cloneFuncs(c.Added), Removed: cloneFuncs(c.Removed), Changed: changed}
}

func (d Diff) clone() Diff { return Diff{Exports: d.Exports.clone(), Imports: d.Imports.clone()} }

// findFunc returns the function of list named name that is not an import.
func findFunc(list []Func, name string) (Func, bool) {
	i := slices.IndexFunc(list, func(f Func) bool { return f.Module == "" && f.Name == name })
	if i < 0 {
		return Func{}, false
	}
	return list[i], true
}

// Change is a function present in two versions with different signatures.
type Change struct {
	Old Func // the signature in the version before
	New Func // the signature in the version after
}

// String formats c as "update: was update(f32), now update(f64)".
func (c Change) String() string {
	return fmt.Sprintf("%s: was %s, now %s", c.New.Name, c.Old, c.New)
}

// Changes lists what differs in one list of functions between two versions.
type Changes struct {
	Added   []Func   // in the version after, not before
	Removed []Func   // in the version before, not after
	Changed []Change // in both, with other signatures
}

// Empty reports whether nothing changed.
func (c Changes) Empty() bool {
	return len(c.Added) == 0 && len(c.Removed) == 0 && len(c.Changed) == 0
}

func (c Changes) lines(prefix string) []string {
	var out []string
	for _, f := range c.Removed {
		out = append(out, prefix+"removed: "+f.String())
	}
	for _, f := range c.Added {
		out = append(out, prefix+"added: "+f.String())
	}
	for _, ch := range c.Changed {
		out = append(out, prefix+ch.String())
	}
	return out
}

// Diff is the interface difference between two versions of a script. Every reload
// event carries one, whether or not the script has a Contract.
type Diff struct {
	Exports Changes // of the exported functions
	Imports Changes // of the imported ones
}

// Empty reports whether the two versions have identical interfaces.
func (d Diff) Empty() bool { return d.Exports.Empty() && d.Imports.Empty() }

// String lists the differences, exports first, separated by "; ":
// "removed: fire(); added: jump(f32); update: was update(f32), now update(f64);
// import added: host.log(i32, i32)". An empty Diff prints as "no interface changes".
func (d Diff) String() string {
	lines := append(d.Exports.lines(""), d.Imports.lines("import ")...)
	if len(lines) == 0 {
		return "no interface changes"
	}
	return strings.Join(lines, "; ")
}

// diffInterfaces compares the interface of a live version with a new one. The
// Diff shares no memory with them: it goes to an Event's receiver, who owns it.
func diffInterfaces(old, next Interface) Diff {
	old, next = old.clone(), next.clone()
	return Diff{Exports: diffFuncs(old.Exports, next.Exports), Imports: diffFuncs(old.Imports, next.Imports)}
}

func diffFuncs(old, next []Func) Changes {
	var c Changes
	byKey := make(map[string]Func, len(old))
	for _, f := range old {
		byKey[f.key()] = f
	}
	seen := make(map[string]bool, len(next))
	for _, f := range next {
		seen[f.key()] = true
		o, ok := byKey[f.key()]
		switch {
		case !ok:
			c.Added = append(c.Added, f)
		case !sameSignature(o, f):
			c.Changed = append(c.Changed, Change{Old: o, New: f})
		}
	}
	for _, f := range old {
		if !seen[f.key()] {
			c.Removed = append(c.Removed, f)
		}
	}
	byName := func(a, b Func) int { return cmp.Compare(a.key(), b.key()) }
	slices.SortFunc(c.Added, byName)
	slices.SortFunc(c.Removed, byName)
	slices.SortFunc(c.Changed, func(a, b Change) int { return byName(a.New, b.New) })
	return c
}
