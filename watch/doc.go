// Package watch turns file-system noise into one event per saved file, for the
// edit-save-see loop of hot reloading: edit a script, save, and the running program
// has the new version within a frame or two.
//
//	w, err := watch.New(watch.Options{Build: watch.DefaultBuildSteps()})
//	if err != nil { ... }
//	defer w.Close(context.Background())
//	if err := w.Add("scripts"); err != nil { ... }
//	for ev := range w.Events() {
//		switch {
//		case ev.Err != nil: // unreadable, or a build failed: keep the old version, show ev.BuildLog
//		case ev.Op == watch.Removed: // keep running the last version, and say so
//		default: // reload ev.Output from ev.Data
//		}
//	}
//
// # Why debounce per path, and read late
//
// Editors do not save by writing a file once. They truncate then write, write a
// temporary file and rename it over the original (VS Code, JetBrains), delete and
// recreate, or rename the original to a backup, write a new file and delete the
// backup (vim, after probing the directory with a file named 4913). Each save is a
// burst of creates, writes, renames, attribute changes and removes, some on the file
// and some on helper files next to it. Reacting to any single notification would
// reload half-written or missing files.
//
// So every notification only marks its path as active and restarts that path's
// debounce timer (Options.Debounce, 16 ms by default). When a path has been quiet
// that long, the watcher looks at what is there now: the file's bytes go out in a
// Changed event; a file that is gone goes out as Removed, if the host has it
// (found by Add, or received in a Changed event, and not received as Removed
// since). A path that was created and deleted within the interval (a temporary
// file of any name) produces nothing, and helper files with known names are
// ignored outright (DefaultIgnore). The rename of a temporary file over the
// original is activity on the original's path like any other, so it yields one
// Changed event.
//
// A Changed event reflects a change: when a path's debounce runs out and its
// size, modification time and bytes are all as in its previous event (an attribute
// change, or notifications that arrived late), no event is sent. Touching a file
// gives it a new modification time, which makes it reload. Forget makes the
// watcher drop what it knows of a file, as a host does that unloads its script:
// the file's next activity is a Changed event even if it is unchanged, and its
// deletion before then is not reported.
//
// Add reads no file, so adding a large tree is cheap: it keeps what a stat says of
// each. The first activity on a file that had not changed for more than two
// seconds when Add found it is reported unless a stat still says the same: size
// and modification time and, on Linux, macOS, the BSDs and Solaris, inode and
// change time (ctime), which any write, chmod or rename sets and no program can
// set back, unlike the modification time that tar, unzip, cp -p and cp -a carry
// over. So a file renamed over it (mv) or rewritten and given its old
// modification time back (cp -p) is reported, and so is a chmod alone, which a
// stat cannot tell from such a rewrite; a notification that arrives late is not.
// On other systems only size and modification time are compared, and a
// replacement with the same ones goes unnoticed. The first activity on a file that
// changed more recently is reported whatever it holds: Add cannot tell its bytes
// from a save made while Add ran, which the host has not seen.
//
// Reading late means the event carries the final bytes of the save. If a writer
// pauses longer than the debounce in mid-save, the event carries the partial
// content; the write that completes the file is new activity and yields a later
// event with the complete content. A host that rejects the partial version
// thus picks up the complete one; but a part may be valid on its own (a Lua
// file cut between two statements, a module cut between two sections), and
// then runs until the rest arrives. Write a file at once, or write it under
// another name and rename it into place (what editors' safe writes do): the
// watcher then sees only whole saves.
//
// # Build steps
//
// Options.Build maps an extension to a command that turns a source into what the
// host loads: a .wat or .c file into a .wasm module (DefaultBuildSteps). The event
// then carries the built bytes and names the module in Event.Output, or carries a
// *BuildError with the tool's own message in Event.BuildLog. Builds write into
// temporary directories, so they never trigger the watcher; a save that arrives
// while the previous version is still building kills that build; builds run at
// most one per CPU at a time, and each is bounded by its step's Timeout. On Unix
// a build killed, by a newer save, its Timeout or Close, is killed with every
// process its tool started (its process group), so that none is left running;
// elsewhere the tool alone is killed. BuildStep.Build runs a step outside a watch
// (a host loading x.wat at startup), so that a source is always built by one tool
// invocation; BuildStep.BuildRead does so for a program that also keeps the
// source it read, building again when a save lands during the build, as the
// watcher does for Event.Source.
//
// # Directories
//
// Add watches a directory tree. Directories created later are watched as soon as
// they appear, and the files already in them when the watch begins are reported,
// so that a save into a new directory is not lost. A directory removed, renamed
// away or replaced by a file of the same name reports its files Removed. A
// directory given to Add that goes away is no longer watched and is also reported
// on Errors with ErrDirRemoved; adding it again once it is back reports every file
// it then holds, even when it came back within the debounce interval with the
// same files. When the operating system drops notifications (ErrOverflow), the
// watcher rescans and reports what differs, directories removed in the meantime
// included.
//
// # Symbolic links
//
// A symbolic link to a file is reported as the file it leads to, wherever that
// is: a save of its target, in place or by a rename over it, is a Changed event
// for the link's path carrying the target's bytes, and so is the link
// retargeted. A link whose target goes (a dangling link) is reported Removed, and
// Changed once the target is back. For this the watcher also watches the
// directory that holds the target and each directory that holds a link on the
// way to it (a chain of links, or a link to a directory on the target's path),
// for as long as a link leads there; while a directory on the way is missing, it
// watches the nearest one above it instead, so that a target whose directory is
// removed and recreated, or replaced by another, is found again. Two links to one
// target each have their event, and a target in the tree has its own as well.
//
// # Concurrency and delivery
//
// One goroutine owns all the state and is the only sender on Events and Errors;
// workers read and build files on goroutines of their own. Nothing a receiver does
// blocks the watcher: an event waiting to be received is replaced by a newer one
// for the same path, or dropped when it is the first Changed event of a file that
// is then removed (the host never had it). All methods are safe for concurrent
// use, and Close ends every goroutine the Watcher started.
//
// Reads and builds finish in any order, but events are sent in the order they
// fired: an event that is ready waits for the events that fired before it, except
// for the builds of other outputs. A host that has a module and its source (x.wasm
// and x.wat) must run the one saved last, and receiving them in firing order is
// all it needs to; holding every event behind the slowest build (a C file can take
// seconds) would instead delay every other script's reload for nothing. Reading a
// file takes a moment, so the events of files without a build step keep their
// firing order. Each event also says what the file was when it fired
// (Event.Info, and Event.Source for a built file), since a host that handles it
// later would otherwise look at a file that a later save has changed already.
//
// # Limits
//
// Symbolic links to directories are not followed: the watcher does not walk into
// them, and reports nothing for them. Of the way to a link's target, only the
// directories holding the target and the links on the way are watched: a directory
// further up that is renamed or replaced goes unnoticed until the link or its
// target has activity again, or a rescan. Network file systems may not deliver
// notifications at all, and a read that hangs there holds up every event that fired
// after it (see Watcher.Events). Each watched directory, in the tree or holding a
// link's target, costs one inotify watch on Linux (fs.inotify.max_user_watches) and
// one file descriptor per file on BSD and macOS. A directory given to Add that is
// removed and then recreated must be added again (the watcher does not watch its
// parent). A file written continuously, never quiet for the debounce interval, is
// reported only once it is.
package watch
