(module
 (func (export "sum") (param $n i32) (result i64)
  (local $i i32) (local $s i64)
  block
  loop
    local.get $i
    local.get $n
    i32.ge_u
    br_if 1
    local.get $s
    local.get $i
    i64.extend_i32_u
    i64.add
    local.set $s
    local.get $i
    i32.const 1
    i32.add
    local.set $i
    br 0
  end
  end
  local.get $s))
