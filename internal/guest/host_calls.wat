;; Calls the host function host.wait(ms) in a loop and in a straight line, doing
;; almost nothing in between: the tests of MaxExecutionTime and ctx around host
;; functions, and the benchmark of a host call.
(module
  (import "host" "wait" (func $wait (param i32)))

  ;; repeat calls wait(ms) n times.
  (func (export "repeat") (param $n i32) (param $ms i32)
    (block $done
      (loop $l
        local.get $n
        i32.eqz
        br_if $done
        local.get $ms
        call $wait
        local.get $n
        i32.const 1
        i32.sub
        local.set $n
        br $l)))

  ;; three calls wait(ms) three times.
  (func (export "three") (param $ms i32)
    local.get $ms
    call $wait
    local.get $ms
    call $wait
    local.get $ms
    call $wait))
