;; Structured control flow: every branch form, multi-value block types,
;; loops with parameters, dead code, branches to the function label.
(module
  (memory (export "memory") 1)

  (func (export "classify") (param $x i32) (result i32)
    (if (result i32) (i32.lt_s (local.get $x) (i32.const 0))
      (then (i32.const -1))
      (else
        (if (result i32) (i32.eqz (local.get $x))
          (then (i32.const 0))
          (else (i32.const 1))))))

  ;; br_table over blocks without values.
  (func (export "switch") (param $x i32) (result i32)
    (local $r i32)
    block $out
      block $c
        block $b
          block $a
            local.get $x
            br_table $a $b $c $out
          end
          i32.const 10
          local.set $r
          br $out
        end
        i32.const 20
        local.set $r
        br $out
      end
      i32.const 30
      local.set $r
    end
    local.get $r
    i32.const 1
    i32.add)

  ;; br_table carrying a value, one target being the function label.
  (func (export "table_ret") (param $x i32) (result i32)
    block $b (result i32)
      block $a (result i32)
        i32.const 7
        local.get $x
        br_table $a $b 2 $a
      end
      i32.const 10
      i32.add
    end
    i32.const 100
    i32.add)

  ;; br_if to the function label with a value.
  (func (export "early") (param $x i32) (result i32)
    local.get $x
    local.get $x
    i32.const 10
    i32.gt_s
    br_if 0
    drop
    i32.const -5)

  ;; A loop with parameters and a result (a type-index block type).
  (func (export "loop_params") (param $n i32) (result i32)
    (local $c i32)
    i32.const 0
    local.get $n
    i32.const 15
    i32.and
    i32.const 1
    i32.add
    loop $l (param i32 i32) (result i32)
      local.tee $c
      i32.add
      local.get $c
      i32.const 1
      i32.sub
      local.tee $c
      local.get $c
      br_if $l
      drop
    end)

  ;; Blocks and ifs with several results and with parameters.
  (func (export "multi") (param $x i32) (result i32)
    block (result i32 i32)
      local.get $x
      i32.const 2
    end
    i32.mul
    local.get $x
    if (param i32) (result i32 i32)
      i32.const 3
    else
      i32.const 5
    end
    i32.sub)

  ;; Nested loops, break out of the inner one, continue the outer one.
  (func (export "nested") (param $n i32) (result i32)
    (local $i i32) (local $j i32) (local $acc i32)
    local.get $n
    i32.const 7
    i32.and
    local.set $n
    loop $outer
      i32.const 0
      local.set $j
      block $brk
        loop $inner
          local.get $j
          local.get $i
          i32.gt_u
          br_if $brk
          local.get $acc
          local.get $i
          local.get $j
          i32.mul
          i32.add
          local.set $acc
          local.get $j
          i32.const 1
          i32.add
          local.set $j
          br $inner
        end
      end
      local.get $i
      i32.const 1
      i32.add
      local.tee $i
      local.get $n
      i32.le_u
      br_if $outer
    end
    local.get $acc)

  ;; Dead code after br, return and unreachable, including a dead call and
  ;; a dead loop.
  (func $helper (param i32) (result i32)
    local.get 0
    i32.const 1
    i32.add)
  (func (export "dead") (param $x i32) (result i32)
    block $b (result i32)
      local.get $x
      br $b
      call $helper
      loop $dl
        br $dl
      end
      unreachable
    end
    local.get $x
    i32.const 5
    i32.gt_s
    if
      i32.const 50
      return
      drop
    end
    call $helper)

  ;; An if whose arms both leave, and an if with no else.
  (func (export "arms") (param $x i32) (result i32)
    block $b
      local.get $x
      i32.const 1
      i32.and
      if
        br $b
      else
        local.get $x
        i32.const 2
        i32.and
        if
          i32.const 2
          return
        end
        br $b
      end
      unreachable
    end
    local.get $x
    i32.const 4
    i32.and
    if
      i32.const 4
      i32.const 0
      i32.store
    end
    i32.const 4
    i32.load)

  ;; select, typed select, nop, drop, and a trap.
  (func (export "selects") (param $x i32) (result i64)
    nop
    i64.const 11
    i64.const 22
    local.get $x
    select
    i64.const 33
    local.get $x
    i32.const 2
    i32.and
    select (result i64)
    i32.const 9
    drop)

  (func (export "divide") (param $x i32) (param $y i32) (result i32)
    local.get $x
    local.get $y
    i32.div_s)

  (func (export "trap") (param $x i32) (result i32)
    local.get $x
    i32.const 3
    i32.gt_u
    if
      unreachable
    end
    local.get $x)

  ;; br_table whose targets are a loop header and the block around it.
  (func (export "table_loop") (param $n i32) (result i32)
    (local $acc i32)
    local.get $n
    i32.const 15
    i32.and
    local.set $n
    block $done
      loop $l
        local.get $acc
        local.get $n
        i32.add
        local.set $acc
        local.get $n
        i32.const 1
        i32.sub
        local.tee $n
        i32.const 0
        i32.gt_s
        br_table $done $l
      end
    end
    local.get $acc)

  ;; A loop with a single result, left by falling through.
  (func (export "loop_result") (param $n i32) (result i32)
    loop $l (result i32)
      local.get $n
      i32.const 1
      i32.sub
      local.tee $n
      i32.const 0
      i32.gt_s
      br_if $l
      local.get $n
    end))
