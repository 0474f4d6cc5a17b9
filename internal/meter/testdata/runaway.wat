;; Code that never ends. Each must be stopped by the fuel check.
(module
  (type $v2v (func))
  (type $i2i (func (param i32) (result i32)))
  (table 2 funcref)
  (elem (i32.const 0) $ping $pong)

  (func (export "spin")
    loop
      br 0
    end)

  (func (export "spin_nested") (param $x i32)
    loop $l
      block
        local.get $x
        if
          br $l
        end
        local.get $x
        i32.const 1
        i32.add
        local.set $x
        br $l
      end
    end)

  ;; A loop with parameters that never exits.
  (func (export "spin_params") (result i32)
    i32.const 0
    loop $l (param i32) (result i32)
      i32.const 1
      i32.add
      br $l
    end)

  (func $forever (export "recurse") (param $n i32) (result i32)
    (i32.add (call $forever (i32.add (local.get $n) (i32.const 1))) (i32.const 1)))

  ;; Mutual recursion through call_indirect, never returning.
  (func $ping (export "ping")
    (call_indirect (type $v2v) (i32.const 1)))
  (func $pong
    (call_indirect (type $v2v) (i32.const 0)))

  ;; Tail-call recursion keeps the stack flat: only fuel stops it.
  (func $tail (export "tail") (param $n i32) (result i32)
    (return_call $tail (i32.add (local.get $n) (i32.const 1)))))
