;; v128 parameters and results, which take two uint64 stack slots each (the low
;; 64 bits, then the high) in a Func's stack, and have no JSON form.
(module
  ;; rv returns the v128 whose i64 lanes are 1 (low) and 2 (high).
  (func (export "rv") (result v128)
    v128.const i64x2 1 2)

  ;; sum adds the two i64 lanes of v and n.
  (func (export "sum") (param $v v128) (param $n i64) (result i64)
    local.get $v
    i64x2.extract_lane 0
    local.get $v
    i64x2.extract_lane 1
    i64.add
    local.get $n
    i64.add))
