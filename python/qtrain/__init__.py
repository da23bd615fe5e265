"""qtrain: low-precision training through MLIR.

`qtrain.numerics` gives Python the exact numerics of the compiler (formats,
rounding modes, stochastic rounding) through the C API of the numerics library.
"""
