package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hotscript/hotscript"
	"github.com/hotscript/hotscript/internal/synth"
	"github.com/hotscript/hotscript/watch"
)

// BenchmarkSaveToLive measures what a person at the editor feels: from the moment a
// save lands (a temporary file renamed over the script) to the first call answered
// by the new version, through the host's Watch, set up as `hotscript run` sets it up
// (SwapAtApply, Apply at the top of each frame). The frame loop here polls every
// 100 µs instead of every 16.7 ms, so the number is the latency of the pipeline, not
// of a frame rate.
//
// Every save has new code (the version number is in it), so every reload compiles
// for real. The time splits into the watcher's debounce (quiet time it waits for,
// by design), the compile (reported by the reload's event), and the rest: file
// events, reading the file, staging, the swap. Reported per save:
//
//	ms/save      save to first new answer
//	debounce-ms  the watcher's debounce
//	compile-ms   the reload's CompileTime
//	overhead-ms  ms/save - debounce-ms - compile-ms; the target is under 10
func BenchmarkSaveToLive(b *testing.B) {
	for _, kind := range []struct {
		name, file string
		code       func(n int) []byte
	}{
		{"wasm", "probe.wasm", func(n int) []byte {
			// The smallest module internal/synth writes: version() returns n.
			return synth.Module(synth.Config{Funcs: 1, Ops: 1, DataBytes: -1, Version: int32(n)})
		}},
		{"lua", "probe.lua", func(n int) []byte {
			return fmt.Appendf(nil, "local M = { frames = 0 }\nfunction M.update(dt) M.frames = M.frames + 1 end\nfunction M.version() return %d end\nreturn M\n", n)
		}},
	} {
		b.Run(kind.name, func(b *testing.B) {
			ctx := context.Background()
			path := filepath.Join(b.TempDir(), kind.file)
			if err := os.WriteFile(path, kind.code(0), 0o644); err != nil {
				b.Fatal(err)
			}
			h, closeHost, err := newHost(ctx, hotscript.Config{Swap: hotscript.SwapAtApply}, func(string, string) {})
			if err != nil {
				b.Fatal(err)
			}
			defer closeHost()
			s, err := h.Load(ctx, path, nil)
			if err != nil {
				b.Fatal(err)
			}
			if err := h.Watch(ctx, filepath.Dir(path)); err != nil {
				b.Fatal(err)
			}
			var (
				n              int
				total, compile time.Duration
			)
			b.ReportAllocs()
			for b.Loop() {
				n++
				want := strconv.Itoa(n)
				start := time.Now()
				tmp := filepath.Join(filepath.Dir(path), ".save.tmp")
				if err := os.WriteFile(tmp, kind.code(n), 0o644); err != nil {
					b.Fatal(err)
				}
				if err := os.Rename(tmp, path); err != nil {
					b.Fatal(err)
				}
				for {
					h.Apply(ctx) // the top of a frame
					out, err := h.Call(ctx, s, "version")
					if err != nil {
						b.Fatal(err)
					}
					if string(out) == want {
						break
					}
					if time.Since(start) > 10*time.Second {
						b.Fatalf("save %d not live after 10s (still %s)", n, out)
					}
					time.Sleep(100 * time.Microsecond)
				}
				total += time.Since(start)
				compile += committedCompileTime(b, h, s.Name())
			}
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(n) }
			debounce := float64(watch.DefaultDebounce) / float64(time.Millisecond)
			b.ReportMetric(ms(total), "ms/save")
			b.ReportMetric(debounce, "debounce-ms")
			b.ReportMetric(ms(compile), "compile-ms")
			b.ReportMetric(ms(total)-debounce-ms(compile), "overhead-ms")
		})
	}
}

// committedCompileTime waits for the Committed event of script and returns its
// CompileTime.
func committedCompileTime(b *testing.B, h *hotscript.Host, script string) time.Duration {
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-h.Events():
			switch {
			case ev.Script != script:
			case ev.Kind == hotscript.Committed:
				return ev.CompileTime
			case ev.Kind == hotscript.Rejected:
				b.Fatalf("reload rejected: %v", ev.Err)
			}
		case <-timeout:
			b.Fatal("no committed event within 10s")
		}
	}
}
