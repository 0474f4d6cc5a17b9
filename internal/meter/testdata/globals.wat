;; Globals of every value type, initializers using extended constant
;; expressions, and a start function that runs at instantiation.
(module
  (import "env" "g" (global $a i32))
  (memory (export "memory") 1)
  (global $b i32 (i32.mul (i32.add (global.get $a) (i32.const 4)) (i32.const 3)))
  (global $c (export "c") (mut i64) (i64.sub (i64.const 100) (i64.const 1)))
  (global $d (export "d") (mut f32) (f32.const 1.25))
  (global $e (export "e") (mut f64) (f64.const -3.5))
  (global $v (mut v128) (v128.const i64x2 7 9))
  (global $r (mut externref) (ref.null extern))
  (global $f (mut funcref) (ref.null func))
  (global $started (export "started") (mut i32) (i32.const 0))

  (func $init
    (global.set $started (i32.add (global.get $b) (i32.const 1)))
    (i32.store (i32.const 8) (global.get $b)))
  (start $init)

  (func (export "bump") (param $x i32) (result i64)
    (global.set $c (i64.add (global.get $c) (i64.extend_i32_s (local.get $x))))
    (global.set $d (f32.mul (global.get $d) (f32.const 2)))
    (global.set $e (f64.add (global.get $e) (f64.convert_i32_s (local.get $x))))
    (global.set $v (i64x2.add (global.get $v) (i64x2.splat (global.get $c))))
    (global.set $r (global.get $r))
    (global.set $f (global.get $f))
    (i64.add (i64x2.extract_lane 1 (global.get $v)) (i64.extend_i32_u (ref.is_null (global.get $r))))))
