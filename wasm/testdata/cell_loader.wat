;; cell.wat whose start function calls host.load_other, a host function that
;; loads another script with the context it was given.
(module
  (import "host" "load_other" (func $load_other))
  (memory (export "memory") 1)
  (func $start (call $load_other))
  (start $start)
  (func (export "peek") (result i32) (i32.load (i32.const 16)))
  (func (export "poke") (param i32) (i32.store (i32.const 16) (local.get 0))))
