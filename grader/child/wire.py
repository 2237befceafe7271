"""The message format between the grader and the process running student code.

A message is an 8-byte little-endian header length, a UTF-8 JSON header, then
the raw bytes of each array, one after the other. Decoding never runs code: the
header is JSON, and an array is rebuilt from bytes with a dtype from a short
allow-list of plain numeric types (no objects, no pickles, no subclasses).

This module is imported by the untrusted process: it depends on numpy and the
standard library only.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Callable

import numpy as np

ALLOWED_DTYPES = frozenset(
    np.dtype(t).str for t in ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                              "float16", "float32", "float64")
)
MAX_HEADER_BYTES = 1 << 20
MAX_MESSAGE_BYTES = 256 << 20
_LENGTH = struct.Struct("<Q")


class WireError(ValueError):
    """A message that is malformed, too large or of a forbidden type."""


def encode(meta: dict, arrays: dict[str, np.ndarray] | None = None) -> bytes:
    layout, buffers = {}, []
    for name, array in (arrays or {}).items():
        array = np.asarray(array, order="C")  # (ascontiguousarray would make 0-d arrays 1-d)
        if array.dtype.str not in ALLOWED_DTYPES:
            raise WireError(f"{name}: dtype {array.dtype} cannot be sent")
        layout[name] = {"dtype": array.dtype.str, "shape": list(array.shape), "nbytes": array.nbytes}
        buffers.append(array.tobytes())
    header = json.dumps({"meta": meta, "arrays": layout}, allow_nan=False).encode()
    return _LENGTH.pack(len(header)) + header + b"".join(buffers)


def read_message(read_exactly: Callable[[int], bytes]) -> tuple[dict, dict[str, np.ndarray]]:
    """Read one message through ``read_exactly(n) -> n bytes``."""
    (length,) = _LENGTH.unpack(read_exactly(_LENGTH.size))
    if length > MAX_HEADER_BYTES:
        raise WireError(f"header of {length} bytes is over the limit")
    try:
        header = json.loads(read_exactly(length))
        meta, layout = header["meta"], header["arrays"]
    except (ValueError, KeyError, TypeError) as e:
        raise WireError(f"unreadable header: {e}") from None
    if not isinstance(meta, dict) or not isinstance(layout, dict):
        raise WireError("header is not a pair of objects")
    total = 0
    specs = []
    for name, spec in layout.items():
        dtype, shape, nbytes = _check_array_spec(name, spec)
        total += nbytes
        if total > MAX_MESSAGE_BYTES:
            raise WireError(f"arrays add up to more than {MAX_MESSAGE_BYTES >> 20} MiB")
        specs.append((name, dtype, shape, nbytes))
    arrays = {}
    for name, dtype, shape, nbytes in specs:
        # frombuffer over a fresh bytes object: a plain, read-only ndarray; copy to own it.
        arrays[name] = np.frombuffer(read_exactly(nbytes), dtype=dtype).reshape(shape).copy()
    return meta, arrays


def _check_array_spec(name, spec) -> tuple[np.dtype, tuple[int, ...], int]:
    try:
        dtype_str, shape, nbytes = spec["dtype"], spec["shape"], spec["nbytes"]
    except (KeyError, TypeError):
        raise WireError(f"{name}: incomplete array description") from None
    if dtype_str not in ALLOWED_DTYPES:
        raise WireError(f"{name}: dtype {dtype_str!r} is not a plain numeric type")
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise WireError(f"{name}: bad shape {shape!r}")
    dtype = np.dtype(dtype_str)
    expected = dtype.itemsize * math.prod(shape)
    if nbytes > MAX_MESSAGE_BYTES:
        raise WireError(f"{name}: {nbytes >> 20} MiB is more than {MAX_MESSAGE_BYTES >> 20} MiB")
    if nbytes != expected:
        raise WireError(f"{name}: {nbytes} bytes do not fit shape {shape} of {dtype}")
    return dtype, tuple(shape), nbytes
