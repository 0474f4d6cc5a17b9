;; alloc and free that fail on request, for the errors of CallJSON's JSON
;; arguments: fail(1) makes alloc trap, fail(2) makes free trap, fail(3) makes
;; alloc loop forever, fail(0) makes both work.
(module
  (memory (export "memory") 1)
  (global $mode (mut i32) (i32.const 0))

  (func (export "fail") (param $mode i32)
    local.get $mode
    global.set $mode)

  (func (export "alloc") (param i32) (result i32)
    global.get $mode
    i32.const 1
    i32.eq
    if
      unreachable
    end
    global.get $mode
    i32.const 3
    i32.eq
    if
      (loop $l
        br $l)
    end
    i32.const 1024)

  (func (export "free") (param i32 i32)
    global.get $mode
    i32.const 2
    i32.eq
    if
      unreachable
    end)

  ;; take returns the length of the document it was given.
  (func (export "take") (param i32 i32) (result i32)
    local.get 1))
