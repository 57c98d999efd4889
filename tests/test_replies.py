"""The contract's data replies read as numpy reads them (``mnist_checks.replies``, issue 30): a
list, a tuple or a tensor with the right values is the exercise's answer; a reply numpy cannot
read as numbers is refused in the contract's words."""

import numpy as np
import pytest

from mnist_checks.compat import keras, ops
from mnist_checks.replies import NumpyReplies, UnreadableReply, read_reply

pytestmark = pytest.mark.fast

DIGITS = np.array([3, 0, 9, 5])


@pytest.mark.parametrize("reply", [
    pytest.param(lambda: [int(d) for d in DIGITS], id="a list of ints"),
    pytest.param(lambda: tuple(DIGITS), id="a tuple of numpy ints"),
    pytest.param(lambda: ops.convert_to_tensor(DIGITS), id="a tensor"),
    pytest.param(lambda: [ops.convert_to_tensor(d) for d in DIGITS], id="a list of 0-d tensors"),
    pytest.param(lambda: DIGITS.copy(), id="an array"),
])
def test_predicted_digits_in_any_container_numpy_reads_are_one_array_of_them(reply):
    """[int(np.argmax(p)) for p in probabilities], a tuple or a tensor is the array of digits."""
    found = read_reply("predicted_digits", reply())
    assert isinstance(found, np.ndarray) and found.dtype.kind in "iu"
    np.testing.assert_array_equal(found, DIGITS)


def test_an_array_reply_is_passed_on_as_it_is():
    """A numeric array is not copied: what the contract returned is what the claims see."""
    array = np.arange(6.0)
    assert read_reply("scale", array) is array


def test_splits_parts_are_arrays_whatever_sequence_holds_them():
    """train_test_split's list, a tuple, or lists inside it: split's parts are a tuple of arrays."""
    found = read_reply("split", [[1, 2, 3], np.array([4]), (5.0, 6.0)])
    assert isinstance(found, tuple) and all(isinstance(part, np.ndarray) for part in found)
    np.testing.assert_array_equal(found[2], [5.0, 6.0])


@pytest.mark.parametrize(("function", "reply", "says"), [
    ("predicted_digits", None, "predicted_digits() returned None: does it end without `return`?"),
    ("predicted_digits", ["3", "0"], "returned a list of <U1 values, which are not numbers"),
    ("scale", [[0.0, 1.0], [0.5]], "returned a list that numpy cannot read as one array"),
    ("split", {"X_train": [1]}, "split() returned a dict, not the parts train_test_split returns"),
    ("split", ([1, 2], None), "split()'s part 2 returned None"),
])
def test_a_reply_numpy_cannot_read_as_numbers_is_refused_in_the_contracts_words(function, reply, says):
    """None, strings, ragged rows, a dict for split: refused, saying what came back and what to return."""
    with pytest.raises(UnreadableReply) as refused:
        read_reply(function, reply)
    assert says in str(refused.value)


def test_the_builders_replies_are_left_as_they_are():
    """A model is no data: build_mlp's reply is what it returned."""
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(2)])
    assert read_reply("build_mlp", model) is model


class _Remote:
    """A contract answered by another process: it is seeded through set_remote_seed."""

    def __init__(self):
        self.seeds = []

    def set_remote_seed(self, seed):
        self.seeds.append(seed)

    def predicted_digits(self, probabilities):
        return [int(np.argmax(row)) for row in probabilities]


def test_a_contract_seen_through_numpy_replies_answers_arrays_and_is_still_seeded():
    """NumpyReplies reads the data functions' replies and passes everything else on, seeding included."""
    from mnist_checks.compat import set_seed

    remote = _Remote()
    contract = NumpyReplies(remote)
    np.testing.assert_array_equal(contract.predicted_digits(np.eye(10)[[3, 1]]), [3, 1])
    set_seed(5, contract)
    assert remote.seeds == [5] and contract.set_remote_seed.__self__ is contract
