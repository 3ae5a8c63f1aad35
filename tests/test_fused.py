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
    assert y_fused.op == "softmax" and "dense" in _ops_of(y_fused)
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
