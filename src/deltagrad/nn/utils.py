"""Helpers on a model's parameters: flat vectors (for optimisers and checks), the hidden-unit
rule."""

from __future__ import annotations

import numpy as np


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


_HIDDEN_RULE_ACTIVATIONS = ("identity", "tanh", "sigmoid", "relu", "step")


def hidden_delta(delta_next, weight_next, z, activation: str = "tanh") -> np.ndarray:
    """Rule 2: δ_j = h'(a_j) Σ_k w_kj δ_k (eq. 3.10), by the library's own VJPs.

    ``Σ_k w_kj δ_k`` is the ``linear`` primitive's VJP with respect to its input, and h'(a_j)
    is the activation primitive's VJP, written from the unit's output z_j (e.g. 1 − z_j² for
    tanh), exactly as the backward pass applies them.

    Args:
        delta_next: δ_k of the next layer, shape ``(K,)`` or ``(N, K)``.
        weight_next: the next layer's weights w_kj, shape ``(K, M)``.
        z: this layer's outputs z_j, shape ``(M,)`` or ``(N, M)``.
        activation: this layer's h.

    Returns:
        δ_j, shape of ``z``.
    """
    from .. import ops

    if activation not in _HIDDEN_RULE_ACTIVATIONS:
        raise ValueError(f"hidden_delta: activation must be one of {_HIDDEN_RULE_ACTIVATIONS}, "
                         f"got {activation!r}")
    delta_next, weight_next, z = (np.asarray(v, dtype=np.float64)
                                  for v in (delta_next, weight_next, z))
    if weight_next.ndim != 2 or delta_next.shape[-1] != weight_next.shape[0] \
            or z.shape[-1] != weight_next.shape[1]:
        raise ValueError(f"hidden_delta: weight_next of shape {weight_next.shape} must be "
                         f"(K, M) with K = {delta_next.shape[-1]} (delta_next) and "
                         f"M = {z.shape[-1]} (z)")
    propagated = ops.linear.vjp(0)(delta_next, None, z, weight_next)  # Σ_k w_kj δ_k
    if activation == "identity":
        return propagated
    # the activation's VJP reads h' from its output (ans = z); relu/step read the sign of a,
    # which equals the sign of z for them
    return np.asarray(ops.REGISTRY[activation].vjp(0)(propagated, z, z))


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
    if not np.isfinite(max_norm) or max_norm <= 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be a positive number, got {max_norm!r}")
    params = list(params)
    norm = grad_norm(params)
    if norm > max_norm:
        scale = max_norm / norm
        for g in _grads(params):
            g *= scale
    return norm


def clip_grad_value_(params, clip_value: float) -> None:
    """Clip every gradient component into [−c, c], in place."""
    if not np.isfinite(clip_value) or clip_value <= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be a positive number, "
                         f"got {clip_value!r}")
    for g in _grads(list(params)):
        np.clip(g, -clip_value, clip_value, out=g)
