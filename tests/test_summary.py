"""nn.utils.summary: each layer's output shape and parameter count, as Keras prints them; the
counts are derived by hand in each test (weights + biases), and torch's numel agrees."""

import numpy as np
import pytest

import deltagrad as dg
from deltagrad import nn
from deltagrad.nn.utils import summary


def _rows(s):
    return [(r["name"], r["type"], r["output_shape"], r["params"]) for r in s.rows]


def test_a_1d_cnn_with_batch_norm():
    """Conv1d(1→8, k=5): 8·1·5 + 8 = 48; BatchNorm1d(8): γ, β trainable (16), running mean
    and variance non-trainable (16); Linear(8·32 → 3): 256·3 + 3 = 771."""
    net = nn.Sequential(nn.Conv1d(1, 8, 5, padding=2), nn.BatchNorm1d(8), nn.ReLU(),
                        nn.MaxPool1d(2), nn.Flatten(), nn.Linear(8 * 32, 3))
    net.train()
    before = net[1].state_dict()
    s = summary(net, (1, 64))
    assert _rows(s) == [("0", "Conv1d", "(N, 8, 64)", 48), ("1", "BatchNorm1d", "(N, 8, 64)", 32),
                        ("2", "ReLU", "(N, 8, 64)", 0), ("3", "MaxPool1d", "(N, 8, 32)", 0),
                        ("4", "Flatten", "(N, 256)", 0), ("5", "Linear", "(N, 3)", 771)]
    assert (s.total, s.trainable, s.non_trainable) == (851, 835, 16)
    assert net.training and all(np.array_equal(v, before[k])  # nothing moved
                                for k, v in net[1].state_dict().items())
    text = str(s)
    assert "(N, 8, 64)" in text and "Total params: 851" in text
    assert "Non-trainable params: 16" in text and text.startswith('Model: "Sequential"')


def test_an_mlp_shows_every_layer_although_it_runs_as_one_fused_node():
    """2-3-1: (2+1)·3 = 9 and (3+1)·1 = 4."""
    s = summary(nn.MLP("2-3-1"), (2,))
    assert _rows(s) == [("linear1", "Linear", "(N, 3)", 9), ("act1", "Tanh", "(N, 3)", 0),
                        ("linear2", "Linear", "(N, 1)", 4), ("act2", "Identity", "(N, 1)", 0)]
    assert s.total == 13 == nn.MLP("2-3-1").num_parameters()


def test_recurrent_models_show_states_and_last_states_with_the_batch_axis_found():
    """A 2-layer LSTM(3→4): layer 0 4·4·(3+4) + 16 = 128, layer 1 4·4·(4+4) + 16 = 144; its last
    states are (num_layers, N, D_h): the batch is the middle axis."""
    net = nn.RecurrentNetwork(nn.LSTM(3, 4, num_layers=2), nn.Linear(4, 2))
    s = summary(net, (6, 3))
    assert _rows(s) == [("recurrent", "LSTM", "(N, 6, 4), (2, N, 4), (2, N, 4)", 272),
                        ("output", "Linear", "(N, 6, 2)", 10)]


def test_a_token_model_gets_integer_ids_and_nested_layers_are_indented():
    net = nn.TransformerLM(5, 8, 2, 1, max_len=4)
    s = summary(net, (4,))
    rows = {r["name"]: r for r in s.rows}
    assert rows["token"]["output_shape"] == "(N, 4, 8)" and rows["token"]["params"] == 40
    assert rows["layers.0.self_attn"]["depth"] == 2
    assert rows["head"]["output_shape"] == "(N, 4, 5)"
    assert s.total == net.num_parameters()
    assert "    layers.0.self_attn (MultiHeadAttention)" in str(s)


def test_the_counts_equal_pytorch_numel():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3), torch.nn.BatchNorm2d(6),
                                 torch.nn.Flatten(), torch.nn.Linear(6 * 4 * 4, 2))
    ours = nn.Sequential(nn.Conv2d(3, 6, 3), nn.BatchNorm2d(6), nn.Flatten(),
                         nn.Linear(6 * 4 * 4, 2))
    s = summary(ours, (3, 6, 6))
    assert s.trainable == sum(p.numel() for p in theirs.parameters())
    assert s.non_trainable == sum(b.numel() for n, b in theirs.named_buffers()
                                  if b.dtype.is_floating_point)


@pytest.mark.parametrize("shape,error,message", [
    ((1, 32), ValueError, "refused an input of shape (N, 1, 32)"),  # Linear expects 4 features
    ("(4,)", ValueError, "input_shape must be the shape of one pattern"),
    ((4, 0), ValueError, "input_shape must be the shape of one pattern"),
    ((2.5,), ValueError, "input_shape must be the shape of one pattern"),
])
def test_bad_shapes_are_refused_clearly(shape, error, message):
    with pytest.raises(error) as err:
        summary(nn.Linear(4, 2), shape)
    assert message in str(err.value)


def test_a_non_module_is_refused():
    with pytest.raises(TypeError, match="must be a deltagrad Module"):
        summary(lambda x: x, (3,))


def test_an_int_shape_means_one_axis():
    assert _rows(summary(nn.Linear(4, 2), 4)) == [("Linear", "Linear", "(N, 2)", 10)]
    assert dg.nn.utils.summary is summary
