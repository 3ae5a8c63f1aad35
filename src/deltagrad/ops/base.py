"""Primitive: one forward computation on ndarrays and its vector-Jacobian products, side by side.

A VJP for argument ``i`` is a function ``vjp(g, ans, *inputs, **params)`` that returns
``∂E/∂input_i`` given ``g = ∂E/∂ans``. VJPs are written with operators, numpy-style methods
(``.sum``, ``.reshape``, ``.T``, ``@``) and deltagrad's ops, so that the same code runs

* on plain ndarrays in an ordinary backward pass (as fast as hand-written NumPy), and
* on Tensors when ``create_graph=True``, recording a differentiable graph of the gradient.

VJPs never think about broadcasting: the backward pass sums each gradient back to its
input's shape in one place (``autograd.sum_to_shape``).
"""

from __future__ import annotations

import itertools

import numpy as np

from .. import _state
from ..tensor import Tensor

REGISTRY: dict[str, Primitive] = {}

# How a primitive treats integer and boolean data: the one policy of every op (and the layers
# follow it, ``nn.module.layer_input``). A result is never computed in integers when the
# mathematics is not integer: softplus of 0 is ln 2, not 0.
KEEP = "keep"  # structure and selection (reshape, getitem, where, max, relu): any dtype passes
EXACT = "exact"  # integer arithmetic stays exact integers (+, −, ×, Σ, as NumPy and PyTorch);
#                  booleans are the numbers 0 and 1 here, not logical or/and
FLOAT = "float"  # every other primitive computes in floating point: integer and boolean inputs
#                  become the dtype of the float operands (the default float dtype if none)
_INTEGER_POLICIES = (KEEP, EXACT, FLOAT)
_creation_counter = itertools.count()  # orders recorded nodes: parents before children


class Primitive:
    """A differentiable primitive operation.

    Args:
        name: unique name, used in the registry and in ``Tensor.op``.
        forward: ``forward(*arrays, **params) -> ndarray``.
        vjps: one VJP per array argument (``None`` where no gradient flows, e.g. a target),
            or, for a variadic primitive, a function ``i -> vjp``.
        differentiable_twice: ``False`` for fused primitives whose VJP is raw NumPy.
        integers: how integer and boolean inputs are treated, ``FLOAT`` (converted to
            floats, the default), ``EXACT`` (integers kept, booleans converted) or ``KEEP``.
        integer_args: the indices of arguments that are integers by nature (labels, the
            arg-max of a window): kept whatever ``integers`` says.
        joint_vjp: optionally, all the VJPs at once for a plain backward pass,
            ``joint_vjp(g, ans, needed, *inputs, **params) -> [gradient or None per input]``
            (``needed[i]``: whether input i wants one; None wherever it does not), for a
            fused primitive whose VJPs share work; it must give what ``vjps`` give (tests
            compare them), and ``vjps`` still serve ``create_graph=True``.
    """

    def __init__(self, name, forward, vjps, differentiable_twice: bool = True,
                 joint_vjp=None, integers: str = FLOAT, integer_args: tuple = ()):
        if name in REGISTRY:
            raise ValueError(f"primitive {name!r} is already registered")
        if integers not in _INTEGER_POLICIES:
            raise ValueError(f"primitive {name!r}: integers must be one of "
                             f"{_INTEGER_POLICIES}, got {integers!r}")
        self.integers = integers
        self.converts = integers != KEEP  # whether integer data can need converting
        self.integer_args = frozenset(integer_args)
        self.name = name
        self.forward = forward
        self._vjps = vjps
        self.differentiable_twice = differentiable_twice
        self.joint_vjp = joint_vjp
        REGISTRY[name] = self

    def vjp(self, i: int):
        """The VJP function for argument ``i``."""
        if callable(self._vjps):
            return self._vjps(i)
        return self._vjps[i]

    def __call__(self, *args, **params) -> Tensor:
        return apply(self, args, params)

    def __repr__(self) -> str:
        return f"Primitive({self.name!r})"


class Saved:
    """What a fused primitive's forward keeps beyond its inputs and output (the states of a
    recurrent sequence for BPTT, the hidden outputs z^(l) of a dense stack), and the deltas of
    its backward pass, computed once per incoming gradient ``g`` and shared by every input's
    VJP. Passed as the primitive's ``saved=Saved()`` parameter: one per recorded node."""

    def __init__(self):
        self.buffers = {}
        self._for = None
        self.deltas = None

    def deltas_for(self, g, compute, needed: tuple = ()):
        """``compute()`` once per incoming gradient ``g`` (and per ``needed``: which inputs
        want a gradient, when the result depends on that), shared by the inputs' VJPs."""
        if self._for is None or self._for[0] is not g or self._for[1] != needed:
            self.deltas = compute()
            self._for = (g, needed)
        return self.deltas


def _reference_dtype(args):
    """The float dtype that Python-number operands should take (numbers are 'weak')."""
    for a in args:
        data = a.data if isinstance(a, Tensor) else a
        if isinstance(data, np.ndarray) and data.dtype.kind == "f":
            return data.dtype
    return None


def _to_tensor(value, dtype) -> Tensor:
    """Wrap a constant operand; Python numbers take the dtype of the tensor operands."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (bool, int, float)) and not isinstance(value, np.ndarray):
        return Tensor._wrap(np.asarray(value, dtype=dtype or _state.default_dtype))
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"expected a Tensor, number or numeric array, got "
                        f"{type(value).__name__} of dtype {array.dtype}")
    return Tensor._wrap(array)


def apply(prim: Primitive, args, params, conformed: bool = False) -> Tensor:
    """Run ``prim`` forward and, if any input needs a gradient, record the node.
    (``conformed``: the arguments are Tensors that already follow ``prim.integers``.)"""
    needs_grad = False
    datas = []
    for a in args:
        # a number or an array, or integer data that the policy may convert: conform first
        if not isinstance(a, Tensor) or (
                prim.converts and not conformed and a.data.dtype.kind in "biu"):
            return _apply_conformed(prim, args, params)
        datas.append(a.data)
        if a.requires_grad:
            needs_grad = True
    out_data = prim.forward(*datas, **params)
    if type(out_data) is not np.ndarray:
        out_data = np.asarray(out_data)
    out = Tensor._wrap(out_data)
    if needs_grad and _state.grad_mode.enabled:
        out.requires_grad = True
        out._op = prim
        out._parents = args
        out._params = params
        out._seq = next(_creation_counter)
    if _state.tracer is not None:  # deltagrad.compile is recording a step
        _state.tracer.forward(prim, args, params, out)
    return out


def as_floats(t: Tensor, dtype=None) -> Tensor:
    """``t`` itself if it holds floats; integer or boolean data converted to ``dtype`` (default:
    the default float dtype), as every primitive of policy ``FLOAT`` converts its inputs."""
    if t.data.dtype.kind in "biu":
        return Tensor._wrap(t.data.astype(dtype or _state.default_dtype))
    return t


def _apply_conformed(prim: Primitive, args, params) -> Tensor:
    """Wrap the constants, convert integer data as ``prim.integers`` says, then apply."""
    dtype = _reference_dtype(args)
    tensors = []
    for i, a in enumerate(args):
        t = a if isinstance(a, Tensor) else _to_tensor(a, dtype)
        kind = t.data.dtype.kind
        if kind in "biu" and i not in prim.integer_args and (
                prim.integers == FLOAT or prim.integers == EXACT and kind == "b"):
            t = as_floats(t, dtype)
        tensors.append(t)
    return apply(prim, tuple(tensors), params, conformed=True)


def recorded(function):
    """Mark ``function`` as a source of arrays that a compiled step must call again at every
    replay rather than keep (random numbers: Dropout's mask; arrays made from the arguments),
    in the order eager calls it. A function that returns None is an update replayed for its
    effect (a layer's running statistics): any NumPy work a layer does on its own state outside
    the primitives must go through one, or a replay would skip it.

    Example:
        >>> import numpy as np
        >>> from deltagrad.ops.base import recorded
        >>> draw = recorded(lambda rng, n: rng.random(n))
        >>> draw(np.random.default_rng(0), 2).shape
        (2,)
    """
    def call(*args, **kwargs):
        out = function(*args, **kwargs)
        if _state.tracer is not None:
            _state.tracer.source(function, args, kwargs, out)
        return out
    call.__name__ = getattr(function, "__name__", "recorded")
    call.__doc__ = function.__doc__
    return call


def polymorphic(prim: Primitive):
    """``prim`` for use inside VJPs: ndarrays in → ndarray out (a plain backward pass stays
    raw NumPy); any Tensor in → the recorded Tensor op (``create_graph=True``)."""
    def call(*args, **params):
        for a in args:
            if isinstance(a, Tensor):
                return apply(prim, args, params)
        return prim.forward(*args, **params)
    call.__name__ = prim.name
    call.__doc__ = f"Polymorphic {prim.name!r} for VJPs (ndarray → ndarray, Tensor → Tensor)."
    return call


def values(a):
    """The ndarray behind ``a`` (a Tensor's ``.data``; an ndarray or number as it is): for masks
    and index arithmetic that carry no gradient."""
    return a.data if isinstance(a, Tensor) else a


def normalise_axes(axis, ndim: int, op: str) -> tuple:
    """``axis`` (None, an int or a sequence of ints) as a sorted tuple of non-negative axes.

    NumPy's rules: ``-ndim <= axis < ndim``; a 0-d array accepts ``0`` and ``-1`` and has
    nothing to reduce over (the result is ``()``). ``None`` means every axis.
    """
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int and -ndim <= axis < ndim:  # the common case, checked quickly
        return (axis % ndim,)
    axes = (axis,) if _is_int(axis) else axis
    if not isinstance(axes, (tuple, list)) or not all(_is_int(a) for a in axes):
        raise TypeError(f"{op}(): axis must be None, an int or a tuple of ints, got {axis!r}")
    low, high = (-1, 1) if ndim == 0 else (-ndim, ndim)
    for a in axes:
        if not low <= a < high:
            raise ValueError(f"{op}(): axis {a} is out of range for a tensor with {ndim} "
                             f"dimensions (expected {low} … {high - 1})")
    out = tuple(sorted({int(a) % ndim for a in axes})) if ndim else ()
    if len(out) != len(axes) and ndim:
        raise ValueError(f"{op}(): axis {axis!r} repeats an axis")
    return out


def normalise_axis(axis, ndim: int, op: str) -> int:
    """One axis as a non-negative int (``-ndim <= axis < ndim``), for ops along one axis."""
    if not _is_int(axis):
        raise TypeError(f"{op}(): axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op}(): axis {axis} is out of range for a tensor with {ndim} "
                         f"dimensions (expected {-ndim} … {ndim - 1})")
    return int(axis) % ndim


def normalise_permutation(axes, ndim: int, op: str) -> tuple:
    """A permutation of ``range(ndim)`` with negative entries made non-negative."""
    if not isinstance(axes, (tuple, list)) or not all(_is_int(a) for a in axes):
        raise TypeError(f"{op}(): axes must be a tuple of ints, got {axes!r}")
    perm = tuple(normalise_axis(a, ndim, op) for a in axes) if len(axes) == ndim else None
    if perm is None or sorted(perm) != list(range(ndim)):
        raise ValueError(f"{op}(): axes {tuple(axes)} is not a permutation of the {ndim} axes")
    return perm


def ndim_of(x) -> int:
    """Number of dimensions of a Tensor, ndarray or number."""
    return x.ndim if isinstance(x, (Tensor, np.ndarray)) else np.ndim(x)


def _is_int(a) -> bool:
    return isinstance(a, (int, np.integer)) and not isinstance(a, bool)
