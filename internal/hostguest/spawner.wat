;; A wave of enemies through game.spawn(kind string, x f64) -> i64, a host
;; function defined once for both engines (ExampleHostFunc).
(module
  (import "game" "spawn" (func $spawn (param i32 i32 f64) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 16) "goblin")

  ;; wave spawns a goblin at x and returns its id.
  (func (export "wave") (param $x f64) (result i64)
    (call $spawn (i32.const 16) (i32.const 6) (local.get $x))))
