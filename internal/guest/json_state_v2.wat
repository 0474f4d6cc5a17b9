;; Version 2 of json_state: the same state API with a different default document,
;; for reload tests. Only what those tests need is here: see json_state.wat for the
;; layout.
(module
  (memory (export "memory") 2)
  (data (i32.const 1024) "{\"counter\":0,\"version\":2}")

  (global $state_ptr (mut i32) (i32.const 1024))
  (global $state_len (mut i32) (i32.const 25))
  (global $top (mut i32) (i32.const 65536))

  ;; alloc never grows memory: version 2 expects small documents (up to 64 KiB).
  (func (export "alloc") (param $len i32) (result i32)
    (local $ptr i32)
    global.get $top
    local.tee $ptr
    local.get $len
    i32.add
    i32.const 131072
    i32.gt_u
    (if (then unreachable))
    local.get $ptr
    local.get $len
    i32.add
    global.set $top
    local.get $ptr)

  (func (export "free") (param $ptr i32) (param $len i32)
    local.get $ptr
    local.get $len
    i32.add
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

  (func (export "version") (result i32)
    i32.const 2))
