"""The qtrain numerics library from Python (ctypes over include/qtrain-c/Numerics.h).

Semantics are those of docs/numerics.md, bit for bit: this module only moves
arrays across the C boundary.

    >>> from qtrain import numerics
    >>> e4m3 = numerics.Format.named("f8E4M3FN")
    >>> numerics.round(e4m3, [1.0625, 1000.0])
    array([  1., 448.], dtype=float32)

The shared library is found through $QTRAIN_NUMERICS_LIBRARY, else in the
build tree next to this source tree (build/lib/libQTrainNumericsC.so).
"""

import ctypes
import os
from pathlib import Path

import numpy as np

ROUNDING_MODES = ("nearest_even", "nearest_away", "toward_zero", "upward",
                  "downward", "stochastic")
OVERFLOW_MODES = ("saturate", "native")
SPECIAL_VALUES = ("ieee", "fn", "fnuz", "finite_only")


class _CFormat(ctypes.Structure):
    _fields_ = [("is_float", ctypes.c_int32), ("bits", ctypes.c_uint32),
                ("is_signed", ctypes.c_int32), ("exp_bits", ctypes.c_uint32),
                ("man_bits", ctypes.c_uint32), ("bias", ctypes.c_int32),
                ("subnormals", ctypes.c_int32), ("specials", ctypes.c_int32)]


def _load_library():
    path = os.environ.get("QTRAIN_NUMERICS_LIBRARY")
    if not path:
        root = Path(__file__).resolve().parents[2]
        path = root / "build" / "lib" / "libQTrainNumericsC.so"
    lib = ctypes.CDLL(str(path))
    f32p = ctypes.POINTER(ctypes.c_float)
    u32p = ctypes.POINTER(ctypes.c_uint32)
    fmtp = ctypes.POINTER(_CFormat)
    lib.qtrainFormatFromName.argtypes = [ctypes.c_char_p, fmtp]
    lib.qtrainFormatFromName.restype = ctypes.c_int
    lib.qtrainFormatValidate.argtypes = [fmtp, ctypes.c_char_p, ctypes.c_size_t]
    lib.qtrainFormatValidate.restype = ctypes.c_int
    lib.qtrainEncode.argtypes = [fmtp, f32p, ctypes.c_size_t, ctypes.c_int32,
                                 ctypes.c_int32, ctypes.c_uint64,
                                 ctypes.c_uint32, u32p]
    lib.qtrainEncode.restype = None
    lib.qtrainDecode.argtypes = [fmtp, u32p, ctypes.c_size_t, f32p]
    lib.qtrainDecode.restype = None
    lib.qtrainStochasticBits.argtypes = [ctypes.c_uint64, ctypes.c_uint32,
                                         ctypes.c_uint64]
    lib.qtrainStochasticBits.restype = ctypes.c_uint32
    return lib


_lib = _load_library()


class Format:
    """A qtrain numeric format (see #qtrain.int and #qtrain.float)."""

    def __init__(self, c_format):
        message = ctypes.create_string_buffer(256)
        if _lib.qtrainFormatValidate(ctypes.byref(c_format), message, 256):
            raise ValueError(message.value.decode())
        self._c = c_format

    @staticmethod
    def named(name):
        c_format = _CFormat()
        if _lib.qtrainFormatFromName(name.encode(), ctypes.byref(c_format)):
            raise ValueError(f"unknown float format '{name}'")
        return Format(c_format)

    @staticmethod
    def integer(bits, signed=True):
        return Format(_CFormat(is_float=0, bits=bits, is_signed=int(signed)))

    @staticmethod
    def float(exp, man, bias=None, subnormals=True, specials="ieee"):
        if bias is None:
            bias = (1 << (exp - 1)) - 1
        return Format(_CFormat(is_float=1, exp_bits=exp, man_bits=man,
                               bias=bias, subnormals=int(subnormals),
                               specials=SPECIAL_VALUES.index(specials)))

    @property
    def bit_width(self):
        c = self._c
        return 1 + c.exp_bits + c.man_bits if c.is_float else c.bits


def encode(fmt, x, rounding="nearest_even", overflow="saturate", seed=0,
           stream=0):
    """Codes of `x` (any shape) in `fmt`, as uint32."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    codes = np.empty(x.shape, dtype=np.uint32)
    _lib.qtrainEncode(ctypes.byref(fmt._c),
                      x.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), x.size,
                      ROUNDING_MODES.index(rounding),
                      OVERFLOW_MODES.index(overflow), seed, stream,
                      codes.ctypes.data_as(ctypes.POINTER(ctypes.c_uint32)))
    return codes


def decode(fmt, codes):
    """Values (float32) of `codes` in `fmt`."""
    codes = np.ascontiguousarray(codes, dtype=np.uint32)
    out = np.empty(codes.shape, dtype=np.float32)
    _lib.qtrainDecode(ctypes.byref(fmt._c),
                      codes.ctypes.data_as(ctypes.POINTER(ctypes.c_uint32)),
                      codes.size,
                      out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
    return out


def round(fmt, x, **options):  # pylint: disable=redefined-builtin
    """`x` rounded onto the grid of `fmt` (decode(encode(x)))."""
    return decode(fmt, encode(fmt, x, **options))


def stochastic_bits(seed, stream, index):
    """The 32 random bits stochastic rounding uses for element `index`."""
    return _lib.qtrainStochasticBits(seed, stream, index)
