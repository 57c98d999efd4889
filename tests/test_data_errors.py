"""Bad input gets a DataError that names the file and the problem, never a library's traceback."""

import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mnist_checks import facts
from mnist_checks.data import DataError, check_fingerprints, load_digits, read_digits

pytestmark = pytest.mark.fast


@pytest.fixture
def csv_text(sample):
    """The exercise's CSV layout for the first 3 sample digits, as lines of text."""
    X, y = sample
    header = ",".join(["label"] + [f"pixel{i}" for i in range(784)])
    rows = [",".join(map(str, [label, *row])) for label, row in zip(y[:3], X[:3])]
    return [header, *rows]


def write_csv(tmp_path, lines, name="digits.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def set_cell(lines, row, column, value):
    cells = lines[row + 1].split(",")
    cells[column] = value
    return [*lines[: row + 1], ",".join(cells), *lines[row + 2 :]]


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(DataError, match=r"absent\.npz.*no such file"):
        load_digits(tmp_path / "absent.npz")


def test_an_unknown_file_type_is_named(tmp_path):
    (tmp_path / "digits.parquet").write_bytes(b"x")
    with pytest.raises(DataError, match=r"digits\.parquet: unknown file type"):
        read_digits(tmp_path / "digits.parquet")


@pytest.mark.parametrize("name", ["digits.csv.zip", "mnist.npz"])
def test_a_truncated_archive_is_named(name, sample, write_digits, tmp_path):
    path = write_digits(tmp_path / name, *sample)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DataError, match=rf"{name}: not a readable .* \(truncated or corrupt\?\)"):
        read_digits(path)


def test_a_zip_whose_csv_is_corrupt_is_named(sample, write_digits, tmp_path):
    path = write_digits(tmp_path / "digits.csv.zip", *sample)
    raw = bytearray(path.read_bytes())
    raw[200:260] = bytes(60)  # inside the compressed CSV: a CRC or inflate error
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"digits\.csv\.zip: not a readable zip file"):
        read_digits(path)


@pytest.mark.parametrize("members", [[], ["a.csv", "b.csv"]])
def test_a_zip_must_hold_exactly_one_csv(members, tmp_path):
    path = tmp_path / "digits.csv.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("README.txt", "no digits here")
        for member in members:
            archive.writestr(member, "label\n1\n")
    with pytest.raises(DataError, match="exactly one .csv"):
        read_digits(path)


def test_an_npz_without_kerass_arrays_is_named(tmp_path):
    np.savez(tmp_path / "other.npz", X=np.zeros((2, 784)), y=np.zeros(2))
    with pytest.raises(DataError, match=r"other\.npz: .*missing array\(s\) x_train, y_train, x_test, y_test"):
        read_digits(tmp_path / "other.npz")


def test_npz_images_must_be_28_by_28(tmp_path):
    np.savez(tmp_path / "m.npz", x_train=np.zeros((2, 784)), y_train=np.zeros(2), x_test=np.zeros((1, 784)),
             y_test=np.zeros(1))
    with pytest.raises(DataError, match=r"x_train has shape \(2, 784\); expected \(n, 28, 28\)"):
        read_digits(tmp_path / "m.npz")


def test_npz_needs_one_label_per_image(tmp_path):
    np.savez(tmp_path / "m.npz", x_train=np.zeros((2, 28, 28)), y_train=np.zeros(3), x_test=np.zeros((1, 28, 28)),
             y_test=np.zeros(1))
    with pytest.raises(DataError, match="y_train has shape"):
        read_digits(tmp_path / "m.npz")


def test_an_empty_csv_is_named(tmp_path):
    with pytest.raises(DataError, match=r"digits\.csv: not a readable CSV"):
        read_digits(write_csv(tmp_path, [""]))


def test_a_wrong_column_count_is_named(csv_text, tmp_path):
    lines = [line.rsplit(",", 1)[0] for line in csv_text]
    with pytest.raises(DataError, match=r"digits\.csv: expected 785 columns .* found 784"):
        read_digits(write_csv(tmp_path, lines))


def test_a_csv_without_the_label_header_is_named(csv_text, tmp_path):
    lines = ["digit" + csv_text[0][len("label"):], *csv_text[1:]]
    with pytest.raises(DataError, match="no 'label' column"):
        read_digits(write_csv(tmp_path, lines))


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        (5, "abc", r"data row 2, column 'pixel4' is 'abc', not a number"),
        (5, "", r"data row 2, column 'pixel4' is empty \(NaN\)"),
        (5, "NaN", r"data row 2, column 'pixel4' is empty \(NaN\)"),
        (5, "256", r"data row 2, column 'pixel4': pixel value 256 is not an integer in 0\.\.255"),
        (5, "-1", r"pixel value -1 is not an integer in 0\.\.255"),
        (5, "3.5", r"pixel value 3\.5 is not an integer in 0\.\.255"),
        (0, "10", r"data row 2, column 'label': label 10 is not a digit 0\.\.9"),
        (0, "-1", r"label -1 is not a digit 0\.\.9"),
        (0, "2.5", r"label 2\.5 is not a digit 0\.\.9"),
    ],
)
def test_a_bad_cell_is_named_by_row_and_column(csv_text, tmp_path, column, value, problem):
    with pytest.raises(DataError, match=rf"digits\.csv: .*{problem}"):
        read_digits(write_csv(tmp_path, set_cell(csv_text, 1, column, value)))


def test_bad_pixels_in_an_npz_are_named(tmp_path):
    x = np.zeros((2, 28, 28), dtype=np.int16)
    x[1, 0, 3] = 300
    np.savez(tmp_path / "m.npz", x_train=x, y_train=np.zeros(2, np.uint8), x_test=x[:1] * 0,
             y_test=np.zeros(1, np.uint8))
    with pytest.raises(DataError, match=r"m\.npz: image 1, pixel 3: pixel value 300"):
        read_digits(tmp_path / "m.npz")


def test_a_wrong_row_count_is_named(sample, write_digits, tmp_path):
    path = write_digits(tmp_path / "mnist.npz", *sample)
    with pytest.raises(DataError, match=r"mnist\.npz: expected 70,000 rows .* found 700"):
        load_digits(path)


def mnist_shaped(labels_ok: bool):
    """70,000 blank digits; with MNIST's label counts if ``labels_ok``, else all zeros."""
    X = np.zeros((facts.N_ROWS, facts.N_PIXELS), dtype=np.uint8)
    if not labels_ok:
        return X, np.zeros(facts.N_ROWS, dtype=np.uint8)
    train = np.repeat(np.arange(10), facts.TRAIN_LABEL_COUNTS)
    test = np.repeat(np.arange(10), facts.TEST_LABEL_COUNTS)
    return X, np.concatenate([train, test]).astype(np.uint8)


def test_wrong_label_counts_fail_the_fingerprints():
    with pytest.raises(DataError, match=r"copy\.npz: not MNIST: label counts of y_train"):
        check_fingerprints(*mnist_shaped(labels_ok=False), "copy.npz")


def test_content_that_differs_from_mnist_fails_the_fingerprints(write_digits, tmp_path):
    path = write_digits(tmp_path / "mnist.npz", *mnist_shaped(labels_ok=True), n_train=60_000)
    with pytest.raises(DataError, match=r"mnist\.npz: content differs from MNIST .* SHA-256 of x_train"):
        load_digits(path)


bad_cells = st.one_of(
    st.tuples(st.integers(1, 784), st.sampled_from(["x", "", "nan", "1e9", "-3", "0.25", "256", "12abc"])),
    st.tuples(st.just(0), st.sampled_from(["10", "-1", "", "seven", "1.5", "99"])),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=st.integers(0, 2), cell=bad_cells)
def test_any_single_bad_cell_is_rejected_with_a_data_error(csv_text, tmp_path, row, cell):
    column, value = cell
    path = write_csv(tmp_path, set_cell(csv_text, row, column, value))
    with pytest.raises(DataError, match=rf"digits\.csv: data row {row + 1}"):
        read_digits(path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(["mnist.npz", "digits.csv.zip", "digits.csv"]),
    blob=st.binary(max_size=2000),
    keep=st.floats(0, 0.99),
)
def test_arbitrary_or_truncated_bytes_never_escape_as_a_library_error(
    sample, write_digits, tmp_path, name, blob, keep
):
    """Random bytes, or a valid file cut short then padded with them: a DataError or the digits."""
    path = write_digits(tmp_path / name, sample[0][:5], sample[1][:5])
    path.write_bytes(path.read_bytes()[: int(path.stat().st_size * keep)] + blob)
    try:
        X, y = read_digits(path)
    except DataError as error:
        assert name in str(error)
    else:  # a cut that happens to leave a valid file: what came back is still well-formed
        assert X.shape[1] == 784 and X.dtype == np.uint8 and set(np.unique(y)) <= set(range(10))
