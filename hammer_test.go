package hotscript

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hotscript/hotscript/internal/guest"
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
