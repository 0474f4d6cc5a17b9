;; Imports host.log(ptr, len) and calls it with a fixed message ("hello from v1").
;; bad_log passes a range outside memory: the host must answer with an error.
(module
  (import "host" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from v1")

  (func (export "run")
    i32.const 16
    i32.const 13
    call $log)

  (func (export "bad_log")
    i32.const 65530
    i32.const 100
    call $log)

  (func (export "version") (result i32)
    i32.const 1))
