;; Memory instructions: every load and store width, memory.size and
;; memory.grow against a declared maximum, bulk memory with active and
;; passive data, and out-of-bounds traps.
(module
  (memory (export "memory") 1 3)
  (data (i32.const 16) "hello, world")
  (data $pass "passive-data-0123456789")

  (func (export "loads") (param $a i32) (result i64)
    (local $p i32)
    (local.set $p (i32.and (local.get $a) (i32.const 255)))
    (i64.add
      (i64.add
        (i64.add
          (i64.extend_i32_u (i32.load offset=3 (local.get $p)))
          (i64.load offset=5 align=1 (local.get $p)))
        (i64.add
          (i64.reinterpret_f64 (f64.load offset=1 (local.get $p)))
          (i64.extend_i32_s (i32.reinterpret_f32 (f32.load (local.get $p))))))
      (i64.add
        (i64.add
          (i64.extend_i32_s
            (i32.add
              (i32.add (i32.load8_s (local.get $p)) (i32.load8_u offset=1 (local.get $p)))
              (i32.add (i32.load16_s offset=2 (local.get $p)) (i32.load16_u offset=3 align=1 (local.get $p)))))
          (i64.add (i64.load8_s offset=4 (local.get $p)) (i64.load8_u offset=5 (local.get $p))))
        (i64.add
          (i64.add (i64.load16_s offset=6 (local.get $p)) (i64.load16_u offset=7 (local.get $p)))
          (i64.add (i64.load32_s offset=8 (local.get $p)) (i64.load32_u offset=9 (local.get $p)))))))

  (func (export "stores") (param $a i32) (param $v i64)
    (local $p i32)
    (local.set $p (i32.add (i32.const 1024) (i32.and (local.get $a) (i32.const 255))))
    (i32.store (local.get $p) (i32.wrap_i64 (local.get $v)))
    (i64.store offset=4 (local.get $p) (local.get $v))
    (f32.store offset=12 (local.get $p) (f32.convert_i64_s (local.get $v)))
    (f64.store offset=16 align=4 (local.get $p) (f64.convert_i64_u (local.get $v)))
    (i32.store8 offset=24 (local.get $p) (i32.wrap_i64 (local.get $v)))
    (i32.store16 offset=25 (local.get $p) (i32.wrap_i64 (local.get $v)))
    (i64.store8 offset=27 (local.get $p) (local.get $v))
    (i64.store16 offset=28 (local.get $p) (local.get $v))
    (i64.store32 offset=30 (local.get $p) (local.get $v)))

  (func (export "grow") (param $n i32) (result i32)
    (memory.grow (i32.and (local.get $n) (i32.const 3))))

  (func (export "size") (result i32)
    memory.size)

  ;; memory.init traps once data.drop ran, unless the length is zero.
  (func (export "bulk") (param $n i32)
    (memory.init $pass (i32.const 100) (i32.const 0) (i32.and (local.get $n) (i32.const 15)))
    (memory.copy (i32.const 200) (i32.const 100) (i32.const 16))
    (memory.fill (i32.const 300) (local.get $n) (i32.const 32))
    (if (i32.gt_u (local.get $n) (i32.const 50))
      (then (data.drop $pass))))

  ;; A bulk copy whose length makes the dynamic charge count.
  (func (export "big_copy") (param $n i32)
    (memory.copy (i32.const 4096) (i32.const 0) (i32.and (local.get $n) (i32.const 32767))))

  (func (export "oob") (param $a i32) (result i32)
    (i32.load (local.get $a)))

  (func (export "oob_fill") (param $n i32)
    (memory.fill (i32.const 65000) (i32.const 7) (local.get $n))))
