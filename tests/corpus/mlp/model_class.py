"""CS231n's TwoLayerNet as a class: ``loss(X, y=None)`` returns the scores
when there are no labels and (loss, grads) otherwise, ``train`` runs SGD
and ``predict`` argmaxes the scores; the graded functions wrap the class."""
import numpy as np

BUG = ("predict", "return self.loss(X).argmax(axis=1)", "return self.loss(X).argmax()")


class TwoLayerNet:
    def __init__(self, params, activation):
        self.params, self.activation = params, activation

    @classmethod
    def initialised(cls, input_size, hidden_size, output_size, activation, rng):
        std1, std2 = 1 / np.sqrt(input_size), 1 / np.sqrt(hidden_size)
        params = {"W": std1 * rng.standard_normal((input_size, hidden_size)), "b1": np.zeros(hidden_size),
                  "U": std2 * rng.standard_normal((hidden_size, output_size)), "b2": np.zeros(output_size)}
        return cls(params, activation)

    def loss(self, X, y=None, kind="cross_entropy"):
        p = self.params
        pre = X.dot(p["W"]) + p["b1"]
        if self.activation == "relu":
            hidden = pre * (pre > 0)
        else:
            hidden = np.exp(-np.logaddexp(0, -pre))
        scores = hidden.dot(p["U"]) + p["b2"]
        if y is None:
            return scores
        N = X.shape[0]
        if kind == "mse":
            loss = np.mean((scores - y) ** 2)
            dscores = 2 * (scores - y) / scores.size
        else:
            logits = scores - np.max(scores, axis=1, keepdims=True)
            logprobs = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
            loss = -np.sum(logprobs[np.arange(N), y]) / N
            dscores = np.exp(logprobs)
            dscores[np.arange(N), y] -= 1
            dscores /= N
        grads = {"U": hidden.T.dot(dscores), "b2": np.sum(dscores, axis=0)}
        dhidden = dscores.dot(p["U"].T)
        dpre = dhidden * (pre > 0) if self.activation == "relu" else dhidden * hidden * (1 - hidden)
        grads["W"], grads["b1"], grads["x"] = X.T.dot(dpre), np.sum(dpre, axis=0), dpre.dot(p["W"].T)
        return loss, grads

    def train(self, X, y, learning_rate, num_epochs, batch_size, rng):
        num_train = X.shape[0]
        for it in range(num_epochs):
            perm = rng.permutation(num_train)
            for X_batch, y_batch in zip(np.split(X[perm], range(batch_size, num_train, batch_size)),
                                        np.split(y[perm], range(batch_size, num_train, batch_size))):
                _, grads = self.loss(X_batch, y_batch)
                for name in self.params:
                    self.params[name] = self.params[name] - learning_rate * grads[name]
        return self

    def predict(self, X):
        return self.loss(X).argmax(axis=1)


def mlp_loss(x, y, params, activation, loss):
    value, grads = TwoLayerNet(params, activation).loss(x, y, loss)
    return float(value), dict(grads)


def train_mlp(x, y, hidden, activation, lr, epochs, batch_size, seed):
    random_state = np.random.default_rng(seed)
    net = TwoLayerNet.initialised(x.shape[1], hidden, int(y.max()) + 1, activation, random_state)
    return net.train(x, y, lr, epochs, batch_size, random_state).params


def predict(x, params, activation):
    return TwoLayerNet(params, activation).predict(x)
