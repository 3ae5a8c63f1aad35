"""Chapters 9–10 in practice: the state Jacobians (§9.4–9.5, eq. 9.18, 10.7), clipping
(eq. 9.21), the long-range adding problem (LSTM versus RNN) and the sequence tasks."""

import numpy as np
import pytest

import deltagrad as dg
from deltagrad import nn


def _rnn_with_gamma(gamma1, D=6, seed=0):
    """An RNN whose W_hh = γ₁ Q (Q orthogonal), so every singular value of W_hh is γ₁."""
    rnn = nn.RNN(1, D, rng=seed)
    Q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(D, D)))
    rnn.W_hh.data = gamma1 * Q
    rnn.b_h.data[:] = 0.0
    return rnn


def test_state_jacobians_are_the_engine_s_jacobian_of_h_T_with_respect_to_h_0():
    """to_last[0] = ∏ diag(f′(a⁽ⁱ⁾)) W_hh (eq. 9.18) is ∂h⁽ᵀ⁾/∂h⁽⁰⁾ from backward, row by row."""
    rnn = nn.RNN(2, 4, rng=3)
    x = np.random.default_rng(1).normal(size=(1, 7, 2))
    h0 = np.random.default_rng(2).normal(size=(1, 4))
    J = dg.analysis.state_jacobians(rnn, x, h0=h0[0])
    h0_t = dg.tensor(h0, requires_grad=True)
    h_T = rnn(x, h0_t)[1]
    rows = [dg.grad(h_T[0, j], h0_t, retain_graph=True)[0].data[0] for j in range(4)]
    np.testing.assert_allclose(J.to_last[0], np.array(rows), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(J.product(7, 3), J.to_last[3], rtol=1e-13)
    assert J.gamma1 == pytest.approx(np.linalg.svd(rnn.W_hh.data, compute_uv=False)[0])


@pytest.mark.parametrize("gamma1", [0.9, 1.1])
def test_jacobian_norms_vanish_or_explode_at_the_rate_gamma1(gamma1):
    """With zero input the state stays 0, f′ = 1 and ∂h⁽ᵀ⁾/∂h⁽ᵏ⁾ = (γ₁Q)^(T−k): the norm is
    exactly γ₁^(T−k) (eq. 9.19–9.20). With small random inputs f′ < 1 slows the rate
    (ρ = γ₁ · typical f′ ≤ γ₁), and the fit still shows decay for 0.9 and growth for 1.1."""
    rnn = _rnn_with_gamma(gamma1)
    J = dg.analysis.state_jacobians(rnn, np.zeros((60, 1)))
    np.testing.assert_allclose(J.norms, gamma1 ** J.gaps, rtol=1e-10)
    assert J.rate() == pytest.approx(gamma1, rel=1e-10)
    rnn.W_xh.data[:] = 0.5
    noisy = dg.analysis.state_jacobians(
        rnn, np.random.default_rng(0).normal(scale=0.05, size=(60, 1)))
    rate = noisy.rate()
    assert rate <= gamma1 + 1e-12
    assert (rate < 0.95) if gamma1 < 1 else (rate > 1.03)


def test_lstm_cell_path_is_the_product_of_forget_gates():
    """cell_path[k] = ∏_{i>k} f⁽ⁱ⁾ (eq. 10.7): with W_hh = 0, W_xh = 0 every forget gate is
    σ(b_f) = σ(1) (the initial forget bias; the other biases 0), so cell_path[k] = σ(1)^(T−k).
    Then the gates do
    not depend on h: ∂h⁽ⁱ⁾/∂h⁽ⁱ⁻¹⁾ = 0 = ∂C⁽ⁱ⁾/∂h⁽ⁱ⁻¹⁾, ∂C⁽ⁱ⁾/∂C⁽ⁱ⁻¹⁾ = diag(f), and with
    C̃ = tanh 0 = 0 the cell stays 0, so ∂h⁽ⁱ⁾/∂C⁽ⁱ⁻¹⁾ = diag(o (1 − tanh² C) f) = σ(0) σ(1):
    the true Jacobian's C-block is the cell path, the h-block vanishes."""
    lstm = nn.LSTM(1, 3, rng=0)
    lstm.W_hh.data[:] = 0.0
    lstm.W_xh.data[:] = 0.0
    lstm.b_h.data[:] = 0.0
    lstm.b_h.data[3:6] = 1.0  # the forget gates' bias, as initialised
    J = dg.analysis.state_jacobians(lstm, np.ones((5, 1)))
    sigma1 = 1 / (1 + np.exp(-1.0))
    np.testing.assert_allclose(J.cell_path, (sigma1 ** J.gaps)[:, None] * np.ones(3),
                               rtol=1e-12)
    np.testing.assert_allclose(J.steps[:, :, :3], 0.0)  # no path from h⁽ⁱ⁻¹⁾ when W_hh = 0
    np.testing.assert_allclose(J.steps[:, 3:, 3:], np.broadcast_to(sigma1 * np.eye(3),
                                                                   (5, 3, 3)), rtol=1e-15)
    np.testing.assert_allclose(J.steps[:, :3, 3:], np.broadcast_to(0.5 * sigma1 * np.eye(3),
                                                                   (5, 3, 3)), rtol=1e-15)
    for k in range(5):
        np.testing.assert_allclose(J.to_last[k, 3:, 3:], np.diag(J.cell_path[k]), rtol=1e-14)


def _torch_state_jacobian(layer, x, k):
    """∂s⁽ᵀ⁾/∂s⁽ᵏ⁾ by torch.autograd.functional.jacobian in float64: torch's own LSTM/GRU
    cell with our weights run from the state (h⁽ᵏ⁾, C⁽ᵏ⁾) its first k steps reached."""
    torch = pytest.importorskip("torch")
    lstm = isinstance(layer, nn.LSTM)
    D = layer.hidden_size
    cell = (torch.nn.LSTMCell if lstm else torch.nn.GRUCell)(layer.input_size, D,
                                                             dtype=torch.float64)
    b_hh = np.zeros_like(layer.b_h.data)
    if not lstm:
        b_hh[2 * D:] = layer.b_hn.data
    with torch.no_grad():
        cell.weight_ih.copy_(torch.tensor(layer.W_xh.data))
        cell.weight_hh.copy_(torch.tensor(layer.W_hh.data))
        cell.bias_ih.copy_(torch.tensor(layer.b_h.data))
        cell.bias_hh.copy_(torch.tensor(b_hh))
    xs = torch.tensor(x)

    def run(state, start, stop):
        h, c = (state[:D], state[D:]) if lstm else (state, None)
        for i in range(start, stop):
            out = cell(xs[i][None], (h[None], c[None]) if lstm else h[None])
            h, c = (out[0][0], out[1][0]) if lstm else (out[0], None)
        return torch.cat([h, c]) if lstm else h

    with torch.no_grad():
        reached = run(torch.zeros(2 * D if lstm else D, dtype=torch.float64), 0, k)
    jac = torch.autograd.functional.jacobian(lambda s: run(s, k, len(x)), reached)
    return jac.numpy()


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_state_jacobians_of_gated_layers_are_torch_autograd_s(kind):
    """The true ∂s⁽ᵀ⁾/∂s⁽ᵏ⁾ over 30 steps, s = (h, C) for the LSTM (both paths) and h for the
    GRU, equals torch's autograd Jacobian of the same map in float64. The product of the
    per-step ∂h/∂h alone (the old answer) misses the cell path by orders of magnitude."""
    layer = getattr(nn, kind)(2, 3, rng=0)
    x = np.random.default_rng(1).normal(size=(30, 2))
    J = dg.analysis.state_jacobians(layer, x)
    for k in (0, 12, 29):
        expected = _torch_state_jacobian(layer, x, k)
        np.testing.assert_allclose(J.to_last[k], expected, rtol=1e-9, atol=1e-15,
                                   err_msg=f"ours vs torch at k = {k}")
        assert J.norms[k] == pytest.approx(np.linalg.norm(expected, 2), rel=1e-9)
    if kind == "LSTM":
        h_only = J.steps[0, :3, :3]
        for step in J.steps[1:]:
            h_only = step[:3, :3] @ h_only
        assert np.linalg.norm(h_only, 2) < 1e-6 * np.linalg.norm(J.hidden[0], 2)


def test_state_jacobians_refuses_bad_input():
    with pytest.raises(TypeError, match="nn.RNN, nn.LSTM or nn.GRU"):
        dg.analysis.state_jacobians(nn.Linear(2, 2), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="one sequence"):
        dg.analysis.state_jacobians(nn.RNN(1, 2), np.zeros((2, 3, 1)))
    with pytest.raises(ValueError, match=r"one sequence \(T, 1\)"):
        dg.analysis.state_jacobians(nn.GRU(1, 2), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="analyses one layer"):
        dg.analysis.state_jacobians(nn.LSTM(1, 2, num_layers=2), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="h0 must be 2 finite numbers"):
        dg.analysis.state_jacobians(nn.LSTM(1, 2), np.zeros((3, 1)), h0=[0.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="h0 must be 2 finite numbers"):
        dg.analysis.state_jacobians(nn.GRU(1, 2), np.zeros((3, 1)), h0="zeros")
    with pytest.raises(ValueError, match="x contains NaN or infinite values"):
        dg.analysis.state_jacobians(nn.GRU(1, 2), np.full((3, 1), np.nan))
    with pytest.raises(TypeError, match=r"x must be one sequence of numbers \(T, 1\)"):
        dg.analysis.state_jacobians(nn.RNN(1, 2), [["a"], ["b"]])


def _exploding_run(clip):
    """A ReLU RNN with W_hh = 1.5 I: states grow as 1.5ᵗ over T = 60 steps, so the error and
    its gradient are huge (~1e21); plain SGD jumps to overflowing weights, clipped SGD moves
    at most η θ = 0.1 per step and walks down to a small error."""
    rnn = nn.RNN(1, 4, nonlinearity="relu", rng=0)
    rnn.W_hh.data = 1.5 * np.eye(4)
    rnn.W_xh.data = np.abs(rnn.W_xh.data)
    net = nn.RecurrentNetwork(rnn, nn.Linear(4, 1, rng=1), many_to_one=True)
    X = np.ones((8, 60, 1))
    y = np.zeros((8, 1))
    return dg.fit(net, X, y, optimizer="sgd", lr=0.1, epochs=40, progress=False,
                  clip_grad_norm=clip), net


def test_exploding_gradients_diverge_without_clipping_and_stay_finite_with_it():
    with pytest.raises(dg.DivergenceError), np.errstate(all="ignore"):
        _exploding_run(clip=None)
    history, net = _exploding_run(clip=1.0)
    assert np.all(np.isfinite(history.error))
    assert history.error[0] > 1e19 and history.error[-1] < 1.0
    assert all(np.all(np.isfinite(p.data)) for p in net.parameters())


def test_clipping_keeps_the_direction_and_caps_the_norm():
    """g ← θ g/‖g‖ when ‖g‖ > θ (eq. 9.21) on a real BPTT gradient."""
    rnn, head = nn.RNN(2, 5, rng=0), nn.Linear(5, 1, rng=1)
    x = np.random.default_rng(0).normal(size=(3, 20, 2)) * 5
    dg.losses.sum_of_squares(head(rnn(x)[0]), np.full((3, 20, 1), 10.0)).backward()
    params = rnn.parameters() + head.parameters()
    before = nn.utils.parameters_to_vector([dg.tensor(p.grad) for p in params])
    norm = nn.utils.clip_grad_norm_(params, 0.5)
    after = nn.utils.parameters_to_vector([dg.tensor(p.grad) for p in params])
    assert norm == pytest.approx(np.linalg.norm(before)) and norm > 0.5
    assert np.linalg.norm(after) == pytest.approx(0.5)
    np.testing.assert_allclose(after / np.linalg.norm(after), before / norm, rtol=1e-12)


# ------------------------------------------------------------------------ long range

def _adding(kind):
    train = dg.data.adding_problem(1600, 100, seed=0)
    test = dg.data.adding_problem(500, 100, seed=1)
    layer = nn.LSTM(2, 16, rng=0) if kind == "LSTM" else nn.RNN(2, 16, rng=0)
    net = nn.RecurrentNetwork(layer, nn.Linear(16, 1, rng=1), many_to_one=True)
    decay = dg.callbacks.LearningRateScheduler(lambda epoch, lr: 0.01 if epoch <= 10 else 0.002)
    dg.fit(net, train.X, train.y, optimizer="adam", lr=0.01, epochs=14, batch_size=32, seed=0,
           progress=False, clip_grad_norm=1.0, callbacks=[decay])
    with dg.no_grad():
        return float(np.mean((net(test.X).data - test.y) ** 2)), test.baseline


def test_adding_problem_T100_the_lstm_learns_it_and_the_rnn_cannot():
    """Hochreiter & Schmidhuber (1997): the two marked numbers are ~50 steps apart. Same
    budget (700 Adam steps of 32 sequences, η = 0.01 then 0.002 for the last 4 epochs,
    clipping at 1): the LSTM's test MSE falls below 0.01 (it reaches ≈ 0.002), the tanh RNN
    stays at the baseline of predicting the mean (≈ 0.167)."""
    lstm_mse, baseline = _adding("LSTM")
    rnn_mse, _ = _adding("RNN")
    assert baseline == pytest.approx(1 / 6, abs=0.02)  # Var(u₁ + u₂) = 2/12
    assert lstm_mse < 0.01, f"LSTM test MSE {lstm_mse}"
    assert rnn_mse > 0.1, f"RNN test MSE {rnn_mse}"


def test_sequence_tasks_have_the_documented_structure():
    task = dg.data.adding_problem(50, 20, seed=3)
    markers = task.X[..., 1]
    assert np.all(markers[:, :10].sum(axis=1) == 1) and np.all(markers[:, 10:].sum(axis=1) == 1)
    np.testing.assert_allclose(task.y[:, 0], (task.X[..., 0] * markers).sum(axis=1))
    order = dg.data.temporal_order(40, 100, seed=0)
    relevant = order.X[..., 4:].argmax(-1)  # X → 0, Y → 1 where a relevant symbol sits
    where = order.X[..., 4:].sum(-1) == 1
    assert np.all(where.sum(axis=1) == 2)
    pairs = relevant[where].reshape(40, 2)
    np.testing.assert_array_equal(order.y, 2 * pairs[:, 0] + pairs[:, 1])
    copy = dg.data.copy_memory(4, 30, seed=0)
    assert copy.X.shape == (4, 50, 10)
    np.testing.assert_array_equal(copy.y[:, -10:], copy.X[:, :10].argmax(-1))
    assert copy.baseline == pytest.approx(10 * np.log(8) / 50)
    np.testing.assert_array_equal(dg.data.adding_problem(5, 10, seed=1).X,
                                  dg.data.adding_problem(5, 10, seed=1).X)
    with pytest.raises(ValueError, match="T must be ≥ 2"):
        dg.data.adding_problem(5, 1)
