"""The main job (``make run``): train a 64-128-10 tanh MLP on scikit-learn's digits."""

from __future__ import annotations

import argparse
import time

import numpy as np

from . import losses, nn, optim
from ._state import no_grad


def load_digits_split(seed: int = 0, test_fraction: float = 0.2):
    """scikit-learn's 8×8 digits, a fixed stratified 80/20 split, standardised on the
    training statistics. Returns ``(X_train, y_train), (X_test, y_test)``."""
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError as err:
        raise ImportError("the digits data set comes with scikit-learn: "
                          "pip install 'deltagrad[datasets]'") from err

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_fraction, random_state=seed, stratify=y)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std[std == 0] = 1.0
    return ((X_train - mean) / std, y_train), ((X_test - mean) / std, y_test)


def accuracy(net: nn.Module, X: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of patterns whose largest output is the true class."""
    with no_grad():
        return float(np.mean(np.argmax(net(X).data, axis=1) == labels))


def train_digits(dtype="float64", epochs: int = 30, batch_size: int = 32, lr: float = 0.01,
                 momentum: float = 0.0, seed: int = 0, verbose: bool = False):
    """Minibatch SGD with softmax cross-entropy (eq. 9.2); returns (test accuracy, network)."""
    (X_train, y_train), (X_test, y_test) = load_digits_split()
    X_train, X_test = X_train.astype(dtype), X_test.astype(dtype)
    rng = np.random.default_rng(seed)
    net = nn.MLP("64-128-10", hidden="tanh", output="softmax", rng=rng, dtype=dtype)
    opt = optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(X_train))
        total = 0.0
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            opt.zero_grad()
            E = losses.cross_entropy(net(X_train[batch]), y_train[batch])
            E.backward()
            opt.step()
            total += E.item()
        if verbose and (epoch % 5 == 0 or epoch == 1):
            print(f"epoch {epoch:3d}  training error E = {total:9.3f}  "
                  f"test accuracy = {accuracy(net, X_test, y_test):.4f}")
    return accuracy(net, X_test, y_test), net


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    args = parser.parse_args(argv)
    print("deltagrad: a 64-128-10 tanh MLP on scikit-learn's digits "
          "(1,437 training / 360 test patterns), softmax cross-entropy, "
          "minibatch SGD (batch 32, η = 0.01)")
    start = time.perf_counter()
    acc, _ = train_digits(dtype=args.dtype, epochs=args.epochs, verbose=True)
    print(f"test accuracy: {acc:.4f}  ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
