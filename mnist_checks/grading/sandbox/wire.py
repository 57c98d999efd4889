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
#: Arrays above this size in one message are refused (the full data set scaled is 220 MB); a
#: reader that knows what a message may legitimately carry passes a smaller bound to ``read``.
MAX_ARRAY_BYTES = 2 * 1024**3
#: Arrays in one message: a model within the budget has a few hundred weights at most.
MAX_ARRAYS = 4096
ARRAY_KINDS = frozenset("biuf")
_LENGTH = struct.Struct("!Q")


class WireError(ValueError):
    """A message that is not well-formed data: the other side broke the protocol."""


class TooLarge(WireError):
    """A message carrying more bytes of arrays than its reader allows: refused before it is read."""


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


def read(stream, max_array_bytes: int = MAX_ARRAY_BYTES) -> tuple[object, dict]:
    """One message from ``stream``: ``(message, arrays)``; ``EOFError`` when the other side is gone.

    Sizes are read before contents: a message whose arrays exceed ``max_array_bytes`` raises
    ``TooLarge`` before a byte of them is read.
    """
    size = _length(stream)
    if size > MAX_JSON_BYTES:
        raise WireError(f"a message of {size:,} bytes of JSON (at most {MAX_JSON_BYTES:,})")
    try:
        message = json.loads(_exactly(stream, size))
    except ValueError as error:
        raise WireError(f"not JSON: {error}") from None
    size = _length(stream)
    bound = min(max_array_bytes, MAX_ARRAY_BYTES)
    if size > bound:
        raise TooLarge(f"{size:,} bytes of arrays in one message (at most {bound:,})")
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
    if len(entries) > MAX_ARRAYS:
        raise WireError(f"{len(entries):,} arrays in one message (at most {MAX_ARRAYS:,})")
    if sum(entry.file_size for entry in entries) > len(payload):
        raise WireError("not a numeric npz archive: its entries claim more bytes than it holds")
    _check_headers(payload, entries)
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except Exception as error:  # a corrupt archive in any of numpy's or zipfile's ways
        raise WireError(f"not a numeric npz archive: {type(error).__name__}: {error}") from None
    for name, array in arrays.items():
        if array.dtype.kind not in ARRAY_KINDS or array.dtype.fields is not None:
            raise WireError(f"array {name} has dtype {array.dtype}: only booleans, integers and floats cross")
    return arrays


def _check_headers(payload: bytes, entries) -> None:
    """Refuse an array whose header promises more data than its entry holds: numpy would
    allocate the promised size before finding the data missing."""
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        for entry in entries:
            with archive.open(entry) as member:
                try:
                    version = np.lib.format.read_magic(member)
                    read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                                   (2, 0): np.lib.format.read_array_header_2_0}[version]
                    shape, _, dtype = read_header(member)
                except Exception as error:  # numpy's header parser raises several kinds
                    raise WireError(f"not a numeric npz archive: {entry.filename}: {error}") from None
            if dtype.kind not in ARRAY_KINDS or dtype.fields is not None:
                raise WireError(f"not a numeric npz archive: {entry.filename} has dtype {dtype}")
            if int(np.prod(shape, dtype=object)) * dtype.itemsize > entry.file_size:
                raise WireError(f"array {entry.filename} promises more data than the message holds")


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
