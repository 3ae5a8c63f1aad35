"""The floor of define-by-run in CPython: how close to the minimal NumPy loop can any engine that
records a graph and backpropagates through it come on a small network?

Races, in one process and interleaved rounds, three implementations of the same minibatch step
(digits 64-128-10, tanh, softmax, cross-entropy with class labels, batch 32, SGD):

* ``ours``: deltagrad as a user writes it (``bench/mlp.py``'s ``ours_epoch``);
* ``engine``: a minimal define-by-run engine below, about fifty lines: one node for the whole
  MLP, a softmax node and a cross-entropy node, a backward pass over the recorded nodes and an
  SGD update, with column-major weights as ``nn.Linear`` stores them, but no checks, no
  modules, no broadcasting, no DAG bookkeeping and no double backward;
* ``numpy``: ``bench/mlp.py``'s hand-written loop (no graph at all, no loss value).

The engine's ratio to the NumPy loop is the floor for a graph-recording engine on this machine;
the distance from ``ours`` to ``engine`` is what deltagrad's checks and generality cost per step.
Run: ``.venv/bin/python bench/floor.py``.
"""

from __future__ import annotations

import numpy as np
from mlp import numpy_epoch, numpy_params, ours_epoch, race

import deltagrad as dg
from deltagrad import nn
from deltagrad.data import load_digits_split


class Node:
    """A recorded value: its data, its gradient, and ``vjp(g) -> [(input node, gradient)]``."""

    __slots__ = ("data", "grad", "vjp")

    def __init__(self, data, vjp=None):
        self.data, self.grad, self.vjp = data, None, vjp


def mlp_node(x, layers) -> Node:
    """tanh hidden layers and a linear output, a = z Wᵀ + b, as one node (like dense_stack)."""
    zs = [x]
    for l, (w, b) in enumerate(layers):
        a = zs[-1] @ w.data.T
        a += b.data
        zs.append(np.tanh(a, out=a) if l < len(layers) - 1 else a)

    def vjp(g):
        grads = []
        for l in range(len(layers) - 1, -1, -1):
            w, b = layers[l]
            if l < len(layers) - 1:
                g = g * (1 - zs[l + 1] * zs[l + 1])
            grads += [(w, (zs[l].T @ g).T), (b, g.sum(axis=0))]
            if l:
                g = g @ w.data
        return grads
    return Node(zs[-1], vjp)


def softmax_node(a: Node) -> Node:
    e = np.exp(a.data - a.data.max(axis=1, keepdims=True))
    e /= e.sum(axis=1, keepdims=True)
    return Node(e)


def cross_entropy_node(a: Node, y: Node, labels) -> Node:
    """E = −Σ ln y_{n t_n}; ∂E/∂a = y − t (eq. 3.9)."""
    rows = np.arange(len(labels))
    eye = np.eye(y.data.shape[1], dtype=y.data.dtype)
    return Node(-np.log(y.data[rows, labels]).sum(),
                lambda g: [(a, g * (y.data - eye[labels]))])


def backward(root: Node) -> None:
    """Depth first from the root: enough for a chain of nodes (no shared subgraphs)."""
    todo = [(root, np.ones((), root.data.dtype))]
    while todo:
        node, g = todo.pop()
        for target, gi in node.vjp(g):
            if target.vjp is None:
                target.grad = gi
            else:
                todo.append((target, gi))


def engine_epoch(layers, X, y, batch, lr=1e-3):
    for s in range(0, len(X), batch):
        for w, b in layers:
            w.grad = b.grad = None
        a = mlp_node(X[s:s + batch], layers)
        backward(cross_entropy_node(a, softmax_node(a), y[s:s + batch]))
        for w, b in layers:
            w.data -= lr * w.grad
            b.data -= lr * b.grad


def case(dtype, repeats=9):
    (X, y), _ = load_digits_split()
    X = X.astype(dtype)
    Y = np.eye(10, dtype=dtype)[y]
    net = nn.MLP("64-128-10", hidden="tanh", output="softmax", rng=0, dtype=dtype)
    opt = dg.optim.SGD(net.parameters(), lr=1e-3)
    layers = [(Node(np.asfortranarray(lin.weight.data.copy())), Node(lin.bias.data.copy()))
              for lin in net.linears]
    params = numpy_params([64, 128, 10], dtype, np.random.default_rng(0))
    t = race({"ours": lambda: ours_epoch(net, opt, X, y, 32),
              "engine": lambda: engine_epoch(layers, X, y, 32),
              "numpy": lambda: numpy_epoch(params, X, Y, 32)}, repeats)
    steps = -(-len(X) // 32)
    per_step = {name: seconds / steps * 1e6 for name, seconds in t.items()}
    print(f"  digits 64-128-10, batch 32, {dtype}: " + " | ".join(
        f"{name} {us:6.1f} µs/step ({us / per_step['numpy']:4.2f}× numpy)"
        for name, us in per_step.items()))


if __name__ == "__main__":
    print("ratio = time / the minimal NumPy loop's")
    for dtype in ("float32", "float64"):
        case(dtype)
