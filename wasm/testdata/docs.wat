;; A guest heap for CallJSON's JSON arguments that counts what is live, as
;; C's malloc and free would: alloc takes a fresh page for each document and
;; returns 0 (NULL) when memory.grow is refused (under MaxMemoryBytes); free
;; gives the bytes back, or loops forever after free_loops(1).
(module
  (memory (export "memory") 1)
  ;; static data at the bottom of memory, which a write at 0 would overwrite
  (data (i32.const 0) "{\"counter\":41}")
  (global $live (mut i32) (i32.const 0))
  (global $free_loops (mut i32) (i32.const 0))

  (func (export "alloc") (param $n i32) (result i32)
    (local $page i32)
    (local.set $page (memory.grow (i32.const 1)))
    (if (i32.eq (local.get $page) (i32.const -1))
      (then (return (i32.const 0))))
    (global.set $live (i32.add (global.get $live) (local.get $n)))
    (i32.mul (local.get $page) (i32.const 65536)))

  (func (export "free") (param i32 i32)
    (if (global.get $free_loops)
      (then (loop $forever (br $forever))))
    (global.set $live (i32.sub (global.get $live) (local.get 1))))

  (func (export "free_loops") (param i32)
    (global.set $free_loops (local.get 0)))

  ;; live is how many bytes of documents alloc handed out and free did not get back.
  (func (export "live") (result i32)
    (global.get $live))

  ;; state returns the static data.
  (func (export "state") (result i32 i32)
    (i32.const 0)
    (i32.const 14))

  ;; take returns the length of its document; spin never returns.
  (func (export "take") (param i32 i32) (result i32)
    (local.get 1))
  (func (export "spin") (param i32 i32)
    (loop $forever (br $forever))))
