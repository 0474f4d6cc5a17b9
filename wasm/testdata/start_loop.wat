;; Its start function never returns.
(module
  (func $start
    (loop $forever (br $forever)))
  (start $start))
