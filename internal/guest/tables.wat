;; A table declared without a maximum, grown on request: under MaxMemoryBytes the
;; runtime lowers its maximum so table.grow cannot take more than the budget.
(module
  (table $t 1 funcref)
  (table $u 2 externref)

  (func (export "grow") (param i32) (result i32)
    (table.grow $t (ref.null func) (local.get 0)))

  (func (export "grow_u") (param i32) (result i32)
    (table.grow $u (ref.null extern) (local.get 0)))

  (func (export "size") (result i32)
    (table.size $t)))
