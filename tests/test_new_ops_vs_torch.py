"""The ops added for issue 17 against PyTorch in float64: values and gradients for random
inputs (printing ours vs torch on failure), the activation modules, cross_entropy's PyTorch
options, argmax/argmin, and the errors for bad arguments."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import deltagrad as dg
from deltagrad import nn


def _away(shape):
    def make(rng):
        return rng.uniform(0.2, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return make


def _normal(shape):
    return lambda rng: rng.normal(size=shape)


def _positive(shape):
    return lambda rng: rng.uniform(0.5, 2.0, size=shape)


def _weighted_parts(parts, join, axis):
    """The parts of a split, part k times k + 1, joined again (so each part is checked)."""
    return join([p * (k + 1) for k, p in enumerate(parts)], axis)


T3 = (2, 3, 4)
# name: (ours, torch's, input makers)
PAIRS = {
    "abs": (dg.abs, torch.abs, [_away(T3)]),
    "sign": (lambda x: dg.sign(x) * x * x, lambda x: torch.sign(x) * x * x, [_away(T3)]),
    "sqrt": (dg.sqrt, torch.sqrt, [_positive(T3)]),
    "sin": (dg.sin, torch.sin, [_normal(T3)]),
    "cos": (dg.cos, torch.cos, [_normal(T3)]),
    "erf": (dg.ops.erf, torch.erf, [_normal(T3)]),
    "maximum": (dg.maximum, torch.maximum, [_normal(T3), _normal((3, 1))]),
    "minimum": (dg.minimum, torch.minimum, [_normal(T3), _normal((4,))]),
    "clip": (lambda x: dg.clip(x, min=-0.4, max=0.7), lambda x: torch.clamp(x, -0.4, 0.7),
             [_normal(T3)]),
    "var": (lambda x: dg.var(x, axis=-1), lambda x: torch.var(x, dim=-1, correction=0),
            [_normal(T3)]),
    "var_ddof1": (lambda x: dg.var(x, axis=(0, -1), ddof=1),
                  lambda x: torch.var(x, dim=(0, -1)), [_normal(T3)]),
    "std": (lambda x: dg.std(x, axis=1, keepdims=True),
            lambda x: torch.std(x, dim=1, keepdim=True, correction=0), [_normal(T3)]),
    "std_ddof1": (lambda x: dg.std(x, ddof=1), lambda x: torch.std(x), [_normal(T3)]),
    "prod": (lambda x: dg.prod(x, axis=-2), lambda x: torch.prod(x, dim=-2), [_normal(T3)]),
    "prod_all": (dg.prod, torch.prod, [_normal((2, 3))]),
    "cumsum": (lambda x: dg.cumsum(x, axis=-1), lambda x: torch.cumsum(x, dim=-1), [_normal(T3)]),
    "softplus": (dg.softplus, F.softplus, [_normal(T3)]),
    "softplus_beta": (lambda x: dg.softplus(x * 10, beta=2.0, threshold=5.0),
                      lambda x: F.softplus(x * 10, beta=2.0, threshold=5.0), [_normal(T3)]),
    "leaky_relu": (lambda x: dg.leaky_relu(x, 0.2), lambda x: F.leaky_relu(x, 0.2), [_away(T3)]),
    "elu": (lambda x: dg.elu(x, alpha=0.5), lambda x: F.elu(x, alpha=0.5), [_normal(T3)]),
    "gelu": (dg.gelu, F.gelu, [_normal(T3)]),
    "gelu_tanh": (lambda x: dg.gelu(x, approximate="tanh"),
                  lambda x: F.gelu(x, approximate="tanh"), [_normal(T3)]),
    "silu": (dg.silu, F.silu, [_normal(T3)]),
    "pad": (lambda x: dg.pad(x, ((0, 0), (1, 2), (3, 0))),
            lambda x: F.pad(x, (3, 0, 1, 2)), [_normal(T3)]),
    "split": (lambda x: _weighted_parts(dg.split(x, [1, 3], axis=-1), dg.concatenate, -1),
              lambda x: _weighted_parts(torch.split(x, [1, 2, 1], dim=-1), torch.cat, -1),
              [_normal(T3)]),
    "split_sections": (lambda x: _weighted_parts(dg.split(x, 2, axis=0), dg.concatenate, 0),
                       lambda x: _weighted_parts(torch.split(x, 1, dim=0), torch.cat, 0),
                       [_normal(T3)]),
    "repeat": (lambda x: dg.repeat(x, 3, axis=-2),
               lambda x: torch.repeat_interleave(x, 3, dim=-2), [_normal(T3)]),
    "tile": (lambda x: dg.tile(x, (2, 1, 3)), lambda x: x.repeat(2, 1, 3), [_normal(T3)]),
    "tile_longer": (lambda x: dg.tile(x, (2, 2, 1)), lambda x: x.repeat(2, 2, 1),
                    [_normal((3, 4))]),
    "tril": (lambda x: dg.tril(x, -1), lambda x: torch.tril(x, -1), [_normal(T3)]),
    "triu": (lambda x: dg.triu(x, 1), lambda x: torch.triu(x, 1), [_normal(T3)]),
    "einsum_attention": (lambda q, k: dg.einsum("bqd,bkd->bqk", q, k),
                         lambda q, k: torch.einsum("bqd,bkd->bqk", q, k),
                         [_normal(T3), _normal((2, 5, 4))]),
    "einsum_bilinear": (lambda x, A, y: dg.einsum("ni,ij,nj->n", x, A, y),
                        lambda x, A, y: torch.einsum("ni,ij,nj->n", x, A, y),
                        [_normal((5, 3)), _normal((3, 4)), _normal((5, 4))]),
    "einsum_summed_away": (lambda a, b: dg.einsum("ijk,j->i", a, b),
                           lambda a, b: torch.einsum("ijk,j->i", a, b),
                           [_normal(T3), _normal((3,))]),
    "where_keywords": (lambda x, y: dg.where(condition=x.data > 0, x=x, y=y * 2),
                       lambda x, y: torch.where(x > 0, x, y * 2), [_normal(T3), _normal((4,))]),
}


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_values_and_gradients_equal_torchs_in_float64(name, rng):
    ours_fn, torch_fn, makers = PAIRS[name]
    arrays = [make(rng) for make in makers]
    xs = [dg.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    y, yt = ours_fn(*xs), torch_fn(*ts)
    seed = rng.normal(size=y.shape)
    (y * dg.tensor(seed)).sum().backward()
    (yt * torch.tensor(seed)).sum().backward()
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-12, atol=1e-14,
                               err_msg=f"{name}: ours vs torch")
    for k, (x, t) in enumerate(zip(xs, ts)):
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-11, atol=1e-13,
                                   err_msg=f"{name}: d/d input {k}, ours vs torch")


def test_derivatives_at_the_kinks_are_torchs():
    """abs'(0) = 0, sign' = 0, leaky_relu'(0) = slope, elu'(0) = α, clamp' at the bounds
    = 1, and maximum/minimum split a tie equally."""
    x0 = np.array([0.0, -0.5, 0.5, 1.0])
    checks = [(dg.abs, torch.abs), (dg.sign, torch.sign),
              (lambda x: dg.leaky_relu(x, 0.3), lambda x: F.leaky_relu(x, 0.3)),
              (lambda x: dg.elu(x, 0.7), lambda x: F.elu(x, 0.7)),
              (lambda x: dg.clip(x, min=-0.5, max=0.5), lambda x: torch.clamp(x, -0.5, 0.5)),
              (lambda x: dg.maximum(x, dg.tensor(0.5)), lambda x: torch.maximum(
                  x, torch.tensor(0.5, dtype=torch.float64))),
              (lambda x: dg.minimum(x, x * 0 + 1.0), lambda x: torch.minimum(x, x * 0 + 1.0))]
    for ours, theirs in checks:
        x, xt = dg.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
        ours(x).sum().backward()
        theirs(xt).sum().backward()
        np.testing.assert_array_equal(x.grad, xt.grad.numpy())


def test_prod_with_zeros_has_torchs_gradient():
    x0 = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.0, 2.0, 4.0]])
    x, xt = dg.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    dg.prod(x, axis=1).sum().backward()
    torch.prod(xt, dim=1).sum().backward()
    np.testing.assert_array_equal(x.grad, xt.grad.numpy())


@pytest.mark.parametrize("cls,kwargs,reference", [
    (nn.Softplus, {"beta": 2.0}, torch.nn.Softplus(beta=2.0)),
    (nn.LeakyReLU, {"negative_slope": 0.1}, torch.nn.LeakyReLU(0.1)),
    (nn.ELU, {"alpha": 0.5}, torch.nn.ELU(alpha=0.5)),
    (nn.GELU, {"approximate": "tanh"}, torch.nn.GELU(approximate="tanh")),
    (nn.SiLU, {}, torch.nn.SiLU())])
def test_activation_modules_match_torchs_and_are_in_the_table(cls, kwargs, reference, rng):
    x0 = rng.normal(size=(3, 4))
    module = cls(**kwargs)
    np.testing.assert_allclose(module(dg.tensor(x0)).data,
                               reference(torch.tensor(x0)).numpy(), rtol=1e-12, atol=1e-15)
    assert nn.ACTIVATIONS[module.name] is cls
    assert type(nn.activation(module.name)) is cls
    for key, value in kwargs.items():
        assert f"{key}={value!r}" in repr(module)


@pytest.mark.parametrize("hidden", ["softplus", "leaky_relu", "elu", "gelu", "silu"])
def test_an_mlp_takes_the_new_hidden_activations_by_name(hidden, rng):
    net = nn.MLP("3-4-2", hidden=hidden, output="identity", rng=0)
    X, T = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    assert dg.gradcheck(lambda *p: dg.losses.sum_of_squares(net(X), T), *net.parameters())


# ---- cross_entropy with PyTorch's options ---------------------------------------------------
@pytest.mark.parametrize("reduction", ["sum", "mean", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.15])
@pytest.mark.parametrize("ignore_index", [None, 2, -100])
def test_cross_entropy_options_match_torch(reduction, label_smoothing, ignore_index, rng):
    a0 = rng.normal(size=(6, 4))
    labels = np.array([0, 2, 3, -100 if ignore_index == -100 else 1, 2, 1])
    a, at = dg.tensor(a0, requires_grad=True), torch.tensor(a0, requires_grad=True)
    E = dg.losses.cross_entropy(dg.nn.softmax(a), labels, reduction=reduction,
                                label_smoothing=label_smoothing, ignore_index=ignore_index)
    Et = F.cross_entropy(at, torch.tensor(labels), reduction=reduction,
                         label_smoothing=label_smoothing,
                         ignore_index=-100 if ignore_index is None else ignore_index)
    seed = rng.normal(size=E.shape)
    E.backward(seed)
    Et.backward(torch.tensor(seed))
    np.testing.assert_allclose(E.data, Et.detach().numpy(), rtol=1e-12, atol=1e-14,
                               err_msg="E: ours vs torch")
    np.testing.assert_allclose(a.grad, at.grad.numpy(), rtol=1e-12, atol=1e-14,
                               err_msg="∂E/∂a: ours vs torch")


@pytest.mark.parametrize("reduction", ["sum", "mean", "none"])
def test_cross_entropy_with_soft_targets_and_smoothing_matches_torch(reduction, rng):
    a0, t0 = rng.normal(size=(5, 3)), rng.dirichlet(np.ones(3), size=5)
    a, t = dg.tensor(a0, requires_grad=True), dg.tensor(t0, requires_grad=True)
    at, tt = torch.tensor(a0, requires_grad=True), torch.tensor(t0, requires_grad=True)
    E = dg.losses.cross_entropy(dg.nn.softmax(a), t, reduction=reduction, label_smoothing=0.2)
    Et = F.cross_entropy(at, tt, reduction=reduction, label_smoothing=0.2)
    seed = rng.normal(size=E.shape)
    E.backward(seed)
    Et.backward(torch.tensor(seed))
    np.testing.assert_allclose(E.data, Et.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(a.grad, at.grad.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(t.grad, tt.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_cross_entropy_none_on_bare_probabilities_gives_one_value_per_pattern(rng):
    p = rng.dirichlet(np.ones(3), size=4)
    E = dg.losses.cross_entropy(dg.tensor(p), [0, 1, 2, 0], reduction="none")
    np.testing.assert_allclose(E.data, -np.log(p[np.arange(4), [0, 1, 2, 0]]), rtol=1e-14)


@pytest.mark.parametrize("kwargs,match", [
    ({"reduction": "avg"}, "reduction"), ({"label_smoothing": 1.5}, "label_smoothing"),
    ({"ignore_index": 1.5}, "ignore_index")])
def test_cross_entropy_refuses_bad_options_naming_them(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        dg.losses.cross_entropy(dg.nn.softmax(dg.tensor(np.zeros((2, 3)))), [0, 1], **kwargs)


# ---- argmax / argmin --------------------------------------------------------------------
@pytest.mark.parametrize("axis", [None, 0, -1, 1])
def test_argmax_and_argmin_are_int_tensors_without_gradient(axis, rng):
    x0 = rng.normal(size=(3, 4))
    x = dg.tensor(x0, requires_grad=True)
    for ours, theirs in ((dg.argmax, torch.argmax), (dg.argmin, torch.argmin)):
        index = ours(x, axis)
        assert index.dtype == np.int64 and not index.requires_grad and index.is_leaf
        np.testing.assert_array_equal(index.data, theirs(torch.tensor(x0), dim=axis).numpy())
    assert dg.argmax(x, -1, keepdims=True).shape == (3, 1)


# ---- bad arguments name themselves -------------------------------------------------------
@pytest.mark.parametrize("call,match", [
    (lambda x: dg.clip(x), "min, max"), (lambda x: dg.clip(x, min=1, max=0), "min=1"),
    (lambda x: dg.clip(x, min="0"), "min must be a number"),
    (lambda x: dg.var(x, ddof=-1), "ddof"), (lambda x: dg.std(x, axis=0, ddof=3), "ddof=3"),
    (lambda x: dg.pad(x, -1), "pad_width"), (lambda x: dg.pad(x, ((1, 2, 3),)), "pad_width"),
    (lambda x: dg.split(x, 5, axis=1), "divide"), (lambda x: dg.repeat(x, 1.5), "repeats"),
    (lambda x: dg.tile(x, (-1,)), "reps"), (lambda x: dg.tril(x[0]), "at least 2"),
    (lambda x: dg.einsum("ii->i", x), "repeats an index"),
    (lambda x: dg.einsum("ij,jk->ik", x), "2 operands"),
    (lambda x: dg.einsum("ijk->i", x), "operand 0 has 2 dimensions"),
    (lambda x: dg.einsum("...j->j", x), "ellipsis"),
    (lambda x: dg.einsum("ij->ik", x), "output"),
    (lambda x: dg.gelu(x, approximate="fast"), "approximate"),
    (lambda x: dg.softplus(x, beta=0), "beta"),
    (lambda x: dg.leaky_relu(x, negative_slope="a"), "negative_slope"),
    (lambda x: dg.argmax(x, axis=2), "axis 2")])
def test_bad_arguments_are_refused_naming_the_argument(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call(dg.tensor(np.ones((2, 3))))


def test_the_tracer_shows_new_activations_and_refuses_non_default_parameters():
    X, T = np.array([[0.5, -0.2]]), np.array([[1.0]])

    def model(act):
        return nn.Sequential(nn.Linear(2, 2, rng=0), act, nn.Linear(2, 1, rng=1))

    solution = dg.explain.backprop(model(nn.GELU()), X, T)
    formulas = [line.formula or "" for section in solution.sections for line in section.lines]
    assert any("Φ(a) + a φ(a)" in f for f in formulas)
    with pytest.raises(ValueError, match="default parameters"):
        dg.explain.backprop(model(nn.LeakyReLU(0.2)), X, T)
