"""The message format refuses anything but plain numeric arrays; comparison
accepts float32 and float64, and its messages describe without revealing."""

from __future__ import annotations

import io
import json
import struct

import numpy as np
import pytest

from grader.child.wire import WireError, encode, read_message
from grader.compare import compare, matches
from grader.spec import Expected, Tolerance


def decode(data: bytes):
    return read_message(io.BytesIO(data).read)


def raw_message(header: dict, body: bytes = b"") -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + body


def test_round_trip_keeps_dtype_shape_and_values():
    arrays = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array(True), "c": np.zeros((0, 4))}
    meta, back = decode(encode({"k": 1}, arrays))
    assert meta == {"k": 1}
    for name, array in arrays.items():
        assert back[name].dtype == array.dtype and back[name].shape == array.shape
        assert type(back[name]) is np.ndarray and np.array_equal(back[name], array)


@pytest.mark.parametrize(
    "layout",
    [
        {"x": {"dtype": "|O", "shape": [1], "nbytes": 8}},
        {"x": {"dtype": "<c16", "shape": [1], "nbytes": 16}},
        {"x": {"dtype": "<f8", "shape": [2], "nbytes": 8}},
        {"x": {"dtype": "<f8", "shape": [-1], "nbytes": 8}},
        {"x": {"dtype": "<f8", "shape": [1 << 40], "nbytes": 8 << 40}},
        {"x": "not a spec"},
    ],
)
def test_forbidden_or_inconsistent_arrays_are_refused(layout):
    with pytest.raises(WireError):
        decode(raw_message({"meta": {}, "arrays": layout}, b"\0" * 16))


def test_object_arrays_cannot_be_sent():
    with pytest.raises(WireError):
        encode({}, {"x": np.array([object()])})


def test_pickle_bytes_are_never_unpickled():
    import pickle

    with pytest.raises(WireError):
        decode(struct.pack("<Q", 20) + pickle.dumps({"a": 1})[:20])


def test_float32_result_passes_default_tolerance():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 32)) * 1000
    w = rng.standard_normal((32, 16))
    exact = x @ w
    single = x.astype(np.float32) @ w.astype(np.float32)
    assert compare("out", single, Expected(exact), Tolerance()).ok
    assert not compare("out", single * 1.01, Expected(exact), Tolerance()).ok


def test_free_positions_accept_any_value():
    expected = Expected(np.array([0.0, 1.0]), free=np.array([True, False]))
    assert compare("dx", np.array([7.0, 1.0]), expected, Tolerance()).ok
    assert not compare("dx", np.array([0.0, 2.0]), expected, Tolerance()).ok


def test_scalar_may_come_back_as_one_element_array():
    assert compare("loss", np.array([[2.5]]), Expected(np.array(2.5)), Tolerance()).ok


@pytest.mark.parametrize(
    "actual, message",
    [
        (np.ones((3, 2)), "has shape (3, 2); expected shape (2, 3)"),
        (np.ones((2, 3), dtype=np.int64), "dtype int64"),
        (np.ones((2, 3), dtype=np.float16), "dtype float16"),
        (np.array([[1, np.nan, 1], [np.inf, 1, 1]]), "1 NaN and 1 infinite values (first at index (0, 1))"),
        (-np.arange(1.0, 7.0).reshape(2, 3), "opposite sign"),
        (0.5 * np.arange(1.0, 7.0).reshape(2, 3), "0.5 times the expected value"),
    ],
)
def test_messages_say_what_is_wrong(actual, message):
    verdict = compare("dx", actual, Expected(np.arange(1.0, 7.0).reshape(2, 3)), Tolerance())
    assert not verdict.ok and message in verdict.message


def test_transposition_is_spotted():
    ref = np.arange(9.0).reshape(3, 3)
    verdict = compare("dw", ref.T.copy(), Expected(ref), Tolerance())
    assert "transpose" in verdict.message


def test_bug_matching_treats_nan_at_same_places_as_equal():
    candidate = np.array([np.nan, 1.0, np.inf])
    assert matches(np.array([np.nan, 1.0, np.inf]), candidate, Tolerance())
    assert not matches(np.array([np.nan, 1.0, 2.0]), candidate, Tolerance())
    assert not matches(np.array([0.0, 1.0, np.inf]), candidate, Tolerance())
