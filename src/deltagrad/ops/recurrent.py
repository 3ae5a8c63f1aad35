"""Fused recurrent sequences: a whole RNN, LSTM or GRU layer over T steps as one primitive.

Each forward runs the recurrence with one matrix product per step (the input projection of all
T steps is one product before the loop); each VJP is backpropagation through time: one
backward loop computes the deltas of every step (eq. 9.14), after which the weight gradients
are single products summed over time (eq. 8.10, 9.5). Fused for speed: a graph of T steps of
small ops would cost many times more. The VJPs are raw NumPy, so these primitives cannot be
differentiated twice (autograd says so).

Shapes: ``x`` (N, T, D_x); states (N, D_h); ``W_xh`` (G·D_h, D_x), ``W_hh`` (G·D_h, D_h),
``b_h`` (G·D_h,) with G = 1 (RNN), 4 (LSTM: gates i, f, C̃, o) or 3 (GRU: r, z, n), the
gate order of ``torch.nn``. ``mask`` (N, T) of booleans, or None: where ``mask[n, t]`` is
False step t is skipped for sequence n (its state is carried over unchanged), so padded
steps of a variable-length batch change neither the states nor the gradients.
"""

from __future__ import annotations

import numpy as np

from .base import Primitive, Saved


def _sigmoid_(z):
    """σ(z) = ½ tanh(z/2) + ½ in place: stable at any z, and several times faster than
    scipy's expit on the strided gate slices of one step."""
    z *= 0.5
    np.tanh(z, out=z)
    z *= 0.5
    z += 0.5
    return z


def _input_projection(x, W_xh, b_h):
    """Z_x = x W_xhᵀ + b_h for all N·T steps in one product: (N, T, G·D_h)."""
    N, T, D_x = x.shape
    z = x.reshape(N * T, D_x) @ W_xh.T
    z += b_h
    return z.reshape(N, T, -1)


def _keep(mask, t):
    """(N, 1) booleans: the sequences that take step t, or None when nothing is masked."""
    return None if mask is None else mask[:, t, None]


def _carry(new, previous, keep):
    """h⁽ᵗ⁾ ← h⁽ᵗ⁻¹⁾ where the step is masked out (in place in ``new``)."""
    if keep is not None:
        np.copyto(new, previous, where=~keep)


# ---------------------------------------------------------------- the plain RNN (eq. 8.6–8.7)

def _rnn_forward(x, h0, W_xh, W_hh, b_h, nonlinearity="tanh", mask=None, saved=None):
    """h⁽ᵗ⁾ = f(W_hh h⁽ᵗ⁻¹⁾ + W_xh x⁽ᵗ⁾ + b_h) (eq. 8.6–8.7) for t = 1…T: all states (N, T, D_h).

    BPTT needs nothing beyond the states themselves: f′(a) = 1 − h² for tanh, [h > 0] for ReLU.
    """
    H = _input_projection(x, W_xh, b_h)  # a⁽ᵗ⁾ is built in place, then becomes h⁽ᵗ⁾
    W_hh_T = np.ascontiguousarray(W_hh.T)
    h = h0
    for t in range(H.shape[1]):
        a = H[:, t]
        a += h @ W_hh_T
        if nonlinearity == "tanh":
            np.tanh(a, out=a)
        else:
            np.maximum(a, 0, out=a)
        _carry(a, h, _keep(mask, t))
        h = a
    return H


def _rnn_deltas(g, H, x, h0, W_hh, nonlinearity, mask):
    """δ_h⁽ᵗ⁾ = (g⁽ᵗ⁾ + W_hhᵀ δ_h⁽ᵗ⁺¹⁾) ⊙ f′(a⁽ᵗ⁾) backwards from t = T (eq. 9.14), where
    g⁽ᵗ⁾ = ∂E/∂h⁽ᵗ⁾ from the layers above (W_hyᵀ δ_o⁽ᵗ⁾ for a Linear output layer).

    Returns (δ_h of every step (N, T, D_h), ∂E/∂h⁽⁰⁾)."""
    delta = np.empty_like(H)
    from_future = np.zeros_like(h0)
    for t in range(H.shape[1] - 1, -1, -1):
        dh = g[:, t] + from_future
        h = H[:, t]
        d = delta[:, t]
        if nonlinearity == "tanh":
            np.multiply(dh, 1 - h * h, out=d)
        else:
            np.multiply(dh, h > 0, out=d)
        keep = _keep(mask, t)
        if keep is not None:
            d *= keep
        from_future = d @ W_hh
        if keep is not None:
            from_future += dh * ~keep
    return delta, from_future


def _rnn_vjp(i):
    def vjp(g, H, x, h0, W_xh, W_hh, b_h, nonlinearity="tanh", mask=None, saved=None):
        delta, dh0 = saved.deltas_for(
            g, lambda: _rnn_deltas(g, H, x, h0, W_hh, nonlinearity, mask))
        return _weight_gradient(i, delta, delta, dh0, H, x, h0, W_xh)
    return vjp


def _previous_states(H, h0):
    """(h⁽⁰⁾, …, h⁽ᵀ⁻¹⁾) as (N, T, D_h): the states each step's W_hh multiplied."""
    return np.concatenate([h0[:, None, :], H[:, :-1]], axis=1)


def _weight_gradient(i, delta_x, delta_h, dh0, H, x, h0, W_xh):
    """Gradients of inputs (x, h0, W_xh, W_hh, b_h) from the deltas of every step, summed
    over time (eq. 8.10): ∂E/∂W_xh = Σ_t δ⁽ᵗ⁾ x⁽ᵗ⁾ᵀ, ∂E/∂W_hh = Σ_t δ⁽ᵗ⁾ h⁽ᵗ⁻¹⁾ᵀ,
    ∂E/∂b_h = Σ_t δ⁽ᵗ⁾, ∂E/∂x⁽ᵗ⁾ = W_xhᵀ δ⁽ᵗ⁾ (``delta_x`` feeds the input projection,
    ``delta_h`` the recurrent one; they differ only in a GRU)."""
    N, T, D_x = x.shape
    if i == 0:
        return (delta_x.reshape(N * T, -1) @ W_xh).reshape(N, T, D_x)
    if i == 1:
        return dh0
    if i == 2:
        return delta_x.reshape(N * T, -1).T @ x.reshape(N * T, D_x)
    if i == 3:
        previous = _previous_states(H, h0)
        return delta_h.reshape(N * T, -1).T @ previous.reshape(N * T, -1)
    return delta_x.reshape(N * T, -1).sum(axis=0)


rnn_sequence_primitive = Primitive("rnn_sequence", _rnn_forward, _rnn_vjp,
                                   differentiable_twice=False)


def rnn_sequence(x, h0, W_xh, W_hh, b_h, nonlinearity: str = "tanh", mask=None):
    """All hidden states of an RNN layer, (N, T, D_h) (eq. 8.6–8.7), as one fused primitive
    whose VJP is BPTT (eq. 9.14). ``nonlinearity`` is ``"tanh"`` or ``"relu"``."""
    return rnn_sequence_primitive(x, h0, W_xh, W_hh, b_h, nonlinearity=nonlinearity,
                                  mask=mask, saved=Saved())


# ------------------------------------------------------------------- the LSTM (eq. 10.4–10.6)

# Layout: the LSTM keeps its per-step arrays time-major, (T, N, ·), so that the gates of step t
# are one contiguous (N, 4D_h) block and every elementwise operation of a step is one SIMD
# loop (batch-major rows would be N strided pieces). The rows of W_xh, W_hh and b_h that feed
# the sigmoid gates i, f, o are halved before the products (exact: a power of two), so that
# one tanh over all four gates gives tanh(z/2) for those and tanh(z) for C̃, and σ(z) = ½ tanh(z/2)
# + ½ is two more operations; BPTT then needs, per step, only the products with the two
# running sums ∂E/∂h and ∂E/∂C: every factor that does not depend on them is computed for a
# few steps at once (``_lstm_gate_factors``).

_SIGMOID_ROWS = (slice(0, 2), slice(3, 4))  # gates i, f and o, in units of D_h


def _half_sigmoid_rows(w, D: int):
    """``w`` with the rows of the sigmoid gates (i, f, o) halved (a copy)."""
    w = w.copy()
    for rows in _SIGMOID_ROWS:
        w[rows.start * D:rows.stop * D] *= 0.5
    return w


def _lstm_forward(x, h0, c0, W_xh, W_hh, b_h, mask=None, saved=None):
    """The LSTM over T steps. Gates z = W_xh x⁽ᵗ⁾ + W_hh h⁽ᵗ⁻¹⁾ + b_h split into
    i = σ(z_i), f = σ(z_f), C̃ = tanh(z_C̃), o = σ(z_o) (eq. 10.4);
    C⁽ᵗ⁾ = f ⊙ C⁽ᵗ⁻¹⁾ + i ⊙ C̃ (eq. 10.6); h⁽ᵗ⁾ = o ⊙ tanh C⁽ᵗ⁾.

    Returns (N, T + 1, D_h): the hidden states h⁽¹⁾…h⁽ᵀ⁾, then the last cell state C⁽ᵀ⁾.
    Keeps for BPTT the four gates of every step, the cell states and tanh C (time-major).
    """
    N, T, D_x = x.shape
    D = h0.shape[1]
    x_steps = x.swapaxes(0, 1).reshape(T * N, D_x)
    gates = x_steps @ _half_sigmoid_rows(W_xh, D).T     # (T·N, 4D): one product for all steps
    gates += _half_sigmoid_rows(b_h[:, None], D)[:, 0]
    gates = gates.reshape(T, N, 4 * D)
    W_hh_T = np.ascontiguousarray(_half_sigmoid_rows(W_hh, D).T)
    out = np.empty((N, T + 1, D), dtype=gates.dtype)
    C = np.empty((T, N, D), dtype=gates.dtype)
    tanh_C = np.empty_like(C)
    product = np.empty((N, D), dtype=gates.dtype)
    h, c = h0, c0
    for t in range(T):
        z = gates[t]
        z += h @ W_hh_T
        np.tanh(z, out=z)
        for rows in _SIGMOID_ROWS:
            sig = z[:, rows.start * D:rows.stop * D]
            sig *= 0.5
            sig += 0.5
        i, f, g, o = z[:, :D], z[:, D:2 * D], z[:, 2 * D:3 * D], z[:, 3 * D:]
        c_new = C[t]
        np.multiply(f, c, out=c_new)
        c_new += np.multiply(i, g, out=product)
        np.tanh(c_new, out=tanh_C[t])
        h_new = out[:, t]
        np.multiply(o, tanh_C[t], out=h_new)
        keep = _keep(mask, t)
        _carry(c_new, c, keep)
        _carry(h_new, h, keep)
        h, c = h_new, c_new
    out[:, T] = c
    saved.buffers.update(gates=gates, C=C, tanh_C=tanh_C)
    return out


# BPTT computes the factors of a few steps at a time: together they are about this many bytes,
# so that they are still in cache when the steps use them (computed for all T at once, they
# would go to main memory and back, which costs more than the per-step calls they save).
_FACTOR_BYTES = 1 << 18


def _lstm_gate_factors(steps: slice, gates, C, tanh_C, c0, factors, cell):
    """For the given steps at once, into ``factors`` (steps, N, 4D) and ``cell`` (steps, N, D):
    the factors that turn ∂E/∂C (gates i, f, C̃) and ∂E/∂h (gate o) into the gates' deltas,
    C̃ i(1 − i), C⁽ᵗ⁻¹⁾ f(1 − f), i(1 − C̃²), tanh C o(1 − o); and o (1 − tanh² C), which
    carries ∂E/∂h into ∂E/∂C."""
    D = C.shape[2]
    gates, tanh_C = gates[steps], tanh_C[steps]
    i, f, g, o = (gates[..., k * D:(k + 1) * D] for k in range(4))
    d_i, d_f, d_g, d_o = (factors[..., k * D:(k + 1) * D] for k in range(4))
    np.subtract(1, gates, out=factors)   # s(1 − s) for all four, then C̃'s replaced below
    factors *= gates
    d_i *= g
    d_o *= tanh_C
    if steps.start == 0:
        d_f[0] *= c0
        d_f[1:] *= C[:steps.stop - 1]
    else:
        d_f *= C[steps.start - 1:steps.stop - 1]
    np.multiply(g, g, out=d_g)
    np.subtract(1, d_g, out=d_g)
    d_g *= i
    np.multiply(tanh_C, tanh_C, out=cell)
    np.subtract(1, cell, out=cell)
    cell *= o


def _lstm_deltas(g, out, h0, c0, W_hh, mask, saved):
    """BPTT through the LSTM: per step, with dh = ∂E/∂h⁽ᵗ⁾ and dC = ∂E/∂C⁽ᵗ⁾ (through the cell
    path ∏ f⁽ⁱ⁾ of eq. 10.7 and through h⁽ᵗ⁾ = o ⊙ tanh C⁽ᵗ⁾):
    dC = dC⁽ᵗ⁺¹⁾ ⊙ f⁽ᵗ⁺¹⁾ + dh ⊙ o ⊙ (1 − tanh² C), δ_o = dh ⊙ tanh C ⊙ o(1 − o),
    δ_i = dC ⊙ C̃ ⊙ i(1 − i), δ_f = dC ⊙ C⁽ᵗ⁻¹⁾ ⊙ f(1 − f), δ_C̃ = dC ⊙ i ⊙ (1 − C̃²),
    and dh⁽ᵗ⁻¹⁾ = W_hhᵀ δ⁽ᵗ⁾. Returns (δ of every step, time-major (T, N, 4D_h), ∂E/∂h⁽⁰⁾,
    ∂E/∂C⁽⁰⁾)."""
    gates, C, tanh_C = (saved.buffers[k] for k in ("gates", "C", "tanh_C"))
    T, N, D = C.shape
    delta = np.empty_like(gates)
    chunk = max(1, _FACTOR_BYTES // (5 * N * D * C.itemsize))
    cell = np.empty((chunk, N, D), dtype=C.dtype)
    dh_future = np.zeros_like(h0)
    dc_future = g[:, T].copy()
    dc = np.empty_like(dc_future)
    for t in range(T - 1, -1, -1):
        if t % chunk == chunk - 1 or t == T - 1:   # the factors of steps ⌊t/chunk⌋·chunk … t
            steps = slice(t - t % chunk, t + 1)
            _lstm_gate_factors(steps, gates, C, tanh_C, c0, delta[steps], cell[:t % chunk + 1])
        dh = g[:, t] + dh_future
        keep = _keep(mask, t)
        if keep is not None:  # a skipped step passes both running sums on unchanged
            dh_skip, dc_skip = dh * ~keep, dc_future * ~keep
            dh *= keep
            dc_future = dc_future * keep
        np.multiply(dh, cell[t % chunk], out=dc)
        dc += dc_future
        d = delta[t]
        d_cell = d[:, :3 * D].reshape(N, 3, D)              # δ_i, δ_f, δ_C̃: factor · dC
        np.multiply(d_cell, dc[:, None, :], out=d_cell)
        d[:, 3 * D:] *= dh                                   # δ_o: factor · dh
        dh_future = d @ W_hh
        if keep is None:
            dc_future = dc * gates[t, :, D:2 * D]
        else:
            dh_future += dh_skip
            dc_future = dc * gates[t, :, D:2 * D] + dc_skip
    return delta, dh_future, dc_future


def _lstm_vjp(i):
    def vjp(g, out, x, h0, c0, W_xh, W_hh, b_h, mask=None, saved=None):
        delta, dh0, dc0 = saved.deltas_for(
            g, lambda: _lstm_deltas(g, out, h0, c0, W_hh, mask, saved))
        N, T, D_x = x.shape
        flat = delta.reshape(T * N, -1)                      # time-major rows, as the forward
        if i == 0:
            return (flat @ W_xh).reshape(T, N, D_x).swapaxes(0, 1)
        if i == 1:
            return dh0
        if i == 2:
            return dc0
        if i == 3:
            return flat.T @ x.swapaxes(0, 1).reshape(T * N, D_x)
        if i == 4:
            # (h⁽⁰⁾, …, h⁽ᵀ⁻¹⁾) time-major and C-contiguous: np.concatenate would keep the
            # view's memory order, and the reshape below would then copy it once more
            previous = np.empty((T,) + h0.shape, dtype=delta.dtype)
            previous[0] = h0
            previous[1:] = out[:, :T - 1].swapaxes(0, 1)
            return flat.T @ previous.reshape(T * N, -1)
        return flat.sum(axis=0)
    return vjp


lstm_sequence_primitive = Primitive("lstm_sequence", _lstm_forward, _lstm_vjp,
                                    differentiable_twice=False)


def lstm_sequence(x, h0, c0, W_xh, W_hh, b_h, mask=None):
    """An LSTM layer over the sequence as one fused primitive (eq. 10.4–10.6), BPTT as its VJP.

    Returns (N, T + 1, D_h): the hidden states h⁽¹⁾…h⁽ᵀ⁾, then the last cell state C⁽ᵀ⁾."""
    return lstm_sequence_primitive(x, h0, c0, W_xh, W_hh, b_h, mask=mask, saved=Saved())


# ------------------------------------------------------------------------------------ the GRU

def _gru_forward(x, h0, W_xh, W_hh, b_h, b_hn, mask=None, saved=None):
    """The GRU over T steps (gates as ``torch.nn.GRU``):
    r = σ(z_r), u = σ(z_u) (the update gate), n = tanh(W_xn x + b_n + r ⊙ (W_hn h⁽ᵗ⁻¹⁾ + b_hn)),
    h⁽ᵗ⁾ = (1 − u) ⊙ n + u ⊙ h⁽ᵗ⁻¹⁾, where z = W_xh x⁽ᵗ⁾ + W_hh h⁽ᵗ⁻¹⁾ + b_h for r and u.

    Returns all states (N, T, D_h); keeps r, u, n and W_hn h + b_hn of every step for BPTT.
    """
    N, T, _ = x.shape
    D = h0.shape[1]
    gates = _input_projection(x, W_xh, b_h)  # becomes r, u, n in place
    hidden_n = np.empty((N, T, D), dtype=gates.dtype)
    W_hh_T = np.ascontiguousarray(W_hh.T)
    H = np.empty((N, T, D), dtype=gates.dtype)
    h = h0
    for t in range(T):
        z = gates[:, t]
        zh = h @ W_hh_T
        z[:, :2 * D] += zh[:, :2 * D]
        _sigmoid_(z[:, :2 * D])
        r, u, n = z[:, :D], z[:, D:2 * D], z[:, 2 * D:]
        hn = hidden_n[:, t]
        np.add(zh[:, 2 * D:], b_hn, out=hn)
        n += r * hn
        np.tanh(n, out=n)
        h_new = H[:, t]
        np.multiply(u, h - n, out=h_new)
        h_new += n
        _carry(h_new, h, _keep(mask, t))
        h = h_new
    saved.buffers.update(gates=gates, hidden_n=hidden_n)
    return H


def _gru_deltas(g, H, h0, W_hh, mask, saved):
    """BPTT through the GRU: with dh = ∂E/∂h⁽ᵗ⁾, δ_n = dh ⊙ (1 − u) ⊙ (1 − n²),
    δ_u = dh ⊙ (h⁽ᵗ⁻¹⁾ − n) ⊙ u(1 − u), δ_r = δ_n ⊙ (W_hn h + b_hn) ⊙ r(1 − r);
    the recurrent product sees δ_n ⊙ r in place of δ_n; dh⁽ᵗ⁻¹⁾ = dh ⊙ u + W_hhᵀ δ_h.
    Returns (δ for the input projection, δ for the recurrent one, ∂E/∂h⁽⁰⁾)."""
    gates, hidden_n = saved.buffers["gates"], saved.buffers["hidden_n"]
    N, T, D = H.shape
    delta_x = np.empty_like(gates)
    delta_h = np.empty_like(gates)
    dh_future = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        r, u, n = (gates[:, t, k * D:(k + 1) * D] for k in range(3))
        h_previous = H[:, t - 1] if t else h0
        dh = g[:, t] + dh_future
        keep = _keep(mask, t)
        if keep is not None:
            dh_skip = dh * ~keep
            dh = dh * keep
        dx, dr = delta_x[:, t], delta_h[:, t]
        np.multiply(dh * (1 - u), 1 - n * n, out=dx[:, 2 * D:])
        np.multiply(dh * (h_previous - n), u * (1 - u), out=dx[:, D:2 * D])
        np.multiply(dx[:, 2 * D:] * hidden_n[:, t], r * (1 - r), out=dx[:, :D])
        dr[:, :2 * D] = dx[:, :2 * D]
        np.multiply(dx[:, 2 * D:], r, out=dr[:, 2 * D:])
        dh_future = dr @ W_hh
        dh_future += dh * u
        if keep is not None:
            dh_future += dh_skip
    return delta_x, delta_h, dh_future


def _gru_vjp(i):
    def vjp(g, H, x, h0, W_xh, W_hh, b_h, b_hn, mask=None, saved=None):
        delta_x, delta_h, dh0 = saved.deltas_for(
            g, lambda: _gru_deltas(g, H, h0, W_hh, mask, saved))
        if i == 5:  # b_hn enters the recurrent product of the candidate only
            D = H.shape[2]
            return delta_h[..., 2 * D:].reshape(-1, D).sum(axis=0)
        return _weight_gradient(i, delta_x, delta_h, dh0, H, x, h0, W_xh)
    return vjp


gru_sequence_primitive = Primitive("gru_sequence", _gru_forward, _gru_vjp,
                                   differentiable_twice=False)


def gru_sequence(x, h0, W_xh, W_hh, b_h, b_hn, mask=None):
    """A GRU layer over the sequence as one fused primitive, BPTT as its VJP: (N, T, D_h)."""
    return gru_sequence_primitive(x, h0, W_xh, W_hh, b_h, b_hn, mask=mask, saved=Saved())
