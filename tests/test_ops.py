"""Every primitive in the op registry: backward against central differences (float64),
over shape families: scalar, vector, matrix, broadcast, each reduction axis, slicing."""

import numpy as np
import pytest

import deltagrad as dg
from deltagrad import ops


def _positive(shape):
    return lambda rng: rng.uniform(0.5, 2.0, size=shape)


def _normal(shape):
    return lambda rng: rng.normal(size=shape)


def _away_from_zero(shape):
    """Values with |x| ≥ 0.2 so that relu/step are differentiable at every sample."""
    def make(rng):
        x = rng.uniform(0.2, 2.0, size=shape)
        return x * rng.choice([-1.0, 1.0], size=shape)
    return make


def _distinct(shape):
    """Distinct values so that max has a unique arg-max."""
    def make(rng):
        n = int(np.prod(shape))
        return (rng.permutation(n) * 0.37 + rng.uniform(0, 0.1, size=n)).reshape(shape)
    return make


def _targets(shape):
    return lambda rng: rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])


SHAPES = [(), (4,), (3, 4)]
BROADCAST = [((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((), (3,))]

_MASK = np.array([[True, True, False, True], [True, False, False, False]])  # (N, T) steps taken

# name -> list of (function of tensors, input makers)
CASES = {
    "add": [(lambda x, y: x + y, [_normal(a), _normal(b)]) for a, b in BROADCAST]
    + [(lambda x: x + 2.0, [_normal((3,))])],
    "sub": [(lambda x, y: x - y, [_normal(a), _normal(b)]) for a, b in BROADCAST]
    + [(lambda x: 1.0 - x, [_normal((3,))])],
    "mul": [(lambda x, y: x * y, [_normal(a), _normal(b)]) for a, b in BROADCAST],
    "div": [(lambda x, y: x / y, [_normal(a), _positive(b)]) for a, b in BROADCAST]
    + [(lambda y: 1.0 / y, [_positive((3,))])],
    "neg": [(lambda x: -x, [_normal(s)]) for s in SHAPES],
    "pow": [(lambda x: x ** 3, [_normal(s)]) for s in SHAPES]
    + [(lambda x, p: x ** p, [_positive((3, 4)), _normal((4,))]),
       (lambda p: 2.0 ** p, [_normal((3,))])],
    "exp": [(dg.exp, [_normal(s)]) for s in SHAPES],
    "log": [(dg.log, [_positive(s)]) for s in SHAPES],
    "tanh": [(ops.tanh, [_normal(s)]) for s in SHAPES],
    "sigmoid": [(ops.sigmoid, [_normal(s)]) for s in SHAPES],
    "relu": [(ops.relu, [_away_from_zero(s)]) for s in SHAPES],
    "step": [(lambda x: ops.step(x) * x, [_away_from_zero(s)]) for s in SHAPES],
    "where": [(lambda x, y: dg.where(x.data > 0, x, y), [_normal((3, 4)), _normal((4,))])],
    "astype": [(lambda x: x.astype("float64") * x, [_normal((3,))])],
    "matmul": [
        (lambda a, b: a @ b, [_normal((3, 4)), _normal((4, 2))]),
        (lambda a, b: a @ b, [_normal((4,)), _normal((4, 2))]),
        (lambda a, b: a @ b, [_normal((3, 4)), _normal((4,))]),
        (lambda a, b: a @ b, [_normal((4,)), _normal((4,))]),
        (lambda a, b: a @ b, [_normal((2, 3, 4)), _normal((4, 2))]),
    ],
    "linear": [
        (ops.linear, [_normal((5, 3)), _normal((2, 3)), _normal((2,))]),
        (ops.linear, [_normal((3,)), _normal((2, 3)), _normal((2,))]),
        (ops.linear, [_normal((2, 5, 3)), _normal((2, 3))]),
    ],
    "sum": [(lambda x: x.sum(), [_normal(s)]) for s in SHAPES]
    + [(lambda x, a=a, k=k: x.sum(axis=a, keepdims=k), [_normal((2, 3, 4))])
       for a in (0, 1, 2, -1, (0, 2)) for k in (False, True)],
    "max": [(lambda x: x.max(), [_distinct((3, 4))])]
    + [(lambda x, a=a, k=k: x.max(axis=a, keepdims=k), [_distinct((2, 3, 4))])
       for a in (0, 1, -1) for k in (False, True)],
    "logsumexp": [(lambda x, a=a: dg.logsumexp(x, axis=a), [_normal((3, 4))]) for a in (0, 1)]
    + [(lambda x: dg.logsumexp(x, axis=-1, keepdims=True), [_normal((4,))])],
    "softmax": [(lambda x, a=a: ops.softmax(x, axis=a), [_normal((3, 4))]) for a in (0, -1)],
    "log_softmax": [(lambda x, a=a: dg.log_softmax(x, axis=a), [_normal((3, 4))])
                    for a in (0, -1)],
    "reshape": [(lambda x: x.reshape(4, 3), [_normal((3, 4))]),
                (lambda x: x.reshape(-1), [_normal((2, 3, 4))])],
    "transpose": [(lambda x: x.T, [_normal((3, 4))]),
                  (lambda x: x.transpose(2, 0, 1), [_normal((2, 3, 4))])],
    "broadcast_to": [(lambda x: ops.broadcast_to(x, shape=(3, 4)), [_normal((4,))])],
    "getitem": [(lambda x: x[1], [_normal((3, 4))]),
                (lambda x: x[:, 1:3], [_normal((3, 4))]),
                (lambda x: x[::2, -1], [_normal((3, 4))]),
                (lambda x: x[[0, 0, 2]], [_normal((3, 4))]),
                (lambda x: x[x.data > 0], [_normal((3, 4))])],
    "index_put": [(lambda g: ops.index_put(g, index=(slice(0, 2),), shape=(3, 4)),
                   [_normal((2, 4))]),
                  (lambda g: ops.index_put(g, index=np.array([0, 0, 2]), shape=(3, 4)),
                   [_normal((3, 4))])],
    "concatenate": [(lambda a, b, ax=ax: dg.concatenate([a, b], axis=ax),
                     [_normal((2, 3)), _normal((2, 3))]) for ax in (0, 1)],
    "stack": [(lambda a, b, ax=ax: dg.stack([a, b], axis=ax), [_normal((2, 3)), _normal((2, 3))])
              for ax in (0, 1, 2)],
    "sum_of_squares_error": [(ops.sum_of_squares_error, [_normal((4, 2)), _normal((4, 2))]),
                             (ops.sum_of_squares_error,
                              [_normal((4, 2)), _normal((4, 2)), _positive((4, 1))])],
    "sigmoid_binary_cross_entropy": [(lambda a, t: ops.sigmoid_binary_cross_entropy(
        a, t, ops.sigmoid(a)), [_normal((4, 2)), _positive((4, 2))]),
        (lambda a, t: ops.sigmoid_binary_cross_entropy(a, t, ops.sigmoid(a), np.array(
            [[0.5], [2.0], [1.0], [0.0]])), [_normal((4, 2)), _positive((4, 2))])],
    "conv2d": [(lambda x, w, b: dg.conv2d(x, w, b, stride=(2, 1), padding=1),
                [_normal((2, 2, 5, 4)), _normal((3, 2, 3, 2)), _normal((3,))]),
               (lambda x, w: dg.conv2d(x, w), [_normal((1, 3, 4, 5)), _normal((2, 3, 1, 3))])],
    "max_pool2d": [(lambda x: dg.max_pool2d(x, 2), [_distinct((2, 2, 4, 5))]),
                   (lambda x: dg.max_pool2d(x, (3, 2), stride=1, padding=1),
                    [_distinct((1, 2, 4, 4))])],
    "avg_pool2d": [(lambda x: dg.avg_pool2d(x, 2), [_normal((2, 2, 4, 5))]),
                   (lambda x: dg.avg_pool2d(x, 3, stride=2, padding=1), [_normal((1, 2, 5, 4))])],
    "softmax_cross_entropy": [(lambda a: ops.softmax_cross_entropy(
        a, _targets((4, 3))(np.random.default_rng(0)), ops.softmax(a)), [_normal((4, 3))]),
        (lambda a: ops.softmax_cross_entropy(
            a, _targets((4, 3))(np.random.default_rng(0)), ops.softmax(a),
            np.array([[0.5], [2.0], [1.0], [3.0]])), [_normal((4, 3))])],
    "rnn_sequence": [
        (lambda x, h0, W_xh, W_hh, b: ops.rnn_sequence(x, h0, W_xh, W_hh, b),
         [_normal((2, 4, 3)), _normal((2, 2)), _normal((2, 3)), _normal((2, 2)), _normal((2,))]),
        (lambda x, h0, W_xh, W_hh, b: ops.rnn_sequence(x, h0, W_xh, W_hh, b, "relu", _MASK),
         [_normal((2, 4, 3)), _normal((2, 2)), _normal((2, 3)), _normal((2, 2)), _normal((2,))]),
    ],
    "lstm_sequence": [
        (lambda x, h0, c0, W_xh, W_hh, b, m=m: ops.lstm_sequence(x, h0, c0, W_xh, W_hh, b, m),
         [_normal((2, 4, 3)), _normal((2, 2)), _normal((2, 2)), _normal((8, 3)),
          _normal((8, 2)), _normal((8,))]) for m in (None, _MASK)],
    "gru_sequence": [
        (lambda x, h0, W_xh, W_hh, b, b_hn, m=m: ops.gru_sequence(x, h0, W_xh, W_hh, b, b_hn, m),
         [_normal((2, 4, 3)), _normal((2, 2)), _normal((6, 3)), _normal((6, 2)), _normal((6,)),
          _normal((2,))]) for m in (None, _MASK)],
}

SHAPES_3D = SHAPES + [(2, 3, 4)]
UNARY_SMOOTH = {"sqrt": (ops.sqrt, _positive), "sin": (ops.sin, _normal),
                "cos": (ops.cos, _normal), "erf": (ops.erf, _normal),
                "softplus": (ops.softplus, _normal), "gelu": (ops.gelu, _normal),
                "silu": (ops.silu, _normal)}
UNARY_KINKED = {"abs": ops.abs, "leaky_relu": ops.leaky_relu, "elu": ops.elu}
AXES_3D = (None, 0, 1, 2, -1, -2, (0, 2), (-1, 0))
CASES.update({name: [(f, [make(s)]) for s in SHAPES_3D] for name, (f, make) in
              UNARY_SMOOTH.items()})
CASES.update({name: [(f, [_away_from_zero(s)]) for s in SHAPES_3D] for name, f in
              UNARY_KINKED.items()})
CASES["softplus"] += [(lambda x: ops.softplus(x, beta=2.0, threshold=1.0), [_normal((3, 4))])]
CASES["gelu"] += [(lambda x: ops.gelu(x, approximate="tanh"), [_normal(s)]) for s in SHAPES_3D]
CASES["leaky_relu"] += [(lambda x: ops.leaky_relu(x, negative_slope=0.3), [_away_from_zero((5,))])]
CASES["elu"] += [(lambda x: ops.elu(x, alpha=0.7), [_away_from_zero((5,))])]
CASES.update({
    "sign": [(lambda x: ops.sign(x) * x, [_away_from_zero(s)]) for s in SHAPES_3D],
    "maximum": [(lambda x, y: ops.maximum(x, y), [_distinct(a), _distinct(b)])
                for a, b in BROADCAST],
    "minimum": [(lambda x, y: ops.minimum(x, y), [_distinct(a), _distinct(b)])
                for a, b in BROADCAST],
    "clip": [(lambda x: ops.clip(x, min=-0.5, max=0.6), [_distinct(s)]) for s in SHAPES_3D]
    + [(lambda x: ops.clip(x, min=0.3), [_distinct((3, 4))]),
       (lambda x: ops.clip(x, max=0.3), [_distinct((3, 4))])],
    "var": [(lambda x, a=a, d=d: ops.var(x, axis=a, ddof=d), [_normal((2, 3, 4))])
            for a in AXES_3D for d in (0, 1)]
    + [(lambda x: ops.var(x, axis=-1, keepdims=True), [_normal((3, 4))]),
       (lambda x: ops.var(x), [_normal((4,))])],
    "std": [(lambda x, a=a, d=d: ops.std(x, axis=a, ddof=d), [_normal((2, 3, 4))])
            for a in AXES_3D for d in (0, 1)]
    + [(lambda x: ops.std(x, axis=-1, keepdims=True), [_normal((3, 4))]),
       (lambda x: ops.std(x), [_normal((4,))])],
    "prod": [(lambda x, a=a: ops.prod(x, axis=a), [_normal((2, 3, 4))]) for a in AXES_3D]
    + [(lambda x: ops.prod(x, axis=-1, keepdims=True), [_normal((3, 4))]),
       (lambda x: ops.prod(x), [_normal(())]),
       # one and two zeros per slice: second derivatives exact there too (issue 22)
       (lambda x: ops.prod(x * dg.tensor([1.0, 0.0, 1.0, 1.0]), axis=-1), [_normal((3, 4))]),
       (lambda x: ops.prod(x * dg.tensor([1.0, 0.0, 0.0, 1.0]), axis=-1), [_normal((3, 4))]),
       (lambda x: ops.prod(x * dg.tensor([0.0, 0.0, 0.0, 1.0]), axis=-1), [_normal((3, 4))])],
    "cumsum": [(lambda x, a=a: ops.cumsum(x, axis=a), [_normal((2, 3, 4))])
               for a in (None, 0, 1, 2, -1, -3)] + [(ops.cumsum, [_normal(())])],
    "pad": [(lambda x: ops.pad(x, 1), [_normal((3,))]),
            (lambda x: ops.pad(x, ((1, 0), (0, 2)), value=0.5), [_normal((3, 4))]),
            (lambda x: ops.pad(x, (2, 1)), [_normal((2, 3, 4))]),
            (lambda x: ops.pad(x, 0), [_normal(())])],
    "tile": [(lambda x: ops.tile(x, 2), [_normal((3,))]),
             (lambda x: ops.tile(x, (2, 1, 3)), [_normal((3, 4))]),
             (lambda x: ops.tile(x, (2,)), [_normal((2, 3, 4))]),
             (lambda x: ops.tile(x, (3,)), [_normal(())])],
    "repeat": [(lambda x, a=a: ops.repeat(x, 2, axis=a), [_normal((2, 3, 4))])
               for a in (None, 0, 1, -1)] + [(lambda x: ops.repeat(x, 3), [_normal(())])],
    "tril": [(lambda x, k=k: ops.tril(x, k), [_normal(s)]) for k in (0, -1, 1)
             for s in ((3, 4), (2, 3, 4))],
    "triu": [(lambda x, k=k: ops.triu(x, k), [_normal(s)]) for k in (0, -1, 1)
             for s in ((3, 4), (2, 3, 4))],
    "einsum": [
        (lambda a, b: ops.einsum("ij,jk->ik", a, b), [_normal((3, 4)), _normal((4, 2))]),
        (lambda a, b: ops.einsum("bqd,bkd->bqk", a, b), [_normal((2, 3, 4)), _normal((2, 2, 4))]),
        (lambda x, A, y: ops.einsum("i,ij,j->", x, A, y),
         [_normal((3,)), _normal((3, 4)), _normal((4,))]),
        (lambda a: ops.einsum("ijk->ki", a), [_normal((2, 3, 4))]),
        (lambda a, b: ops.einsum("ij,kj", a, b), [_normal((3, 4)), _normal((2, 4))]),
        (lambda a, b: ops.einsum("i,j->ij", a, b), [_normal((3,)), _normal((4,))]),
        (lambda a: ops.einsum("ij->", a), [_normal((3, 4))]),
    ],
})
CASES["transpose"] += [(lambda x: ops.transpose(x, axes=(-1, 0, 1)), [_normal((2, 3, 4))]),
                       (lambda x: ops.transpose(x, axes=(1, -3, -1)), [_normal((2, 3, 4))]),
                       (lambda x: x.swapaxes(-1, 0), [_normal((2, 3, 4))]),
                       (lambda x: ops.transpose(x, axes=()), [_normal(())])]
for reduction in ("sum", "max", "logsumexp"):
    CASES[reduction] += [(lambda x, r=reduction: getattr(ops, r)(x, axis=-1), [_distinct(())]),
                         (lambda x, r=reduction: getattr(ops, r)(x, 0), [_distinct(())]),
                         (lambda x, r=reduction: getattr(ops, r)(x, (-1, -3)),
                          [_distinct((2, 3, 4))])]
for reduction in ("softmax", "log_softmax"):
    CASES[reduction] += [(lambda x, r=reduction: getattr(ops, r)(x, 1), [_normal((2, 3, 4))]),
                         (lambda x, r=reduction: getattr(ops, r)(x, -3), [_normal((2, 3, 4))]),
                         (lambda x, r=reduction: getattr(ops, r)(x), [_normal(())])]
CASES["concatenate"] += [(lambda a, b: dg.concatenate([a, b], axis=-1),
                          [_normal((2, 3)), _normal((2, 2))])]
CASES["stack"] += [(lambda a, b: dg.stack([a, b], axis=-1), [_normal((2, 3)), _normal((2, 3))])]
CASES["where"] += [(lambda x, y: dg.where(condition=x.data > 0, x=x, y=y),
                    [_normal((2, 3, 4)), _normal((3, 1))])]
CASES["pow"] += [(lambda x, p: x ** p, [_positive(()), _normal((2, 3, 4))])]
# every input of a fused loss that can carry a gradient: soft targets t, pattern weights s
CASES["softmax_cross_entropy"] += [
    (lambda a, t: ops.softmax_cross_entropy(a, t, ops.softmax(a)),
     [_normal((4, 3)), _targets((4, 3))]),
    (lambda a, t, s: ops.softmax_cross_entropy(a, t, ops.softmax(a), s),
     [_normal((4, 3)), _positive((4, 3)), _positive((4, 1))]),
    (lambda a, t: ops.softmax_cross_entropy(a, t, ops.softmax(a), per_pattern=True),
     [_normal((2, 4, 3)), _targets((2, 4, 3))])]
CASES["dense"] = [(lambda x, w, b, h=h: ops.dense(x, w, b, activation=h),
                   [_normal((4, 3)), _normal((2, 3)), _normal((2,))])
                  for h in ("identity", "tanh", "sigmoid")]
CASES["dense"] += [(lambda x, w: ops.dense(x, w, activation="relu"),
                    [_normal((5, 3)), _normal((2, 3))])]
CASES["dense_stack"] = [
    (lambda x, w1, b1, w2, w3, b3: ops.dense_stack(
        x, [(w1, b1, "tanh"), (w2, None, "sigmoid"), (w3, b3, "identity")]),
     [_normal((4, 3)), _normal((5, 3)), _normal((5,)), _normal((2, 5)), _normal((3, 2)),
      _normal((3,))]),
    (lambda x, w, b: ops.dense_stack(x, [(w, b, "relu")]),
     [_normal((5, 3)), _normal((2, 3)), _normal((2,))])]
CASES["softmax_cross_entropy_labels"] = [
    (lambda a: ops.softmax_cross_entropy_labels(a, dg.tensor([2, 0, 1, 2]), ops.softmax(a)),
     [_normal((4, 3))])]
CASES["sigmoid_binary_cross_entropy"] += [
    (lambda a, t, s: ops.sigmoid_binary_cross_entropy(a, t, ops.sigmoid(a), s),
     [_normal((4, 2)), _positive((4, 2)), _positive((4, 1))])]

_ATTENTION_MASK = np.array([[True, False, True, True], [False, True, False, False],
                            [True, True, True, False]])
CASES["scaled_dot_product_attention"] = [
    (lambda q, k, v: ops.scaled_dot_product_attention(q, k, v),
     [_normal((2, 3, 4)), _normal((2, 5, 4)), _normal((2, 5, 3))]),
    (lambda q, k, v: ops.scaled_dot_product_attention(q, k, v, mask=_ATTENTION_MASK),
     [_normal((2, 3, 2)), _normal((1, 4, 2)), _normal((2, 4, 3))]),  # batch broadcast
    (lambda q, k, v: ops.scaled_dot_product_attention(q, k, v, causal=True, scale=0.7),
     [_normal((4, 3)), _normal((4, 3)), _normal((4, 2))]),
]
CASES["batch_norm"] = [  # batch statistics (training) and fixed running ones (evaluation)
    (lambda x, w, b: ops.batch_norm(x, None, None, w, b, training=True, eps=0.1),
     [_normal((4, 3, 2)), _normal((3,)), _normal((3,))]),
    (lambda x, w, b: ops.batch_norm(x, np.array([0.5, -1.0]), np.array([2.0, 0.3]), w, b),
     [_normal((5, 2)), _normal((2,)), _normal((2,))])]
ALL_CASES = [(name, k, case) for name, cases in CASES.items() for k, case in enumerate(cases)]


def test_every_registered_primitive_has_a_gradient_check():
    missing = sorted(set(ops.REGISTRY) - set(CASES))
    assert not missing, f"primitives without a gradcheck case: {missing}"


@pytest.mark.parametrize("name,k,case", ALL_CASES, ids=[f"{n}-{k}" for n, k, _ in ALL_CASES])
def test_gradcheck(name, k, case, rng):
    f, makers = case
    inputs = [dg.tensor(make(rng), requires_grad=True) for make in makers]
    out = f(*inputs)
    assert out.op is not None
    assert dg.gradcheck(f, *inputs)


@pytest.mark.parametrize("name,k,case", ALL_CASES, ids=[f"{n}-{k}" for n, k, _ in ALL_CASES])
def test_backward_with_create_graph_gives_the_same_gradient(name, k, case, rng):
    """The VJPs run on ndarrays (plain backward) and on Tensors (create_graph): same numbers."""
    f, makers = case
    if not ops.REGISTRY[name].differentiable_twice:
        pytest.skip("fused primitive with a raw NumPy VJP")
    inputs = [dg.tensor(make(rng), requires_grad=True) for make in makers]
    out = f(*inputs)
    seed = rng.normal(size=out.shape)
    plain = dg.grad(out, inputs, grad_outputs=seed, retain_graph=True, allow_unused=True)
    graph = dg.grad(out, inputs, grad_outputs=seed, create_graph=True, allow_unused=True)
    for p, q in zip(plain, graph):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-12, atol=1e-14)


SECOND_ORDER = [(n, k, c) for n, k, c in ALL_CASES if ops.REGISTRY[n].differentiable_twice]


@pytest.mark.parametrize("name,k,case", SECOND_ORDER, ids=[f"{n}-{k}" for n, k, _ in SECOND_ORDER])
def test_second_derivatives_against_central_differences_of_the_gradient(name, k, case, rng):
    """Differentiate φ(x) = Σ_i <∂(w·f)/∂x_i, v_i> + Σ_i ‖x_i‖² once more: its backward uses the
    graph that create_graph recorded (the VJPs of the VJPs), its central differences only
    first derivatives. The ‖x‖² term keeps φ differentiable when f is linear."""
    f, makers = case
    inputs = [dg.tensor(make(rng), requires_grad=True) for make in makers]
    w = rng.normal(size=f(*inputs).shape)
    v = [rng.normal(size=x.shape) for x in inputs]

    def phi(*xs):
        with dg.enable_grad():
            grads = dg.grad((f(*xs) * w).sum(), xs, create_graph=True, allow_unused=True)
            total = sum((x * x).sum() for x in xs)
            return total + sum((g * vi).sum() for g, vi in zip(grads, v) if g is not None)

    assert dg.gradcheck(phi, *inputs, atol=1e-7, rtol=1e-5)


def _whole_number_inputs(makers, rng) -> list:
    """Each case's inputs rounded to whole numbers −4 … 4 (values whose float results are
    known), as float64 arrays."""
    return [np.round(2 * make(rng)) for make in makers]


@pytest.mark.parametrize("name,k,case", ALL_CASES, ids=[f"{n}-{k}" for n, k, _ in ALL_CASES])
@pytest.mark.parametrize("kind", ["int64", "bool"])
def test_integer_and_boolean_inputs_compute_as_the_same_floats(name, k, case, kind, rng):
    """One policy for every primitive (``ops.base``): integer and boolean data give what the
    same values as float64 give — never a result truncated to integers (softplus(0) = ln 2,
    not 0), a float16 result (tanh of booleans), logical or for + and @, or NumPy's words."""
    f, makers = case
    floats = _whole_number_inputs(makers, rng)
    if kind == "bool":
        floats = [(x > 0).astype(np.float64) for x in floats]
    with np.errstate(all="ignore"):
        expected = f(*[dg.tensor(x) for x in floats]).data
        got = f(*[dg.tensor(x.astype(kind)) for x in floats]).data
    assert got.dtype.kind != "f" or got.dtype == np.float64, f"{name}: result dtype {got.dtype}"
    np.testing.assert_allclose(got.astype(np.float64), expected, rtol=1e-12, atol=1e-12,
                               equal_nan=True, err_msg=f"{name} on {kind} inputs vs floats")


def test_integer_arithmetic_stays_exact_integers_as_numpy():
    """``EXACT`` and ``KEEP`` primitives keep integer data (as NumPy and PyTorch)."""
    a, b = dg.tensor([3, -2]), dg.tensor([4, 5])
    for result in (a + b, a - b, a * b, -a, a.sum(), ops.relu(a), a.reshape(2, 1), a.max()):
        assert result.dtype == np.int64
    assert (a / b).dtype == np.float64 and ops.softplus(dg.tensor([0])).data[0] == np.log(2)
