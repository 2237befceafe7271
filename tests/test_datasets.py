"""The MNIST-format loader: IDX parsing, checksums, where files are looked for."""

from __future__ import annotations

import gzip
import hashlib
import struct

import numpy as np
import pytest

from grader import datasets
from grader.course import Course

SHARED_MNIST = Course.locate().root.parent / "shared" / "datasets" / "mnist"


def write_idx(path, array, compress):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    (gzip.open if compress else open)(path, "wb").write(data)
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("compress", [True, False])
def test_reads_gzip_and_raw_idx(tmp_path, compress):
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28))
    labels = np.arange(5)
    write_idx(tmp_path / ("t10k-images-idx3-ubyte" + (".gz" if compress else "")), images, compress)
    write_idx(tmp_path / ("t10k-labels-idx1-ubyte" + (".gz" if compress else "")), labels, compress)
    x, y = datasets.load("test", name="fashion-mnist", root=tmp_path)
    assert x.dtype == np.uint8 and np.array_equal(x, images) and np.array_equal(y, labels)


def test_checksum_mismatch_is_refused(tmp_path):
    path = tmp_path / "x.gz"
    write_idx(path, np.zeros((2, 2)), True)
    with pytest.raises(datasets.DatasetError, match="checksum mismatch"):
        datasets.read_idx(path, "0" * 64)


@pytest.mark.parametrize("data, message", [
    (b"\x01\x02\x08\x01", "bad magic"),
    (bytes([0, 0, 8, 1]) + struct.pack(">I", 9) + b"abc", "size does not match"),
])
def test_malformed_files_say_what_is_wrong(tmp_path, data, message):
    path = tmp_path / "bad"
    path.write_bytes(data)
    with pytest.raises(datasets.DatasetError, match=message):
        datasets.read_idx(path)


def test_missing_files_say_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("DLGRADE_DATA", str(tmp_path / "data"))
    with pytest.raises(datasets.DatasetError) as e:
        datasets.load("train", name="fashion-mnist")
    assert "train-images-idx3-ubyte" in str(e.value) and str(tmp_path / "data") in str(e.value)
    assert "DLGRADE_DATA" in str(e.value)


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason="the real MNIST is not at ../shared/datasets/mnist")
def test_real_mnist_checks_out():
    x, y = datasets.load("test")
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert np.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    x, _ = datasets.load("train")
    assert x.shape == (60000, 28, 28) and abs(x.mean() - 33.318) < 1e-3
