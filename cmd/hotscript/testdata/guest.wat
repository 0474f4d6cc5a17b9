;; guest.wat: a module for the CLI's tests: numbers, a JSON document, a trap, an
;; endless loop, and a message through host.log, the host function the CLI defines.
(module
  (import "host" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from wasm")

  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))

  (func (export "half") (param f64) (result f64)
    (f64.mul (local.get 0) (f64.const 0.5)))

  ;; alloc and echo: echo returns the JSON document it was given.
  (func (export "alloc") (param $len i32) (result i32) (i32.const 1024))
  (func (export "echo") (param i32 i32) (result i32 i32) (local.get 0) (local.get 1))

  (func (export "boom") unreachable)

  (func (export "spin") (loop $forever (br $forever)))

  (func (export "hello") (call $log (i32.const 16) (i32.const 15))))
