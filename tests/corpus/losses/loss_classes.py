"""PyTorch-like loss objects: __call__ computes the loss and keeps what
backward() needs; the graded functions build one and call both."""
import numpy as np

BUG = ("softmax_cross_entropy", "return grad / n", "return grad")


class MSELoss:
    def __call__(self, pred, target):
        self.diff = pred - target
        return float(np.mean(self.diff * self.diff))

    def backward(self):
        return 2 * self.diff / self.diff.size


class CrossEntropyLoss:
    def __call__(self, logits, labels):
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_z = np.log(np.exp(shifted).sum(axis=1))
        self.labels, self.probs = labels, np.exp(shifted - log_z[:, None])
        return float(np.mean(log_z - shifted[np.arange(len(labels)), labels]))

    def backward(self):
        n = self.probs.shape[0]
        grad = self.probs.copy()
        grad[np.arange(n), self.labels] -= 1
        return grad / n


class BCEWithLogitsLoss:
    def __call__(self, x, y):
        self.x, self.y = x, y
        return float(np.mean(np.clip(x, 0, None) - x * y + np.log1p(np.exp(-np.abs(x)))))

    def backward(self):
        sig = np.exp(np.minimum(self.x, 0)) / (1 + np.exp(-np.abs(self.x)))
        return (sig - self.y) / self.x.size


def mse_loss(pred, target):
    f = MSELoss()
    return f(pred, target), f.backward()


def softmax_cross_entropy(logits, labels):
    f = CrossEntropyLoss()
    return f(logits, labels), f.backward()


def bce_with_logits(logits, targets):
    f = BCEWithLogitsLoss()
    return f(logits, targets), f.backward()
