package watch

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// BenchmarkSaveToEvent measures the time from writing a file to receiving its
// event, for two debounce intervals, next to the time raw fsnotify takes to report
// a write in the same run. A save cannot be reported before it has been quiet for
// the debounce interval, so the figures to read are latency/debounce (1.0 is the
// floor) and over-debounce-µs, the cost of everything else (reading, scheduling,
// delivery), compared with raw-µs.
func BenchmarkSaveToEvent(b *testing.B) {
	b.Run("raw-fsnotify", benchRawFsnotify)
	for _, debounce := range []time.Duration{10 * time.Millisecond, 50 * time.Millisecond} {
		b.Run("debounce="+debounce.String(), func(b *testing.B) {
			rawLatency := measureRaw(b, 50)
			dir := b.TempDir()
			w, err := New(Options{Debounce: debounce})
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close(b.Context())
			if err := w.Add(dir); err != nil {
				b.Fatal(err)
			}
			path := filepath.Join(dir, "enemy.lua")
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				content := []byte("return { version = " + strconv.Itoa(i) + " }")
				if err := os.WriteFile(path, content, 0o644); err != nil {
					b.Fatal(err)
				}
				ev := <-w.Events()
				if string(ev.Data) != string(content) {
					b.Fatalf("event %v carries %q, want %q", ev, ev.Data, content)
				}
			}
			latency := b.Elapsed() / time.Duration(b.N)
			over := latency - debounce
			b.ReportMetric(float64(latency)/float64(debounce), "latency/debounce")
			b.ReportMetric(float64(over.Microseconds()), "over-debounce-µs")
			b.ReportMetric(float64(rawLatency.Microseconds()), "raw-µs")
			b.ReportMetric(float64(over)/float64(rawLatency), "over/raw")
		})
	}
}

// benchRawFsnotify is the floor: raw fsnotify reporting the creation of a file.
func benchRawFsnotify(b *testing.B) {
	fsw, dir := rawWatcher(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		rawSave(b, fsw, dir, i)
	}
}

// measureRaw returns the mean time raw fsnotify takes to report a file's creation,
// over n files.
func measureRaw(b *testing.B, n int) time.Duration {
	fsw, dir := rawWatcher(b)
	start := time.Now()
	for i := range n {
		rawSave(b, fsw, dir, i)
	}
	return time.Since(start) / time.Duration(n)
}

func rawWatcher(b *testing.B) (*fsnotify.Watcher, string) {
	dir := b.TempDir()
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { fsw.Close() })
	if err := fsw.Add(dir); err != nil {
		b.Fatal(err)
	}
	return fsw, dir
}

// rawSave writes file i and waits for fsnotify's first event on it, skipping the
// trailing events of earlier files.
func rawSave(b *testing.B, fsw *fsnotify.Watcher, dir string, i int) {
	path := filepath.Join(dir, fmt.Sprintf("f%d.lua", i))
	if err := os.WriteFile(path, []byte("return { version = 1 }"), 0o644); err != nil {
		b.Fatal(err)
	}
	for ev := range fsw.Events {
		if ev.Name == path {
			return
		}
	}
}
