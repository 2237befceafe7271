"""np.einsum for every sum and product over an axis: the softmax's row sums
and its full (N, C, C) Jacobian, tanh's elementwise chain rule, and the
neuron's x @ w, outer product and batch sums."""
import numpy as np

BUG = ("neuron_backward", "np.einsum('nd,n->d', x, dz)", "np.einsum('nd,n->nd', x, dz)")


def tanh_forward(x):
    t = np.tanh(x)
    return t, t


def tanh_backward(dout, cache):
    return np.einsum('...,...->...', dout, 1 - np.einsum('...,...->...', cache, cache))


def softmax_forward(x):
    e = np.exp(x - np.max(x, axis=1)[:, None])
    probs = e / np.einsum('ij->i', e)[:, None]
    return probs, probs


def softmax_backward(dout, cache):
    n, c = cache.shape
    # jac[n, i, j] = d p_i / d x_j = p_i (delta_ij - p_j)
    jac = np.einsum('ni,ij->nij', cache, np.eye(c)) - np.einsum('ni,nj->nij', cache, cache)
    return np.einsum('nij,ni->nj', jac, dout)


_LAYERS = {"sigmoid": (sigmoid_forward, sigmoid_backward),
           "relu": (relu_forward, relu_backward)}


def neuron_forward(x, w, b, activation):
    z = np.einsum('nd,d->n', x, w) + b
    fwd = tanh_forward if activation == "tanh" else _LAYERS[activation][0]
    out, inner = fwd(z)
    return out, (x, w, activation, inner)


def neuron_backward(dout, cache):
    x, w, activation, inner = cache
    bwd = tanh_backward if activation == "tanh" else _LAYERS[activation][1]
    dz = bwd(dout, inner)
    return np.einsum('n,d->nd', dz, w), np.einsum('nd,n->d', x, dz), np.einsum('n->', dz)
