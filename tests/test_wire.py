"""The wire between the student server and the checker: data-only messages
(``mnist_checks.grading.sandbox.wire``)."""

import io

import numpy as np
import pytest

from mnist_checks.grading.sandbox import wire

pytestmark = pytest.mark.fast


def test_pickled_object_arrays_never_cross_the_wire():
    buffer = io.BytesIO()
    np.savez(buffer, a0=np.array([object()], dtype=object))
    with pytest.raises(wire.WireError, match="npz"):
        wire.decode_arrays(buffer.getvalue())
    with pytest.raises(TypeError):
        wire.pack(np.array(["text"]), {})


def test_a_compressed_archive_is_refused_before_it_inflates():
    buffer = io.BytesIO()
    np.savez_compressed(buffer, a0=np.zeros(10_000_000, dtype=np.uint8))  # 10 MB that packs to 10 KB
    assert len(buffer.getvalue()) < 100_000
    with pytest.raises(wire.WireError, match="compressed"):
        wire.decode_arrays(buffer.getvalue())


def test_a_message_keeps_its_arrays_tuples_lists_and_scalars():
    arrays = {}
    value = wire.pack((np.arange(3), [np.float32(2.5), 7, "x", None]), arrays)
    message, back = wire.read(io.BytesIO(wire.encode({"value": value}, arrays)))
    restored = wire.unpack(message["value"], back)
    assert isinstance(restored, tuple) and isinstance(restored[1], list)
    np.testing.assert_array_equal(restored[0], np.arange(3))
    assert restored[1][0] == np.float32(2.5) and restored[1][0].dtype == np.float32
    assert restored[1][1:] == [7, "x", None]


def test_a_truncated_message_reads_as_the_end_of_the_stream():
    data = wire.encode({"value": 1}, {"a0": np.zeros(100)})
    with pytest.raises(EOFError):
        wire.read(io.BytesIO(data[:-10]))


class _Guarded(io.BytesIO):
    """A stream that fails the test if more than its first ``allowed`` bytes are read."""

    def __init__(self, data: bytes, allowed: int):
        super().__init__(data)
        self.allowed = allowed

    def read(self, size=-1):
        if self.tell() + (size if size >= 0 else len(self.getbuffer())) > self.allowed:
            raise AssertionError("read past the sizes: the arrays were read before the bound was checked")
        return super().read(size)


def test_arrays_over_the_readers_bound_are_refused_before_a_byte_of_them_is_read():
    data = wire.encode({"value": {"array": "a0"}}, {"a0": np.zeros(1_000_000)})  # 8 MB of arrays
    json_part = len(wire.encode({"value": {"array": "a0"}}))  # the JSON and the arrays' length
    with pytest.raises(wire.TooLarge, match="8,000,"):
        wire.read(_Guarded(data, json_part), max_array_bytes=1_000_000)
    message, arrays = wire.read(io.BytesIO(data), max_array_bytes=9_000_000)
    assert arrays["a0"].shape == (1_000_000,)


def test_an_array_whose_header_promises_more_than_its_data_is_refused():
    """numpy would allocate the promised 10 GB before finding the data missing."""
    import zipfile

    npy = io.BytesIO()
    np.lib.format.write_array_header_1_0(npy, {"descr": "|u1", "fortran_order": False, "shape": (10**10,)})
    npy.write(bytes(10))
    forged = io.BytesIO()
    with zipfile.ZipFile(forged, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("a0.npy", npy.getvalue())
    with pytest.raises(wire.WireError, match="promises more data"):
        wire.decode_arrays(forged.getvalue())


def test_thousands_of_tiny_arrays_in_one_message_are_refused():
    buffer = io.BytesIO()
    np.savez(buffer, **{f"a{i}": np.zeros(1) for i in range(wire.MAX_ARRAYS + 1)})
    with pytest.raises(wire.WireError, match="arrays in one message"):
        wire.decode_arrays(buffer.getvalue())
