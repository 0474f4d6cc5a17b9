;; Threads: atomic loads, stores, read-modify-write, compare-exchange, wait,
;; notify and fence on a shared memory.
(module
  (memory (export "memory") 1 1 shared)

  (func (export "atomics") (param $v i32) (result i64)
    (local $p i32)
    (i32.atomic.store (i32.const 64) (local.get $v))
    (i64.atomic.store offset=8 (i32.const 64) (i64.extend_i32_u (local.get $v)))
    (i32.atomic.store8 (i32.const 80) (local.get $v))
    (i32.atomic.store16 (i32.const 82) (local.get $v))
    (i64.atomic.store32 (i32.const 84) (i64.const 5))
    (drop (i32.atomic.rmw.add (i32.const 64) (i32.const 3)))
    (drop (i64.atomic.rmw.sub offset=8 (i32.const 64) (i64.const 1)))
    (drop (i32.atomic.rmw8.and_u (i32.const 80) (i32.const 0x0f)))
    (drop (i32.atomic.rmw16.or_u (i32.const 82) (i32.const 0x100)))
    (drop (i64.atomic.rmw32.xor_u (i32.const 84) (i64.const 6)))
    (drop (i32.atomic.rmw.xchg (i32.const 88) (i32.const 9)))
    (drop (i32.atomic.rmw.cmpxchg (i32.const 88) (i32.const 9) (i32.const 10)))
    (drop (i64.atomic.rmw.cmpxchg (i32.const 96) (i64.const 0) (i64.const 77)))
    (atomic.fence)
    (local.set $p
      (i32.add
        (memory.atomic.notify (i32.const 64) (i32.const 1))
        (memory.atomic.wait32 (i32.const 64) (i32.const -1) (i64.const 0))))
    (i64.add
      (i64.extend_i32_u
        (i32.add
          (i32.add (i32.atomic.load (i32.const 64)) (i32.atomic.load8_u (i32.const 80)))
          (i32.add (i32.atomic.load16_u (i32.const 82)) (local.get $p))))
      (i64.add
        (i64.atomic.load offset=8 (i32.const 64))
        (i64.add (i64.atomic.load32_u (i32.const 84)) (i64.atomic.load (i32.const 96)))))))
