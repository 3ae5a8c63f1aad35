"""summary(model, input_shape): each layer's output shape and parameter count, as Keras'
``model.summary()`` prints them.

The model runs twice on zeros (batches of 2 and 3, in evaluation mode, recording no graph);
each module's first output is noted on the way, and the axis whose size follows the batch is
printed ``N``. A ``Sequential`` (and so an ``MLP``) runs layer by layer, so that every layer
is seen. Nothing in the model changes: modes and running statistics stay as they were.
"""

from __future__ import annotations

import numpy as np

from .._state import no_grad
from ..tensor import Tensor
from .container import Sequential
from .embedding import Embedding
from .module import Module

_BATCHES = (2, 3)


class Summary:
    """The table :func:`summary` returns: ``rows`` (one dict per module: ``name``, ``type``,
    ``depth``, ``output_shape`` (a string), ``params``), ``total``, ``trainable``,
    ``non_trainable`` (running statistics and frozen parameters); ``str()`` prints it."""

    def __init__(self, title: str, rows: list, trainable: int, non_trainable: int):
        self.title, self.rows = title, rows
        self.trainable, self.non_trainable = trainable, non_trainable
        self.total = trainable + non_trainable

    def __str__(self) -> str:
        head = ("Layer (type)", "Output shape", "Param #")
        cells = [("  " * r["depth"] + f"{r['name']} ({r['type']})", r["output_shape"],
                  f"{r['params']:,}") for r in self.rows]
        widths = [max(len(row[k]) for row in [head] + cells) + 3 for k in range(3)]
        line = "=" * sum(widths)

        def show(row):
            return (row[0].ljust(widths[0]) + row[1].ljust(widths[1])
                    + row[2].rjust(widths[2] - 3)).rstrip()

        return "\n".join([f'Model: "{self.title}"', line, show(head), line]
                         + [show(c) for c in cells]
                         + [line, f"Total params: {self.total:,}",
                            f"Trainable params: {self.trainable:,}",
                            f"Non-trainable params: {self.non_trainable:,}", line])

    __repr__ = __str__


def _shapes(output) -> list:
    """The shapes in a module's output: a Tensor, or tuples/lists of them (recurrent layers)."""
    if isinstance(output, (Tensor, np.ndarray)):
        return [tuple(output.shape)]
    if isinstance(output, (tuple, list)):
        return [shape for item in output for shape in _shapes(item)]
    return []


def _show(first: list, second: list) -> str:
    """Shapes from the two runs, with the batch axis (the one that changed) as ``N``."""
    if len(first) != len(second):
        return ", ".join(map(str, first))
    shown = []
    for a, b in zip(first, second):
        dims = ["N" if len(a) == len(b) and x != y else str(x) for x, y in zip(a, b)]
        shown.append("(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")")
    return ", ".join(shown)


def _run(model: Module, x: np.ndarray) -> dict:
    """Run ``model`` on ``x``; each module's first output shapes, by module identity."""
    seen: dict = {}

    def recorder(module: Module):
        inner = Sequential.forward.__get__(module) if isinstance(module, Sequential) \
            else module.forward

        def forward(*args, **kwargs):
            out = inner(*args, **kwargs)
            seen.setdefault(id(module), _shapes(out))
            return out
        return forward

    modules = list(model.modules())
    try:
        for m in modules:
            object.__setattr__(m, "forward", recorder(m))
        model(x)
    finally:
        for m in modules:
            m.__dict__.pop("forward", None)
    return seen


def _input_dtype(model: Module, dtype):
    if dtype is not None:
        return np.dtype(dtype)
    leaves = [m for m in model.modules() if m._parameters]
    if leaves and isinstance(leaves[0], Embedding):
        return np.dtype(np.int64)  # token ids
    params = model.parameters()
    return params[0].dtype if params else np.dtype(np.float64)


def summary(model: Module, input_shape, dtype=None) -> Summary:
    """Each module's output shape and parameter count, and the totals (Keras' summary).

    Args:
        model: any Module (Sequential, MLP, CNNs, recurrent and attention models).
        input_shape: the shape of ONE pattern, without the batch axis: ``(D,)``, ``(C, L)``,
            ``(C, H, W)``, ``(T, D)``; for token ids ``(T,)``.
        dtype: the input's dtype; by default the model's (integer ids when its first layer
            with weights is an ``Embedding``).

    Returns:
        a :class:`Summary`; ``print`` it for the table. ``Param #`` counts a module's weights
        with its sub-modules' and its running statistics (non-trainable, as Keras counts
        BatchNorm's moving mean and variance).

    Example:
        >>> import deltagrad as dg
        >>> net = dg.nn.Sequential(dg.nn.Conv1d(1, 4, 3, padding=1), dg.nn.BatchNorm1d(4),
        ...                        dg.nn.Flatten(), dg.nn.Linear(4 * 8, 2))
        >>> s = dg.nn.utils.summary(net, (1, 8))
        >>> [(r["name"], r["output_shape"], r["params"]) for r in s.rows][:2]
        [('0', '(N, 4, 8)', 16), ('1', '(N, 4, 8)', 16)]
        >>> s.total, s.trainable, s.non_trainable
        (98, 90, 8)
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: model must be a deltagrad Module, got {type(model).__name__}")
    if isinstance(input_shape, (int, np.integer)) and not isinstance(input_shape, bool):
        input_shape = (int(input_shape),)
    if not isinstance(input_shape, (tuple, list)) or not all(
            isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 1
            for d in input_shape):
        raise ValueError(f"summary: input_shape must be the shape of one pattern (positive "
                         f"integers, no batch axis), e.g. (3, 64), got {input_shape!r}")
    dtype = _input_dtype(model, dtype)
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with no_grad():
            runs = [_run(model, np.zeros((n, *input_shape), dtype=dtype)) for n in _BATCHES]
    except (ValueError, TypeError) as err:
        raise type(err)(f"summary: the model refused an input of shape (N, "
                        f"{', '.join(map(str, input_shape))}): {err}") from err
    finally:
        for m, mode in modes:
            object.__setattr__(m, "training", mode)
    return _table(model, runs)


def _count(module: Module) -> tuple:
    """(trainable, non-trainable) numbers in ``module`` and its sub-modules."""
    params = module.parameters()
    trainable = sum(p.size for p in params if p.requires_grad)
    frozen = sum(p.size for p in params if not p.requires_grad)
    running = sum(b.size for _, b in module.named_buffers() if b.dtype.kind == "f")
    return trainable, frozen + running


def _table(model: Module, runs: list) -> Summary:
    named = list(model.named_modules())
    root = len(named) == 1 or bool(model._parameters)  # a root row only when it holds weights
    if not root:
        named = named[1:]
    rows = []
    for name, m in named:
        first, second = (run.get(id(m)) for run in runs)
        shape = "—" if first is None else _show(first, second)
        depth = name.count(".") + (root and bool(name))
        rows.append({"name": name or type(m).__name__, "type": type(m).__name__,
                     "depth": depth, "output_shape": shape, "params": sum(_count(m))})
    trainable, non_trainable = _count(model)
    return Summary(type(model).__name__, rows, trainable, non_trainable)
