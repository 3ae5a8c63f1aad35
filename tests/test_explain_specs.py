"""``deltagrad explain SPEC.json``: one schema for every kind of spec (issue 22, item 2).

Every kind refuses unknown fields with "did you mean", checks every value for type, shape and
finiteness naming the field, and the mlp kind reports the real mistake; the conv_unit and
attention_head kinds solve from a file what their Python tracers solve.
"""

import json
import re
import pathlib

import numpy as np
import pytest
import torch

import deltagrad as dg
from deltagrad.cli import main
from deltagrad.explain.spec import KINDS

MLP = {"sizes": [2, 2, 1], "activations": ["tanh", "identity"],
       "weights": [[[0.5, 0.2], [-0.3, 0.8]], [[1.0, -0.5]]], "biases": [[0.1, 0.0], [0.2]],
       "x": [1.0, 0.5], "t": [1.0], "lr": 0.1}
RNN = {"W_xh": [[0.5, 0.1], [0.2, 0.4]], "W_hh": [[0.3, 0.6], [0.7, 0.1]], "b_h": [0.1, 0.1],
       "W_hy": [[0.8, 0.4]], "b_y": [0.0], "xs": [[1, 0], [0, 1]], "ys": [[0.5], [0.9]]}
CONV = {"image": [[0, 0, 1], [0, 1, 1], [1, 1, 1]], "kernel": [[1, 0], [0, -1]], "bias": 0.5,
        "j": 0, "k": 1}
ATTENTION = {"q": [[1, 0], [0, 1]], "k": [[1, 0], [0, 1], [1, 1]],
             "v": [[1, 2], [3, 4], [5, 6]]}
GOOD = {"mlp": MLP, "rnn": RNN, "conv_unit": CONV, "attention_head": ATTENTION}
# one typo per kind: the misspelt field, and the field it should have been
TYPOS = {"mlp": ("activation", "activations"), "rnn": ("nonlinearty", "nonlinearity"),
         "conv_unit": ("paddding", "padding"), "attention_head": ("casual", "causal")}
# one numeric field per kind where a NaN, a text number and a ragged row are planted
NUMERIC = {"mlp": ("x", [1.0, 0.5]), "rnn": ("b_h", [0.1, 0.1]),
           "conv_unit": ("kernel", [[1, 0], [0, -1]]), "attention_head": ("v", [[1, 2], [3, 4],
                                                                                [5, 6]])}


def test_every_kind_has_a_good_example_here():
    assert set(GOOD) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_refuses_an_unknown_field_with_did_you_mean(kind):
    typo, meant = TYPOS[kind]
    spec = {**GOOD[kind], typo: "relu" if kind == "rnn" else 1}
    with pytest.raises(ValueError, match=f"spec: unknown field '{typo}'; did you mean "
                                         f"'{meant}'"):
        dg.explain.solve(spec)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_refuses_nan_text_and_ragged_rows_naming_the_field(kind):
    field, good = NUMERIC[kind]
    flat = np.array(good, dtype=float)
    with_nan = flat.copy()
    with_nan.flat[-1] = np.nan
    with pytest.raises(ValueError, match=rf"spec: {field} contains NaN or infinite values "
                                         rf"\({field}\[.*\] is nan\)"):
        dg.explain.solve({**GOOD[kind], field: with_nan.tolist()})
    texted = flat.tolist()
    (texted[0] if flat.ndim == 2 else texted)[0] = "0.5"
    where = f"{field}[0][0]" if flat.ndim == 2 else f"{field}[0]"
    with pytest.raises(ValueError, match=rf"spec: {re.escape(where)} must be a number, "
                                         rf"got '0.5'"):
        dg.explain.solve({**GOOD[kind], field: texted})
    ragged = flat.tolist()
    if flat.ndim == 2:
        ragged[1] = ragged[1][:1]
        with pytest.raises(ValueError, match=rf"spec: {field} must be a number or a list of "
                                             rf"numbers with rows of equal length"):
            dg.explain.solve({**GOOD[kind], field: ragged})


def test_rnn_spec_shapes_are_checked_against_the_sizes_other_fields_fix():
    with pytest.raises(ValueError, match=r"spec: W_hh has shape \(1, 2\); expected \(2, 2\) = "
                                         r"\(H, H\), H = 2 hidden units from W_xh"):
        dg.explain.solve({**RNN, "W_hh": [[0.3, 0.6]]})
    with pytest.raises(ValueError, match=r"spec: ys has shape \(3, 1\); expected \(2, 1\)"):
        dg.explain.solve({**RNN, "ys": [[0.5], [0.9], [0.1]]})
    with pytest.raises(ValueError, match="spec: b_y must be a list of numbers, got 'zero'|"
                                         "spec: b_y must be numbers, got 'zero'"):
        dg.explain.solve({**RNN, "b_y": "zero"})
    with pytest.raises(ValueError, match=r"spec: unknown nonlinearity 'sigmoid'.*'tanh'"):
        dg.explain.solve({**RNN, "nonlinearity": "sigmoid"})


def test_mlp_spec_reports_the_real_mistake():
    # two patterns, one target: not a reshape error
    with pytest.raises(ValueError, match=r"spec: t has shape \(1,\), but x holds 2 pattern\(s\)"
                                         r" and the network has 1 output\(s\)"):
        dg.explain.solve({**MLP, "x": [[1.0, 0.5], [0.2, 0.3]]})
    # one identity output with cross_entropy: not a label-range error
    with pytest.raises(ValueError, match="spec: loss 'cross_entropy' does not fit this network: "
                                         "cross_entropy over one output is a single class"):
        dg.explain.solve({**MLP, "loss": "cross_entropy"})
    # identity outputs (K = 2) under cross_entropy: the pairing, not a log of negatives
    two = {**MLP, "sizes": [2, 2, 2], "weights": [MLP["weights"][0], [[1.0, -0.5], [0.3, 0.2]]],
           "biases": [[0.1, 0.0], [0.2, 0.0]], "t": [1], "loss": "cross_entropy"}
    with pytest.raises(ValueError, match="end the network in a softmax output"):
        dg.explain.solve(two)
    with pytest.raises(ValueError, match=r"spec: t holds class labels \[2\.0\], but the network "
                                         r"has 2 outputs"):
        dg.explain.solve({**two, "activations": ["tanh", "softmax"], "t": [2]})
    sol = dg.explain.solve({**two, "activations": ["tanh", "softmax"], "t": [1]})
    assert sol["t_2"] == 1.0 and sol["t_1"] == 0.0


def test_mlp_python_api_reports_the_same_mistakes():
    model, x, t, loss, lr = dg.explain.build(MLP)
    with pytest.raises(ValueError, match=r"explain: t has shape \(1,\), but x holds 2"):
        dg.explain.backprop(model, [[1.0, 0.5], [0.2, 0.3]], [1.0])
    with pytest.raises(ValueError, match="explain: loss 'cross_entropy' does not fit"):
        dg.explain.backprop(model, x, t, loss="cross_entropy")
    # one target per pattern of a one-output network is still accepted
    sol = dg.explain.backprop(model, [[1.0, 0.5], [0.2, 0.3]], [1.0, 0.0])
    assert sol["t_1 [n=2]"] == 0.0


def test_conv_unit_spec_solves_eq_7_3_from_a_file(tmp_path, capsys):
    """Unit (0, 1) sees rows 1–2, columns 2–3 of the image: [[0, 1], [1, 1]]. With the kernel
    [[1, 0], [0, −1]]: a = 0·1 + 1·0 + 1·0 + 1·(−1) + w₀ = −1 + 0.5 = −0.5, z = relu(a) = 0."""
    path = tmp_path / "conv.json"
    path.write_text(json.dumps(CONV))
    assert main(["explain", str(path), "--format", "json"]) == 0
    values = json.loads(capsys.readouterr().out)["values"]
    assert values["a_01"] == -0.5 and values["z_01"] == 0.0
    tanh = dg.explain.solve({**CONV, "activation": "tanh", "stride": 1, "padding": 1, "j": 0,
                             "k": 0})
    # padded: the field is [[0, 0], [0, 0]]: a = w₀ = 0.5
    assert tanh["a_00"] == 0.5 and tanh["z_00"] == pytest.approx(np.tanh(0.5), abs=1e-15)


def test_conv_unit_spec_with_channels_and_kernels_equals_torch():
    rng = np.random.default_rng(0)
    image, kernel, bias = rng.normal(size=(2, 5, 5)), rng.normal(size=(3, 2, 3, 3)), \
        rng.normal(size=3)
    spec = {"image": image.tolist(), "kernel": kernel.tolist(), "bias": bias.tolist(),
            "stride": [2, 1], "padding": 1, "feature": 2, "j": 1, "k": 3,
            "activation": "identity"}
    ref = torch.nn.functional.conv2d(torch.tensor(image[None]), torch.tensor(kernel),
                                     torch.tensor(bias), stride=(2, 1), padding=1)
    assert dg.explain.solve(spec)["a_13"] == pytest.approx(ref[0, 2, 1, 3].item(), abs=1e-14)
    with pytest.raises(ValueError, match=r"spec: kernel has 2 channel\(s\).*image has 1"):
        dg.explain.solve({**spec, "image": image[0].tolist()})
    with pytest.raises(ValueError, match=r"spec: bias has shape \(2,\); expected \(3,\)"):
        dg.explain.solve({**spec, "bias": [0.0, 1.0]})
    with pytest.raises(ValueError, match=r"spec: stride must be an integer ≥ 1, got 0"):
        dg.explain.solve({**spec, "stride": 0})
    with pytest.raises(ValueError, match=r"spec: j must be an integer in \[0, 2\] \(the feature "
                                         r"map has 3 rows\), got 3"):
        dg.explain.solve({**spec, "j": 3})


def test_attention_head_spec_equals_torch(tmp_path, capsys):
    q, k, v = (np.array(ATTENTION[name], dtype=float) for name in "qkv")
    weights = torch.softmax(torch.tensor(q @ k.T / np.sqrt(2)), dim=-1)
    expected = (weights @ torch.tensor(v)).numpy()
    path = tmp_path / "attention.json"
    path.write_text(json.dumps({**ATTENTION, "kind": "attention_head"}))
    assert main(["explain", str(path), "--format", "json", "--precision", "15"]) == 0
    values = json.loads(capsys.readouterr().out)["values"]
    for n in range(2):
        for i in range(2):
            assert values[f"y_{n + 1}[{i + 1}]"] == pytest.approx(expected[n, i], abs=1e-14)
    causal = dg.explain.solve({**ATTENTION, "k": ATTENTION["k"][:2], "v": ATTENTION["v"][:2],
                               "causal": True})
    assert causal["a_12"] == 0.0 and causal["y_1[1]"] == 1.0
    with pytest.raises(ValueError, match=r"spec: mask has shape \(2, 2\); expected \(2, 3\)"):
        dg.explain.solve({**ATTENTION, "mask": [[True, False], [True, True]]})
    with pytest.raises(ValueError, match="spec: causal must be true or false, got 'yes'"):
        dg.explain.solve({**ATTENTION, "causal": "yes"})
    assert main(["explain", str(path), "--lr", "0.1"]) == 2
    assert "has no weight update" in capsys.readouterr().err


def test_a_spec_of_no_kind_asks_for_one():
    with pytest.raises(ValueError, match="cannot tell which kind"):
        dg.explain.solve({"weights": 1, "xs": 2})
    with pytest.raises(ValueError, match=r"spec: unknown kind 'cnn'.*'conv_unit'"):
        dg.explain.solve({"kind": "cnn", **CONV})


def test_the_spec_format_is_documented_field_by_field():
    text = (pathlib.Path(__file__).parent.parent / "docs" / "explain-spec.md").read_text()
    for kind in KINDS.values():
        assert f"`{kind.name}`" in text
        for field in kind.fields:
            assert f"| `{field.name}` |" in text, (kind.name, field.name)
