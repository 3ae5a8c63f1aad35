"""Embedding(padding_idx=…) against torch.nn.Embedding in float64: the padding row starts at
zeros, is looked up like any other, and never gets a gradient."""

import numpy as np
import pytest
import torch

import deltagrad as dg
from deltagrad import nn


@pytest.mark.parametrize("padding_idx", [0, 3, -1, -7])
def test_padding_row_gets_no_gradient_as_torch(padding_idx):
    rng = np.random.default_rng(abs(padding_idx))
    V, E = 7, 3
    ours = nn.Embedding(V, E, padding_idx=padding_idx, rng=0)
    twin = torch.nn.Embedding(V, E, padding_idx=padding_idx, dtype=torch.float64)
    row = padding_idx % V
    assert ours.padding_idx == twin.padding_idx == row
    np.testing.assert_array_equal(ours.weight.data[row], np.zeros(E))
    weight = rng.normal(size=(V, E))  # a non-zero padding row too: it is still looked up
    ours.weight.data = weight
    with torch.no_grad():
        twin.weight.copy_(torch.tensor(weight))
    ids = rng.integers(0, V, size=(4, 6))
    ids[:, -2:] = row
    seed = rng.normal(size=(4, 6, E))
    out_d, out_t = ours(ids), twin(torch.tensor(ids))
    np.testing.assert_array_equal(out_d.data, out_t.detach().numpy())
    (out_d * seed).sum().backward()
    (out_t * torch.tensor(seed)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad, twin.weight.grad.numpy(), rtol=1e-14)
    np.testing.assert_array_equal(ours.weight.grad[row], np.zeros(E))
    assert np.abs(ours.weight.grad).sum() > 0


def test_padding_idx_survives_save_and_load(tmp_path):
    emb = nn.Embedding(5, 2, padding_idx=-1, rng=0)
    dg.save(emb, tmp_path / "e.npz")
    back = dg.load(tmp_path / "e.npz")
    assert back.padding_idx == 4 and repr(back) == "Embedding(5, 2, padding_idx=4)"
    np.testing.assert_array_equal(back.weight.data, emb.weight.data)


@pytest.mark.parametrize("bad", [5, -6, 1.5, "0", True])
def test_a_padding_idx_outside_the_vocabulary_is_a_clear_error(bad):
    with pytest.raises(ValueError, match=r"Embedding: padding_idx must be None or an integer "
                                         r"id in \[-5, 4\]"):
        nn.Embedding(5, 2, padding_idx=bad)
