;; Loops with known costs: the benchmark's sum loop, and functions whose
;; fuel is derived by hand in fuel_test.go. Counts are masked to 24 bits so
;; that any input ends quickly.
(module
  ;; cost 3: local.get, i32.const, i32.add
  (func (export "add3") (param $x i32) (result i32)
    local.get $x
    i32.const 3
    i32.add)

  ;; cost 9n+9; see TestFuelPinned.
  (func (export "count") (param $n i32) (result i32)
    (local $i i32)
    local.get $n
    i32.const 0xffffff
    i32.and
    local.set $n
    block
      loop
        local.get $i
        local.get $n
        i32.ge_u
        br_if 1
        local.get $i
        i32.const 1
        i32.add
        local.set $i
        br 0
      end
    end
    local.get $i)

  ;; The sum of 0..n-1 as an i64: the benchmark loop.
  (func (export "sum") (param $n i32) (result i64)
    (local $i i32) (local $s i64)
    local.get $n
    i32.const 0xffffff
    i32.and
    local.set $n
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
    local.get $s)

  ;; n iterations of a 5-instruction body (plus the loop test).
  (func (export "work5") (param $n i32) (result i32)
    (local $a i32)
    loop
      local.get $a
      i32.const 3
      i32.xor
      local.set $a
      local.get $n
      i32.const 1
      i32.sub
      local.tee $n
      i32.const 0
      i32.gt_s
      br_if 0
    end
    local.get $a)

  ;; n iterations of a 50-instruction body (plus the same loop test).
  (func (export "work50") (param $n i32) (result i32)
    (local $a i32)
    loop
      local.get $a i32.const 3 i32.xor local.set $a
      local.get $a i32.const 5 i32.add local.set $a
      local.get $a i32.const 7 i32.mul local.set $a
      local.get $a i32.const 11 i32.rotl local.set $a
      local.get $a i32.const 13 i32.xor local.set $a
      local.get $a i32.const 17 i32.add local.set $a
      local.get $a i32.const 19 i32.mul local.set $a
      local.get $a i32.const 23 i32.rotl local.set $a
      local.get $a i32.const 29 i32.xor local.set $a
      local.get $a i32.const 31 i32.add local.set $a
      local.get $a i32.const 37 i32.mul local.set $a
      local.get $a i32.const 41 i32.rotl local.set $a
      local.get $a i32.const 43 i32.xor
      nop
      local.set $a
      local.get $n
      i32.const 1
      i32.sub
      local.tee $n
      i32.const 0
      i32.gt_s
      br_if 0
    end
    local.get $a))
