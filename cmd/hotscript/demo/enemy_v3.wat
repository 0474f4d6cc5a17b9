;; enemy_v3.wat: version 3 of the demo's WASM script: runs 10 px per frame and adds
;; fire() -> i32, the x a shot leaves from.
;;
;; WASM state does not survive a reload by itself (globals and memory reset), so the
;; script exports get_state/set_state: the host reads the old instance's state as a JSON
;; document and hands it to the new instance before the swap.
;; Exports: update(f32), get_state() -> (ptr, len), set_state(ptr, len), alloc(len) -> ptr,
;; version() -> i32, memory.
(module
  (memory (export "memory") 1)
  (global $frames (mut i32) (i32.const 0))
  (global $x (mut i32) (i32.const 0))
  (global $hp (mut i32) (i32.const 100))

  ;; Keys looked up by set_state, and the JSON written by get_state.
  (data (i32.const 256) "\"frames\"")  ;; 256, 8 bytes
  (data (i32.const 272) "\"x\"")       ;; 272, 3 bytes
  (data (i32.const 288) "\"hp\"")      ;; 288, 4 bytes
  (data (i32.const 304) "{\"frames\":") ;; 304, 10 bytes
  (data (i32.const 320) ",\"x\":")     ;; 320, 5 bytes
  (data (i32.const 336) ",\"hp\":")    ;; 336, 6 bytes

  (func (export "version") (result i32) (i32.const 3))

  (func (export "update") (param $dt f32)
    (global.set $frames (i32.add (global.get $frames) (i32.const 1)))
    (global.set $x (i32.add (global.get $x) (i32.const 10))))

  (func (export "fire") (result i32) (global.get $x))

  ;; alloc hands out one fixed 4 KiB input buffer: set_state is the only reader.
  (func (export "alloc") (param $len i32) (result i32)
    (if (i32.gt_u (local.get $len) (i32.const 4096)) (then unreachable))
    (i32.const 1024))

  (func (export "get_state") (result i32 i32)
    (local $p i32)
    (local.set $p (call $put (i32.const 8192) (i32.const 304) (i32.const 10)))
    (local.set $p (call $put_int (local.get $p) (global.get $frames)))
    (local.set $p (call $put (local.get $p) (i32.const 320) (i32.const 5)))
    (local.set $p (call $put_int (local.get $p) (global.get $x)))
    (local.set $p (call $put (local.get $p) (i32.const 336) (i32.const 6)))
    (local.set $p (call $put_int (local.get $p) (global.get $hp)))
    (i32.store8 (local.get $p) (i32.const 125)) ;; '}'
    (i32.const 8192)
    (i32.sub (i32.add (local.get $p) (i32.const 1)) (i32.const 8192)))

  (func (export "set_state") (param $ptr i32) (param $len i32)
    (global.set $frames (call $int_at (local.get $ptr) (local.get $len) (i32.const 256) (i32.const 8) (global.get $frames)))
    (global.set $x (call $int_at (local.get $ptr) (local.get $len) (i32.const 272) (i32.const 3) (global.get $x)))
    (global.set $hp (call $int_at (local.get $ptr) (local.get $len) (i32.const 288) (i32.const 4) (global.get $hp))))

  ;; put copies n bytes from src to dst and returns dst+n.
  (func $put (param $dst i32) (param $src i32) (param $n i32) (result i32)
    (memory.copy (local.get $dst) (local.get $src) (local.get $n))
    (i32.add (local.get $dst) (local.get $n)))

  ;; put_int writes v in decimal at dst and returns the end.
  (func $put_int (param $dst i32) (param $v i32) (result i32)
    (local $n i32) (local $end i32) (local $i i32)
    (if (i32.lt_s (local.get $v) (i32.const 0))
      (then
        (i32.store8 (local.get $dst) (i32.const 45)) ;; '-'
        (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
        (local.set $v (i32.sub (i32.const 0) (local.get $v)))))
    ;; count digits
    (local.set $n (local.get $v))
    (local.set $end (i32.add (local.get $dst) (i32.const 1)))
    (block $done
      (loop $count
        (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $end (i32.add (local.get $end) (i32.const 1)))
        (br $count)))
    ;; write digits backwards
    (local.set $i (local.get $end))
    (loop $write
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (i32.store8 (local.get $i)
        (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $write (i32.gt_u (local.get $i) (local.get $dst))))
    (local.get $end))

  ;; int_at finds the quoted key in doc[ptr:ptr+len] and parses the integer after its
  ;; colon; it returns def when the key is absent or not followed by a number.
  (func $int_at (param $ptr i32) (param $len i32) (param $key i32) (param $klen i32) (param $def i32) (result i32)
    (local $i i32) (local $end i32) (local $j i32) (local $v i32) (local $neg i32) (local $c i32) (local $any i32)
    (local.set $end (i32.add (local.get $ptr) (local.get $len)))
    (local.set $i (local.get $ptr))
    (block $notfound
      (loop $scan
        (br_if $notfound (i32.gt_u (i32.add (local.get $i) (local.get $klen)) (local.get $end)))
        ;; compare key at i
        (local.set $j (i32.const 0))
        (block $mismatch
          (loop $cmp
            (br_if $mismatch (i32.ne
              (i32.load8_u (i32.add (local.get $i) (local.get $j)))
              (i32.load8_u (i32.add (local.get $key) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_if $cmp (i32.lt_u (local.get $j) (local.get $klen))))
          ;; matched: skip spaces and the colon
          (local.set $i (i32.add (local.get $i) (local.get $klen)))
          (block $skipped
            (loop $skip
              (br_if $skipped (i32.ge_u (local.get $i) (local.get $end)))
              (local.set $c (i32.load8_u (local.get $i)))
              (br_if $skipped (i32.eqz (i32.or
                (i32.or (i32.eq (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 58)))
                (i32.or (i32.eq (local.get $c) (i32.const 9)) (i32.eq (local.get $c) (i32.const 10))))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $skip)))
          (if (i32.lt_u (local.get $i) (local.get $end))
            (then (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 45))
              (then
                (local.set $neg (i32.const 1))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))))))
          (block $digits
            (loop $digit
              (br_if $digits (i32.ge_u (local.get $i) (local.get $end)))
              (local.set $c (i32.sub (i32.load8_u (local.get $i)) (i32.const 48)))
              (br_if $digits (i32.gt_u (local.get $c) (i32.const 9)))
              (local.set $v (i32.add (i32.mul (local.get $v) (i32.const 10)) (local.get $c)))
              (local.set $any (i32.const 1))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $digit)))
          (if (i32.eqz (local.get $any)) (then (return (local.get $def))))
          (if (local.get $neg) (then (return (i32.sub (i32.const 0) (local.get $v)))))
          (return (local.get $v)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))
    (local.get $def))
)
