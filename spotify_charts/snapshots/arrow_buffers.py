"""Arrow <-> NumPy and Python without `pa.array()`, `pa.scalar()` or `Array.to_numpy()`.

Those three make pyarrow import pandas: 0.2 s of CPU in every process that loads staging, 8% of a
year's load (BENCHMARKS.md). The staging parser builds every array and scalar it needs here, from
raw buffers, so a load never imports pandas (a test keeps it so). Plain module (no Dagster import).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_NUMPY_TYPES = {pa.int8(): np.int8, pa.int32(): np.int32, pa.int64(): np.int64}


def numpy_view(array: pa.Array) -> np.ndarray:
    """A view of a null-free int32/int64 Arrow array."""
    if array.null_count:
        raise ValueError("array has nulls")
    values = np.frombuffer(array.buffers()[1], dtype=_NUMPY_TYPES[array.type])
    return values[array.offset : array.offset + len(array)]


def first_true(mask: pa.Array) -> int:
    """Position of the first true value of a null-free boolean array, or -1."""
    flags = numpy_view(pc.cast(mask, pa.int8()))
    first = int(np.argmax(flags)) if len(flags) else 0
    return first if len(flags) and flags[first] else -1


def from_numpy(type_: pa.DataType, values: np.ndarray) -> pa.Array:
    return pa.Array.from_buffers(type_, len(values), [None, pa.py_buffer(np.ascontiguousarray(values))])


def strings(values: Sequence[str]) -> pa.Array:
    encoded = [value.encode() for value in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return pa.Array.from_buffers(
        pa.string(), len(encoded), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    )


_EPOCH = dt.date(1970, 1, 1)
# Compute functions turn Python operands into scalars with pa.scalar(), which imports pandas too.
ZERO = from_numpy(pa.int64(), np.array([0]))[0]
ONE = from_numpy(pa.int64(), np.array([1]))[0]
FALSE = pa.Array.from_buffers(pa.bool_(), 1, [None, pa.py_buffer(b"\x00")])[0]


def dates(values: Sequence[dt.date]) -> pa.Array:
    return from_numpy(pa.date32(), np.array([(d - _EPOCH).days for d in values], dtype=np.int32))


def epoch_micros(moment: dt.datetime) -> int:
    delta = moment.astimezone(dt.UTC) - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
