"""TransformerDecoderLayer against torch.nn.TransformerDecoderLayer in float64 (outputs and
every gradient, pre- and post-norm, masks), and the encoder–decoder TransformerSeq2Seq
learning to reverse sequences and generating the answer greedily."""

import numpy as np
import pytest
import torch

import deltagrad as dg
from deltagrad import nn
from deltagrad.data import Batches

TOL = dict(rtol=1e-10, atol=1e-10)


def _close(ours, theirs, what):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    ours = ours.data if isinstance(ours, dg.Tensor) else ours
    np.testing.assert_allclose(ours, theirs, err_msg=f"{what}: ours vs torch", **TOL)


CASES = [(norm_first, activation, masks) for norm_first in (False, True)
         for activation, masks in (("relu", False), ("gelu", True))]


@pytest.mark.parametrize("norm_first,activation,masks", CASES)
def test_decoder_layer_matches_torch_outputs_and_gradients(norm_first, activation, masks):
    """Causal self-attention (torch: tgt_mask = the square subsequent mask), cross-attention
    to a memory of another length; with ``masks`` the target and the memory have padding
    (torch's key_padding_masks are True where ours are False)."""
    rng = np.random.default_rng(int(norm_first) + 2 * masks)
    E, H, N, T, S = 8, 2, 3, 5, 7
    ours = nn.TransformerDecoderLayer(E, H, 12, dropout=0.0, activation=activation,
                                      norm_first=norm_first, rng=0)
    for p in ours.parameters():  # non-zero biases and norms, so every weight is exercised
        p.data = p.data + rng.normal(scale=0.1, size=p.shape)
    theirs = torch.nn.TransformerDecoderLayer(E, H, 12, dropout=0.0, activation=activation,
                                              norm_first=norm_first, batch_first=True,
                                              dtype=torch.float64)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    tgt, memory = rng.normal(size=(N, T, E)), rng.normal(size=(N, S, E))
    to, mo = (dg.tensor(a, requires_grad=True) for a in (tgt, memory))
    tt, mt = (torch.tensor(a, requires_grad=True) for a in (tgt, memory))
    kwargs, t_kwargs = {}, {}
    if masks:
        tgt_keys, memory_keys = np.ones((N, T), bool), np.ones((N, S), bool)
        tgt_keys[1, 3:], memory_keys[0, 4:], memory_keys[2, 1:3] = False, False, False
        kwargs = dict(key_mask=tgt_keys, memory_key_mask=memory_keys)
        t_kwargs = dict(tgt_key_padding_mask=torch.tensor(~tgt_keys),
                        memory_key_padding_mask=torch.tensor(~memory_keys))
    out = ours(to, mo, **kwargs)
    causal = torch.ones(T, T, dtype=torch.bool).triu(1)  # torch: True = blocked
    t_out = theirs(tt, mt, tgt_mask=causal, tgt_is_causal=True, **t_kwargs)
    _close(out, t_out, "output")
    g = rng.normal(size=out.shape)
    out.backward(g)
    t_out.backward(torch.tensor(g))
    _close(to.grad, tt.grad, "d tgt")
    _close(mo.grad, mt.grad, "d memory")
    t_params = dict(theirs.named_parameters())
    assert [name for name, _ in ours.named_parameters()] == list(t_params)
    for name, p in ours.named_parameters():
        _close(p.grad, t_params[name].grad, name)


def test_decoder_layer_passes_gradcheck():
    rng = np.random.default_rng(1)
    layer = nn.TransformerDecoderLayer(4, 2, 6, dropout=0.0, norm_first=True, rng=0)
    tgt = dg.tensor(rng.normal(size=(2, 3, 4)), requires_grad=True)
    memory = dg.tensor(rng.normal(size=(2, 4, 4)), requires_grad=True)
    assert dg.gradcheck(lambda t, m: layer(t, m), tgt, memory)


def test_the_decoder_at_position_t_does_not_see_later_target_tokens():
    model = nn.TransformerSeq2Seq(6, 7, 8, 2, 1, 2, max_len=6, rng=0)
    src = [[1, 2, 3, 4]]
    a, b = model(src, [[6, 1, 2, 3, 4]]).data, model(src, [[6, 1, 2, 5, 0]]).data
    np.testing.assert_allclose(a[:, :3], b[:, :3], rtol=1e-13)
    assert not np.allclose(a[:, 3:], b[:, 3:])


def test_seq2seq_learns_to_reverse_and_generates_the_answer_greedily():
    """Reversal of 5 digits from 0–7 (the target vocabulary adds a start token, 8): trained
    with teacher forcing on 1200 sequences (AdamW, a cosine schedule with warm-up, Batches),
    the model generates the reversal of 200 new sequences token by token, without the answer."""
    rng = np.random.default_rng(0)
    L, V, START = 5, 8, 8
    src = rng.integers(0, V, size=(1200, L))
    tgt = src[:, ::-1]
    tgt_in = np.concatenate([np.full((len(src), 1), START), tgt[:, :-1]], axis=1)
    model = nn.TransformerSeq2Seq(V, V + 1, 32, 2, 1, 1, max_len=L + 1, dim_feedforward=64,
                                  rng=0)
    opt = dg.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    batches = Batches(src, tgt_in, tgt, batch_size=32, seed=0)
    schedule = dg.optim.lr_scheduler.CosineWarmupLR(opt, warmup_steps=10,
                                                    total_steps=4 * len(batches))
    for _ in range(4):
        for s, t_in, t in batches:
            opt.zero_grad()
            dg.losses.cross_entropy(dg.softmax(model(s, t_in), axis=-1), t).backward()
            opt.step()
            schedule.step()
    test = np.random.default_rng(1).integers(0, V, size=(200, L))
    answer = model.generate(test, start_token=START, max_new_tokens=L)
    assert answer.shape == (200, L)
    assert np.mean(np.all(answer == test[:, ::-1], axis=1)) >= 0.95
    assert model.training  # generate() restores the mode it found


def test_generate_stops_at_the_end_token_and_fills_finished_rows():
    model = nn.TransformerSeq2Seq(4, 4, 8, 2, 1, 1, max_len=6, rng=0)
    for p in model.head.parameters():
        p.data = np.zeros(p.shape)
    model.head.bias.data = np.array([0.0, 0.0, 0.0, 1.0])  # token 3 always wins
    out = model.generate([[1, 2], [0, 0]], start_token=0, max_new_tokens=5, end_token=3)
    np.testing.assert_array_equal(out, [[3], [3]])


def test_save_and_load_give_the_same_logits(tmp_path):
    model = nn.TransformerSeq2Seq(5, 6, 8, 2, 2, 1, max_len=7, positional="learned",
                                  norm_first=False, activation="gelu", rng=0)
    dg.save(model, tmp_path / "s2s.safetensors")
    back = dg.load(tmp_path / "s2s.safetensors")
    src, tgt = [[1, 2, 3]], [[5, 0, 4, 4]]
    np.testing.assert_array_equal(back(src, tgt).data, model(src, tgt).data)


def test_bad_input_gets_clear_errors():
    model = nn.TransformerSeq2Seq(5, 6, 8, 2, 1, 1, max_len=4, rng=0)
    with pytest.raises(ValueError, match="token id 7 is outside the vocabulary 0 … 4"):
        model([[7]], [[0]])
    with pytest.raises(ValueError, match="tgt must be token ids of shape .N, T."):
        model([[1, 2]], [1, 2])
    with pytest.raises(ValueError, match="src sequence of length 5 is longer than max_len=4"):
        model([[1, 2, 3, 4, 0]], [[0]])
    with pytest.raises(ValueError, match="the same number of sequences, got 1 and 2"):
        model([[1, 2]], [[0], [1]])
    with pytest.raises(ValueError, match=r"max_new_tokens must be an integer in \[1, 3\]"):
        model.generate([[1]], start_token=0, max_new_tokens=4)
    with pytest.raises(ValueError, match="start_token: token id 9"):
        model.generate([[1]], start_token=9, max_new_tokens=2)
    layer = nn.TransformerDecoderLayer(8, 2, 16, rng=0)
    with pytest.raises(ValueError, match=r"expects inputs of shape \(\.\.\., T, 8\)"):
        layer(np.ones((1, 2, 8)), np.ones((1, 3, 5)))
    with pytest.raises(ValueError, match=r"memory \(N, S, E\) must be batches of the same N"):
        layer(np.ones((2, 3, 8)), np.ones((3, 4, 8)))
    with pytest.raises(ValueError, match="unknown activation 'tanh'"):
        nn.TransformerDecoderLayer(8, 2, activation="tanh")
    with pytest.raises(ValueError, match="not divisible by num_heads 3"):
        nn.TransformerDecoderLayer(8, 3)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")  # torch's, on norm_first
@pytest.mark.parametrize("norm_first", [True, False])
def test_seq2seq_equals_torch_nn_transformer_between_its_embeddings_and_head(norm_first):
    """The encoder and decoder stacks (with torch.nn.Transformer's final norms when pre-norm)
    are torch.nn.Transformer: fed our embedded source and target, torch's output through our
    head gives our logits, and every stack weight and both embeddings get torch's gradient."""
    rng = np.random.default_rng(4)
    E, H, N, S, T = 8, 2, 2, 5, 4
    model = nn.TransformerSeq2Seq(6, 7, E, H, 2, 2, max_len=6, dim_feedforward=12,
                                  norm_first=norm_first, rng=0)
    for p in model.parameters():
        p.data = p.data + rng.normal(scale=0.1, size=p.shape)
    theirs = torch.nn.Transformer(E, H, 2, 2, 12, dropout=0.0, batch_first=True,
                                  norm_first=norm_first, dtype=torch.float64)
    if not norm_first:  # ours has no final norms then: make torch's the identity
        theirs.encoder.norm = theirs.decoder.norm = torch.nn.Identity()
    names = {"encoder_norm": "encoder.norm", "decoder_norm": "decoder.norm"}
    state = {}
    for name, value in model.state_dict().items():
        head, _, rest = name.partition(".")
        if head in ("encoder", "decoder"):
            state[f"{head}.layers.{rest}"] = torch.tensor(value)
        elif head in names:
            state[f"{names[head]}.{rest}"] = torch.tensor(value)
    theirs.load_state_dict(state)
    src, tgt = rng.integers(0, 6, size=(N, S)), rng.integers(0, 7, size=(N, T))
    src_keys = np.ones((N, S), bool)
    src_keys[1, 3:] = False
    logits = model(src, tgt, src_key_mask=src_keys)
    src_x = torch.tensor(model._embed(src, "src").data, requires_grad=True)
    tgt_x = torch.tensor(model._embed(tgt, "tgt").data, requires_grad=True)
    out = theirs(src_x, tgt_x, tgt_mask=torch.ones(T, T, dtype=torch.bool).triu(1),
                 src_key_padding_mask=torch.tensor(~src_keys),
                 memory_key_padding_mask=torch.tensor(~src_keys), tgt_is_causal=True)
    head_w, head_b = (torch.tensor(p.data) for p in (model.head.weight, model.head.bias))
    t_logits = out @ head_w.T + head_b
    _close(logits, t_logits, "logits")
    g = rng.normal(size=logits.shape)
    logits.backward(g)
    t_logits.backward(torch.tensor(g))
    t_params = dict(theirs.named_parameters())
    for name, p in model.named_parameters():
        key = {"encoder": "encoder.layers", "decoder": "decoder.layers"}.get(
            name.split(".")[0], names.get(name.split(".")[0]))
        if key is not None:
            _close(p.grad, t_params[f"{key}.{name.partition('.')[2]}"].grad, name)
    # the embeddings' gradient is the sum of torch's input gradients over each id's places
    expected = np.zeros((6, E))
    np.add.at(expected, src, src_x.grad.numpy())
    _close(model.src_token.weight.grad, expected, "src_token.weight")


def test_float32_models_stay_float32():
    model = nn.TransformerSeq2Seq(5, 6, 8, 2, 1, 1, max_len=6, dtype="float32", rng=0)
    logits = model([[1, 2, 3]], [[0, 4]])
    logits.sum().backward()
    assert logits.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in model.parameters() if p.grad is not None)
    assert model.generate([[1, 2]], start_token=0, max_new_tokens=3).shape == (1, 3)
