"""Property test: random small graphs of registry ops, random shapes (0-d to 3-d) and random
axes (negative ones included), differentiated by deltagrad and by PyTorch in float64.

Each example draws a leaf, then one to four steps; a step may bring a second leaf of a shape
that broadcasts against the current one. The gradient of Σ seed · output with respect to
every leaf must equal torch's. A transpose-like slip (a VJP that permutes or reshapes its
gradient wrongly for some axis) changes some entry and fails here.
"""

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import deltagrad as dg


def _axis(draw, ndim: int):
    """One axis in −ndim … ndim−1 (0 or −1 for a 0-d tensor)."""
    return draw(st.integers(-max(ndim, 1), max(ndim, 1) - 1))


def _axes(draw, ndim: int):
    """None, one axis, or a tuple of distinct axes, each possibly negative."""
    if ndim == 0:
        return draw(st.sampled_from([None, 0, -1]))
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return _axis(draw, ndim)
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(a - ndim if draw(st.booleans()) else a for a in chosen)


def _torch_dims(axis, ndim):
    return tuple(range(ndim)) if axis is None else axis


UNARY = {
    "tanh": (dg.tanh, torch.tanh), "sin": (dg.sin, torch.sin), "cos": (dg.cos, torch.cos),
    "sigmoid": (dg.sigmoid, torch.sigmoid), "softplus": (dg.softplus, F.softplus),
    "silu": (dg.silu, F.silu), "gelu": (dg.gelu, F.gelu), "erf": (dg.ops.erf, torch.erf),
    "gelu_tanh": (lambda x: dg.gelu(x, approximate="tanh"),
                  lambda x: F.gelu(x, approximate="tanh")),
    "abs": (dg.abs, torch.abs), "elu": (dg.elu, F.elu),
    "leaky_relu": (lambda x: dg.leaky_relu(x, 0.2), lambda x: F.leaky_relu(x, 0.2)),
    "sqrt1p": (lambda x: dg.sqrt(x * x + 1.0), lambda x: torch.sqrt(x * x + 1.0)),
    "square": (lambda x: x ** 2, lambda x: x ** 2),
    "exp_tanh": (lambda x: dg.exp(dg.tanh(x)), lambda x: torch.exp(torch.tanh(x))),
}


def _reduction(draw, ndim):
    name = draw(st.sampled_from(["sum", "mean", "max", "var", "std", "prod", "logsumexp"]))
    axis, keep = _axes(draw, ndim), draw(st.booleans())
    if name == "prod" and isinstance(axis, tuple):
        axis = axis[0]
    if name in ("prod", "logsumexp") and axis is None:
        axis, keep = (0 if ndim == 0 else -1), keep
    if name in ("var", "std"):
        return (lambda x: getattr(dg, name)(x, axis, ddof=0, keepdims=keep),
                lambda x: getattr(torch, name)(x, dim=_torch_dims(axis, x.ndim), correction=0,
                                               keepdim=keep))
    if name == "max":
        return (lambda x: dg.max(x, axis, keepdims=keep),
                lambda x: torch.amax(x, dim=_torch_dims(axis, x.ndim), keepdim=keep))
    if name == "prod":
        return (lambda x: dg.prod(x, axis, keepdims=keep),
                lambda x: torch.prod(x, dim=axis, keepdim=keep))
    return (lambda x: getattr(dg, name)(x, axis, keepdims=keep),
            lambda x: getattr(torch, name)(x, dim=_torch_dims(axis, x.ndim), keepdim=keep))


def _along_axis(draw, ndim):
    name = draw(st.sampled_from(["softmax", "log_softmax", "cumsum"]))
    axis = _axis(draw, ndim)
    return (lambda x: getattr(dg, name)(x, axis), lambda x: getattr(torch, name)(x, dim=axis))


def _permutation(draw, ndim):
    perm = draw(st.permutations(range(ndim)))
    axes = tuple(a - ndim if draw(st.booleans()) else a for a in perm)
    return (lambda x: dg.transpose(x, axes=axes), lambda x: x.permute(*axes))


def _reshape_or_index(draw, shape):
    kind = draw(st.sampled_from(["flatten", "reverse_shape", "slice", "gather", "join", "pad",
                                 "tile", "repeat"]))
    ndim = len(shape)
    if kind == "gather":  # integer index tensor, repeats allowed: the gradient scatter-adds
        index = draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=4))
        return (lambda x: x[dg.tensor(index)], lambda x: x[torch.tensor(index)])
    if kind == "join":
        axis, stack = draw(st.integers(-ndim, ndim - 1)), draw(st.booleans())
        if stack:
            return (lambda x: dg.stack([x, x * 2.0], axis),
                    lambda x: torch.stack([x, x * 2.0], axis))
        return (lambda x: dg.concatenate([x, x * 2.0], axis),
                lambda x: torch.cat([x, x * 2.0], axis))
    if kind == "flatten":
        return lambda x: x.reshape(-1), lambda x: x.reshape(-1)
    if kind == "reverse_shape":
        new = shape[::-1]
        return lambda x: x.reshape(new), lambda x: x.reshape(new)
    if kind == "slice":
        axis = _axis(draw, ndim)
        index = (slice(None),) * (axis % ndim) + (slice(1, None),)
        assume(shape[axis] > 1)
        return lambda x: x[index], lambda x: x[index]
    if kind == "pad":
        widths = [(draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in shape]
        flat = [w for pair in reversed(widths) for w in pair]
        return lambda x: dg.pad(x, widths), lambda x: F.pad(x, flat)
    if kind == "tile":
        reps = tuple(draw(st.integers(1, 2)) for _ in shape)
        return lambda x: dg.tile(x, reps), lambda x: x.repeat(*reps)
    axis = _axis(draw, ndim)
    return (lambda x: dg.repeat(x, 2, axis=axis),
            lambda x: torch.repeat_interleave(x, 2, dim=axis))


def _broadcast_shape(draw, shape):
    """A shape that broadcasts against ``shape``: leading axes dropped, some set to 1."""
    kept = shape[draw(st.integers(0, len(shape))):]
    return tuple(1 if draw(st.booleans()) else n for n in kept)


def _binary(draw, shape):
    name = draw(st.sampled_from(["add", "mul", "div", "maximum", "minimum", "where", "einsum"]))
    if name == "einsum":
        letters = "abcdefgh"[:len(shape)]
        out = "".join(draw(st.permutations(letters))[:draw(st.integers(0, len(shape)))])
        spec = f"{letters},{letters}->{out}"
        return shape, (lambda x, y: dg.einsum(spec, x, y),
                       lambda x, y: torch.einsum(spec, x, y))
    other = _broadcast_shape(draw, shape)
    if name == "div":
        return other, (lambda x, y: x / (y * y + 1.0), lambda x, y: x / (y * y + 1.0))
    if name == "where":
        return other, (lambda x, y: dg.where(condition=x.data > 0, x=x, y=y),
                       lambda x, y: torch.where(x > 0, x, y))
    ours = {"add": lambda x, y: x + y, "mul": lambda x, y: x * y,
            "maximum": dg.maximum, "minimum": dg.minimum}[name]
    theirs = {"add": lambda x, y: x + y, "mul": lambda x, y: x * y,
              "maximum": torch.maximum, "minimum": torch.minimum}[name]
    return other, (ours, theirs)


def _step(draw, shape):
    """(ours, torch's, second leaf shape or None) for one step applied to ``shape``."""
    kinds = ["unary", "reduction"]
    if shape:
        kinds += ["along_axis", "permutation", "reshape", "binary"]
    if len(shape) >= 2:
        kinds += ["triangle", "matmul"]
    kind = draw(st.sampled_from(kinds))
    if kind == "unary":
        return (*UNARY[draw(st.sampled_from(sorted(UNARY)))], None)
    if kind == "reduction":
        return (*_reduction(draw, len(shape)), None)
    if kind == "along_axis":
        return (*_along_axis(draw, len(shape)), None)
    if kind == "permutation":
        return (*_permutation(draw, len(shape)), None)
    if kind == "reshape":
        return (*_reshape_or_index(draw, shape), None)
    if kind == "triangle":
        name, k = draw(st.sampled_from(["tril", "triu"])), draw(st.integers(-1, 1))
        return (lambda x: getattr(dg, name)(x, k), lambda x: getattr(torch, name)(x, k), None)
    if kind == "matmul":
        return (lambda x, y: x @ y, lambda x, y: x @ y, (shape[-1], 2))
    other, (ours, theirs) = _binary(draw, shape)
    return ours, theirs, other


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.data())
def test_random_graphs_have_torchs_gradients(data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    shape = tuple(draw(st.lists(st.integers(1, 3), max_size=3)))
    leaves = [rng.uniform(-2, 2, size=shape)]
    ours = dg.tensor(leaves[0], requires_grad=True)
    ours_leaves, steps = [ours], []
    for _ in range(draw(st.integers(1, 4))):
        f, g, other = _step(draw, ours.shape)
        if other is None:
            ours = f(ours)
        else:
            leaves.append(rng.uniform(-2, 2, size=other))
            ours_leaves.append(dg.tensor(leaves[-1], requires_grad=True))
            ours = f(ours, ours_leaves[-1])
        steps.append((g, other is not None))
        assume(np.all(np.isfinite(ours.data)) and ours.size <= 500)
    theirs_leaves = [torch.tensor(a, requires_grad=True) for a in leaves]
    theirs, k = theirs_leaves[0], 1
    for g, binary in steps:
        theirs = g(theirs, theirs_leaves[k]) if binary else g(theirs)
        k += binary
    seed = rng.normal(size=ours.shape)
    (ours * dg.tensor(seed)).sum().backward()
    (theirs * torch.tensor(seed)).sum().backward()
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12,
                               err_msg="forward: ours vs torch")
    for i, (x, t) in enumerate(zip(ours_leaves, theirs_leaves)):
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-9, atol=1e-10,
                                   err_msg=f"∂/∂leaf {i}: ours vs torch")
