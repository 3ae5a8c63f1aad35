"""The backward pass: accumulation, freeing, retain_grad, no_grad, long chains, second
derivatives, dtype preservation and stability at ±1000."""

import warnings

import numpy as np
import pytest

import deltagrad as dg
from deltagrad import nn


def _second_derivative_check(f, x0, h=1e-5):
    """Compare d²f/dx² from double backward with central differences of the first derivative."""
    x = dg.tensor(x0, requires_grad=True)
    (g,) = dg.grad(f(x).sum(), x, create_graph=True)
    (gg,) = dg.grad(g.sum(), x)  # the Hessian is diagonal for elementwise f
    first = []
    for sign in (1, -1):
        xs = dg.tensor(x0 + sign * h, requires_grad=True)
        first.append(dg.grad(f(xs).sum(), xs)[0].data)
    numeric = (first[0] - first[1]) / (2 * h)
    np.testing.assert_allclose(gg.data, numeric, rtol=1e-6, atol=1e-8)
    return gg.data


def test_second_derivative_of_tanh_is_minus_2_tanh_times_sech2():
    x0 = np.array([-1.5, -0.2, 0.0, 0.7, 2.0])
    d2 = _second_derivative_check(dg.tanh, x0)
    t = np.tanh(x0)
    np.testing.assert_allclose(d2, -2 * t * (1 - t ** 2), rtol=1e-12, atol=1e-15)


def test_second_derivative_of_sigmoid_is_s_1ms_1m2s():
    x0 = np.array([-3.0, -0.5, 0.0, 0.4, 2.5])
    d2 = _second_derivative_check(dg.sigmoid, x0)
    s = 1 / (1 + np.exp(-x0))
    np.testing.assert_allclose(d2, s * (1 - s) * (1 - 2 * s), rtol=1e-12, atol=1e-15)


def test_mixed_second_derivative_of_a_product():
    """f = x·y: ∂²f/∂x∂y = 1, ∂²f/∂x² = 0; for f = x²y: ∂²f/∂x∂y = 2x."""
    x = dg.tensor(1.5, requires_grad=True)
    y = dg.tensor(-0.5, requires_grad=True)
    gx, gy = dg.grad(x * x * y, [x, y], create_graph=True)
    assert gx.item() == pytest.approx(2 * 1.5 * -0.5)
    gxx, gxy = dg.grad(gx, [x, y])
    assert gxx.item() == pytest.approx(2 * -0.5)
    assert gxy.item() == pytest.approx(2 * 1.5)
    (gyx,) = dg.grad(gy, [x])
    assert gyx.item() == pytest.approx(3.0)


def test_hessian_of_an_mlp_error_matches_finite_differences_of_gradients(rng):
    """Hessian-vector product H v by double backward (the R-operator) against
    (∇E(w + h v) − ∇E(w − h v)) / 2h."""
    net = nn.MLP("3-4-2", hidden="tanh", output="sigmoid", rng=1)
    X, T = rng.normal(size=(6, 3)), rng.integers(0, 2, size=(6, 2)).astype(float)
    params = net.parameters()
    v = [rng.normal(size=p.shape) for p in params]

    def gradient():
        return [g.data for g in dg.grad(dg.losses.binary_cross_entropy(net(X), T), params)]

    grads = dg.grad(dg.losses.binary_cross_entropy(net(X), T), params, create_graph=True)
    gv = sum((g * vi).sum() for g, vi in zip(grads, v))
    hv = [h.data for h in dg.grad(gv, params)]
    h = 1e-5
    shifted = []
    for sign in (1, -1):
        for p, vi in zip(params, v):
            p.data = p.data + sign * h * vi
        shifted.append(gradient())
        for p, vi in zip(params, v):
            p.data = p.data - sign * h * vi
    for ours, plus, minus in zip(hv, *shifted):
        np.testing.assert_allclose(ours, (plus - minus) / (2 * h), rtol=1e-6, atol=1e-8)


def test_a_chain_of_20000_ops_backpropagates_without_recursion():
    x = dg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001 ** 20_000)


def test_gradients_accumulate_into_leaves_until_zeroed():
    w = dg.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    (3 * w).sum().backward()
    np.testing.assert_array_equal(w.grad, [2 + 3, 4 + 3])
    w.grad = None
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, [2, 4])


def test_a_leaf_used_twice_gets_the_sum_and_leaves_never_share_buffers():
    a = dg.tensor([1.0, 2.0], requires_grad=True)
    b = dg.tensor([3.0, 4.0], requires_grad=True)
    (a + b + a).sum().backward()
    np.testing.assert_array_equal(a.grad, [2, 2])
    np.testing.assert_array_equal(b.grad, [1, 1])
    assert not np.shares_memory(a.grad, b.grad)


def test_intermediates_keep_no_grad_unless_retained_and_the_graph_is_freed():
    x = dg.tensor([0.5, -0.5], requires_grad=True)
    h = dg.tanh(x)
    kept = h * 2
    kept.retain_grad()
    E = (kept * kept).sum()
    E.backward()
    assert h.grad is None
    np.testing.assert_allclose(kept.grad, 2 * kept.data)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        E.backward()


def test_retain_graph_allows_a_second_backward():
    x = dg.tensor(2.0, requires_grad=True)
    E = x * x
    E.backward(retain_graph=True)
    E.backward()
    assert x.grad == pytest.approx(8.0)


def test_backward_on_a_non_scalar_needs_grad():
    x = dg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"grad can be omitted only for a one-element output"):
        (x * 2).backward()
    (x * 2).backward(grad=np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 20.0])


def test_no_grad_records_nothing():
    w = dg.tensor([1.0], requires_grad=True)
    with dg.no_grad():
        y = w * 3
    assert not y.requires_grad and y.is_leaf
    assert (w * 3).requires_grad


def test_grad_of_an_intermediate_tensor():
    x = dg.tensor([1.0, 2.0], requires_grad=True)
    a = x * 3
    E = (a * a).sum()
    (ga,) = dg.grad(E, a)
    np.testing.assert_allclose(ga.data, 2 * a.data)
    assert x.grad is None  # dg.grad returns gradients, it does not store them


def test_float32_stays_float32_through_forward_backward_and_update(rng):
    net = nn.MLP("4-8-3", hidden="tanh", output="softmax", rng=0, dtype="float32")
    X = rng.normal(size=(10, 4))  # float64 data is converted to the model's dtype
    E = dg.losses.cross_entropy(net(X), rng.integers(0, 3, size=10))
    assert E.dtype == np.float32
    E.backward()
    opt = dg.optim.Adam(net.parameters(), lr=0.01)
    opt.step()
    sgd = dg.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    sgd.step()
    for name, p in net.named_parameters():
        assert p.dtype == np.float32, name
        assert p.grad.dtype == np.float32, name


@pytest.mark.parametrize("f", [dg.sigmoid, dg.tanh, dg.softmax, dg.log_softmax, dg.logsumexp])
def test_no_overflow_warning_and_no_nan_at_plus_minus_1000(f):
    x = dg.tensor([[-1000.0, 0.0, 1000.0], [1000.0, 1000.0, -1000.0]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = f(x)
        (y * dg.tensor(np.arange(y.size, dtype=float).reshape(y.shape))).sum().backward()
    assert np.all(np.isfinite(y.data)) and np.all(np.isfinite(x.grad))


def test_sigmoid_and_softmax_values_at_the_extremes():
    x = dg.tensor([-1000.0, 1000.0])
    np.testing.assert_array_equal(dg.sigmoid(x).data, [0.0, 1.0])
    np.testing.assert_allclose(dg.softmax(x).data, [0.0, 1.0])
    np.testing.assert_allclose(dg.log_softmax(x).data, [-2000.0, 0.0])
    assert dg.logsumexp(x).item() == pytest.approx(1000.0)


def test_relu_and_step_at_zero():
    x = dg.tensor([0.0, 1.0, -1.0], requires_grad=True)
    dg.relu(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0])  # derivative 0 at 0
    np.testing.assert_array_equal(dg.step(x).data, [1.0, 1.0, 0.0])  # f(0) = 1 (eq. 5.2)


def test_comparisons_give_boolean_tensors_without_gradient():
    x = dg.tensor([1.0, -2.0], requires_grad=True)
    mask = x > 0
    assert mask.dtype == np.bool_ and not mask.requires_grad
    np.testing.assert_array_equal(mask.data, [True, False])


def test_gradient_scatters_back_through_fancy_indexing():
    x = dg.tensor(np.arange(4.0), requires_grad=True)
    x[[0, 0, 3]].sum().backward()
    np.testing.assert_array_equal(x.grad, [2, 0, 0, 1])


def test_no_grad_in_one_thread_leaves_another_threads_recording_on():
    """Grad mode is per thread, as PyTorch's: a server thread computing under no_grad (the
    playground's error surface) must not make a training step in another thread record
    nothing."""
    import threading

    inside, release = threading.Event(), threading.Event()

    def hold_no_grad():
        with dg.no_grad():
            inside.set()
            release.wait(10)

    holder = threading.Thread(target=hold_no_grad)
    holder.start()
    try:
        assert inside.wait(10)
        w = dg.tensor([2.0], requires_grad=True)
        y = w * w
        assert dg.is_grad_enabled() and y.requires_grad
        y.backward()
        assert w.grad[0] == 4.0
    finally:
        release.set()
        holder.join(10)
    assert not holder.is_alive()
