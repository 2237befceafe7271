"""Assignment 4: optimisers as update rules.

Training repeats one step: compute the gradient of the loss, then move the
parameters against it. Plain gradient descent, ``w <- w - lr * dw``, uses the
current gradient alone. The optimisers here also remember something from the
steps before (a running average of the gradients, one of their squares, a step
counter) and use it to choose a better step: momentum keeps moving through
flat or noisy regions, and Adam and RMSprop give every weight its own step
size.

Each optimiser is one function that performs one step:

    w_next, state = <optimiser>_step(w, dw, state, <hyper-parameters>)

* ``w`` holds the parameters (an array of any shape) and ``dw`` the gradient of
  the loss with respect to them (same shape);
* ``state`` is a dict with whatever the optimiser remembers between steps. It
  is empty (``{}``) before the first step; the function returns it updated and
  the caller passes it back on the next step. Which keys you store in it is up
  to you;
* ``w_next`` holds the parameters after the step: a new array (``w - ...``)
  or ``w`` itself updated in place (``w -= ...``, CS231n's convention); both
  are graded the same. ``state`` too may be updated in place or returned as
  a new dict. ``dw`` must be left unchanged.

Every function must do exactly what ``torch.optim`` does with the same
hyper-parameters (``SGD``, ``Adam``, ``AdamW``, ``RMSprop``): the grader runs
30 steps and more of your function and of PyTorch's optimiser on the same
gradients, and compares the whole trajectory. The docstrings give the update
equations; the "Algorithm" boxes in PyTorch's documentation give the same ones.
Small details matter over many steps: where the weight decay enters, how the
first step starts the running averages, where ``eps`` goes. Use numpy only.
"""

import numpy as np


def sgd_step(w, dw, state, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    """One step of stochastic gradient descent, with optional momentum
    (``torch.optim.SGD`` with ``dampening=0``).

    With ``g = dw + weight_decay * w`` (L2 weight decay added to the gradient):

    * without momentum, ``w_next = w - lr * g``;
    * with momentum, a buffer ``b`` accumulates the gradients: ``b = g`` on the
      first step, then ``b = momentum * b + g``. The step uses ``b``, or with
      Nesterov momentum ``g + momentum * b``: ``w_next = w - lr * b`` (or
      ``w - lr * (g + momentum * b)``).

    Args:
        w: parameters, an array of any shape.
        dw: gradient of the loss with respect to ``w``, same shape.
        state: dict, empty before the first step (the momentum buffer goes here).
        lr: learning rate, a float.
        momentum: momentum factor in [0, 1); 0 means plain SGD.
        nesterov: whether to use Nesterov momentum (only with momentum > 0).
        weight_decay: L2 penalty factor, a float >= 0.

    Returns:
        w_next: the parameters after the step, shape of ``w`` (a new array, or ``w`` updated in place).
        state: the updated state dict.
    """
    # BEGIN SOLUTION: add the L2 term to the gradient, update the momentum buffer (if any), then step
    g = dw + weight_decay * w
    if momentum != 0.0:
        # torch starts the buffer at the first gradient itself (not at a damped one).
        b = momentum * state["momentum_buffer"] + g if "momentum_buffer" in state else g
        state["momentum_buffer"] = b
        # Nesterov looks ahead: the gradient plus the momentum the next step will carry.
        g = g + momentum * b if nesterov else b
    w_next = w - lr * g
    return w_next, state
    # END SOLUTION


def adam_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    """One step of Adam (``torch.optim.Adam``).

    With ``g = dw + weight_decay * w`` (L2 weight decay added to the gradient)
    and the step number ``t`` (1 on the first step):

        m = beta1 * m + (1 - beta1) * g            (m = 0 before the first step)
        v = beta2 * v + (1 - beta2) * g ** 2       (v = 0 before the first step)
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        w_next = w - lr * m_hat / (sqrt(v_hat) + eps)

    Args:
        w: parameters, an array of any shape.
        dw: gradient of the loss with respect to ``w``, same shape.
        state: dict, empty before the first step (``m``, ``v`` and ``t`` go here).
        lr: learning rate.
        beta1, beta2: decay rates of the running averages of ``g`` and ``g ** 2``.
        eps: added to the denominator (outside the square root) for stability.
        weight_decay: L2 penalty factor, a float >= 0.

    Returns:
        w_next: the parameters after the step, shape of ``w`` (a new array, or ``w`` updated in place).
        state: the updated state dict.
    """
    # BEGIN SOLUTION: update the step count and both running averages, correct their bias, then take the step
    grad = dw + weight_decay * w
    t = state.get("t", 0) + 1
    m = beta1 * state.get("m", 0.0) + (1 - beta1) * grad
    v = beta2 * state.get("v", 0.0) + (1 - beta2) * grad ** 2
    state.update(t=t, m=m, v=v)
    # Both averages start at 0, so early on they are too small: dividing by 1 - beta ** t undoes that.
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    w_next = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w_next, state
    # END SOLUTION


def adamw_step(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    """One step of AdamW (``torch.optim.AdamW``): Adam with decoupled weight decay.

    The weights first shrink, ``w = w * (1 - lr * weight_decay)``; then Adam's
    update (see ``adam_step``) runs on the raw gradient ``dw``, without any
    weight decay in the gradient.

    Args:
        w: parameters, an array of any shape.
        dw: gradient of the loss with respect to ``w``, same shape.
        state: dict, empty before the first step.
        lr: learning rate.
        beta1, beta2: decay rates of the running averages of ``dw`` and ``dw ** 2``.
        eps: added to the denominator (outside the square root) for stability.
        weight_decay: decoupled weight decay factor, a float >= 0.

    Returns:
        w_next: the parameters after the step, shape of ``w`` (a new array, or ``w`` updated in place).
        state: the updated state dict.
    """
    # BEGIN SOLUTION: shrink the weights, then take an Adam step without weight decay in the gradient
    # Decoupled decay: the weights shrink directly, and the decay never enters Adam's averages.
    decayed = w * (1 - lr * weight_decay)
    return adam_step(decayed, dw, state, lr, beta1, beta2, eps)
    # END SOLUTION


def rmsprop_step(w, dw, state, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0):
    """One step of RMSprop (``torch.optim.RMSprop`` with ``centered=False``).

    With ``g = dw + weight_decay * w`` (L2 weight decay added to the gradient):

        s = alpha * s + (1 - alpha) * g ** 2       (s = 0 before the first step)
        step = g / (sqrt(s) + eps)

    then, without momentum, ``w_next = w - lr * step``; with momentum, a buffer
    ``b`` (0 before the first step) accumulates the steps,
    ``b = momentum * b + step``, and ``w_next = w - lr * b``.

    Args:
        w: parameters, an array of any shape.
        dw: gradient of the loss with respect to ``w``, same shape.
        state: dict, empty before the first step.
        lr: learning rate.
        alpha: decay rate of the running average of ``g ** 2``.
        eps: added to the denominator (outside the square root) for stability.
        weight_decay: L2 penalty factor, a float >= 0.
        momentum: momentum factor in [0, 1); 0 means none.

    Returns:
        w_next: the parameters after the step, shape of ``w`` (a new array, or ``w`` updated in place).
        state: the updated state dict.
    """
    # BEGIN SOLUTION: update the average of squared gradients, scale the gradient by its root, add momentum
    grad = dw + weight_decay * w
    square_avg = alpha * state.get("square_avg", 0.0) + (1 - alpha) * grad ** 2
    state["square_avg"] = square_avg
    # Each weight's step is its gradient divided by the typical size of its recent gradients.
    step = grad / (np.sqrt(square_avg) + eps)
    if momentum > 0:
        step = momentum * state.get("momentum_buffer", 0.0) + step
        state["momentum_buffer"] = step
    w_next = w - lr * step
    return w_next, state
    # END SOLUTION
