package wasm

import (
	"slices"
	"strconv"
	"strings"

	"github.com/hotscript/hotscript/internal/meter"
	"github.com/tetratelabs/wazero/api"
)

// ValueType is the type of a WebAssembly parameter or result. Its values are the
// type's encoding in the binary format, as in wazero's api.ValueType. Its method
// is safe for concurrent use.
type ValueType byte

// The value types. Host functions and CallJSON use the four numeric ones; the others
// appear only in introspection.
const (
	I32       ValueType = 0x7f
	I64       ValueType = 0x7e
	F32       ValueType = 0x7d
	F64       ValueType = 0x7c
	V128      ValueType = 0x7b
	FuncRef   ValueType = 0x70
	ExternRef ValueType = 0x6f
)

// String returns the type's name in the text format: "i32", "f64", "externref".
func (t ValueType) String() string {
	switch t {
	case I32:
		return "i32"
	case I64:
		return "i64"
	case F32:
		return "f32"
	case F64:
		return "f64"
	case V128:
		return "v128"
	case FuncRef:
		return "funcref"
	case ExternRef:
		return "externref"
	}
	return "0x" + strconv.FormatUint(uint64(t), 16)
}

func (t ValueType) numeric() bool { return t == I32 || t == I64 || t == F32 || t == F64 }

// FuncInfo describes an imported or exported function. Its methods only read it
// and are safe for concurrent use.
type FuncInfo struct {
	Module  string      // the import's module ("host"); empty for exports
	Name    string      // the export's name, or the import's within Module ("log")
	Params  []ValueType // the parameter types, in order
	Results []ValueType // the result types, in order
}

// String formats the signature as "add(i32, i32) i32", "get_state() (i32, i32)" or,
// for an import, "host.log(i32, i32)".
func (f FuncInfo) String() string {
	s := f.call()
	switch len(f.Results) {
	case 0:
		return s
	case 1:
		return s + " " + f.Results[0].String()
	}
	return s + " (" + typeList(f.Results) + ")"
}

// call formats the name and parameters only, as error messages about arguments do.
func (f FuncInfo) call() string {
	name := f.Name
	if f.Module != "" {
		name = f.Module + "." + name
	}
	return name + "(" + typeList(f.Params) + ")"
}

func (f FuncInfo) clone() FuncInfo {
	f.Params = slices.Clone(f.Params)
	f.Results = slices.Clone(f.Results)
	return f
}

func (f FuncInfo) sameSignature(g FuncInfo) bool {
	return slices.Equal(f.Params, g.Params) && slices.Equal(f.Results, g.Results)
}

func typeList(ts []ValueType) string {
	var b strings.Builder
	for i, t := range ts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(t.String())
	}
	return b.String()
}

// MemoryInfo describes a module's linear memory, in pages of 64 KiB.
type MemoryInfo struct {
	Min    uint32 // the pages it starts with
	Max    uint32 // meaningful only if HasMax
	HasMax bool   // whether the module declares a maximum
}

// ModuleInfo is what Inspect reports about a module. The names internal/meter's
// instrumentation adds (the "hotscript" imports and "hotscript." exports) are not
// listed in Imports and Exports; Unlinkable and ReservedExports show them in a
// module given to Inspect, which does not load.
type ModuleInfo struct {
	Imports []FuncInfo  // imported functions, in import order
	Exports []FuncInfo  // exported functions, sorted by name
	Memory  *MemoryInfo // nil if the module has no memory
	// Unlinkable lists, from Inspect, what the module imports that no Runtime
	// provides, in import order: globals, memories and tables ("global
	// env.g", "memory env.mem"), and anything from the module "hotscript",
	// reserved for the instrumentation ("function hotscript.refuel"). A
	// module importing any of them does not load.
	Unlinkable []ImportInfo
	// ReservedExports lists, from Inspect and sorted, the exports of any kind
	// whose names start with "hotscript.", a prefix reserved for the
	// instrumentation ("hotscript.fuel"). A module exporting any of them does
	// not load.
	ReservedExports []string
	// OtherExports lists, from Inspect and sorted, what the module exports
	// besides functions, with its kind: "global counter", "memory memory",
	// "table t" (reserved names aside).
	OtherExports []string
}

// ImportInfo is one import of a module: its kind ("function", "global",
// "memory" or "table") and its name.
type ImportInfo struct {
	Kind         string // "function", "global", "memory" or "table"
	Module, Name string // the import's module and name within it ("env", "g")
}

// String formats the import as "global env.g".
func (i ImportInfo) String() string { return i.Kind + " " + i.Module + "." + i.Name }

func cloneInfos(fs []FuncInfo) []FuncInfo {
	out := make([]FuncInfo, len(fs))
	for i, f := range fs {
		out[i] = f.clone()
	}
	return out
}

// reservedModule is the import module internal/meter's instrumentation uses, and
// reservedPrefix the prefix of the names it exports.
const (
	reservedModule = "hotscript"
	reservedPrefix = "hotscript."
)

func funcInfo(module, name string, def api.FunctionDefinition) FuncInfo {
	return FuncInfo{Module: module, Name: name, Params: valueTypes(def.ParamTypes()), Results: valueTypes(def.ResultTypes())}
}

func valueTypes(ts []api.ValueType) []ValueType {
	out := make([]ValueType, len(ts))
	for i, t := range ts {
		out[i] = ValueType(t)
	}
	return out
}

func apiTypes(ts []ValueType) []api.ValueType {
	out := make([]api.ValueType, len(ts))
	for i, t := range ts {
		out[i] = api.ValueType(t)
	}
	return out
}

// publicImports lists the imported functions of a compiled module, hiding reserved ones.
func publicImports(defs []api.FunctionDefinition) []FuncInfo {
	var out []FuncInfo
	for _, def := range defs {
		module, name, _ := def.Import()
		if module != reservedModule {
			out = append(out, funcInfo(module, name, def))
		}
	}
	return out
}

// initializer returns the export of a module (its exported functions defs, and
// what scanModule read of it) that an instance runs as it starts, after its
// start function, or "": _initialize, as WASI reactors have, or else the
// constructors of a C module built by clang with no entry point, exported as
// __wasm_call_ctors for the runtime to run once (see watch.DefaultBuildSteps),
// unless the module runs it itself (as its start function, or from a function
// of its own). Either must be a function of no parameters and no results.
func initializer(defs map[string]api.FunctionDefinition, scan *moduleScan) string {
	for _, name := range []string{meter.InitializeName, meter.CtorsName} {
		def, ok := defs[name]
		if !ok || len(def.ParamTypes()) > 0 || len(def.ResultTypes()) > 0 || slices.Contains(scan.runsItself, name) {
			continue
		}
		return name
	}
	return ""
}

// hidden reports whether the export name is not the script's to call: the
// instrumentation's (reservedPrefix), and the constructors the runtime runs
// as the module starts (init, its initializer, if that is __wasm_call_ctors:
// calling them again would start the module's static state over).
func hidden(name, init string) bool {
	return strings.HasPrefix(name, reservedPrefix) || name == init && init == meter.CtorsName
}

// publicExports lists the exported functions of a compiled module by name, hiding
// those that are not the script's (see hidden; init is its initializer).
func publicExports(defs map[string]api.FunctionDefinition, init string) []FuncInfo {
	out := make([]FuncInfo, 0, len(defs))
	for name, def := range defs {
		if !hidden(name, init) {
			out = append(out, funcInfo("", name, def))
		}
	}
	slices.SortFunc(out, func(a, b FuncInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}
