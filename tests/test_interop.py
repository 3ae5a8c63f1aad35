"""PyTorch weight interop: a torch model's state_dict (a safetensors file) loads into the equal
deltagrad model, which then computes the same outputs and input gradients (1e-10 in float64);
and the other way, a deltagrad model's weights load into torch. Errors name the key."""

import numpy as np
import pytest

import deltagrad as dg
from deltagrad import io, nn

torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")
tnn = torch.nn


def _pairs():
    """name → (deltagrad model, equal torch model, input shape, integer ids?)."""
    return {
        "MLP": (nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)),
                tnn.Sequential(tnn.Linear(3, 5), tnn.Tanh(), tnn.Linear(5, 2)), (4, 3), False),
        "CNN1d-BatchNorm": (
            nn.Sequential(nn.Conv1d(2, 4, 3, padding=1), nn.BatchNorm1d(4), nn.ReLU(),
                          nn.MaxPool1d(2), nn.Flatten(), nn.Linear(4 * 5, 3),
                          nn.BatchNorm1d(3)),
            tnn.Sequential(tnn.Conv1d(2, 4, 3, padding=1), tnn.BatchNorm1d(4), tnn.ReLU(),
                           tnn.MaxPool1d(2), tnn.Flatten(), tnn.Linear(4 * 5, 3),
                           tnn.BatchNorm1d(3)), (6, 2, 10), False),
        "CNN2d-BatchNorm": (
            nn.Sequential(nn.Conv2d(2, 3, 3, stride=2), nn.BatchNorm2d(3, affine=False)),
            tnn.Sequential(tnn.Conv2d(2, 3, 3, stride=2), tnn.BatchNorm2d(3, affine=False)),
            (4, 2, 7, 7), False),
        "RNN": (nn.RNN(3, 4, num_layers=2, nonlinearity="relu"),
                tnn.RNN(3, 4, num_layers=2, nonlinearity="relu", batch_first=True), (2, 5, 3),
                False),
        "LSTM": (nn.LSTM(3, 4, num_layers=2), tnn.LSTM(3, 4, num_layers=2, batch_first=True),
                 (2, 5, 3), False),
        "GRU": (nn.GRU(3, 4, num_layers=2), tnn.GRU(3, 4, num_layers=2, batch_first=True),
                (2, 5, 3), False),
        "LSTM-bidirectional": (
            nn.LSTM(3, 4, num_layers=2, bidirectional=True),
            tnn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True), (2, 5, 3), False),
        "GRU-bidirectional": (
            nn.GRU(3, 4, bidirectional=True),
            tnn.GRU(3, 4, bidirectional=True, batch_first=True), (2, 5, 3), False),
        "GRU-nobias": (nn.GRU(3, 4), tnn.GRU(3, 4, bias=False, batch_first=True), (2, 5, 3),
                       False),
        "MultiHeadAttention": (nn.MultiHeadAttention(8, 2),
                               tnn.MultiheadAttention(8, 2, batch_first=True), (2, 5, 8), False),
        "LayerNorm": (nn.LayerNorm(6), tnn.LayerNorm(6), (3, 4, 6), False),
        "Embedding": (nn.Embedding(7, 3), tnn.Embedding(7, 3), (2, 5), True),
        "TransformerEncoderLayer": (
            nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0),
            tnn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), (2, 5, 8),
            False),
    }


def _run(model, x, torch_model=False):
    out = model(x, x, x, need_weights=False) if torch_model and \
        isinstance(model, tnn.MultiheadAttention) else model(x)
    return out[0] if isinstance(out, tuple) else out


def _randomise(torch_model, rng):
    """Random weights and running statistics (no zeros or ones that could hide a swap)."""
    with torch.no_grad():
        for name, value in torch_model.state_dict().items():
            if value.dtype.is_floating_point:
                value.copy_(torch.tensor(rng.uniform(0.5, 1.5, size=value.shape)
                                         if "running_var" in name
                                         else rng.normal(size=value.shape)))
            else:
                value.fill_(3)


@pytest.mark.parametrize("name", list(_pairs()))
def test_a_pytorch_state_dict_file_loads_into_the_equal_model(name, tmp_path):
    ours, theirs, shape, ids = _pairs()[name]
    rng = np.random.default_rng(0)
    theirs = theirs.double()
    _randomise(theirs, rng)
    theirs.eval()
    path = tmp_path / "torch.safetensors"
    safetensors_torch.save_file({k: v.contiguous() for k, v in theirs.state_dict().items()},
                                str(path))
    assert io.load_torch_state_dict(ours, path) is ours
    ours.eval()
    x = rng.integers(0, 7, size=shape) if ids else rng.normal(size=shape)
    if ids:
        np.testing.assert_allclose(ours(x).data, theirs(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-10, atol=1e-10)
        return
    xo, xt = dg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = _run(ours, xo), _run(theirs, xt, torch_model=True)
    np.testing.assert_allclose(yo.data, yt.detach().numpy(), rtol=1e-10, atol=1e-10)
    g = rng.normal(size=yo.shape)
    yo.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xo.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", [n for n in _pairs() if n != "GRU-nobias"])  # ours has biases
def test_a_deltagrad_model_exports_to_the_equal_pytorch_model(name, tmp_path):
    ours, theirs, shape, ids = _pairs()[name]
    rng = np.random.default_rng(1)
    for p in ours.parameters():
        p.data = rng.normal(size=p.shape)
    for _, b in ours.named_buffers():
        b[...] = rng.uniform(0.5, 1.5, size=b.shape) if b.dtype.kind == "f" else 2
    path = tmp_path / "ours.safetensors"
    io.save_torch_state_dict(ours, path)
    theirs = theirs.double()
    theirs.load_state_dict(safetensors_torch.load_file(str(path)), strict=True)
    ours.eval(), theirs.eval()
    x = rng.integers(0, 7, size=shape) if ids else rng.normal(size=shape)
    with torch.no_grad():
        expected = _run(theirs, torch.tensor(x), torch_model=True).numpy()
    np.testing.assert_allclose(_run(ours, x).data, expected, rtol=1e-10, atol=1e-10)
    back = type(ours).from_config(nn.registry.Spec(ours.config())) \
        if hasattr(ours, "config") and not isinstance(ours, nn.Sequential) else None
    if back is not None:  # and back again into a fresh deltagrad model: the same weights
        io.load_torch_state_dict(back, path)
        for (k, a), b in zip(ours.state_dict().items(), back.state_dict().values()):
            np.testing.assert_array_equal(a, b, err_msg=k)


def test_a_float32_pytorch_model_loads_into_a_float32_model():
    rng = np.random.default_rng(2)
    theirs = tnn.Sequential(tnn.Conv1d(2, 3, 3), tnn.BatchNorm1d(3), tnn.Flatten(),
                            tnn.Linear(3 * 6, 2))
    _randomise(theirs, rng)
    theirs.eval()
    ours = nn.Sequential(nn.Conv1d(2, 3, 3, dtype="float32"), nn.BatchNorm1d(3, dtype="float32"),
                         nn.Flatten(), nn.Linear(3 * 6, 2, dtype="float32"))
    io.load_torch_state_dict(ours, theirs.state_dict())  # a dict of torch tensors works too
    ours.eval()
    assert all(p.dtype == np.float32 for p in ours.parameters())
    x = rng.normal(size=(4, 2, 8)).astype("float32")
    with torch.no_grad():
        expected = theirs(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours(x).data, expected, rtol=1e-5, atol=1e-5)


def test_mismatches_name_the_keys_and_copy_nothing():
    ours = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    before = ours.state_dict()
    state = {k: v.numpy() for k, v in tnn.Sequential(tnn.Linear(4, 2),
                                                     tnn.BatchNorm1d(2)).state_dict().items()}
    with pytest.raises(ValueError, match=r"0.weight: expected shape \(2, 3\), got \(2, 4\)"):
        io.load_torch_state_dict(ours, state)
    del state["1.running_var"]
    state["2.weight"] = np.zeros(2)
    with pytest.raises(ValueError) as err:
        io.load_torch_state_dict(ours, state)
    assert "missing keys ['1.running_var']" in str(err.value)
    assert "unexpected keys ['2.weight']" in str(err.value)
    for k, v in ours.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_bad_arguments_are_refused_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        io.load_torch_state_dict(nn.Linear(2, 2), tmp_path / "none.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"not a file")
    with pytest.raises(ValueError, match="not a safetensors file"):
        io.load_torch_state_dict(nn.Linear(2, 2), tmp_path / "bad.safetensors")
    with pytest.raises(TypeError, match="dict of arrays or a safetensors path"):
        io.load_torch_state_dict(nn.Linear(2, 2), [1, 2])
    with pytest.raises(TypeError, match="expected a deltagrad Module"):
        io.load_torch_state_dict(tnn.Linear(2, 2), {})
    with pytest.raises(ValueError, match="weight contains NaN"):
        io.load_torch_state_dict(nn.Linear(1, 1), {"weight": np.full((1, 1), np.nan),
                                                   "bias": np.zeros(1)})
    with pytest.raises(TypeError, match="expected a deltagrad Module"):
        io.to_torch_state_dict("model")


def test_a_recurrent_weight_the_converter_cannot_name_is_refused_not_dropped():
    gru = nn.GRU(2, 3)
    gru.W_xh_extra = dg.nn.Parameter(np.zeros((9, 2)))  # a weight no torch key names
    with pytest.raises(ValueError, match=r"cannot name for PyTorch: \['W_xh_extra'\]"):
        io.to_torch_state_dict(gru)


def test_strict_false_ignores_missing_and_unexpected_keys_as_pytorch():
    """As torch's load_state_dict(strict=False): the keys that match are copied, the rest is
    left as it is — a review found missing keys refused even with strict=False."""
    net = nn.Sequential(nn.Linear(3, 2, rng=0), nn.Tanh(), nn.Linear(2, 1, rng=1))
    before = net[2].weight.data.copy()
    state = {"0.weight": np.ones((2, 3)), "0.bias": np.zeros(2), "extra.weight": np.ones(1)}
    io.load_torch_state_dict(net, state, strict=False)
    np.testing.assert_array_equal(net[0].weight.data, np.ones((2, 3)))
    np.testing.assert_array_equal(net[2].weight.data, before)
    with pytest.raises(ValueError, match=r"missing keys \['2.bias', '2.weight'\]"):
        io.load_torch_state_dict(net, state)
