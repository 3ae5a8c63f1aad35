"""Why RNN gradients vanish or explode (§9.4–9.5) and how the LSTM's cell path avoids it
(§10.1): the state Jacobians ∂h⁽ⁱ⁾/∂h⁽ⁱ⁻¹⁾ = diag(f′(a⁽ⁱ⁾)) W_hh, their products (eq. 9.18) and
the forget-gate products ∏ f⁽ⁱ⁾ (eq. 10.7), read from a layer run on one sequence."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._state import no_grad
from ..autograd import grad
from ..nn.recurrent import LSTM, RNN
from ..ops.recurrent import lstm_sequence
from ..tensor import Tensor


@dataclass
class StateJacobians:
    """The Jacobians of one sequence of length T through layer 0 of a recurrent layer.

    Attributes:
        steps: (T, D_h, D_h); ``steps[i - 1]`` is ∂h⁽ⁱ⁾/∂h⁽ⁱ⁻¹⁾ = diag(f′(a⁽ⁱ⁾)) W_hh (§9.4.1).
        to_last: (T, D_h, D_h); ``to_last[k]`` is ∂h⁽ᵀ⁾/∂h⁽ᵏ⁾ = ∏_{i=k+1}^{T} steps (eq. 9.18),
            k = 0 … T − 1.
        norms: (T,) the spectral norms ‖∂h⁽ᵀ⁾/∂h⁽ᵏ⁾‖₂, k = 0 … T − 1.
        gamma1: the largest singular value γ₁ of W_hh (§9.5).
        cell_path: for an LSTM, (T, D_h): ``cell_path[k]`` = ∏_{i=k+1}^{T} f⁽ⁱ⁾ (eq. 10.7), the
            diagonal of ∂C⁽ᵀ⁾/∂C⁽ᵏ⁾ along the cell path; None for an RNN.
    """

    steps: np.ndarray
    to_last: np.ndarray
    norms: np.ndarray
    gamma1: float
    cell_path: np.ndarray | None = None

    @property
    def gaps(self) -> np.ndarray:
        """T − k for each entry of ``norms`` (T, T − 1, …, 1)."""
        return np.arange(len(self.norms), 0, -1)

    def product(self, t: int, k: int) -> np.ndarray:
        """∂h⁽ᵗ⁾/∂h⁽ᵏ⁾ = ∏_{i=k+1}^{t} diag(f′(a⁽ⁱ⁾)) W_hh (eq. 9.18), for 0 ≤ k ≤ t ≤ T."""
        T, D = len(self.steps), self.steps.shape[1]
        if not (0 <= k <= t <= T):
            raise ValueError(f"product: need 0 ≤ k ≤ t ≤ {T}, got t={t}, k={k}")
        result = np.eye(D)
        for i in range(k + 1, t + 1):
            result = self.steps[i - 1] @ result
        return result

    def rate(self, skip: int = 0) -> float:
        """The per-step factor ρ of the fit ‖∂h⁽ᵀ⁾/∂h⁽ᵏ⁾‖ ≈ c ρ^(T−k) (least squares on the
        log norms; ρ < 1 vanishes, ρ > 1 explodes, eq. 9.19–9.20). ``skip`` drops the
        ``skip`` shortest gaps, where the transient of the first products dominates."""
        gaps, norms = self.gaps, self.norms
        keep = (gaps > skip) & (norms > 0)
        if keep.sum() < 2:
            raise ValueError("rate: needs at least two non-zero norms to fit")
        slope = np.polyfit(gaps[keep], np.log(norms[keep]), 1)[0]
        return float(np.exp(slope))


def state_jacobians(layer, x, h0=None) -> StateJacobians:
    """The state Jacobians of ``layer`` (an ``nn.RNN`` or ``nn.LSTM``, layer 0) on one sequence.

    For the RNN, ∂h⁽ⁱ⁾/∂h⁽ⁱ⁻¹⁾ = diag(f′(a⁽ⁱ⁾)) W_hh with f′ from the states the layer
    computed (1 − h² for tanh, [h > 0] for ReLU). For the LSTM the same products are taken of
    its full Jacobian ∂h⁽ⁱ⁾/∂h⁽ⁱ⁻¹⁾ (through every gate, from the engine's gradients), and the
    cell path ∏ f⁽ⁱ⁾ (eq. 10.7) is returned alongside.

    Args:
        layer: an ``nn.RNN`` or ``nn.LSTM``.
        x: one sequence (T, D_x) or (1, T, D_x).
        h0: the initial state (D_h,), zeros when omitted.

    Example:
        >>> import numpy as np
        >>> import deltagrad as dg
        >>> rnn = RNN(1, 4, rng=0)
        >>> J = dg.analysis.state_jacobians(rnn, np.zeros((10, 1)))
        >>> J.steps.shape, J.norms.shape
        ((10, 4, 4), (10,))
    """
    if not isinstance(layer, (RNN, LSTM)):
        raise TypeError(f"state_jacobians: layer must be an nn.RNN or nn.LSTM, got "
                        f"{type(layer).__name__}")
    if layer.bidirectional:
        raise ValueError(f"state_jacobians: analyses the forward recurrence of one direction; "
                         f"{layer!r} is bidirectional")
    x = np.asarray(x.data if isinstance(x, Tensor) else x, dtype=layer.dtype)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[0] != 1:
        raise ValueError(f"state_jacobians: x must be one sequence (T, D_x) or (1, T, D_x), "
                         f"got shape {x.shape}")
    D = layer.hidden_size
    h0 = np.zeros((1, D), dtype=layer.dtype) if h0 is None else \
        np.asarray(h0, dtype=layer.dtype).reshape(1, D)
    W_hh = layer.W_hh.data
    if isinstance(layer, RNN):
        steps, cell_path = _rnn_steps(layer, x, h0), None
    else:
        steps, cell_path = _lstm_steps(layer, x, h0)
    to_last = np.empty_like(steps)
    product = np.eye(D)
    for k in range(len(steps) - 1, -1, -1):  # ∂h⁽ᵀ⁾/∂h⁽ᵏ⁾ = ∂h⁽ᵀ⁾/∂h⁽ᵏ⁺¹⁾ · ∂h⁽ᵏ⁺¹⁾/∂h⁽ᵏ⁾
        product = product @ steps[k]
        to_last[k] = product
    norms = np.linalg.norm(to_last, ord=2, axis=(1, 2))
    gamma1 = float(np.linalg.norm(W_hh, 2))
    return StateJacobians(steps, to_last, norms, gamma1, cell_path)


def _rnn_steps(rnn, x, h0) -> np.ndarray:
    """diag(f′(a⁽ⁱ⁾)) W_hh for i = 1 … T (§9.4.1), f′ from the layer's own states."""
    if rnn.num_layers != 1:
        raise ValueError(f"state_jacobians: analyses one layer; {rnn!r} has {rnn.num_layers}")
    with no_grad():
        H = rnn(x, h0)[0].data[0]
    slope = 1 - H * H if rnn.nonlinearity == "tanh" else (H > 0).astype(H.dtype)
    return slope[:, :, None] * rnn.W_hh.data[None]


def _lstm_steps(lstm, x, h0):
    """The LSTM's full ∂h⁽ⁱ⁾/∂h⁽ⁱ⁻¹⁾, one engine backward per unit with step i run alone
    from the state the sequence reached, and the forget gates' cell path (eq. 10.7)."""
    if lstm.num_layers != 1:
        raise ValueError(f"state_jacobians: analyses one layer; {lstm!r} has "
                         f"{lstm.num_layers}")
    T, D = x.shape[1], lstm.hidden_size
    W_xh, W_hh, b_h = lstm.W_xh.data, lstm.W_hh.data, lstm.b_h.data
    steps, forget = np.empty((T, D, D)), np.empty((T, D))
    h_data, c = h0, Tensor(np.zeros_like(h0))
    for i in range(T):
        h = Tensor(h_data, requires_grad=True)
        out = lstm_sequence(Tensor(x[:, i:i + 1]), h, c, W_xh, W_hh, b_h)
        for j in range(D):
            (g,) = grad(out[0, 0, j], h, retain_graph=True)
            steps[i, j] = g.data[0]
        z = x[0, i] @ W_xh[D:2 * D].T + h_data[0] @ W_hh[D:2 * D].T + b_h[D:2 * D]
        forget[i] = 1 / (1 + np.exp(-z))  # f⁽ⁱ⁾ = σ(z_f) (eq. 10.4)
        h_data, c = out.data[:, 0], Tensor(out.data[:, 1])
    cell_path = np.cumprod(forget[::-1], axis=0)[::-1]  # cell_path[k] = ∏_{i>k} f⁽ⁱ⁾
    return steps, cell_path
