// Command game is a small game that embeds hotscript in its own frame loop: an
// ecs.World of three entities, two moved by a Lua script (scripts/mover.lua) and one
// by a WebAssembly one (scripts/drifter.wasm, built from drifter.wat), which reach
// the entities' positions through host functions the game defines. The scripts
// are reloaded when saved, between two frames, and every load, reload and rejected
// save is printed, with the reason.
//
// Run it from the repository's root (Ctrl-C stops it):
//
//	go run ./examples/game
//
// While it runs, edit examples/game/scripts/mover.lua and save it: make update move
// along y, say. The next line shows the new movement, and steps, a field of the
// script, goes on counting from where it was. Save a broken edit (delete an "end")
// and the game prints why it was rejected, with the line, while the last good
// version keeps running with its state; save the fix and it is live. Editing
// drifter.wat works the same way when wat2wasm (wabt) is on PATH: the game builds
// it in memory, leaving drifter.wasm as it is. That script's state is the entity's
// position, which a reload leaves alone.
//
// Flags: -dir DIR runs the scripts of another directory (it must hold mover.lua and
// drifter.wasm), -frames N stops after N frames.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/hotscript/hotscript"
	"github.com/hotscript/hotscript/ecs"
)

// fps is the game's fixed frame rate.
const fps = 60

// Position is the component the scripts move.
type Position struct{ X, Y float64 }

// Driver is the component that names the script moving an entity.
type Driver struct{ Script *hotscript.Script }

func main() {
	dir := flag.String("dir", defaultDir(), "the `DIR` of the scripts to run and watch")
	frames := flag.Int("frames", 0, "stop after `N` frames (0: run until Ctrl-C)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *dir, *frames, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "game:", err)
		os.Exit(1)
	}
}

// defaultDir is the example's scripts directory, from the repository's root or
// from the example's own directory.
func defaultDir() string {
	dir := filepath.Join("examples", "game", "scripts")
	if _, err := os.Stat(dir); err != nil {
		return "scripts"
	}
	return dir
}

// run plays the game on the scripts in dir at fps frames a second, until ctx is
// done or, if frames > 0, for frames frames, and prints what happens to out.
func run(ctx context.Context, dir string, frames int, out io.Writer) error {
	g, err := newGame(ctx, dir, out)
	if err != nil {
		return err
	}
	defer g.close()
	tick := time.NewTicker(time.Second / fps)
	defer tick.Stop()
loop:
	for frames == 0 || g.frame < frames {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
			g.step(ctx)
		}
	}
	fmt.Fprintf(out, "stopped after %d frames\n", g.frame)
	return nil
}

// game is the state of one run. It is used by one goroutine, the frame loop's.
type game struct {
	world  *ecs.World
	h      *hotscript.Host
	mover  *hotscript.Script
	out    io.Writer
	frame  int
	failed map[*hotscript.Script]int // the version whose update error was printed
	moved  map[string]string         // the scripts Watch unloaded as their files moved, to the names they moved to
}

// newGame loads the scripts in dir, spawns the entities they drive and watches dir.
func newGame(ctx context.Context, dir string, out io.Writer) (*game, error) {
	g := &game{world: ecs.NewWorld(), out: out, failed: map[*hotscript.Script]int{}, moved: map[string]string{}}
	if err := g.start(ctx, dir); err != nil {
		g.close()
		return nil, err
	}
	return g, nil
}

func (g *game) start(ctx context.Context, dir string) (err error) {
	g.h, err = hotscript.New(ctx, hotscript.Config{
		Funcs: g.funcs(),
		// Reloads commit in Apply, at the top of a frame, on this goroutine: what
		// they run may call host functions, which touch the World.
		Swap:   hotscript.SwapAtApply,
		Limits: hotscript.Limits{MaxInstructions: 1_000_000, MaxExecutionTime: 50 * time.Millisecond},
	})
	if err != nil {
		return err
	}
	// Every version must keep update: a save without it is rejected.
	opts := &hotscript.ScriptOptions{Contract: &hotscript.Contract{Exports: []string{"update(i64, f64)"}}}
	if g.mover, err = g.h.Load(ctx, filepath.Join(dir, "mover.lua"), opts); err != nil {
		return err
	}
	drifter, err := g.h.Load(ctx, filepath.Join(dir, "drifter.wasm"), opts)
	if err != nil {
		return err
	}
	g.spawn(Position{0, 0}, g.mover)
	g.spawn(Position{0, 3}, g.mover)
	g.spawn(Position{5, 0}, drifter)
	g.events()
	return g.h.Watch(ctx, dir)
}

// funcs are the host functions of the module "game", defined once for the
// scripts of both kinds:
//
//	game.get_pos(e) -> x, y   WASM: (i64) -> (f64, f64)
//	game.set_pos(e, x, y)     WASM: (i64, f64, f64)
//
// An entity travels as a number: an ecs.World entity is below 2^53, which a Lua
// number holds exactly. They use the World without a lock, as scripts call them
// from update, on the frame loop's goroutine. They refuse a script's top level (a
// Lua chunk's, a WASM start function), which runs when a reload is staged, on a
// goroutine of the Host's: the reload is rejected, instead of racing the loop.
// set_pos called by a reload's hooks registers how to put the move back
// (hotscript.OnRollback), so that a rejected reload leaves the World as it was.
func (g *game) funcs() []hotscript.HostFunc {
	pos := func(ctx context.Context, c hotscript.HostCall) (*Position, error) {
		if hotscript.Staging(ctx) {
			return nil, errors.New("game functions cannot run at a script's top level")
		}
		e := ecs.Entity(c.Int(0))
		if p := ecs.Ref[Position](g.world, e); p != nil {
			return p, nil
		}
		return nil, fmt.Errorf("entity %v has no position", e)
	}
	i64, f64 := hotscript.I64, hotscript.F64
	return []hotscript.HostFunc{
		{Module: "game", Name: "get_pos", Params: []hotscript.Type{i64}, Results: []hotscript.Type{f64, f64},
			Func: func(ctx context.Context, c hotscript.HostCall) error {
				p, err := pos(ctx, c)
				if err == nil {
					c.SetFloat(0, p.X)
					c.SetFloat(1, p.Y)
				}
				return err
			}},
		{Module: "game", Name: "set_pos", Params: []hotscript.Type{i64, f64, f64},
			Func: func(ctx context.Context, c hotscript.HostCall) error {
				p, err := pos(ctx, c)
				if err != nil {
					return err
				}
				// Called by a reload's hooks (on_restore, on_reload), the move
				// is put back if the reload fails. Asked first, Committing
				// spares the frame's calls the undo function's allocation.
				if hotscript.Committing(ctx) {
					e, was := ecs.Entity(c.Int(0)), *p
					hotscript.OnRollback(ctx, func() {
						if p := ecs.Ref[Position](g.world, e); p != nil {
							*p = was
						}
					})
				}
				*p = Position{c.Float(1), c.Float(2)}
				return nil
			}},
	}
}

// spawn adds an entity at pos, moved by s.
func (g *game) spawn(pos Position, s *hotscript.Script) {
	e := g.world.Spawn()
	// Insert fails only on a dead entity.
	_ = ecs.Insert(g.world, e, pos)
	_ = ecs.Insert(g.world, e, Driver{s})
}

// step runs one frame: it commits the reloads that are ready, prints what the host
// reported, and calls every entity's script. It returns the host's events.
func (g *game) step(ctx context.Context) []hotscript.Event {
	g.h.Apply(ctx)
	evs := g.events()
	g.frame++
	for e, d := range ecs.Query[Driver](g.world) {
		_, err := g.h.Call(ctx, d.Script, "update", float64(e), 1.0/fps)
		// A failing update fails every frame: print it once per version (and
		// not at all when Ctrl-C cancelled the call).
		if v := d.Script.Version(); err != nil && ctx.Err() == nil && g.failed[d.Script] != v {
			g.failed[d.Script] = v
			fmt.Fprintf(g.out, "%s v%d: update fails (said once a version): %v\n", d.Script.Name(), v, err)
		}
	}
	if g.frame%fps == 0 {
		g.status(ctx)
	}
	return evs
}

// events prints and returns the host's events that are waiting, without blocking.
func (g *game) events() []hotscript.Event {
	var evs []hotscript.Event
	for {
		select {
		case ev := <-g.h.Events():
			evs = append(evs, ev)
			fmt.Fprintln(g.out, ev) // a rejection says which version keeps running
			if ev.Kind == hotscript.Unloaded && ev.MovedTo != "" {
				g.follow(ev.Script, ev.MovedTo)
			}
		default:
			return evs
		}
	}
}

// follow hands the entities that the script from drove to the script to: Watch
// unloaded from because its file was renamed to to's (mv mover.lua walker.lua).
// If to is gone too (renamed again before this frame: walker.lua runner.lua),
// its own Unloaded event comes next; the renames are kept, so that the entities
// then follow the chain to the script that runs the file.
func (g *game) follow(from, to string) {
	g.moved[from] = to
	live := func(s *hotscript.Script) *hotscript.Script {
		name := s.Name()
		for seen := 0; seen <= len(g.moved); seen++ {
			if now, ok := g.h.Script(name); ok && now != s {
				return now
			}
			next, ok := g.moved[name]
			if !ok {
				return nil
			}
			name = next
		}
		return nil
	}
	drivers := map[ecs.Entity]*hotscript.Script{}
	for e, d := range ecs.Query[Driver](g.world) {
		if s := live(d.Script); s != nil {
			drivers[e] = s
		}
	}
	for e, s := range drivers {
		_ = ecs.Insert(g.world, e, Driver{s})
	}
	if s := live(g.mover); s != nil {
		g.mover = s
	}
}

// status prints the frame, where each entity is, and the mover's field steps,
// read through its engine: the Host calls functions, the lua runtime also reads
// fields.
func (g *game) status(ctx context.Context) {
	fmt.Fprintf(g.out, "frame %d:", g.frame)
	for e, p := range ecs.Query2[Driver, Position](g.world) {
		fmt.Fprintf(g.out, " %v (%.2f, %.2f) %s v%d;", e, p.B.X, p.B.Y,
			filepath.Base(p.A.Script.Name()), p.A.Script.Version())
	}
	rt, id, _ := g.mover.Lua()
	steps, err := rt.Field(ctx, id, "steps")
	if err != nil {
		fmt.Fprintf(g.out, " mover steps: %v\n", err)
		return
	}
	fmt.Fprintf(g.out, " mover steps %s\n", steps)
}

// close closes the host, and with it the runtimes it made.
func (g *game) close() {
	ctx := context.Background()
	if g.h != nil {
		g.h.Close(ctx)
	}
}
