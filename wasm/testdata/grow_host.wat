;; A guest that asks for memory it can do without, then calls a host function:
;; a refused growth (-1) is handled, and the host function's failure is its own.
(module
  (import "game" "despawn" (func $despawn (param i32)))
  (memory (export "memory") 1)
  (func (export "update")
    (drop (memory.grow (i32.const 1)))
    (call $despawn (i32.const 7))))
