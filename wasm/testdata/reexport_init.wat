;; Exports the host function host.init as _initialize: the runtime calls it
;; directly when it instantiates the module.
(module
  (import "host" "init" (func $init))
  (memory (export "memory") 1)
  (data (i32.const 0) "abcd")
  (export "_initialize" (func $init)))
