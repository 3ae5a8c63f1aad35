"""Attention (chapter 11): the weights' constraints (eq. 11.2–11.3), eq. 11.1, the fused
scaled dot-product attention and the attention layers against PyTorch in float64, causality,
generation, and clear errors for bad input."""

import numpy as np
import pytest
import torch

import deltagrad as dg
from deltagrad import nn, ops
from deltagrad.nn import functional as F

TOL = dict(rtol=1e-10, atol=1e-10)


def _close(ours, theirs, what=""):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    ours = ours.data if isinstance(ours, dg.Tensor) else ours
    np.testing.assert_allclose(ours, theirs, err_msg=f"{what}: ours vs torch", **TOL)


def _random_mask(rng, shape):
    """A random "may attend" mask whose every row keeps at least one entry."""
    mask = rng.random(shape) < 0.5
    rows = mask.reshape(-1, shape[-1])
    rows[np.arange(len(rows)), rng.integers(0, shape[-1], size=len(rows))] = True
    return rows.reshape(shape)


# ---- the constraints (eq. 11.2–11.3) and eq. 11.1 ---------------------------------------------
@pytest.mark.parametrize("trial", range(5))
def test_attention_weights_are_non_negative_rows_summing_to_one_with_masked_entries_zero(trial):
    rng = np.random.default_rng(trial)
    scores = rng.normal(scale=5.0, size=(3, 6, 7))
    mask = _random_mask(rng, scores.shape)
    mask[0, 0] = False
    mask[0, 0, 4] = True  # a row with a single unmasked entry: all its weight goes there
    a = F.attention_weights(scores, mask=mask).data
    assert np.all(a >= 0)                                   # eq. 11.2
    np.testing.assert_allclose(a.sum(axis=-1), 1.0, rtol=0, atol=1e-14)  # eq. 11.3
    assert np.all(a[~mask] == 0.0)                          # masked: exactly 0
    np.testing.assert_array_equal(a[0, 0], np.eye(7)[4])
    unmasked = F.attention_weights(scores).data
    assert np.all(unmasked > 0) and np.allclose(unmasked.sum(-1), 1.0, atol=1e-14)


def test_attention_weights_causal_rows_only_see_the_past_and_match_a_direct_softmax():
    scores = np.array([[1.0, 2.0, 3.0], [0.5, -0.5, 9.0], [0.0, 0.0, 0.0]])
    a = F.attention_weights(scores, causal=True).data
    e = np.exp(np.array([0.5, -0.5]))
    np.testing.assert_allclose(a, [[1, 0, 0], [e[0] / e.sum(), e[1] / e.sum(), 0],
                                   [1 / 3, 1 / 3, 1 / 3]], rtol=1e-15)


def test_attention_weights_gradient_passes_gradcheck_and_is_zero_on_masked_scores():
    rng = np.random.default_rng(1)
    mask = _random_mask(rng, (4, 5))
    s = dg.tensor(rng.normal(size=(4, 5)), requires_grad=True)
    assert dg.gradcheck(lambda s: F.attention_weights(s, mask=mask) ** 2, s)
    (F.attention_weights(s, mask=mask) * rng.normal(size=(4, 5))).sum().backward()
    assert np.all(s.grad[~mask] == 0.0)


def test_simple_self_attention_is_eq_11_1_computed_directly():
    """y_n = Σ_m a_nm x_m with a_nm = exp(x_n·x_m) / Σ_m' exp(x_n·x_m'), loop by loop."""
    x = np.random.default_rng(2).normal(size=(5, 3))
    expected = np.zeros_like(x)
    for n in range(5):
        a = np.exp([x[n] @ x[m] for m in range(5)])
        a /= a.sum()
        expected[n] = sum(a[m] * x[m] for m in range(5))
    np.testing.assert_allclose(F.simple_self_attention(x).data, expected, rtol=1e-13)
    batch = np.stack([x, -x])
    np.testing.assert_allclose(F.simple_self_attention(batch).data[0], expected, rtol=1e-13)
    t = dg.tensor(x, requires_grad=True)
    assert dg.gradcheck(F.simple_self_attention, t)


# ---- scaled dot-product attention against PyTorch --------------------------------------------
@pytest.mark.parametrize("kind", ["plain", "mask", "causal", "mask+causal", "broadcast-mask"])
def test_scaled_dot_product_attention_matches_torch_with_gradients(kind):
    rng = np.random.default_rng(3)
    q, k, v = (rng.normal(size=s) for s in [(2, 3, 6, 4), (2, 3, 6, 4), (2, 3, 6, 5)])
    mask = None
    if "mask" in kind:
        mask = _random_mask(rng, (6, 6) if kind == "broadcast-mask" else (2, 3, 6, 6))
        mask[..., 0] = True  # keeps a key for every query under the causal mask too
    causal = "causal" in kind
    t_mask = None if mask is None else torch.tensor(mask)
    t_causal = causal
    if causal and mask is not None:
        t_mask, t_causal = t_mask & torch.ones(6, 6, dtype=torch.bool).tril(), False
    _check_sdpa_against_torch(rng, (q, k, v), dict(mask=mask, causal=causal),
                              dict(attn_mask=t_mask, is_causal=t_causal))


def _check_sdpa_against_torch(rng, arrays, kwargs, torch_kwargs):
    """Our fused attention and torch's on the same float64 q, k, v: the outputs and ∂E/∂q, k, v
    for a random ∂E/∂y."""
    ours = [dg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = F.scaled_dot_product_attention(*ours, **kwargs)
    t_out = torch.nn.functional.scaled_dot_product_attention(*theirs, **torch_kwargs)
    g = rng.normal(size=out.shape)
    out.backward(g)
    t_out.backward(torch.tensor(g))
    _close(out, t_out, "output")
    for name, a, b in zip("qkv", ours, theirs):
        _close(a.grad, b.grad, f"d{name}")


def _float_mask(rng, shape):
    """An additive mask: random shifts of the scores, −inf (forbidden) at random places,
    every row keeping its first key."""
    mask = rng.normal(size=shape)
    mask[rng.random(shape) < 0.3] = -np.inf
    mask[..., 0] = rng.normal(size=shape[:-1])
    return mask


@pytest.mark.parametrize("kind", ["full", "broadcast", "causal", "float32"])
def test_float_masks_are_added_to_the_scores_as_torchs_float_attn_mask(kind):
    """Issue 26 item 4: a float mask is PyTorch's float ``attn_mask``, softmax(q kᵀ/√d + M) v;
    −inf entries get weight exactly 0. With ``causal`` it is added to the causal mask's −inf
    above the diagonal (torch takes one or the other, so its side gets the sum)."""
    rng = np.random.default_rng(8)
    dtype = "float32" if kind == "float32" else "float64"
    q, k, v = (rng.normal(size=s).astype(dtype) for s in [(2, 3, 6, 4), (2, 3, 6, 4),
                                                          (2, 3, 6, 5)])
    mask = _float_mask(rng, (6, 6) if kind == "broadcast" else (2, 3, 6, 6))
    ours = [dg.tensor(a, requires_grad=True) for a in (q, k, v)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    out = F.scaled_dot_product_attention(*ours, mask=mask, causal=kind == "causal")
    t_mask = mask + (np.triu(np.full((6, 6), -np.inf), 1) if kind == "causal" else 0)
    t_out = torch.nn.functional.scaled_dot_product_attention(
        *theirs, attn_mask=torch.tensor(t_mask.astype(dtype)))
    g = rng.normal(size=out.shape).astype(dtype)
    out.backward(g)
    t_out.backward(torch.tensor(g))
    tol = TOL if dtype == "float64" else dict(rtol=1e-4, atol=1e-5)
    assert out.dtype == dtype and all(a.grad.dtype == dtype for a in ours)
    for name, a, b in [("output", out, t_out)] + list(zip("qkv", ours, theirs)):
        a = a.data if a is out else a.grad
        b = b.detach().numpy() if b is t_out else b.grad.numpy()
        np.testing.assert_allclose(a, b, err_msg=name, **tol)
    weights = F.attention_weights(q @ k.swapaxes(-1, -2) / 2.0, mask=mask,
                                  causal=kind == "causal").data
    assert np.all(weights[np.broadcast_to(t_mask, weights.shape) == -np.inf] == 0.0)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-6)
    if kind == "broadcast":  # and the gradient through the fused node, by finite differences
        small = [dg.tensor(a[0, 0].astype(float), requires_grad=True) for a in (q, k, v)]
        assert dg.gradcheck(lambda *qkv: F.scaled_dot_product_attention(*qkv, mask=mask),
                            *small)


def test_a_boolean_mask_and_its_additive_form_give_the_same_attention():
    """True = keep is the float mask 0, False the float mask −inf: the same numbers."""
    rng = np.random.default_rng(9)
    q, k, v = (rng.normal(size=(2, 5, 3)) for _ in range(3))
    keep = _random_mask(rng, (2, 5, 5))
    keep[..., 0] = True  # a key for every query under the causal mask too
    additive = np.where(keep, 0.0, -np.inf)
    np.testing.assert_array_equal(
        F.scaled_dot_product_attention(q, k, v, mask=keep, causal=True).data,
        F.scaled_dot_product_attention(q, k, v, mask=additive, causal=True).data)


@pytest.mark.parametrize("block_bytes", [1, 700, 1 << 19])
@pytest.mark.parametrize("shapes", [((2, 3, 5, 6, 4), (6, 4)), ((5, 4), (1, 7, 4)),
                                    ((3, 1, 5, 4), (1, 2, 7, 4))])
def test_blocked_attention_equals_torch_for_any_block_size_and_broadcast(monkeypatch, shapes,
                                                                         block_bytes):
    """The forward and backward run over blocks of whole score matrices (one matrix, a few,
    or all): every split, with broadcast leading axes and a float mask, gives torch's numbers;
    and no batch (an axis of length 0) gives empty results."""
    monkeypatch.setattr(ops.attention, "_BLOCK_BYTES", block_bytes)
    rng = np.random.default_rng(10)
    (q_shape, k_shape) = shapes
    arrays = [rng.normal(size=q_shape), rng.normal(size=k_shape),
              rng.normal(size=k_shape[:-1] + (3,))]
    mask = rng.normal(size=(q_shape[-2], k_shape[-2]))
    _check_sdpa_against_torch(rng, arrays, dict(mask=mask), dict(attn_mask=torch.tensor(mask)))
    empty = dg.tensor(np.zeros((0,) + q_shape[1:]), requires_grad=True)
    y = F.scaled_dot_product_attention(empty, arrays[1], arrays[2])
    y.sum().backward()
    assert y.size == 0 and empty.grad.shape == empty.shape


def test_joint_vjp_gives_what_the_per_input_vjps_give():
    rng = np.random.default_rng(4)
    q, k, v = rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    mask, scale = _random_mask(rng, (3, 5)), 0.5
    ans = ops.attention.sdpa.forward(q, k, v, scale=scale, mask=mask)
    g = rng.normal(size=ans.shape)
    joint = ops.attention.sdpa.joint_vjp(g, ans, [True, True, True], q, k, v, scale=scale,
                                         mask=mask)
    for i in range(3):
        single = ops.attention.sdpa.vjp(i)(g, ans, q, k, v, scale=scale, mask=mask)
        np.testing.assert_allclose(joint[i], single, rtol=1e-14, atol=1e-15)
    assert ops.attention.sdpa.joint_vjp(g, ans, [False, False, True], q, k, v, scale=scale,
                                        mask=mask)[:2] == [None, None]


def _torch_mha(ours: nn.MultiHeadAttention) -> torch.nn.MultiheadAttention:
    theirs = torch.nn.MultiheadAttention(ours.embed_dim, ours.num_heads, batch_first=True,
                                         bias=ours.in_proj_bias is not None, dtype=torch.float64)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    return theirs


@pytest.mark.parametrize("kind", ["self", "mask", "key_mask", "causal", "cross", "no-bias",
                                  "float-mask", "float-mask+key_mask"])
def test_multi_head_attention_matches_torch_outputs_and_gradients(kind):
    rng = np.random.default_rng(5)
    E, H, N, L, S = 12, 3, 2, 5, 7 if kind == "cross" else 5
    ours = nn.MultiHeadAttention(E, H, bias=kind != "no-bias", rng=0)
    for p in ours.parameters():  # non-zero biases, so that every weight is exercised
        p.data = p.data + rng.normal(scale=0.1, size=p.shape)
    theirs = _torch_mha(ours)
    x, kv = rng.normal(size=(N, L, E)), rng.normal(size=(N, S, E))
    x_ours, x_theirs = dg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    args, t_kwargs, kwargs = (x_theirs, x_theirs, x_theirs), {}, {}
    if kind == "cross":
        kwargs = dict(key=kv, value=kv)
        args = (x_theirs, torch.tensor(kv), torch.tensor(kv))
    if kind == "mask":
        mask = _random_mask(rng, (L, S))
        # torch's MultiheadAttention: True = blocked
        kwargs, t_kwargs = dict(mask=mask), dict(attn_mask=torch.tensor(~mask))
    if kind == "key_mask":
        keys = np.ones((N, S), bool)
        keys[0, 3:] = False
        kwargs, t_kwargs = dict(key_mask=keys), dict(key_padding_mask=torch.tensor(~keys))
    if kind == "causal":
        kwargs = dict(causal=True)
        t_kwargs = dict(attn_mask=torch.ones(L, L, dtype=torch.bool).triu(1))
    if kind.startswith("float-mask"):  # float masks are added to the scores in both libraries
        mask = _float_mask(rng, (L, S))
        kwargs, t_kwargs = dict(mask=mask), dict(attn_mask=torch.tensor(mask))
    if kind == "float-mask+key_mask":
        keys = np.zeros((N, S))
        keys[1, 2:] = -np.inf
        keys[0] = rng.normal(size=S)
        kwargs["key_mask"], t_kwargs["key_padding_mask"] = keys, torch.tensor(keys)
    out = ours(x_ours, **kwargs)
    t_out, _ = theirs(*args, need_weights=False, **t_kwargs)
    _compare_backward(rng, (out, x_ours, ours), (t_out, x_theirs, theirs))


def _compare_backward(rng, ours, theirs):
    """Outputs, ∂E/∂x and every weight's gradient for a random seed ∂E/∂out; each side is
    (output, input, module). Clears the gradients afterwards."""
    (out, x, module), (t_out, t_x, t_module) = ours, theirs
    g = rng.normal(size=out.shape)
    out.backward(g)
    t_out.backward(torch.tensor(g))
    _close(out, t_out, "output")
    _close(x.grad, t_x.grad, "dx")
    t_params = dict(t_module.named_parameters())
    for name, p in module.named_parameters():
        _close(p.grad, t_params[name].grad, name)
        p.grad = None
    t_module.zero_grad()


def test_multi_head_attention_weights_per_head_match_torch():
    rng = np.random.default_rng(6)
    ours = nn.MultiHeadAttention(8, 2, rng=1)
    theirs = _torch_mha(ours)
    x = rng.normal(size=(3, 4, 8))
    out, weights = ours(x, need_weights=True)
    t_x = torch.tensor(x)
    t_out, t_weights = theirs(t_x, t_x, t_x, average_attn_weights=False)
    _close(out, t_out, "output")
    _close(weights, t_weights, "weights")
    np.testing.assert_allclose(weights.data.sum(-1), 1.0, atol=1e-14)


def test_layer_norm_matches_torch_with_gradients_and_passes_gradcheck():
    rng = np.random.default_rng(7)
    for shape, affine, bias in [((6,), True, True), ((3, 6), True, False), ((6,), False, True)]:
        ours = nn.LayerNorm(shape, eps=1e-3, elementwise_affine=affine, bias=bias)
        theirs = torch.nn.LayerNorm(shape, eps=1e-3, elementwise_affine=affine, bias=bias,
                                    dtype=torch.float64)
        for p in ours.parameters():
            p.data = rng.normal(size=p.shape)
        theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
        x = rng.normal(size=(2, 4) + shape)
        xo, xt = dg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        g = rng.normal(size=x.shape)
        (ours(xo) * g).sum().backward()
        (theirs(xt) * torch.tensor(g)).sum().backward()
        _close(ours(x), theirs(torch.tensor(x)), f"LayerNorm{shape}")
        _close(xo.grad, xt.grad, "dx")
        for name, p in theirs.named_parameters():
            _close(getattr(ours, name).grad, p.grad, name)
    small = dg.tensor(rng.normal(size=(2, 5)), requires_grad=True)
    assert dg.gradcheck(nn.LayerNorm(5), small)


def test_embedding_matches_torch_and_sums_the_gradient_of_repeated_ids():
    ours = nn.Embedding(7, 3, rng=0)
    theirs = torch.nn.Embedding(7, 3, dtype=torch.float64)
    theirs.load_state_dict({"weight": torch.tensor(ours.weight.data)})
    ids = np.array([[1, 2, 1], [6, 0, 1]])
    g = np.random.default_rng(8).normal(size=(2, 3, 3))
    (ours(ids) * g).sum().backward()
    (theirs(torch.tensor(ids)) * torch.tensor(g)).sum().backward()
    _close(ours(ids), theirs(torch.tensor(ids)), "output")
    _close(ours.weight.grad, theirs.weight.grad, "dweight")
    np.testing.assert_allclose(ours.weight.grad[1], g[0, 0] + g[0, 2] + g[1, 2])


def test_sinusoidal_table_is_the_formula_and_learned_positions_are_weights():
    table = nn.embedding.sinusoidal_table(5, 6)
    for t in range(5):
        for i in range(3):
            angle = t / 10000 ** (2 * i / 6)
            assert table[t, 2 * i] == pytest.approx(np.sin(angle), abs=1e-15)
            assert table[t, 2 * i + 1] == pytest.approx(np.cos(angle), abs=1e-15)
    x = np.zeros((2, 4, 6))
    np.testing.assert_array_equal(nn.SinusoidalPositionalEncoding(5, 6)(x).data[1], table[:4])
    assert nn.SinusoidalPositionalEncoding(5, 6).num_parameters() == 0
    learned = nn.LearnedPositionalEncoding(5, 6, rng=0)
    assert learned.num_parameters() == 30
    np.testing.assert_array_equal(learned(x).data[0], learned.weight.data[:4])
    assert nn.embedding.sinusoidal_table(3, 5).shape == (3, 5)  # odd widths too


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_transformer_encoder_layer_matches_torch(norm_first, activation):
    rng = np.random.default_rng(9)
    E, H, N, L = 8, 2, 3, 5
    ours = nn.TransformerEncoderLayer(E, H, 16, dropout=0.0, activation=activation,
                                      norm_first=norm_first, rng=0)
    for p in ours.parameters():
        p.data = p.data + rng.normal(scale=0.1, size=p.shape)
    theirs = torch.nn.TransformerEncoderLayer(E, H, 16, dropout=0.0, activation=activation,
                                              norm_first=norm_first, batch_first=True,
                                              dtype=torch.float64)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    for mask in [None, _random_mask(rng, (L, L))]:
        x = rng.normal(size=(N, L, E))
        xo, xt = dg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out = ours(xo, mask=mask)
        t_out = theirs(xt, src_mask=None if mask is None else torch.tensor(~mask))
        _compare_backward(rng, (out, xo, ours), (t_out, xt, theirs))


def test_encoder_layer_passes_gradcheck():
    rng = np.random.default_rng(10)
    layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, activation="gelu",
                                       norm_first=True, rng=0)
    x = dg.tensor(rng.normal(size=(2, 3, 4)), requires_grad=True)
    assert dg.gradcheck(lambda x: layer(x, causal=True), x)


# ---- causality and the language model ---------------------------------------------------------
def test_changing_token_t_plus_1_changes_no_output_at_positions_up_to_t():
    lm = nn.TransformerLM(9, 16, 2, 2, max_len=8, positional="learned", rng=0)
    ids = np.random.default_rng(11).integers(0, 9, size=(2, 8))
    before = lm(ids).data
    for t in range(7):
        changed = ids.copy()
        changed[:, t + 1] = (changed[:, t + 1] + 1) % 9
        after = lm(changed).data
        np.testing.assert_array_equal(after[:, :t + 1], before[:, :t + 1])
        assert not np.allclose(after[:, t + 1], before[:, t + 1])
    layer = nn.MultiHeadAttention(6, 3, rng=0)
    x = np.random.default_rng(12).normal(size=(1, 5, 6))
    y = x.copy()
    y[0, 3] += 1.0
    np.testing.assert_array_equal(layer(x, causal=True).data[0, :3],
                                  layer(y, causal=True).data[0, :3])


def test_generate_is_reproducible_greedy_at_temperature_zero_and_respects_top_k():
    lm = nn.TransformerLM(10, 16, 2, 1, max_len=6, rng=3)
    prompt = [1, 2, 3]
    a = lm.generate(prompt, 8, seed=5)
    assert a.shape == (11,) and list(a[:3]) == prompt
    np.testing.assert_array_equal(a, lm.generate(prompt, 8, seed=5))
    greedy = lm.generate(prompt, 8, temperature=0)
    np.testing.assert_array_equal(greedy, lm.generate(prompt, 8, top_k=1, seed=9))
    tokens = np.array(prompt)
    for _ in range(8):  # by hand: the arg-max of the last position, context cropped to 6
        logits = lm(tokens[None, -6:]).data[0, -1]
        tokens = np.append(tokens, np.argmax(logits))
    np.testing.assert_array_equal(greedy, tokens)
    batch = lm.generate([[1, 2], [3, 4]], 3, seed=0)
    assert batch.shape == (2, 5)
    assert lm.training  # generate restores the mode


# ---- bad input ------------------------------------------------------------------------------
def test_bad_input_gets_clear_errors():
    with pytest.raises(ValueError, match="embed_dim 10 is not divisible by num_heads 3"):
        nn.MultiHeadAttention(10, 3)
    with pytest.raises(ValueError, match="mask of shape \\(3, 4\\) does not broadcast"):
        F.scaled_dot_product_attention(np.zeros((5, 2)), np.zeros((5, 2)), np.zeros((5, 2)),
                                       mask=np.ones((3, 4), bool))
    with pytest.raises(ValueError, match="mask of shape"):
        nn.MultiHeadAttention(4, 2, rng=0)(np.zeros((1, 3, 4)), mask=np.ones((3, 2), bool))
    with pytest.raises(TypeError, match="mask must be boolean"):
        F.attention_weights(np.zeros((2, 2)), mask=np.ones((2, 2), dtype=int))
    with pytest.raises(ValueError, match="hold no key"):
        F.scaled_dot_product_attention(np.zeros((2, 3)), np.zeros((0, 3)), np.zeros((0, 3)))
    with pytest.raises(ValueError, match="finite numbers or −inf"):
        F.attention_weights(np.zeros((2, 2)), mask=np.array([[0.0, np.nan], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="finite numbers or −inf"):
        F.attention_weights(np.zeros((2, 2)), mask=np.array([[0.0, np.inf], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="no key to attend to"):
        F.scaled_dot_product_attention(np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((2, 2)),
                                       mask=np.array([[-np.inf, -np.inf], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="no key to attend to"):  # the causal mask's −inf too
        F.scaled_dot_product_attention(np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((2, 2)),
                                       mask=np.array([[-np.inf, 0.0], [0.0, 1.0]]), causal=True)
    with pytest.raises(TypeError, match="mask must be a constant"):
        F.attention_weights(np.zeros((2, 2)), mask=dg.tensor(np.zeros((2, 2)),
                                                             requires_grad=True))
    with pytest.raises(TypeError, match="masks must be boolean .* or float"):
        nn.MultiHeadAttention(4, 2, rng=0)(np.zeros((1, 3, 4)), mask=np.ones((3, 3), int))
    with pytest.raises(ValueError, match="no key to attend to"):
        F.attention_weights(np.zeros((2, 2)), mask=np.array([[True, False], [False, False]]))
    with pytest.raises(ValueError, match="key_mask must have shape"):
        nn.MultiHeadAttention(4, 2, rng=0)(np.zeros((2, 3, 4)), key_mask=np.ones((3,), bool))
    lm = nn.TransformerLM(5, 8, 2, 1, max_len=4, rng=0)
    with pytest.raises(ValueError, match="length 5 is longer than max_len=4"):
        lm(np.zeros((1, 5), int))
    with pytest.raises(ValueError, match="longer than the positional table \\(max_len=4\\)"):
        nn.SinusoidalPositionalEncoding(4, 8)(np.zeros((1, 5, 8)))
    with pytest.raises(ValueError, match="token id 5 is outside the vocabulary 0 … 4"):
        lm([[1, 5]])
    with pytest.raises(ValueError, match="token id -1 is outside"):
        nn.Embedding(5, 2)([-1])
    with pytest.raises(TypeError, match="token ids must be integers"):
        lm([[0.5, 1.0]])
    with pytest.raises(ValueError, match="q \\(..., L, d\\), k"):
        F.scaled_dot_product_attention(np.zeros((3, 2)), np.zeros((3, 4)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="expects inputs of shape \\(..., T, 4\\)"):
        nn.MultiHeadAttention(4, 2, rng=0)(np.zeros((2, 3, 5)))
    with pytest.raises(ValueError, match="TransformerLM: expects token ids of shape \\(N, T\\)"):
        lm([1, 2])
    with pytest.raises(ValueError, match="causal=False"):
        nn.TransformerLM(5, 8, 2, 1, max_len=4, causal=False, rng=0).generate([1], 2)
    with pytest.raises(ValueError, match="top_k"):
        lm.generate([1], 2, top_k=9)
    with pytest.raises(ValueError, match="temperature"):
        lm.generate([1], 2, temperature=-1.0)
    with pytest.raises(ValueError, match="activation"):
        nn.TransformerEncoderLayer(4, 2, activation="tanh")


def test_float32_models_stay_float32_through_forward_and_backward():
    """Including GELU, whose constants once turned float32 into float64."""
    lm = nn.TransformerLM(6, 8, 2, 1, max_len=5, activation="gelu", rng=0, dtype="float32")
    logits = lm([[1, 2, 3]])
    assert logits.dtype == np.float32
    logits.sum().backward()
    assert all(p.grad.dtype == np.float32 for p in lm.parameters())


# ---- the worked head -------------------------------------------------------------------------
def test_explain_attention_head_shows_the_engine_numbers_of_eq_11_1_to_11_3_and_backward():
    """Three tokens, d = 2. Row 1 of the scores: s_1m = q_1·k_m/√2 = (1/√2, 0, 1/√2), so
    a_13 = e^{1/√2} / (2 e^{1/√2} + 1); the rest against NumPy and torch's autograd."""
    rng = np.random.default_rng(13)
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    v = rng.normal(size=(3, 2))
    g = rng.normal(size=(3, 2))
    sol = dg.explain.attention_head(x, x, v, grad_output=g)
    e = np.exp(1 / np.sqrt(2))
    assert sol["a_13"] == pytest.approx(e / (2 * e + 1), rel=1e-14)
    s = x @ x.T / np.sqrt(2)
    a = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    for n in range(3):
        assert sol[f"Σ_m a_{n + 1}m"] == pytest.approx(1.0, abs=1e-15)
        for m in range(3):
            assert sol[f"s_{n + 1}{m + 1}"] == pytest.approx(s[n, m], rel=1e-14)
            assert sol[f"a_{n + 1}{m + 1}"] == pytest.approx(a[n, m], rel=1e-14)
    tq, tk, tv = (torch.tensor(t, requires_grad=True) for t in (x, x, v))
    y = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv)
    y.backward(torch.tensor(g))
    for n in range(3):
        for i in range(2):
            assert sol[f"y_{n + 1}[{i + 1}]"] == pytest.approx(y[n, i].item(), rel=1e-13)
            assert sol[f"dE/dq_{n + 1}[{i + 1}]"] == pytest.approx(tq.grad[n, i].item(), abs=1e-14)
            assert sol[f"dE/dk_{n + 1}[{i + 1}]"] == pytest.approx(tk.grad[n, i].item(), abs=1e-14)
            assert sol[f"dE/dv_{n + 1}[{i + 1}]"] == pytest.approx(tv.grad[n, i].item(), abs=1e-14)
    da = g @ v.T
    ds = a * (da - (a * da).sum(axis=1, keepdims=True))
    assert sol["dE/ds_23"] == pytest.approx(ds[1, 2], rel=1e-12)
    for text in (sol.to_text(), sol.to_markdown(), sol.to_latex()):
        assert "eq. 11.3" in text
    masked = dg.explain.attention_head(x, x, v, causal=True)
    assert masked["a_12"] == 0.0 and masked["a_11"] == 1.0 and "s_12" not in masked.to_dict()


def test_explain_attention_head_refuses_what_it_cannot_show():
    with pytest.raises(ValueError, match="at most 6"):
        dg.explain.attention_head(np.zeros((7, 2)), np.zeros((7, 2)), np.zeros((7, 2)))
    with pytest.raises(ValueError, match="same number of features"):
        dg.explain.attention_head(np.zeros((2, 2)), np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="v must have 2 rows"):
        dg.explain.attention_head(np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="grad_output must have shape"):
        dg.explain.attention_head(np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((2, 2)),
                                  grad_output=np.zeros((2, 3)))
