"""Padded sequences and shapes a PyTorch user expects (issue 22, items 7–9): the losses do not
read the targets at masked steps (−100 padding), ``accuracy`` scores tokens of a many-to-many
model honouring a mask, and ``LayerNorm`` takes any leading shape, a single vector included."""

import numpy as np
import pytest
import torch

import deltagrad as dg
from deltagrad import nn

_LABELS = np.array([[0, 2, 1, -100], [1, -100, -100, -100]])  # padded with −100, as PyTorch
_MASK = _LABELS != -100


def test_cross_entropy_reads_no_label_at_masked_steps_as_pytorchs_ignore_index():
    a = np.random.default_rng(0).normal(size=(2, 4, 3))
    x = dg.tensor(a, requires_grad=True)
    E = dg.losses.cross_entropy(nn.softmax(x), _LABELS, mask=_MASK)
    E.backward()
    xt = torch.tensor(a, requires_grad=True)
    Et = torch.nn.functional.cross_entropy(xt.reshape(-1, 3), torch.tensor(_LABELS).reshape(-1),
                                           ignore_index=-100, reduction="sum")
    Et.backward()
    np.testing.assert_allclose(E.item(), Et.item(), rtol=1e-14)
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-12, atol=1e-15)
    per_step = dg.losses.cross_entropy(nn.softmax(x), _LABELS, mask=_MASK, reduction="none")
    assert np.all(per_step.data[~_MASK] == 0)


def test_sum_of_squares_and_bce_read_no_target_at_masked_steps():
    """E = Σ_n Σ_t m_nt E_nt (eq. 9.3): whatever stands at a masked step — NaN, −100 — is not
    read, so E equals E on targets that hold 0 there."""
    rng = np.random.default_rng(1)
    y = dg.tensor(rng.normal(size=(2, 4, 3)))
    t = rng.uniform(size=(2, 4, 3))
    clean = np.where(_MASK[..., None], t, 0.0)
    for loss, padded, out in [
            (dg.losses.sum_of_squares, np.where(_MASK[..., None], t, np.nan), y),
            (dg.losses.binary_cross_entropy, np.where(_MASK[..., None], t, -100.0),
             nn.sigmoid(y))]:
        np.testing.assert_allclose(loss(out, padded, mask=_MASK).item(),
                                   loss(out, clean, mask=_MASK).item(), rtol=1e-15)


def test_soft_targets_at_real_steps_keep_their_gradient_under_a_mask():
    t = dg.tensor(np.full((2, 4, 3), 1 / 3), requires_grad=True)
    y = nn.softmax(dg.tensor(np.random.default_rng(2).normal(size=(2, 4, 3))))
    dg.losses.cross_entropy(y, t, mask=_MASK).backward()
    assert np.all(t.grad[~_MASK] == 0) and np.all(t.grad[_MASK] != 0)


def test_a_wrong_label_at_a_real_step_is_still_refused():
    y = nn.softmax(dg.tensor(np.zeros((2, 4, 3))))
    with pytest.raises(ValueError, match="label 5 is out of range for 3 classes"):
        dg.losses.cross_entropy(y, np.where(_MASK, 5, -100), mask=_MASK)
    with pytest.raises(ValueError, match=r"mask must have shape \(N, T\)"):
        dg.losses.cross_entropy(y, _LABELS, mask=_MASK[:, :2])
    with pytest.raises(ValueError, match=r"label -100 is out of range .* ignore_index=-100, or "
                                         r"mask="):
        dg.losses.cross_entropy(y, _LABELS)


# ---- accuracy per token -------------------------------------------------------------------

def _tagger():
    return nn.RecurrentNetwork(nn.RNN(2, 4, rng=0), nn.Sequential(nn.Linear(4, 3, rng=0),
                                                                  nn.Softmax()))


def test_accuracy_of_a_many_to_many_model_counts_tokens_and_honours_the_mask():
    """Labels equal to the model's own predictions except two real steps changed, and the
    last two steps of sequence 3 padded (−100): 13 real tokens, 11 right → 11/13."""
    X = np.random.default_rng(3).normal(size=(3, 5, 2))
    model = _tagger()
    labels = dg.predict(model, X).argmax(axis=-1)
    labels[0, :2] = (labels[0, :2] + 1) % 3
    labels[2, 3:] = -100
    assert dg.accuracy(model, X, labels, mask=labels != -100) == pytest.approx(11 / 13, abs=0)
    assert dg.accuracy(model, X, np.where(labels < 0, 0, labels)) \
        == np.mean(dg.predict(model, X).argmax(-1) == np.where(labels < 0, 0, labels))
    with pytest.raises(ValueError, match=r"label -100 is out of range .* pass mask="):
        dg.accuracy(model, X, labels)


@pytest.mark.parametrize("kwargs,error,words", [
    ({"labels": np.zeros((3, 4), int)}, ValueError, r"one class per step \(N, T\), shape \(3, 5\)"),
    ({"labels": np.zeros((3, 5), int), "mask": np.ones((3, 4))}, ValueError,
     r"accuracy: mask must have shape \(N, T\)"),
    ({"labels": np.zeros((3, 5), int), "mask": np.zeros((3, 5))}, ValueError,
     "nothing to score"),
    ({"labels": np.full((3, 5), "a")}, TypeError, "integer classes"),
])
def test_bad_token_labels_and_masks_are_refused_clearly(kwargs, error, words):
    with pytest.raises(error, match=words):
        dg.accuracy(_tagger(), np.zeros((3, 5, 2)), **kwargs)


def test_a_mask_on_a_model_with_one_output_per_pattern_is_refused():
    with pytest.raises(ValueError, match=r"mask \(N, T\) applies to a model with one output "
                                         r"per step"):
        dg.accuracy(nn.Linear(2, 2, rng=0), np.zeros((3, 2)), [0, 1, 1], mask=np.ones((3, 1)))


# ---- LayerNorm on any leading shape ---------------------------------------------------------

@pytest.mark.parametrize("shape", [(5,), (3, 5), (2, 3, 4, 5)])
def test_layer_norm_takes_any_leading_shape_as_pytorch(shape):
    x0 = np.random.default_rng(4).normal(size=shape)
    layer = nn.LayerNorm(5)
    layer.weight.data = np.linspace(0.5, 1.5, 5)
    layer.bias.data = np.linspace(-1, 1, 5)
    x = dg.tensor(x0, requires_grad=True)
    y = layer(x)
    y.backward(np.ones(shape))
    ref = torch.nn.LayerNorm(5, dtype=torch.float64)
    with torch.no_grad():
        ref.weight[:] = torch.tensor(layer.weight.data)
        ref.bias[:] = torch.tensor(layer.bias.data)
    xt = torch.tensor(x0, requires_grad=True)
    yt = ref(xt)
    yt.sum().backward()
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_layer_norm_refuses_a_last_axis_of_the_wrong_size_naming_itself():
    with pytest.raises(ValueError, match=r"LayerNorm\(5, eps=1e-05\): expects inputs ending in "
                                         r"\(5,\), got shape \(4,\)"):
        nn.LayerNorm(5)(np.ones(4))


@pytest.mark.parametrize("options", [{"mask": True}, {"ignore_index": -100},
                                     {"mask": True, "ignore_index": -100},
                                     {"mask": True, "label_smoothing": 0.1}, {}])
def test_a_mean_over_sequence_labels_divides_by_the_labels_that_count_as_pytorch(options):
    """reduction="mean" divides by the real, not ignored labels (14 of 4·5 here) — as
    torch.nn.functional.cross_entropy with ignore_index=-100 — whether the padding is given
    as mask=, as −100 labels, or both (it divided by N = 4 with a mask, by N·T = 20 with both)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4, 5, 3))
    labels = rng.integers(0, 3, size=(4, 5))
    mask = np.ones((4, 5), bool)
    mask[1, 3:] = False
    mask[2, 1:] = False
    padded = np.where(mask, labels, -100) if options else labels
    kwargs = {k: (mask if k == "mask" else v) for k, v in options.items()}
    ours = dg.losses.cross_entropy(dg.nn.softmax(dg.tensor(logits)), padded, reduction="mean",
                                   **kwargs).item()
    theirs = torch.nn.functional.cross_entropy(
        torch.tensor(logits).permute(0, 2, 1), torch.tensor(padded), ignore_index=-100,
        label_smoothing=options.get("label_smoothing", 0.0)).item()
    assert ours == pytest.approx(theirs, rel=1e-13)
