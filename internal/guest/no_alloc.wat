;; Takes a JSON document in set_state (ptr, len) but exports no alloc to write
;; one into: a migration cannot move a document into it.
(module
  (memory (export "memory") 1)
  (global $set (mut i32) (i32.const 0))
  (func (export "set_state") (param i32 i32) (global.set $set (i32.const 1)))
  (func (export "was_set") (result i32) (global.get $set)))
