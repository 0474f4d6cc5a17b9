;; The founding document's counter, version 2. Every version keeps the same API
;; (increment, get_counter, set_counter) so reload tests can tell versions apart only
;; through version() and through the step increment adds (2).
(module
  (global $counter (mut i32) (i32.const 0))

  (func (export "increment")
    global.get $counter
    i32.const 2
    i32.add
    global.set $counter)

  (func (export "get_counter") (result i32)
    global.get $counter)

  (func (export "set_counter") (param i32)
    local.get 0
    global.set $counter)

  (func $version (export "version") (result i32)
    i32.const 2)

  ;; tick increments and answers version*1000000 + counter in one call, so a
  ;; concurrent caller can check that one call ran one whole version.
  (func (export "tick") (result i32)
    global.get $counter
    i32.const 2
    i32.add
    global.set $counter
    call $version
    i32.const 1000000
    i32.mul
    global.get $counter
    i32.add))
