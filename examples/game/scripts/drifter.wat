;; drifter moves each entity it drives up the y axis, 1.5 units a second.
;;
;; A WASM module's globals and memory start over on every reload, so this script
;; keeps no state of its own: what it moves is the entity's Position in the game's
;; ecs.World, which a reload does not touch.
(module
  (import "game" "get_pos" (func $get_pos (param i64) (result f64 f64)))
  (import "game" "set_pos" (func $set_pos (param i64 f64 f64)))

  ;; update moves entity e for a frame of dt seconds. The game calls it once a
  ;; frame for each entity this script drives.
  (func (export "update") (param $e i64) (param $dt f64)
    (local $x f64) (local $y f64)
    (call $get_pos (local.get $e))
    (local.set $y)
    (local.set $x)
    (call $set_pos (local.get $e) (local.get $x)
      (f64.add (local.get $y) (f64.mul (f64.const 1.5) (local.get $dt))))))
