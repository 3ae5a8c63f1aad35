"""Chapters 1, 2, 4 as tools: Hessian, quadratic approximation, ravine, evidence, symmetries,
rescaling, universal approximation."""

import itertools
import math
import warnings

import numpy as np
import pytest

import deltagrad as dg
from deltagrad import analysis as A
from deltagrad import nn, plot
from deltagrad.regularizers import ConsistentGaussianPrior, WeightDecay

torch = pytest.importorskip("torch")

ACTS = ["tanh", "sigmoid", "relu", "identity"]
LOSS_OUT = [("sum_of_squares", "identity"), ("binary_cross_entropy", "sigmoid"),
            ("cross_entropy", "softmax")]


def _torch_mlp_error(flat, sizes, hidden, output, loss, X, T, reg, alphas):
    """The same error written in PyTorch as a function of the flat weight vector."""
    acts = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
            "identity": lambda a: a}
    z, start, penalty = torch.tensor(X), 0, 0.0
    for l, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        W = flat[start:start + d_in * d_out].reshape(d_out, d_in)
        start += d_in * d_out
        b = flat[start:start + d_out]
        start += d_out
        a = z @ W.T + b
        if reg == "decay":
            penalty = penalty + 0.5 * alphas[0] * ((W ** 2).sum() + (b ** 2).sum())
        elif reg == "consistent":
            penalty = penalty + 0.5 * alphas[l] * (W ** 2).sum()
        z = acts[hidden[l]](a) if l < len(sizes) - 2 else a
    t = torch.tensor(T)
    if loss == "sum_of_squares":
        E = 0.5 * ((z - t) ** 2).sum()
    elif loss == "binary_cross_entropy":
        E = torch.nn.functional.binary_cross_entropy_with_logits(z, t, reduction="sum")
    else:
        E = torch.nn.functional.cross_entropy(z, t, reduction="sum")
    return E + penalty


@pytest.mark.parametrize("seed", range(10))
def test_hessians_of_random_mlps_equal_pytorchs(seed):
    rng = np.random.default_rng(seed)
    sizes = [int(s) for s in rng.integers(1, 4, size=rng.integers(2, 4))]
    loss, output = LOSS_OUT[seed % 3]
    if output == "softmax":
        sizes[-1] = max(sizes[-1], 2)
    hidden = [str(rng.choice(ACTS)) for _ in sizes[2:]]
    reg = ["none", "decay", "consistent"][seed % 3 if seed < 9 else 1]
    alphas = list(rng.uniform(0.1, 1.0, size=len(sizes) - 1))
    net = nn.MLP(sizes, hidden=hidden, output=output, rng=seed)
    X = rng.normal(size=(5, sizes[0]))
    if loss == "cross_entropy":
        T_ours = rng.integers(0, sizes[-1], size=5)
        T_torch = T_ours
    else:
        T_ours = rng.uniform(size=(5, sizes[-1])) if loss == "sum_of_squares" else \
            rng.integers(0, 2, size=(5, sizes[-1])).astype(float)
        T_torch = T_ours
    prior = {"none": None, "decay": WeightDecay(alphas[0]),
             "consistent": ConsistentGaussianPrior(alphas)}[reg]

    def objective(m):
        E = dg.losses.get(loss)(m(X), T_ours)
        return E if prior is None else E + prior(m)

    H = A.hessian(net, objective)
    w = torch.tensor(nn.utils.parameters_to_vector(net.parameters()))
    ref = torch.autograd.functional.hessian(
        lambda f: _torch_mlp_error(f, sizes, hidden, output, loss, X, T_torch, reg, alphas), w)
    np.testing.assert_allclose(H.matrix, ref.numpy(), rtol=1e-9, atol=1e-12,
                               err_msg=f"sizes={sizes} hidden={hidden} {loss} {reg}")
    assert len(H.names) == w.numel() and H.names[0] == "linear1.weight[0,0]"
    v = rng.normal(size=w.numel())
    np.testing.assert_allclose(A.hvp(net, objective, v), H.matrix @ v, rtol=1e-10, atol=1e-12)


def test_outer_product_approximation_is_exact_for_zero_residuals(rng):
    net = nn.MLP("2-3-2", hidden="tanh", rng=0)
    X = rng.normal(size=(6, 2))
    T = net(X).data.copy()  # the net fits its targets exactly: y − t = 0
    H = A.hessian(net, lambda m: dg.losses.sum_of_squares(m(X), T)).matrix
    np.testing.assert_allclose(A.outer_product_hessian(net, X, T), H, atol=1e-12)


def test_quadratic_approximation_error_shrinks_as_the_cube_of_the_step(rng):
    """E(ŵ + εd) − Ê(ŵ + εd) = O(ε³): the log-log slope is ≈ 3."""
    net = nn.MLP("2-4-1", hidden="tanh", rng=1)
    X, T = rng.normal(size=(10, 2)), rng.normal(size=(10, 1))

    def objective(m):
        return dg.losses.sum_of_squares(m(X), T)

    q = A.quadratic_approximation(net, objective)
    d = rng.normal(size=q.w_hat.size)
    d /= np.linalg.norm(d)
    eps = np.geomspace(1e-1, 1e-3, 6)
    gaps = [abs(A.error_at(net, objective, q.w_hat + e * d) - q.error(q.w_hat + e * d))
            for e in eps]
    slope = np.polyfit(np.log(eps), np.log(gaps), 1)[0]
    assert slope == pytest.approx(3.0, abs=0.15)
    np.testing.assert_allclose(q.gradient(q.w_hat), q.b)


def test_is_local_minimum_after_training(rng):
    net = nn.MLP("1-3-1", hidden="tanh", rng=0)
    X = np.linspace(-1, 1, 20)[:, None]
    T = np.sin(2 * X)
    prior = WeightDecay(0.01)

    def objective(m):
        return dg.losses.sum_of_squares(m(X), T) + prior(m)

    assert not A.is_local_minimum(net, objective)
    dg.optim.minimize(net, objective, "trust-ncg", tol=1e-12, maxiter=2000)
    check = A.is_local_minimum(net, objective, tol=1e-6)
    assert check and check.min_eigenvalue > 0 and check.gradient_norm < 1e-6


def test_ravine(tmp_path):
    kappa = 100.0
    r = A.ravine(kappa)
    assert len(r.newton) - 1 == 1 and np.allclose(r.newton[-1], 0, atol=1e-12)
    assert len(r.conjugate_gradients) - 1 == 2
    np.testing.assert_allclose(r.conjugate_gradients[-1], 0, atol=1e-10)
    assert r.gd_steps > kappa / 10
    plot.plot_ravine(r, tmp_path / "ravine.png")
    assert (tmp_path / "ravine.png").stat().st_size > 10_000


def test_condition_number_of_a_trained_network(rng, tmp_path):
    net = nn.MLP("2-4-1", hidden="tanh", rng=0)
    X, T = rng.normal(size=(30, 2)), rng.normal(size=(30, 1))
    prior = ConsistentGaussianPrior([0.1, 0.1])

    def objective(m):
        return dg.losses.sum_of_squares(m(X), T) + prior(m)

    dg.optim.minimize(net, objective, "trust-ncg", tol=1e-10, maxiter=500)
    spec = A.spectrum(A.hessian(net, objective))
    assert A.hessian_condition(net, objective) == pytest.approx(spec.condition_number)
    assert spec.condition_number == pytest.approx(spec.eigenvalues[-1] / spec.eigenvalues[0])
    plot.plot_spectrum(spec.eigenvalues, tmp_path / "spectrum.png")


def test_evidence_recovers_the_noise_level():
    """y = sin(2πx) + ε, σ = 0.1: the re-estimated 1/β is within 20% of σ², 0 < γ < W."""
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, size=(100, 1))
    T = np.sin(2 * np.pi * X) + 0.1 * rng.normal(size=X.shape)
    for prior in (WeightDecay(0.01), ConsistentGaussianPrior([0.01, 0.01])):
        net = nn.MLP("1-8-1", hidden="tanh", rng=1)
        history = A.fit_evidence(net, X, T, prior, beta=10.0)
        last = history[-1]
        assert 1 / last.beta == pytest.approx(0.01, rel=0.2), prior
        assert 0 < last.gamma < last.W
        assert np.isfinite(last.log_evidence)


def _linear_evidence_case():
    """Bayesian linear regression (Bishop §3.5) on a linear network y = w·x + b: with
    Φ = [X, 1], A = αI + βΦᵀΦ, m_N = β A⁻¹ Φᵀ t (eq. 3.53–3.54), λ_i the eigenvalues of
    βΦᵀΦ, γ = Σ λ_i/(λ_i + α) (eq. 3.91), α' = γ/(m_Nᵀm_N) (eq. 3.92),
    β' = (N − γ)/Σ(t_n − m_Nᵀφ_n)² (eq. 3.95), and ln p(t|α, β) = (M/2) ln α + (N/2) ln β
    − E(m_N) − ½ ln|A| − (N/2) ln 2π with E(m) = (β/2)‖t − Φm‖² + (α/2)mᵀm (eq. 3.86)."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(30, 3))
    T = X @ np.array([[0.8], [-0.5], [0.3]]) + 0.2 + 0.3 * rng.normal(size=(30, 1))
    Phi = np.hstack([X, np.ones((30, 1))])
    return X, T, Phi


def _bishop_re_estimate(Phi, t, alpha, beta):
    N, M = Phi.shape
    A = alpha * np.eye(M) + beta * Phi.T @ Phi
    m = beta * np.linalg.solve(A, Phi.T @ t)
    lam = np.linalg.eigvalsh(beta * Phi.T @ Phi)
    gamma = float(np.sum(lam / (lam + alpha)))
    residual = float(np.sum((t - Phi @ m) ** 2))
    E = beta / 2 * residual + alpha / 2 * float(m @ m)
    log_evidence = (M / 2 * np.log(alpha) + N / 2 * np.log(beta) - E
                    - 0.5 * np.linalg.slogdet(A)[1] - N / 2 * np.log(2 * np.pi))
    return m, gamma, gamma / float(m @ m), (N - gamma) / residual, log_evidence


def test_evidence_step_matches_bishops_closed_form_on_a_linear_network():
    X, T, Phi = _linear_evidence_case()
    alpha, beta = 0.7, 5.0
    m, gamma, new_alpha, new_beta, log_ev = _bishop_re_estimate(Phi, T[:, 0], alpha, beta)
    net = nn.Linear(3, 1, rng=0)
    net.weight.data, net.bias.data = m[None, :3], m[3:]  # at the MAP weights m_N
    result = A.evidence(net, X, T, WeightDecay(alpha, include_biases=True), beta=beta)
    assert result.gamma == pytest.approx(gamma, rel=1e-10)
    assert result.alpha == pytest.approx(new_alpha, rel=1e-10)
    assert result.beta == pytest.approx(new_beta, rel=1e-10)
    assert result.log_evidence == pytest.approx(log_ev, rel=1e-10)


def test_evidence_fixed_point_matches_bishops_on_a_linear_network():
    """fit_evidence (MAP training by L-BFGS, then re-estimation) reaches the fixed point of
    Bishop's iteration (eq. 3.91–3.95, iterated here to 1e-13): α, β and γ to 1e-5."""
    X, T, Phi = _linear_evidence_case()
    alpha, beta = 1.0, 1.0
    for _ in range(500):
        _, gamma, new_alpha, new_beta, _ = _bishop_re_estimate(Phi, T[:, 0], alpha, beta)
        if abs(new_alpha - alpha) < 1e-13 * alpha and abs(new_beta - beta) < 1e-13 * beta:
            break
        alpha, beta = new_alpha, new_beta
    history = A.fit_evidence(nn.Linear(3, 1, rng=0), X, T, WeightDecay(1.0,
                             include_biases=True), beta=1.0, cycles=200, tol=1e-9)
    last = history[-1]
    assert last.alpha == pytest.approx(alpha, rel=1e-5)
    assert last.beta == pytest.approx(beta, rel=1e-5)
    assert last.gamma == pytest.approx(gamma, rel=1e-5)


def _tanh_net(rng, M, D=2, K=1):
    net = nn.MLP([D, M, K], hidden="tanh", rng=int(rng.integers(1 << 30)))
    for p in net.parameters():
        p.data = rng.normal(size=p.shape)
    return net


@pytest.mark.parametrize("M", [1, 2, 3, 4, 5])
def test_all_equivalent_networks_compute_the_same_function(M, rng):
    net = _tanh_net(rng, M)
    X = rng.normal(size=(7, 2))
    reference, canonical = net(X).data, A.canonical_form(net)
    count = 0
    for other in A.equivalent_networks(net):
        np.testing.assert_allclose(other(X).data, reference, atol=1e-12)
        for p, q in zip(A.canonical_form(other).parameters(), canonical.parameters()):
            np.testing.assert_allclose(p.data, q.data, atol=1e-12)
        count += 1
    assert count == math.factorial(M) * 2 ** M


def test_non_equivalent_networks_have_different_canonical_forms(rng):
    for _ in range(100):
        a, b = _tanh_net(rng, 3), _tanh_net(rng, 3)
        assert not A.are_equivalent(a, b)
        assert A.are_equivalent(a, A.interchange(A.sign_flip(a, 1, 2), 1, 0, 2))


def test_deep_networks_layer_by_layer(rng):
    net = nn.MLP("2-3-3-1", hidden="tanh", rng=0)
    X = rng.normal(size=(5, 2))
    other = A.sign_flip(A.interchange(A.sign_flip(net, 2, 1), 1, 0, 2), 1, 1)
    np.testing.assert_allclose(other(X).data, net(X).data, atol=1e-12)
    assert A.are_equivalent(net, other)
    for p, q in zip(A.canonical_form(net).parameters(), A.canonical_form(other).parameters()):
        np.testing.assert_allclose(p.data, q.data, atol=1e-12)


def test_sigmoid_layers_have_only_the_interchange_symmetry(rng):
    net = nn.MLP("2-3-1", hidden="sigmoid", rng=0)
    assert sum(1 for _ in A.equivalent_networks(net)) == 6
    with pytest.raises(ValueError, match=r"Remark 1.10: the sign-flip symmetry .* is specific "
                                         r"to odd activation functions"):
        A.sign_flip(net, 1, 0)
    with pytest.raises(ValueError, match=r"layer 1 uses ReLU, which is not odd"):
        A.sign_flip(nn.MLP("2-3-1", hidden="relu"), 1, 0)


def test_interchange_checks_its_indices():
    net = nn.MLP("2-3-1", hidden="tanh")
    with pytest.raises(ValueError, match="i and j must differ, got i = j = 1"):
        A.interchange(net, 1, 1, 1)
    with pytest.raises(ValueError, match=r"j must be a unit index 0 … 2 of the layer, got 3"):
        A.interchange(net, 1, 0, 3)
    with pytest.raises(ValueError, match=r"layer must be a hidden layer 1 … 1, got 2"):
        A.interchange(net, 2, 0, 1)


def test_rescaling_leaves_the_consistent_prior_unchanged_but_not_weight_decay(rng):
    """Outputs identical to 1e-12 for random a, b, c, d, scalars and vectors; the consistent
    penalty with α1·a², α2/c² is unchanged (§4.3), the weight-decay penalty is not (Prop. 4.5)."""
    for vector in (False, True):
        net = nn.MLP("3-4-2", hidden="tanh", rng=0)
        X = rng.normal(size=(6, 3))
        a = rng.uniform(0.5, 2, size=3) if vector else 1.7
        b = rng.normal(size=3) if vector else -0.4
        c = 2.5 if not vector else np.array([2.5, 2.5])
        d = rng.normal(size=2) if vector else 0.3
        mapped = A.rescale_outputs(A.rescale_inputs(net, a, b), c, d)
        np.testing.assert_allclose(mapped(a * X + b).data, 2.5 * net(X).data + d, atol=1e-12)
        if not vector:
            prior = ConsistentGaussianPrior([0.3, 0.2])
            mapped_prior = ConsistentGaussianPrior([0.3 * a ** 2, 0.2 / 2.5 ** 2])
            assert mapped_prior.penalty(mapped) == pytest.approx(prior.penalty(net), rel=1e-12)
            decay = WeightDecay(0.1)
            assert abs(decay.penalty(mapped) - decay.penalty(net)) > 1e-3


def test_rescale_inputs_refuses_a_zero_scale():
    with pytest.raises(ValueError, match="rescale_inputs: a must be non-zero"):
        A.rescale_inputs(nn.MLP("2-3-1"), [1.0, 0.0], 0.0)


def test_universal_approximation_by_bumps(tmp_path):
    Ms = [10, 20, 50, 100, 200]
    errors = [A.sup_error(A.bump_network(np.sin, (0, 2 * np.pi), M), np.sin) for M in Ms]
    assert errors[-1] < 0.05 and min(errors) < 0.05
    assert all(e2 < e1 for e1, e2 in zip(errors, errors[1:]))
    trained = A.sup_error(A.trained_network(np.sin, M=10, iterations=500), np.sin)
    assert trained < errors[0]
    plot.plot_universal_approximation({"sin": {"M": Ms, "constructed": errors}},
                                      tmp_path / "ua.png")


def test_training_from_the_bumps_keeps_their_decrease_with_m():
    """|x − π| (the kink the random start cannot sharpen): from the construction, 30 L-BFGS
    iterations keep the error within 10% of the bumps', so it falls with M as theirs does."""
    def f(v):
        return abs(v - np.pi)

    errors = []
    for M in (10, 40):
        bumps = A.sup_error(A.bump_network(f, M=M), f)
        trained = A.sup_error(A.trained_network(f, M=M, iterations=30, start="bumps"), f)
        assert trained <= 1.1 * bumps, (M, trained, bumps)
        errors.append(trained)
    assert errors[1] < errors[0] / 2
    with pytest.raises(ValueError, match="trained_network: unknown start 'bump'"):
        A.trained_network(f, start="bump")


def test_the_ravine_legend_counts_one_step_in_the_singular():
    figure = plot.plot_ravine(A.ravine(25.0))
    labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert "Newton: 1 step" in labels and "conjugate gradients: 2 steps" in labels


def test_full_hessian_of_a_large_model_is_refused():
    net = nn.MLP("100-60-2")
    X = np.zeros((2, 100))
    with pytest.raises(ValueError, match=r"the model has 6182 parameters; a full 6182×6182 "
                                         r"Hessian takes 292 MiB"):
        A.hessian(net, lambda m: m(X).sum())


def test_feedforward_skip_connection_by_hand_and_gradcheck():
    """x1 → h → y and a skip x1 → y, x2 → h: y = w_yh tanh(w_h1 x1 + w_h2 x2 + b_h)
    + w_y1 x1 + b_y."""
    net = nn.FeedForward({"h": "tanh", "y": "identity"},
                         [("x1", "h", 0.5), ("x2", "h", -1.0), ("h", "y", 2.0),
                          ("x1", "y", 0.25)])
    net.b_h.data[...] = 0.1
    net.b_y.data[...] = -0.2
    x = np.array([[1.0, 2.0]])
    expected = 2.0 * np.tanh(0.5 - 2.0 + 0.1) + 0.25 - 0.2
    assert net(x).item() == pytest.approx(expected, abs=1e-15)
    names = [name for name, _ in net.named_parameters()]
    inputs = [dg.tensor(p.data.copy(), requires_grad=True) for p in net.parameters()]
    X = dg.tensor(np.random.default_rng(0).normal(size=(4, 2)), requires_grad=True)

    def f(X, *weights):  # the unit parameters replaced by the checked tensors
        for name, tensor in zip(names, weights):
            object.__setattr__(net, name, tensor)
        return net(X)

    assert dg.gradcheck(f, X, *inputs)


def test_mlp_converts_to_feedforward_with_identical_outputs_and_gradients(rng):
    mlp = nn.MLP("3-4-3-2", hidden=["tanh", "sigmoid"], rng=0)
    ff = nn.FeedForward.from_mlp(mlp)
    X, T = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    np.testing.assert_allclose(ff(X).data, mlp(X).data, atol=1e-12)
    dg.losses.sum_of_squares(mlp(X), T).backward()
    dg.losses.sum_of_squares(ff(X), T).backward()
    for l, linear in enumerate(mlp.linears, start=1):
        prefix = "y" if l == 3 else f"h{l}_"
        for j in range(linear.out_features):
            np.testing.assert_allclose(getattr(ff, f"w_{prefix}{j + 1}").grad,
                                       linear.weight.grad[j], atol=1e-12)
            np.testing.assert_allclose(getattr(ff, f"b_{prefix}{j + 1}").grad,
                                       linear.bias.grad[j], atol=1e-12)


def test_feedforward_refuses_a_cycle_naming_its_units():
    with pytest.raises(ValueError, match=r"closed directed cycle a → b → c → a"):
        nn.FeedForward({"a": "tanh", "b": "tanh", "c": "tanh"},
                       [("x1", "a"), ("a", "b"), ("b", "c"), ("c", "a")])


def test_feedforward_trains_with_fit(rng):
    net = nn.FeedForward({"h1": "tanh", "h2": "tanh", "y": "identity"},
                         [("x1", "h1"), ("x2", "h1"), ("x1", "h2"), ("h1", "h2"), ("h2", "y"),
                          ("x2", "y")], rng=0)
    X = rng.normal(size=(40, 2))
    T = np.tanh(X[:, :1] - X[:, 1:]) + 0.5 * X[:, 1:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        h = dg.fit(net, X, T, optimizer="lbfgs", epochs=200, progress=False)
    assert h.error[-1] < 0.1 * h.error[0]


def test_equivalent_networks_enumerates_every_permutation_and_sign(rng):
    net = _tanh_net(rng, 2)
    seen = {tuple(np.round(nn.utils.parameters_to_vector(o.parameters()), 12))
            for o in A.equivalent_networks(net)}
    assert len(seen) == 8 and len(list(itertools.islice(A.equivalent_networks(net), 3))) == 3


def test_error_surface_is_E_on_the_grid_and_the_quadratic_from_the_full_hessian():
    """Each grid value is E with the two weights set and the rest held (error_at); Ê uses the
    gradient entries and the 2×2 block of the full Hessian, so at the current point Ê = E and
    for tiny steps Ê − E is O(d³)."""
    rng = np.random.default_rng(3)
    X, T = rng.normal(size=(12, 2)), rng.normal(size=(12, 1))
    net = dg.nn.MLP([2, 3, 1], rng=0)
    E = lambda m: dg.losses.sum_of_squares(m(X), T)  # noqa: E731
    names = dg.analysis.parameter_names(net)
    a, b = names.index("linear1.weight[1,0]"), names.index("linear2.bias[0]")
    w0 = dg.nn.utils.parameters_to_vector(net.parameters())
    axes = (w0[a] + np.array([-0.5, 0.0, 0.25]), w0[b] + np.array([-1e-3, 0.0, 1e-3]))
    s = dg.analysis.error_surface(net, E, ("linear1.weight[1,0]", "linear2.bias[0]"), axes)
    w = w0.copy()
    w[a], w[b] = axes[0][2], axes[1][0]
    assert s.E[0, 2] == pytest.approx(dg.analysis.error_at(net, E, w), rel=1e-14)
    assert np.array_equal(dg.nn.utils.parameters_to_vector(net.parameters()), w0)  # put back
    H = dg.analysis.hessian(net, E).matrix
    np.testing.assert_allclose(s.hessian, H[np.ix_([a, b], [a, b])], rtol=1e-12, atol=1e-14)
    q = dg.analysis.quadratic_approximation(net, E)
    for r in range(3):
        for c in range(3):
            w = w0.copy()
            w[a], w[b] = axes[0][c], axes[1][r]
            assert s.quadratic[r, c] == pytest.approx(q(w), rel=1e-12)
    assert s.E[1, 1] == s.E_hat == pytest.approx(s.quadratic[1, 1], rel=1e-15)
    with pytest.raises(ValueError, match="no weight named 'linear9.bias'"):
        dg.analysis.error_surface(net, E, ("linear9.bias", 0), axes)
    with pytest.raises(ValueError, match="two different weights"):
        dg.analysis.error_surface(net, E, (2, 2), axes)
    with pytest.raises(ValueError, match="axes must be two 1-D lists"):
        dg.analysis.error_surface(net, E, (0, 1), ([0.0], [1.0, 2.0]))
    with pytest.raises(ValueError, match="pair must be a pair"):
        dg.analysis.error_surface(net, E, "ab", axes)
