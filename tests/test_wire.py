"""The wire between the student server and the checker: data-only messages
(``mnist_checks.grading.wire``)."""

import io

import numpy as np
import pytest

from mnist_checks.grading import wire

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
