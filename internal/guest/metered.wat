;; Hand-written stand-in for a module after internal/meter instrumentation: it
;; imports hotscript.refuel, exports the mutable i64 global "hotscript.fuel", and
;; charges the global before every block of work, calling refuel when it drops below
;; zero. The runtime side of that protocol (wasm/limits.go) is tested against it.
(module
  (import "hotscript" "refuel" (func $refuel))
  (global $fuel (export "hotscript.fuel") (mut i64) (i64.const 0))
  (global $count (mut i32) (i32.const 0))

  (func $charge (param $cost i64)
    global.get $fuel
    local.get $cost
    i64.sub
    global.set $fuel
    global.get $fuel
    i64.const 0
    i64.lt_s
    (if (then call $refuel)))

  ;; bump increments a counter that must survive a limit being hit.
  (func (export "bump") (result i32)
    i64.const 4
    call $charge
    global.get $count
    i32.const 1
    i32.add
    global.set $count
    global.get $count)

  (func (export "get") (result i32)
    i64.const 1
    call $charge
    global.get $count)

  ;; spin runs n iterations of 5 units each and returns n.
  (func (export "spin") (param $n i32) (result i32)
    (local $i i32)
    (block $done
      (loop $l
        local.get $i
        local.get $n
        i32.ge_u
        br_if $done
        i64.const 5
        call $charge
        local.get $i
        i32.const 1
        i32.add
        local.set $i
        br $l))
    local.get $n)

  (func (export "forever")
    (loop $l
      i64.const 3
      call $charge
      br $l)))
