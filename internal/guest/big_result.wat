;; Builds a large JSON document, "[0,0,...,0]", in few instructions (memory.copy
;; doubling it), and returns it as a (ptr, len) result in two: a result whose
;; checking costs the host far more than the guest's code that made it.
(module
  (memory (export "memory") 64)
  (global $len (mut i32) (i32.const 0))

  ;; build(k): the document of k/2 zeros (k a power of two, at least 2, under 4 MiB).
  (func (export "build") (param $k i32)
    (local $have i32)
    (i32.store8 (i32.const 0) (i32.const 91))      ;; [
    (i32.store16 (i32.const 1) (i32.const 0x2c30)) ;; "0,"
    (local.set $have (i32.const 2))
    (block $done
      (loop $double
        (br_if $done (i32.ge_u (local.get $have) (local.get $k)))
        (memory.copy (i32.add (i32.const 1) (local.get $have)) (i32.const 1) (local.get $have))
        (local.set $have (i32.shl (local.get $have) (i32.const 1)))
        (br $double)))
    (i32.store8 (local.get $have) (i32.const 93))  ;; ] over the last ","
    (global.set $len (i32.add (local.get $have) (i32.const 1))))

  (func (export "get") (result i32 i32)
    (i32.const 0)
    (global.get $len)))
