"""Learning logic: the perceptron learning rule, and smooth MLPs turned into Step networks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import losses
from ..nn.activation import Sigmoid, Tanh
from ..nn.container import MLP
from .compiler import as_truth_table
from .._naming import input_names
from .network import LogicNetwork, truth_table_inputs


@dataclass
class PerceptronResult:
    """``network`` (one perceptron), ``converged`` (an epoch without a mistake), ``epochs``
    run and ``mistakes`` per epoch."""

    network: LogicNetwork
    converged: bool
    epochs: int
    mistakes: list


def perceptron_learning(table, n: int | None = None, epochs: int = 100, lr: float = 1.0,
                        seed: int | None = None) -> PerceptronResult:
    """Rosenblatt's rule, pattern by pattern: y = f(w·x + b), w ← w + η (t − y) x,
    b ← b + η (t − y). It converges exactly when the table is linearly separable; otherwise
    it reports ``converged=False`` after ``epochs`` epochs.
    """
    table, n = as_truth_table(table, n)
    if not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"perceptron_learning: epochs must be a positive integer, got {epochs!r}")
    X = truth_table_inputs(n)
    w, b = np.zeros(n), 0.0
    rng = np.random.default_rng(seed)
    mistakes = []
    for _ in range(epochs):
        order = rng.permutation(len(X)) if seed is not None else range(len(X))
        count = 0
        for r in order:
            y = 1.0 if X[r] @ w + b >= 0 else 0.0  # f(z) of eq. 5.2
            if y != table[r]:
                w += lr * (table[r] - y) * X[r]
                b += lr * (table[r] - y)
                count += 1
        mistakes.append(count)
        if count == 0:
            break
    names = input_names(n)
    network = LogicNetwork([(w[None, :], [b], ["learned perceptron"])], names,
                           expression="perceptron learned from a truth table")
    return PerceptronResult(network, mistakes[-1] == 0, len(mistakes), mistakes)


def to_step_network(mlp: MLP, variables=None) -> LogicNetwork:
    """Replace every sigmoid/tanh unit of a trained MLP by a Heaviside unit.

    A sigmoid unit σ(a) ≈ step(a) when saturated. A tanh unit tanh(a) ≈ 2·step(a) − 1, so the
    next layer is rewritten to read 0/1: w ← 2w, b ← b − Σ_j w_j. The output (sigmoid, or
    tanh read as a sign) becomes step(a). Exact only where the trained units are saturated:
    check the result with :func:`verify`.
    """
    if not isinstance(mlp, MLP):
        raise TypeError(f"to_step_network: expected an nn.MLP, got {type(mlp).__name__}")
    activations = [m for name, m in mlp.named_children() if name.startswith("act")]
    if not all(isinstance(a, (Sigmoid, Tanh)) for a in activations):
        raise ValueError("to_step_network: every activation must be sigmoid or tanh, got "
                         f"{[type(a).__name__ for a in activations]}")
    layers = []
    previous_tanh = False
    for linear, act in zip(mlp.linears, activations):
        W = linear.weight.data.astype(np.float64).copy()
        b = linear.bias.data.astype(np.float64).copy()
        if previous_tanh:  # inputs are now 0/1 instead of ±1: z = 2·step − 1
            b = b - W.sum(axis=1)
            W = 2 * W
        layers.append((W, b, [f"step of a {type(act).__name__.lower()} unit"] * len(b)))
        previous_tanh = isinstance(act, Tanh)
    names = variables or input_names(mlp.sizes[0])
    return LogicNetwork(layers, names, expression="converted from a trained MLP")


def train_smooth(table, n: int | None = None, hidden: int | None = None, activation="tanh",
                 seed: int = 0, epochs: int = 3000, lr: float = 0.5) -> MLP:
    """Backpropagation on the truth table: an n-hidden-1 MLP with a sigmoid output and
    binary cross-entropy, full batch gradient descent with momentum."""
    from ..optim import SGD

    table, n = as_truth_table(table, n)
    X, T = truth_table_inputs(n), table[:, None].astype(np.float64)
    net = MLP([n, hidden or 2 * n, 1], hidden=activation, output="sigmoid", rng=seed)
    opt = SGD(net.parameters(), lr=lr / len(X), momentum=0.9)
    for _ in range(epochs):
        opt.zero_grad()
        losses.binary_cross_entropy(net(X), T).backward()
        opt.step()
    return net
