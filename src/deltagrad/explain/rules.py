"""The backpropagation rules written out by the library's own VJPs, for worked solutions."""

from __future__ import annotations

import numpy as np

from .. import ops

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
