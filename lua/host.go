package lua

import (
	"context"
	"fmt"
	"github.com/hotscript/hotscript/internal/recovered"
	"math"
	"strconv"

	glua "github.com/hotscript/hotscript/internal/gopherlua"
)

// HostFunc is a Go function that scripts call as module.name(...). Its arguments
// arrive as Go values (nil, bool, float64, string, []any, map[string]any), converted
// by the rules CallJSON applies to results, a conversion that counts against the
// limits of the call running the script (see Limits); its results are converted
// back to Lua as CallJSON converts arguments. A returned error, or a panic, raises
// a Lua error naming the function ("host.log: disk full") that the script can
// catch with pcall. Once the call's context has ended or its MaxExecutionTime
// has passed (a HostFunc that waits on ctx returns ctx.Err(), say), the call
// ends as that ends it, whatever the function returns: its error matches
// ctx.Err() or ErrTimeout, with the function's message, and a pcall that
// catches it is stopped at its next instruction.
//
// ctx is the context of the call into the script that is running. A HostFunc runs on
// the calling goroutine. Called from a call of the script (CallJSON, a Func, a
// Lease, a commit's hooks and check), it runs with the script's mutex held, so
// never beside another of that script's calls. Called from a chunk's top level
// as Load or Stage runs it, it runs on their goroutine without it: Stage (and
// ReloadScript's) runs the new chunk while the live version's calls go on, so
// such a host function can run at the same time as the script's calls (mark
// the ctx given to Stage to tell, as hotscript.Staging does). It may call, reload and
// unload other scripts. It cannot call, read a field of, commit a reload of or
// unload the script that is calling it, nor close the runtime: those would wait
// forever for the call running it. Made with ctx (or a context derived from it),
// they fail at once with ErrReentrant instead, the package telling them by the
// mark it puts on ctx; made with another context, they deadlock. The same holds
// for a HostFunc that a reload's hooks or CheckFunc run while the commit holds
// the script. The mark also
// refuses a call made with ctx on another goroutine while the script is inside a
// host function, which would only have waited: hand ctx only to work the
// HostFunc waits for.
type HostFunc func(ctx context.Context, call *Call) ([]any, error)

// Call is one call of a HostFunc. It is valid only during that call: the Call and its
// Args slice are reused for the script's next host call, so copy what you keep (the
// argument values themselves stay as they are).
type Call struct {
	// Script is the name of the calling script.
	Script string
	// Function is the qualified name that was called, "host.log".
	Function string
	// Args are the arguments, converted to Go values: for a function defined
	// with DefineArgs, only those it takes, until Rest converts the others.
	Args []any

	// l and rest are for Rest: the calling state, and the place (from 1) of
	// the first argument not converted yet, or 0 if there is none.
	l    *glua.LState
	rest int
}

// Rest converts the arguments a script passed to a function defined with
// DefineArgs past those it takes, as Define converts every argument (their
// conversion counts against the call's limits), appends them to Args and
// returns Args. Unless Rest is called they are dropped unconverted. Once they
// are converted, or for a function defined with Define, Rest returns Args. An
// error names the argument that could not be converted ("argument #3:
// cannot convert function"), or is the limit's.
func (c *Call) Rest() ([]any, error) {
	if c.rest == 0 {
		return c.Args, nil
	}
	L, from := c.l, c.rest
	c.l, c.rest = nil, 0
	w := walker{b: budgetOf(L)}
	for i := from; i <= L.GetTop(); i++ {
		v, err := w.toGo(L.Get(i))
		if err != nil {
			if w.b != nil && w.b.tripped != nil {
				return c.Args, w.b.Err()
			}
			return c.Args, fmt.Errorf("argument #%d: %v", i, err)
		}
		c.Args = append(c.Args, v)
	}
	return c.Args, nil
}

// Number returns the argument at index i (from 0) as a number, or an error for
// the HostFunc to return when it is missing or is not one: the script's error
// then reads "host.move: argument #2: number expected, got string".
func (c *Call) Number(i int) (float64, error) {
	if i < 0 || i >= len(c.Args) {
		return 0, fmt.Errorf("argument #%d: number expected, got no value", i+1)
	}
	f, ok := c.Args[i].(float64)
	if !ok {
		return 0, fmt.Errorf("argument #%d: number expected, got %s", i+1, luaType(c.Args[i]))
	}
	return f, nil
}

// Int is Number for an integer argument, such as an ecs.Entity: a fraction, or
// an integer beyond ±2^53, which a Lua number does not hold exactly, is an
// error.
func (c *Call) Int(i int) (int64, error) {
	f, err := c.Number(i)
	switch {
	case err != nil:
	case f != math.Trunc(f): // fractions, NaN (an infinity is out of range)
		err = fmt.Errorf("argument #%d: integer expected, got %v", i+1, f)
	case math.Abs(f) > 1<<53:
		text := strconv.FormatFloat(f, 'f', -1, 64)
		if math.Abs(f) >= 1e21 { // 1e+300, not its 301 digits
			text = strconv.FormatFloat(f, 'g', -1, 64)
		}
		err = fmt.Errorf("argument #%d: %s is out of range: an integer within ±2^53 expected", i+1, text)
	}
	return int64(f), err
}

// Str is Number for a string argument: a number, which Lua's own library would
// turn into its text, is an error here ("argument #1: string expected, got
// number"), as is any other value.
func (c *Call) Str(i int) (string, error) {
	if i < 0 || i >= len(c.Args) {
		return "", fmt.Errorf("argument #%d: string expected, got no value", i+1)
	}
	s, ok := c.Args[i].(string)
	if !ok {
		return "", fmt.Errorf("argument #%d: string expected, got %s", i+1, luaType(c.Args[i]))
	}
	return s, nil
}

// luaType is the Lua type name of a host function argument.
func luaType(v any) string {
	switch v.(type) {
	case nil:
		return "nil"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	default: // []any, map[string]any
		return "table"
	}
}

// reservedGlobals are the names a host module may not take.
var reservedGlobals = map[string]bool{
	"_G": true, "_VERSION": true, "_GOPHER_LUA_VERSION": true, "assert": true, "error": true,
	"getmetatable": true, "ipairs": true, "load": true, "loadstring": true, "newproxy": true,
	"next": true, "pairs": true, "pcall": true, "print": true, "rawequal": true, "rawget": true,
	"rawset": true, "select": true, "setmetatable": true, "tonumber": true, "tostring": true,
	"type": true, "unpack": true, "xpcall": true, "string": true, "table": true, "math": true,
	"coroutine": true, "os": true, "io": true, "debug": true, "package": true, "channel": true,
	"require": true, "module": true, concatName: true, varargsName: true, appendName: true,
}

// Define makes fn available to every script as the global table module's field name:
// Define("host", "log", fn) gives scripts host.log(...). The functions are installed
// in each new LState, so they are kept across reloads. Define must be called before
// the first Load (it returns ErrInvalid after); module must be a Lua identifier that
// is not a standard global, name any Lua identifier, and module.name defined once
// (a second definition is ErrInvalid, as in package wasm). Define is safe for
// concurrent use.
func (rt *Runtime) Define(module, name string, fn HostFunc) error {
	return rt.define(module, name, hostDef{fn: fn, args: -1})
}

// DefineArgs is Define for a function of nargs arguments: those a script passes
// past nargs are dropped unconverted, as a Lua function drops the arguments it
// has no parameters for, so that they may be anything (a table of functions, a
// cycle) without failing the call or counting against its limits, unless the
// function asks for them (Call.Rest). Call.Args holds at most nargs values
// until then. DefineArgs is safe for concurrent use.
func (rt *Runtime) DefineArgs(module, name string, nargs int, fn HostFunc) error {
	if nargs < 0 {
		return defineError(module, name, ErrInvalid, fmt.Sprintf("%d arguments", nargs))
	}
	return rt.define(module, name, hostDef{fn: fn, args: nargs})
}

// hostDef is a host function as defined: fn, and the arguments it takes, or -1
// for all.
type hostDef struct {
	fn   HostFunc
	args int
}

func (rt *Runtime) define(module, name string, d hostDef) error {
	fn := d.fn
	switch {
	case !isIdentifier(module) || reservedGlobals[module]:
		return defineError(module, name, ErrInvalid, fmt.Sprintf("module name %q is not an identifier or is taken", module))
	case !isIdentifier(name):
		return defineError(module, name, ErrInvalid, fmt.Sprintf("%q is not an identifier", name))
	case fn == nil:
		return defineError(module, name, ErrInvalid, "nil function")
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	switch {
	case rt.closed:
		return defineError(module, name, ErrClosed, "")
	case rt.frozen:
		return defineError(module, name, ErrInvalid, "host functions are fixed once a script is loaded")
	}
	if rt.hosts[module] == nil {
		rt.hosts[module] = map[string]hostDef{}
	}
	if _, ok := rt.hosts[module][name]; ok {
		return defineError(module, name, ErrInvalid, "defined twice")
	}
	rt.hosts[module][name] = d
	return nil
}

// defineError is Define's error for module.name: kind, with why after its text.
func defineError(module, name string, kind error, why string) error {
	msg := kindText(kind)
	if why != "" {
		msg += ": " + why
	}
	return newError("define", "", module+"."+name, kind, msg)
}

// installHosts sets one global table per host module in L, the state of the
// version whose budget is b, and records b in L's registry for runningBudget.
func installHosts(L *glua.LState, script string, b *budget, hosts map[string]map[string]hostDef) {
	if len(hosts) == 0 {
		return
	}
	L.G.Registry.RawSetString(budgetKey, &glua.LUserData{Value: b})
	own := &hostOwner{g: L.G, b: b}
	hc := new(hostCall)
	for module, funcs := range hosts {
		t := L.CreateTable(0, len(funcs))
		for name, d := range funcs {
			t.RawSetString(name, L.NewFunction(hostFunction(module+"."+name, script, d, own, hc)))
		}
		L.SetGlobal(module, t)
	}
}

// budgetKey is the key, in the registry of a version's LState, of that
// version's budget. Scripts cannot reach the registry.
const budgetKey = "hotscript.budget"

// hostOwner is the version whose LState made a host function: its Global,
// shared with its coroutines, and its budget.
type hostOwner struct {
	g *glua.Global
	b *budget
}

// runningBudget returns the budget of the version whose call is running L: the
// owner's, unless L belongs to a later version. A function carried across a
// reload (see package doc) keeps running the old version's code, host functions
// included, inside the new version's calls; those calls' context, reentry
// guard and limits are the new version's budget's, since the old one's belongs
// to a state no call runs any more (its context is gone, and a call back into
// the script with its guard's mark would wait for itself instead of failing
// with ErrReentrant). It returns nil for a state that is no version's.
func (o *hostOwner) runningBudget(L *glua.LState) *budget {
	if L.G == o.g {
		return o.b
	}
	if ud, ok := L.G.Registry.RawGetString(budgetKey).(*glua.LUserData); ok {
		b, _ := ud.Value.(*budget)
		return b
	}
	return nil
}

// hostCall is the Call that a version's host functions reuse, with room for
// their first arguments and boxes for their numbers: a Call is valid only during
// its HostFunc, and a script runs one host function at a time (a host function
// cannot run its own script; a function carried across a reload runs its old
// version's host functions only inside the script's calls), so a host call with
// up to 8 arguments allocates nothing for them but what tables and strings need.
type hostCall struct {
	call    Call
	args    [8]any
	numbers numberBoxes // numeric arguments, boxed without an allocation each
}

func hostFunction(qualified, script string, d hostDef, own *hostOwner, hc *hostCall) glua.LGFunction {
	fn := d.fn
	return func(L *glua.LState) int {
		b := own.runningBudget(L)
		if b == nil {
			L.RaiseError("%s: called from a state that is not a script's", qualified)
		}
		call := &hc.call
		*call = Call{Script: script, Function: qualified, Args: hc.args[:0]}
		defer clear(hc.args[:]) // keep no argument alive
		// One walker, so that one bound holds for all the arguments together;
		// their conversion is charged to the call (b, when it has a budget
		// installed: budgetOf(L) is b then, or nil).
		w := walker{b: budgetOf(L)}
		n := L.GetTop()
		if d.args >= 0 {
			n = min(n, d.args)
		}
		for i := range n {
			lv := L.Get(i + 1)
			if n, ok := lv.(glua.LNumber); ok {
				call.Args = append(call.Args, hc.numbers.boxAny(float64(n)))
				continue
			}
			v, err := w.toGo(lv)
			if err != nil {
				if w.b != nil && w.b.tripped != nil { // a limit, raised as the VM raises it
					L.RaiseError("%s", w.b.Err().Error())
				}
				L.RaiseError("%s: argument #%d: %v", qualified, i+1, err)
			}
			call.Args = append(call.Args, v)
		}
		if n < L.GetTop() {
			call.l, call.rest = L, n+1
		}
		b.startClock() // time spent in Go counts against MaxExecutionTime
		hctx, prev := b.guard.Enter(b.callCtx())
		results, err := invokeHost(fn, hctx, call)
		b.guard.Leave(prev)
		// The function's time counts: a call that it took past its deadline, or
		// whose context ended meanwhile, stops now rather than at the next check,
		// up to 1,024 instructions (and any number of host calls) later; if the
		// function failed, as it may because of that, with its message, the
		// call's error being the limit's or the context's all the same.
		stopped := (b.limits.MaxExecutionTime > 0 || b.ctxDone != nil) && b.check() != nil
		switch {
		case err != nil:
			L.RaiseError("%s: %v", qualified, err)
		case stopped:
			L.RaiseError("%s", b.Err().Error())
		}
		for i, r := range results {
			lv, err := toLua(L, r)
			if err != nil {
				L.RaiseError("%s: result %d: %v", qualified, i+1, err)
			}
			L.Push(lv)
		}
		return len(results)
	}
}

// invokeHost calls fn, turning a panic into an error.
func invokeHost(fn HostFunc, ctx context.Context, call *Call) (results []any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = recovered.Error("panic", r)
		}
	}()
	return fn(ctx, call)
}
