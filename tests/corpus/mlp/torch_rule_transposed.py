"""Fans by torch's rule, (out, in, *kernel), after turning the course's dense
(D_in, D_out) weight into torch's layout; math.prod for the kernel."""
import math

BUG = ("fan_in_and_out", "shape = tuple(shape)[::-1]", "shape = tuple(shape)")


def fan_in_and_out(shape):
    if len(shape) == 2:
        shape = tuple(shape)[::-1]  # nn.Linear stores (D_out, D_in)
    kernel = math.prod(shape[2:])
    return shape[1] * kernel, shape[0] * kernel
