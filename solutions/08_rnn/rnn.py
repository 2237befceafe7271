"""Assignment 8: a vanilla recurrent network and backpropagation through time.

The notation of the lectures: at step ``t`` the network reads ``x_t`` and its
previous state ``h_{t-1}`` and computes the new state

    h_t = tanh(x_t Wx + h_{t-1} Wh + b)

with the same weights ``Wx`` (D, H), ``Wh`` (H, H) and ``b`` (H,) at every
step. Sequences come batch first, as in ``torch.nn.RNN(batch_first=True)``:
``x`` has shape (N, T, D) and the states ``h`` shape (N, T, H).

* ``rnn_step_forward`` / ``rnn_step_backward``: one step.
* ``rnn_forward`` / ``rnn_backward``: a whole sequence; the backward pass is
  backpropagation through time, walking the steps in reverse.
* ``temporal_softmax_loss``: a linear read-out of every state, softmax
  cross-entropy against a class per step, averaged over the N * T steps.
* ``clip_gradients``: rescales a set of gradients so that their global norm is
  at most ``max_norm``, as ``torch.nn.utils.clip_grad_norm_``.

The CS231n shape: ``*_forward(...) -> (out, cache)`` and
``*_backward(dout, cache) -> gradients``. Leave every argument unchanged and
return new arrays. Use numpy only.
"""

import numpy as np


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    """One step of a vanilla RNN: ``h_next = tanh(x Wx + h_prev Wh + b)``.

    Args:
        x: inputs of this step, (N, D).
        h_prev: the previous state, (N, H).
        Wx: input-to-state weights, (D, H).
        Wh: state-to-state weights, (H, H).
        b: bias, (H,).

    Returns:
        h_next: the new state, (N, H).
        cache: what ``rnn_step_backward`` needs.
    """
    # BEGIN SOLUTION: compute the new state and keep what the backward pass needs
    h_next = np.tanh(x @ Wx + h_prev @ Wh + b)
    cache = (x, h_prev, Wx, Wh, h_next)
    return h_next, cache
    # END SOLUTION


def rnn_step_backward(dh_next, cache):
    """Backward pass of one RNN step.

    Args:
        dh_next: upstream gradient of the new state, (N, H).
        cache: from ``rnn_step_forward``.

    Returns:
        dx: (N, D), dh_prev: (N, H), dWx: (D, H), dWh: (H, H), db: (H,).
    """
    # BEGIN SOLUTION: back through tanh, then through the two products and the bias
    x, h_prev, Wx, Wh, h_next = cache
    # tanh'(a) = 1 - tanh(a)^2, and tanh(a) is the state we already have.
    da = dh_next * (1.0 - h_next**2)
    dx = da @ Wx.T
    dh_prev = da @ Wh.T
    dWx = x.T @ da
    dWh = h_prev.T @ da
    db = da.sum(axis=0)
    return dx, dh_prev, dWx, dWh, db
    # END SOLUTION


def rnn_forward(x, h0, Wx, Wh, b):
    """Runs the RNN over a whole sequence, starting from the state ``h0``.

    Args:
        x: the input sequence, (N, T, D).
        h0: the initial state, (N, H).
        Wx: (D, H), Wh: (H, H), b: (H,), shared by every step.

    Returns:
        h: the state after every step, (N, T, H) (``h[:, t]`` is ``h_t``).
        cache: what ``rnn_backward`` needs.
    """
    # BEGIN SOLUTION: apply rnn_step_forward at every step, feeding each state into the next
    N, T, _ = x.shape
    h = np.zeros((N, T, Wh.shape[0]), dtype=np.result_type(x, h0, Wx, Wh, b))
    step_caches = []
    h_t = h0
    for t in range(T):
        h_t, step_cache = rnn_step_forward(x[:, t], h_t, Wx, Wh, b)
        h[:, t] = h_t
        step_caches.append(step_cache)
    return h, step_caches
    # END SOLUTION


def rnn_backward(dh, cache):
    """Backpropagation through time.

    ``dh[:, t]`` is the gradient of the loss with respect to ``h_t`` coming
    from outside the recurrence (e.g. the read-out of step ``t``). The state
    ``h_t`` also feeds step ``t + 1``, so its total gradient is ``dh[:, t]``
    plus what flows back from the later steps. The weights are shared, so
    their gradients are sums over all steps.

    Args:
        dh: upstream gradient of every step's state, (N, T, H).
        cache: from ``rnn_forward``.

    Returns:
        dx: (N, T, D), dh0: (N, H), dWx: (D, H), dWh: (H, H), db: (H,).
    """
    # BEGIN SOLUTION: walk the steps in reverse, carrying the gradient from later steps and summing the weights'
    T = dh.shape[1]
    # Nothing flows back into the last state from later steps: there are none.
    dh_later = np.zeros_like(dh[:, 0])
    # The sums start at 0 and take their shapes from the steps' gradients, so
    # only rnn_step_backward needs to know what a step's cache holds.
    dWx = dWh = db = 0
    dx_steps = []
    for t in reversed(range(T)):
        dx_t, dh_later, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dh_later, cache[t])
        dx_steps.append(dx_t)
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    dx = np.stack(dx_steps[::-1], axis=1)
    return dx, dh_later, dWx, dWh, db
    # END SOLUTION


def temporal_softmax_loss(h, W_out, b_out, y):
    """A linear read-out of every state and softmax cross-entropy over all steps.

    The scores of step ``t`` are ``h[:, t] @ W_out + b_out``; the loss is the
    mean over the N * T steps of ``-log softmax(scores)[y]``. Subtract each
    row's maximum before exponentiating so that large scores do not overflow.

    Args:
        h: the states, (N, T, H).
        W_out: read-out weights, (H, C).
        b_out: read-out bias, (C,).
        y: the class of every step, integers in [0, C), (N, T).

    Returns:
        loss: a float.
        dh: (N, T, H), dW_out: (H, C), db_out: (C,): its gradients.
    """
    # BEGIN SOLUTION: scores, a stable log-softmax, the mean of the correct classes' losses, then its gradient
    N, T, H = h.shape
    states = h.reshape(N * T, H)
    labels = y.reshape(N * T)
    scores = states @ W_out + b_out
    shifted = scores - scores.max(axis=1, keepdims=True)
    # log softmax = scores - log(sum of exp(scores)), each row shifted by its maximum first.
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    steps = np.arange(N * T)
    loss = -log_probs[steps, labels].mean()
    # d loss / d scores = (softmax - one_hot) / (N T): the mean spreads 1 over N T steps.
    dscores = np.exp(log_probs)
    dscores[steps, labels] -= 1.0
    dscores /= N * T
    dh = (dscores @ W_out.T).reshape(N, T, H)
    dW_out = states.T @ dscores
    db_out = dscores.sum(axis=0)
    return float(loss), dh, dW_out, db_out
    # END SOLUTION


def clip_gradients(grads, max_norm):
    """Rescales the gradients so that their global norm is at most ``max_norm``.

    The global norm is ``sqrt(sum of the squares of every element of every
    array)``. When it exceeds ``max_norm``, every array is multiplied by the
    same factor ``max_norm / norm``, so the direction of the update is kept;
    otherwise the gradients are returned unchanged (as copies).

    Args:
        grads: a dict from names to arrays of any shapes, e.g. ``{"Wx": dWx, "Wh": dWh}``.
        max_norm: a positive float.

    Returns:
        a new dict with the same keys and new arrays; ``grads`` is left unchanged.
    """
    # BEGIN SOLUTION: the global norm over all arrays, then one common scale factor
    norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
    return {name: g * scale for name, g in grads.items()}
    # END SOLUTION
