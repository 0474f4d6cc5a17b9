;; A module without memory that still uses what needs one: host.log(ptr, len),
;; a JSON argument (it exports alloc) and a JSON result. Each must fail with an
;; error saying the module has no memory, never a crash.
(module
  (import "host" "log" (func $log (param i32 i32)))

  (func (export "log_it")
    (call $log (i32.const 0) (i32.const 5)))

  (func (export "alloc") (param i32) (result i32)
    i32.const 0)

  (func (export "take") (param i32 i32))

  (func (export "give") (result i32 i32)
    i32.const 0
    i32.const 2))
