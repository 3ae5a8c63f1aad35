"""Recurrent layers (chapters 8–10): the §9.3 worked example to the digit, the notes' scalar
special cases, RNN/LSTM/GRU against torch.nn in float64, masks, bad input, saving."""

import numpy as np
import pytest
import torch

import deltagrad as dg
from deltagrad import nn
from recurrent_twins import torch_gradients, torch_twin


def notes_rnn():
    """The 2-2-1 RNN of §9.3.2 with its weights and the output layer W_hy, b_y (eq. 8.8)."""
    rnn = nn.RNN(2, 2)
    rnn.W_xh.data = np.array([[0.5, 0.1], [0.2, 0.4]])
    rnn.W_hh.data = np.array([[0.3, 0.6], [0.7, 0.1]])
    rnn.b_h.data = np.array([0.1, 0.1])
    out = nn.Linear(2, 1)
    out.weight.data = np.array([[0.8, 0.4]])
    out.bias.data = np.array([0.0])
    xs = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    ys = np.array([[[0.5], [0.9]]])
    return rnn, out, xs, ys


def test_section_9_3_worked_example_every_number():
    """§9.3.3–9.3.5. The notes print E = 0.025348, the sum of E⁽¹⁾ = 0.001058 and
    E⁽²⁾ = 0.02429 computed from intermediates rounded to 3 digits (ŷ⁽¹⁾ = 0.546); unrounded,
    E = ½(0.546165 − 0.5)² + ½(0.679406 − 0.9)² = 0.025396. Every other value agrees with the
    notes' to the digits they print and is checked here to six."""
    rnn, out, xs, ys = notes_rnn()
    deltas = _deltas_by_unfolding(rnn, out, xs, ys)
    rnn.zero_grad()
    out.zero_grad()
    H, h_last = rnn(xs)
    y_hat = out(H)
    E = dg.losses.sum_of_squares(y_hat, ys)
    E.backward()
    close = dict(atol=5e-7, rtol=0)
    np.testing.assert_allclose(H.data[0], [[0.537050, 0.291313], [0.489880, 0.718756]],
                               **close)
    np.testing.assert_allclose(h_last.data[0], [0.489880, 0.718756], **close)
    np.testing.assert_allclose(y_hat.data.ravel(), [0.546165, 0.679406], **close)
    assert E.item() == pytest.approx(0.025396, abs=5e-7)
    np.testing.assert_allclose(deltas, [[-0.023598, -0.060650], [-0.134124, -0.042653]], **close)
    np.testing.assert_allclose(out.weight.grad, [[-0.083272, -0.145105]], **close)
    np.testing.assert_allclose(out.bias.grad, [-0.174429], **close)
    np.testing.assert_allclose(rnn.W_xh.grad, [[-0.023598, -0.134124], [-0.060650, -0.042653]],
                               **close)
    np.testing.assert_allclose(rnn.W_hh.grad, [[-0.072031, -0.039072], [-0.022907, -0.012425]],
                               **close)
    np.testing.assert_allclose(rnn.b_h.grad, [-0.157722, -0.103303], **close)
    dg.optim.SGD(rnn.parameters() + out.parameters(), lr=0.1).step()
    np.testing.assert_allclose(rnn.W_hh.data, [[0.307203, 0.603907], [0.702291, 0.101243]],
                               **close)
    np.testing.assert_allclose(out.weight.data, [[0.808327, 0.414510]], **close)


def _deltas_by_unfolding(rnn, out, xs, ys):
    """δ_h⁽ᵗ⁾ = ∂E/∂a⁽ᵗ⁾ (eq. 9.14) read from the engine on the unfolded graph (§8.3): step t
    runs the fused primitive for one step with its own copy b_h⁽ᵗ⁾ of the bias, so
    ∂E/∂b_h⁽ᵗ⁾ = δ_h⁽ᵗ⁾ (for one sequence)."""
    h = dg.tensor(np.zeros((1, 2)))
    biases, E = [], 0.0
    for t in range(xs.shape[1]):
        b = dg.tensor(rnn.b_h.data.copy(), requires_grad=True)
        H = dg.ops.rnn_sequence(dg.tensor(xs[:, t:t + 1]), h, rnn.W_xh, rnn.W_hh, b)
        E = E + dg.losses.sum_of_squares(out(H), ys[:, t:t + 1])
        h = H[:, 0]
        biases.append(b)
    E.backward()
    return np.array([b.grad for b in biases])


def test_the_1_1_1_network_is_the_scalar_recurrence_of_section_8_2_1():
    """h⁽ᵗ⁾ = tanh(w_hh h⁽ᵗ⁻¹⁾ + w_xh x⁽ᵗ⁾ + b_h), ŷ⁽ᵗ⁾ = w_hy h⁽ᵗ⁾ + b_y, written out by hand."""
    rnn, out = nn.RNN(1, 1, rng=0), nn.Linear(1, 1, rng=1)
    w_xh, w_hh, b_h = rnn.W_xh.data[0, 0], rnn.W_hh.data[0, 0], rnn.b_h.data[0]
    w_hy, b_y = out.weight.data[0, 0], out.bias.data[0]
    xs = [0.5, -1.0, 2.0, 0.25]
    h, expected = 0.0, []
    for x in xs:
        h = np.tanh(w_hh * h + w_xh * x + b_h)
        expected.append(w_hy * h + b_y)
    y_hat = out(rnn(np.array(xs).reshape(1, 4, 1))[0])
    np.testing.assert_allclose(y_hat.data.ravel(), expected, rtol=1e-14)


def test_the_1_Dh_1_network_is_eq_8_1():
    """a⁽ᵗ⁾ = W_hh h⁽ᵗ⁻¹⁾ + W_xh x⁽ᵗ⁾ + b_h, a column W_xh (D_h × 1), a scalar x⁽ᵗ⁾ (eq. 8.1);
    o⁽ᵗ⁾ = W_hy h⁽ᵗ⁾ + b_y with a row W_hy (§8.2.2)."""
    rnn, out = nn.RNN(1, 3, rng=2), nn.Linear(3, 1, rng=3)
    assert rnn.W_xh.shape == (3, 1) and rnn.W_hh.shape == (3, 3) and out.weight.shape == (1, 3)
    xs = [1.0, 0.3, -0.7]
    h, expected = np.zeros(3), []
    for x in xs:
        h = np.tanh(rnn.W_hh.data @ h + rnn.W_xh.data[:, 0] * x + rnn.b_h.data)
        expected.append(out.weight.data[0] @ h + out.bias.data[0])
    y_hat = out(rnn(np.array(xs).reshape(1, 3, 1))[0])
    np.testing.assert_allclose(y_hat.data.ravel(), expected, rtol=1e-14)


# ------------------------------------------------------------------------ against torch.nn

def _make(kind, D_x, D_h, layers, seed, nonlinearity="tanh"):
    if kind == "RNN":
        return nn.RNN(D_x, D_h, nonlinearity=nonlinearity, num_layers=layers, rng=seed)
    return getattr(nn, kind)(D_x, D_h, num_layers=layers, rng=seed)


TRIALS = [(kind, seed) for kind in ("RNN", "LSTM", "GRU") for seed in range(4)]


@pytest.mark.parametrize("kind,seed", TRIALS)
def test_outputs_and_gradients_equal_torch_float64(kind, seed):
    rng = np.random.default_rng(seed)
    N, T = int(rng.integers(1, 5)), int(rng.choice([1, 2, 7, 50]))
    D_x, D_h, layers = int(rng.integers(1, 5)), int(rng.integers(1, 6)), 1 + seed % 2
    nonlinearity = "relu" if kind == "RNN" and seed == 3 else "tanh"
    ours = _make(kind, D_x, D_h, layers, seed, nonlinearity)
    twin = torch_twin(ours, kind)
    x = rng.normal(size=(N, T, D_x))
    shape = (N, D_h) if layers == 1 else (layers, N, D_h)
    h0 = rng.normal(size=shape)
    c0 = rng.normal(size=shape)
    seeds = [rng.normal(size=(N, T, D_h)), rng.normal(size=shape), rng.normal(size=shape)]

    xt = torch.tensor(x, requires_grad=True)
    h0t, c0t = torch.tensor(h0, requires_grad=True), torch.tensor(c0, requires_grad=True)
    hx_t = (h0t if layers > 1 else h0t[None], c0t if layers > 1 else c0t[None])
    xd, h0d, c0d = (dg.tensor(a, requires_grad=True) for a in (x, h0, c0))
    if kind == "LSTM":
        Ht, (hTt, cTt) = twin(xt, hx_t)
        Hd, (hTd, cTd) = ours(xd, (h0d, c0d))
        outs_t, outs_d = [Ht, hTt, cTt], [Hd, hTd, cTd]
    else:
        Ht, hTt = twin(xt, hx_t[0])
        Hd, hTd = ours(xd, h0d)
        outs_t, outs_d = [Ht, hTt], [Hd, hTd]
    if layers == 1:
        outs_t = [outs_t[0]] + [o[0] for o in outs_t[1:]]
    for ot, od in zip(outs_t, outs_d):
        np.testing.assert_allclose(od.data, ot.detach().numpy(), rtol=1e-10, atol=1e-12)
    # E = Σ seed ⊙ output over every output, so every path (states, h_T, C_T) is exercised
    sum(((o * torch.tensor(s)).sum() for o, s in zip(outs_t, seeds)), torch.tensor(0.0)) \
        .backward()
    E = outs_d[0] * seeds[0]
    E = E.sum()
    for o, s in zip(outs_d[1:], seeds[1:]):
        E = E + (o * s).sum()
    E.backward()
    np.testing.assert_allclose(xd.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h0d.grad, h0t.grad.numpy(), rtol=1e-10, atol=1e-12)
    if kind == "LSTM":
        np.testing.assert_allclose(c0d.grad, c0t.grad.numpy(), rtol=1e-10, atol=1e-12)
    reference = torch_gradients(twin, ours, kind)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, reference[name], rtol=1e-10, atol=1e-12,
                                   err_msg=f"{kind} {name}: ours vs torch")


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_a_masked_batch_gives_the_gradients_of_the_sequences_run_one_by_one(kind):
    """Three sequences of lengths 5, 2 and 4 padded to T = 5: with the mask, the per-step
    sum-of-squares error (eq. 9.3 with padded steps removed) and every gradient equal the sums
    over the sequences run alone, and the last state is each sequence's own last state."""
    rng = np.random.default_rng(7)
    lengths, D_x, D_h = [5, 2, 4], 3, 4
    layer = _make(kind, D_x, D_h, 1, 0)
    head = nn.Linear(D_h, 2, rng=1)
    x = rng.normal(size=(3, 5, D_x))
    t = rng.normal(size=(3, 5, 2))
    mask = np.arange(5)[None, :] < np.array(lengths)[:, None]
    x[~mask] = 99.0  # padding must not matter
    t[~mask] = -99.0
    H, last = layer(x, mask=mask)
    E = dg.losses.sum_of_squares(head(H), t, mask=mask)
    E.backward()
    batched = {name: p.grad.copy() for name, p in layer.named_parameters()}
    batched_last = (last[0] if kind == "LSTM" else last).data
    layer.zero_grad()
    total = 0.0
    for n, T in enumerate(lengths):
        H_n, last_n = layer(x[n:n + 1, :T])
        E_n = dg.losses.sum_of_squares(head(H_n), t[n:n + 1, :T])
        E_n.backward()
        total += E_n.item()
        last_n = last_n[0] if kind == "LSTM" else last_n
        np.testing.assert_allclose(batched_last[n], last_n.data[0], rtol=1e-13)
    assert E.item() == pytest.approx(total, rel=1e-13)
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(batched[name], p.grad, rtol=1e-11, atol=1e-14,
                                   err_msg=name)


def test_cross_entropy_per_step_with_labels_and_a_mask_is_eq_9_2_summed_over_steps():
    """E = Σ_n Σ_t m_nt (−ln ŷ⁽ᵗ⁾_{label}) (eq. 9.2–9.3) for labels (N, T)."""
    rng = np.random.default_rng(0)
    y = nn.softmax(dg.tensor(rng.normal(size=(2, 3, 4))))
    labels = rng.integers(0, 4, size=(2, 3))
    mask = np.array([[1, 1, 0], [1, 1, 1]], dtype=bool)
    E = dg.losses.cross_entropy(y, labels, mask=mask)
    expected = -sum(np.log(y.data[n, t, labels[n, t]]) for n in range(2) for t in range(3)
                    if mask[n, t])
    assert E.item() == pytest.approx(expected, rel=1e-13)


def test_many_to_one_uses_the_last_state():
    rnn, head = nn.RNN(2, 3, rng=0), nn.Linear(3, 1, rng=1)
    x = np.random.default_rng(0).normal(size=(4, 6, 2))
    H, last = rnn(x)
    np.testing.assert_array_equal(head(last).data, head(H.data[:, -1]).data)


def test_differentiating_twice_is_refused_clearly():
    rnn = nn.RNN(2, 3, rng=0)
    x = dg.tensor(np.ones((1, 3, 2)), requires_grad=True)
    E = (rnn(x)[0] ** 2).sum()
    (gx,) = dg.grad(E, x, create_graph=False, retain_graph=True)
    with pytest.raises(RuntimeError, match="rnn_sequence.*cannot be differentiated twice"):
        dg.grad(E, x, create_graph=True)


def test_float32_end_to_end():
    lstm = nn.LSTM(2, 3, rng=0, dtype="float32")
    H, (h, c) = lstm(np.ones((2, 4, 2), dtype=np.float32))
    (H.sum() + c.sum()).backward()
    assert H.dtype == np.float32 and lstm.W_hh.grad.dtype == np.float32


def test_forget_gate_bias_starts_at_one():
    lstm = nn.LSTM(2, 3, num_layers=2, rng=0)
    np.testing.assert_array_equal(lstm.b_h.data[3:6], 1.0)
    np.testing.assert_array_equal(lstm.b_h_l1.data[3:6], 1.0)


# ---------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_wrong_rank_is_a_clear_error(kind):
    with pytest.raises(ValueError, match=r"\(N, T, D_x\).*rank 2"):
        _make(kind, 2, 3, 1, 0)(np.ones((5, 2)))


def test_feature_size_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match=r"RNN\(2, 3\): expected 2 input features"):
        nn.RNN(2, 3, rng=0)(np.ones((1, 4, 5)))


def test_h0_of_the_wrong_shape_is_a_clear_error():
    with pytest.raises(ValueError, match=r"h0 must have shape \(1, 3\).*got \(3,\)"):
        nn.RNN(2, 3, rng=0)(np.ones((1, 4, 2)), h0=np.zeros(3))
    with pytest.raises(TypeError, match="pair"):
        nn.LSTM(2, 3, rng=0)(np.ones((1, 4, 2)), h0=np.zeros((1, 3)))


def test_a_mask_that_does_not_match_the_batch_is_a_clear_error():
    with pytest.raises(ValueError, match=r"mask must have shape \(N, T\) = \(2, 4\)"):
        nn.GRU(2, 3, rng=0)(np.ones((2, 4, 2)), mask=np.ones((4, 2), dtype=bool))
    with pytest.raises(ValueError, match="booleans or 0/1"):
        nn.GRU(2, 3, rng=0)(np.ones((2, 4, 2)), mask=np.full((2, 4), 0.5))


def test_an_empty_sequence_is_a_clear_error():
    with pytest.raises(ValueError, match="empty sequence"):
        nn.LSTM(2, 3, rng=0)(np.ones((2, 0, 2)))


def test_bad_constructor_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(2, 3, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size"):
        nn.GRU(2, 0)


def test_repr_names_the_sizes():
    assert repr(nn.RNN(2, 3, rng=0)) == "RNN(2, 3, nonlinearity='tanh')"
    assert repr(nn.LSTM(2, 3, num_layers=2, rng=0)) == "LSTM(2, 3, num_layers=2)"


# ----------------------------------------------------------------- the worked solution (§9.3)

NOTES_SPEC = {"W_xh": [[0.5, 0.1], [0.2, 0.4]], "W_hh": [[0.3, 0.6], [0.7, 0.1]],
              "b_h": [0.1, 0.1], "W_hy": [[0.8, 0.4]], "b_y": [0.0],
              "xs": [[1, 0], [0, 1]], "ys": [[0.5], [0.9]], "lr": 0.1}


def test_explain_bptt_reproduces_section_9_3_in_its_layout():
    """Every printed number of §9.3.3–9.3.5 (E as the unrounded 0.025396, see above)."""
    rnn, out, xs, ys = notes_rnn()
    sol = dg.explain.bptt(rnn, out, xs, ys, lr=0.1)
    expected = {
        "a^(1)[1]": 0.6, "a^(1)[2]": 0.3, "h^(1)[1]": 0.537050, "h^(1)[2]": 0.291313,
        "h^(2)[1]": 0.489880, "h^(2)[2]": 0.718756, "yhat^(1)[1]": 0.546165,
        "yhat^(2)[1]": 0.679406, "E": 0.025396, "delta_o^(1)[1]": 0.046165,
        "delta_o^(2)[1]": -0.220594,
        "delta_h^(1)[1]": -0.023598, "delta_h^(1)[2]": -0.060650,
        "delta_h^(2)[1]": -0.134124, "delta_h^(2)[2]": -0.042653,
        "dE/dW_hy[1,1]": -0.083272, "dE/dW_hy[1,2]": -0.145105, "dE/db_y[1]": -0.174429,
        "dE/dW_xh[1,1]": -0.023598, "dE/dW_xh[1,2]": -0.134124,
        "dE/dW_xh[2,1]": -0.060650, "dE/dW_xh[2,2]": -0.042653,
        "dE/dW_hh[1,1]": -0.072031, "dE/dW_hh[1,2]": -0.039072,
        "dE/dW_hh[2,1]": -0.022907, "dE/dW_hh[2,2]": -0.012425,
        "dE/db_h[1]": -0.157722, "dE/db_h[2]": -0.103303,
        "W_hh[1,1] new": 0.307203, "W_hh[1,2] new": 0.603907, "W_hh[2,1] new": 0.702291,
        "W_hh[2,2] new": 0.101243, "W_hy[1,1] new": 0.808327, "W_hy[1,2] new": 0.414510,
    }
    values = sol.to_dict()
    for key, value in expected.items():
        assert values[key] == pytest.approx(value, abs=5e-7), key
    # the two paths of eq. 9.14 at t = 1: W_hyᵀ δ_o⁽¹⁾ = [0.8, 0.4]·0.046165 and
    # W_hhᵀ δ_h⁽²⁾ = [0.3·(−0.134124) + 0.7·(−0.042653), 0.6·(−0.134124) + 0.1·(−0.042653)]
    assert values["W_hy^T delta_o^(1)[1]"] == pytest.approx(0.8 * 0.046165, abs=1e-6)
    assert values["W_hh^T delta_h^(2)[2]"] == pytest.approx(
        0.6 * -0.134124 + 0.1 * -0.042653, abs=1e-6)
    assert values["W_hh^T delta_h^(3)[1]"] == 0.0
    text = sol.to_text(precision=4)
    assert "delta_h^(1)[2]        =  -0.0606" in text
    assert "\\hat{y}" in sol.to_latex() and "| `E` |" in sol.to_markdown()


def test_explain_cli_takes_an_rnn_spec(tmp_path, capsys):
    import json

    from deltagrad.cli import main

    path = tmp_path / "rnn-spec.json"
    path.write_text(json.dumps(NOTES_SPEC))
    assert main(["explain", str(path), "--format", "json"]) == 0
    values = json.loads(capsys.readouterr().out)["values"]
    assert values["W_hh[1,1] new"] == pytest.approx(0.307203, abs=5e-7)
    bad = dict(NOTES_SPEC, W_hh=[[0.3, 0.6]])
    with pytest.raises(ValueError, match=r"W_hh has shape \(1, 2\); expected \(2, 2\)"):
        dg.explain.build_recurrent(dg.explain.load_spec(bad))
    with pytest.raises(ValueError, match="missing field"):
        dg.explain.load_spec({"W_hh": [[1.0]]})


def test_explain_bptt_refuses_what_it_cannot_show():
    rnn, out, xs, ys = notes_rnn()
    with pytest.raises(ValueError, match="one-layer, one-directional nn.RNN"):
        dg.explain.bptt(nn.LSTM(2, 2), out, xs, ys)
    with pytest.raises(ValueError, match=r"ys must have shape \(2, 1\)"):
        dg.explain.bptt(rnn, out, xs, [0.5, 0.9])
    with pytest.raises(ValueError, match=r"xs must be one sequence \(T, 2\)"):
        dg.explain.bptt(rnn, out, [1.0, 0.0], ys)


def test_a_loss_mask_that_does_not_fit_the_outputs_is_a_clear_error():
    y = dg.tensor(np.zeros((2, 3, 1)))
    with pytest.raises(ValueError, match=r"mask must have shape \(N, T\).*got mask \(3, 2\)"):
        dg.losses.sum_of_squares(y, np.zeros((2, 3, 1)), mask=np.ones((3, 2), dtype=bool))
    with pytest.raises(ValueError, match="booleans or 0/1"):
        dg.losses.sum_of_squares(y, np.zeros((2, 3, 1)), mask=np.full((2, 3), 2.0))
    with pytest.raises(ValueError, match="sequence outputs"):
        dg.losses.cross_entropy(dg.tensor(np.full((2, 3), 1 / 3)), [0, 1], mask=np.ones(2))
