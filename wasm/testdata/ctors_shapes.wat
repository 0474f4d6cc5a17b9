;; Exports named like an initializer that are not one: __wasm_call_ctors of a
;; parameter, _initialize of a result, and a function under the empty name,
;; none of which the runtime runs as the module starts.
(module
  (global $runs (mut i32) (i32.const 0))
  (func $bump (global.set $runs (i32.add (global.get $runs) (i32.const 1))))
  (func (export "__wasm_call_ctors") (param i32) (call $bump))
  (func (export "_initialize") (result i32) (call $bump) (i32.const 0))
  (func (export "") (call $bump))
  (func (export "runs") (result i32) (global.get $runs)))
