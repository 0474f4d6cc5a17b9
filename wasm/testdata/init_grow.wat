;; An initializer that needs 100 more pages of memory and traps without them,
;; as a C constructor's failed malloc that aborts does.
(module
  (memory 1)
  (func (export "_initialize")
    (if (i32.eq (memory.grow (i32.const 100)) (i32.const -1)) (then unreachable)))
  (func (export "f") (result i32) (i32.const 1)))
