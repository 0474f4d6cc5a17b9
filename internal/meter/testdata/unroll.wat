;; Loop shapes for unrolling (unroll.go): which loops are copied, and that
;; copies compute and charge exactly what the loop did. Counts are masked so
;; that any input ends quickly. TestUnrollWhichLoops expects 6 unrolled loops:
;; one each in while, continue, dowhile, dowhilecall, nest (the inner loop) and
;; params.
(module
  (memory (export "memory") 1)
  (global $calls (export "calls") (mut i32) (i32.const 0))

  (func $tick (result i32)
    global.get $calls
    i32.const 1
    i32.add
    global.set $calls
    global.get $calls)

  ;; A while loop: test, body, br 0. Unrolled.
  (func (export "while") (param $n i32) (result i32)
    (local $i i32) (local $s i32)
    (local.set $n (i32.and (local.get $n) (i32.const 0xfff)))
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $s (i32.add (local.get $s) (i32.mul (local.get $i) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br 0)))
    (local.get $s))

  ;; A while loop with a continue in the middle and a call: unrolled, the
  ;; continue still going to the header.
  (func (export "continue") (param $n i32) (result i32)
    (local $i i32) (local $s i32)
    (local.set $n (i32.and (local.get $n) (i32.const 0xfff)))
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if 0 (i32.and (local.get $i) (i32.const 3)))
      (local.set $s (i32.add (local.get $s) (call $tick)))
      (i32.store (i32.and (local.get $i) (i32.const 0xfc)) (local.get $s))
      (br 0)))
    (local.get $s))

  ;; A do-while loop, ending in br_if 0: unrolled, each copy but the last in a
  ;; block its br_if goes on from.
  (func (export "dowhile") (param $n i32) (result i32)
    (local $s i32)
    (local.set $n (i32.and (local.get $n) (i32.const 0xfff)))
    (loop
      (local.set $s (i32.xor (local.get $s) (local.get $n)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if 0 (i32.gt_s (local.get $n) (i32.const 0))))
    (local.get $s))

;; A do-while loop that calls: unrolled, but each copy charges for itself,
  ;; since the callee sees the fuel.
  (func (export "dowhilecall") (param $n i32) (result i32)
    (local $s i32)
    (local.set $n (i32.and (local.get $n) (i32.const 0xfff)))
    (loop
      (local.set $s (i32.add (local.get $s) (call $tick)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if 0 (i32.gt_s (local.get $n) (i32.const 0))))
    (local.get $s))

    ;; Nested while loops: the inner one is unrolled, the outer one not.
  (func (export "nest") (param $n i32) (result i32)
    (local $i i32) (local $j i32) (local $s i32)
    (local.set $n (i32.and (local.get $n) (i32.const 0x3f)))
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $j (i32.const 0))
      (block (loop
        (br_if 1 (i32.ge_u (local.get $j) (local.get $i)))
        (local.set $s (i32.add (local.get $s) (i32.xor (local.get $i) (local.get $j))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br 0)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br 0)))
    (local.get $s))

  ;; The back edge inside a block, not at the loop's top level: not unrolled.
  (func (export "inblock") (param $n i32) (result i32)
    (local $s i32)
    (local.set $n (i32.and (local.get $n) (i32.const 0xfff)))
    (block (loop
      (br_if 1 (i32.eqz (local.get $n)))
      (block
        (local.set $s (i32.add (local.get $s) (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br 1))))
    (local.get $s))

  ;; A loop with a parameter and a result, the running values on the stack:
  ;; unrolled, each copy taking what the last one left.
  (func (export "params") (param $n i32) (result i32)
    (local.set $n (i32.and (local.get $n) (i32.const 0xfff)))
    (i32.const 0)
    (loop $l (param i32) (result i32)
      (local.get $n)
      (i32.add)
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if 1 (i32.le_s (local.get $n) (i32.const 0)))
      (br $l))))
