"""Spatial batch norm one channel at a time: x[:, k] holds all of channel k's
values, normalised as one vectorised batch."""
import numpy as np

BUG = ("spatial_batchnorm_forward", "var = v.var()", "var = v.var(ddof=1)")


def spatial_batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    out = np.empty(x.shape)
    x_hat = np.empty(x.shape)
    stds = []
    means, variances = [], []
    for k in range(x.shape[1]):
        v = x[:, k]
        if train:
            mean = v.mean()
            var = v.var()
            means.append(mean)
            variances.append(v.var(ddof=1))
        else:
            mean, var = state["running_mean"][k], state["running_var"][k]
        std = (var + eps) ** 0.5
        x_hat[:, k] = (v - mean) / std
        out[:, k] = gamma[k] * x_hat[:, k] + beta[k]
        stds.append(std)
    if train:
        state["running_mean"] = (1 - momentum) * state["running_mean"] + momentum * np.array(means)
        state["running_var"] = (1 - momentum) * state["running_var"] + momentum * np.array(variances)
    return out, (x_hat, np.array(stds), gamma)


def spatial_batchnorm_backward(dout, cache):
    x_hat, stds, gamma = cache
    dx = np.empty(dout.shape)
    dscale = np.empty(len(gamma))
    dshift = np.empty(len(gamma))
    for k in range(len(gamma)):
        d, xh = dout[:, k], x_hat[:, k]
        dshift[k] = d.sum()
        dscale[k] = (d * xh).sum()
        dxh = gamma[k] * d
        dx[:, k] = (dxh - dxh.mean() - xh * (dxh * xh).mean()) / stds[k]
    return dx, dscale, dshift
