"""Assignment 5: convolution and pooling layers.

A convolutional layer slides ``F`` small filters over an image batch and, at
every position, takes the dot product of a filter with the patch of the input
under it (over all ``C`` channels at once), plus the filter's bias. Like
``torch.nn.functional.conv2d`` (and unlike the convolution of signal
processing) the filter is *not* flipped: this is a cross-correlation.
A pooling layer shrinks each channel on its own by keeping, per window, the
largest value (max-pooling) or the average (average-pooling).

Shapes follow CS231n:

* images ``x`` of shape ``(N, C, H, W)``: N examples, C channels, height H,
  width W;
* filters ``w`` of shape ``(F, C, HH, WW)`` and biases ``b`` of shape ``(F,)``;
* ``stride``: the step between two windows, the same along both axes;
* ``pad``: the number of rows and columns of zeros added on *each* side of
  every image before the filters slide over it.

With an ``H x W`` input, an ``HH x WW`` window, stride S and padding P, the
output has ``(H - HH + 2P) / S + 1`` rows, and likewise for columns. When S
does not divide ``H - HH + 2P``, the last rows that do not fill a whole window
are left out: the division rounds down (as in PyTorch).

Every layer has a ``*_forward`` function returning ``(out, cache)`` and a
``*_backward(dout, cache)`` function returning the gradients by the chain
rule. Windows may overlap (stride smaller than the window): then one input
pixel feeds several outputs, and its gradient is the *sum* of what each of
them sends back.

Use numpy only. Start with loops if it helps you think, then vectorise: the
graders time ``conv_forward``, ``conv_backward`` and the max-pool layer on a
larger batch, and a version with Python loops over every output pixel is many
times slower than one built on ``np.lib.stride_tricks.sliding_window_view``
(or an im2col matrix) with ``np.tensordot`` or ``np.einsum``. Check every
backward function against ``numerical_gradient``. Any correct way of writing a function gets full marks (loops, ``einsum``,
float32 or float64, whatever you keep in a cache), provided it leaves its
arguments unchanged: return new arrays (``out = np.maximum(0, x)``, not
``x[x < 0] = 0``); a change in place fails the case. Only
those four functions carry a speed point; every correctness case is small, so
a loop version keeps every other point. Where max pooling has ties, the
gradient may go to any one of the maxima.

Architecture arithmetic: the last four functions count what a network's layers
make of one example of shape ``(C, H, W)`` (the lectures' tables, where a
vector of D numbers is a ``D x 1 x 1`` volume) and how many parameters they
learn. A network is a list of layers, each a tuple (the grader sends lists:
unpack them, do not compare them with tuples) whose first entry is its kind:

* ``("conv", F, HH, WW, stride, pad, bias)``: F filters of ``HH x WW`` over
  every input channel; ``bias`` (True or False) adds one bias per filter;
* ``("max_pool", pool_height, pool_width, stride, pad)`` and
  ``("avg_pool", pool_height, pool_width, stride, pad)``: each channel on its
  own; no parameters;
* ``("batchnorm",)``: batch normalisation of each channel, with a learned
  scale (gamma) and shift (beta) per channel;
* ``("relu",)``: the shape unchanged, no parameters;
* ``("flatten",)``: ``(C, H, W)`` becomes a vector, ``(C * H * W, 1, 1)``;
* ``("linear", M, bias)``: a fully connected layer from the ``C * H * W``
  numbers of its input to M, output ``(M, 1, 1)``;
* ``("residual", main, shortcut)``: a residual block, two lists of layers
  applied to the same input, their outputs added (so they end in the same
  shape). An empty shortcut ``[]`` is the identity; where the main path
  changes the shape, the shortcut is a projection, e.g.
  ``[("conv", F, 1, 1, 2, 0, False), ("batchnorm",)]``.

``architectures.py`` beside this module holds ``VGG16`` and ``RESNET18``, the lectures' networks in
this notation.
"""

import numpy as np


def conv_output_size(H, W, HH, WW, stride, pad):
    """The spatial size of the output of a convolution or pooling layer.

    Args:
        H, W: height and width of the input (ints).
        HH, WW: height and width of the window (filter or pool), ints.
        stride: step between two windows (int).
        pad: zeros added on each side of the input (int).

    Returns:
        (H_out, W_out): a tuple of two ints.
    """
    # BEGIN SOLUTION: apply (size - window + 2 * pad) / stride + 1 to the height and to the width, rounding down
    # Integer division rounds down: windows that would stick out are dropped.
    H_out = (H - HH + 2 * pad) // stride + 1
    W_out = (W - WW + 2 * pad) // stride + 1
    return H_out, W_out
    # END SOLUTION


def conv_forward(x, w, b, stride, pad):
    """Forward pass of a convolutional layer (cross-correlation, as in PyTorch).

    ``out[n, f, i, j] = b[f] + sum over c, k, l of
    w[f, c, k, l] * x_padded[n, c, i * stride + k, j * stride + l]``.

    Args:
        x: input images, shape (N, C, H, W).
        w: filters, shape (F, C, HH, WW).
        b: biases, shape (F,).
        stride: step between two windows (int).
        pad: rows and columns of zeros added on each side of H and W (int).

    Returns:
        out: shape (N, F, H_out, W_out), see ``conv_output_size``.
        cache: what ``conv_backward`` needs.
    """
    # BEGIN SOLUTION: pad x, take every (HH, WW) window at the given stride, contract each with every filter, add b
    HH, WW = w.shape[2:]
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    # windows[n, c, i, j, k, l] = x_pad[n, c, i * stride + k, j * stride + l]: a view, no copy.
    windows = np.lib.stride_tricks.sliding_window_view(x_pad, (HH, WW), axis=(2, 3))[:, :, ::stride, ::stride]
    # Each output pixel is a dot product over (c, k, l) of a window and a filter; b[f] is
    # added to every pixel of output channel f.
    out = np.einsum('ncijkl,fckl->nfij', windows, w, optimize=True) + b[:, None, None]
    cache = (x, w, stride, pad, windows)
    return out, cache
    # END SOLUTION


def conv_backward(dout, cache):
    """Backward pass of a convolutional layer.

    Args:
        dout: upstream gradient, shape (N, F, H_out, W_out).
        cache: from ``conv_forward``.

    Returns:
        dx: shape (N, C, H, W).
        dw: shape (F, C, HH, WW).
        db: shape (F,).
    """
    # BEGIN SOLUTION: db sums dout; dw contracts dout with the windows; dx sends dout back through w onto each window
    x, w, stride, pad, windows = cache
    N, C, H, W = x.shape
    HH, WW = w.shape[2:]
    H_out, W_out = dout.shape[2:]
    # Each filter's bias is added at every output pixel of every example.
    db = np.sum(dout, axis=(0, 2, 3))
    # w[f, c, k, l] multiplies one pixel of every window of every example: sum over n, i, j.
    dw = np.einsum('nfij,ncijkl->fckl', dout, windows, optimize=True)
    # The gradient of each window, sum_f dout[n, f, i, j] * w[f, c, k, l], is added back
    # where the window came from, one filter offset (k, l) at a time: overlapping
    # windows share pixels, so their gradients add up.
    dwindows = np.einsum('nfij,fckl->ncklij', dout, w, optimize=True)
    dx_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    for k in range(HH):
        for l in range(WW):
            dx_pad[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride] += dwindows[:, :, k, l]
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db
    # END SOLUTION


def max_pool_forward(x, pool_height, pool_width, stride):
    """Forward pass of max-pooling, each channel on its own (no padding).

    Args:
        x: input, shape (N, C, H, W).
        pool_height, pool_width: window size (ints).
        stride: step between two windows (int); windows overlap when it is
            smaller than the window.

    Returns:
        out: the maximum of each window, shape (N, C, H_out, W_out).
        cache: what ``max_pool_backward`` needs.
    """
    # BEGIN SOLUTION: take every (pool_height, pool_width) window at the given stride and keep its maximum
    windows = np.lib.stride_tricks.sliding_window_view(x, (pool_height, pool_width), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]
    out = windows.max(axis=(4, 5))
    cache = (x.shape, stride, windows)
    return out, cache
    # END SOLUTION


def max_pool_backward(dout, cache):
    """Backward pass of max-pooling.

    Each window sends its upstream gradient to the input pixel that holds its
    maximum; where several pixels of a window tie for the maximum, the whole
    gradient goes to one of them (any one).

    Args:
        dout: upstream gradient, shape (N, C, H_out, W_out).
        cache: from ``max_pool_forward``.

    Returns:
        dx: shape (N, C, H, W).
    """
    # BEGIN SOLUTION: in each window, send dout to one position of its maximum, adding where windows overlap
    x_shape, stride, windows = cache
    N, C, H_out, W_out, ph, pw = windows.shape
    # One-hot of each window's maximum: np.argmax picks the first of tied maxima, so a
    # window's gradient goes to a single pixel.
    first_max = np.argmax(windows.reshape(N, C, H_out, W_out, ph * pw), axis=-1)
    mask = (np.arange(ph * pw) == first_max[..., None]).reshape(windows.shape)
    dwindows = mask * dout[..., None, None]
    dx = np.zeros(x_shape)
    for k in range(ph):
        for l in range(pw):
            dx[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride] += dwindows[..., k, l]
    return dx
    # END SOLUTION


def avg_pool_forward(x, pool_height, pool_width, stride):
    """Forward pass of average-pooling, each channel on its own (no padding).

    Args:
        x: input, shape (N, C, H, W).
        pool_height, pool_width: window size (ints).
        stride: step between two windows (int).

    Returns:
        out: the mean of each window, shape (N, C, H_out, W_out).
        cache: what ``avg_pool_backward`` needs.
    """
    # BEGIN SOLUTION: take every (pool_height, pool_width) window at the given stride and average it
    windows = np.lib.stride_tricks.sliding_window_view(x, (pool_height, pool_width), axis=(2, 3))
    out = windows[:, :, ::stride, ::stride].mean(axis=(4, 5))
    cache = (x.shape, pool_height, pool_width, stride)
    return out, cache
    # END SOLUTION


def avg_pool_backward(dout, cache):
    """Backward pass of average-pooling.

    Args:
        dout: upstream gradient, shape (N, C, H_out, W_out).
        cache: from ``avg_pool_forward``.

    Returns:
        dx: shape (N, C, H, W).
    """
    # BEGIN SOLUTION: share each window's dout equally among its pixels, adding where windows overlap
    x_shape, ph, pw, stride = cache
    H_out, W_out = dout.shape[2:]
    # Every pixel of a window weighs 1 / (ph * pw) in its mean.
    share = dout / (ph * pw)
    dx = np.zeros(x_shape)
    for k in range(ph):
        for l in range(pw):
            dx[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride] += share
    return dx
    # END SOLUTION


def conv_params(C, F, HH, WW, bias=True):
    """The number of parameters of a convolutional layer.

    Args:
        C: channels of its input (int).
        F: number of filters, each of shape (C, HH, WW): the channels of its output (int).
        HH, WW: height and width of a filter (ints).
        bias: whether each filter has a bias (bool).

    Returns:
        params: the number of weights and biases (int).
    """
    # BEGIN SOLUTION: each of the F filters has a weight per channel and position, and one bias when bias is True
    return F * C * HH * WW + (F if bias else 0)
    # END SOLUTION


def linear_params(D, M, bias=True):
    """The number of parameters of a fully connected (linear) layer from D numbers to M.

    Args:
        D: size of its input (int).
        M: size of its output (int).
        bias: whether each output has a bias (bool).

    Returns:
        params: the number of weights and biases (int).
    """
    # BEGIN SOLUTION: a weight for every pair of an input and an output, and one bias per output when bias is True
    return D * M + (M if bias else 0)
    # END SOLUTION


def layer_summary(input_shape, layer):
    """The output shape and the number of parameters of one layer, for one example.

    Args:
        input_shape: (C, H, W) of the layer's input (ints; (D, 1, 1) for a vector).
        layer: one layer in the notation of the module docstring (a tuple or list), not "residual".

    Returns:
        (C_out, H_out, W_out, params): four ints, a row of the lectures' table.
    """
    # BEGIN SOLUTION: by layer[0]: sizes from conv_output_size, counts from conv_params and linear_params
    C, H, W = input_shape
    kind = layer[0]
    if kind == "conv":
        _, F, HH, WW, stride, pad, bias = layer
        return (F, *conv_output_size(H, W, HH, WW, stride, pad), conv_params(C, F, HH, WW, bias))
    if kind in ("max_pool", "avg_pool"):
        _, pool_height, pool_width, stride, pad = layer
        return (C, *conv_output_size(H, W, pool_height, pool_width, stride, pad), 0)
    if kind == "batchnorm":
        # gamma and beta per channel are learned; the running mean and variance are statistics, not parameters.
        return C, H, W, 2 * C
    if kind == "relu":
        return C, H, W, 0
    if kind == "flatten":
        return C * H * W, 1, 1, 0
    if kind == "linear":
        _, M, bias = layer
        return M, 1, 1, linear_params(C * H * W, M, bias)
    raise ValueError(f"unknown kind of layer {kind!r}")
    # END SOLUTION


def network_summary(input_shape, layers):
    """The lectures' table of a network: each layer's output shape and parameter count, for one example.

    Args:
        input_shape: (C, H, W) of the network's input (ints).
        layers: the network, a list of layers in the notation of the module docstring, residual blocks included.

    Returns:
        table: int array of shape (len(layers), 4), row l the (C_out, H_out, W_out, params) of layers[l]; a
            residual block is one row: its output shape, and the parameters of both its paths.
    """
    # BEGIN SOLUTION: feed each layer's output shape to the next; a residual block sums the tables of its two paths
    rows = []
    shape = tuple(input_shape)
    for layer in layers:
        if layer[0] == "residual":
            _, main, shortcut = layer
            # Both paths see the block's input; their outputs are added, so the block has the main path's shape.
            path = network_summary(shape, main)
            row = (*path[-1, :3], path[:, 3].sum() + network_summary(shape, shortcut)[:, 3].sum())
        else:
            row = layer_summary(shape, layer)
        rows.append(row)
        shape = row[:3]
    return np.array(rows, dtype=np.int64).reshape(len(layers), 4)
    # END SOLUTION
