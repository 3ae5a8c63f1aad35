"""Issue 17's five gradient defects, each tested as a class against PyTorch (float64):
negative axes and wrong-shaped VJPs, pow at 0, reductions of 0-d tensors and positional axes,
gradients of every fused-loss input, and differentiable grad_outputs / integer indices."""

import numpy as np
import pytest
import torch

import deltagrad as dg
from deltagrad import ops
from deltagrad.ops.base import REGISTRY, Primitive


def _torch(x, requires_grad=True):
    return torch.tensor(np.asarray(x), dtype=torch.float64, requires_grad=requires_grad)


def _close(ours, reference, what=""):
    reference = reference.detach().numpy() if isinstance(reference, torch.Tensor) else reference
    ours = ours.data if isinstance(ours, dg.Tensor) else ours
    np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-14,
                               err_msg=f"{what}: ours {ours!r} vs torch {reference!r}")


# ---- 1. negative axes, and the engine's shape check ---------------------------------------
@pytest.mark.parametrize("axes", [(-1, 0, 1), (1, -1, -3), (-2, -3, -1), (2, 0, 1)])
def test_transpose_with_negative_axes_has_torchs_gradient(axes, rng):
    x0, seed = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    x = dg.tensor(x0, requires_grad=True)
    y = dg.transpose(x, axes=axes)
    xt = _torch(x0)
    yt = xt.permute(*axes)
    seed = seed.reshape(yt.shape)
    (y * seed).sum().backward()
    (yt * _torch(seed, False)).sum().backward()
    _close(y, yt, "value")
    _close(x.grad, xt.grad, f"gradient of transpose{axes}")


@pytest.mark.parametrize("call", [
    lambda x: dg.transpose(x, axes=(0, 1)), lambda x: dg.transpose(x, axes=(0, 0, 1)),
    lambda x: dg.transpose(x, axes=(0, 1, 3)), lambda x: dg.sum(x, axis=3),
    lambda x: dg.mean(x, axis=(-4,)), lambda x: dg.softmax(x, 1.5),
    lambda x: dg.concatenate([x, x], axis=-4), lambda x: dg.cumsum(x, axis=5),
    lambda x: x.swapaxes(3, 0), lambda x: dg.stack([x, x], axis=4)])
def test_bad_axes_are_refused_naming_the_argument(call):
    with pytest.raises((ValueError, TypeError), match="axis|axes"):
        call(dg.tensor(np.zeros((2, 3, 4))))


@pytest.fixture
def wrong_vjp_primitive():
    """A throwaway primitive whose VJP returns the transposed gradient (a (4, 3) gradient for
    a (3, 4) input): the slip that negative transpose axes used to cause."""
    prim = Primitive("wrong_vjp_for_test", lambda x: x * 2.0,
                     (lambda g, ans, x: (g * 2.0).T,))
    yield prim
    del REGISTRY["wrong_vjp_for_test"]


def test_the_engine_refuses_a_vjp_result_of_the_wrong_shape(wrong_vjp_primitive):
    x = dg.tensor(np.ones((3, 4)), requires_grad=True)
    y = wrong_vjp_primitive(x)
    with pytest.raises(RuntimeError, match=r"'wrong_vjp_for_test'.*\(4, 3\).*\(3, 4\)"):
        y.sum().backward()
    with pytest.raises(RuntimeError, match="wrong_vjp_for_test"):
        dg.grad(wrong_vjp_primitive(x).sum(), x, create_graph=True)


def test_the_engine_still_sums_a_broadcast_gradient_back(rng):
    """(3, 4) + (4,): the VJP returns g of shape (3, 4), legitimately summed to (4,)."""
    a, b = dg.tensor(rng.normal(size=(3, 4))), dg.tensor(rng.normal(size=4), requires_grad=True)
    (a + b).sum().backward()
    np.testing.assert_array_equal(b.grad, [3.0] * 4)


# ---- 2. pow at 0 --------------------------------------------------------------------------
BASES = [0.0, 0.0, 0.0, 0.0, -2.0, -2.0, -2.0, 2.0, 0.0]
EXPONENTS = [0.0, 2.0, -1.0, 0.5, 0.5, 2.0, 0.0, -1.5, 1.0]


def test_pow_derivatives_at_special_points_are_torchs():
    """x^0 at x = 0: both derivatives 0 (no 0·∞); where x^p is NaN or infinite, or x < 0,
    the exponent derivative is what torch gives (NaN, −∞), not 0."""
    x, p = dg.tensor(BASES, requires_grad=True), dg.tensor(EXPONENTS, requires_grad=True)
    xt, pt = _torch(BASES), _torch(EXPONENTS)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = x ** p
    yt = xt ** pt
    y.backward(np.ones(len(BASES)))
    yt.backward(torch.ones(len(BASES), dtype=torch.float64))
    np.testing.assert_array_equal(y.data, yt.detach().numpy())
    np.testing.assert_array_equal(x.grad, xt.grad.numpy())  # NaN == NaN here
    np.testing.assert_array_equal(p.grad, pt.grad.numpy())
    assert x.grad[0] == 0 and p.grad[0] == 0  # the 0·∞ of the issue


def test_x_to_the_zero_at_zero_has_gradient_zero_also_with_a_number_exponent():
    x = dg.tensor([0.0, 3.0], requires_grad=True)
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


# ---- 3. reductions of 0-d tensors, positional axes ------------------------------------------
@pytest.mark.parametrize("name", ["sum", "max", "logsumexp", "mean", "prod", "softmax",
                                  "log_softmax", "var", "std"])
@pytest.mark.parametrize("axis", [0, -1])
def test_reductions_of_a_0d_tensor_over_axis_0_and_minus_1_as_torch(name, axis):
    x = dg.tensor(1.5, requires_grad=True)
    xt = _torch(1.5)
    kwargs = {"ddof": 0} if name in ("var", "std") else {}
    y = getattr(dg, name)(x, axis, **kwargs)
    if name in ("var", "std"):
        yt = getattr(torch, name)(xt, dim=axis, correction=0)
    elif name == "max":
        yt = torch.amax(xt, dim=axis)
    else:
        yt = getattr(torch, name)(xt, dim=axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        y.backward()
    yt.backward()
    _close(y, yt, f"{name}(scalar, {axis})")
    np.testing.assert_array_equal(x.grad, xt.grad.numpy())  # std' at std = 0: 0, as torch


def test_logsumexp_of_a_scalar_with_its_default_axis_backpropagates():
    x = dg.tensor(0.3, requires_grad=True)
    y = dg.logsumexp(x)
    y.backward()
    assert y.item() == pytest.approx(0.3) and x.grad == pytest.approx(1.0)


@pytest.mark.parametrize("name,axis", [("sum", 0), ("max", 1), ("softmax", 1), ("mean", 0),
                                       ("log_softmax", -2), ("logsumexp", 0), ("prod", -1),
                                       ("sum", (0, -1)), ("mean", (-1, 0))])
def test_axis_may_be_given_positionally(name, axis, rng):
    x0 = rng.normal(size=(3, 4))
    x, xt = dg.tensor(x0, requires_grad=True), _torch(x0)
    y = getattr(dg, name)(x, axis)
    dim = axis
    reference = {"max": lambda t: torch.amax(t, dim=dim)}.get(
        name, lambda t: getattr(torch, name)(t, dim))
    yt = reference(xt)
    seed = rng.normal(size=y.shape)
    y.backward(seed)
    yt.backward(_torch(seed, False))
    _close(y, yt, name)
    _close(x.grad, xt.grad, f"gradient of {name}")


# ---- 4. every input of a fused loss that can carry a gradient gets one ---------------------
def test_soft_targets_get_a_gradient_from_softmax_cross_entropy(rng):
    a0, t0 = rng.normal(size=(5, 3)), rng.dirichlet(np.ones(3), size=5)
    a, t = dg.tensor(a0, requires_grad=True), dg.tensor(t0, requires_grad=True)
    E = dg.losses.cross_entropy(dg.nn.softmax(a), t)
    at, tt = _torch(a0), _torch(t0)
    Et = torch.nn.functional.cross_entropy(at, tt, reduction="sum")
    E.backward()
    Et.backward()
    _close(E, Et, "E")
    assert t.grad is not None
    _close(t.grad, tt.grad, "∂E/∂t")  # = −ln y
    _close(a.grad, at.grad, "∂E/∂a")


@pytest.mark.parametrize("loss,activation", [
    (dg.losses.cross_entropy, dg.nn.softmax),
    (dg.losses.binary_cross_entropy, dg.nn.sigmoid),
    (dg.losses.sum_of_squares, dg.nn.identity)])
def test_every_canonical_pair_differentiates_its_targets(loss, activation, rng):
    """Fused pair against the same loss composed from plain ops (no fused primitive)."""
    a0, t0 = rng.normal(size=(4, 3)), rng.uniform(0.1, 0.9, size=(4, 3))
    a, t = dg.tensor(a0, requires_grad=True), dg.tensor(t0, requires_grad=True)
    loss(activation(a), t).backward()
    at, tt = _torch(a0), _torch(t0)
    if loss is dg.losses.cross_entropy:
        Et = -(tt * torch.log_softmax(at, -1)).sum()
    elif loss is dg.losses.binary_cross_entropy:
        Et = torch.nn.functional.binary_cross_entropy_with_logits(at, tt, reduction="sum")
    else:
        Et = 0.5 * ((at - tt) ** 2).sum()
    Et.backward()
    _close(t.grad, tt.grad, "∂E/∂t")
    _close(a.grad, at.grad, "∂E/∂a")


def test_fused_losses_document_their_one_input_without_a_gradient():
    """The cached output y is the one input whose VJP is None, and the docstring says why."""
    for name in ("softmax_cross_entropy", "sigmoid_binary_cross_entropy"):
        prim = REGISTRY[name]
        assert [prim.vjp(i) is None for i in range(4)] == [False, False, True, False]
    assert "counts it twice" in ops.loss.__doc__.replace("\n", " ") or \
        "count it twice" in ops.loss.__doc__.replace("\n", " ")


# ---- 5. differentiable grad_outputs; integer index tensors -------------------------------------
def test_grad_outputs_are_differentiable_the_double_vjp_trick_gives_jvp(rng):
    """J v by two VJPs: g(u) = Jᵀu is linear in u, so ∂<g(u), v>/∂u = J v."""
    x0, v0 = rng.normal(size=3), rng.normal(size=3)
    x = dg.tensor(x0, requires_grad=True)
    W = rng.normal(size=(2, 3))
    y = dg.tanh(dg.tensor(W) @ (x * x))
    u = dg.tensor(np.zeros(2), requires_grad=True)
    (g,) = dg.grad(y, x, grad_outputs=u, create_graph=True)
    (jv,) = dg.grad(g, u, grad_outputs=dg.tensor(v0))
    _, reference = torch.func.jvp(lambda t: torch.tanh(_torch(W, False) @ (t * t)),
                                  (_torch(x0, False),), (_torch(v0, False),))
    _close(jv, reference, "J v")


def test_grad_with_respect_to_grad_outputs_is_the_vjp_of_the_vjp(rng):
    x = dg.tensor(rng.normal(size=(2, 3)), requires_grad=True)
    v = dg.tensor(rng.normal(size=2), requires_grad=True)
    y = dg.sum(dg.sin(x), 1)
    (g,) = dg.grad(y, x, grad_outputs=v, create_graph=True)  # g = v[:, None] cos x
    (gv,) = dg.grad(g.sum(), v)
    np.testing.assert_allclose(gv.data, np.cos(x.data).sum(axis=1), rtol=1e-14)


def test_integer_index_tensors_index_and_scatter_their_gradient():
    x = dg.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    index = dg.tensor([0, 2, 2])
    assert index.dtype == np.int64 and not index.requires_grad
    y = x[index]
    np.testing.assert_array_equal(y.data, x.data[[0, 2, 2]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.sum(axis=1), [4.0, 0.0, 8.0])
    mask = dg.tensor([True, False, True])
    np.testing.assert_array_equal(x[mask].data, x.data[[0, 2]])


def test_a_float_index_tensor_is_refused_with_a_clear_error():
    x = dg.tensor(np.arange(3.0))
    with pytest.raises(IndexError, match="index tensor must hold integers"):
        x[dg.tensor([0.0, 1.0])]


def test_integer_data_becomes_float_when_it_requires_grad():
    x = dg.tensor([1, 2], requires_grad=True)
    assert x.dtype == np.float64
    assert dg.tensor([1, 2]).dtype == np.int64
    assert (dg.tensor([1, 2]) * 0.5).dtype == np.float64


def test_layers_take_integer_tensors_as_their_float_dtype():
    net = dg.nn.MLP("2-3-1", rng=0)
    np.testing.assert_array_equal(net(dg.tensor([[1, 2]])).data, net(np.array([[1.0, 2.0]])).data)
