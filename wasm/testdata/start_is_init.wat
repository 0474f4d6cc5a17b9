;; Its _initialize is its start function: the runtime must not run it again.
(module
  (global $runs (mut i32) (i32.const 0))
  (func $init (export "_initialize") (global.set $runs (i32.add (global.get $runs) (i32.const 1))))
  (start $init)
  (func (export "runs") (result i32) (global.get $runs)))
