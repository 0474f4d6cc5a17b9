;; spin.wat: a module for the CLI's tests whose update(dt) logs "spinning" through
;; host.log, then never returns: stuck in a call that no context reaches when
;; `hotscript run --max-time 0` runs it unmetered.
(module
  (import "host" "log" (func $log (param i32 i32)))
  (memory 1)
  (data (i32.const 16) "spinning")
  (func (export "update") (param f32)
    (call $log (i32.const 16) (i32.const 8))
    (loop $forever (br $forever))))
