"""Bidirectional and stacked recurrent layers with dropout between them, against torch.nn in
float64: outputs, PyTorch's layout of h_n (and c_n), every gradient, and padded batches as
PyTorch's packed sequences."""

import copy

import numpy as np
import pytest
import torch

import deltagrad as dg
from deltagrad import nn
from recurrent_twins import torch_gradients, torch_twin


def _make(kind, D_x, D_h, layers, seed, **kwargs):
    return getattr(nn, kind)(D_x, D_h, num_layers=layers, bidirectional=True, rng=seed,
                             **kwargs)


def _run_both(kind, ours, twin, x, h0, c0, lengths=None):
    """(our outputs, torch's outputs, our input/h0/c0 tensors, torch's): H, h_n (, c_n)."""
    xt = torch.tensor(x, requires_grad=True)
    h0t, c0t = torch.tensor(h0, requires_grad=True), torch.tensor(c0, requires_grad=True)
    xd, h0d, c0d = (dg.tensor(a, requires_grad=True) for a in (x, h0, c0))
    source = xt
    mask = None
    if lengths is not None:
        source = torch.nn.utils.rnn.pack_padded_sequence(xt, torch.tensor(lengths),
                                                         batch_first=True, enforce_sorted=False)
        mask = np.arange(x.shape[1])[None, :] < np.array(lengths)[:, None]
    state_t = (h0t, c0t) if kind == "LSTM" else h0t
    state_d = (h0d, c0d) if kind == "LSTM" else h0d
    Ht, last_t = twin(source, state_t)
    if lengths is not None:
        Ht = torch.nn.utils.rnn.pad_packed_sequence(Ht, batch_first=True,
                                                    total_length=x.shape[1])[0]
    Hd, last_d = ours(xd, state_d, mask=mask)
    last_t = list(last_t) if kind == "LSTM" else [last_t]
    last_d = list(last_d) if kind == "LSTM" else [last_d]
    return [Hd] + last_d, [Ht] + last_t, (xd, h0d, c0d), (xt, h0t, c0t), mask


TRIALS = [(kind, seed) for kind in ("RNN", "LSTM", "GRU") for seed in range(3)]


@pytest.mark.parametrize("kind,seed", TRIALS)
@pytest.mark.parametrize("padded", [False, True])
def test_bidirectional_outputs_and_gradients_equal_torch_float64(kind, seed, padded):
    """Random sizes, 1–2 layers, random h0 (and c0); with ``padded`` the sequences have random
    lengths and torch runs them packed: the reverse direction must start at each sequence's
    own last real step. The error seeds every real output, h_n and c_n, so every path back
    through both directions is compared."""
    rng = np.random.default_rng(100 + seed)
    N, T = int(rng.integers(2, 5)), int(rng.choice([1, 3, 8]))
    D_x, D_h, layers = int(rng.integers(1, 5)), int(rng.integers(1, 5)), 1 + seed % 2
    ours = _make(kind, D_x, D_h, layers, seed)
    twin = torch_twin(ours, kind)
    x = rng.normal(size=(N, T, D_x))
    shape = (2 * layers, N, D_h)
    h0, c0 = rng.normal(size=shape), rng.normal(size=shape)
    lengths = None
    if padded:
        lengths = [int(v) for v in rng.integers(1, T + 1, size=N)]
        lengths[0] = T
    outs_d, outs_t, ins_d, ins_t, mask = _run_both(kind, ours, twin, x, h0, c0, lengths)
    real = np.ones((N, T), bool) if mask is None else mask
    seeds = [rng.normal(size=o.shape) for o in outs_d]
    seeds[0] = seeds[0] * real[:, :, None]  # torch's padded outputs are zeros: no error there
    np.testing.assert_allclose(outs_d[0].data[real], outs_t[0].detach().numpy()[real],
                               rtol=1e-10, atol=1e-12, err_msg="H: ours vs torch")
    for od, ot in zip(outs_d[1:], outs_t[1:]):
        assert od.shape == tuple(ot.shape) == shape
        np.testing.assert_allclose(od.data, ot.detach().numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg="h_n / c_n: ours vs torch")
    sum((o * torch.tensor(s)).sum() for o, s in zip(outs_t, seeds)).backward()
    E = (outs_d[0] * seeds[0]).sum()
    for o, s in zip(outs_d[1:], seeds[1:]):
        E = E + (o * s).sum()
    E.backward()
    for d, t, name in zip(ins_d, ins_t, ("x", "h0", "c0")):
        if name == "c0" and kind != "LSTM":
            continue
        np.testing.assert_allclose(d.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=f"{kind} d{name}: ours vs torch")
    reference = torch_gradients(twin, ours, kind)
    assert [name for name, _ in ours.named_parameters()] == list(reference)  # torch's order
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, reference[name], rtol=1e-10, atol=1e-12,
                                   err_msg=f"{kind} {name}: ours vs torch")


def test_the_reverse_half_is_the_layer_run_on_the_reversed_sequence():
    """A one-layer bidirectional GRU: the second half of H at step t is a one-directional GRU
    with the reverse weights run on x read backwards, at step T − 1 − t."""
    rng = np.random.default_rng(0)
    bi = nn.GRU(3, 4, bidirectional=True, rng=1)
    uni = nn.GRU(3, 4, rng=2)
    uni.load_state_dict({k: bi.layer_parameters(0, 1)[k].data for k in ("W_xh", "W_hh", "b_h",
                                                                         "b_hn")})
    x = rng.normal(size=(2, 6, 3))
    H, h_n = bi(x)
    H_rev, h_rev = uni(x[:, ::-1].copy())
    np.testing.assert_allclose(H.data[:, :, 4:], H_rev.data[:, ::-1], rtol=1e-14)
    np.testing.assert_allclose(h_n.data[1], h_rev.data, rtol=1e-14)
    np.testing.assert_allclose(h_n.data[0], H.data[:, -1, :4], rtol=1e-14)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_dropout_between_layers_follows_torch_semantics(kind):
    """dropout=p: in eval mode the stacked layer equals torch's (which also drops nothing in
    eval); in training mode layer 2 reads layer 1's states times keep/(1 − p) — the mask the
    layer's generator draws — and the top layer's states are not dropped."""
    p, rng = 0.4, np.random.default_rng(3)
    x = rng.normal(size=(3, 5, 2))
    layer = getattr(nn, kind)(2, 3, num_layers=2, dropout=p, rng=0)
    twin = torch_twin(layer, kind, dropout=p)
    twin.eval()
    np.testing.assert_allclose(layer.eval()(x)[0].data, twin(torch.tensor(x))[0].detach(),
                               rtol=1e-12)
    layer.train()
    first = getattr(nn, kind)(2, 3, rng=0)
    second = getattr(nn, kind)(3, 3, rng=0)
    first.load_state_dict({k: v.data for k, v in layer.layer_parameters(0).items()})
    second.load_state_dict({k: v.data for k, v in layer.layer_parameters(1).items()})
    generator = layer.layer_dropout.rng
    saved = copy.deepcopy(generator.bit_generator.state)
    H, _ = layer(x)
    generator.bit_generator.state = saved
    keep = generator.random((3, 5, 3)) >= p
    expected, _ = second(first(x)[0].data * keep / (1 - p))
    np.testing.assert_allclose(H.data, expected.data, rtol=1e-13)
    assert not np.allclose(H.data, layer.eval()(x)[0].data)


def test_many_to_one_on_a_bidirectional_layer_reads_both_directions_last_states():
    lstm = nn.LSTM(2, 3, num_layers=2, bidirectional=True, rng=0)
    head = nn.Linear(6, 1, rng=1)
    net = nn.RecurrentNetwork(lstm, head, many_to_one=True)
    x = np.random.default_rng(0).normal(size=(4, 5, 2))
    H, (h_n, _) = lstm(x)
    expected = head(np.concatenate([h_n.data[2], h_n.data[3]], axis=1))
    np.testing.assert_allclose(net(x).data, expected.data, rtol=1e-14)
    # the forward direction's last state is H's last step, the reverse one's is H's first
    np.testing.assert_allclose(h_n.data[2], H.data[:, -1, :3], rtol=1e-14)
    np.testing.assert_allclose(h_n.data[3], H.data[:, 0, 3:], rtol=1e-14)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_save_and_load_keep_direction_and_dropout(kind, tmp_path):
    layer = getattr(nn, kind)(2, 3, num_layers=2, bidirectional=True, dropout=0.25, rng=0)
    path = tmp_path / "m.npz"
    dg.save(layer, path)
    back = dg.load(path)
    assert (back.bidirectional, back.dropout, back.num_layers) == (True, 0.25, 2)
    x = np.ones((1, 4, 2))
    np.testing.assert_array_equal(back.eval()(x)[0].data, layer.eval()(x)[0].data)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(TypeError, match="bidirectional"):
        nn.GRU(2, 3, bidirectional="yes")
    with pytest.raises(ValueError, match="dropout"):
        nn.LSTM(2, 3, num_layers=2, dropout=1.5)
    bi = nn.RNN(2, 3, bidirectional=True, rng=0)
    with pytest.raises(ValueError, match=r"h0 must have shape \(2, 4, 3\)"):
        bi(np.ones((4, 5, 2)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="expected 2 input features"):
        bi(np.ones((4, 5, 6)))


def test_repr_names_direction_and_dropout():
    assert repr(nn.GRU(2, 3, num_layers=2, bidirectional=True, dropout=0.1, rng=0)) \
        .startswith("GRU(2, 3, num_layers=2, bidirectional=True, dropout=0.1")


def test_the_one_direction_tools_refuse_a_bidirectional_layer():
    rnn = nn.RNN(1, 3, bidirectional=True, rng=0)
    with pytest.raises(ValueError, match="one-layer, one-directional nn.RNN"):
        dg.explain.bptt(rnn, nn.Linear(6, 1, rng=0), [[1.0]], [[1.0]])
    with pytest.raises(ValueError, match="state_jacobians: .* is bidirectional"):
        dg.analysis.state_jacobians(rnn, np.zeros((5, 1)))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_float32_stays_float32_and_agrees_with_float64(kind):
    x = np.random.default_rng(2).normal(size=(3, 6, 2))
    mask = np.arange(6)[None] < np.array([[6], [2], [4]])
    wide = _make(kind, 2, 3, 2, 0)
    narrow = _make(kind, 2, 3, 2, 0, dtype="float32")
    H64, _ = wide(x, mask=mask)
    x32 = dg.tensor(x.astype("float32"), requires_grad=True)
    H32, _ = narrow(x32, mask=mask)
    H32.sum().backward()
    assert H32.dtype == np.float32 and x32.grad.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in narrow.parameters())
    np.testing.assert_allclose(H32.data, H64.data, rtol=1e-5, atol=1e-6)


def test_dropout_on_one_layer_warns_that_it_does_nothing_as_pytorch():
    with pytest.warns(UserWarning, match=r"dropout=0.5 acts between stacked layers"):
        nn.GRU(4, 5, dropout=0.5)
