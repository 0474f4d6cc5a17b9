package meter

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
)

// refsModule uses function references where wat2wasm cannot put them: a
// funcref global initialized with ref.func, and ref.func stored into a table
// and called through it. An imported function comes first, so the defined
// functions move and the imported one does not.
func refsModule() []byte {
	const (
		tI32    = 0 // [] -> [i32]
		tAdd    = 1 // [i32 i32] -> [i32]
		fAdd    = 0 // imported env.add
		fEleven = 1
		fTwenty = 2
		fMain   = 3
	)
	main := []byte{
		0x41, 0x00, 0x23, 0x00, 0x26, 0x00, // table.set 0 (i32.const 0) (global.get 0)
		0x41, 0x00, 0x11, tI32, 0x00, // call_indirect: 11
		0x41, 0x00, 0xd2, fTwenty, 0x26, 0x00, // table.set 0 (i32.const 0) (ref.func 2)
		0x41, 0x00, 0x11, tI32, 0x00, // call_indirect: 22
		0x6a,                         // i32.add
		0x41, 0xe4, 0x00, 0x10, fAdd, // env.add(33, 100)
	}
	return module(
		sec(secType, vec(fnType(nil, []byte{valI32}), fnType([]byte{valI32, valI32}, []byte{valI32}))),
		sec(secImport, vec(cat(str("env"), str("add"), []byte{0x00, tAdd}))),
		sec(secFunction, vec(leb(tI32), leb(tI32), leb(tI32))),
		sec(secTable, vec([]byte{valFuncref, 0x00, 0x01})),
		sec(secGlobal, vec([]byte{valFuncref, 0x00, 0xd2, fEleven, opEnd})),
		sec(secExport, vec(cat(str("main"), []byte{0x00, fMain}))),
		sec(secElement, vec(cat(leb(3), []byte{0x00}, vec(leb(fEleven), leb(fTwenty))))),
		sec(secCode, vec(
			codeEntry(nil, 0x41, 11),
			codeEntry(nil, 0x41, 22),
			codeEntry(nil, main...),
		)),
	)
}

func TestFunctionReferences(t *testing.T) {
	wasm := refsModule()
	ctx := context.Background()
	raw := newPlainRuntime(t)
	rawMod, err := raw.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		t.Fatal(err)
	}
	want, err := rawMod.ExportedFunction("main").Call(ctx)
	if err != nil || want[0] != 133 {
		t.Fatalf("the original returns %v, %v; want 133", want, err)
	}
	m := instantiateMeteredWithImports(t, wasm)
	got, used, err := m.call("main")
	if err != nil || got[0] != 133 {
		t.Fatalf("main() = %v, %v; want 133", got, err)
	}
	// main is one region of 13 instructions; the two callees cost 1 each.
	if used != 15 {
		t.Errorf("used %d fuel, want 15", used)
	}
}

// TestDeterministicOutput instruments every corpus module twice and from
// several goroutines at once, and requires identical bytes every time.
func TestDeterministicOutput(t *testing.T) {
	mods := corpus(t)
	want := map[string][]byte{}
	for name, wasm := range mods {
		out, _, err := Instrument(wasm)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want[name] = out
	}
	const goroutines, rounds = 4, 20
	var wg sync.WaitGroup
	errs := make(chan string, goroutines*rounds*len(mods))
	for range goroutines {
		wg.Go(func() {
			for range rounds {
				for name, wasm := range mods {
					out, _, err := Instrument(wasm)
					if err != nil || !bytes.Equal(out, want[name]) {
						errs <- name
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for name := range errs {
		t.Errorf("%s: output differs between runs", name)
	}
}

// TestInputUnchanged checks that Instrument does not write to its input.
func TestInputUnchanged(t *testing.T) {
	for name, wasm := range corpus(t) {
		before := bytes.Clone(wasm)
		if _, _, err := Instrument(wasm); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(before, wasm) {
			t.Errorf("%s: the input changed", name)
		}
	}
}
