"""Helpers on a model's parameters: flat vectors (for optimisers and checks), gradient norms
and clipping (eq. 9.21), and ``summary`` (each layer's output shape and parameter count)."""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from .summary import Summary, summary

__all__ = ["Summary", "clip_grad_norm_", "clip_grad_value_", "grad_norm", "parameters_to_vector",
           "summary", "vector_to_parameters"]


def parameters_to_vector(params) -> np.ndarray:
    """Concatenate parameter values into one flat float64 vector (in ``parameters()`` order)."""
    params = list(params)
    if not params:
        return np.zeros(0)
    return np.concatenate([np.asarray(p.data, dtype=np.float64).ravel() for p in params])


def vector_to_parameters(vector, params) -> None:
    """Write a flat vector back into the parameters, each in its own shape and dtype."""
    params = list(params)
    vector = np.asarray(vector)
    total = sum(p.size for p in params)
    if vector.shape != (total,):
        raise ValueError(f"vector_to_parameters: expected a vector of length {total}, "
                         f"got shape {vector.shape}")
    start = 0
    for p in params:  # new arrays (graphs built on the old values stay valid), same layout
        values = np.empty_like(p.data)
        values[...] = vector[start:start + p.size].reshape(p.shape)
        p.data = values
        start += p.size


def _grads(params) -> list:
    return [p.grad for p in params if p.grad is not None]


def grad_norm(params) -> float:
    """The global Euclidean norm ‖g‖ of all the parameters' gradients."""
    return float(np.sqrt(sum(float(np.vdot(g, g)) for g in _grads(params))))


def clip_grad_norm_(params, max_norm: float) -> float:
    """Gradient clipping by norm (eq. 9.21): if ‖g‖ > θ then g ← θ g / ‖g‖, in place.

    The direction of the global gradient is unchanged. Returns ‖g‖ before clipping.

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> w = dg.nn.Parameter([3.0, 4.0]); w.grad = np.array([3.0, 4.0])
        >>> dg.nn.utils.clip_grad_norm_([w], 1.0)
        5.0
        >>> w.grad
        array([0.6, 0.8])
    """
    check.positive(max_norm, "max_norm", "clip_grad_norm_")
    params = list(params)
    norm = grad_norm(params)
    if norm > max_norm:
        scale = max_norm / norm
        for g in _grads(params):
            g *= scale
    return norm


def clip_grad_value_(params, clip_value: float) -> None:
    """Clip every gradient component into [−c, c], in place."""
    check.positive(clip_value, "clip_value", "clip_grad_value_")
    for g in _grads(list(params)):
        np.clip(g, -clip_value, clip_value, out=g)
