;; Its start function traps, so instantiation fails.
(module
  (func $start
    unreachable)
  (start $start)
  (func (export "version") (result i32)
    i32.const 7))
