"""ember.io: tensors to and from the safetensors format, readable by the `safetensors` package and by
anything that follows its specification:

    8 bytes     N, the header's length, unsigned little-endian
    N bytes     JSON: {name: {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
                "__metadata__": {str: str}} (optional), padded with spaces to a multiple of 8 bytes
    the rest    the tensors' raw bytes, little-endian, C order; offsets count from the start of this part

    ember.io.save_file({"w": w, "b": b}, "model.safetensors", metadata={"format": "ember"})
    tensors = ember.io.load_file("model.safetensors")      # {"w": Tensor, "b": Tensor}

No pickle is involved: loading a file runs no code from it.
"""
import json
import os
import struct

import numpy as np

from . import _C

Tensor = _C.Tensor

__all__ = ["save", "save_file", "load", "load_file", "load_numpy", "read_metadata"]

_TO_CODE = {np.dtype(np.float64): "F64", np.dtype(np.float32): "F32", np.dtype(np.float16): "F16",
            np.dtype(np.int64): "I64", np.dtype(np.int32): "I32", np.dtype(np.int16): "I16",
            np.dtype(np.int8): "I8", np.dtype(np.uint8): "U8", np.dtype(np.uint16): "U16",
            np.dtype(np.uint32): "U32", np.dtype(np.uint64): "U64", np.dtype(np.bool_): "BOOL"}
_FROM_CODE = {code: dtype.newbyteorder("<") for dtype, code in _TO_CODE.items()}
_EMBER_DTYPES = {np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64), np.dtype(np.int32),
                 np.dtype(np.bool_)}
# a header longer than this is not a safetensors file (the reference implementation's own limit)
_MAX_HEADER = 100 * 1024 * 1024


def _as_array(name, value):
    if type(value) is Tensor:
        value = value.detach().cpu().numpy() if value.requires_grad else value.cpu().numpy()
    arr = np.asarray(value)
    if arr.dtype.newbyteorder("=") not in _TO_CODE:
        raise TypeError(f"safetensors: tensor {name!r} has dtype {arr.dtype}, which the format cannot hold "
                        f"(supported: {', '.join(str(d) for d in _TO_CODE)})")
    return np.asarray(arr, dtype=arr.dtype.newbyteorder("<"), order="C")


def save(tensors, metadata=None):
    """The safetensors encoding (bytes) of a dict {name: ember tensor or NumPy array}; metadata, if
    given, is a dict of strings stored under "__metadata__"."""
    if not isinstance(tensors, dict):
        raise TypeError(f"safetensors: expected a dict of name -> tensor, got {type(tensors).__name__}")
    arrays = {}
    for name, value in tensors.items():
        if not isinstance(name, str) or name == "__metadata__":
            raise ValueError(f"safetensors: tensor names must be strings other than '__metadata__', got {name!r}")
        arrays[name] = _as_array(name, value)
    header = {}
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise ValueError(f"safetensors: metadata must map strings to strings, got {metadata!r}")
        header["__metadata__"] = dict(metadata)
    # larger elements first keeps every tensor aligned to its element size, as the reference writer does
    order = sorted(arrays, key=lambda n: (-arrays[n].dtype.itemsize, n))
    offset = 0
    for name in order:
        arr = arrays[name]
        header[name] = {"dtype": _TO_CODE[arr.dtype.newbyteorder("=")], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return b"".join([struct.pack("<Q", len(text)), text] + [arrays[name].tobytes() for name in order])


def save_file(tensors, filename, metadata=None):
    """Writes tensors (a dict {name: ember tensor or NumPy array}) to filename in safetensors format."""
    data = save(tensors, metadata)
    with open(os.fspath(filename), "wb") as f:
        f.write(data)


def _parse(data, source):
    """(metadata, {name: read-only NumPy array viewing data}) of a safetensors buffer."""
    view = memoryview(data)
    if len(view) < 8:
        raise ValueError(f"{source}: not a safetensors file (only {len(view)} bytes; the header length alone takes 8)")
    (length,) = struct.unpack("<Q", view[:8])
    if length > _MAX_HEADER or 8 + length > len(view):
        raise ValueError(f"{source}: not a safetensors file (header length {length} does not fit in "
                         f"{len(view)} bytes)")
    try:
        header = json.loads(bytes(view[8:8 + length]).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{source}: not a safetensors file (the header is not valid JSON: {exc})") from None
    if not isinstance(header, dict):
        raise ValueError(f"{source}: not a safetensors file (the header is not a JSON object)")
    metadata = header.pop("__metadata__", None) or {}
    body = view[8 + length:]
    arrays = {}
    for name, entry in header.items():
        try:
            dtype = _FROM_CODE[entry["dtype"]]
            shape = tuple(int(s) for s in entry["shape"])
            begin, end = (int(o) for o in entry["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{source}: tensor {name!r} has an invalid header entry {entry!r} (expected dtype one "
                             f"of {', '.join(sorted(_FROM_CODE))}, shape and data_offsets)") from None
        expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if not 0 <= begin <= end <= len(body) or end - begin != expected:
            raise ValueError(f"{source}: tensor {name!r} ({entry['dtype']}, shape {list(shape)}) needs {expected} "
                             f"bytes but its data_offsets are [{begin}, {end}] in a data section of {len(body)} bytes")
        arrays[name] = np.frombuffer(body[begin:end], dtype=dtype).reshape(shape)
    return metadata, arrays


def _read(filename):
    filename = os.fspath(filename)
    if not os.path.exists(filename):
        raise FileNotFoundError(f"safetensors: no such file: {filename!r}")
    with open(filename, "rb") as f:
        return f.read()


def load_numpy(data_or_filename):
    """{name: NumPy array} (native byte order, writable copies) from safetensors bytes or a file."""
    if isinstance(data_or_filename, (bytes, bytearray, memoryview)):
        data, source = data_or_filename, "safetensors data"
    else:
        data, source = _read(data_or_filename), os.fspath(data_or_filename)
    _, arrays = _parse(data, source)
    return {name: arr.astype(arr.dtype.newbyteorder("="), copy=True) for name, arr in arrays.items()}


def _to_tensor(name, arr, device):
    if arr.dtype not in _EMBER_DTYPES:
        if arr.dtype.kind == "f":
            arr = arr.astype(np.float32)  # float16 values widen exactly
        elif arr.dtype.kind in "iu" and arr.dtype.itemsize < 8 and arr.dtype != np.uint32:
            arr = arr.astype(np.int32 if arr.dtype.itemsize < 4 else np.int64)
        else:
            arr = arr.astype(np.int64)
    t = _C.from_numpy(np.asarray(arr, order="C"))
    return t if device is None or str(device) == "cpu" else t.to(device)


def load(data, device=None):
    """{name: ember tensor} from safetensors bytes. Dtypes ember lacks widen: float16 to float32, small
    integers to int32 / int64."""
    return {name: _to_tensor(name, arr, device) for name, arr in load_numpy(bytes(data)).items()}


def load_file(filename, device=None):
    """{name: ember tensor} read from a safetensors file (see load for the dtypes)."""
    return {name: _to_tensor(name, arr, device) for name, arr in load_numpy(filename).items()}


def read_metadata(filename):
    """The file's "__metadata__" dict (empty when it has none)."""
    metadata, _ = _parse(_read(filename), os.fspath(filename))
    return metadata
