"""Reading IDX files, the format of MNIST and Fashion-MNIST (raw or gzip-compressed).

Layout, all big-endian: two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
0x0D float32, 0x0E float64), the number of dimensions, one uint32 per dimension, then the values in
row-major order.
"""
import gzip
import math
import os
import struct
import zlib

import numpy as np

__all__ = ["read_idx"]

_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_GZIP_MAGIC = b"\x1f\x8b"


def _file_bytes(path):
    """The file's contents, decompressed when it is gzip (recognised by its magic bytes, so the
    file name does not matter)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"read_idx: no file at {path}")
    with open(path, "rb") as handle:
        data = handle.read()
    if data[:2] != _GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as err:
        raise ValueError(f"read_idx: {path} is a damaged or truncated gzip file ({err})") from None


def read_idx(path):
    """The array stored in an IDX file (raw or gzip), as a NumPy array of the file's type in
    native byte order, with the file's shape."""
    path = os.fspath(path)
    data = _file_bytes(path)
    if len(data) < 4:
        raise ValueError(f"read_idx: {path} is truncated: {len(data)} bytes, shorter than the 4-byte IDX header")
    if data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(f"read_idx: {path} is not an IDX file: magic number 0x{data[:4].hex()}, expected two zero "
                         "bytes, a type code (08, 09, 0b, 0c, 0d or 0e) and the number of dimensions")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"read_idx: {path} is truncated: its header names {ndim} dimensions, which needs {header} "
                         f"bytes, but the file has {len(data)}")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    expected = math.prod(shape) * dtype.itemsize
    found = len(data) - header
    if found < expected:
        raise ValueError(f"read_idx: {path} is truncated: shape {shape} of {dtype.name} needs {expected} bytes of "
                         f"data, found {found}")
    if found > expected:
        raise ValueError(f"read_idx: {path} has {found - expected} bytes after the data its header describes "
                         f"(shape {shape} of {dtype.name}); it is not a single IDX array")
    values = np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="))
