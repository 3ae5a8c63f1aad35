"""Why RNN gradients vanish or explode (§9.4–9.5) and how the gated layers avoid it (§10.1):
the Jacobians of a recurrent layer's state with respect to its earlier state, ∂s⁽ᵀ⁾/∂s⁽ᵏ⁾,
their norms against T − k (eq. 9.18–9.20), and the LSTM's forget-gate products ∏ f⁽ⁱ⁾
(eq. 10.7), read from a layer run on one sequence."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._state import no_grad
from ..autograd import grad
from ..nn.module import layer_name
from ..nn.recurrent import GRU, LSTM, RNN
from ..ops.recurrent import gru_sequence, lstm_sequence
from ..tensor import Tensor


@dataclass
class StateJacobians:
    """The Jacobians of a recurrent layer's state along one sequence of length T.

    The state s⁽ⁱ⁾ is what step i + 1 reads from the past: h⁽ⁱ⁾ (D_h,) for the RNN and the GRU,
    the pair (h⁽ⁱ⁾, C⁽ⁱ⁾) stacked as one vector (2D_h,) for the LSTM. S is its size.

    Attributes:
        steps: (T, S, S); ``steps[i - 1]`` is ∂s⁽ⁱ⁾/∂s⁽ⁱ⁻¹⁾, for the RNN diag(f′(a⁽ⁱ⁾)) W_hh
            (§9.4.1), for the LSTM the blocks [[∂h/∂h, ∂h/∂C], [∂C/∂h, ∂C/∂C]] of step i.
        to_last: (T, S, S); ``to_last[k]`` is the true Jacobian ∂s⁽ᵀ⁾/∂s⁽ᵏ⁾ =
            ∏_{i=k+1}^{T} steps (eq. 9.18; for the LSTM through both h and C), k = 0 … T − 1.
        norms: (T,) the spectral norms ‖∂s⁽ᵀ⁾/∂s⁽ᵏ⁾‖₂, k = 0 … T − 1.
        gamma1: the largest singular value γ₁ of W_hh (§9.5; the stacked gate rows for the
            LSTM and GRU).
        cell_path: for an LSTM, (T, D_h): ``cell_path[k]`` = ∏_{i=k+1}^{T} f⁽ⁱ⁾ (eq. 10.7), the
            diagonal of ∂C⁽ᵀ⁾/∂C⁽ᵏ⁾ along the cell path alone; None otherwise.
    """

    steps: np.ndarray
    to_last: np.ndarray
    norms: np.ndarray
    gamma1: float
    cell_path: np.ndarray | None = None

    @property
    def hidden(self) -> np.ndarray:
        """(T, D_h, D_h): ∂h⁽ᵀ⁾/∂h⁽ᵏ⁾ with C⁽ᵏ⁾ held fixed (the LSTM's top-left block of
        ``to_last``; all of it for the RNN and the GRU)."""
        D = self.cell_path.shape[1] if self.cell_path is not None else self.steps.shape[1]
        return self.to_last[:, :D, :D]

    @property
    def gaps(self) -> np.ndarray:
        """T − k for each entry of ``norms`` (T, T − 1, …, 1)."""
        return np.arange(len(self.norms), 0, -1)

    def product(self, t: int, k: int) -> np.ndarray:
        """∂s⁽ᵗ⁾/∂s⁽ᵏ⁾ = ∏_{i=k+1}^{t} ∂s⁽ⁱ⁾/∂s⁽ⁱ⁻¹⁾ (eq. 9.18), for 0 ≤ k ≤ t ≤ T."""
        T, D = len(self.steps), self.steps.shape[1]
        if not (0 <= k <= t <= T):
            raise ValueError(f"product: need 0 ≤ k ≤ t ≤ {T}, got t={t}, k={k}")
        result = np.eye(D)
        for i in range(k + 1, t + 1):
            result = self.steps[i - 1] @ result
        return result

    def rate(self, skip: int = 0) -> float:
        """The per-step factor ρ of the fit ‖∂s⁽ᵀ⁾/∂s⁽ᵏ⁾‖ ≈ c ρ^(T−k) (least squares on the
        log norms; ρ < 1 vanishes, ρ > 1 explodes, eq. 9.19–9.20). ``skip`` drops the
        ``skip`` shortest gaps, where the transient of the first products dominates."""
        gaps, norms = self.gaps, self.norms
        keep = (gaps > skip) & (norms > 0)
        if keep.sum() < 2:
            raise ValueError("rate: needs at least two non-zero norms to fit")
        slope = np.polyfit(gaps[keep], np.log(norms[keep]), 1)[0]
        return float(np.exp(slope))


def state_jacobians(layer, x, h0=None) -> StateJacobians:
    """The true Jacobians ∂s⁽ᵀ⁾/∂s⁽ᵏ⁾ of ``layer``'s state on one sequence (a one-layer
    ``nn.RNN``, ``nn.LSTM`` or ``nn.GRU``).

    For the RNN, ∂h⁽ⁱ⁾/∂h⁽ⁱ⁻¹⁾ = diag(f′(a⁽ⁱ⁾)) W_hh with f′ from the states the layer computed
    (1 − h² for tanh, [h > 0] for ReLU). For the LSTM the state is (h, C): each step's
    Jacobian is the engine's, through every gate and through the cell, so the products follow
    the gradient along both paths, the additive cell path (eq. 10.6) included; the forget-gate
    products ∏ f⁽ⁱ⁾ (eq. 10.7) are returned alongside. For the GRU the state is h, and each
    step's Jacobian (through its gates and the interpolation (1 − u) ⊙ n + u ⊙ h) is the
    engine's.

    Args:
        layer: an ``nn.RNN``, ``nn.LSTM`` or ``nn.GRU`` with one layer.
        x: one sequence (T, D_x) or (1, T, D_x).
        h0: the initial hidden state (D_h,), zeros when omitted (for the LSTM, C⁽⁰⁾ = 0).

    Example:
        >>> import numpy as np
        >>> import deltagrad as dg
        >>> J = dg.analysis.state_jacobians(dg.nn.LSTM(1, 4, rng=0), np.zeros((10, 1)))
        >>> J.steps.shape, J.norms.shape, J.hidden.shape
        ((10, 8, 8), (10,), (10, 4, 4))
    """
    if not isinstance(layer, (RNN, LSTM, GRU)):
        raise TypeError(f"state_jacobians: layer must be an nn.RNN, nn.LSTM or nn.GRU, got "
                        f"{type(layer).__name__}")
    if layer.bidirectional:
        raise ValueError(f"state_jacobians: analyses the forward recurrence of one direction; "
                         f"{layer_name(layer)} is bidirectional")
    if layer.num_layers != 1:
        raise ValueError(f"state_jacobians: analyses one layer; {layer_name(layer)} has "
                         f"{layer.num_layers}")
    try:
        x = np.asarray(x.data if isinstance(x, Tensor) else x, dtype=layer.dtype)
    except (TypeError, ValueError):
        raise TypeError(f"state_jacobians: x must be one sequence of numbers (T, "
                        f"{layer.input_size}), got {type(x).__name__}") from None
    if not np.all(np.isfinite(x)):
        raise ValueError("state_jacobians: x contains NaN or infinite values")
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[0] != 1 or x.shape[2] != layer.input_size or x.shape[1] == 0:
        raise ValueError(f"state_jacobians: x must be one sequence (T, {layer.input_size}) or "
                         f"(1, T, {layer.input_size}) with T ≥ 1, got shape {x.shape}")
    D = layer.hidden_size
    h0 = np.zeros((1, D), dtype=layer.dtype) if h0 is None else _initial(h0, layer)
    cell_path = None
    if isinstance(layer, RNN):
        steps = _rnn_steps(layer, x, h0)
    elif isinstance(layer, LSTM):
        steps, cell_path = _lstm_steps(layer, x, h0)
    else:
        steps = _gru_steps(layer, x, h0)
    to_last = np.empty_like(steps)
    product = np.eye(steps.shape[1])
    for k in range(len(steps) - 1, -1, -1):  # ∂s⁽ᵀ⁾/∂s⁽ᵏ⁾ = ∂s⁽ᵀ⁾/∂s⁽ᵏ⁺¹⁾ · ∂s⁽ᵏ⁺¹⁾/∂s⁽ᵏ⁾
        product = product @ steps[k]
        to_last[k] = product
    norms = np.linalg.norm(to_last, ord=2, axis=(1, 2))
    gamma1 = float(np.linalg.norm(layer.W_hh.data, 2))
    return StateJacobians(steps, to_last, norms, gamma1, cell_path)


def _initial(h0, layer) -> np.ndarray:
    try:
        h0 = np.asarray(h0.data if isinstance(h0, Tensor) else h0, dtype=layer.dtype)
    except (TypeError, ValueError):
        h0 = np.full(0, np.nan)
    if h0.size != layer.hidden_size or not np.all(np.isfinite(h0)):
        raise ValueError(f"state_jacobians: h0 must be {layer.hidden_size} finite numbers (one "
                         f"per hidden unit), got shape {h0.shape}")
    return h0.reshape(1, layer.hidden_size)


def _rnn_steps(rnn, x, h0) -> np.ndarray:
    """diag(f′(a⁽ⁱ⁾)) W_hh for i = 1 … T (§9.4.1), f′ from the layer's own states."""
    with no_grad():
        H = rnn(x, h0)[0].data[0]
    slope = 1 - H * H if rnn.nonlinearity == "tanh" else (H > 0).astype(H.dtype)
    return slope[:, :, None] * rnn.W_hh.data[None]


def _step_jacobian(step, state: list) -> tuple:
    """∂s⁽ⁱ⁾/∂s⁽ⁱ⁻¹⁾ of one step from one engine backward: the state is copied S times as a
    batch, copy n carries the n-th unit vector back, so row n of the gradient is row n of
    the Jacobian. ``step`` maps the state tensors to s⁽ⁱ⁾ (S, S)."""
    S = sum(part.shape[1] for part in state)
    leaves = [Tensor(np.repeat(part, S, axis=0), requires_grad=True) for part in state]
    out = step(*leaves)
    rows = grad(out, leaves, grad_outputs=np.eye(S, dtype=out.dtype))
    return np.concatenate([g.data for g in rows], axis=1), out.data[:1]


def _lstm_steps(lstm, x, h0):
    """The LSTM's ∂(h⁽ⁱ⁾, C⁽ⁱ⁾)/∂(h⁽ⁱ⁻¹⁾, C⁽ⁱ⁻¹⁾) from the fused primitive run for step i
    alone from the state the sequence reached, and the forget gates' cell path (eq. 10.7)."""
    T, D = x.shape[1], lstm.hidden_size
    W_xh, W_hh, b_h = lstm.W_xh.data, lstm.W_hh.data, lstm.b_h.data
    steps, forget = np.empty((T, 2 * D, 2 * D)), np.empty((T, D))
    state = [h0, np.zeros_like(h0)]
    for i in range(T):
        x_i = Tensor(np.repeat(x[:, i:i + 1], 2 * D, axis=0))

        def step(h, c, x_i=x_i):
            return lstm_sequence(x_i, h, c, W_xh, W_hh, b_h).reshape(2 * D, 2 * D)

        steps[i], reached = _step_jacobian(step, state)
        z = x[0, i] @ W_xh[D:2 * D].T + state[0][0] @ W_hh[D:2 * D].T + b_h[D:2 * D]
        forget[i] = 1 / (1 + np.exp(-z))  # f⁽ⁱ⁾ = σ(z_f) (eq. 10.4)
        state = [reached[:, :D], reached[:, D:]]
    cell_path = np.cumprod(forget[::-1], axis=0)[::-1]  # cell_path[k] = ∏_{i>k} f⁽ⁱ⁾
    return steps, cell_path


def _gru_steps(gru, x, h0) -> np.ndarray:
    """The GRU's ∂h⁽ⁱ⁾/∂h⁽ⁱ⁻¹⁾ from the fused primitive run for step i alone."""
    T, D = x.shape[1], gru.hidden_size
    weights = (gru.W_xh.data, gru.W_hh.data, gru.b_h.data, gru.b_hn.data)
    steps, state = np.empty((T, D, D)), [h0]
    for i in range(T):
        x_i = Tensor(np.repeat(x[:, i:i + 1], D, axis=0))

        def step(h, x_i=x_i):
            return gru_sequence(x_i, h, *weights).reshape(D, D)

        steps[i], reached = _step_jacobian(step, state)
        state = [reached]
    return steps
