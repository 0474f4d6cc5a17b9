;; SIMD: every immediate shape of the 0xfd prefix (memarg, memarg and lane,
;; lane, v128.const, i8x16.shuffle) and a spread of the plain operations.
;; Results go to memory so the differential test compares all of them.
(module
  (memory (export "memory") 1)
  (data (i32.const 0) "\00\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\10\11\12\13\14\15\16\17\18\19\1a\1b\1c\1d\1e\1f")
  (global $k v128 (v128.const i32x4 1 2 3 4))

  (func (export "simd") (param $x i64) (result i64)
    (local $v v128) (local $w v128)
    (local.set $v (i64x2.replace_lane 1 (i64x2.splat (local.get $x)) (i64.const 0x0102030405060708)))
    (local.set $w (v128.const i8x16 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16))
    ;; loads
    (v128.store offset=256 (i32.const 0) (v128.load (i32.const 0)))
    (v128.store offset=272 (i32.const 0) (v128.load8x8_s (i32.const 1)))
    (v128.store offset=288 (i32.const 0) (v128.load8x8_u (i32.const 2)))
    (v128.store offset=304 (i32.const 0) (v128.load16x4_s (i32.const 3)))
    (v128.store offset=320 (i32.const 0) (v128.load16x4_u (i32.const 4)))
    (v128.store offset=336 (i32.const 0) (v128.load32x2_s (i32.const 5)))
    (v128.store offset=352 (i32.const 0) (v128.load32x2_u (i32.const 6)))
    (v128.store offset=368 (i32.const 0) (v128.load8_splat (i32.const 7)))
    (v128.store offset=384 (i32.const 0) (v128.load16_splat (i32.const 8)))
    (v128.store offset=400 (i32.const 0) (v128.load32_splat (i32.const 9)))
    (v128.store offset=416 (i32.const 0) (v128.load64_splat (i32.const 10)))
    (v128.store offset=432 (i32.const 0) (v128.load32_zero (i32.const 11)))
    (v128.store offset=448 (i32.const 0) (v128.load64_zero (i32.const 12)))
    (v128.store offset=464 (i32.const 0) (v128.load8_lane 3 (i32.const 13) (local.get $v)))
    (v128.store offset=480 (i32.const 0) (v128.load16_lane 2 (i32.const 14) (local.get $v)))
    (v128.store offset=496 (i32.const 0) (v128.load32_lane 1 (i32.const 15) (local.get $v)))
    (v128.store offset=512 (i32.const 0) (v128.load64_lane 1 (i32.const 16) (local.get $v)))
    (v128.store8_lane 5 (i32.const 528) (local.get $v))
    (v128.store16_lane 3 (i32.const 530) (local.get $v))
    (v128.store32_lane 2 (i32.const 532) (local.get $v))
    (v128.store64_lane 1 (i32.const 536) (local.get $v))
    ;; shuffles, lanes, splats
    (v128.store (i32.const 544) (i8x16.shuffle 0 17 2 19 4 21 6 23 8 25 10 27 12 29 14 31 (local.get $v) (local.get $w)))
    (v128.store (i32.const 560) (i8x16.swizzle (local.get $v) (local.get $w)))
    (v128.store (i32.const 576)
      (i8x16.replace_lane 0
        (i16x8.replace_lane 1
          (i32x4.replace_lane 2
            (f32x4.replace_lane 3
              (f64x2.replace_lane 0 (local.get $v) (f64.const 1.5))
              (f32.const -2.25))
            (i32.const 77))
          (i32.const 0x1234))
        (i32.add
          (i32.add (i8x16.extract_lane_s 1 (local.get $v)) (i8x16.extract_lane_u 2 (local.get $v)))
          (i32.add (i16x8.extract_lane_s 3 (local.get $v)) (i16x8.extract_lane_u 4 (local.get $v))))))
    (v128.store (i32.const 592)
      (f64x2.splat
        (f64.add
          (f64.promote_f32 (f32x4.extract_lane 1 (local.get $w)))
          (f64x2.extract_lane 1 (local.get $v)))))
    (v128.store (i32.const 608)
      (i32x4.add (i8x16.splat (i32.const 3)) (i16x8.splat (i32x4.extract_lane 0 (local.get $v)))))
    (v128.store (i32.const 624) (f32x4.splat (f32.const 0.5)))
    ;; integer arithmetic and comparisons
    (v128.store (i32.const 640) (i8x16.add_sat_u (local.get $v) (local.get $w)))
    (v128.store (i32.const 656) (i16x8.mul (local.get $v) (local.get $w)))
    (v128.store (i32.const 672) (i32x4.dot_i16x8_s (local.get $v) (local.get $w)))
    (v128.store (i32.const 688) (i64x2.mul (local.get $v) (local.get $w)))
    (v128.store (i32.const 704) (i8x16.eq (local.get $v) (local.get $w)))
    (v128.store (i32.const 720) (i32x4.gt_s (local.get $v) (local.get $w)))
    (v128.store (i32.const 736) (i64x2.le_s (local.get $v) (local.get $w)))
    (v128.store (i32.const 752) (i16x8.q15mulr_sat_s (local.get $v) (local.get $w)))
    (v128.store (i32.const 768) (i8x16.narrow_i16x8_u (local.get $v) (local.get $w)))
    (v128.store (i32.const 784) (i32x4.extmul_high_i16x8_u (local.get $v) (local.get $w)))
    (v128.store (i32.const 800) (i16x8.extadd_pairwise_i8x16_s (local.get $v)))
    (v128.store (i32.const 816) (i8x16.popcnt (local.get $v)))
    (v128.store (i32.const 832) (i8x16.shl (local.get $v) (i32.const 3)))
    (v128.store (i32.const 848) (i64x2.shr_s (local.get $v) (i32.const 7)))
    (v128.store (i32.const 864) (i8x16.avgr_u (local.get $v) (local.get $w)))
    (v128.store (i32.const 880) (i32x4.min_u (local.get $v) (local.get $w)))
    (v128.store (i32.const 896) (i64x2.extend_high_i32x4_s (local.get $v)))
    ;; bitwise
    (v128.store (i32.const 912)
      (v128.bitselect (local.get $v) (local.get $w) (v128.xor (v128.and (local.get $v) (global.get $k)) (v128.or (local.get $w) (v128.not (local.get $v))))))
    (v128.store (i32.const 928) (v128.andnot (local.get $v) (local.get $w)))
    ;; floating point and conversions
    (v128.store (i32.const 944) (f32x4.mul (f32x4.convert_i32x4_s (local.get $w)) (f32x4.sqrt (f32x4.abs (f32x4.convert_i32x4_u (local.get $v))))))
    (v128.store (i32.const 960) (f64x2.nearest (f64x2.div (f64x2.convert_low_i32x4_s (local.get $v)) (f64x2.splat (f64.const 3)))))
    (v128.store (i32.const 976) (i32x4.trunc_sat_f32x4_s (f32x4.pmin (f32x4.ceil (f32x4.convert_i32x4_s (local.get $v))) (f32x4.floor (f32x4.convert_i32x4_s (local.get $w))))))
    (v128.store (i32.const 992) (i32x4.trunc_sat_f64x2_u_zero (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero (f64x2.convert_low_i32x4_u (local.get $w))))))
    (v128.store (i32.const 1008) (f64x2.pmax (f64x2.trunc (f64x2.splat (f64.convert_i64_s (local.get $x)))) (f64x2.neg (f64x2.splat (f64.const 2.5)))))
    (i64.add
      (i64.add
        (i64.extend_i32_u (i8x16.bitmask (local.get $v)))
        (i64.extend_i32_u (i32x4.all_true (local.get $w))))
      (i64.add
        (i64.extend_i32_u (v128.any_true (local.get $v)))
        (i64x2.extract_lane 0 (i64x2.abs (i64x2.neg (local.get $v))))))))
