"""Real training runs with hand-written loops: XOR and scikit-learn's digits."""

import numpy as np
import pytest

import deltagrad as dg
from deltagrad import nn
from deltagrad.data import load_digits_split


def train_digits(dtype="float64", epochs: int = 30, batch_size: int = 32, lr: float = 0.01,
                 seed: int = 0):
    """Minibatch SGD with softmax cross-entropy (eq. 9.2), written out by hand; returns
    (test accuracy, network)."""
    (X_train, y_train), (X_test, y_test) = load_digits_split()
    X_train, X_test = X_train.astype(dtype), X_test.astype(dtype)
    rng = np.random.default_rng(seed)
    net = nn.MLP("64-128-10", hidden="tanh", output="softmax", rng=rng, dtype=dtype)
    opt = dg.optim.SGD(net.parameters(), lr=lr)
    for _ in range(epochs):
        order = rng.permutation(len(X_train))
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            opt.zero_grad()
            dg.losses.cross_entropy(net(X_train[batch]), y_train[batch]).backward()
            opt.step()
    return dg.accuracy(net, X_test, y_test), net


def test_xor_with_a_2_2_1_network_reaches_100_percent():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    T = np.array([[0], [1], [1], [0]], dtype=float)
    net = nn.MLP("2-2-1", hidden="tanh", output="sigmoid", rng=3)
    opt = dg.optim.SGD(net.parameters(), lr=0.5, momentum=0.9)
    for _ in range(500):  # batch gradient descent with momentum (eq. 2.20)
        opt.zero_grad()
        dg.losses.binary_cross_entropy(net(X), T).backward()
        opt.step()
    predictions = (net(X).data > 0.5).astype(float)
    np.testing.assert_array_equal(predictions, T)


def test_online_gradient_descent_updates_after_every_pattern():
    """Eq. 2.22 with one pattern: w ← w − η ∇E_n, checked against the hand-derived step
    for a single linear unit y = w x + b, E_n = ½(y − t)²: ∂E/∂w = (y − t) x."""
    layer = nn.Linear(1, 1)
    layer.weight.data[:] = 0.5
    opt = dg.optim.SGD(layer.parameters(), lr=0.1)
    for x, t in [(1.0, 2.0), (2.0, 0.0)]:
        w, b = layer.weight.data[0, 0], layer.bias.data[0]
        y = w * x + b
        opt.zero_grad()
        dg.losses.sum_of_squares(layer([x]), [t]).backward()
        opt.step()
        assert layer.weight.data[0, 0] == pytest.approx(w - 0.1 * (y - t) * x)
        assert layer.bias.data[0] == pytest.approx(b - 0.1 * (y - t))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_digits_64_128_10_tanh_mlp_reaches_96_percent(dtype):
    accuracy, net = train_digits(dtype=dtype, epochs=30, seed=0)
    assert accuracy >= 0.96, f"test accuracy {accuracy:.4f} in {dtype}"
    assert all(p.dtype == np.dtype(dtype) for p in net.parameters())


def test_digits_split_is_fixed_and_standardised():
    (X_train, y_train), (X_test, y_test) = load_digits_split()
    assert X_train.shape == (1437, 64) and X_test.shape == (360, 64)
    np.testing.assert_allclose(X_train.mean(axis=0), 0, atol=1e-12)
    again = load_digits_split()
    np.testing.assert_array_equal(again[1][1], y_test)
