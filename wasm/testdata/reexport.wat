;; Exports a host function it imports, so that calling the export calls the
;; host function directly, with no code of the module's own on the stack.
(module
  (import "host" "seven" (func $seven (result i32)))
  (memory (export "memory") 1)
  (export "seven" (func $seven))
  (func (export "via_code") (result i32)
    (call $seven)))
