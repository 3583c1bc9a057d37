;; wasmi 2.0.0 returns 1 for f(5); the spec (and interp, shoal's JIT,
;; wasmtime, wasmtime-pulley) return 5. Invocations (in the .wasm's
;; custom section): f(0) = 1, f(5) = 5.
(module
  ;; f(x) = select(1, x, x == 0): 1 when x is 0, else x.
  (func (export "f") (param i32) (result i32)
    i32.const 1
    local.get 0
    local.get 0
    i32.eqz
    select))
