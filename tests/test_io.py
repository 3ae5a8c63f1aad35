"""Save and load: round trips, atomic writes, malformed files, PyTorch interoperability."""

import json
import os
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import deltagrad as dg
from deltagrad import io, nn
from deltagrad.callbacks import ModelCheckpoint

torch = pytest.importorskip("torch")


def _models():
    return {
        "Linear": nn.Linear(3, 2, rng=0),
        "Linear-nobias": nn.Linear(3, 2, bias=False, rng=0),
        "MLP": nn.MLP("3-4-2", hidden="tanh", output="softmax", rng=0),
        "MLP-float32": nn.MLP("3-5-5-1", hidden=["relu", "sigmoid"], rng=0, dtype="float32"),
        "Sequential": nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1),
                                    nn.Softmax()),
        "FeedForward": nn.FeedForward({"h": "tanh", "y": "identity", "z": "sigmoid"},
                                      [("x1", "h"), ("x2", "h"), ("x3", "y"), ("h", "y"),
                                       ("h", "z")], rng=0),
        "LogicNetwork": dg.logic.compile("(x1 and x2) or not x3"),
        "Identity": nn.Identity(), "Tanh": nn.Tanh(), "Sigmoid": nn.Sigmoid(),
        "ReLU": nn.ReLU(), "Step": nn.Step(), "Softmax": nn.Softmax(axis=0),
        "Softplus": nn.Softplus(beta=2.0), "LeakyReLU": nn.LeakyReLU(0.2),
        "ELU": nn.ELU(alpha=0.5), "GELU": nn.GELU(approximate="tanh"), "SiLU": nn.SiLU(),
        "RNN": nn.RNN(3, 4, nonlinearity="relu", rng=0),
        "LSTM": nn.LSTM(3, 2, num_layers=2, rng=0, dtype="float32"),
        "GRU": nn.GRU(3, 4, rng=0),
        "GRU-bidirectional-dropout": nn.GRU(3, 2, num_layers=2, bidirectional=True,
                                            dropout=0.5, rng=0),
        "RecurrentNetwork": nn.RecurrentNetwork(
            nn.GRU(3, 4, rng=0), nn.Sequential(nn.Linear(4, 2, rng=1), nn.Softmax())),
    }


RECURRENT = ("RNN", "LSTM", "GRU", "GRU-bidirectional-dropout", "RecurrentNetwork")


def _image_models():
    """Savable types that take image batches (N, C, H, W); the inputs are (5, 2, 8, 8)."""
    cnn = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1, rng=0), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(4, 3, 2, stride=2, bias=False, rng=1), nn.AvgPool2d(2),
                        nn.Flatten(), nn.Dropout(0.3, rng=5), nn.Linear(3, 2, rng=2),
                        nn.Softmax())
    return {"CNN": cnn, "CNN-float32": nn.Sequential(
        nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 0), rng=3, dtype="float32",
                  init="glorot"), nn.Flatten(), nn.Linear(3 * 4 * 7, 1, rng=0,
                                                          dtype="float32")),
        "Dropout": nn.Dropout(0.5, rng=3), "Flatten": nn.Flatten(),
        "BatchNorm2d": nn.BatchNorm2d(2, momentum=None)}


def _signal_models():
    """Savable types that take signal batches (N, C, L); the inputs are (5, 2, 8)."""
    return {"CNN1d": nn.Sequential(
        nn.Conv1d(2, 4, 3, padding=1, rng=0), nn.BatchNorm1d(4), nn.ReLU(), nn.MaxPool1d(2),
        nn.Conv1d(4, 3, 2, stride=2, bias=False, rng=1, init="glorot"), nn.AvgPool1d(2),
        nn.Flatten(), nn.Linear(3, 2, rng=2)),
        "CNN1d-float32": nn.Sequential(nn.Conv1d(2, 3, 3, stride=2, rng=3, dtype="float32"),
                                       nn.BatchNorm1d(3, affine=False, dtype="float32"))}


def _sequence_models():
    """Savable types that take token vectors (5, 6, 8), or token ids (5, 6) for those listed in
    TOKEN_MODELS."""
    return {
        "MultiHeadAttention": nn.MultiHeadAttention(8, 2, rng=0),
        "LayerNorm": nn.LayerNorm(8, eps=1e-4), "LayerNorm-nobias": nn.LayerNorm(8, bias=False),
        "SinusoidalPositionalEncoding": nn.SinusoidalPositionalEncoding(6, 8),
        "LearnedPositionalEncoding": nn.LearnedPositionalEncoding(7, 8, rng=0),
        "TransformerEncoderLayer": nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, rng=0),
        "TransformerEncoderLayer-prenorm-float32": nn.TransformerEncoderLayer(
            8, 4, 12, dropout=0.0, activation="gelu", norm_first=True, rng=1, dtype="float32"),
        "Embedding": nn.Embedding(3, 4, rng=0),
        "Embedding-padding": nn.Embedding(3, 4, padding_idx=-1, rng=0),
        "TransformerDecoderLayer": nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, rng=0),
        "TransformerSeq2Seq": nn.TransformerSeq2Seq(3, 4, 8, 2, 1, 2, max_len=6, rng=0),
        "TransformerLM": nn.TransformerLM(3, 8, 2, 2, max_len=6, rng=0),
        "TransformerLM-learned-postnorm": nn.TransformerLM(
            3, 8, 2, 1, max_len=9, positional="learned", norm_first=False, causal=False,
            activation="relu", rng=0),
    }


TOKEN_MODELS = ("Embedding", "Embedding-padding", "TransformerLM",
                "TransformerLM-learned-postnorm", "TransformerSeq2Seq")
PAIRED = ("TransformerDecoderLayer", "TransformerSeq2Seq")  # called as model(X, X)
ROUND_TRIP = {**_models(), **_image_models(), **_sequence_models(), **_signal_models()}


def _round_trip_input(name: str) -> np.ndarray:
    rng = np.random.default_rng(0)
    if name in TOKEN_MODELS:
        return rng.integers(0, 3, size=(5, 6))
    if name in _sequence_models():
        dtype = "float32" if name.endswith("float32") else "float64"
        return rng.normal(size=(5, 6, 8)).astype(dtype)
    if name in _signal_models():
        return rng.normal(size=(5, 2, 8)).astype("float32" if "float32" in name else "float64")
    shape = (5, 2, 8, 8) if name in _image_models() else (5, 3)
    return rng.integers(0, 2, size=shape).astype(float)


@pytest.mark.parametrize("name", list(ROUND_TRIP))
def test_round_trip_gives_the_same_class_weights_and_outputs(name, tmp_path):
    model = {**_models(), **_image_models(), **_sequence_models(), **_signal_models()}[name]
    running = any(True for _ in model.named_buffers())
    if running:  # a training step moves the running statistics off 0 and 1; compare in eval
        model(_round_trip_input(name))
        model.eval()
    path = tmp_path / "model.safetensors"
    dg.save(model, path)
    again = dg.load(path).train(not running)
    assert type(again) is type(model)
    X = _round_trip_input(name)
    if name in RECURRENT:  # sequences (N, T, D_x); a layer returns (states, last)
        X = X.reshape(5, 1, 3).repeat(2, axis=1).astype(model.parameters()[0].dtype)
    if name in PAIRED:
        ours, theirs = model(X, X), again(X, X)
    else:
        ours, theirs = model(X), again(X)
    if isinstance(ours, tuple):
        ours, theirs = ours[0], theirs[0]
    np.testing.assert_array_equal(theirs.data, ours.data)  # to the bit
    for (n1, p1), (n2, p2) in zip(model.named_parameters(), again.named_parameters()):
        assert n1 == n2 and p1.dtype == p2.dtype
        np.testing.assert_array_equal(p1.data, p2.data)
    for (n1, b1), (n2, b2) in zip(model.named_buffers(), again.named_buffers(), strict=True):
        assert n1 == n2 and b1.dtype == b2.dtype and b1.shape == b2.shape
        np.testing.assert_array_equal(b1, b2)


def test_an_interrupted_save_leaves_the_previous_file_loadable(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    old = nn.MLP("2-3-1", rng=0)
    dg.save(old, path)

    def crash(*args):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        dg.save(nn.MLP("2-3-1", rng=1), path)
    monkeypatch.undo()
    X = np.ones((1, 2))
    np.testing.assert_array_equal(dg.load(path)(X).data, old(X).data)
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]  # no temporary left


def _valid_bytes(tmp_path) -> bytes:
    path = tmp_path / "good.safetensors"
    dg.save(nn.MLP("2-3-1", rng=0), path)
    return path.read_bytes()


@settings(max_examples=500, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_corrupted_files_raise_value_error(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("fuzz")
    good = _valid_bytes(folder)
    kind = data.draw(st.sampled_from(["truncate", "flip", "random", "header"]))
    if kind == "truncate":
        blob = good[:data.draw(st.integers(0, len(good) - 1))]
    elif kind == "flip":
        blob = bytearray(good)
        for _ in range(data.draw(st.integers(1, 8))):
            i = data.draw(st.integers(0, len(blob) - 1))
            blob[i] ^= 1 << data.draw(st.integers(0, 7))
        blob = bytes(blob)
    elif kind == "random":
        blob = data.draw(st.binary(min_size=0, max_size=400))
    else:  # a well-formed container around a hostile header
        header = data.draw(st.binary(min_size=0, max_size=200))
        blob = struct.pack("<Q", len(header)) + header
    path = folder / "bad.safetensors"
    path.write_bytes(blob)
    if blob == good:
        return
    try:
        dg.load(path)
    except ValueError as err:
        assert str(err)
    else:  # a flip that left a valid file (e.g. in a weight's mantissa) may load
        assert kind == "flip"


def _file_with_architecture(tmp_path, architecture: dict, tensors=None):
    from safetensors.numpy import save_file

    path = tmp_path / "crafted.safetensors"
    tensors = tensors or {"linear1.weight": np.zeros((3, 2)), "linear1.bias": np.zeros(3),
                          "linear2.weight": np.zeros((1, 3)), "linear2.bias": np.zeros(1)}
    save_file(tensors, str(path), metadata={"format": io.FORMAT,
                                            "architecture": json.dumps(architecture)})
    return path


def test_an_unknown_type_is_refused_without_importing_anything(tmp_path, monkeypatch):
    imported = []
    real_import = __builtins__["__import__"] if isinstance(__builtins__, dict) else \
        __builtins__.__import__

    def spy(name, *args, **kwargs):
        imported.append(name)
        return real_import(name, *args, **kwargs)

    path = _file_with_architecture(tmp_path, {"type": "os.system", "command": "echo owned"})
    monkeypatch.setattr("builtins.__import__", spy)
    with pytest.raises(ValueError, match=r"unknown module type 'os.system'"):
        dg.load(path)
    monkeypatch.undo()
    assert "os.system" not in imported and not any("system" in name for name in imported)


def test_an_architecture_larger_than_the_file_is_refused(tmp_path):
    path = _file_with_architecture(tmp_path, {"type": "MLP", "sizes": [100000, 100000, 1],
                                              "activations": ["tanh", "identity"],
                                              "dtype": "float64"})
    with pytest.raises(ValueError, match="needs more weights than the file holds"):
        dg.load(path)


def test_shape_and_dtype_mismatches_are_refused(tmp_path):
    arch = {"type": "MLP", "sizes": [2, 3, 1], "activations": ["tanh", "identity"],
            "dtype": "float32"}
    with pytest.raises(ValueError, match=r"linear1.weight has shape \(3, 2\) and dtype float64; "
                                         r"the architecture needs \(3, 2\) float32"):
        dg.load(_file_with_architecture(tmp_path, arch))


def test_a_file_not_from_deltagrad_is_refused(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "other.safetensors"
    save_file({"w": np.zeros(2)}, str(path))
    with pytest.raises(ValueError, match="was not written by deltagrad"):
        dg.load(path)
    with pytest.raises(FileNotFoundError):
        dg.load(tmp_path / "missing.safetensors")


def test_a_linear_mlp_loads_into_pytorch_through_safetensors(tmp_path):
    from safetensors.torch import load_file

    net = nn.MLP("4-6-3", hidden="tanh", output="identity", rng=0)
    path = tmp_path / "net.safetensors"
    dg.save(net, path)
    weights = load_file(str(path))
    model = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(),
                                torch.nn.Linear(6, 3)).double()
    model.load_state_dict({"0.weight": weights["linear1.weight"],
                           "0.bias": weights["linear1.bias"],
                           "2.weight": weights["linear2.weight"],
                           "2.bias": weights["linear2.bias"]})
    X = np.random.default_rng(0).normal(size=(5, 4))
    np.testing.assert_allclose(model(torch.tensor(X)).detach().numpy(), net(X).data,
                               rtol=1e-12, atol=1e-14)


def test_model_checkpoint_keeps_the_best_epoch(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(30, 1))
    T = np.sin(3 * X) + 0.3 * rng.normal(size=X.shape)
    path = tmp_path / "best.safetensors"
    checkpoint = ModelCheckpoint(path)
    h = dg.fit(nn.MLP("1-30-1", rng=0), X, T, optimizer="adam", lr=0.02, epochs=150,
               validation_split=0.3, callbacks=[checkpoint], progress=False)
    assert checkpoint.saved_epoch == h.best_epoch
    _, extra = io.read(path)
    assert extra["epoch"] == h.best_epoch and extra["val_error"] == min(h.val_error)


FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "format1")


FORMAT1 = ["Linear", "Linear-nobias", "MLP", "MLP-float32", "Sequential", "FeedForward",
           "LogicNetwork", "Identity", "Tanh", "Sigmoid", "ReLU", "Step", "Softmax"]


@pytest.mark.parametrize("name", FORMAT1)
def test_files_written_before_saving_by_registration_still_load(name):
    """tests/fixtures/format1 was written by the if-ladder saver that preceded the registry
    (commit "tests/fixtures/format1"); each file must load to the same class and to the very
    outputs recorded then."""
    expected = np.load(os.path.join(FIXTURES, "outputs.npz"))
    model = dg.load(os.path.join(FIXTURES, f"{name}.safetensors"))
    assert type(model) is type(_models()[name])
    np.testing.assert_array_equal(model(expected["X"]).data, expected[name])


def test_every_registered_type_is_covered_by_the_round_trip_test():
    """A new savable class must join _models() above (and so the round trip to the bit)."""
    from deltagrad.nn.registry import SAVABLE

    covered = {type(m).type_name for model in ROUND_TRIP.values() for m in model.modules()}
    assert covered == set(SAVABLE)


def test_a_new_layer_is_savable_by_the_decorator_alone(tmp_path):
    from deltagrad.nn.registry import SAVABLE, savable

    @savable("TestScaledLinear")
    class ScaledLinear(nn.Linear):
        def __init__(self, *args, scale=2.0, **kwargs):
            super().__init__(*args, **kwargs)
            self.scale = scale

        def forward(self, x):
            return super().forward(x) * self.scale

        def config(self):
            return {**super().config(), "scale": self.scale}

        @classmethod
        def from_config(cls, spec):
            layer = nn.Linear.from_config.__func__(cls, spec)
            layer.scale = spec.get("scale", float)
            return layer

    try:
        model = nn.Sequential(ScaledLinear(3, 2, rng=0, scale=0.5), nn.Tanh())
        dg.save(model, tmp_path / "m.safetensors")
        again = dg.load(tmp_path / "m.safetensors")
        assert type(again[0]) is ScaledLinear and again[0].scale == 0.5
        X = np.ones((2, 3))
        np.testing.assert_array_equal(again(X).data, model(X).data)
    finally:
        del SAVABLE["TestScaledLinear"]


def test_an_unregistered_module_is_refused_with_the_decorator_named(tmp_path):
    class Custom(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(TypeError, match="Custom is not registered as savable.*@deltagrad"):
        dg.save(nn.Sequential(nn.Linear(2, 2), Custom()), tmp_path / "m.safetensors")
