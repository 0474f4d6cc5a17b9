;; Functions that take or return references, which have no JSON form and no
;; stack encoding a host could make: calls() counts the calls that ran.
(module
  (type $v (func (result i32)))
  (table 1 funcref)
  (global $calls (mut i32) (i32.const 0))
  (func $count
    (global.set $calls (i32.add (global.get $calls) (i32.const 1))))
  (func (export "calls") (result i32)
    (global.get $calls))
  (func (export "ret_funcref") (result funcref)
    (call $count)
    (ref.null func))
  (func (export "ret_externref") (result externref)
    (call $count)
    (ref.null extern))
  (func (export "take_externref") (param externref) (result i32)
    (call $count)
    (ref.is_null (local.get 0)))
  (func (export "take_funcref") (param funcref) (result i32)
    (call $count)
    (table.set 0 (i32.const 0) (local.get 0))
    (call_indirect (type $v) (i32.const 0))))
