;; One i32 of state in linear memory, and a way to grow the memory: for tests
;; of which memory a script is given.
(module
  (memory (export "memory") 1)
  (func (export "peek") (result i32) (i32.load (i32.const 16)))
  (func (export "poke") (param i32) (i32.store (i32.const 16) (local.get 0)))
  (func (export "grow") (result i32) (memory.grow (i32.const 1))))
