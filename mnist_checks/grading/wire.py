"""The student server's wire format: data only, never pickle (issue: grades that cannot be forged).

A message is a JSON document plus numpy arrays.  On the pipe it is two length-prefixed parts:
the UTF-8 JSON, then an ``.npz`` archive (``np.savez``) read back with ``allow_pickle=False``.
Inside the JSON, ``{"array": "a3"}`` stands for the archive's array ``a3``; tuples are
``{"tuple": [...]}`` so that a contract returning a tuple or a list is seen as it returned it.
Only booleans, integers, unsigned integers and floats cross as arrays: anything else (objects,
strings, structured records) is refused on both sides.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile

import numpy as np

#: A single JSON part above this size is refused: descriptions and errors are far smaller.
MAX_JSON_BYTES = 8 * 1024**2
#: Arrays above this size in one message are refused (the full data set scaled is 220 MB).
MAX_ARRAY_BYTES = 2 * 1024**3
ARRAY_KINDS = frozenset("biuf")
_LENGTH = struct.Struct("!Q")


class WireError(ValueError):
    """A message that is not well-formed data: the other side broke the protocol."""


def encode(message, arrays: dict | None = None) -> bytes:
    """``message`` (JSON-able, with ``{"array": name}`` references) and its arrays as bytes."""
    text = json.dumps(message, allow_nan=True).encode()
    payload = b""
    if arrays:
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        payload = buffer.getvalue()
    return _LENGTH.pack(len(text)) + text + _LENGTH.pack(len(payload)) + payload


def write(stream, message, arrays: dict | None = None) -> None:
    stream.write(encode(message, arrays))
    stream.flush()


def read(stream) -> tuple[object, dict]:
    """One message from ``stream``: ``(message, arrays)``; ``EOFError`` when the other side is gone."""
    size = _length(stream)
    if size > MAX_JSON_BYTES:
        raise WireError(f"a message of {size:,} bytes of JSON (at most {MAX_JSON_BYTES:,})")
    try:
        message = json.loads(_exactly(stream, size))
    except ValueError as error:
        raise WireError(f"not JSON: {error}") from None
    size = _length(stream)
    if size > MAX_ARRAY_BYTES:
        raise WireError(f"{size:,} bytes of arrays in one message (at most {MAX_ARRAY_BYTES:,})")
    arrays = decode_arrays(_exactly(stream, size)) if size else {}
    return message, arrays


def decode_arrays(payload: bytes) -> dict:
    """The arrays of an ``.npz`` payload, refusing pickled objects, non-numeric kinds and
    compressed entries (``np.savez`` stores; a deflated entry could inflate without bound)."""
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            entries = archive.infolist()
    except zipfile.BadZipFile as error:
        raise WireError(f"not a numeric npz archive: {error}") from None
    if any(entry.compress_type != zipfile.ZIP_STORED for entry in entries):
        raise WireError("not a numeric npz archive: compressed entries are refused")
    if sum(entry.file_size for entry in entries) > MAX_ARRAY_BYTES:
        raise WireError(f"arrays of more than {MAX_ARRAY_BYTES:,} bytes in one message")
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except Exception as error:  # a corrupt archive in any of numpy's or zipfile's ways
        raise WireError(f"not a numeric npz archive: {type(error).__name__}: {error}") from None
    for name, array in arrays.items():
        if array.dtype.kind not in ARRAY_KINDS or array.dtype.fields is not None:
            raise WireError(f"array {name} has dtype {array.dtype}: only booleans, integers and floats cross")
    return arrays


def pack(value, arrays: dict):
    """``value`` as JSON, its numpy arrays moved into ``arrays`` (Python scalars stay JSON)."""
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        array = np.asarray(value)
        if array.dtype.kind not in ARRAY_KINDS:
            raise TypeError(f"an array of dtype {array.dtype} (only booleans, integers and floats)")
        name = f"a{len(arrays)}"
        arrays[name] = array
        return {"array": name, **({"scalar": True} if isinstance(value, np.generic) else {})}
    if isinstance(value, tuple):
        return {"tuple": [pack(v, arrays) for v in value]}
    if isinstance(value, list):
        return [pack(v, arrays) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"a {type(value).__module__}.{type(value).__qualname__}")


def unpack(value, arrays: dict):
    """The inverse of ``pack``: references replaced by their arrays, tuples restored."""
    if isinstance(value, dict):
        if set(value) <= {"array", "scalar"} and "array" in value:
            try:
                array = arrays[value["array"]]
            except (KeyError, TypeError):
                raise WireError(f"a reference to a missing array {value['array']!r}") from None
            return array[()] if value.get("scalar") else array
        if set(value) == {"tuple"} and isinstance(value["tuple"], list):
            return tuple(unpack(v, arrays) for v in value["tuple"])
        raise WireError(f"an unexpected object with keys {sorted(value)[:5]}")
    if isinstance(value, list):
        return [unpack(v, arrays) for v in value]
    return value


def _length(stream) -> int:
    return _LENGTH.unpack(_exactly(stream, _LENGTH.size))[0]


def _exactly(stream, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = stream.read(min(left, 1 << 24))
        if not chunk:
            raise EOFError("the other side closed the pipe")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
