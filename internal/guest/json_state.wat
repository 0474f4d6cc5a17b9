;; A script that keeps its state as a JSON document, the founding document's
;; "get_state/set_state" best practice, plus traps and runaway code for error and
;; limit tests.
;;
;; Memory layout: page 0 holds constant data (from 1024) and the state buffer
;; (4096..65535); the heap starts at page 1. alloc is a bump allocator and free pops
;; the most recent block only, which is all a host that frees after every call needs.
;; The state is stored as the raw bytes the host gave: this module never parses JSON.
(module
  (memory (export "memory") 2)
  (data (i32.const 1024) "{\"counter\":0}")
  (data (i32.const 1100) "{not json")
  (data (i32.const 1200) "{\"id\":12345,\"name\":\"enemy\",\"hp\":96.5,\"pos\":[1.5,-2.25,3],\"alive\":true,\"tag\":124}")

  (global $state_ptr (mut i32) (i32.const 1024))
  (global $state_len (mut i32) (i32.const 13))
  (global $top (export "heap_top") (mut i32) (i32.const 65536))

  ;; alloc returns len bytes of heap, growing memory when needed.
  (func $alloc (export "alloc") (param $len i32) (result i32)
    (local $ptr i32) (local $end i32)
    global.get $top
    local.set $ptr
    ;; end = align8(ptr + len)
    local.get $ptr
    local.get $len
    i32.add
    i32.const 7
    i32.add
    i32.const -8
    i32.and
    local.set $end
    (block $fits
      local.get $end
      memory.size
      i32.const 16
      i32.shl
      i32.le_u
      br_if $fits
      ;; grow by the missing pages, rounded up
      local.get $end
      memory.size
      i32.const 16
      i32.shl
      i32.sub
      i32.const 65535
      i32.add
      i32.const 16
      i32.shr_u
      memory.grow
      i32.const -1
      i32.eq
      (if (then unreachable)))
    local.get $end
    global.set $top
    local.get $ptr)

  ;; free releases the block if it is the most recent one.
  (func (export "free") (param $ptr i32) (param $len i32)
    local.get $ptr
    local.get $len
    i32.add
    i32.const 7
    i32.add
    i32.const -8
    i32.and
    global.get $top
    i32.eq
    (if (then
      local.get $ptr
      global.set $top)))

  (func $set_state (export "set_state") (param $ptr i32) (param $len i32)
    local.get $len
    i32.const 61440
    i32.gt_u
    (if (then unreachable))
    i32.const 4096
    local.get $ptr
    local.get $len
    memory.copy
    i32.const 4096
    global.set $state_ptr
    local.get $len
    global.set $state_len)

  ;; init sets the initial state; it is set_state under the founding document's name.
  (func (export "init") (param i32 i32)
    local.get 0
    local.get 1
    call $set_state)

  (func (export "get_state") (result i32 i32)
    global.get $state_ptr
    global.get $state_len)

  (func (export "echo") (param i32 i32) (result i32 i32)
    local.get 0
    local.get 1)

;; reply answers any document with the same other 80-byte one, as an update
  ;; function answers a frame's input with its output.
  (func (export "reply") (param i32 i32) (result i32 i32)
    i32.const 1200
    i32.const 80)

  (func (export "bad_json") (result i32 i32)
    i32.const 1100
    i32.const 9)

  (func (export "bad_ptr") (result i32 i32)
    i32.const -256
    i32.const 10)

  (func (export "trap_unreachable")
    unreachable)

  (func (export "div") (param i32 i32) (result i32)
    local.get 0
    local.get 1
    i32.div_s)

  (func (export "oob") (result i32)
    i32.const -16
    i32.load)

  (func (export "forever")
    (loop $l
      br $l))

  ;; recurse never returns: the addition after the call keeps it from being a loop.
  (func $recurse (export "recurse") (param i32) (result i32)
    local.get 0
    i32.const 1
    i32.add
    call $recurse
    local.get 0
    i32.add)

  (func (export "version") (result i32)
    i32.const 1))
