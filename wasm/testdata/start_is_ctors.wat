;; Runs its constructors as its start function while exporting them as
;; __wasm_call_ctors: the runtime must not run them again.
(module
  (global $runs (mut i32) (i32.const 0))
  (func $ctors (export "__wasm_call_ctors") (global.set $runs (i32.add (global.get $runs) (i32.const 1))))
  (start $ctors)
  (func (export "runs") (result i32) (global.get $runs)))
