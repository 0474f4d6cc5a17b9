;; bigmem.wat: a module that needs 4 pages (256 KiB) of memory from the start.
(module
  (memory (export "memory") 4)
  (func (export "pages") (result i32) (memory.size)))
