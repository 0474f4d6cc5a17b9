;; Calls host functions defined once for both engines (hotscript.HostFunc):
;; game.move(i64, f64, f32) -> (f64, i32), game.tag(string, i32) -> i64, the
;; string passed as (ptr, len), game.misuse(i64) -> f64 and
;; game.unset(i64) -> (f64, i64).
(module
  (import "game" "move" (func $move (param i64 f64 f32) (result f64 i32)))
  (import "game" "tag" (func $tag (param i32 i32 i32) (result i64)))
  (import "game" "misuse" (func $misuse (param i64) (result f64)))
  (import "game" "unset" (func $unset (param i64) (result f64 i64)))
  (memory (export "memory") 1)
  (data (i32.const 16) "goblin")
  (data (i32.const 32) "fail")

  (func (export "move") (param i64 f64 f32) (result f64 i32)
    (call $move (local.get 0) (local.get 1) (local.get 2)))

  ;; tag calls game.tag("goblin", n).
  (func (export "tag") (param $n i32) (result i64)
    (call $tag (i32.const 16) (i32.const 6) (local.get $n)))

  ;; tag_fail calls game.tag("fail", 0), which fails.
  (func (export "tag_fail") (result i64)
    (call $tag (i32.const 32) (i32.const 4) (i32.const 0)))

  (func (export "misuse") (param i64) (result f64)
    (call $misuse (local.get 0)))

  (func (export "unset") (param i64) (result f64 i64)
    (call $unset (local.get 0)))

  ;; tag_outside passes a string that runs past the end of memory.
  (func (export "tag_outside") (result i64)
    (call $tag (i32.const 65530) (i32.const 100) (i32.const 0))))
