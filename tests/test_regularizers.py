"""Chapter 4: weight decay and the consistent Gaussian prior; early stopping ≈ weight decay."""

import numpy as np
import pytest

import deltagrad as dg
from deltagrad import nn, plot
from deltagrad.analysis import rescale_inputs, rescale_outputs
from deltagrad.regularizers import ConsistentGaussianPrior, WeightDecay


def _quadratic_problem(rng, D=6):
    """E(w) = ½‖Xw − t‖² is exactly quadratic: H = XᵀX, w* = the least-squares solution."""
    X = rng.normal(size=(40, D)) * np.geomspace(0.05, 2.0, D)  # spread the eigenvalues
    t = X @ rng.normal(size=D) + 0.1 * rng.normal(size=40)
    H = X.T @ X
    lam, U = np.linalg.eigh(H)
    w_star = np.linalg.solve(H, X.T @ t)
    return X, t[:, None], lam, U, w_star


class _RecordWeights(dg.callbacks.Callback):
    def __init__(self, layer):
        self.layer, self.weights = layer, []

    def on_epoch_end(self, trainer, epoch, logs):
        self.weights.append(self.layer.weight.data[0].copy())


def test_early_stopping_trajectory_is_eq_4_15_and_weight_decay_is_lambda_over_lambda_plus_alpha(
        rng, tmp_path):
    """Batch gradient descent from w = 0 on the quadratic: in the eigenbasis u_j of H,
    w_j^(τ) = w_j* [1 − (1 − ηλ_j)^τ] (eq. 4.15) for every τ. With (α/2)wᵀw trained to
    convergence: w_j = w_j* λ_j/(λ_j + α) (§4.4.3). With α = 1/(ητ) both factors are ≈ 1 for
    λ_j ≫ α and ≈ λ_j/α for λ_j ≪ α: the figure shows the two curves side by side."""
    X, T, lam, U, w_star = _quadratic_problem(rng)
    eta, tau = 0.9 / lam.max(), 60
    alpha = 1 / (eta * tau)  # the weight decay that early stopping at τ resembles
    layer = nn.Linear(X.shape[1], 1, bias=False)
    layer.weight.data[...] = 0.0
    record = _RecordWeights(layer)
    dg.fit(layer, X, T, optimizer=dg.optim.SGD(layer.parameters(), lr=eta), epochs=tau,
           callbacks=[record], progress=False)
    star_j = U.T @ w_star
    for k, w in enumerate(record.weights, start=1):
        expected = star_j * (1 - (1 - eta * lam) ** k)
        np.testing.assert_allclose(U.T @ w, expected, rtol=1e-12, atol=1e-12 * abs(star_j).max(),
                                   err_msg=f"τ = {k}")

    decayed = nn.Linear(X.shape[1], 1, bias=False, rng=0)
    prior = WeightDecay(alpha)
    dg.optim.minimize(decayed, lambda m: dg.losses.sum_of_squares(m(X), T) + prior(m),
                      method="trust-ncg", tol=1e-14)
    expected = star_j * lam / (lam + alpha)
    # to 1e-8 of the solution's size: with κ(H) ≈ 2e3 the optimiser's last digits are noise
    np.testing.assert_allclose(U.T @ decayed.weight.data[0], expected, rtol=1e-8,
                               atol=1e-8 * np.abs(expected).max())

    early = (U.T @ record.weights[-1]) / star_j
    decay = (U.T @ decayed.weight.data[0]) / star_j
    path = tmp_path / "early_stopping_vs_weight_decay.png"
    plot.plot_early_stopping_vs_weight_decay(lam, early, decay, tau, eta, alpha, path=path)
    assert path.stat().st_size > 10_000


def _regression_data(rng, N=40):
    X = rng.normal(size=(N, 2))
    T = np.sin(X[:, :1] * 1.5) + 0.5 * X[:, 1:] ** 2 + 0.05 * rng.normal(size=(N, 1))
    return X, T


def _gradient_norm(model, objective) -> float:
    grads = dg.grad(objective(model), model.parameters())
    return float(np.sqrt(sum(np.vdot(g.data, g.data) for g in grads)))


A, B, C, D = 2.0, 1.5, 3.0, -1.0  # x̃ = a x + b, t̃ = c t + d


def _minimum_and_its_image(rng, prior, prior_rescaled):
    """Train a 2-5-1 regression net to a minimum of E + prior (‖∇‖ < 1e-6, L-BFGS) and map it
    by Prop. 4.2–4.3 into the rescaled problem (data error weighted by 1/c²)."""
    X, T = _regression_data(rng)
    Xr, Tr = A * X + B, C * T + D
    net = nn.MLP("2-5-1", hidden="tanh", rng=2)

    def objective(m):
        return dg.losses.sum_of_squares(m(X), T) + prior(m)

    def objective_rescaled(m):
        return dg.losses.sum_of_squares(m(Xr), Tr) / C ** 2 + prior_rescaled(m)

    dg.optim.minimize(net, objective, method="L-BFGS-B", maxiter=20_000,
                      options={"gtol": 1e-12, "ftol": 1e-16})
    assert _gradient_norm(net, objective) < 1e-6
    mapped = rescale_outputs(rescale_inputs(net, A, B), C, D)
    return (X, net, objective), (Xr, mapped, objective_rescaled)


def test_consistent_prior_minimum_maps_to_a_minimum_of_the_rescaled_problem(rng):
    """Derivation. Rescale x̃ = a x + b, t̃ = c t + d and map the weights by Prop. 4.2–4.3:
    W̃₁ = W₁/a, b̃₁ = b₁ − W₁b/a, W̃₂ = cW₂, b̃₂ = cb₂ + d, so ỹ(x̃) = c y(x) + d exactly. The
    rescaled targets have noise variance c²/β, i.e. precision β/c², so the data error of the
    rescaled problem is weighted by 1/c²: (1/c²)·½Σ‖ỹ − t̃‖² = ½Σ‖y − t‖². The prior terms
    keep their value when α̃₁ = a²α₁ (‖W̃₁‖² = ‖W₁‖²/a²) and α̃₂ = α₂/c² (‖W̃₂‖² = c²‖W₂‖²),
    and the biases are not penalised, so the shifts b and d cost nothing. Hence
    Ẽ_rescaled(T(w)) = Ẽ(w) for every w, T is an affine bijection, and a minimum maps to a
    minimum. With weight decay the biases are penalised and the weights share one λ, so
    Ẽ_rescaled(T(w)) ≠ Ẽ(w) + const and the mapped minimum is not a minimum (Prop. 4.5)."""
    alphas = [0.3, 0.05]
    (X, net, objective), (Xr, mapped, objective_r) = _minimum_and_its_image(
        rng, ConsistentGaussianPrior(alphas),
        ConsistentGaussianPrior([A ** 2 * alphas[0], alphas[1] / C ** 2]))
    assert _gradient_norm(mapped, objective_r) < 1e-5
    assert objective_r(mapped).item() == pytest.approx(objective(net).item(), rel=1e-12)
    np.testing.assert_allclose((mapped(Xr).data - D) / C, net(X).data, rtol=0, atol=1e-9)


def test_weight_decay_minimum_does_not_map_to_a_minimum(rng):
    """Prop. 4.5 as a number: the same experiment with WeightDecay(λ) in both problems."""
    decay = WeightDecay(0.1)
    _, (_, mapped, objective_r) = _minimum_and_its_image(rng, decay, decay)
    assert _gradient_norm(mapped, objective_r) >= 1e-2


def test_weight_decay_value_and_gradient():
    """Ω = (λ/2)Σw² and ∂Ω/∂w = λw, biases included or not."""
    layer = nn.Linear(2, 1)
    layer.weight.data[...] = [[1.0, -2.0]]
    layer.bias.data[...] = [3.0]
    for include, expected in ((True, 0.5 * 0.2 * 14), (False, 0.5 * 0.2 * 5)):
        reg = WeightDecay(0.2, include_biases=include)
        assert reg.penalty(layer) == pytest.approx(expected)
        layer.zero_grad()
        reg(layer).backward()
        np.testing.assert_allclose(layer.weight.grad, 0.2 * layer.weight.data)
        if include:
            np.testing.assert_allclose(layer.bias.grad, [0.6])
        else:
            assert layer.bias.grad is None


def test_consistent_prior_by_name_and_biases_unpenalised():
    net = nn.MLP("2-3-1", rng=0)
    by_list = ConsistentGaussianPrior([0.1, 2.0])
    by_name = ConsistentGaussianPrior({"linear2": 2.0, "linear1": 0.1})
    W1, W2 = net.linears[0].weight.data, net.linears[1].weight.data
    expected = 0.5 * (0.1 * np.sum(W1 ** 2) + 2.0 * np.sum(W2 ** 2))
    assert by_list.penalty(net) == pytest.approx(expected)
    assert by_name(net).item() == pytest.approx(expected)
    by_list(net).backward()
    assert net.linears[0].bias.grad is None and net.linears[1].bias.grad is None
    np.testing.assert_allclose(net.linears[1].weight.grad, 2.0 * W2)


@pytest.mark.parametrize("alphas,match", [
    ([0.1], r"1 alphas given but the model has 2 layers \['linear1', 'linear2'\]"),
    ({"linear1": 0.1, "layer9": 1.0}, r"unknown \['layer9'\], missing \['linear2'\]"),
])
def test_consistent_prior_checks_its_alphas(alphas, match):
    with pytest.raises(ValueError, match=match):
        ConsistentGaussianPrior(alphas).penalty(nn.MLP("2-3-1"))


def test_negative_coefficients_are_refused():
    with pytest.raises(ValueError, match=r"WeightDecay: lam must be a finite number ≥ 0"):
        WeightDecay(-1.0)
    with pytest.raises(ValueError, match=r"alphas\[1\] must be a finite number ≥ 0"):
        ConsistentGaussianPrior([0.1, float("nan")])


def test_rescaling_transforms_give_identical_outputs(rng):
    """Prop. 4.2–4.3 with per-input a, b and per-output c, d; a sigmoid output is refused."""
    net = nn.MLP("3-4-2", hidden="tanh", rng=0)
    X = rng.normal(size=(7, 3))
    a, b = np.array([2.0, -0.5, 3.0]), np.array([1.0, 0.0, -2.0])
    c, d = np.array([3.0, -1.0]), np.array([-1.0, 0.5])
    np.testing.assert_allclose(rescale_inputs(net, a, b)(a * X + b).data, net(X).data,
                               atol=1e-13)
    np.testing.assert_allclose(rescale_outputs(net, c, d)(X).data, c * net(X).data + d,
                               atol=1e-13)
    with pytest.raises(ValueError, match="output activation must be the identity"):
        rescale_outputs(nn.MLP("3-4-2", output="sigmoid"), 2.0, 0.0)
    with pytest.raises(ValueError, match="a must be non-zero"):
        rescale_inputs(net, 0.0, 1.0)


def test_l1_value_and_subgradient_match_torch_abs_with_sign_0_equal_0():
    """Ω = λ Σ|w|; ∂Ω/∂w = λ sign(w), 0 at w = 0 — torch.abs's gradient there. One weight and
    the bias are exactly 0, so the convention is what the test compares."""
    torch = pytest.importorskip("torch")
    net = nn.MLP([3, 4, 2], rng=0)
    net.linears[0].weight.data[1, 2] = 0.0
    net.linears[1].bias.data[0] = 0.0
    lam = 0.37
    omega = dg.regularizers.L1(lam)(net)
    omega.backward()
    total = 0.0
    for p in net.parameters():
        w = torch.tensor(p.data, dtype=torch.float64, requires_grad=True)
        term = lam * w.abs().sum()
        term.backward()
        total += term.item()
        np.testing.assert_array_equal(p.grad, w.grad.numpy())
    assert omega.item() == pytest.approx(total, rel=1e-15)
    assert dg.regularizers.L1(lam).penalty(net) == pytest.approx(total, rel=1e-15)
    assert net.linears[0].weight.grad[1, 2] == 0.0 and net.linears[1].bias.grad[0] == 0.0
    layer = nn.Linear(2, 2, rng=1)  # away from 0, where |w| is smooth
    assert dg.gradcheck(lambda w, b: dg.regularizers.L1(lam)(layer), layer.weight, layer.bias)


def test_l1_weights_only_training_shrinks_and_bad_lambda_is_refused():
    """fit adds (B/N) λ Σ|w|: with λ large and data that need no weight, batch gradient
    descent drives every weight to within ηλ of 0, and leaves the bias unpenalised."""
    X = np.random.default_rng(0).normal(size=(20, 3))
    T = np.full((20, 1), 2.0)
    net = nn.Linear(3, 1, rng=0)
    dg.fit(net, X, T, epochs=400, lr=0.01, regularizer=dg.regularizers.L1(5.0, False))
    assert np.all(np.abs(net.weight.data) <= 0.01 * 5.0 + 1e-12)
    assert net.bias.data[0] == pytest.approx(2.0, abs=0.2)
    with pytest.raises(ValueError, match="L1: lam"):
        dg.regularizers.L1(-1.0)
    assert repr(dg.regularizers.L1(0.5)) == "L1(lam=0.5, include_biases=True)"
