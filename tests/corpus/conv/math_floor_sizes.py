"""The lectures' formula (W - F + 2P) / S + 1 taken literally, as a true
division rounded down with math.floor, and counts with int()."""
import math

BUG = ("conv_output_size", "math.floor((n - f + 2 * p) / s)", "math.ceil((n - f + 2 * p) / s)")


def _size(n, f, s, p):
    return math.floor((n - f + 2 * p) / s) + 1


def conv_output_size(H, W, HH, WW, stride, pad):
    return _size(H, HH, stride, pad), _size(W, WW, stride, pad)


def conv_params(C, F, HH, WW, bias=True):
    return int(F * (HH * WW * C + (1 if bias else 0)))


def linear_params(D, M, bias=True):
    return int((D + (1 if bias else 0)) * M)
