"""MNIST for the exercise: from a local file, a directory, or a cached download, always checked.

``load_digits()`` returns what the exercise's Q1 starts from: ``X`` (70000, 784) and ``y``
(70000,), both uint8, the 60,000 training digits followed by the 10,000 test digits.  Where it
looks, in order:

1. the ``source`` argument: a file (``.npz``, ``.csv``, ``.csv.zip``), a directory holding one,
   an ``http(s)://`` URL, or the name of a known remote (``"exercise"`` or ``"keras"``);
2. the ``MNIST_CHECKS_DATA`` environment variable: a file or a directory;
3. the download cache (``MNIST_CHECKS_CACHE``, else the platform's cache directory), filling it
   from the exercise's URL, then from Keras's ``mnist.npz``, if it is empty.

Every file is parsed strictly and every full data set is checked against MNIST's content
fingerprints (``facts.py``).  Anything wrong raises ``DataError`` naming the file and the problem.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import facts
from .errors import MnistChecksError

ENV_DATA = "MNIST_CHECKS_DATA"
ENV_CACHE = "MNIST_CHECKS_CACHE"
#: File names looked for, in this order, in a directory given as the source.
KNOWN_FILES = ("mnist.npz", "digits.csv.zip", "digits.csv")
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
LABEL_COLUMN = "label"


class DataError(MnistChecksError):
    """A data source is missing, unreadable, or not MNIST; the message names the file and says what
    any user can do. ``remedy`` is the command line's (``--data``); pytest's is the suite's conftest's."""

    remedy = ("point --data (or MNIST_CHECKS_DATA) at a good copy of MNIST: mnist.npz in Keras's layout or the "
              "exercise's digits.csv.zip; a damaged download is fetched again once removed from the cache")


class DataUnavailable(DataError):
    """No data source is configured and none could be downloaded."""

    remedy = ("let the command download it once, online (it is kept in the cache, MNIST_CHECKS_CACHE), or point "
              "--data (or MNIST_CHECKS_DATA) at a local copy")


@dataclass(frozen=True)
class Remote:
    """A public copy of MNIST that a user's machine downloads."""

    name: str
    url: str
    filename: str
    sha256: str | None  # of the file; None where only the content fingerprints are known


REMOTES = (
    # The exercise's own file, read the way the exercise reads it (pandas.read_csv).
    Remote(
        "exercise",
        "https://raw.githubusercontent.com/cinnData/MLearning/main/Data/digits.csv.zip",
        "digits.csv.zip",
        None,
    ),
    # What keras.datasets.mnist.load_data() fetches, with the hash Keras itself checks.
    Remote(
        "keras",
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
        "mnist.npz",
        "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
    ),
)


def cache_dir() -> Path:
    """Where downloads are kept: ``$MNIST_CHECKS_CACHE``, else the platform's user cache."""
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE]).expanduser()
    import pooch

    return Path(pooch.os_cache("mnist_checks"))


def load_digits(source: str | os.PathLike | None = None, *, download: bool = True):
    """Q1's input: ``X`` (70000, 784) uint8 and ``y`` (70000,) uint8 in MNIST's order.

    ``source`` is a path, a URL or a remote's name (see the module's docstring); without it the
    environment variable, then the cache and the downloads are tried.  ``download=False`` never
    touches the network.  Raises ``DataError`` (``DataUnavailable`` if nothing was reachable).
    """
    path = locate(source, download=download)
    X, y = read_digits(path)
    check_fingerprints(X, y, path)
    return X, y


def locate(source: str | os.PathLike | None = None, *, download: bool = True) -> Path:
    """The local file that ``load_digits`` reads, downloading it first where needed."""
    if source is not None:
        text = os.fspath(source)
        remote = {r.name: r for r in REMOTES}.get(text)
        if remote is not None:
            return _fetch(remote, download=download)
        if text.startswith(("http://", "https://")):
            return _fetch(Remote("url", text, text.rstrip("/").rsplit("/", 1)[-1], None), download=download)
        return _local_file(Path(text).expanduser(), how="the given source")
    if os.environ.get(ENV_DATA):
        return _local_file(Path(os.environ[ENV_DATA]).expanduser(), how=f"${ENV_DATA}")
    failures = []
    for remote in REMOTES:
        try:
            return _fetch(remote, download=download)
        except DataUnavailable as error:
            failures.append(f"  - {remote.name} ({remote.url}): {error}")
    raise DataUnavailable(
        "No MNIST source could be reached:\n"
        + "\n".join(failures)
        + "\nProvide one of these:\n"
        f"  - set {ENV_DATA} to a file (mnist.npz, digits.csv.zip or digits.csv) or a directory holding one;\n"
        f"  - put mnist.npz or digits.csv.zip into the download cache {cache_dir()} "
        f"(set {ENV_CACHE} to use another directory);\n"
        "  - or connect to the internet once: downloads are cached."
    )


def _local_file(path: Path, how: str) -> Path:
    if path.is_dir():
        for name in KNOWN_FILES:
            if (path / name).is_file():
                return path / name
        raise DataError(f"{path} ({how}): directory holds none of {', '.join(KNOWN_FILES)}")
    if not path.is_file():
        raise DataError(f"{path} ({how}): no such file or directory")
    return path


def _fetch(remote: Remote, *, download: bool) -> Path:
    """The cached copy of ``remote``, downloaded atomically (pooch) if it is not cached yet."""
    import pooch
    import requests

    target = cache_dir() / remote.filename
    if target.is_file() or not download:
        if not target.is_file():
            raise DataUnavailable(f"not in the cache ({target}) and downloads are off")
        return target
    try:
        # pooch writes to a temporary file beside the target and renames it only once the
        # download is complete and its hash matches: an interrupted download leaves nothing.
        return Path(
            pooch.retrieve(
                remote.url,
                known_hash=f"sha256:{remote.sha256}" if remote.sha256 else None,
                fname=remote.filename,
                path=target.parent,
                progressbar=True,
            )
        )
    except requests.RequestException as error:
        raise DataUnavailable(f"download failed: {error}") from error
    except ValueError as error:  # pooch's hash mismatch
        raise DataError(f"{remote.url}: {error}") from error
    except OSError as error:
        raise DataError(f"cannot write the download cache {target.parent}: {error}") from error


# --- reading files -------------------------------------------------------------------------

#: What a damaged file raises inside numpy, zipfile, zlib and pandas.
_READ_ERRORS = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error, UnicodeDecodeError)


def read_digits(path: str | os.PathLike):
    """Parse one file in either layout into ``(X, y)``, checking structure but not row count.

    ``.npz``: Keras's layout (``x_train`` (n, 28, 28), ``y_train``, ``x_test``, ``y_test``).
    ``.csv`` or ``.csv.zip``/``.zip``: the exercise's layout (a ``label`` column, then 784 pixel
    columns).  Raises ``DataError`` naming the file on anything malformed.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    name = path.name.lower()
    if name.endswith(".npz"):
        return _read_npz(path)
    if name.endswith(".zip"):
        return _read_zipped_csv(path)
    if name.endswith(".csv"):
        with open(path, "rb") as handle:
            return _read_csv(handle, path)
    raise DataError(f"{path}: unknown file type; expected .npz, .csv or .csv.zip")


def _read_npz(path: Path):
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in NPZ_KEYS if key not in archive.files]
            if missing:
                raise DataError(
                    f"{path}: not in Keras's mnist.npz layout: missing array(s) {', '.join(missing)}"
                )
            arrays = {key: archive[key] for key in NPZ_KEYS}
    except DataError:
        raise
    except _READ_ERRORS as error:
        raise DataError(f"{path}: not a readable .npz file (truncated or corrupt?): {error}") from error
    parts = []
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if x.ndim != 3 or x.shape[1:] != (28, 28):
            raise DataError(f"{path}: x_{part} has shape {x.shape}; expected (n, 28, 28)")
        if y.ndim != 1 or len(y) != len(x):
            raise DataError(f"{path}: y_{part} has shape {y.shape}; expected ({len(x)},), one label per image")
        parts.append((x.reshape(len(x), facts.N_PIXELS), y))
    X = _checked_pixels(np.concatenate([p[0] for p in parts]), path, where=_npz_where)
    y = _checked_labels(np.concatenate([p[1] for p in parts]), path, where=_npz_where)
    return X, y


def _npz_where(row: int, column: int | None = None) -> str:
    return f"image {row}" + ("" if column is None else f", pixel {column}")


def _read_zipped_csv(path: Path):
    try:
        with zipfile.ZipFile(path) as archive:
            members = [
                m for m in archive.namelist() if m.lower().endswith(".csv") and not m.startswith("__MACOSX")
            ]
            if len(members) != 1:
                raise DataError(f"{path}: expected exactly one .csv inside the zip, found {members or 'none'}")
            data = archive.read(members[0])
    except DataError:
        raise
    except _READ_ERRORS as error:
        raise DataError(f"{path}: not a readable zip file (truncated or corrupt?): {error}") from error
    return _read_csv(io.BytesIO(data), path)


def _read_csv(handle, path: Path):
    import pandas as pd

    try:
        frame = pd.read_csv(handle)  # as the exercise reads it
    except _READ_ERRORS as error:
        raise DataError(f"{path}: not a readable CSV file: {error}") from error
    n_columns = 1 + facts.N_PIXELS
    if frame.shape[1] != n_columns:
        raise DataError(
            f"{path}: expected {n_columns} columns ({LABEL_COLUMN} and {facts.N_PIXELS} pixels), "
            f"found {frame.shape[1]}"
        )
    if LABEL_COLUMN not in frame.columns:
        raise DataError(
            f"{path}: no '{LABEL_COLUMN}' column in the header; expected the exercise's header "
            f"{LABEL_COLUMN},pixel0,...,pixel783"
        )
    values = frame.copy()
    for column in frame.columns[[not pd.api.types.is_numeric_dtype(t) for t in frame.dtypes]]:
        values[column] = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna().to_numpy()
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        found = frame.iat[row, column]
        what = "is empty (NaN)" if pd.isna(found) else f"is {str(found)[:20]!r}, not a number"
        raise DataError(f"{path}: data row {row + 1}, column '{frame.columns[column]}' {what}")

    def where(row: int, column: int | None = None) -> str:
        name = LABEL_COLUMN if column is None else frame.columns.drop(LABEL_COLUMN)[column]
        return f"data row {row + 1}, column '{name}'"

    X = _checked_pixels(values.drop(columns=LABEL_COLUMN).to_numpy(), path, where)
    y = _checked_labels(values[LABEL_COLUMN].to_numpy(), path, where)
    return X, y


def _checked_pixels(X: np.ndarray, path: Path, where) -> np.ndarray:
    """``X`` as uint8 after checking every value is an integer grey level 0..255."""
    if X.dtype.kind not in "iuf":
        raise DataError(f"{path}: pixels have dtype {X.dtype}; expected integers 0..255")
    bad = (X < 0) | (X > 255)
    if X.dtype.kind == "f":
        bad |= ~np.isfinite(X) | (X != np.round(X))
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        raise DataError(f"{path}: {where(row, column)}: pixel value {X[row, column].item()!r} is not an integer "
                        "in 0..255")
    return X.astype(np.uint8)


def _checked_labels(y: np.ndarray, path: Path, where) -> np.ndarray:
    """``y`` as uint8 after checking every label is a digit 0..9."""
    if y.dtype.kind not in "iuf":
        raise DataError(f"{path}: labels have dtype {y.dtype}; expected integers 0..9")
    bad = ~np.isin(y, np.arange(facts.N_CLASSES))
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(f"{path}: {where(row)}: label {y[row].item()!r} is not a digit 0..9")
    return y.astype(np.uint8)


# --- checking content ----------------------------------------------------------------------


def sha256_of(array) -> str:
    """SHA-256 of an array's raw C-order uint8 bytes, as MNIST's fingerprints are taken."""
    return hashlib.sha256(np.ascontiguousarray(array, dtype=np.uint8).tobytes()).hexdigest()


def check_fingerprints(X: np.ndarray, y: np.ndarray, path: str | os.PathLike = "data") -> None:
    """Raise ``DataError`` unless ``(X, y)`` is all of MNIST in its original order."""
    if len(X) != facts.N_ROWS or len(y) != facts.N_ROWS:
        raise DataError(
            f"{path}: expected {facts.N_ROWS:,} rows ({facts.N_TRAIN:,} training digits then "
            f"{facts.N_TEST:,} test digits), found {len(X):,}"
        )
    parts = {
        "x_train": X[: facts.N_TRAIN],
        "y_train": y[: facts.N_TRAIN],
        "x_test": X[facts.N_TRAIN :],
        "y_test": y[facts.N_TRAIN :],
    }
    for part, expected in (("y_train", facts.TRAIN_LABEL_COUNTS), ("y_test", facts.TEST_LABEL_COUNTS)):
        counts = tuple(int(c) for c in np.bincount(parts[part], minlength=facts.N_CLASSES))
        if counts != expected:
            raise DataError(
                f"{path}: not MNIST: label counts of {part} are {counts}, expected {expected}"
            )
    for part, expected in facts.ARRAY_SHA256.items():
        found = sha256_of(parts[part])
        if found != expected:
            raise DataError(
                f"{path}: content differs from MNIST (rows reordered or modified?): SHA-256 of "
                f"{part} is {found[:16]}..., expected {expected[:16]}..."
            )
