"""Matrix products: ``matmul``, ``einsum`` and the fused layer primitive ``linear``
(eq. 1.2, 3.10–3.11)."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .base import Primitive, Saved, polymorphic, values
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
    if type(w) is np.ndarray and w.strides[0] < w.strides[1]:  # column-major
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


DENSE_ACTIVATIONS = {  # h applied in place to a, and the VJP of the primitive h (gives h')
    "identity": (lambda a: a, None),
    "tanh": (_in_place(np.tanh), tanh.vjp(0)),
    "sigmoid": (lambda a: _expit(a, out=a), sigmoid.vjp(0)),
    "relu": (lambda a: np.maximum(a, 0, out=a), relu.vjp(0)),
    "step": (lambda a: (a >= 0).astype(a.dtype), step.vjp(0)),
}


def _dense_forward(x, w, b=None, activation="identity"):
    return DENSE_ACTIVATIONS[activation][0](_linear_forward(x, w, b))


def _dense_delta(g, z, activation: str):
    """δ_j = h'(a_j) ∂E/∂z_j: rule 2's factor (eq. 3.10), by the activation primitive's own
    VJP, which reads h' from the output z (1 − z² for tanh; the sign of z is that of a for
    ReLU and step), exactly as the unfused backward pass applies it."""
    activation_vjp = DENSE_ACTIVATIONS[activation][1]
    return g if activation_vjp is None else activation_vjp(g, z, z)


def _dense_vjp(linear_vjp):
    return lambda g, ans, x, w, b=None, activation="identity": linear_vjp(
        _dense_delta(g, ans, activation), ans, x, w, b)


def _dense_joint_vjp(g, ans, needed, x, w, b=None, activation="identity"):
    """Rules 2 and 3 (eq. 3.10–3.11) with δ computed once: [∂E/∂x, ∂E/∂w, ∂E/∂b] (None where
    not needed; ``needed`` has two entries when there is no b)."""
    delta = _dense_delta(g, ans, activation)
    return [_linear_vjp_x(delta, ans, x, w) if needed[0] else None,
            _linear_vjp_w(delta, ans, x, w) if needed[1] else None,
            _linear_vjp_b(delta, ans, x, w) if len(needed) > 2 and needed[2] else None]


dense = Primitive("dense", _dense_forward,
                  (_dense_vjp(_linear_vjp_x), _dense_vjp(_linear_vjp_w),
                   _dense_vjp(_linear_vjp_b)), joint_vjp=_dense_joint_vjp)


# ---- dense_stack: every layer of an MLP, z^(l) = h_l(z^(l−1) W_lᵀ + b_l), in one node ----------
# ``layout`` holds, per layer, (activation, index of w, index of b or None) into the node's
# inputs (x, w_1, b_1, w_2, …); biases are optional, so the indices are not fixed strides.

def _stack_forward(*inputs, layout, saved):
    """The layers one after another (eq. 1.5 for any depth), each as ``dense`` computes it;
    keeps z^(0) = x, z^(1), …, z^(L−1) (each layer's input) in ``saved`` for the backward."""
    zs = [inputs[0]]
    for activation, w, b in layout:
        zs.append(_dense_forward(zs[-1], inputs[w], None if b is None else inputs[b],
                                 activation))
    saved.buffers["z"] = zs[:-1]
    return zs[-1]


def _stack_backward(g, ans, needed, inputs, zs, layout):
    """Backpropagation through the stack (eq. 3.10–3.11), layer L down to 1, each layer by
    ``dense``'s own joint VJP; returns a gradient (or None where not needed) per input.

    Written with operators, so it runs on ndarrays (a plain backward pass) and on Tensors
    (``create_graph=True``) alike."""
    grads = [None] * len(inputs)
    last = len(layout) - 1
    for l in range(last, -1, -1):
        activation, w, b = layout[l]
        want = (l > 0 or needed[0], needed[w], b is not None and needed[b])
        g, grads[w], db = _dense_joint_vjp(g, ans if l == last else zs[l + 1], want, zs[l],
                                           inputs[w], None if b is None else inputs[b],
                                           activation)
        if b is not None:
            grads[b] = db
    grads[0] = g
    return grads


def _stack_joint_vjp(g, ans, needed, *inputs, layout, saved):
    return _stack_backward(g, ans, needed, inputs, saved.buffers["z"], layout)


def _stack_vjp(i: int):
    """For ``create_graph=True``: the stack is run again on the input Tensors, layer by layer
    as recorded ``dense`` nodes, so that the hidden outputs depend on the weights in the
    graph of the gradient (second derivatives need that); one backward pass through them
    serves every input's VJP."""
    def vjp(g, ans, *inputs, layout, saved):
        needed = tuple(t.requires_grad for t in inputs)

        def backward():
            zs = [inputs[0]]
            for activation, w, b in layout:
                weights = (inputs[w],) if b is None else (inputs[w], inputs[b])
                zs.append(dense(zs[-1], *weights, activation=activation))
            return _stack_backward(g, zs[-1], needed, inputs, zs[:-1], layout)
        return saved.deltas_for(g, backward, needed)[i]
    return vjp


dense_stack_primitive = Primitive("dense_stack", _stack_forward, _stack_vjp,
                                  joint_vjp=_stack_joint_vjp)


class StackLayout:
    """The layers of a ``dense_stack``, checked and flattened once: ``weights`` the node's
    inputs after x (w_1, b_1, w_2, …) and ``layout`` per layer (activation, index of w, index of
    b or None) into (x, *weights). A network builds it once and reuses it at every call.

    Args:
        layers: a sequence of ``(w, b, activation)``, ``b`` None for a layer without biases,
            ``activation`` one of ``dense``'s (identity, tanh, sigmoid, relu, step); w of layer
            l has shape (D_l, D_{l−1}) and b shape (D_l,).
    """

    def __init__(self, layers):
        weights, layout, width = [], [], None
        for l, layer in enumerate(layers, start=1):
            w, b, activation = _checked_layer(l, layer, width)
            width = np.shape(values(w))[0]
            w_index, b_index = len(weights) + 1, None if b is None else len(weights) + 2
            weights += [w] if b is None else [w, b]
            layout.append((activation, w_index, b_index))
        if not layout:
            raise ValueError("dense_stack(): needs at least one layer")
        dtypes = sorted({str(np.asarray(values(t)).dtype) for t in weights})
        if len(dtypes) > 1:
            raise TypeError(f"dense_stack(): the weights must share one dtype, got {dtypes}")
        self.weights, self.layout = tuple(weights), tuple(layout)
        self.in_features = np.shape(values(weights[0]))[1]


def _checked_layer(l: int, layer, width) -> tuple:
    """Layer l as (w, b, activation), or a clear error; ``width`` is layer l − 1's D_{l−1}."""
    if not isinstance(layer, (tuple, list)) or len(layer) != 3:
        what = (f"a {type(layer).__name__} of {len(layer)}" if isinstance(layer, (tuple, list))
                else f"a {type(layer).__name__}")
        raise TypeError(f"dense_stack(): layer {l} must be a triple (w, b, activation), got "
                        f"{what}")
    w, b, activation = layer
    if not isinstance(activation, str) or activation not in DENSE_ACTIVATIONS:
        raise ValueError(f"dense_stack(): layer {l}'s activation {activation!r} is not one of "
                         f"{sorted(DENSE_ACTIVATIONS)}")
    shape = np.shape(values(w))
    if len(shape) != 2:
        raise ValueError(f"dense_stack(): layer {l}'s w must be a matrix (D_l, D_l−1), got "
                         f"shape {shape}")
    if width is not None and shape[1] != width:
        raise ValueError(f"dense_stack(): layer {l}'s w has shape {shape}, so it takes "
                         f"{shape[1]} inputs, but layer {l - 1} gives {width}")
    if b is not None and np.shape(values(b)) != shape[:1]:
        raise ValueError(f"dense_stack(): layer {l}'s b must have shape {shape[:1]} (one bias "
                         f"per unit), got {np.shape(values(b))}")
    return w, b, activation


def dense_stack(x, layers) -> Tensor:
    """Every layer of an MLP as one node: ``layers`` is a sequence of ``(w, b, activation)``
    or a :class:`StackLayout` of them. Gives what the chain of ``dense`` nodes gives, to the
    bit, with one node for the backward pass; differentiates twice.

    Shapes: ``x`` (N, D_0); ``w`` of layer l (D_l, D_{l−1}), ``b`` (D_l,); output (N, D_L).

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> w1, w2 = dg.tensor(np.ones((3, 2)), requires_grad=True), dg.tensor(np.ones((1, 3)))
        >>> y = dg.ops.dense_stack(np.array([[0.5, -0.5]]), [(w1, None, "tanh"),
        ...                                                  (w2, None, "identity")])
        >>> y.op, y.shape
        ('dense_stack', (1, 1))
    """
    if not isinstance(layers, StackLayout):
        layers = StackLayout(layers)
    if not isinstance(x, Tensor):
        try:
            x = Tensor(x)
        except TypeError as err:
            raise TypeError(f"dense_stack(): x: {err}") from None
    shape = x.shape
    if not shape or shape[-1] != layers.in_features:
        raise ValueError(f"dense_stack(): x has shape {shape}, but layer 1 takes "
                         f"{layers.in_features} input features (x of shape (N, "
                         f"{layers.in_features}))")
    return dense_stack_primitive(x, *layers.weights, layout=layers.layout, saved=Saved())


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
