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
