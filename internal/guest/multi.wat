;; Result shapes CallJSON must convert: several results (a JSON array), floats that
;; JSON cannot hold, a (i32, i32) document, and an export that is not a function.
(module
  (memory (export "memory") 1)
  (data (i32.const 64) "[1,2]")
  (global (export "answer") i32 (i32.const 42))

  (func (export "multi") (result i32 i64 f64)
    i32.const -1
    i64.const 9007199254740993
    f64.const 1.5)

  (func (export "nan") (result f64)
    f64.const nan)

  (func (export "inf32") (result f32)
    f32.const inf)

  (func (export "tiny") (result f64)
    f64.const 1e-7)

  (func (export "pair") (result i32 i32)
    i32.const 64
    i32.const 5)

  (func (export "takes_externref") (param externref))

  (func (export "noop")))
