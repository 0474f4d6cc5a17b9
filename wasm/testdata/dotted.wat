;; Imports two host functions whose module and name joined with a dot read
;; the same, "a.b.c", with different signatures.
(module
  (import "a.b" "c" (func (param i32)))
  (import "a" "b.c" (func (param i64))))
