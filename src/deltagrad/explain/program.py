"""The backward pass of a network as a program: ``backprop_program`` compiles one
forward/backward step (``deltagrad.compile``) and returns its straight-line NumPy source."""

from __future__ import annotations

import numpy as np

from ..compile import compile as compile_step
from ..compile_source import program_source
from .. import losses as _losses
from ..nn.module import Module


def backprop_program(model: Module, x, t, loss="sum_of_squares") -> str:
    """The forward pass, E and the backward pass of ``model`` on the patterns ``x`` (N, D) with
    targets ``t``, as runnable NumPy with the notes' names (``a1 = x @ W1.T + b1``, ``delta1 =
    …``, ``dW1 = …``); see :meth:`deltagrad.CompiledStep.source`. The model's weights and
    gradients are left as they were.

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> from deltagrad.explain import backprop_program
        >>> net = dg.nn.MLP("2-3-1", rng=0)
        >>> source = backprop_program(net, [[0.5, -1.0]], [[0.3]])
        >>> print(next(line for line in source.splitlines() if "delta1 =" in line))
            delta1 = dE_dz1 * (1 - z1 * z1)  # δ_j = h'(a_j) Σ_k w_kj δ_k (eq. 3.10)
    """
    if not isinstance(model, Module):
        raise TypeError(f"backprop_program: model must be a deltagrad Module, got "
                        f"{type(model).__name__}")
    loss_fn = _losses.get(loss, owner="backprop_program")
    dtype = model.parameters()[0].dtype
    x = np.atleast_2d(np.asarray(x, dtype=dtype))
    t = np.asarray(t)
    t = t.astype(dtype) if t.dtype.kind == "f" or loss_fn is not _losses.cross_entropy else t
    if t.ndim == 1 and loss_fn is not _losses.cross_entropy:
        t = t[None, :]
    grads = [p.grad for p in model.parameters()]

    def step(x, t):
        model.zero_grad()
        E = loss_fn(model(x), t)
        E.backward()
        return E

    compiled = compile_step(step, warn=False)
    try:
        compiled(x, t)
        compiled(x, t)
    finally:
        for p, g in zip(model.parameters(), grads):
            p.grad = g
    if compiled.fallback_reason is not None:
        raise ValueError(f"backprop_program: this model's step cannot be compiled: "
                         f"{compiled.fallback_reason}")
    return program_source(compiled._last, with_call=True)
