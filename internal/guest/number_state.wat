;; State as one number, as C's int get_state(void) and void set_state(int)
;; give it: MigrateExports moves it without a JSON document.
(module
  (global $n (mut i32) (i32.const 0))
  (func (export "bump") (param i32)
    (global.set $n (i32.add (global.get $n) (local.get 0))))
  (func (export "get_state") (result i32) (global.get $n))
  (func (export "set_state") (param i32) (global.set $n (local.get 0))))
