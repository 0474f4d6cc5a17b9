// Package undo is the log through which a reload's commit puts back what it
// changed outside the scripts when it fails: the functions a migration or a
// host function registered, run most recent first with the script's callers
// still held. The log travels in the commit's context, so that a host function
// the commit's hooks call can reach it (hotscript.OnRollback, lua.OnRollback).
package undo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Log is the undo functions of one commit. Its zero value is an open, empty
// log. It is safe for concurrent use.
type Log struct {
	mu     sync.Mutex
	fs     []func()
	closed bool
}

type key struct{}

// With returns ctx carrying l, for what the commit runs with it.
func With(ctx context.Context, l *Log) context.Context {
	return context.WithValue(ctx, key{}, l)
}

// Without returns ctx without the log it carries, if any: the context of
// work a commit starts that is not its own (another script's reload or load,
// which commits or fails on its own), whose host functions must not register
// with the commit's log.
func Without(ctx context.Context) context.Context {
	if ctx.Value(key{}) == nil {
		return ctx
	}
	return without{ctx}
}

type without struct{ context.Context }

func (c without) Value(k any) any {
	if _, ok := k.(key); ok {
		return nil
	}
	return c.Context.Value(k)
}

// Add registers f with the log ctx carries and reports whether it did: false
// if ctx is no commit's, or its commit is over.
func Add(ctx context.Context, f func()) bool {
	l, _ := ctx.Value(key{}).(*Log)
	return l != nil && l.Add(f)
}

// Open reports whether ctx carries a log that is open: what Add would
// register f with.
func Open(ctx context.Context) bool {
	l, _ := ctx.Value(key{}).(*Log)
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.closed
}

// Add registers f, unless the log is closed, and reports whether it did.
func (l *Log) Add(f func()) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || f == nil {
		return !l.closed
	}
	l.fs = append(l.fs, f)
	return true
}

// Run runs the functions registered so far, most recent first, and forgets
// them; a function registered while they run waits for the next Run. A panic
// in one is recovered, and the others still run. Run returns err, the failure
// being undone, or a *Panicked wrapping it if any panicked.
func (l *Log) Run(err error) error {
	l.mu.Lock()
	fs := l.fs
	l.fs = nil
	l.mu.Unlock()
	var panics []any
	for i := len(fs) - 1; i >= 0; i-- {
		func() {
			defer func() {
				if r := recover(); r != nil {
					panics = append(panics, r)
				}
			}()
			fs[i]()
		}()
	}
	if len(panics) > 0 {
		return &Panicked{Err: err, Panics: panics}
	}
	return err
}

// Close ends the log as its commit goes through: what was registered is
// forgotten, and Add fails from now on.
func (l *Log) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fs, l.closed = nil, true
}

// WithPanics returns err, a rollback's error, with panics, the values undo
// functions that ran before its own panicked with: first, as they ran first.
func WithPanics(err error, panics []any) error {
	if len(panics) == 0 {
		return err
	}
	if p, ok := err.(*Panicked); ok {
		return &Panicked{Err: p.Err, Panics: append(slices.Clone(panics), p.Panics...)}
	}
	return &Panicked{Err: err, Panics: panics}
}

// Panicked is Err, the failure a rollback undid, with the values undo
// functions panicked with, in the order they ran.
type Panicked struct {
	Err    error
	Panics []any
}

func (e *Panicked) Error() string {
	if len(e.Panics) == 1 {
		return fmt.Sprintf("%v (and an Undo function panicked: %v)", e.Err, e.Panics[0])
	}
	var b strings.Builder
	for i, r := range e.Panics {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprint(&b, r)
	}
	return fmt.Sprintf("%v (and %d Undo functions panicked: %s)", e.Err, len(e.Panics), b.String())
}

func (e *Panicked) Unwrap() error { return e.Err }
