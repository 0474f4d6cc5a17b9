package hotscript

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hotscript/hotscript/internal/guest"
	"github.com/hotscript/hotscript/internal/synth"
)

// TestHammerClose: calls, reloads, reverts and Apply from many goroutines while
// Close runs; everything returns, nothing races, Close is idempotent.
func TestHammerClose(t *testing.T) {
	for _, mode := range []SwapMode{SwapImmediate, SwapAtApply} {
		ctx := context.Background()
		h, err := New(ctx, Config{Swap: mode, EventBuffer: 4})
		if err != nil {
			t.Fatal(err)
		}
		s := mustLoad(t, h, "counter.wasm", guest.Bytes("counter_v1"), nil)
		l := mustLoad(t, h, "c.lua", []byte("return { n = 0, tick = function() return 1 end }"), nil)
		versions := [][]byte{guest.Bytes("counter_v1"), guest.Bytes("counter_v2")}
		var wg sync.WaitGroup
		var closed atomic.Bool
		for g := range 6 {
			wg.Go(func() {
				for i := 0; !closed.Load() || i < 50; i++ {
					var err error
					switch g {
					case 0, 1:
						_, err = h.Call(ctx, s, "tick")
					case 2:
						_, err = h.Call(ctx, l, "tick")
					case 3:
						err = h.ReloadAsync(ctx, s, versions[i%2]).Err()
					case 4:
						p := h.ReloadAsync(ctx, l, []byte("return { n = 1, tick = function() return 2 end }"))
						if mode == SwapImmediate {
							<-p.Done()
							err = p.Err()
						}
					case 5:
						h.Apply(ctx)
						err = h.Revert(ctx, s)
					}
					if err != nil && !errors.Is(err, ErrClosed) && !errors.Is(err, ErrSuperseded) &&
						!errors.Is(err, ErrNoHistory) {
						t.Errorf("goroutine %d: %v", g, err)
						return
					}
					if i > 5000 {
						return
					}
				}
			})
		}
		var cw sync.WaitGroup
		for range 3 {
			cw.Go(func() {
				if err := h.Close(ctx); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
		}
		cw.Wait()
		closed.Store(true)
		wg.Wait()
		for range h.Events() {
		}
	}
}

// TestConcurrentLoadsOfOneName: exactly one wins, the others get ErrExists.
func TestConcurrentLoadsOfOneName(t *testing.T) {
	h := newTestHost(t, Config{})
	var wins, exists atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := h.LoadBytes(context.Background(), "same.wasm", guest.Bytes("counter_v1"), nil)
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, ErrExists):
				exists.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || exists.Load() != 7 {
		t.Errorf("%d loads won, %d got ErrExists; want 1 and 7", wins.Load(), exists.Load())
	}
}

// TestHammerVersionFollowsCalls: Version changes exactly when calls move to the
// new version: a call never runs code older than Version read before it, nor
// newer than Version read after it returns. Calls come from P goroutines,
// through Call and through the engine's lease, while versions are reloaded in
// turn, each version's code returning its number.
func TestHammerVersionFollowsCalls(t *testing.T) {
	for _, tt := range []struct {
		name string
		code func(v int) []byte
	}{
		{"v.wasm", func(v int) []byte {
			return synth.Module(synth.Config{Funcs: 1, Ops: 1, DataBytes: -1, Version: int32(v)})
		}},
		{"v.lua", func(v int) []byte {
			return fmt.Appendf(nil, "return { version = function() return %d end }", v)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			h := newTestHost(t, Config{})
			s := mustLoad(t, h, tt.name, tt.code(1), nil)
			var stop atomic.Bool
			var wg sync.WaitGroup
			for g := range 3 {
				wg.Go(func() {
					for n := 0; !stop.Load(); n++ {
						before := s.Version()
						var out json.RawMessage
						var err error
						if g == 0 && s.kind == KindWASM {
							out, err = leaseCall(ctx, s)
						} else {
							out, err = h.Call(ctx, s, "version")
						}
						after := s.Version()
						if err != nil {
							t.Error(err)
							return
						}
						if ran, _ := strconv.Atoi(string(out)); ran < before || ran > after {
							t.Errorf("call %d ran version %d, while Version said %d before it and %d after it", n, ran, before, after)
							return
						}
					}
				})
			}
			for v := 2; v <= 150 && !t.Failed(); v++ {
				if err := h.Reload(ctx, s, tt.code(v)); err != nil {
					t.Fatal(err)
				}
			}
			stop.Store(true)
			wg.Wait()
		})
	}
}

// leaseCall calls version through a lease on WASM script s, as a frame does.
func leaseCall(ctx context.Context, s *Script) (json.RawMessage, error) {
	rt, id, _ := s.WASM()
	l, err := rt.Acquire(ctx, id)
	if err != nil {
		return nil, err
	}
	defer l.Release()
	return l.CallJSON(ctx, "version")
}
