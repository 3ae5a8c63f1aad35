"""Messages that name the mistake (issue 22, item 10): each says what the user did and the fix,
on one line, instead of a symptom met deep inside (a reshape, a query with no key, a port in
use, a raw-NumPy VJP, invalid JSON)."""

import json

import numpy as np
import pytest

import deltagrad as dg
from deltagrad import nn
from deltagrad.cli import main


def _lm():
    return nn.TransformerLM(10, 8, 4, 2, 8, rng=0)


@pytest.mark.parametrize("prompt", [[], [[]], np.zeros((2, 0), dtype=int)])
def test_generate_from_an_empty_prompt_says_the_prompt_is_empty(prompt):
    with pytest.raises(ValueError, match=r"TransformerLM.generate: the prompt is empty"):
        _lm().generate(prompt, 3)


def test_embedding_of_no_ids_is_empty_as_pytorch():
    """``[]`` is a float64 array to NumPy; it holds no id, so it is an empty batch (0, E)
    (it was refused as 'token ids must be integers, got dtype float64')."""
    assert nn.Embedding(10, 4, rng=0)([]).shape == (0, 4)
    assert nn.Embedding(10, 4, rng=0)(np.zeros((0, 3))).shape == (0, 3, 4)


def test_a_causal_lm_with_left_padding_names_key_mask_and_the_padding():
    ids = np.array([[0, 0, 3, 4], [1, 2, 3, 4]])
    key_mask = np.array([[False, False, True, True], [True, True, True, True]])
    with pytest.raises(ValueError) as info:
        _lm()(ids, key_mask=key_mask)
    message = str(info.value)
    assert "\n" not in message
    assert "query 0 of sequence 0 may attend to no key" in message
    assert "key_mask" in message and "padded on the left" in message
    assert "Pad on the right" in message
    # padded on the right, as a causal model expects, it runs
    right = np.array([[3, 4, 0, 0], [1, 2, 3, 4]])
    assert _lm()(right, key_mask=right != 0).shape == (2, 4, 10)


@pytest.mark.parametrize("call", [
    lambda m: m(np.ones((2, 3, 5))),
    lambda m: m(np.ones((2, 3, 4)), np.ones((2, 2, 4)), np.ones((2, 3, 4))),
    lambda m: m(np.ones((2, 3, 4)), key_mask=np.ones((2, 3), dtype=int)),  # a float one is additive
    lambda m: m(np.ones((2, 3, 4)), key_mask=np.zeros((2, 3), dtype=bool)),
    lambda m: m(np.ones((2, 3, 4)), mask=np.ones((2, 2, 2, 2, 2), dtype=bool)),
])
def test_multi_head_attention_names_itself_on_one_line(call):
    with pytest.raises((ValueError, TypeError)) as info:
        call(nn.MultiHeadAttention(4, 2, rng=0))
    message = str(info.value)
    assert message.startswith("MultiHeadAttention(embed_dim=4, num_heads=2): ")
    assert "\n" not in message


def test_playground_on_a_host_that_does_not_resolve_reports_the_name_lookup(capsys):
    from deltagrad.playground import make_server

    with pytest.raises(OSError, match=r"cannot find the host 'not\.a\.host\.invalid'") as info:
        make_server("not.a.host.invalid", 0)
    assert "--port" not in str(info.value) and "port" not in str(info.value)
    assert main(["playground", "--host", "not.a.host.invalid", "--port", "48765"]) == 2
    err = capsys.readouterr().err
    assert "cannot find the host" in err and "warning" not in err


def test_newton_cg_on_a_model_it_cannot_differentiate_twice_suggests_one_that_works():
    net = nn.Sequential(nn.Conv2d(1, 2, 2, rng=0), nn.Flatten(), nn.Linear(18, 1, rng=0))
    X, T = np.random.default_rng(0).normal(size=(4, 1, 4, 4)), np.ones((4, 1))
    for method in ("newton-cg", "trust-ncg"):
        with pytest.raises(RuntimeError, match=r"need exact second derivatives .* 'conv2d', .* "
                                               r"only first derivatives: 'l-bfgs-b'"):
            dg.fit(net, X, T, optimizer=method, epochs=2)
    assert np.isfinite(dg.fit(net, X, T, optimizer="l-bfgs-b", epochs=2).error[-1])


@pytest.mark.parametrize("content,words", [
    ("", "is empty"), ("  \n", "is empty"), ("{}", "holds no answers"),
    ("[]", "holds no answers"), (json.dumps({"seed": 7, "answers": {}}), "holds no answers"),
    (json.dumps({"seed": 7, "kind": "backprop"}), "holds no answers"),
])
def test_exercises_check_with_empty_answers_says_so(tmp_path, capsys, content, words):
    path = tmp_path / "answers.json"
    path.write_text(content, encoding="utf-8")
    assert main(["exercises", "check", str(path), "--seed", "7"]) == 2
    err = capsys.readouterr().err
    assert words in err and "template" in err


def test_a_key_mask_of_the_wrong_length_names_key_mask_and_the_keys():
    """A decoder's memory_key_mask as long as the target, not the memory: the error names
    key_mask and S (it came from inside scaled_dot_product_attention as a broadcast error)."""
    layer = dg.nn.TransformerDecoderLayer(8, 2, dropout=0.0, rng=0)
    with pytest.raises(ValueError, match=r"key_mask must have shape \(N=2, S=7\), one entry "
                                         r"per key, got shape \(2, 5\)"):
        layer(np.zeros((2, 5, 8)), np.ones((2, 7, 8)), memory_key_mask=np.ones((2, 5), bool))
