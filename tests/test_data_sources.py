"""The loader finds MNIST in every source: local files in both layouts, directories, the
environment variable, URLs with a cache, and says how to provide one when none is reachable."""

import hashlib
import os

import numpy as np
import pytest

from mnist_checks import data
from mnist_checks.data import DataError, DataUnavailable, load_digits, locate, read_digits

pytestmark = pytest.mark.fast


@pytest.fixture(autouse=True)
def no_configured_source(monkeypatch, tmp_path):
    """Each test starts as a fresh machine: no data variable, an empty private cache."""
    monkeypatch.delenv(data.ENV_DATA, raising=False)
    monkeypatch.setenv(data.ENV_CACHE, str(tmp_path / "cache"))


@pytest.mark.parametrize("name", ["digits.npz", "digits.csv", "digits.csv.zip"])
def test_every_layout_reads_back_the_same_digits(name, sample, write_digits, tmp_path):
    X, y = sample
    X_read, y_read = read_digits(write_digits(tmp_path / name, X, y))
    np.testing.assert_array_equal(X_read, X)
    np.testing.assert_array_equal(y_read, y)
    assert X_read.dtype == np.uint8 and y_read.dtype == np.uint8
    assert X_read.shape == (700, 784)


def test_npz_layout_puts_training_digits_before_test_digits(sample, write_digits, tmp_path):
    X, y = sample
    path = write_digits(tmp_path / "m.npz", X, y, n_train=600)
    with np.load(path) as archive:
        np.testing.assert_array_equal(archive["y_train"], y[:600])
        np.testing.assert_array_equal(archive["y_test"], y[600:])
    np.testing.assert_array_equal(read_digits(path)[1], y)


def test_a_directory_source_prefers_mnist_npz(sample, write_digits, tmp_path):
    write_digits(tmp_path / "digits.csv.zip", *sample)
    assert locate(tmp_path) == tmp_path / "digits.csv.zip"
    write_digits(tmp_path / "mnist.npz", *sample)
    assert locate(tmp_path) == tmp_path / "mnist.npz"


def test_the_environment_variable_names_the_source(monkeypatch, sample, write_digits, tmp_path):
    path = write_digits(tmp_path / "digits.csv", *sample)
    monkeypatch.setenv(data.ENV_DATA, str(tmp_path))
    assert locate() == path
    monkeypatch.setenv(data.ENV_DATA, str(path))
    assert locate() == path


def test_an_explicit_source_wins_over_the_environment_variable(monkeypatch, sample, write_digits, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.setenv(data.ENV_DATA, str(write_digits(tmp_path / "a" / "mnist.npz", *sample)))
    chosen = write_digits(tmp_path / "b" / "mnist.npz", *sample)
    assert locate(chosen) == chosen


def test_an_environment_variable_naming_nothing_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv(data.ENV_DATA, str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match=r"nowhere.*MNIST_CHECKS_DATA.*no such file"):
        load_digits()


def test_a_directory_without_known_files_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="holds none of mnist.npz"):
        load_digits(tmp_path)


def test_a_url_is_downloaded_once_into_the_cache(http_server, sample, write_digits, tmp_path):
    write_digits(http_server.root / "mnist.npz", *sample)
    url = f"{http_server.url}/mnist.npz"
    first = locate(url)
    assert first.parent == tmp_path / "cache"
    assert first.read_bytes() == (http_server.root / "mnist.npz").read_bytes()
    assert locate(url) == first
    assert http_server.requests == ["/mnist.npz"]


def test_an_interrupted_download_leaves_nothing_in_the_cache(http_server, tmp_path):
    with pytest.raises(DataUnavailable, match="download failed"):
        locate(f"{http_server.url}/truncated/digits.csv.zip")
    cache = tmp_path / "cache"
    assert not cache.exists() or list(cache.iterdir()) == []


def test_a_download_whose_hash_differs_is_rejected(monkeypatch, http_server, tmp_path):
    (http_server.root / "mnist.npz").write_bytes(b"not the file Keras publishes")
    remote = data.Remote("keras", f"{http_server.url}/mnist.npz", "mnist.npz", "0" * 64)
    monkeypatch.setattr(data, "REMOTES", (remote,))
    with pytest.raises(DataError, match="hash"):
        load_digits("keras")
    assert not (tmp_path / "cache" / "mnist.npz").exists()


def test_the_default_remotes_are_tried_in_order(monkeypatch, http_server, sample, write_digits):
    write_digits(http_server.root / "mnist.npz", *sample)
    digest = hashlib.sha256((http_server.root / "mnist.npz").read_bytes()).hexdigest()
    remotes = (
        data.Remote("exercise", f"{http_server.url}/missing/digits.csv.zip", "digits.csv.zip", None),
        data.Remote("keras", f"{http_server.url}/mnist.npz", "mnist.npz", digest),
    )
    monkeypatch.setattr(data, "REMOTES", remotes)
    assert locate().name == "mnist.npz"
    assert http_server.requests == ["/missing/digits.csv.zip", "/mnist.npz"]


def test_no_reachable_source_says_how_to_provide_one(monkeypatch, tmp_path):
    """The message says what every user can do (the variable, the cache, a download); it names no
    command-line option, since pytest's users read it too: the command line's remedy names --data."""
    unreachable = "http://127.0.0.1:9/"  # the discard port: connection refused
    remotes = tuple(data.Remote(r.name, unreachable + r.filename, r.filename, r.sha256) for r in data.REMOTES)
    monkeypatch.setattr(data, "REMOTES", remotes)
    with pytest.raises(DataUnavailable) as raised:
        load_digits()
    message = str(raised.value)
    for hint in ("MNIST_CHECKS_DATA", str(tmp_path / "cache"), "exercise", "keras"):
        assert hint in message
    assert "--data" not in message and "--data" in raised.value.remedy


def test_downloads_off_and_an_empty_cache_is_unavailable():
    with pytest.raises(DataUnavailable, match="downloads are off"):
        load_digits(download=False)


def test_a_cached_file_is_used_without_the_network(monkeypatch, sample, write_digits, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    cached = write_digits(cache / "mnist.npz", *sample)
    monkeypatch.setattr(data, "REMOTES", (data.Remote("keras", "http://127.0.0.1:9/mnist.npz", "mnist.npz", None),))
    assert locate(download=False) == cached
    assert locate() == cached


def test_the_cache_directory_follows_its_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setenv(data.ENV_CACHE, str(tmp_path / "elsewhere"))
    assert data.cache_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv(data.ENV_CACHE)
    assert "mnist_checks" in os.fspath(data.cache_dir())
