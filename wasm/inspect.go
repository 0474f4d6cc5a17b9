package wasm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hotscript/hotscript/internal/meter"
	"github.com/tetratelabs/wazero"
)

// Inspect validates a module and describes it: imported and exported functions with
// their signatures, and its memory. It instantiates nothing and runs no guest code;
// ctx bounds the validation. Inspect is safe for concurrent use.
//
// An invalid module returns an *Error matching ErrCompile, and so does one
// refused before wazero decodes it (see the package documentation). A valid
// module that no Runtime would load, for what it imports (Unlinkable) or the
// reserved names it exports (ReservedExports), is described with no error.
func Inspect(ctx context.Context, wasmBytes []byte) (ModuleInfo, error) {
	fail := func(err error) (ModuleInfo, error) {
		return ModuleInfo{}, &Error{Op: "inspect", Kind: ErrCompile, Err: err}
	}
	scan, err := scanModule(wasmBytes)
	if err != nil {
		return fail(err)
	}
	// The interpreter validates as the compiler does, without generating code.
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	compiled, err := r.CompileModule(ctx, wasmBytes)
	if err != nil {
		return fail(err)
	}
	info := ModuleInfo{
		Imports: publicImports(compiled.ImportedFunctions()),
		Exports: publicExports(compiled.ExportedFunctions(), initializer(compiled.ExportedFunctions(), scan)),
		Memory:  scan.memory,
	}
	for _, imp := range scan.imports {
		if imp.Kind != meter.KindFunc || imp.Module == reservedModule {
			info.Unlinkable = append(info.Unlinkable, ImportInfo{Kind: imp.Kind.String(), Module: imp.Module, Name: imp.Name})
		}
	}
	info.ReservedExports = scan.reservedExports()
	for name, kind := range scan.exports {
		if kind != meter.KindFunc && !strings.HasPrefix(name, reservedPrefix) {
			info.OtherExports = append(info.OtherExports, kind.String()+" "+name)
		}
	}
	slices.Sort(info.OtherExports)
	return info, nil
}

// moduleScan is what the runtime needs before compiling and what wazero's
// CompiledModule does not show: every import and export with its kind, and the
// memory's limits even when the memory is not exported.
type moduleScan struct {
	imports []meter.Import
	exports map[string]meter.Kind
	memory  *MemoryInfo
	// stackPointer is the index of the module's C stack pointer global, if
	// hasStackPointer (see meter.Interface.StackPointer).
	stackPointer    uint32
	hasStackPointer bool
	runsItself      []string // see meter.Interface.RunsItself
	longestName     int      // see meter.Interface.LongestName
}

// scanModule reads a module's imports, exports and memory with internal/meter's
// decoder, the one that instruments modules, and refuses a module whose counts
// claim more entries than its bytes hold, or that declares more locals or
// parameters than meter.Scan allows: wazero allocates for every count it reads
// before reading the entries, and for every local, so such a module could end
// the process. Every module passes here before wazero sees it. wazero
// validates the rest when compiling.
func scanModule(b []byte) (*moduleScan, error) {
	m, err := meter.Scan(b)
	if err != nil {
		// A module that does not decode is the user's problem with their bytes, not
		// the instrumenter's: say what is wrong without naming internal/meter.
		var me *meter.Error
		if !errors.As(err, &me) {
			return nil, err
		}
		what := "malformed module"
		if me.Err != meter.ErrMalformed {
			what = "module refused"
		}
		switch {
		case me.Func >= 0 && me.FuncName != "":
			return nil, fmt.Errorf("%s: function %d %q: %s", what, me.Func, me.FuncName, me.Detail)
		case me.Func >= 0:
			return nil, fmt.Errorf("%s: function %d: %s", what, me.Func, me.Detail)
		}
		return nil, fmt.Errorf("%s: %s", what, me.Detail)
	}
	scan := &moduleScan{imports: m.Imports, exports: make(map[string]meter.Kind, len(m.Exports)),
		stackPointer: m.StackPointer, hasStackPointer: m.HasStackPointer, runsItself: m.RunsItself,
		longestName: m.LongestName}
	for _, e := range m.Exports {
		scan.exports[e.Name] = e.Kind
	}
	if len(m.Memories) > 0 {
		mem := m.Memories[0]
		scan.memory = &MemoryInfo{Min: mem.Min, Max: mem.Max, HasMax: mem.HasMax}
	}
	return scan, nil
}

// metered reports whether the module was instrumented: it imports
// hotscript.refuel and exports the fuel global.
func (m *moduleScan) metered() bool {
	for _, imp := range m.imports {
		if imp.Module == reservedModule && imp.Name == refuelName && imp.Kind == meter.KindFunc {
			return m.exports[fuelGlobal] == meter.KindGlobal
		}
	}
	return false
}

// reserved reports a name of the module that belongs to the instrumentation,
// which a module given to the runtime may not use.
func (m *moduleScan) reserved() error {
	for _, imp := range m.imports {
		if imp.Module == reservedModule {
			return fmt.Errorf("imports %s.%s: the import module %q is reserved for the runtime's instrumentation", imp.Module, imp.Name, reservedModule)
		}
	}
	if names := m.reservedExports(); names != nil {
		return fmt.Errorf("exports %q: names starting with %q are reserved for the runtime's instrumentation", names[0], reservedPrefix)
	}
	return nil
}

// reservedExports lists the module's exports named with the reserved
// prefix, sorted.
func (m *moduleScan) reservedExports() []string {
	var names []string
	for name := range m.exports {
		if strings.HasPrefix(name, reservedPrefix) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}
