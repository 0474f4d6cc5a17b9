;; A host call in the middle of metered code: the host sees the exact fuel
;; and may charge for its own work.
(module
  (import "host" "probe" (func $probe))
  (func (export "probed") (result i32)
    i32.const 1
    drop
    call $probe
    i32.const 7))
