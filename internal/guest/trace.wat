;; A trap two frames deep, in a function that is not exported, for the tests of
;; stack traces, which append a name section to it (the build writes none).
(module
  (func $inner (param i32) (result i32)
    local.get 0
    i32.const 0
    i32.div_s)

  (func (export "outer") (result i32)
    i32.const 1
    call $inner))
