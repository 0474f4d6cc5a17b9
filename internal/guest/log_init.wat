;; Calls host.log from its _initialize export, which the runtime runs once when it
;; instantiates the module: tests use it to act while a load or a Stage is in
;; progress.
(module
  (import "host" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "initializing")

  (func (export "_initialize")
    i32.const 16
    i32.const 12
    call $log)

  (func (export "version") (result i32)
    i32.const 3))
