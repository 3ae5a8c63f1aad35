"""The notes' worked examples and practice questions, reproduced with the public API."""

import numpy as np
import pytest

import deltagrad as dg
from deltagrad import nn


def _set_weights(net, layers):
    """layers: [(W, b), ...] with W[j][i] = w_ji^(l) and b[j] = w_j0^(l)."""
    for linear, (W, b) in zip(net.linears, layers):
        linear.weight.data = np.array(W, dtype=float)
        linear.bias.data = np.array(b, dtype=float)


def _forward_keeping_deltas(net, x):
    """Run the layers one by one, retaining ∂E/∂a (the δ's of eq. 3.7) on each a^(l)."""
    pre, z = [], dg.tensor(x)
    for name, module in net.named_children():
        z = module(z)
        if name.startswith("linear"):
            z.retain_grad()
            pre.append(z)
    return pre, z


def test_section_2_1_3_binary_classification_forward_pass():
    """a = 0.8·0.5 − 0.5·1.0 + 0.2 = 0.1; z = tanh(0.1); a⁽²⁾ = z − 0.3; y = σ(a⁽²⁾);
    E = −ln y. The notes print E ≈ 0.7985 because they round y to 0.450 before taking the log
    (−ln 0.450 = 0.79851); the exact value is 0.798321."""
    net = nn.MLP("2-1-1", hidden="tanh", output="sigmoid")
    _set_weights(net, [([[0.8, -0.5]], [0.2]), ([[1.0]], [-0.3])])
    (a1, a2), y = _forward_keeping_deltas(net, [0.5, 1.0])
    E = dg.losses.binary_cross_entropy(y, [1.0])
    assert a1.item() == pytest.approx(0.1, abs=1e-12)
    assert np.tanh(a1.item()) == pytest.approx(0.0996680, abs=5e-8)
    assert y.item() == pytest.approx(0.450084, abs=5e-7)
    assert E.item() == pytest.approx(0.798321, abs=5e-7)
    assert -np.log(0.450) == pytest.approx(0.7985, abs=5e-5)  # the notes' rounded route


def test_practice_question_1_regression_network():
    """2-2-1, tanh hidden, identity output, E = ½(y − t)²; x = (1, 0.5), t = 1."""
    net = nn.MLP("2-2-1", hidden="tanh", output="identity")
    _set_weights(net, [([[0.5, 0.2], [-0.3, 0.8]], [0.1, 0.0]), ([[1.0, -0.5]], [0.2])])
    (a1, a2), y = _forward_keeping_deltas(net, [1.0, 0.5])
    E = dg.losses.sum_of_squares(y, [1.0])
    E.backward()
    assert y.item() == pytest.approx(0.754534, abs=5e-7)
    assert E.item() == pytest.approx(0.030127, abs=5e-7)
    assert a2.grad[0] == pytest.approx(-0.245466, abs=5e-7)
    np.testing.assert_allclose(a1.grad, [-0.155807, 0.121514], atol=5e-7)
    assert net.linears[1].weight.grad[0, 0] == pytest.approx(-0.148352, abs=5e-7)
    assert net.linears[0].weight.grad[0, 0] == pytest.approx(-0.155807, abs=5e-7)


def test_practice_question_2_binary_classification_network():
    """2-2-1, sigmoid hidden and output, cross-entropy; x = (1, 2), t = 1.
    ∂E/∂w_ji⁽¹⁾ = δ_j⁽¹⁾ x_i (rule 3), and the bias gradients are the δ's themselves."""
    net = nn.MLP("2-2-1", hidden="sigmoid", output="sigmoid")
    _set_weights(net, [([[0.1, -0.2], [0.4, 0.3]], [0.0, -0.1]), ([[0.5, -0.4]], [0.2])])
    (a1, a2), y = _forward_keeping_deltas(net, [1.0, 2.0])
    E = dg.losses.binary_cross_entropy(y, [1.0])
    E.backward()
    assert y.item() == pytest.approx(0.532056, abs=5e-7)
    assert E.item() == pytest.approx(0.631007, abs=5e-7)
    assert a2.grad[0] == pytest.approx(y.item() - 1.0, abs=1e-15)  # hint: δ = y − t
    np.testing.assert_allclose(a1.grad, [-0.057196, 0.038465], atol=5e-7)
    np.testing.assert_allclose(net.linears[0].weight.grad,
                               [[-0.057196, -0.114393], [0.038465, 0.076930]], atol=5e-7)
    np.testing.assert_allclose(net.linears[0].bias.grad, a1.grad, rtol=1e-15)


def test_practice_question_3_error_splitting_and_summing():
    """δ₂⁽¹⁾ = (1 − z₂²)(w₁₂⁽²⁾δ₁⁽²⁾ + w₂₂⁽²⁾δ₂⁽²⁾) = 0.51·(0.8·0.5 + 0.1·(−0.2)) = 0.1938;
    ∂E/∂w₂₁⁽¹⁾ = δ₂⁽¹⁾ x₁ = 0.1938 · 1.5 = 0.2907. The notes give z₂ = 0.7 and use it."""
    # only column j = 2 of W^(2) is given; the other columns do not enter δ_2^(1)
    W2 = np.array([[0.0, 0.8, 0.0], [0.0, 0.1, 0.0]])
    z1 = np.array([0.0, 0.7, 0.0])
    delta1 = dg.explain.hidden_delta([0.5, -0.2], W2, z1, activation="tanh")
    assert delta1[1] == pytest.approx(0.1938, abs=1e-12)
    assert delta1[1] * 1.5 == pytest.approx(0.2907, abs=1e-12)


def test_section_3_1_deltas_of_the_1_1_1_1_network(rng):
    """δ₃ = y − t (3.2), δ₂ = (1 − z₂²) w₁₁⁽³⁾ δ₃ (3.3), δ₁ = (1 − z₁²) w₁₁⁽²⁾ δ₂ (3.4),
    and ∂E/∂w₁₁⁽ˡ⁾ = δ_l z_{l−1} for random weights."""
    for trial in range(5):
        net = nn.MLP("1-1-1-1", hidden="tanh", output="identity", rng=trial)
        for p in net.parameters():
            p.data = rng.normal(size=p.shape)
        x, t = rng.normal(), rng.normal()
        (a1, a2, a3), y = _forward_keeping_deltas(net, [x])
        dg.losses.sum_of_squares(y, [t]).backward()
        w = [lin.weight.data[0, 0] for lin in net.linears]
        z1, z2 = np.tanh(a1.data[0]), np.tanh(a2.data[0])
        d3 = y.data[0] - t
        d2 = (1 - z2 ** 2) * w[2] * d3
        d1 = (1 - z1 ** 2) * w[1] * d2
        np.testing.assert_allclose([a3.grad[0], a2.grad[0], a1.grad[0]], [d3, d2, d1],
                                   rtol=1e-12)
        np.testing.assert_allclose([net.linears[2].weight.grad[0, 0],
                                    net.linears[1].weight.grad[0, 0],
                                    net.linears[0].weight.grad[0, 0]],
                                   [d3 * z2, d2 * z1, d1 * x], rtol=1e-12)


@pytest.mark.parametrize("output,loss,make_t", [
    ("identity", "sum_of_squares", lambda rng: rng.normal(size=(5, 3))),
    ("sigmoid", "binary_cross_entropy", lambda rng: rng.integers(0, 2, (5, 3)).astype(float)),
    ("softmax", "cross_entropy", lambda rng: np.eye(3)[rng.integers(0, 3, 5)]),
])
def test_canonical_pairs_give_delta_equal_to_y_minus_t(output, loss, make_t, rng):
    """Eq. 3.9: ∂E/∂a_k = y_k − t_k for the three canonical pairs, also when saturated."""
    for scale in (1.0, 800.0):
        a = dg.tensor(rng.normal(size=(5, 3)) * scale, requires_grad=True)
        y = nn.activation(output)(a)
        t = make_t(rng)
        E = dg.losses.get(loss)(y, t)
        E.backward()
        assert np.isfinite(E.item())
        np.testing.assert_allclose(a.grad, y.data - t, rtol=1e-12, atol=1e-15)
        a.grad = None


def test_noise_precision_is_the_inverse_mean_squared_residual():
    """Eq. 2.6: residuals (1, −1, 2, 0) over N·K = 4 entries: 1/β = 6/4, β = 2/3."""
    y = np.array([[1.0, 0.0], [2.0, 3.0]])
    t = np.array([[0.0, 1.0], [0.0, 3.0]])
    assert dg.losses.noise_precision(y, t) == pytest.approx(2 / 3)
