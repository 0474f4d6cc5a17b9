;; A module whose start function traps: it never loads, and inspect says so.
(module
  (func $start unreachable)
  (start $start)
  (func (export "update") (param f64)))
