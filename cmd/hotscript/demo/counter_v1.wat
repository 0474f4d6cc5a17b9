;; counter_v1.wat: the founding document's counter (wasm-hot-reload.md). Its state lives
;; in a mutable global, so a reload resets it to 0; the demo keeps it in an ECS component
;; across the reload instead.
(module
  (global $counter (mut i32) (i32.const 0))
  (func (export "increment")
    (global.set $counter (i32.add (global.get $counter) (i32.const 1))))
  (func (export "get_counter") (result i32) (global.get $counter))
  (func (export "set_counter") (param $v i32) (global.set $counter (local.get $v)))
  (func (export "version") (result i32) (i32.const 1)))
