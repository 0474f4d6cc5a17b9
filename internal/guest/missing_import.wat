;; Imports a host function no runtime defines: loading or reloading it must fail
;; with an error naming "host.missing".
(module
  (import "host" "missing" (func $missing))
  (func (export "run")
    call $missing)
  (func (export "version") (result i32)
    i32.const 99))
