"""The fused paths give the unfused numbers: ``nn.MLP`` runs each hidden layer as one
``ops.dense`` node, and cross-entropy with class labels uses ``softmax_cross_entropy_labels``;
gradients and second derivatives must equal those of the layer-by-layer graph."""

import numpy as np
import pytest

import deltagrad as dg
from deltagrad import nn, ops


def _unfused(net):
    """The same modules run one by one (Sequential.forward): linear, activation, ..."""
    return nn.Sequential(*net.children())


def _flat_grad(model, loss, create_graph=False):
    params = model.parameters()
    return dg.grad(loss(model), params, create_graph=create_graph)


@pytest.mark.parametrize("hidden", ["tanh", "sigmoid", "relu", "identity", ["tanh", "sigmoid"]])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fused_mlp_gives_the_unfused_outputs_and_gradients_to_the_bit(hidden, dtype):
    rng = np.random.default_rng(0)
    net = nn.MLP("4-6-5-3", hidden=hidden, output="softmax", rng=1, dtype=dtype)
    X = rng.normal(size=(7, 4)).astype(dtype)
    labels = rng.integers(0, 3, 7)
    y_fused, y_plain = net(X), _unfused(net)(X)
    assert y_fused.op == "softmax" and "dense_stack" in _ops_of(y_fused)
    assert "dense" not in _ops_of(y_plain)
    np.testing.assert_array_equal(y_fused.data, y_plain.data)
    fused = _flat_grad(net, lambda m: dg.losses.cross_entropy(m(X), labels))
    plain = _flat_grad(net, lambda m: dg.losses.cross_entropy(_unfused(m)(X), labels))
    for f, p in zip(fused, plain):
        np.testing.assert_array_equal(f.data, p.data)


def test_fused_mlp_gives_the_unfused_second_derivatives():
    """H·v by double backward through dense's recorded VJPs equals the one through
    linear + tanh/sigmoid (the same algebra, so to rounding)."""
    rng = np.random.default_rng(1)
    net = nn.MLP("3-4-4-2", hidden=["tanh", "sigmoid"], output="identity", rng=0)
    X, T = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    v = [rng.normal(size=p.shape) for p in net.parameters()]

    def hvp(forward):
        grads = dg.grad(dg.losses.sum_of_squares(forward(X), T), net.parameters(),
                        create_graph=True)
        dot = sum((g * vi).sum() for g, vi in zip(grads, v))
        return [h.data for h in dg.grad(dot, net.parameters())]

    for f, p in zip(hvp(net), hvp(_unfused(net))):
        np.testing.assert_allclose(f, p, rtol=1e-12, atol=1e-14)


def test_dense_joint_vjp_equals_its_per_input_vjps():
    rng = np.random.default_rng(2)
    x, w, b = rng.normal(size=(4, 3)), rng.normal(size=(2, 3)), rng.normal(size=2)
    g = rng.normal(size=(4, 2))
    for h in ("identity", "tanh", "sigmoid", "relu", "step"):
        z = ops.dense.forward(x.copy(), w, b, activation=h)
        joint = ops.dense.joint_vjp(g, z, [True, True, True], x, w, b, activation=h)
        single = [ops.dense.vjp(i)(g, z, x, w, b, activation=h) for i in range(3)]
        for j, s in zip(joint, single):
            np.testing.assert_array_equal(j, s)
    assert ops.dense.joint_vjp(g, z, [False, True, False], x, w, b)[::2] == [None, None]


def test_labels_path_equals_the_one_hot_path_and_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    a = rng.normal(size=(6, 4)) * 3
    labels = rng.integers(0, 4, 6)
    logits = dg.tensor(a, requires_grad=True)
    E = dg.losses.cross_entropy(dg.nn.softmax(logits), labels)
    assert E.op == "softmax_cross_entropy_labels"
    E.backward()
    soft = dg.tensor(a, requires_grad=True)
    E1 = dg.losses.cross_entropy(dg.nn.softmax(soft), np.eye(4)[labels])
    E1.backward()
    ta = torch.tensor(a, requires_grad=True)
    torch.nn.functional.cross_entropy(ta, torch.tensor(labels), reduction="sum").backward()
    reference = torch.nn.functional.cross_entropy(ta.detach(), torch.tensor(labels),
                                                  reduction="sum").item()
    np.testing.assert_allclose(E.item(), E1.item(), rtol=1e-14)
    np.testing.assert_allclose(E.item(), reference, rtol=1e-14)
    np.testing.assert_allclose(logits.grad, soft.grad, rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(logits.grad, ta.grad.numpy(), rtol=1e-13, atol=1e-16)


def test_labels_path_stays_finite_when_the_true_class_underflows():
    """a = [0, −800]: y_1 = e^−800 underflows to 0, so −ln y_1 would be ∞; the log-sum-exp
    form gives E = ln(1 + e^−800) + 800 = 800 exactly (to rounding)."""
    a = dg.tensor([[0.0, -800.0]], requires_grad=True)
    E = dg.losses.cross_entropy(dg.nn.softmax(a), [1])
    assert E.item() == pytest.approx(800.0, rel=1e-15)
    E.backward()
    np.testing.assert_allclose(a.grad, [[1.0, -1.0]])


def test_labels_path_refuses_labels_out_of_range():
    y = dg.nn.softmax(dg.tensor([[0.0, 1.0, 2.0]]))
    with pytest.raises(ValueError, match=r"label 3 is out of range for 3 classes"):
        dg.losses.cross_entropy(y, [3])
    with pytest.raises(ValueError, match=r"label -1 is out of range for 3 classes"):
        dg.losses.cross_entropy(y, [-1])


def _ops_of(root):
    seen, stack, names = set(), [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen or node.op is None:
            continue
        seen.add(id(node))
        names.add(node.op)
        stack.extend(node._parents)
    return names


def _chain(x, layers):
    """The stack as separate ``dense`` nodes, layer after layer."""
    for w, b, h in layers:
        x = ops.dense(x, w, activation=h) if b is None else ops.dense(x, w, b, activation=h)
    return x


def _stack_case(seed=4):
    """A 3-4-5-2 stack: tanh, a sigmoid layer without biases, an identity output; x needs a
    gradient too (input gradients, as TangentProp and saliency ask for)."""
    rng = np.random.default_rng(seed)
    x = dg.tensor(rng.normal(size=(6, 3)), requires_grad=True)
    shapes = [((4, 3), True, "tanh"), ((5, 4), False, "sigmoid"), ((2, 5), True, "identity")]
    layers = [(dg.tensor(rng.normal(size=s), requires_grad=True),
               dg.tensor(rng.normal(size=s[0]), requires_grad=True) if biased else None, h)
              for s, biased, h in shapes]
    inputs = [x] + [t for w, b, _ in layers for t in (w, b) if t is not None]
    return x, layers, inputs, rng.normal(size=(6, 2))


def test_dense_stack_equals_the_chain_of_dense_nodes_to_the_bit():
    x, layers, inputs, g = _stack_case()
    fused, chained = ops.dense_stack(x, layers), _chain(x, layers)
    assert fused.op == "dense_stack"
    np.testing.assert_array_equal(fused.data, chained.data)
    for f, c in zip(dg.grad(fused, inputs, grad_outputs=g), dg.grad(chained, inputs, g)):
        np.testing.assert_array_equal(f.data, c.data)


def test_dense_stack_second_derivatives_and_its_create_graph_vjps():
    """With create_graph=True the stack reruns as recorded dense nodes: its gradients equal
    the plain pass's (the joint VJP), and a Hessian-vector product through them equals the
    chain's (the same algebra, so to rounding)."""
    x, layers, inputs, g = _stack_case(5)
    v = [np.random.default_rng(6).normal(size=t.shape) for t in inputs]

    def hvp(forward):
        grads = dg.grad(forward(x, layers), inputs, grad_outputs=g, create_graph=True)
        dot = sum((gi * vi).sum() for gi, vi in zip(grads, v))
        second = dg.grad(dot, inputs, allow_unused=True)  # ∂E/∂b_3 = Σ_n g_n: constant
        return ([gi.data for gi in grads],
                [np.zeros(t.shape) if h is None else h.data for h, t in zip(second, inputs)])

    (first_fused, second_fused), (first_chain, second_chain) = hvp(ops.dense_stack), hvp(_chain)
    plain = dg.grad(ops.dense_stack(x, layers), inputs, grad_outputs=g)
    for f, p in zip(first_fused, plain):
        np.testing.assert_allclose(f, p.data, rtol=1e-14, atol=1e-15)
    for f, c in zip(first_fused + second_fused, first_chain + second_chain):
        np.testing.assert_allclose(f, c, rtol=1e-12, atol=1e-14)


def test_dense_stack_backward_twice_with_retain_graph_accumulates():
    x, layers, inputs, g = _stack_case(7)
    out = ops.dense_stack(x, layers)
    out.backward(g, retain_graph=True)
    once = [t.grad.copy() for t in inputs]
    out.backward(g)
    for t, first in zip(inputs, once):
        np.testing.assert_allclose(t.grad, 2 * first, rtol=1e-15)


_W, _B = dg.tensor(np.ones((2, 3)), requires_grad=True), dg.tensor(np.zeros(2))


@pytest.mark.parametrize("x,layers,message", [
    (np.ones((1, 3)), [(_W, None, "gelu")], r"layer 1's activation 'gelu' is not one of"),
    (np.ones((1, 3)), [], r"needs at least one layer"),
    (np.ones((4, 5)), [(_W, _B, "tanh")],
     r"x has shape \(4, 5\), but layer 1 takes 3 input features"),
    (np.ones((4, 3)), [(_W, np.zeros(3), "tanh")],
     r"layer 1's b must have shape \(2,\) \(one bias per unit\), got \(3,\)"),
    (np.ones((4, 3)), [(_W, _B, "tanh"), (_W, _B, "identity")],
     r"layer 2's w has shape \(2, 3\), so it takes 3 inputs, but layer 1 gives 2"),
    (np.ones((4, 3)), [(np.ones(3), None, "tanh")], r"layer 1's w must be a matrix"),
])
def test_dense_stack_refuses_bad_layers_in_its_own_words(x, layers, message):
    with pytest.raises(ValueError, match=r"dense_stack\(\): " + message):
        ops.dense_stack(x, layers)


@pytest.mark.parametrize("layers,what", [([(_W, None)], "a tuple of 2"),
                                         ((_W, None, "tanh"), "a Tensor")])
def test_dense_stack_says_what_a_layer_must_be(layers, what):
    """Two pairs instead of triples, and one triple not wrapped in a list."""
    with pytest.raises(TypeError, match=rf"layer 1 must be a triple \(w, b, activation\), "
                                        rf"got {what}"):
        ops.dense_stack(np.ones((1, 3)), layers)


def test_mlp_runs_as_one_stack_and_sees_replaced_layers_and_weights():
    """net(x) is one dense_stack node and a softmax; a replaced weight or layer keeps its
    place and is used by the stack at the next call (the cached plan is rebuilt after any
    module assignment); a replaced activation the stack cannot apply (GELU) makes the
    network run layer by layer."""
    rng = np.random.default_rng(8)
    net = nn.MLP("3-4-2", hidden="tanh", output="softmax", rng=0)
    X = rng.normal(size=(5, 3))
    assert _ops_of(net(X)) == {"softmax", "dense_stack"}
    net.linear1.weight = nn.Parameter(np.asfortranarray(rng.normal(size=(4, 3))))
    net.linear2 = nn.Linear(4, 2, rng=3)
    assert [name for name, _ in net.named_parameters()] == [
        "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias"]
    y = net(X)
    assert _ops_of(y) == {"softmax", "dense_stack"}
    np.testing.assert_array_equal(y.data, _unfused(net)(X).data)
    net.act1 = nn.GELU()
    y = net(X)
    assert "dense_stack" not in _ops_of(y) and "gelu" in _ops_of(y)
    np.testing.assert_array_equal(y.data, _unfused(net)(X).data)


def test_mlp_plan_is_not_copied_or_pickled():
    """A pickled or copied network rebuilds its own plan: it runs its own weights, even when
    a weight was replaced after the plan was made."""
    import copy
    import pickle

    net = nn.MLP("3-4-2", hidden="tanh", rng=0)
    X = np.ones((2, 3))
    net(X)
    net.linear1.weight = nn.Parameter(np.asfortranarray(np.zeros((4, 3))))
    for twin in (pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
        assert "_plan" not in twin.__dict__
        twin.linear1.weight.data = np.full((4, 3), 0.5)
        np.testing.assert_array_equal(twin(X).data, _unfused(twin)(X).data)
        np.testing.assert_array_equal(net(X).data, _unfused(net)(X).data)


def test_mlp_falls_back_where_the_stack_cannot_run():
    """A float32 weight in a float64 network gets the Linear's own dtype error (the stack
    would have mixed dtypes silently); with its only activation deleted the network runs as
    Sequential."""
    net = nn.MLP("3-4-2", hidden="tanh", rng=0)
    net.linear2.weight = nn.Parameter(np.ones((2, 4), np.float32))
    with pytest.raises(TypeError, match=r"Linear\(4, 2\): input dtype float64 does not match"):
        net(np.ones((1, 3)))
    single = nn.MLP("3-2", rng=0)
    del single.act1
    np.testing.assert_array_equal(single(np.ones((1, 3))).data,
                                  single.linear1(np.ones((1, 3))).data)


def test_stack_create_graph_cache_follows_which_inputs_need_gradients():
    """The create_graph VJPs share one backward pass per incoming gradient; asking again with
    the same v after x starts to require grad must give ∂/∂x, as the chain of dense nodes."""
    rng = np.random.default_rng(9)
    x = dg.tensor(rng.normal(size=(4, 3)))
    w1, w2 = (dg.tensor(rng.normal(size=s), requires_grad=True) for s in ((5, 3), (2, 5)))
    v = dg.tensor(rng.normal(size=(4, 2)), requires_grad=True)
    y = ops.dense_stack(x, [(w1, None, "tanh"), (w2, None, "identity")])
    dg.grad(y, [w1], grad_outputs=v, create_graph=True)
    x.requires_grad = True
    (gx,) = dg.grad(y, [x], grad_outputs=v, create_graph=True)
    chain = ops.dense(ops.dense(x, w1, activation="tanh"), w2)
    (expected,) = dg.grad(chain, [x], grad_outputs=v, create_graph=True)
    np.testing.assert_allclose(gx.data, expected.data, rtol=1e-14)


def test_dense_stack_refuses_mixed_dtypes_and_text():
    w = dg.tensor(np.ones((2, 3)))
    with pytest.raises(TypeError, match=r"dense_stack\(\): the weights must share one dtype, "
                                        r"got \['float32', 'float64'\]"):
        ops.dense_stack(np.ones((1, 3)), [(w, None, "tanh"),
                                          (np.ones((1, 2), np.float32), None, "identity")])
    with pytest.raises(TypeError, match=r"dense_stack\(\): x: tensor\(\): expected numeric"):
        ops.dense_stack([["a", "b", "c"]], [(w, None, "tanh")])


@pytest.mark.parametrize("dtype", ["int8", "int32", ">i4", "int64", ">i2", "uint8"])
def test_labels_range_check_in_every_integer_dtype(dtype):
    """The one-pass range check reads labels as unsigned 64-bit: −1 (or 200 in uint8) must
    still be refused for K = 3, in either byte order, and in-range labels of every integer
    dtype give the same E."""
    y = dg.nn.softmax(dg.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
    E = dg.losses.cross_entropy(y, np.array([2, 0], dtype=dtype))
    assert E.item() == pytest.approx(2 * (np.log(1 + np.exp(-1) + np.exp(-2))), rel=1e-15)
    bad = 200 if dtype == "uint8" else -1
    with pytest.raises(ValueError, match=rf"label {bad} is out of range for 3 classes"):
        dg.losses.cross_entropy(y, np.array([0, bad], dtype=dtype))


def test_uint64_labels_beyond_int64_are_refused():
    """2⁶⁴ − 1 as an index is −1 to NumPy: it must not silently pick the last class."""
    y = dg.nn.softmax(dg.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
    huge = np.array([0, 2**64 - 1], dtype=np.uint64)
    with pytest.raises(ValueError, match=r"label 18446744073709551615 is out of range"):
        dg.losses.cross_entropy(y, huge)
    with pytest.raises(ValueError, match=r"label 18446744073709551615 is out of range"):
        dg.losses.one_hot(huge, 3)
