;; A version whose on_reload self-check passes when the state it got is not the initial one.
;; Otherwise it is enemy_v1 (see there), answering version() = 8.
(module
  (memory (export "memory") 1)
  (global $hp (mut i32) (i32.const 100))
  (global $shots (mut i32) (i32.const 0))

  (func (export "update") (param $dt f32)
    global.get $hp
    i32.const 1
    i32.sub
    global.set $hp)

  (func (export "fire")
    global.get $shots
    i32.const 1
    i32.add
    global.set $shots)

  ;; on_reload returns 0 (pass) when migration gave it a non-initial hp.
  (func (export "on_reload") (result i32)
    global.get $hp
    i32.const 100
    i32.eq)
  (func (export "hp") (result i32) global.get $hp)
  (func (export "shots") (result i32) global.get $shots)
  (func (export "version") (result i32) i32.const 8)

  ;; alloc hands out the buffer at 1024; documents are small.
  (func (export "alloc") (param i32) (result i32) i32.const 1024)

  ;; put3 writes v (0..999) right-aligned in three characters at p, padded with
  ;; spaces: JSON allows whitespace before a number but not leading zeros.
  (func $put3 (param $p i32) (param $v i32)
    local.get $p
    local.get $v
    i32.const 100
    i32.div_u
    i32.const 48
    i32.add
    i32.const 32
    local.get $v
    i32.const 100
    i32.ge_u
    select
    i32.store8
    local.get $p
    local.get $v
    i32.const 10
    i32.div_u
    i32.const 10
    i32.rem_u
    i32.const 48
    i32.add
    i32.const 32
    local.get $v
    i32.const 10
    i32.ge_u
    select
    i32.store8 offset=1
    local.get $p
    local.get $v
    i32.const 10
    i32.rem_u
    i32.const 48
    i32.add
    i32.store8 offset=2)

  ;; digit is the value of a character put3 wrote (a space is 0).
  (func $digit (param $c i32) (result i32)
    local.get $c
    i32.const 48
    i32.sub
    i32.const 0
    local.get $c
    i32.const 32
    i32.ne
    select)

  ;; get3 reads three characters written by put3 at p.
  (func $get3 (param $p i32) (result i32)
    local.get $p
    i32.load8_u
    call $digit
    i32.const 100
    i32.mul
    local.get $p
    i32.load8_u offset=1
    call $digit
    i32.const 10
    i32.mul
    i32.add
    local.get $p
    i32.load8_u offset=2
    call $digit
    i32.add)

  (data (i32.const 2048) "{\"hp\":  0,\"shots\":  0}")

  (func (export "get_state") (result i32 i32)
    i32.const 2054
    global.get $hp
    call $put3
    i32.const 2066
    global.get $shots
    call $put3
    i32.const 2048
    i32.const 22)

  ;; set_state expects exactly the layout get_state writes, and returns 0:
  ;; success, as C's int functions report it.
  (func (export "set_state") (param $p i32) (param $n i32) (result i32)
    local.get $n
    i32.const 22
    i32.ne
    (if (then unreachable))
    local.get $p
    i32.const 6
    i32.add
    call $get3
    global.set $hp
    local.get $p
    i32.const 18
    i32.add
    call $get3
    global.set $shots
    i32.const 0))
