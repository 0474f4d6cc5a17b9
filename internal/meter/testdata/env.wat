;; The "env" module that calls.wat imports from; tests instantiate it
;; uninstrumented next to both the original and the instrumented module.
(module
  (global (export "g") i32 (i32.const 1000))
  (func (export "add") (param i32 i32) (result i32)
    local.get 0
    local.get 1
    i32.add))
