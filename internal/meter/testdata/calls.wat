;; Calls and function references: imported functions before the defined
;; ones, call, call_indirect over two tables, return_call and
;; return_call_indirect, ref.func, every form of element segment, and the
;; table instructions. (wat2wasm --enable-all types ref.func as a typed
;; reference that funcref slots reject, so ref.func only reaches ref.is_null
;; here; refs_test.go covers ref.func in globals and tables.)
(module
  (import "env" "add" (func $env_add (param i32 i32) (result i32)))
  (import "env" "g" (global $g i32))
  (type $i2i (func (param i32) (result i32)))
  (table $t 10 funcref)
  (table $t2 4 funcref)
  (table $t3 1 funcref)
  (memory (export "memory") 1)
  (global $fr (mut funcref) (ref.null func))
  (global $cnt (export "cnt") (mut i32) (i32.const 0))

  (func $double (type $i2i) (i32.mul (local.get 0) (i32.const 2)))
  (func $inc (type $i2i) (i32.add (local.get 0) (i32.const 1)))
  (func $sq (type $i2i) (i32.mul (local.get 0) (local.get 0)))
  (func $neg (type $i2i) (i32.sub (i32.const 0) (local.get 0)))

  (elem (i32.const 0) $double $inc)
  (elem $p1 func $sq $neg)
  (elem (table $t2) (i32.const 0) func $inc $sq)
  (elem declare func $neg)
  (elem (i32.const 2) funcref (ref.func $sq) (ref.null func))
  (elem $p5 funcref (ref.func $double) (ref.func $neg) (ref.null func))
  (elem (table $t2) (i32.const 2) funcref (ref.func $neg) (ref.null func))
  (elem declare funcref (ref.func $inc) (ref.null func))
  (elem (table $t3) (i32.const 0) func $even)

  (func (export "call_direct") (param i32) (result i32)
    (global.set $cnt (i32.add (global.get $cnt) (i32.const 1)))
    (call $env_add (call $double (local.get 0)) (global.get $g)))

  (func (export "call_ind") (param $i i32) (param $x i32) (result i32)
    (call_indirect $t (type $i2i) (local.get $x) (i32.rem_u (local.get $i) (i32.const 10))))

  (func (export "call_ind2") (param $i i32) (param $x i32) (result i32)
    (call_indirect $t2 (type $i2i) (local.get $x) (i32.and (local.get $i) (i32.const 3))))

  (func (export "init_tables")
    (table.init $t $p1 (i32.const 4) (i32.const 0) (i32.const 2))
    (table.init $t $p5 (i32.const 6) (i32.const 0) (i32.const 3))
    (elem.drop $p1))

  (func (export "table_ops") (param $x i32) (result i32)
    (table.set $t (i32.const 3) (global.get $fr))
    (global.set $cnt (i32.add (global.get $cnt) (ref.is_null (ref.func $neg))))
    (drop (table.grow $t (table.get $t (i32.const 1)) (i32.const 2)))
    (table.fill $t (i32.const 8) (table.get $t (i32.const 0)) (i32.const 2))
    (table.copy $t2 $t (i32.const 1) (i32.const 0) (i32.const 2))
    (global.set $fr (table.get $t2 (i32.const 3)))
    (i32.add
      (i32.add (table.size $t) (ref.is_null (table.get $t (i32.const 9))))
      (call_indirect $t (type $i2i) (local.get $x) (i32.const 9))))

  (func $fact (export "fact") (param i32) (result i64)
    (if (result i64) (i32.le_s (local.get 0) (i32.const 1))
      (then (i64.const 1))
      (else
        (i64.mul
          (i64.extend_i32_s (local.get 0))
          (call $fact (i32.sub (local.get 0) (i32.const 1)))))))

  ;; Mutual recursion through return_call and return_call_indirect.
  (func $even (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 1))
      (else (return_call $odd (i32.sub (local.get 0) (i32.const 1))))))
  (func $odd (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else
        (return_call_indirect $t3 (type $i2i)
          (i32.sub (local.get 0) (i32.const 1)) (i32.const 0)))))

  (func (export "parity") (param i32) (result i32)
    (call $even (i32.and (local.get 0) (i32.const 1023)))))
