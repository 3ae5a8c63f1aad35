"""Second derivatives where a VJP masks a branch with ``where`` (issue 22, item 11).

``where`` sends a zero gradient into the branch it did not choose; if that branch computed
0 · ∞ (x^p ln x at x = 0), the zero meets the infinity in the derivative of the VJP and NaN
leaks out. Each VJP that masks a branch computes it from safe inputs instead (HIPS
autograd's ``replace_zero``); these tests take derivatives of the VJPs at exactly the
masked points and compare them with exact derivations and PyTorch (float64)."""

import numpy as np
import pytest
import torch

import deltagrad as dg
from deltagrad import ops


def _second_derivatives(f, arrays, weights):
    """(∇f, ∇(Σ_i weights_i · ∂f/∂x_i)) at ``arrays``: the gradient and a Hessian-vector
    product, both with deltagrad's own VJPs (``create_graph=True``)."""
    xs = [dg.tensor(a, requires_grad=True) for a in arrays]
    grads = dg.grad(f(*xs).sum(), xs, create_graph=True)
    mixed = sum((g * w).sum() for g, w in zip(grads, weights))
    return [g.data for g in grads], [h.data for h in dg.grad(mixed, xs, allow_unused=True)]


def test_the_issues_example_zero_to_the_y_times_u_has_second_derivatives_zero():
    """f(y, u) = 0^y · u is 0 for every y > 0, so every derivative is 0; the exponent's VJP
    gave ∂²f/∂u∂y = NaN (its masked ln 0)."""
    y, u = dg.tensor([0.5, 1.0, 2.0], requires_grad=True), dg.tensor([1.0, 2.0, 3.0],
                                                                      requires_grad=True)
    g = dg.grad((0.0 ** y * u).sum(), y, create_graph=True)[0]
    second = dg.grad(g.sum(), [y, u])
    np.testing.assert_array_equal(second[0].data, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(second[1].data, [0.0, 0.0, 0.0])


def test_hips_autograd_power_arg1_zero_to_second_order():
    """HIPS autograd's ``test_power_arg1_zero``: y ↦ 0^y on (0, 1), checked to order 2 —
    the gradient (0) and its own gradient (0), against central differences."""
    y = dg.tensor(np.random.default_rng(0).uniform(0.1, 1.0, size=(3, 3)), requires_grad=True)
    def gradient(t):
        with dg.enable_grad():  # gradcheck's differences run without recording
            return dg.grad((0.0 ** t).sum(), t, create_graph=True)[0] + t * t

    assert dg.gradcheck(lambda t: 0.0 ** t, y)
    assert dg.gradcheck(gradient, y)


def test_x_to_the_p_at_x_zero_has_its_exact_second_derivatives():
    """f = x^p at x = 0 with p = 2, 3, 2.5 (smooth there): ∂²f/∂x² = p(p−1)x^(p−2) is 2, 0,
    0; ∂²f/∂x∂p = x^(p−1)(1 + p ln x) → 0 and ∂²f/∂p² = x^p ln²x → 0 for p > 1. With the
    weights (1.5, 2.5): H·w = (1.5 · [2, 0, 0], 0). PyTorch gives NaN here."""
    p = np.array([2.0, 3.0, 2.5])
    (gx, gp), (hx, hp) = _second_derivatives(lambda x, q: x ** q, [np.zeros(3), p],
                                             [1.5, 2.5])
    np.testing.assert_array_equal(gx, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(gp, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(hx, [3.0, 0.0, 0.0])
    np.testing.assert_array_equal(hp, [0.0, 0.0, 0.0])


def test_x_to_the_zero_keeps_its_mixed_second_derivative_away_from_zero():
    """At p = 0, x = 2: ∂²(x^p)/∂p∂x = x^(p−1)(1 + p ln x) = 1/2, and ∂²f/∂p² = ln²2
    (the mask on p = 0 belongs only at x = 0; PyTorch drops the 1/2)."""
    (_, gp), (hx, hp) = _second_derivatives(lambda x, q: x ** q, [np.array([2.0]),
                                                                 np.array([0.0])], [1.5, 2.5])
    np.testing.assert_allclose(gp, [np.log(2.0)], rtol=1e-15)
    np.testing.assert_allclose(hx, [2.5 * 0.5], rtol=1e-15)
    np.testing.assert_allclose(hp, [1.5 * 0.5 + 2.5 * np.log(2.0) ** 2], rtol=1e-15)


def _torch_second_derivatives(f, arrays, weights):
    xs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    grads = torch.autograd.grad(f(*xs).sum(), xs, create_graph=True)
    mixed = sum((g * w).sum() for g, w in zip(grads, weights))
    return ([g.detach().numpy() for g in grads],
            [h.numpy() for h in torch.autograd.grad(mixed, xs)])


_ZEROS = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 2.0], [1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
_MASK = np.array([[True, False, True], [False, False, True]])
# each primitive whose VJP masks a branch, at the points it masks
MASKED = {
    "prod at zeros": (lambda x: ops.prod(x, axis=1), lambda x: x.prod(dim=1), [_ZEROS]),
    "std of a constant slice": (lambda x: ops.std(x, axis=1, ddof=1), lambda x: x.std(dim=1),
                                [np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]])]),
    "softplus beyond its threshold": (
        lambda x: ops.softplus(x) * x, lambda x: torch.nn.functional.softplus(x) * x,
        [np.array([-3.0, 0.0, 25.0, 1000.0])]),
    "leaky_relu": (lambda x: ops.leaky_relu(x, negative_slope=0.1) * x,
                   lambda x: torch.nn.functional.leaky_relu(x, 0.1) * x,
                   [np.array([-1.0, 2.0])]),
    "clip at and beyond its bounds": (
        lambda x: ops.clip(x, min=-1.0, max=1.0) * x, lambda x: torch.clamp(x, -1.0, 1.0) * x,
        [np.array([-2.0, -1.0, 0.5, 1.0, 3.0])]),
    "logsumexp over −∞": (lambda x: dg.logsumexp(x, axis=1) ** 2,
                          lambda x: torch.logsumexp(x, 1) ** 2,
                          [np.array([[-np.inf, 0.0, 1.0], [2.0, -np.inf, 0.5]])]),
    "where": (lambda x, y: dg.where(x.data > 0, x * y, y * y),
              lambda x, y: torch.where(x > 0, x * y, y * y),
              [np.array([-1.0, 2.0]), np.array([3.0, 4.0])]),
    "masked attention": (
        lambda q, k: ops.scaled_dot_product_attention(q, k, k, mask=_MASK),
        lambda q, k: torch.nn.functional.scaled_dot_product_attention(
            q, k, k, attn_mask=torch.tensor(_MASK)),
        [np.random.default_rng(1).normal(size=(2, 2)),
         np.random.default_rng(2).normal(size=(3, 2))]),
}


@pytest.mark.parametrize("name", sorted(MASKED))
def test_masked_branches_leak_nothing_into_second_derivatives(name):
    ours, theirs, arrays = MASKED[name]
    weights = [1.5 + i for i in range(len(arrays))]
    (grads, hvps), (grads_t, hvps_t) = (_second_derivatives(ours, arrays, weights),
                                        _torch_second_derivatives(theirs, arrays, weights))
    for got, expected in zip(grads + hvps, grads_t + hvps_t):
        assert np.all(np.isfinite(got)), f"{name}: {got}"
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14,
                                   err_msg=f"{name}: ours vs torch")
