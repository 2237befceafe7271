"""Nielsen's "Neural Networks and Deep Learning": examples as columns,
lists of weights and biases, zs and activations kept layer by layer, delta
propagated back with the next layer's weights transposed; training builds
the list of mini_batches each epoch."""
import numpy as np

BUG = ("mlp_backward", "delta = (weights[-l + 1].T @ delta) * sp", "delta = (weights[-l + 1] @ delta) * sp")


def sigmoid(z):
    return 0.5 + 0.5 * np.tanh(0.5 * z)


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


def relu_prime(z):
    return (z > 0) * 1.0


def mlp_forward(x, params, activation):
    weights = [params["W"].T, params["U"].T]
    biases = [params["b1"][:, None], params["b2"][:, None]]
    act = sigmoid if activation == "sigmoid" else (lambda z: np.maximum(z, 0))
    activation_ = x.T
    activations, zs = [x.T], []
    for layer, (w, b) in enumerate(zip(weights, biases)):
        z = w @ activation_ + b
        zs.append(z)
        activation_ = act(z) if layer < len(weights) - 1 else z
        activations.append(activation_)
    return activation_.T, (weights, zs, activations, activation)


def mlp_backward(dscores, cache):
    weights, zs, activations, activation = cache
    prime = sigmoid_prime if activation == "sigmoid" else relu_prime
    nabla_b, nabla_w = [None] * 2, [None] * 2
    delta = dscores.T
    nabla_b[-1] = delta.sum(axis=1)
    nabla_w[-1] = delta @ activations[-2].T
    for l in range(2, 3):
        sp = prime(zs[-l])
        delta = (weights[-l + 1].T @ delta) * sp
        nabla_b[-l] = delta.sum(axis=1)
        nabla_w[-l] = delta @ activations[-l - 1].T
    return {"W": nabla_w[0].T, "b1": nabla_b[0], "U": nabla_w[1].T, "b2": nabla_b[1], "x": (weights[0].T @ delta).T}


def train_mlp(x, y, hidden, activation, lr, epochs, batch_size, seed):
    generator = np.random.default_rng(seed)
    sizes = [x.shape[1], hidden, int(np.max(y)) + 1]
    params = {"W": generator.normal(0.0, 1.0, (sizes[0], sizes[1])) / np.sqrt(sizes[0]), "b1": np.zeros(sizes[1]),
              "U": generator.normal(0.0, 1.0, (sizes[1], sizes[2])) / np.sqrt(sizes[1]), "b2": np.zeros(sizes[2])}
    n = len(x)
    for j in range(epochs):
        order = list(generator.permutation(n))
        mini_batches = [order[k:k + batch_size] for k in range(0, n, batch_size)]
        for mini_batch in mini_batches:
            _, nabla = mlp_loss(x[mini_batch], y[mini_batch], params, activation, "cross_entropy")
            params = {name: p - lr * nabla[name] for name, p in params.items()}
    return params
