"""Public checks for assignment 5. Run them with ``pytest test_public.py`` in this folder.

They test values you can verify by hand (a filter that picks one pixel, a sum
over a window, the maximum of each window, rows of the lectures' tables) and
compare every backward function with a numerical gradient (central differences). Passing them is a good sign,
not a guarantee: the grader uses other shapes, strides, paddings and ties.
"""

import numpy as np

from architectures import RESNET18, VGG16
from conv import (
    avg_pool_backward,
    avg_pool_forward,
    conv_backward,
    conv_forward,
    conv_output_size,
    conv_params,
    layer_summary,
    linear_params,
    max_pool_backward,
    max_pool_forward,
    network_summary,
)
from dlgrade_student import assert_gradient

# dlgrade_student.py, beside this file, prints a summary per function after the tests.
pytest_plugins = ["dlgrade_student"]


def check_gradient(forward, backward, x, name="x", seed=1):
    """Compare backward(dout, cache) with d(sum(forward(x) * dout))/dx."""
    out, cache = forward(x)
    dout = np.random.default_rng(seed).standard_normal(np.shape(out))
    dx = backward(dout, cache)
    assert np.shape(dx) == np.shape(x), f"d{name} should have the shape of {name}, {np.shape(x)}; got {np.shape(dx)}"
    assert_gradient(lambda: forward(x)[0], x, dx, dout, f"d{name}")


# --------------------------------------------------------------------------- conv_output_size


def test_conv_output_size_lecture_example():
    # 5x5 input, 3x3 filter, padding 1, stride 2: (5 - 3 + 2) / 2 + 1 = 3
    assert tuple(conv_output_size(5, 5, 3, 3, 2, 1)) == (3, 3), "(5 - 3 + 2*1) / 2 + 1 = 3 rows and 3 columns"


def test_conv_output_size_non_square():
    size = tuple(conv_output_size(6, 10, 3, 5, 1, 0))
    assert size == (4, 6), f"a 6x10 input and a 3x5 filter give 4 rows and 6 columns; got {size}"


def test_conv_output_size_rounds_down():
    size = tuple(conv_output_size(8, 7, 3, 3, 2, 0))
    assert size == (3, 3), (f"with stride 2, an 8x7 input fits 3 windows of size 3 per axis (a fourth would stick "
                            f"out); got {size}")
    assert all(isinstance(v, (int, np.integer)) for v in size), f"sizes should be ints; got {size}"


# --------------------------------------------------------------------------- conv_forward


def test_conv_forward_shape():
    x = np.zeros((2, 3, 7, 9))
    w = np.zeros((4, 3, 3, 3))
    out, _ = conv_forward(x, w, np.zeros(4), 2, 1)
    assert out.shape == (2, 4, 4, 5), f"out should have shape (N, F, H_out, W_out) = (2, 4, 4, 5); got {out.shape}"


def test_conv_forward_is_cross_correlation():
    # A 3x3 filter with a single 1 at row 0, column 2 copies, at output pixel (i, j),
    # the input pixel (i, j + 2): the filter is not flipped.
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    w = np.zeros((1, 1, 3, 3))
    w[0, 0, 0, 2] = 1.0
    out, _ = conv_forward(x, w, np.zeros(1), 1, 0)
    assert np.allclose(out[0, 0], x[0, 0, :3, 2:]), f"out[i, j] should be x[i, j + 2] (no flip); got\n{out[0, 0]}"


def test_conv_forward_sums_channels_and_adds_bias_per_filter():
    x = np.ones((1, 2, 4, 4))
    w = np.ones((3, 2, 2, 2))
    b = np.array([0.0, 10.0, -1.0])
    out, _ = conv_forward(x, w, b, 2, 0)
    expected = np.array([8.0, 18.0, 7.0])[None, :, None, None] * np.ones((1, 3, 2, 2))
    assert np.allclose(out, expected), (f"each output is 2 channels * 2 * 2 ones = 8, plus the bias of its filter "
                                        f"(b[f] for every pixel of channel f); got {out}")


def test_conv_forward_zero_padding():
    x = np.ones((1, 1, 3, 3))
    w = np.ones((1, 1, 3, 3))
    out, _ = conv_forward(x, w, np.zeros(1), 1, 1)
    expected = np.array([[4.0, 6.0, 4.0], [6.0, 9.0, 6.0], [4.0, 6.0, 4.0]])
    assert np.allclose(out[0, 0], expected), (f"with one ring of zeros around the input, a corner window covers "
                                              f"4 ones, an edge window 6, the centre 9; got\n{out[0, 0]}")


# --------------------------------------------------------------------------- conv_backward


def _conv_inputs():
    rng = np.random.default_rng(0)
    return rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)


def test_conv_backward_shapes():
    x, w, b = _conv_inputs()
    out, cache = conv_forward(x, w, b, 2, 1)
    dx, dw, db = conv_backward(np.ones_like(out), cache)
    assert np.shape(dx) == x.shape and np.shape(dw) == w.shape and np.shape(db) == b.shape, (
        f"dx, dw, db should have the shapes of x, w, b: {x.shape}, {w.shape}, {b.shape}; "
        f"got {np.shape(dx)}, {np.shape(dw)}, {np.shape(db)}")


def test_conv_backward_gradcheck_dx():
    x, w, b = _conv_inputs()
    check_gradient(lambda v: conv_forward(v, w, b, 2, 1), lambda d, c: conv_backward(d, c)[0], x, "x")


def test_conv_backward_gradcheck_dw():
    x, w, b = _conv_inputs()
    check_gradient(lambda v: conv_forward(x, v, b, 2, 1), lambda d, c: conv_backward(d, c)[1], w, "w")


def test_conv_backward_gradcheck_db():
    x, w, b = _conv_inputs()
    check_gradient(lambda v: conv_forward(x, w, v, 2, 1), lambda d, c: conv_backward(d, c)[2], b, "b")


def test_conv_backward_gradcheck_overlapping_windows():
    x, w, b = _conv_inputs()
    check_gradient(lambda v: conv_forward(v, w, b, 1, 0), lambda d, c: conv_backward(d, c)[0], x, "x")


# --------------------------------------------------------------------------- max-pooling


def test_max_pool_forward_values():
    x = np.array([[1.0, 2.0, -1.0, 0.0],
                  [3.0, 0.5, -2.0, -3.0],
                  [0.0, 0.0, 4.0, 1.0],
                  [-1.0, 5.0, 2.0, 2.0]]).reshape(1, 1, 4, 4)
    out, _ = max_pool_forward(x, 2, 2, 2)
    assert np.allclose(out, [[[[3.0, 0.0], [5.0, 4.0]]]]), f"the maximum of each 2x2 block; got {out}"


def test_max_pool_forward_overlapping_windows():
    x = np.arange(12.0).reshape(1, 1, 3, 4)
    out, _ = max_pool_forward(x, 2, 2, 1)
    assert out.shape == (1, 1, 2, 3), f"2x2 windows at stride 1 over 3x4 give a 2x3 output; got {out.shape}"
    assert np.allclose(out[0, 0], [[5.0, 6.0, 7.0], [9.0, 10.0, 11.0]]), f"unexpected maxima {out[0, 0]}"


def test_max_pool_backward_routes_to_the_maximum():
    x = np.array([[1.0, 2.0], [4.0, 3.0]]).reshape(1, 1, 2, 2)
    _, cache = max_pool_forward(x, 2, 2, 2)
    dx = max_pool_backward(np.full((1, 1, 1, 1), 7.0), cache)
    assert np.allclose(dx[0, 0], [[0.0, 0.0], [7.0, 0.0]]), f"only the maximum (4) gets the gradient; got {dx}"


def test_max_pool_backward_overlapping_windows_add_up():
    # The 9 is the maximum of all four 2x2 windows at stride 1.
    x = np.array([[1.0, 2.0, 3.0], [4.0, 9.0, 5.0], [6.0, 7.0, 8.0]]).reshape(1, 1, 3, 3)
    _, cache = max_pool_forward(x, 2, 2, 1)
    dx = max_pool_backward(np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2), cache)
    assert np.isclose(dx[0, 0, 1, 1], 10.0), f"the 9 is the maximum of 4 windows: 1 + 2 + 3 + 4 = 10; got {dx}"
    assert np.isclose(np.sum(dx), 10.0), f"no other pixel is a maximum; got {dx}"


def test_max_pool_backward_tie_goes_to_one_maximum():
    x = np.array([[2.0, 2.0], [0.0, 1.0]]).reshape(1, 1, 2, 2)
    _, cache = max_pool_forward(x, 2, 2, 2)
    dx = max_pool_backward(np.full((1, 1, 1, 1), 5.0), cache)
    got = dx[0, 0]
    assert np.isclose(np.sum(got), 5.0) and np.isclose(np.max(got), 5.0) and np.allclose(got[1], 0.0), (
        f"two pixels tie for the maximum: the whole gradient 5 goes to one of them (either); got\n{got}")


def test_max_pool_backward_gradcheck():
    # distinct values, well apart, so that small steps never change which pixel is the maximum
    x = np.random.default_rng(0).permutation(2 * 2 * 6 * 7).reshape(2, 2, 6, 7) * 0.1
    check_gradient(lambda v: max_pool_forward(v, 3, 2, 2), max_pool_backward, x)


# --------------------------------------------------------------------------- average-pooling


def test_avg_pool_forward_values():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    out, _ = avg_pool_forward(x, 2, 2, 2)
    assert np.allclose(out, [[[[2.5, 4.5], [10.5, 12.5]]]]), f"the mean of each 2x2 block; got {out}"


def test_avg_pool_backward_shares_equally():
    _, cache = avg_pool_forward(np.zeros((1, 1, 2, 2)), 2, 2, 2)
    dx = avg_pool_backward(np.full((1, 1, 1, 1), 8.0), cache)
    assert np.allclose(dx, 2.0), f"each of the 4 pixels gets a quarter of the gradient 8; got {dx}"


def test_avg_pool_backward_gradcheck():
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 6))
    check_gradient(lambda v: avg_pool_forward(v, 3, 2, 2), avg_pool_backward, x)
    check_gradient(lambda v: avg_pool_forward(v, 2, 2, 1), avg_pool_backward, x)


# --------------------------------------------------------------------------- architecture arithmetic


def test_conv_params_lecture_rows():
    assert conv_params(3, 64, 3, 3) == 1792, "VGG-16's first layer: 64 filters of 3 * 3 * 3 weights, and 64 biases"
    assert conv_params(64, 128, 3, 3) == 73856, "64 input channels, 128 filters of 3x3: 128 * (3 * 3 * 64 + 1)"
    assert conv_params(64, 128, 1, 1, bias=False) == 8192, "a 1x1 convolution without bias: 128 * 64 weights"


def test_linear_params_lecture_row():
    assert linear_params(25088, 4096) == 102764544, "VGG-16's first fully connected layer: 25088 * 4096 + 4096"
    assert linear_params(10, 3, bias=False) == 30, "10 inputs, 3 outputs, no bias: 30 weights"


def test_layer_summary_of_each_kind():
    rows = {
        "conv": ((3, 224, 224), ("conv", 64, 3, 3, 1, 1, True), (64, 224, 224, 1792)),
        "max_pool": ((64, 224, 224), ("max_pool", 2, 2, 2, 0), (64, 112, 112, 0)),
        "avg_pool": ((512, 7, 7), ("avg_pool", 7, 7, 7, 0), (512, 1, 1, 0)),
        "batchnorm": ((64, 56, 56), ("batchnorm",), (64, 56, 56, 128)),
        "relu": ((64, 56, 56), ("relu",), (64, 56, 56, 0)),
        "flatten": ((512, 7, 7), ("flatten",), (25088, 1, 1, 0)),
        "linear": ((25088, 1, 1), ("linear", 4096, True), (4096, 1, 1, 102764544)),
    }
    for kind, (shape, layer, expected) in rows.items():
        got = tuple(layer_summary(shape, layer))
        assert got == expected, f"{kind} on {shape}: expected (C_out, H_out, W_out, params) = {expected}; got {got}"


def test_layer_summary_rounds_down_and_takes_lists():
    # The grader sends lists. ResNet-18's first layer in the lectures' table: 227x227, 7x7 filters, stride 2, pad 1.
    got = tuple(layer_summary([3, 227, 227], ["conv", 64, 7, 7, 2, 1, True]))
    assert got == (64, 112, 112, 9472), f"(227 - 7 + 2) / 2 + 1 = 112 rounded down, 64 * (7 * 7 * 3 + 1); got {got}"


def test_network_summary_of_a_residual_block():
    # A block that halves the size and doubles the channels, so its shortcut is a 1x1 convolution of stride 2.
    block = ("residual", [("conv", 16, 3, 3, 2, 1, False), ("batchnorm",), ("relu",),
                          ("conv", 16, 3, 3, 1, 1, False), ("batchnorm",)],
             [("conv", 16, 1, 1, 2, 0, False), ("batchnorm",)])
    table = network_summary((8, 9, 9), [block, ("relu",), ("flatten",)])
    assert np.shape(table) == (3, 4), f"one row (C_out, H_out, W_out, params) per layer; got shape {np.shape(table)}"
    main = 16 * 8 * 9 + 2 * 16 + 16 * 16 * 9 + 2 * 16
    shortcut = 16 * 8 + 2 * 16
    expected = [[16, 5, 5, main + shortcut], [16, 5, 5, 0], [400, 1, 1, 0]]
    assert np.array_equal(table, expected), (f"the block's row counts its main path ({main}) and its shortcut "
                                              f"({shortcut}); expected {expected}, got {np.asarray(table).tolist()}")


def test_network_summary_lecture_totals():
    vgg = network_summary((3, 224, 224), VGG16)
    assert tuple(vgg[-1]) == (1000, 1, 1, 4097000), f"VGG-16 ends in 1000 scores; got the row {tuple(vgg[-1])}"
    assert vgg[:, 3].sum() == 138357544, f"VGG-16 has 138,357,544 parameters; got {vgg[:, 3].sum():,}"
    resnet = network_summary((3, 224, 224), RESNET18)
    assert resnet[:, 3].sum() == 11689512, f"ResNet-18 has 11,689,512 parameters; got {resnet[:, 3].sum():,}"
