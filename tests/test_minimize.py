"""Batch optimisers on scipy.optimize and scaled conjugate gradients."""

import numpy as np
import pytest

import deltagrad as dg
from deltagrad import nn
from deltagrad.nn.utils import parameters_to_vector, vector_to_parameters
from deltagrad.optim import FlatObjective, scg


def test_packing_and_unpacking_the_weights_has_no_drift(rng):
    for dtype in ("float64", "float32"):
        net = nn.MLP("3-5-2", rng=0, dtype=dtype)
        w = parameters_to_vector(net.parameters())
        for _ in range(3):
            vector_to_parameters(w, net.parameters())
            np.testing.assert_array_equal(parameters_to_vector(net.parameters()), w)
        assert all(p.dtype == np.dtype(dtype) for p in net.parameters())
    with pytest.raises(ValueError, match=r"expected a vector of length 32"):
        vector_to_parameters(np.zeros(3), nn.MLP("3-5-2").parameters())


def test_hessian_vector_product_is_exact(rng):
    """hessp(w, v) by double backward against (∇E(w + hv) − ∇E(w − hv)) / 2h."""
    net = nn.MLP("3-4-2", hidden="tanh", output="softmax", rng=0)
    X, labels = rng.normal(size=(8, 3)), rng.integers(0, 2, size=8)
    flat = FlatObjective(net, lambda m: dg.losses.cross_entropy(m(X), labels))
    w = parameters_to_vector(net.parameters())
    v = rng.normal(size=w.size)
    h = 1e-5
    numeric = (flat.fun(w + h * v)[1] - flat.fun(w - h * v)[1]) / (2 * h)
    np.testing.assert_allclose(flat.hessp(w, v), numeric, rtol=1e-6, atol=1e-8)


def test_scg_minimises_a_quadratic_monotonically():
    """E = ½ wᵀAw − bᵀw with A positive definite: SCG reaches A⁻¹b, every step downhill."""
    rng = np.random.default_rng(0)
    M = rng.normal(size=(6, 6))
    A, b = M @ M.T + np.eye(6), rng.normal(size=6)
    values = []
    result = scg(lambda w: (0.5 * w @ A @ w - b @ w, A @ w - b), np.zeros(6), maxiter=500,
                 gtol=1e-10, callback=lambda r: values.append(r.fun))
    np.testing.assert_allclose(result.x, np.linalg.solve(A, b), rtol=1e-7, atol=1e-9)
    assert result.success and np.all(np.diff(values) <= 0)


def test_scg_first_two_steps_by_hand():
    """Møller's SCG on E = ½wᵀAw − bᵀw from w₀ = 0, λ₀ = 1, written out (the finite-difference
    curvature is exact on a quadratic): g₀ = −b, d₀ = b, μ₀ = d₀·g₀, κ₀ = d₀·d₀, θ₀ = d₀ᵀAd₀,
    δ₀ = θ₀ + λ₀κ₀, α₀ = −μ₀/δ₀, w₁ = α₀d₀. The reduction ratio 2(E₁ − E₀)/(α₀μ₀) = 2 − θ₀/δ₀
    exceeds 0.75, so λ₁ = λ₀/2; then β₁ = (g₀ − g₁)·g₁/μ₀, d₁ = β₁d₀ − g₁, and the same step
    rule gives w₂ = w₁ + α₁d₁ with δ₁ = θ₁ + λ₁κ₁. A 10% error in β changes w₂."""
    rng = np.random.default_rng(1)
    M = rng.normal(size=(4, 4))
    A, b = M @ M.T + np.eye(4), rng.normal(size=4)
    iterates = []
    scg(lambda w: (0.5 * w @ A @ w - b @ w, A @ w - b), np.zeros(4), maxiter=2, gtol=0.0,
        callback=lambda r: iterates.append(r.x))
    d0, g0 = b, -b
    delta0 = d0 @ A @ d0 + 1.0 * (d0 @ d0)
    alpha0 = -(d0 @ g0) / delta0
    w1 = alpha0 * d0
    assert 2 - (d0 @ A @ d0) / delta0 > 0.75
    g1 = A @ w1 - b
    d1 = ((g0 - g1) @ g1 / (d0 @ g0)) * d0 - g1
    w2 = w1 - (d1 @ g1) / (d1 @ A @ d1 + 0.5 * (d1 @ d1)) * d1
    np.testing.assert_allclose(iterates[0], w1, rtol=1e-9)
    np.testing.assert_allclose(iterates[1], w2, rtol=1e-7)


def test_scg_on_rosenbrock():
    from scipy.optimize import rosen, rosen_der

    result = scg(lambda x: (rosen(x), rosen_der(x)), np.array([-1.2, 1.0]), maxiter=5000,
                 gtol=1e-8)
    np.testing.assert_allclose(result.x, [1.0, 1.0], atol=1e-5)


def test_minimize_leaves_the_model_at_the_solution_and_returns_scipys_result(rng):
    X = rng.normal(size=(20, 3))
    T = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
    for method in ("CG", "BFGS", "L-BFGS-B", "Newton-CG", "trust-ncg", "SCG"):
        layer = nn.Linear(3, 1, rng=0)
        result = dg.optim.minimize(layer, lambda m: dg.losses.sum_of_squares(m(X), T),
                                   method=method, tol=1e-10)
        np.testing.assert_allclose(layer.weight.data, [[1.0, -2.0, 0.5]], atol=1e-6,
                                   err_msg=method)
        np.testing.assert_allclose(result.x, parameters_to_vector(layer.parameters()))


def test_callback_can_stop_the_optimisation(rng):
    X, T = rng.normal(size=(10, 2)), rng.normal(size=(10, 1))
    for method in ("L-BFGS-B", "SCG"):
        seen = []

        def callback(model, result, seen=seen):
            seen.append(result.fun)
            if len(seen) == 3:
                raise StopIteration

        dg.optim.minimize(nn.MLP("2-4-1", rng=0), lambda m: dg.losses.sum_of_squares(m(X), T),
                          method=method, maxiter=100, callback=callback)
        assert len(seen) == 3, method
