;; State as one f64, as C's double get_state(void) and void set_state(double)
;; give it: MigrateExports moves it as it is, NaN and infinities included,
;; which JSON has no form for. poison(a, b) sets it to a / b (0/0 a NaN, 1/0
;; an infinity); bits returns its bits, a NaN's payload included.
(module
  (global $x (mut f64) (f64.const 0))
  (func (export "poison") (param f64 f64)
    (global.set $x (f64.div (local.get 0) (local.get 1))))
  (func (export "bits") (result i64) (i64.reinterpret_f64 (global.get $x)))
  (func (export "get_state") (result f64) (global.get $x))
  (func (export "set_state") (param f64) (global.set $x (local.get 0))))
