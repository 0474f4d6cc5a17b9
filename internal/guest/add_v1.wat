;; add, version 1: two parameters (the founding document's signature change, before).
(module
  (func (export "add") (param i32 i32) (result i32)
    local.get 0
    local.get 1
    i32.add)
  (func (export "version") (result i32)
    i32.const 1))
