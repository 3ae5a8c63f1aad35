"""Conv1d, 1-D pooling and batch normalisation against PyTorch (float64 to 1e-10, float32
loosely), their gradient checks, train/eval semantics, saving, and the errors a student meets."""

import numpy as np
import pytest

import deltagrad as dg
from deltagrad import nn, ops

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _close(ours, theirs, what, tol=1e-10):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else theirs
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol,
                               err_msg=f"{what}: ours\n{ours}\nvs PyTorch\n{theirs}")


def _grads_equal(ours_inputs, theirs_inputs, seed_grad, ours_out, theirs_out, tol=1e-10):
    ours_out.backward(seed_grad)
    theirs_out.backward(torch.tensor(seed_grad))
    _close(ours_out.data, theirs_out, "forward", tol)
    for k, (a, b) in enumerate(zip(ours_inputs, theirs_inputs)):
        _close(a.grad, b.grad, f"gradient of input {k}", tol)


# ---- Conv1d and pooling ---------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(12))
def test_conv1d_values_and_gradients_equal_pytorch(seed):
    rng = np.random.default_rng(seed)
    k, stride, padding = int(rng.integers(1, 6)), int(rng.integers(1, 4)), int(rng.integers(0, 3))
    n, c, f = (int(v) for v in rng.integers(1, 5, size=3))
    length = int(rng.integers(max(k - 2 * padding, 1), 20))
    arrays = [rng.normal(size=(n, c, length)), rng.normal(size=(f, c, k))]
    if seed % 3:
        arrays.append(rng.normal(size=f))
    ours = [dg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = dg.conv1d(*ours, stride=stride, padding=padding)
    ref = F.conv1d(*theirs, stride=stride, padding=padding)
    _grads_equal(ours, theirs, rng.normal(size=ref.shape), out, ref)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("seed", range(6))
def test_pooling_1d_values_and_gradients_equal_pytorch(seed, kind):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 5))
    stride, padding = int(rng.integers(1, 4)), int(rng.integers(0, k // 2 + 1))
    x = rng.normal(size=(int(rng.integers(1, 4)), int(rng.integers(1, 4)),
                         int(rng.integers(k, 15))))
    ours, theirs = dg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = getattr(dg, f"{kind}_pool1d")(ours, k, stride, padding)
    ref = getattr(F, f"{kind}_pool1d")(theirs, k, stride, padding)
    _grads_equal([ours], [theirs], rng.normal(size=ref.shape), out, ref)


@pytest.mark.parametrize("dtype,tol", [("float64", 1e-10), ("float32", 1e-4)])
def test_a_1d_cnn_with_batch_norm_equals_the_same_network_in_pytorch(dtype, tol):
    rng = np.random.default_rng(7)
    ours = nn.Sequential(nn.Conv1d(2, 4, 5, padding=2, rng=0, dtype=dtype),
                         nn.BatchNorm1d(4, dtype=dtype), nn.ReLU(), nn.MaxPool1d(2),
                         nn.Conv1d(4, 3, 3, stride=2, rng=1, dtype=dtype), nn.AvgPool1d(2),
                         nn.Flatten(), nn.Linear(3 * 2, 2, rng=2, dtype=dtype),
                         nn.BatchNorm1d(2, momentum=None, dtype=dtype))
    theirs = torch.nn.Sequential(
        torch.nn.Conv1d(2, 4, 5, padding=2), torch.nn.BatchNorm1d(4), torch.nn.ReLU(),
        torch.nn.MaxPool1d(2), torch.nn.Conv1d(4, 3, 3, stride=2), torch.nn.AvgPool1d(2),
        torch.nn.Flatten(), torch.nn.Linear(6, 2), torch.nn.BatchNorm1d(2, momentum=None))
    theirs = theirs.to(getattr(torch, dtype))
    for layer in (0, 1, 4, 7, 8):
        ours[layer].weight.data = rng.normal(size=ours[layer].weight.shape)
        ours[layer].bias.data = rng.normal(size=ours[layer].bias.shape)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    for step in range(3):  # three training batches, then evaluation on the running statistics
        x = rng.normal(size=(6, 2, 20)).astype(dtype)
        g = rng.normal(size=(6, 2)).astype(dtype)
        out, ref = ours(x), theirs(torch.tensor(x))
        _close(out.data, ref, f"training forward, batch {step}", tol)
        out.backward(g)
        ref.backward(torch.tensor(g))
        for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
            _close(p.grad, q.grad, name, tol)
    for name, value in ours.state_dict().items():
        _close(value, theirs.state_dict()[name], name, tol)
    ours.eval(), theirs.eval()
    x = rng.normal(size=(3, 2, 20)).astype(dtype)
    _close(ours(x).data, theirs(torch.tensor(x)), "evaluation forward", tol)


def test_conv1d_costs_what_conv2d_costs_on_a_signal_of_height_one():
    """Conv1d is Conv2d on (N, C, 1, L): the same numbers, to the bit."""
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(3, 2, 11)), rng.normal(size=(4, 2, 3))
    one = dg.conv1d(x, w, stride=2, padding=1).data
    two = dg.conv2d(x[:, :, None], w[:, :, None], stride=(1, 2), padding=(0, 1)).data
    np.testing.assert_array_equal(one, two[:, :, 0])


# ---- batch normalisation ----------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (3, 2, 4, 5)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_values_and_gradients_equal_pytorch(shape, training):
    rng = np.random.default_rng(len(shape) + 10 * training)
    C = shape[1]
    arrays = [rng.normal(size=shape) * 3 + 1, rng.normal(size=C), rng.normal(size=C)]
    running = [rng.normal(size=C), rng.uniform(0.5, 2, size=C)]
    ours = [dg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours_running = [r.copy() for r in running]
    theirs_running = [torch.tensor(r) for r in running]
    out = ops.batch_norm(ours[0], *ours_running, ours[1], ours[2], training=training,
                         momentum=0.3, eps=1e-3)
    ref = F.batch_norm(theirs[0], *theirs_running, theirs[1], theirs[2], training=training,
                       momentum=0.3, eps=1e-3)
    _grads_equal(ours, theirs, rng.normal(size=shape), out, ref)
    for a, b in zip(ours_running, theirs_running):  # updated in place with unbiased variance
        _close(a, b, "running statistics")


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck(training):
    rng = np.random.default_rng(3)
    x, w, b = (dg.tensor(a, requires_grad=True) for a in (
        rng.normal(size=(4, 3, 5)), rng.normal(size=3), rng.normal(size=3)))
    mean, var = rng.normal(size=3), rng.uniform(0.5, 2, size=3)
    assert dg.gradcheck(lambda x, w, b: ops.batch_norm(
        x, mean.copy(), var.copy(), w, b, training=training), x, w, b)


def test_batch_norm_joint_vjp_equals_its_per_input_vjps():
    rng = np.random.default_rng(4)
    x, w, b, g = rng.normal(size=(4, 3, 5)), rng.normal(size=3), rng.normal(size=3), \
        rng.normal(size=(4, 3, 5))
    for stats in (None, (rng.normal(size=3), rng.uniform(1, 2, size=3))):
        saved = ops.base.Saved()
        y = ops.norm._forward(x, w, b, 1e-5, stats=stats, saved=saved)
        joint = ops.norm._batch_norm.joint_vjp(g, y, [True] * 3, x, w, b, 1e-5, stats=stats,
                                               saved=saved)
        for i in range(3):
            single = ops.norm._batch_norm.vjp(i)(g, y, x, w, b, 1e-5, stats=stats, saved=saved)
            np.testing.assert_allclose(joint[i], single, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("layer,shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)),
                                         ("BatchNorm2d", (3, 3, 4, 2))])
@pytest.mark.parametrize("options", [{}, {"momentum": None}, {"affine": False},
                                     {"track_running_stats": False}, {"eps": 0.1}])
def test_batch_norm_layers_follow_pytorch_through_training_and_evaluation(layer, shape, options):
    rng = np.random.default_rng(5)
    ours, theirs = getattr(nn, layer)(3, **options), getattr(torch.nn, layer)(3, **options)
    theirs = theirs.double()
    if ours.affine:
        ours.weight.data, ours.bias.data = rng.normal(size=3), rng.normal(size=3)
        theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    for mode in ("train", "train", "eval", "train"):
        getattr(ours, mode)(), getattr(theirs, mode)()
        x = rng.normal(size=shape) * 2 + 0.5
        out, ref = ours(dg.tensor(x, requires_grad=True)), theirs(torch.tensor(x))
        _close(out.data, ref, f"{mode} forward")
        assert ours.state_dict().keys() == theirs.state_dict().keys()
        for name, value in ours.state_dict().items():
            _close(value, theirs.state_dict()[name], f"{name} after {mode}")


def test_batch_norm_is_switched_by_fit_predict_and_evaluate():
    """fit trains on batch statistics (the running mean moves); predict and evaluate use the
    running estimates and leave them alone; each module's own mode comes back afterwards."""
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(40, 3)) + 2.0, rng.normal(size=(40, 1))
    net = nn.Sequential(nn.BatchNorm1d(3), nn.Linear(3, 1, rng=0))
    net.eval()
    dg.fit(net, X, T, epochs=2, batch_size=10, lr=0.01, progress=False)
    assert not net.training and int(net[0].num_batches_tracked) == 8
    assert np.all(net[0].running_mean > 0.5)
    net.train()
    before = net[0].state_dict()
    y = dg.predict(net, X)
    dg.evaluate(net, X, T)
    assert net.training
    for name, value in net[0].state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    mean, var = before["running_mean"], before["running_var"]
    expected = (X - mean) / np.sqrt(var + 1e-5) * net[0].weight.data + net[0].bias.data
    np.testing.assert_allclose(y, expected @ net[1].weight.data.T + net[1].bias.data,
                               rtol=1e-12)


@pytest.mark.parametrize("name", ["cnn1d", "cnn2d", "float32-untracked"])
def test_round_trip_keeps_the_running_statistics(name, tmp_path):
    model, shape, dtype = {
        "cnn1d": (nn.Sequential(
            nn.Conv1d(2, 3, 3, stride=2, padding=1, bias=False, rng=0, init="glorot"),
            nn.BatchNorm1d(3, momentum=None), nn.MaxPool1d(3, stride=1, padding=1),
            nn.AvgPool1d(2), nn.Flatten()), (4, 2, 6), "float64"),
        "cnn2d": (nn.Sequential(nn.Conv2d(2, 3, 3, rng=0),
                                nn.BatchNorm2d(3, affine=False, eps=1e-3)), (4, 2, 6, 6),
                  "float64"),
        "float32-untracked": (nn.BatchNorm1d(2, track_running_stats=False, dtype="float32"),
                              (4, 2, 6), "float32")}[name]
    x = np.random.default_rng(1).normal(size=shape).astype(dtype)
    model(x)  # one training batch moves the running statistics
    dg.save(model, tmp_path / "m.safetensors")
    again = dg.load(tmp_path / "m.safetensors")
    assert again.state_dict().keys() == model.state_dict().keys()
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(again.state_dict()[key], value)
        assert again.state_dict()[key].dtype == value.dtype
    model.eval(), again.eval()
    np.testing.assert_array_equal(again(x).data, model(x).data)


# ---- errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize("make,call,message", [
    (lambda: nn.Conv1d(2, 3, 3), lambda m: m(np.zeros((4, 2, 5, 5))), "shape (N, C, L)"),
    (lambda: nn.Conv1d(2, 3, 3), lambda m: m(np.zeros((4, 3, 5))), "expects 2 input channels"),
    (lambda: nn.Conv1d(2, 3, 7), lambda m: m(np.zeros((4, 2, 5))), "longer than the padded"),
    (lambda: nn.Conv1d(2, 3, 3), lambda m: m(dg.tensor(np.zeros((4, 2, 5), dtype="float32"))),
     "x.astype('float64')"),
    (lambda: nn.Conv1d(2, 3, 3), lambda m: m([["a"]]), "must hold numbers"),
    (lambda: nn.MaxPool1d(2), lambda m: m(np.zeros((4, 5))), "shape (N, C, L)"),
    (lambda: nn.BatchNorm1d(3), lambda m: m(np.zeros((4, 2))), "C = 3, got shape (4, 2)"),
    (lambda: nn.BatchNorm1d(3), lambda m: m(np.zeros((4, 3, 2, 2))), "(N, C) or (N, C, L)"),
    (lambda: nn.BatchNorm2d(3), lambda m: m(np.zeros((4, 3, 2))), "(N, C, H, W)"),
    (lambda: nn.BatchNorm1d(3), lambda m: m(np.zeros((1, 3))), "more than one value"),
    (lambda: nn.BatchNorm1d(3), lambda m: m(dg.tensor(np.zeros((4, 3), "float32"))), "astype"),
    (lambda: nn.BatchNorm1d(3), lambda m: m(np.array([["a", "b", "c"]])), "must hold numbers"),
])
def test_bad_inputs_are_refused_clearly(make, call, message):
    with pytest.raises((ValueError, TypeError)) as err:
        call(make())
    assert message in str(err.value)


@pytest.mark.parametrize("make,message", [
    (lambda: nn.Conv1d(2, 3, 0), "kernel_size must be a positive integer"),
    (lambda: nn.Conv1d(2, 3, (3, 3)), "kernel_size must be a positive integer"),
    (lambda: nn.Conv1d(2, 3, 3, stride=0), "stride"),
    (lambda: nn.Conv1d(2, 3, 3, padding=-1), "padding must be an integer ≥ 0"),
    (lambda: nn.Conv1d(0, 3, 3), "in_channels"),
    (lambda: nn.Conv1d(2, 3, 3, bias="yes"), "bias must be True or False"),
    (lambda: nn.MaxPool1d(2, padding=2), "at most half the kernel"),
    (lambda: nn.AvgPool1d(2.5), "kernel_size"),
    (lambda: nn.BatchNorm1d(0), "num_features"),
    (lambda: nn.BatchNorm1d(3, momentum=1.5), "momentum"),
    (lambda: nn.BatchNorm1d(3, eps=0), "eps"),
    (lambda: nn.BatchNorm2d(3, affine=1), "affine must be True or False"),
    (lambda: nn.BatchNorm2d(3, dtype="int32"), "dtype"),
    (lambda: ops.batch_norm(np.zeros((4, 3)), training=False), "needs running_mean"),
    (lambda: ops.batch_norm(np.zeros((4, 3)), np.zeros(2), np.ones(2)), "shape (3,)"),
    (lambda: ops.batch_norm(np.zeros((4, 3)), np.zeros(3)), "both running_mean"),
    (lambda: dg.conv1d(np.zeros((1, 2, 5)), np.zeros((3, 1, 2))), "expect 1 input channels"),
])
def test_bad_arguments_are_refused_clearly(make, message):
    with pytest.raises((ValueError, TypeError)) as err:
        make()
    assert message in str(err.value)


def test_layers_print_their_settings():
    assert repr(nn.Conv1d(2, 3, 5, stride=2, padding=1, bias=False)) == \
        "Conv1d(2, 3, kernel_size=5, stride=2, padding=1, bias=False)"
    assert repr(nn.MaxPool1d(3, stride=1)) == "MaxPool1d(kernel_size=3, stride=1)"
    assert repr(nn.BatchNorm2d(4, momentum=None, affine=False)) == \
        "BatchNorm2d(4, eps=1e-05, momentum=None, affine=False)"


def test_batch_norm_cannot_be_differentiated_twice():
    x = dg.tensor(np.random.default_rng(0).normal(size=(4, 2)), requires_grad=True)
    y = (ops.batch_norm(x, training=True) ** 3).sum()
    with pytest.raises(RuntimeError, match="'batch_norm' cannot be differentiated twice"):
        dg.grad(y, x, create_graph=True)


def _waves(n: int, seed: int, length: int = 64):
    """Noisy sine (0), square (1) and sawtooth (2) waves of random frequency and phase."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    u = (rng.uniform(2, 5, size=(n, 1)) * np.arange(length) / length
         + rng.uniform(0, 1, size=(n, 1))) % 1.0
    wave = np.where(y[:, None] == 0, np.sin(2 * np.pi * u),
                    np.where(y[:, None] == 1, np.sign(u - 0.5), 2 * u - 1))
    return (wave + 0.3 * rng.normal(size=wave.shape))[:, None, :], y


def test_a_1d_cnn_with_batch_norm_learns_to_tell_wave_shapes_apart():
    X, y = _waves(600, seed=0)
    X_test, y_test = _waves(300, seed=1)
    net = nn.Sequential(nn.Conv1d(1, 8, 5, padding=2, rng=0), nn.BatchNorm1d(8), nn.ReLU(),
                        nn.MaxPool1d(2), nn.Conv1d(8, 16, 5, padding=2, rng=1),
                        nn.BatchNorm1d(16), nn.ReLU(), nn.AvgPool1d(4), nn.Flatten(),
                        nn.Linear(16 * 8, 3, rng=2), nn.Softmax())
    dg.fit(net, X, np.eye(3)[y], loss="cross_entropy", optimizer="adam", lr=0.01, epochs=5,
           batch_size=32, progress=False)
    assert dg.accuracy(net, X_test, y_test) >= 0.97
    assert net.training and int(net[1].num_batches_tracked) == 5 * 19
