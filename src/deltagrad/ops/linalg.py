"""Matrix products: ``matmul``, ``einsum`` and the fused layer primitive ``linear``
(eq. 1.2, 3.10–3.11)."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .base import Primitive, polymorphic
from .elementwise import _expit, relu, sigmoid, step, tanh
from .shape import broadcast_to


def _matmul_vjp_a(g, ans, a, b):
    if b.ndim == 1:  # (..., n, k) @ (k,) -> (..., n)
        return g.reshape(g.shape + (1,)) * b
    if a.ndim == 1:  # (k,) @ (..., k, m) -> (..., m)
        return (b @ g.reshape(g.shape + (1,))).reshape(g.shape[:-1] + (b.shape[-2],))
    return g @ b.swapaxes(-1, -2)


def _matmul_vjp_b(g, ans, a, b):
    if a.ndim == 1 and b.ndim == 1:
        return g * a
    if a.ndim == 1:  # (k,) @ (..., k, m): dB[..., k, m] = a_k g[..., m]
        return a.reshape((-1, 1)) * g.reshape(g.shape[:-1] + (1, g.shape[-1]))
    if b.ndim == 1:  # (..., n, k) @ (k,): dB_k = Σ_n a[..., n, k] g[..., n]
        return a * g.reshape(g.shape + (1,))
    return a.swapaxes(-1, -2) @ g


def _linear_forward(x, w, b=None):
    out = x @ w.T
    if b is not None:
        out += b
    return out


def _linear_vjp_x(g, ans, x, w, b=None):
    """∂E/∂z_i = Σ_j w_ji δ_j: the sum inside rule 2 (eq. 3.10)."""
    return g @ w


def _linear_vjp_w(g, ans, x, w, b=None):
    """∂E/∂w_ji = Σ_n δ_j z_i (rule 3, eq. 3.11), summed over the patterns.

    Computed in the memory layout of ``w`` (column-major for ``nn.Linear``), so that the
    optimiser's in-place update never mixes layouts (which is many times slower).
    """
    if x.ndim != 2:
        g, x = g.reshape((-1, w.shape[0])), x.reshape((-1, w.shape[1]))
    if type(w) is np.ndarray and w.flags.f_contiguous and not w.flags.c_contiguous:
        return (x.T @ g).T
    return g.T @ x


def _linear_vjp_b(g, ans, x, w, b=None):
    """∂E/∂w_j0 = Σ_n δ_j (the bias input is z_0 = 1)."""
    if g.ndim == 1:
        return g
    if g.ndim == 2:
        return g.sum(axis=0)
    return g.reshape((-1, w.shape[0])).sum(axis=0)


matmul = Primitive("matmul", np.matmul, (_matmul_vjp_a, _matmul_vjp_b))
linear = Primitive("linear", _linear_forward, (_linear_vjp_x, _linear_vjp_w, _linear_vjp_b))


# ---- dense: a fully connected layer and its activation, z = h(x Wᵀ + b), in one node ----------
def _in_place(function):
    return lambda a: function(a, out=a)


DENSE_ACTIVATIONS = {  # h applied in place to a, and the primitive whose VJP gives h'
    "identity": (lambda a: a, None),
    "tanh": (_in_place(np.tanh), tanh),
    "sigmoid": (lambda a: _expit(a, out=a), sigmoid),
    "relu": (lambda a: np.maximum(a, 0, out=a), relu),
    "step": (lambda a: (a >= 0).astype(a.dtype), step),
}


def _dense_forward(x, w, b=None, activation="identity"):
    return DENSE_ACTIVATIONS[activation][0](_linear_forward(x, w, b))


def _dense_delta(g, z, activation: str):
    """δ_j = h'(a_j) ∂E/∂z_j: rule 2's factor (eq. 3.10), by the activation primitive's own
    VJP, which reads h' from the output z (1 − z² for tanh; the sign of z is that of a for
    ReLU and step), exactly as the unfused backward pass applies it."""
    primitive = DENSE_ACTIVATIONS[activation][1]
    return g if primitive is None else primitive.vjp(0)(g, z, z)


def _dense_vjp(linear_vjp):
    return lambda g, ans, x, w, b=None, activation="identity": linear_vjp(
        _dense_delta(g, ans, activation), ans, x, w, b)


def _dense_joint_vjp(g, ans, needed, x, w, b=None, activation="identity"):
    """Rules 2 and 3 (eq. 3.10–3.11) with δ computed once for the three inputs."""
    delta = _dense_delta(g, ans, activation)
    vjps = (_linear_vjp_x, _linear_vjp_w, _linear_vjp_b)
    return [vjp(delta, ans, x, w, b) if want else None for vjp, want in zip(vjps, needed)]


dense = Primitive("dense", _dense_forward,
                  (_dense_vjp(_linear_vjp_x), _dense_vjp(_linear_vjp_w),
                   _dense_vjp(_linear_vjp_b)), joint_vjp=_dense_joint_vjp)


def _einsum_vjp(i: int):
    """∂/∂operand_i of ``einsum(spec, *ops)`` is einsum with the output's letters and the
    other operands, back to operand i's letters; a letter only operand i has (summed away)
    is broadcast back."""
    def vjp(g, ans, *operands, inputs, output):
        others = [s for k, s in enumerate(inputs) if k != i]
        present = set(output).union(*others)
        kept = "".join(c for c in inputs[i] if c in present)
        spec = ",".join([output, *others]) + "->" + kept
        gi = _einsum(*([g] + [x for k, x in enumerate(operands) if k != i]), spec=spec)
        if kept == inputs[i]:
            return gi
        shape = tuple(n if c in present else 1 for c, n in zip(inputs[i], operands[i].shape))
        return _broadcast_to(gi.reshape(shape), shape=operands[i].shape)
    return vjp


_einsum_primitive = Primitive(
    "einsum", lambda *xs, inputs, output: np.einsum(",".join(inputs) + "->" + output, *xs),
    _einsum_vjp)
_broadcast_to = polymorphic(broadcast_to)


def _einsum(*operands, spec: str):
    """``einsum`` for VJPs: ndarrays in → ndarray out, any Tensor → recorded op."""
    inputs, output = spec.split("->")
    return polymorphic(_einsum_primitive)(*operands, inputs=tuple(inputs.split(",")),
                                          output=output)


def _parse_subscripts(subscripts: str, count: int) -> tuple:
    """``"ij,jk->ik"`` → (("ij", "jk"), "ik"); implicit output: the letters used once, sorted
    (NumPy's rule)."""
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum(): subscripts must be a string, got {type(subscripts).__name__}")
    spec = subscripts.replace(" ", "")
    lhs, arrow, output = spec.partition("->")
    inputs = tuple(lhs.split(","))
    letters = "".join(inputs)
    if "." in spec or not all(c.isalpha() for c in letters + output):
        raise ValueError(f"einsum(): subscripts {subscripts!r} may hold only letters, commas "
                         "and '->' (no ellipsis)")
    if len(inputs) != count:
        raise ValueError(f"einsum(): subscripts {subscripts!r} name {len(inputs)} operands, "
                         f"got {count}")
    for s in inputs + (output,):
        if len(set(s)) != len(s):
            raise ValueError(f"einsum(): {s!r} in {subscripts!r} repeats an index (traces and "
                             "diagonals are not supported)")
    if not arrow:
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    if not set(output) <= set(letters):
        raise ValueError(f"einsum(): output {output!r} names an index no operand has")
    return inputs, output


def einsum(subscripts: str, *operands) -> Tensor:
    """Einstein summation as ``np.einsum``, e.g. ``"bhqd,bhkd->bhqk"`` (attention scores) or
    ``"i,ij,j->"`` (a bilinear form). Each operand's letters name its axes; the output keeps
    the letters after ``->`` and sums the rest. No index may repeat within one operand.

    The VJP with respect to each operand is itself an einsum (so it differentiates twice).

    Example:
        >>> import deltagrad as dg
        >>> x = dg.tensor([1.0, 2.0], requires_grad=True)
        >>> A = dg.tensor([[1.0, 0.0], [3.0, 1.0]])
        >>> dg.einsum("i,ij,j->", x, A, x).backward()  # xᵀAx: gradient (A + Aᵀ)x
        >>> x.grad
        array([8., 7.])
    """
    inputs, output = _parse_subscripts(subscripts, len(operands))
    for k, (s, x) in enumerate(zip(inputs, operands)):
        ndim = x.ndim if isinstance(x, Tensor) else np.ndim(x)
        if len(s) != ndim:
            raise ValueError(f"einsum(): operand {k} has {ndim} dimensions but subscripts "
                             f"{s!r} name {len(s)}")
    return _einsum_primitive(*operands, inputs=inputs, output=output)
