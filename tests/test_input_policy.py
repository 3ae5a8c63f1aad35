"""One input policy for every layer (``nn.module.layer_input``) and every primitive
(``ops.base.FLOAT``/``EXACT``/``KEEP``): integer and boolean data compute as the floats they
stand for, and a batch of N = 0 patterns gives empty outputs of the right shape, as PyTorch.

The layers are driven from the savable registry, so a new layer type must join ``LAYERS``."""

import numpy as np
import pytest

import deltagrad as dg
import deltagrad.logic  # noqa: F401  (registers LogicNetwork)
from deltagrad import nn
from deltagrad.nn.registry import SAVABLE


def _feed_forward():
    return nn.FeedForward({"h": "tanh", "y": "identity"},
                          [("x1", "h"), ("x2", "h"), ("x3", "h"), ("h", "y"), ("x1", "y")], rng=0)


# name -> (a fresh layer, the shape of one input batch with N = 2); every layer in eval mode
# where it has dropout, so that the float and the integer run see the same computation
LAYERS = {
    "Identity": (nn.Identity, (2, 3)), "Sigmoid": (nn.Sigmoid, (2, 3)),
    "Tanh": (nn.Tanh, (2, 3)), "ReLU": (nn.ReLU, (2, 3)), "Step": (nn.Step, (2, 3)),
    "Softplus": (nn.Softplus, (2, 3)), "LeakyReLU": (nn.LeakyReLU, (2, 3)),
    "ELU": (nn.ELU, (2, 3)), "GELU": (nn.GELU, (2, 3)), "SiLU": (nn.SiLU, (2, 3)),
    "Softmax": (nn.Softmax, (2, 3)),
    "Linear": (lambda: nn.Linear(3, 2, rng=0), (2, 3)),
    "Conv2d": (lambda: nn.Conv2d(1, 2, 2, rng=0), (2, 1, 4, 4)),
    "MaxPool2d": (lambda: nn.MaxPool2d(2), (2, 1, 4, 4)),
    "AvgPool2d": (lambda: nn.AvgPool2d(2), (2, 1, 4, 4)),
    "Flatten": (nn.Flatten, (2, 1, 4, 4)),
    "Dropout": (lambda: nn.Dropout(0.3, rng=0), (2, 3)),  # training mode: a seeded mask
    "LayerNorm": (lambda: nn.LayerNorm(3), (2, 3)),
    "SinusoidalPositionalEncoding": (lambda: nn.SinusoidalPositionalEncoding(8, 4), (2, 3, 4)),
    "LearnedPositionalEncoding": (lambda: nn.LearnedPositionalEncoding(8, 4, rng=0), (2, 3, 4)),
    "MultiHeadAttention": (lambda: nn.MultiHeadAttention(4, 2, rng=0), (2, 3, 4)),
    "Sequential": (lambda: nn.Sequential(nn.Linear(3, 2, rng=0), nn.Softplus()), (2, 3)),
    "MLP": (lambda: nn.MLP([3, 4, 2], rng=0), (2, 3)),
    "FeedForward": (_feed_forward, (2, 3)),
    "RNN": (lambda: nn.RNN(3, 2, rng=0), (2, 4, 3)),
    "LSTM": (lambda: nn.LSTM(3, 2, num_layers=2, rng=0), (2, 4, 3)),
    "GRU": (lambda: nn.GRU(3, 2, rng=0), (2, 4, 3)),
    "RecurrentNetwork": (lambda: nn.RecurrentNetwork(nn.GRU(3, 2, rng=0), nn.Linear(2, 1, rng=0),
                                                     many_to_one=True), (2, 4, 3)),
    "TransformerEncoderLayer": (lambda: nn.TransformerEncoderLayer(4, 2, 8, rng=0).eval(),
                                (2, 3, 4)),
    "LogicNetwork": (lambda: dg.logic.compile("x1 AND (x2 OR x3)"), (2, 3)),
    "Conv1d": (lambda: nn.Conv1d(2, 3, 3, padding=1, rng=0), (2, 2, 5)),
    "MaxPool1d": (lambda: nn.MaxPool1d(2), (2, 2, 6)),
    "AvgPool1d": (lambda: nn.AvgPool1d(2), (2, 2, 6)),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(3), (2, 3)),  # training mode: batch statistics
    "BatchNorm2d": (lambda: nn.BatchNorm2d(2).eval(), (2, 2, 3, 3)),
    "TransformerDecoderLayer": (lambda: nn.TransformerDecoderLayer(4, 2, 8, rng=0).eval(),
                                (2, 3, 4)),
}
# layers whose input is token ids, not data: integers by nature
ID_LAYERS = {
    "Embedding": (lambda: nn.Embedding(10, 4, rng=0), (2, 3)),
    "TransformerLM": (lambda: nn.TransformerLM(10, 8, 4, 2, 8, rng=0).eval(), (2, 3)),
    "TransformerSeq2Seq": (lambda: nn.TransformerSeq2Seq(10, 10, 8, 2, 1, 1, 8, rng=0).eval(),
                           (2, 3)),
}
# layers called with two inputs of the same kind: (target, memory) or (source, target)
PAIRED = {"TransformerDecoderLayer", "TransformerSeq2Seq"}


def _call(name, layer, data):
    return layer(data, data) if name in PAIRED else layer(data)


def _library_layers() -> set:
    return {name for name, cls in SAVABLE.items() if cls.__module__.startswith("deltagrad.")}


def _output(out):
    """The first array of a layer's output (recurrent layers return (states, last))."""
    return (out[0] if isinstance(out, tuple) else out).data


def test_every_savable_layer_has_a_case_here():
    missing = _library_layers() - set(LAYERS) - set(ID_LAYERS)
    assert not missing, f"layers with no integer-input case: {sorted(missing)}"


def _integer_values(shape, seed=0):
    """Whole numbers −3 … 3 (LogicNetwork: 0/1): values whose float results are known."""
    return np.random.default_rng(seed).integers(-3, 4, size=shape)


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("kind", ["int array", "bool array", "int Tensor", "list of ints"])
def test_integer_and_boolean_data_give_what_the_same_floats_give(name, kind):
    """Each layer on integer data equals the layer on the same values as floats — in value and
    in float dtype (today's defect: Dropout scaled integers by int(1/(1−p)) = 1)."""
    make, shape = LAYERS[name]
    values = _integer_values(shape)
    if kind == "bool array" or name == "LogicNetwork":
        values = values > 0
    data = {"int array": values.astype(np.int64), "bool array": values,
            "int Tensor": dg.tensor(values.astype(np.int64)),
            "list of ints": values.astype(np.int64).tolist()}[kind]
    expected = _output(_call(name, make(), values.astype(np.float64)))
    got = _output(_call(name, make(), data))
    assert got.dtype == np.float64, f"{name} on {kind}: dtype {got.dtype}"
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12,
                               err_msg=f"{name} on {kind}: ours vs the same floats")


def test_dropout_scales_integer_inputs_by_one_over_one_minus_p():
    """The issue's example: each kept value of a 10-valued input is 10/(1 − 0.3) = 14.2857…"""
    out = nn.Dropout(0.3, rng=0)(np.full((200, 50), 10)).data
    kept = out[out != 0]
    np.testing.assert_allclose(kept, 10 / 0.7)
    assert 0.6 < kept.size / out.size < 0.8


def test_a_float_tensor_of_another_dtype_is_refused_with_the_fix():
    x = dg.tensor(np.ones((2, 3), dtype=np.float32))
    for layer in (nn.Linear(3, 2, rng=0), nn.LayerNorm(3), nn.Conv2d(1, 1, 1, rng=0)):
        data = x if not isinstance(layer, nn.Conv2d) else dg.tensor(np.ones((1, 1, 2, 2),
                                                                            np.float32))
        with pytest.raises(TypeError, match=r"float32 does not match the layer's dtype float64; "
                                            r"convert with x.astype\('float64'\)"):
            layer(data)


@pytest.mark.parametrize("bad,error,words", [
    ([[1, 2, 3], [4, 5]], ValueError, "rectangular array of numbers"),
    (np.array([["a", "b", "c"]]), TypeError, "must hold numbers"),
])
def test_non_numeric_or_ragged_data_is_refused_naming_the_layer(bad, error, words):
    for layer in (nn.Linear(3, 2, rng=0), nn.Tanh(), nn.Dropout(0.5), nn.LayerNorm(3)):
        with pytest.raises(error, match=words) as info:
            layer(bad)
        assert type(layer).__name__ in str(info.value)


@pytest.mark.parametrize("name", sorted(ID_LAYERS))
def test_token_layers_take_integer_ids_and_refuse_booleans(name):
    make, shape = ID_LAYERS[name]
    ids = np.random.default_rng(0).integers(0, 10, size=shape)
    np.testing.assert_allclose(_output(_call(name, make(), ids)),
                               _output(_call(name, make(), ids.astype(float))))
    np.testing.assert_allclose(_output(_call(name, make(), dg.tensor(ids))),
                               _output(_call(name, make(), ids)))
    with pytest.raises(TypeError, match="token ids must be integers, got dtype bool"):
        _call(name, make(), ids > 4)


# ---- empty batches --------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(set(LAYERS) - {"LogicNetwork"}) + sorted(ID_LAYERS))
def test_a_batch_of_no_patterns_gives_empty_outputs_of_the_right_shape(name):
    """N = 0 gives (0, …) with the trailing shape of an N = 2 batch, as PyTorch; a loss over
    the empty output backpropagates (zero gradients)."""
    make, shape = {**LAYERS, **ID_LAYERS}[name]
    layer = make()
    if name in ID_LAYERS:
        full, empty = np.zeros(shape, dtype=int), np.zeros((0,) + shape[1:], dtype=int)
    else:
        full, empty = np.ones(shape), dg.tensor(np.zeros((0,) + shape[1:]), requires_grad=True)
    expected = _output(_call(name, layer, full)).shape
    out = _call(name, layer, empty)
    assert _output(out).shape == (0,) + expected[1:]
    if isinstance(empty, dg.Tensor) and (out[0] if isinstance(out, tuple) else out).requires_grad:
        (out[0] if isinstance(out, tuple) else out).sum().backward()
        assert empty.grad.shape == empty.shape


def test_recurrent_layers_on_no_sequences_give_empty_last_states_as_pytorch():
    torch = pytest.importorskip("torch")
    lstm = nn.LSTM(3, 2, num_layers=2, rng=0)
    states, (h, c) = lstm(np.zeros((0, 4, 3)))
    ref, (h_ref, c_ref) = torch.nn.LSTM(3, 2, num_layers=2, batch_first=True)(
        torch.zeros(0, 4, 3))
    assert (states.shape, h.shape, c.shape) == (tuple(ref.shape), tuple(h_ref.shape),
                                                tuple(c_ref.shape))
    assert nn.GRU(3, 2, rng=0)(np.zeros((0, 4, 3)), mask=np.zeros((0, 4), bool))[1].shape \
        == (0, 2)
    with pytest.raises(ValueError, match=r"an empty sequence \(T = 0\)"):
        nn.RNN(3, 2, rng=0)(np.zeros((2, 0, 3)))


def test_predict_on_no_patterns_is_empty_and_evaluate_says_why_it_cannot():
    net = nn.Sequential(nn.Conv2d(1, 2, 3, rng=0), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(8, 3, rng=0), nn.Softmax())
    assert dg.predict(net, np.zeros((0, 1, 6, 6))).shape == (0, 3)
    rnn = nn.RecurrentNetwork(nn.LSTM(3, 2, rng=0), nn.Linear(2, 1, rng=0), many_to_one=True)
    assert dg.predict(rnn, np.zeros((0, 4, 3))).shape == (0, 1)
    with pytest.raises(ValueError, match=r"evaluate: X holds no patterns \(N = 0\)"):
        dg.evaluate(net, np.zeros((0, 1, 6, 6)), np.zeros(0, dtype=int), loss="cross_entropy")
