"""Promises of the docs that no test held (issue 22, item 13): each test here was checked by
planting a bug in the place it guards and seeing it fail.

(a) validation data is never augmented; (b) ``generate`` samples in evaluation mode; (c) a
many-to-one network over stacked recurrent layers reads the top layer's last state; (d) the
scale tangent vector of TangentProp is the derivative of a real enlargement; (e) the labels
cross-entropy's underflow fallback with tied top logits; (f) the playground's CSV size bound
with long rows; and a masked batch whose loss gradient crosses padded steps.
"""

import numpy as np
import pytest
import torch
from scipy import ndimage

import deltagrad as dg
from deltagrad import nn
from deltagrad.regularizers import tangent_vectors


def test_a_validation_data_is_never_augmented():
    """Training inputs are positive, validation inputs negative: every batch the augmentation
    sees is a training batch, and the validation error is the model's on the raw X_val."""
    rng = np.random.default_rng(0)
    X, T = rng.uniform(1, 2, size=(8, 2)), rng.normal(size=(8, 1))
    X_val, T_val = -rng.uniform(1, 2, size=(5, 2)), rng.normal(size=(5, 1))
    seen = []

    def augment(batch, rng):
        seen.append(batch.copy())
        return batch + rng.normal(scale=0.1, size=batch.shape)

    net = nn.MLP("2-3-1", rng=0)
    history = dg.fit(net, X, T, epochs=3, batch_size=4, lr=0.05, validation_data=(X_val, T_val),
                     augment=augment, progress=False)
    assert len(seen) == 3 * 2 and all((batch > 0).all() for batch in seen)
    with dg.no_grad():
        raw = 0.5 * float(((net(X_val).data - T_val) ** 2).sum()) / len(X_val)  # eq. 2.5 / N
    assert history.val_error[-1] == pytest.approx(raw, rel=1e-12)


def test_b_generate_samples_in_evaluation_mode():
    """With dropout 0.5 in training mode every forward pass differs; generate must switch it
    off (and switch training back on): its tokens equal those of the same weights with
    dropout 0, greedy and sampled alike."""
    kwargs = dict(vocab_size=7, embed_dim=8, num_heads=2, num_layers=2, max_len=12, rng=0)
    noisy, clean = nn.TransformerLM(dropout=0.5, **kwargs), nn.TransformerLM(dropout=0.0,
                                                                              **kwargs)
    clean.load_state_dict(noisy.state_dict())
    noisy.train()
    for temperature in (0.0, 1.0):
        ours = noisy.generate([1, 2, 3], 9, temperature=temperature, seed=3)
        np.testing.assert_array_equal(ours, clean.generate([1, 2, 3], 9,
                                                           temperature=temperature, seed=3))
    assert noisy.training
    with dg.no_grad():  # dropout really is on in training mode: the test can fail
        first, second = (noisy(np.array([[1, 2, 3]])).data for _ in range(2))
    assert not np.allclose(first, second)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_c_many_to_one_over_stacked_layers_reads_the_top_layers_last_state(kind):
    """Three stacked layers: the prediction is the head of the top layer's h⁽ᵀ⁾, which the
    layer also returns as the last of its all-states output H (N, T, D_h) — compared with
    torch's stacked layer and its output[:, −1]."""
    layer = getattr(nn, kind)(2, 4, num_layers=3, rng=0)
    head = nn.Linear(4, 1, rng=1)
    net = nn.RecurrentNetwork(layer, head, many_to_one=True)
    x = np.random.default_rng(2).normal(size=(3, 6, 2))
    twin = getattr(torch.nn, kind)(2, 4, num_layers=3, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        for l in range(3):
            p = layer.layer_parameters(l)
            b_hh = np.zeros_like(p["b_h"].data)
            if kind == "GRU":
                b_hh[8:] = p["b_hn"].data
            for name, value in (("weight_ih", p["W_xh"].data), ("weight_hh", p["W_hh"].data),
                                ("bias_ih", p["b_h"].data), ("bias_hh", b_hh)):
                getattr(twin, f"{name}_l{l}").copy_(torch.tensor(value))
        top_last = twin(torch.tensor(x))[0][:, -1].numpy()
    expected = top_last @ head.weight.data.T + head.bias.data
    np.testing.assert_allclose(net(x).data, expected, rtol=1e-12, atol=1e-14)


def test_d_the_scale_tangent_vector_is_the_derivative_of_an_enlargement():
    """τ_scale = ∂s(x, ξ)/∂ξ at ξ = 0 for s = the image enlarged by 1 + ξ about its centre:
    the central difference of two real enlargements (cubic splines) of a smooth, lopsided
    blob, away from the border (where the spline reads the zeros outside the image), to 5%
    of its largest value (the error of the image derivatives' central differences)."""
    r, c = np.mgrid[0:31, 0:31]
    blob = np.exp(-((r - 12.0) ** 2 / 24 + (c - 17.5) ** 2 / 16))[None, None]
    (tau,) = tangent_vectors(blob, ("scale",))
    centre = np.array([15.0, 15.0])

    def enlarged(factor):
        return ndimage.affine_transform(blob[0, 0], np.full(2, 1 / factor),
                                        offset=centre - centre / factor, order=3)

    d = 1e-3
    finite = (enlarged(1 + d) - enlarged(1 - d)) / (2 * d)
    inside = (slice(2, -2), slice(2, -2))
    scale = np.abs(finite[inside]).max()  # the τ's central differences err by a few %
    np.testing.assert_allclose(tau[0, 0][inside], finite[inside], atol=0.05 * scale)
    assert scale > 1.0  # not trivially small: the test can fail


def test_e_labels_cross_entropy_underflow_fallback_with_tied_top_logits():
    """a = [0, 0, −1000]: the true class's y = e^−1000 / 2 underflows to 0, so E takes the
    log-sum-exp fallback; with two tied top logits max y = ½, and E = ln 2 + 1000 exactly (a
    fallback that forgot ln max y would give 1000). Second row: an ordinary one."""
    a = np.array([[0.0, 0.0, -1000.0], [1.0, 2.0, 0.5]])
    labels = np.array([2, 0])
    logits = dg.tensor(a, requires_grad=True)
    E = dg.losses.cross_entropy(dg.nn.softmax(logits), labels)
    ta = torch.tensor(a, requires_grad=True)
    expected = torch.nn.functional.cross_entropy(ta, torch.tensor(labels), reduction="sum")
    assert E.item() == pytest.approx(expected.item(), rel=1e-15)
    assert E.item() == pytest.approx(np.log(2) + 1000 + expected.item() - np.log(2) - 1000,
                                     rel=1e-15)
    E.backward()
    expected.backward()
    np.testing.assert_allclose(logits.grad, ta.grad.numpy(), rtol=1e-14, atol=1e-300)


def test_f_the_playground_csv_bound_holds_for_long_rows():
    """A CSV of a few long rows (numbers written with many digits): exactly MAX_CSV_CHARS
    characters is read, one more is refused before it is parsed."""
    from deltagrad.playground.datasets import MAX_CSV_CHARS, parse_points
    from deltagrad.playground.server import Playground

    head, tail = "x,t\n0.5", ",1\n0.25,0\n"
    padded = head + "0" * (MAX_CSV_CHARS - len(head) - len(tail)) + tail
    assert len(padded) == MAX_CSV_CHARS
    assert parse_points(padded) == {"X": [[0.5], [0.25]], "t": [1.0, 0.0]}
    too_long = head + "0" * (MAX_CSV_CHARS - len(head) - len(tail) + 1) + tail
    with pytest.raises(ValueError, match=f"at most {MAX_CSV_CHARS} characters"):
        parse_points(too_long)
    with pytest.raises(ValueError, match=f"at most {MAX_CSV_CHARS} characters"):
        Playground().csv({"text": too_long})


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_a_loss_after_padded_steps_sends_its_gradient_across_them(kind):
    """Padding inside and at the end: sequence 0 has its steps 2 and 3 padded (mask
    1,1,0,0,1,1), sequence 1 ends after 3 steps. The loss is on every real step *and* on the
    last state h (many-to-one), so gradients cross the padded steps, which change neither
    states nor gradients: E and every gradient equal those of the sequences run alone with
    their padded steps removed."""
    rng = np.random.default_rng(5)
    layer = getattr(nn, kind)(2, 3, rng=0)
    head = nn.Linear(3, 1, rng=1)
    mask = np.array([[1, 1, 0, 0, 1, 1], [1, 1, 1, 0, 0, 0]], dtype=bool)
    x = rng.normal(size=(2, 6, 2))
    t, t_last = rng.normal(size=(2, 6, 1)), rng.normal(size=(2, 1))
    x[~mask] = 50.0  # padding must not matter
    H, last = layer(x, mask=mask)
    last = last[0] if kind == "LSTM" else last
    E = dg.losses.sum_of_squares(head(H), t, mask=mask) + \
        dg.losses.sum_of_squares(head(last), t_last)
    E.backward()
    batched = {name: p.grad.copy() for name, p in layer.named_parameters()}
    layer.zero_grad()
    total = 0.0
    for n in range(2):
        real = mask[n]
        H_n, last_n = layer(x[n:n + 1, real])
        last_n = last_n[0] if kind == "LSTM" else last_n
        E_n = dg.losses.sum_of_squares(head(H_n), t[n:n + 1, real]) + \
            dg.losses.sum_of_squares(head(last_n), t_last[n:n + 1])
        E_n.backward()
        total += E_n.item()
    assert E.item() == pytest.approx(total, rel=1e-13)
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(batched[name], p.grad, rtol=1e-11, atol=1e-14,
                                   err_msg=f"{kind} {name}: masked batch vs one by one")
