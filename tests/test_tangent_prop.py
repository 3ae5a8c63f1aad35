"""Tangent propagation (§4.5.2, road 2): Ω, the exact J·τ, and what training with it does."""

import numpy as np
import pytest

import deltagrad as dg
from deltagrad import nn
from deltagrad.data import augment
from deltagrad.regularizers import TangentProp, tangent_vectors


def _padded_digits(n):
    (X, y), _ = dg.data.load_digits_split(shape="images", scale="unit")
    return np.pad(X[:n], ((0, 0), (0, 0), (2, 2), (2, 2))), y[:n]


def _mlp(seed=0):
    return nn.Sequential(nn.Flatten(), nn.MLP("144-16-10", hidden="tanh", output="softmax",
                                              rng=seed))


def test_omega_of_a_network_that_ignores_its_input_is_zero():
    X, _ = _padded_digits(5)
    net = _mlp()
    net[1].linear1.weight.data[...] = 0.0   # every hidden unit sees a constant
    net[1].linear1.bias.data[...] = 0.3
    assert TangentProp(weight=1.0).penalty(net, X) == 0.0


def test_j_tau_agrees_with_a_centred_difference():
    """(y(x + hτ) − y(x − hτ)) / 2h = J·τ + O(h²): the double-backward product is exact."""
    X, _ = _padded_digits(4)
    net = _mlp()
    reg = TangentProp(("shift_x", "shift_y", "rotate", "scale"))
    exact = reg.directional_derivatives(net, X)
    h = 1e-5
    for tau, jt in zip(tangent_vectors(X, reg.transforms), exact):
        numeric = (net(X + h * tau).data - net(X - h * tau).data) / (2 * h)
        np.testing.assert_allclose(jt.data, numeric, rtol=1e-6, atol=1e-9)


def test_omega_is_half_lambda_times_the_squared_directional_derivatives():
    X, _ = _padded_digits(3)
    net = _mlp()
    reg = TangentProp(("shift_x", "rotate"), weight=0.3)
    jts = reg.directional_derivatives(net, X)
    expected = 0.5 * 0.3 * sum(float((jt.data ** 2).sum()) for jt in jts)
    assert reg.penalty(net, X) == pytest.approx(expected, rel=1e-12)


def test_the_gradient_of_omega_matches_central_differences():
    X, _ = _padded_digits(2)
    net = nn.Sequential(nn.Flatten(), nn.MLP("144-3-2", hidden="tanh", output="sigmoid", rng=1))
    reg = TangentProp(("shift_x",), weight=1.0)
    params = net.parameters()
    assert dg.gradcheck(lambda *ps: reg(net, X), *params)


def test_the_tangent_vectors_are_the_derivatives_of_the_transformations():
    """A smooth blob moved by ±0.01 pixel or turned by ±0.01 rad: the centred difference of
    scipy.ndimage's transform approaches τ (up to interpolation error)."""
    r, c = np.mgrid[0:31, 0:31]
    blob = np.exp(-((r - 15.0) ** 2 / 24 + (c - 15.5) ** 2 / 16))[None, None]
    shift_x, shift_y, rotate = tangent_vectors(blob)
    d = 0.01
    np.testing.assert_allclose((augment.shift(blob, 0, d) - augment.shift(blob, 0, -d)) / (2 * d),
                               shift_x, atol=0.05)
    np.testing.assert_allclose((augment.shift(blob, d, 0) - augment.shift(blob, -d, 0)) / (2 * d),
                               shift_y, atol=0.05)
    degrees = np.degrees(d)
    turned = (augment.rotate(blob, degrees, order=3) - augment.rotate(blob, -degrees, order=3))
    np.testing.assert_allclose(turned / (2 * d), rotate, atol=0.05)
    assert np.abs(rotate).max() > 0.1  # not trivially small


def _output_change_under_a_one_pixel_shift(net, X):
    with dg.no_grad():
        moved = augment.shift(X, 0, 1)
        return float(np.abs(net(moved).data - net(X).data).sum(axis=1).mean())


def test_training_with_tangent_prop_makes_the_outputs_less_sensitive_to_a_shift():
    X, y = _padded_digits(200)
    T = np.eye(10)[y]
    changes = {}
    for name, reg in (("plain", None), ("tangent", TangentProp(weight=20.0))):
        net = _mlp(seed=3)
        dg.fit(net, X, T, loss="cross_entropy", optimizer="adam", lr=0.01, epochs=15,
               batch_size=50, regularizer=reg, progress=False, seed=0)
        changes[name] = _output_change_under_a_one_pixel_shift(net, X)
    assert changes["tangent"] < 0.7 * changes["plain"], changes


def test_weight_penalties_still_work_with_the_batch_inputs_passed():
    X, y = _padded_digits(20)
    net = _mlp()
    wd = dg.regularizers.WeightDecay(0.1)
    assert wd.penalty(net, X) == wd.penalty(net)
    assert wd.batch_term(net, X, 0.5).item() == pytest.approx(0.5 * wd(net).item())


def test_tangent_prop_refuses_what_it_cannot_do():
    X, _ = _padded_digits(2)
    with pytest.raises(ValueError, match="unknown transform 'shear'"):
        TangentProp(("shear",))
    with pytest.raises(ValueError, match="weight must be a finite number ≥ 0"):
        TangentProp(weight=-1)
    with pytest.raises(ValueError, match="depends on the inputs"):
        TangentProp()(_mlp())
    with pytest.raises(ValueError, match=r"image batches \(N, C, H, W\), got shape \(2, 144\)"):
        TangentProp()(_mlp(), X.reshape(2, -1))
    cnn = nn.Sequential(nn.Conv2d(1, 2, 3, rng=0), nn.Flatten(), nn.Linear(200, 10, rng=0))
    with pytest.raises(RuntimeError, match="'conv2d' cannot be differentiated twice"):
        TangentProp()(cnn, X)
