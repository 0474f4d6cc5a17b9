;; Runaway and CPU-bound code for the limit tests and benchmarks of package wasm,
;; written plainly: the runtime instruments it with internal/meter when a script
;; has an instruction or time limit.
(module
  (memory (export "memory") 1)
  (global $count (mut i32) (i32.const 0))

  ;; bump increments a counter that must survive a limit being hit.
  (func (export "bump") (result i32)
    global.get $count
    i32.const 1
    i32.add
    global.set $count
    global.get $count)

  (func (export "get") (result i32)
    global.get $count)

  ;; count adds 1 to the counter n times, one store per iteration, so a call
  ;; stopped by a limit leaves the progress it made.
  (func (export "count") (param $n i32) (result i32)
    (block $done
      (loop $l
        local.get $n
        i32.eqz
        br_if $done
        global.get $count
        i32.const 1
        i32.add
        global.set $count
        local.get $n
        i32.const 1
        i32.sub
        local.set $n
        br $l))
    global.get $count)

  ;; spin runs n iterations of an empty loop and returns n.
  (func (export "spin") (param $n i32) (result i32)
    (local $i i32)
    (block $done
      (loop $l
        local.get $i
        local.get $n
        i32.ge_u
        br_if $done
        local.get $i
        i32.const 1
        i32.add
        local.set $i
        br $l))
    local.get $n)

  ;; sum returns 0 + 1 + ... + (n-1) as an i64: the CPU-bound benchmark loop.
  (func (export "sum") (param $n i32) (result i64)
    (local $i i32) (local $s i64)
    (block $done
      (loop $l
        local.get $i
        local.get $n
        i32.ge_u
        br_if $done
        local.get $s
        local.get $i
        i64.extend_i32_u
        i64.add
        local.set $s
        local.get $i
        i32.const 1
        i32.add
        local.set $i
        br $l))
    local.get $s)

  (func (export "forever")
    (loop $l
      br $l))

  ;; recurse never returns: each frame calls the next.
  (func $recurse (export "recurse") (param $n i32) (result i32)
    local.get $n
    i32.const 1
    i32.add
    call $recurse
    i32.const 1
    i32.add)

  ;; depth returns n after calls n deep.
  (func $depth (export "depth") (param $n i32) (result i32)
    local.get $n
    i32.eqz
    if (result i32)
      i32.const 0
    else
      local.get $n
      i32.const 1
      i32.sub
      call $depth
      i32.const 1
      i32.add
    end)

  ;; add is the cheapest call with a result.
  (func (export "add") (param i32 i32) (result i32)
    local.get 0
    local.get 1
    i32.add))
